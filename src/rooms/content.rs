//! What a room holds at one version: the parts of its page that only a change through
//! `RoomChange` can alter (every such change bumps the room's version in the same transaction).
//! They are read once per version and filter set and shared by every viewer, so a team that
//! keeps the page open, and reloads it when the live poll says something changed, costs one read
//! per change instead of one per person. That read takes from the entry it replaces every group
//! of parts the change did not write (`rooms::parts`): a touch re-reads the touches and the
//! timeline (2 statements), not all 25.
//!
//! The cache is per instance but keyed by the version read from the database on every request,
//! so an instance never serves content older than what another instance committed. What can
//! change without a version bump stays out of it: the customer's contact activity in *other*
//! rooms is read on every view, and anything time-based (whether a pause has run out, what is
//! overdue) is decided at render time from stored timestamps. The outbox bumps a room's version
//! at every state its customer emails reach (`outbox::effects`), so the drafts' delivery state
//! belongs here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::AnyConnection;

use super::model::Room;
use super::parts::{PartVersions, Stale};
use crate::contact_log;
use crate::contact_log::model::LoggedTouch;
use crate::customers::model::{self as customers, Contact, Customer};
use crate::db::OnDemand;
use crate::decisions::model::{self as decisions, Decision, DecisionType};
use crate::drafts::model as drafts;
use crate::error::AppError;
use crate::inbound::conversation::{self, Thread};
use crate::inbound::model as inbound;
use crate::members::model::{self as members, Member};
use crate::outbox::model::{self as outbox, OutboxState};
use crate::outreach::model::{self as outreach, Pause};
use crate::questions::model::{self as questions, Question};
use crate::timeline::{self, Category, Event};
use crate::updates::model as updates;
use crate::workstreams::model::{self as workstreams, Workstream};

/// The tables whose rows the room page shows (read by [`RoomContent::read`] and the room header).
/// Every function that writes one of them takes a `RoomTx`, which bumps the room's version; a
/// test in `rooms::change` checks each writer in the crate.
pub const CONTENT_TABLES: &[&str] = &[
    "rooms",
    "members",
    "role_handovers",
    "workstreams",
    "workstream_navigators",
    "decision_types",
    "decisions",
    "questions",
    "question_terms",
    "contact_touches",
    "timeline_events",
    "drafts",
    "draft_revisions",
    "approvals",
    "outreach_pauses",
    "outbox",
    "leadership_updates",
    "update_revisions",
    "pre_reads",
    "inbound_messages",
    "inbound_attachments",
    "absences",
    "escalations",
    "engagements",
    "engagement_contacts",
    "engagement_participants",
    "engagement_questions",
    "syncs",
    "sync_items",
    "retrospectives",
    "retro_alignments",
];

/// The tables no room page's shared content depends on: accounts and sessions, and the customer
/// directory (a room shows its customer's name, which never changes, and reads contact activity
/// live). A new table must be added to one list or the other.
pub const NOT_CONTENT_TABLES: &[&str] = &[
    "users",
    "account_tokens",
    "sessions",
    "sign_in_throttle",
    "customers",
    "contacts",
    "app_meta",
    "inbound_raw",
    "nudges",
    "align_links",
    "sync_reminders",
    "digests",
    "blocked_sends",
    "similar_question_checks",
    "api_tokens",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "user_identities",
];

/// The latest customer emails sent, and received, that the room page's conversation shows (the
/// page stays the same size however long the conversation grows).
const SENT_SHOWN: i64 = 50;
const RECEIVED_SHOWN: i64 = 30;

/// Timeline events per page.
pub const EVENTS_PER_PAGE: i64 = 20;

/// How many (room, version, filters) entries an instance keeps: enough for every room a busy
/// team has open, small enough that memory stays flat at 100k rooms.
const CAPACITY: usize = 512;

/// The filters that change what is read (the timeline's category and page, the decision type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selection {
    pub decision_type: Option<i64>,
    pub category: Option<Category>,
    pub before: Option<i64>,
}

/// Everything on the room page that is the same for every viewer at one version, in the groups
/// of `rooms::parts` (each re-read only when its version moves; the timeline at every version).
pub struct RoomContent {
    /// The versions of the groups this was read at.
    parts: PartVersions,
    pub rest: Arc<Rest>,
    pub types: Vec<DecisionType>,
    pub decisions: Vec<Decision>,
    pub touches: Vec<LoggedTouch>,
    pub email: Arc<Email>,
    pub events: Vec<Event>,
    /// The id to page from when there are older events.
    pub older_events: Option<i64>,
}

/// The room page's email: drafts, the conversation with the customer, the reply address.
pub struct Email {
    /// The room's drafts with the state of their outgoing message.
    pub drafts: Vec<drafts::Summary>,
    pub unknown: Vec<outbox::Entry>,
    /// What we sent and what the customer wrote back, one conversation per thread.
    pub conversation: Vec<Thread>,
    /// The `+TOKEN` of the room's reply address, once it has one.
    pub reply_token: Option<String>,
}

/// Everything else on the room page that changes only through a change of the room.
pub struct Rest {
    pub customer: Customer,
    pub escalated_by: Option<Contact>,
    pub members: Vec<Member>,
    pub workstreams: Vec<Workstream>,
    pub questions: Vec<Question>,
    /// The pause not yet ended by anyone; whether it has run out is decided when shown.
    pub unended_pause: Option<Pause>,
    /// PMs away (until a time decided when shown), with their stand-ins.
    pub absences: Vec<crate::approvals::absence::Absence>,
    /// Calls and meetings planned or cleared (upcoming, or waiting for their outcome).
    pub engagements: Vec<crate::engagements::model::Engagement>,
    /// How often the team syncs about the room, and when next.
    pub sync: crate::syncs::model::Schedule,
    /// Holds someone asked for, waiting for the lead or the communicator.
    pub hold_requests: Vec<crate::outreach::model::HoldRequest>,
    /// Disagreements waiting for a ruling.
    pub escalations: Vec<crate::escalations::model::Escalation>,
    pub update_in_progress: Option<updates::Update>,
    pub latest_pre_read: Option<updates::PreRead>,
}

impl RoomContent {
    /// Reads what `room` holds at its version, taking from `kept` (the same room and selection at
    /// an older version) every group whose version has not moved since.
    async fn read(
        conn: &mut AnyConnection,
        room: &Room,
        selection: Selection,
        kept: Option<&RoomContent>,
    ) -> Result<RoomContent, AppError> {
        let id = room.id;
        let stale = kept.map_or(Stale::EVERYTHING, |kept| {
            room.parts.stale_since(&kept.parts)
        });
        let kept_if = |stale: bool| kept.filter(|_| !stale);
        let (events, older_events) = timeline_page(conn, id, selection).await?;
        let (types, decisions) = match kept_if(stale.decisions) {
            Some(kept) => (kept.types.clone(), kept.decisions.clone()),
            None => (
                decisions::types(conn, id).await?,
                decisions::list(conn, id, selection.decision_type).await?,
            ),
        };
        let touches = match kept_if(stale.touches) {
            Some(kept) => kept.touches.clone(),
            None => contact_log::model::recent_in_room(conn, id, 10).await?,
        };
        let email = match kept_if(stale.email) {
            Some(kept) => kept.email.clone(),
            None => Arc::new(Email::read(conn, id).await?),
        };
        let rest = match kept_if(stale.rest) {
            Some(kept) => kept.rest.clone(),
            None => Arc::new(Rest::read(conn, room).await?),
        };
        Ok(RoomContent {
            parts: room.parts,
            rest,
            types,
            decisions,
            touches,
            email,
            events,
            older_events,
        })
    }
}

/// One page of the timeline, and the id to page from when there are older events.
async fn timeline_page(
    conn: &mut AnyConnection,
    room_id: i64,
    selection: Selection,
) -> Result<(Vec<Event>, Option<i64>), AppError> {
    let mut events = timeline::page(
        conn,
        room_id,
        selection.category,
        selection.before,
        EVENTS_PER_PAGE + 1,
    )
    .await?;
    let older_events = (events.len() as i64 > EVENTS_PER_PAGE).then(|| {
        events.truncate(EVENTS_PER_PAGE as usize);
        events.last().map_or(0, |e| e.id)
    });
    Ok((events, older_events))
}

impl Email {
    async fn read(conn: &mut AnyConnection, id: i64) -> Result<Email, AppError> {
        let sent = outbox::for_room(conn, id, SENT_SHOWN).await?;
        let received = inbound::for_room(conn, id, RECEIVED_SHOWN).await?;
        let root = inbound::room_thread_root(conn, id).await?;
        let reply_token: Option<String> =
            sqlx::query_scalar("SELECT reply_token FROM rooms WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
        Ok(Email {
            drafts: drafts::for_room(conn, id).await?,
            unknown: sent
                .iter()
                .filter(|e| e.state == OutboxState::Unknown)
                .cloned()
                .collect(),
            conversation: conversation::threads(sent, received, &root),
            reply_token,
        })
    }
}

impl Rest {
    async fn read(conn: &mut AnyConnection, room: &Room) -> Result<Rest, AppError> {
        let id = room.id;
        let customer = customers::find(&mut *conn, room.customer_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let escalated_by = match room.escalated_by_contact_id {
            Some(contact) => customers::find_contact(&mut *conn, contact).await?,
            None => None,
        };
        Ok(Rest {
            customer,
            escalated_by,
            members: members::list(conn, id).await?,
            workstreams: workstreams::list(conn, id).await?,
            questions: questions::list(conn, id).await?,
            unended_pause: outreach::unended(conn, id).await?,
            absences: crate::approvals::absence::unended(conn, id).await?,
            escalations: crate::escalations::model::waiting_in_room(conn, id).await?,
            engagements: crate::engagements::model::open_in_room(conn, id).await?,
            hold_requests: outreach::requests(conn, id).await?,
            sync: crate::syncs::model::schedule(conn, id).await?,
            update_in_progress: updates::in_progress(conn, id).await?,
            latest_pre_read: updates::pre_read(conn, id, None).await?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key<S> {
    room: i64,
    version: i64,
    selection: S,
}

/// A per-instance cache of what a room holds at one version, for one selection `S` of it (the
/// room page's filters, a pre-read's number): the keying, bounds and eviction every page that
/// shares what it reads per room version uses.
pub struct VersionCache<S, V> {
    entries: Arc<Mutex<HashMap<Key<S>, Arc<V>>>>,
}

impl<S, V> Clone for VersionCache<S, V> {
    fn clone(&self) -> Self {
        VersionCache {
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<S, V> Default for VersionCache<S, V> {
    fn default() -> Self {
        VersionCache {
            entries: Arc::default(),
        }
    }
}

impl<S: Copy + Eq + std::hash::Hash, V> VersionCache<S, V> {
    /// What was kept for `room` at the version it was just read at, if anything.
    pub fn get(&self, room: &Room, selection: S) -> Option<Arc<V>> {
        let key = Key {
            room: room.id,
            version: room.version,
            selection,
        };
        self.lock().get(&key).cloned()
    }

    /// The newest entry kept for `room` and `selection` at a version older than the room's.
    pub fn older(&self, room: &Room, selection: S) -> Option<Arc<V>> {
        self.lock()
            .iter()
            .filter(|(key, _)| {
                key.room == room.id && key.selection == selection && key.version < room.version
            })
            .max_by_key(|(key, _)| key.version)
            .map(|(_, value)| Arc::clone(value))
    }

    /// Keeps `value`, read after `room` was (so it is at least as new as its version). If a change
    /// committed in between, it is filed under a version no later request will ask for.
    pub fn keep(&self, room: &Room, selection: S, value: V) -> Arc<V> {
        let key = Key {
            room: room.id,
            version: room.version,
            selection,
        };
        let value = Arc::new(value);
        let mut entries = self.lock();
        make_room(&mut entries, key);
        entries.insert(key, Arc::clone(&value));
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key<S>, Arc<V>>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The per-instance cache of room content, keyed by version.
#[derive(Clone, Default)]
pub struct ContentCache {
    entries: VersionCache<Selection, RoomContent>,
}

impl ContentCache {
    /// The content of `room` at the version it was just read at, from the cache or the database.
    pub async fn get(
        &self,
        conn: &mut OnDemand<'_>,
        room: &Room,
        selection: Selection,
    ) -> Result<Arc<RoomContent>, AppError> {
        if let Some(content) = self.entries.get(room, selection) {
            return Ok(content);
        }
        let kept = self.entries.older(room, selection);
        let content =
            RoomContent::read(conn.get().await?, room, selection, kept.as_deref()).await?;
        Ok(self.entries.keep(room, selection, content))
    }
}

/// Drops what `key` makes unreachable (older versions of the same room), then, if the cache is
/// still full, any one entry.
fn make_room<S: Copy + Eq + std::hash::Hash, V>(entries: &mut HashMap<Key<S>, V>, key: Key<S>) {
    entries.retain(|k, _| k.room != key.room || k.version >= key.version);
    if entries.len() >= CAPACITY
        && let Some(victim) = entries.keys().next().copied()
    {
        entries.remove(&victim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(room: i64, version: i64, before: Option<i64>) -> Key<Selection> {
        Key {
            room,
            version,
            selection: Selection {
                decision_type: None,
                category: None,
                before,
            },
        }
    }

    #[test]
    fn a_newer_version_evicts_the_older_ones_of_that_room_only() {
        let mut entries = HashMap::new();
        entries.insert(key(1, 1, None), ());
        entries.insert(key(1, 1, Some(50)), ());
        entries.insert(key(2, 1, None), ());
        make_room(&mut entries, key(1, 2, None));
        assert_eq!(entries.len(), 1);
        assert!(entries.contains_key(&key(2, 1, None)));
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let mut entries = HashMap::new();
        for room in 0..CAPACITY as i64 {
            entries.insert(key(room, 1, None), ());
        }
        let next = key(CAPACITY as i64, 1, None);
        make_room(&mut entries, next);
        entries.insert(next, ());
        assert_eq!(entries.len(), CAPACITY);
        assert!(entries.contains_key(&next));
    }

    #[test]
    fn other_filters_of_the_same_version_are_kept() {
        let mut entries = HashMap::new();
        entries.insert(key(1, 3, Some(10)), ());
        make_room(&mut entries, key(1, 3, None));
        assert!(entries.contains_key(&key(1, 3, Some(10))));
    }
}
