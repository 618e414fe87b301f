//! *Needs you*: everything waiting for one person across their rooms — alignments (new or gone
//! stale), sends the communicator can now make, deliveries to decide, decisions to call, overdue
//! workstreams and overdue updates of the rooms they lead, calls to clear and outcomes owed by the
//! topic's voice, holds to grant and pauses ready to resume. One statement finds them all, however
//! many rooms there are; the dashboard lists them and the top bar of every page counts them —
//! through [`NeedsCache`], so a page pays for them only when one of the person's rooms changed.

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool, Executor, Row};

use crate::clock::Millis;
use crate::stamped::StampedCache;
use crate::web::time;

/// The most items listed (and counted); beyond it the top bar says "100+".
pub const LIMIT: i64 = 100;

/// What waits, and for which record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeedKind {
    /// A draft's current revision waits for this PM; `stale` when they aligned on an older one.
    AlignDraft {
        stale: bool,
    },
    AlignUpdate {
        stale: bool,
    },
    /// Every PM aligned, outreach is not paused: the communicator can send.
    ReadyToSend,
    DeliveryUnknown,
    DeliveryFailed,
    /// A proposed decision of a type this person owns (`detail`: the type's name).
    Decide,
    WorkstreamOverdue,
    CustomerUpdateOverdue,
    LeadershipUpdateOverdue,
    /// A disagreement escalated to this person (`label`: who disagrees; `detail`: about what).
    Rule,
    /// A planned engagement still ahead on a topic this person speaks on (`label`: the topic;
    /// `detail`: its kind).
    ClearEngagement,
    /// An engagement of theirs (planned or cleared) ended more than a day ago without an outcome.
    OutcomeMissing,
    /// A hold someone asked for, for the lead or communicator (`label`: why; `detail`: who).
    HoldRequested,
    /// The pause's resume condition came true, for the lead (`label`: why it was paused).
    ReadyToResume,
}

/// One item waiting for the viewer.
#[derive(Clone, Debug)]
pub struct Need {
    pub kind: NeedKind,
    pub room_id: i64,
    pub room_title: String,
    pub item_id: i64,
    /// The item's own words: a subject, a headline, a title.
    pub label: String,
    /// A decision's type; empty for the others.
    pub detail: String,
    /// Since when it has been waiting (for overdue items: when it fell due).
    pub since: Millis,
}

impl Need {
    /// The sentence the list shows.
    pub fn what(&self, now: Millis) -> String {
        let label = &self.label;
        match &self.kind {
            NeedKind::AlignDraft { stale: false } => format!("Align on the email “{label}”"),
            NeedKind::AlignDraft { stale: true } => {
                format!("The email “{label}” changed since you aligned: align again")
            }
            NeedKind::AlignUpdate { stale: false } => {
                format!("Align on the leadership update “{label}”")
            }
            NeedKind::AlignUpdate { stale: true } => {
                format!("The leadership update “{label}” changed since you aligned: align again")
            }
            NeedKind::ReadyToSend => format!("Ready to send: every PM aligned on “{label}”"),
            NeedKind::DeliveryUnknown => {
                format!("Delivery unknown for “{label}”: decide whether it arrived")
            }
            NeedKind::DeliveryFailed => format!("“{label}” could not be sent: see why"),
            NeedKind::Decide => format!("Decide “{label}” ({} is yours)", self.detail),
            NeedKind::WorkstreamOverdue => {
                format!("You drive “{label}”, {}", time::due(self.since, now))
            }
            NeedKind::CustomerUpdateOverdue => format!(
                "You lead this room: the customer update is {}",
                time::due(self.since, now)
            ),
            NeedKind::LeadershipUpdateOverdue => format!(
                "You lead this room: the leadership update is {}",
                time::due(self.since, now)
            ),
            NeedKind::Rule => {
                let what = match self.detail.as_str() {
                    "draft" => "a customer email",
                    "update" => "a leadership update",
                    _ => "a decision",
                };
                format!("Rule on {label}'s disagreement about {what}")
            }
            NeedKind::ClearEngagement => format!(
                "Clear or refuse a planned {} about “{label}”: you speak on it",
                self.detail
            ),
            NeedKind::OutcomeMissing => format!(
                "Outcome missing: record what came out of the {} about “{label}”",
                self.detail
            ),
            NeedKind::HoldRequested => {
                format!("{} asks to hold outreach: “{label}”", self.detail)
            }
            NeedKind::ReadyToResume => {
                format!("Outreach is ready to resume (paused: “{label}”)")
            }
        }
    }

    /// Where acting on it starts.
    pub fn link(&self) -> String {
        let (room, item) = (self.room_id, self.item_id);
        match self.kind {
            NeedKind::AlignDraft { .. }
            | NeedKind::ReadyToSend
            | NeedKind::DeliveryUnknown
            | NeedKind::DeliveryFailed => format!("/rooms/{room}/drafts/{item}"),
            NeedKind::AlignUpdate { .. } => format!("/rooms/{room}/updates/{item}"),
            NeedKind::Decide => format!("/rooms/{room}#decision-{item}"),
            NeedKind::WorkstreamOverdue => format!("/rooms/{room}#workstream-{item}"),
            NeedKind::CustomerUpdateOverdue => format!("/rooms/{room}#email"),
            NeedKind::LeadershipUpdateOverdue => format!("/rooms/{room}#leadership"),
            NeedKind::Rule => format!("/rooms/{room}/escalations/{item}"),
            NeedKind::ClearEngagement => format!("/rooms/{room}/engagements/{item}#clearing"),
            NeedKind::OutcomeMissing => format!("/rooms/{room}/engagements/{item}#outcome"),
            NeedKind::HoldRequested | NeedKind::ReadyToResume => format!("/rooms/{room}"),
        }
    }

    /// "waiting 3 hours" (or, for overdue items, when it fell due).
    pub fn age(&self, now: Millis) -> String {
        match self.kind {
            NeedKind::WorkstreamOverdue
            | NeedKind::CustomerUpdateOverdue
            | NeedKind::LeadershipUpdateOverdue => {
                format!("due {}", time::relative(self.since, now))
            }
            NeedKind::OutcomeMissing => format!("ended {}", time::relative(self.since, now)),
            _ => format!("waiting {}", time::span(now - self.since)),
        }
    }
}

/// Every branch yields: kind, room id, room title, item id, label, detail, since, and a flag
/// (1 when an alignment went stale). `$1` is the viewer, `$2` now. The flag is cast to BIGINT:
/// PostgreSQL types a bare literal as a 4-byte integer.
const NEEDS: &str = "\
SELECT 'align_draft', r.id, r.title, d.id, v.subject, '', v.created_at, \
       CAST(CASE WHEN a.revision IS NULL THEN 0 ELSE 1 END AS BIGINT) \
  FROM members m JOIN rooms r ON r.id = m.room_id AND r.status <> 'closed' \
  JOIN drafts d ON d.room_id = r.id AND d.outbox_id IS NULL \
  JOIN draft_revisions v ON v.draft_id = d.id AND v.number = d.current_revision \
  LEFT JOIN approvals a ON a.subject_kind = 'draft' AND a.subject_id = d.id AND a.user_id = m.user_id \
 WHERE m.user_id = $1 AND m.kind = 'pm' AND (a.revision IS NULL OR a.revision <> d.current_revision) \
UNION ALL \
SELECT 'align_update', r.id, r.title, u.id, v.headline, '', v.created_at, \
       CAST(CASE WHEN a.revision IS NULL THEN 0 ELSE 1 END AS BIGINT) \
  FROM members m JOIN rooms r ON r.id = m.room_id AND r.status <> 'closed' \
  JOIN leadership_updates u ON u.room_id = r.id AND u.published_version IS NULL \
  JOIN update_revisions v ON v.update_id = u.id AND v.number = u.current_revision \
  LEFT JOIN approvals a ON a.subject_kind = 'update' AND a.subject_id = u.id AND a.user_id = m.user_id \
 WHERE m.user_id = $1 AND m.kind = 'pm' AND (a.revision IS NULL OR a.revision <> u.current_revision) \
UNION ALL \
SELECT 'ready_to_send', r.id, r.title, d.id, v.subject, '', \
       COALESCE((SELECT MAX(a.approved_at) FROM approvals a WHERE a.subject_kind = 'draft' AND a.subject_id = d.id), v.created_at), CAST(0 AS BIGINT) \
  FROM rooms r JOIN drafts d ON d.room_id = r.id AND d.outbox_id IS NULL \
  JOIN draft_revisions v ON v.draft_id = d.id AND v.number = d.current_revision \
 WHERE r.communicator_user_id = $1 AND r.status <> 'closed' \
   AND NOT EXISTS (SELECT 1 FROM members p WHERE p.room_id = r.id AND p.kind = 'pm' AND NOT EXISTS ( \
       SELECT 1 FROM approvals a WHERE a.subject_kind = 'draft' AND a.subject_id = d.id \
          AND a.user_id = p.user_id AND a.revision = d.current_revision AND a.stance = 'aligned' \
          AND (a.via <> 'stand_in' OR EXISTS (SELECT 1 FROM absences b WHERE b.room_id = r.id \
               AND b.user_id = p.user_id AND b.stand_in_user_id = a.acted_by \
               AND b.ended_at IS NULL AND b.away_until > $2)))) \
   AND NOT EXISTS (SELECT 1 FROM outreach_pauses o WHERE o.room_id = r.id AND o.ended_at IS NULL AND o.state = 'granted' \
       AND (o.until IS NULL OR o.until > $2)) \
UNION ALL \
SELECT CASE WHEN o.state = 'unknown' THEN 'delivery_unknown' ELSE 'delivery_failed' END, \
       r.id, r.title, d.id, o.subject, '', o.created_at, CAST(0 AS BIGINT) \
  FROM rooms r JOIN drafts d ON d.room_id = r.id JOIN outbox o ON o.id = d.outbox_id \
 WHERE r.communicator_user_id = $1 AND r.status <> 'closed' AND o.state IN ('unknown', 'failed') \
UNION ALL \
SELECT 'decide', r.id, r.title, d.id, d.title, t.name, d.proposed_at, CAST(0 AS BIGINT) \
  FROM decision_types t JOIN decisions d ON d.decision_type_id = t.id AND d.status = 'proposed' \
  JOIN rooms r ON r.id = d.room_id AND r.status <> 'closed' \
 WHERE t.owner_user_id = $1 \
UNION ALL \
SELECT 'workstream_overdue', r.id, r.title, w.id, w.title, '', w.due_at, CAST(0 AS BIGINT) \
  FROM workstreams w JOIN rooms r ON r.id = w.room_id AND r.status = 'open' \
 WHERE w.driver_user_id = $1 AND w.status <> 'done' AND w.due_at < $2 \
UNION ALL \
SELECT 'customer_update_overdue', r.id, r.title, r.id, r.title, '', r.next_customer_update_due, CAST(0 AS BIGINT) \
  FROM rooms r WHERE r.lead_user_id = $1 AND r.status = 'open' AND r.next_customer_update_due < $2 \
UNION ALL \
SELECT 'leadership_update_overdue', r.id, r.title, r.id, r.title, '', r.next_leadership_update_due, CAST(0 AS BIGINT) \
  FROM rooms r WHERE r.lead_user_id = $1 AND r.status = 'open' AND r.next_leadership_update_due < $2 \
UNION ALL \
SELECT 'rule', r.id, r.title, e.id, o.name, e.subject_kind, e.raised_at, CAST(0 AS BIGINT) \
  FROM escalations e JOIN rooms r ON r.id = e.room_id AND r.status <> 'closed' \
  JOIN users o ON o.id = e.objector_user_id \
  LEFT JOIN decisions d ON e.subject_kind = 'decision' AND d.id = e.subject_id \
  LEFT JOIN decision_types t ON t.id = d.decision_type_id \
 WHERE e.ruled_at IS NULL AND ( \
       (COALESCE(t.escalates_to_user_id, r.lead_user_id) = $1 AND e.objector_user_id <> $1) \
    OR (COALESCE(t.escalates_to_user_id, r.lead_user_id) = e.objector_user_id AND e.objector_user_id <> $1 \
        AND EXISTS (SELECT 1 FROM members l WHERE l.room_id = r.id AND l.user_id = $1 AND l.kind = 'leadership'))) \
UNION ALL \
SELECT 'clear_engagement', r.id, r.title, e.id, w.title, e.kind, e.planned_at, CAST(0 AS BIGINT) \
  FROM engagements e JOIN rooms r ON r.id = e.room_id AND r.status <> 'closed' \
  JOIN workstreams w ON w.id = e.workstream_id \
 WHERE e.state = 'planned' AND COALESCE(w.voice_user_id, w.driver_user_id) = $1 \
   AND e.starts_at > $2 - 900000 \
UNION ALL \
SELECT 'outcome_missing', r.id, r.title, e.id, w.title, e.kind, e.starts_at + e.minutes * 60000, CAST(0 AS BIGINT) \
  FROM engagements e JOIN rooms r ON r.id = e.room_id AND r.status <> 'closed' \
  JOIN workstreams w ON w.id = e.workstream_id \
 WHERE e.state IN ('planned', 'cleared') AND COALESCE(w.voice_user_id, w.driver_user_id) = $1 \
   AND e.starts_at + e.minutes * 60000 + 86400000 < $2 \
UNION ALL \
SELECT 'hold_requested', r.id, r.title, p.id, p.reason, u.name, p.set_at, CAST(0 AS BIGINT) \
  FROM outreach_pauses p JOIN rooms r ON r.id = p.room_id AND r.status <> 'closed' \
  JOIN users u ON u.id = p.set_by \
 WHERE p.state = 'requested' AND (r.lead_user_id = $1 OR r.communicator_user_id = $1) \
UNION ALL \
SELECT 'ready_to_resume', r.id, r.title, p.id, p.reason, '', COALESCE(p.resume_at, p.set_at), CAST(0 AS BIGINT) \
  FROM outreach_pauses p JOIN rooms r ON r.id = p.room_id AND r.status <> 'closed' \
  LEFT JOIN workstreams w ON w.id = p.resume_workstream_id \
 WHERE r.lead_user_id = $1 AND p.state = 'granted' AND p.ended_at IS NULL \
   AND (p.until IS NULL OR p.until > $2) \
   AND ((p.resume_at IS NOT NULL AND p.resume_at <= $2) OR w.status = p.resume_status)";

fn kind(name: &str, stale: bool) -> Option<NeedKind> {
    Some(match name {
        "align_draft" => NeedKind::AlignDraft { stale },
        "align_update" => NeedKind::AlignUpdate { stale },
        "ready_to_send" => NeedKind::ReadyToSend,
        "delivery_unknown" => NeedKind::DeliveryUnknown,
        "delivery_failed" => NeedKind::DeliveryFailed,
        "decide" => NeedKind::Decide,
        "workstream_overdue" => NeedKind::WorkstreamOverdue,
        "customer_update_overdue" => NeedKind::CustomerUpdateOverdue,
        "leadership_update_overdue" => NeedKind::LeadershipUpdateOverdue,
        "rule" => NeedKind::Rule,
        "clear_engagement" => NeedKind::ClearEngagement,
        "outcome_missing" => NeedKind::OutcomeMissing,
        "hold_requested" => NeedKind::HoldRequested,
        "ready_to_resume" => NeedKind::ReadyToResume,
        _ => return None,
    })
}

/// Everything waiting for `user_id`, longest-waiting first (at most [`LIMIT`]).
pub async fn of(conn: &mut AnyConnection, user_id: i64, now: Millis) -> sqlx::Result<Vec<Need>> {
    let sql = format!("{NEEDS} ORDER BY 7, 2, 4 LIMIT {LIMIT}");
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .fetch_all(conn)
        .await?;
    let mut needs = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get(0)?;
        let stale: i64 = row.try_get(7)?;
        let Some(kind) = kind(&name, stale == 1) else {
            continue;
        };
        needs.push(Need {
            kind,
            room_id: row.try_get(1)?,
            room_title: row.try_get(2)?,
            item_id: row.try_get(3)?,
            label: row.try_get(4)?,
            detail: row.try_get(5)?,
            since: row.try_get(6)?,
        });
    }
    Ok(needs)
}

/// Ids as an SQL list; `IN ()` is not SQL, and no id is negative.
fn id_list(ids: &BTreeSet<i64>) -> String {
    match ids.is_empty() {
        true => "-1".to_owned(),
        false => ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
    }
}

/// Bumps the stamp of every member of `rooms` and of `also` (people who just left one), in one
/// statement inside the transaction that changed them: SQLite's one writer is exclusive anyway.
pub async fn stamp_in_transaction(
    conn: &mut AnyConnection,
    rooms: &BTreeSet<i64>,
    also: &BTreeSet<i64>,
) -> sqlx::Result<()> {
    if rooms.is_empty() && also.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id IN \
         (SELECT user_id FROM members WHERE room_id IN ({})) OR id IN ({})",
        id_list(rooms),
        id_list(also)
    );
    sqlx::query(&sql).execute(conn).await?;
    Ok(())
}

/// The same bump for PostgreSQL, right after the transaction commits. Inside the transaction
/// every write held the rows of the people in many rooms (a director in every room) until its
/// commit, and writes queued behind each other. After the commit the people are read, then bumped
/// in one message of one-row statements in id order, which the server runs as one transaction:
/// every bump takes its rows in the same order, and each statement reads the rows afresh, so none
/// waits in a cycle. (A single `UPDATE … WHERE id IN` takes the rows in the order it finds them;
/// one that locks them in id order first, `WITH … ORDER BY id FOR NO KEY UPDATE`, still
/// deadlocked: its update re-found a row from its snapshot's older version, queued behind a
/// waiter for the newer one, and PostgreSQL broke each such cycle after `deadlock_timeout`, a
/// 1 s stall.) Should the server still pick the bump as a deadlock's victim, it is made one
/// person per transaction. After the commit, no list older than the change is kept under the new
/// stamp.
pub async fn stamp_after_commit(
    conn: &mut AnyConnection,
    rooms: &BTreeSet<i64>,
    also: &BTreeSet<i64>,
) -> sqlx::Result<()> {
    let people = people_of(conn, rooms, also).await?;
    if people.is_empty() {
        return Ok(());
    }
    let sql = bumps_in_id_order(&people);
    // Through `Executor` (a boxed future): `RawSql::execute`'s own future trips rustc's check
    // that the callers' spawned futures are `Send` for every lifetime.
    match Executor::execute(&mut *conn, sqlx::raw_sql(&sql)).await {
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some(DEADLOCK) => {
            stamp_one_at_a_time(conn, &people).await
        }
        other => other.map(drop),
    }
}

/// PostgreSQL's SQLSTATE for a transaction rolled back to break a deadlock.
const DEADLOCK: &str = "40P01";

/// The members of `rooms` and the people in `also`, in id order.
async fn people_of(
    conn: &mut AnyConnection,
    rooms: &BTreeSet<i64>,
    also: &BTreeSet<i64>,
) -> sqlx::Result<BTreeSet<i64>> {
    let members: Vec<i64> = match (rooms.first(), rooms.len()) {
        (None, _) => Vec::new(),
        // The usual write: one room. One statement text, prepared once.
        (Some(&room), 1) => {
            sqlx::query_scalar("SELECT user_id FROM members WHERE room_id = $1")
                .bind(room)
                .fetch_all(&mut *conn)
                .await?
        }
        _ => {
            let sql = format!(
                "SELECT DISTINCT user_id FROM members WHERE room_id IN ({})",
                id_list(rooms)
            );
            sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?
        }
    };
    Ok(members.into_iter().chain(also.iter().copied()).collect())
}

/// One message bumping each of `people`, one row per statement, in id order (a `BTreeSet`
/// iterates in order). Sent as a simple query, its statements run as one transaction.
fn bumps_in_id_order(people: &BTreeSet<i64>) -> String {
    people
        .iter()
        .map(|id| format!("UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id = {id};"))
        .collect()
}

/// The bump one person per statement: each holds one row and nothing while it waits.
async fn stamp_one_at_a_time(conn: &mut AnyConnection, people: &BTreeSet<i64>) -> sqlx::Result<()> {
    for person in people {
        sqlx::query("UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id = $1")
            .bind(person)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// People remembered at most; past it, the cache starts over.
const CACHED_PEOPLE: usize = 10_000;

/// Each person's list with the stamp and minute it was read at, per instance (`stamped`): the
/// stamp is bumped by every change to one of their rooms, deliveries included, and when they join
/// or leave a room; items fall overdue and pauses end as the minutes pass. The top bar counts the
/// list; the dashboard shows it.
#[derive(Clone)]
pub struct NeedsCache {
    lists: StampedCache<Vec<Need>>,
}

impl Default for NeedsCache {
    fn default() -> Self {
        NeedsCache {
            lists: StampedCache::new(CACHED_PEOPLE),
        }
    }
}

impl NeedsCache {
    /// What waits for `user_id`, whose stamp read with their session is `stamp`: remembered
    /// without a statement while it is unchanged, else read afresh.
    pub async fn list(
        &self,
        db: &AnyPool,
        user_id: i64,
        stamp: Option<i64>,
        now: Millis,
    ) -> sqlx::Result<Arc<Vec<Need>>> {
        // Signed in during this request: no stamp was read, so nothing is remembered.
        let read = async { of(&mut *db.acquire().await?, user_id, now).await };
        self.lists.get_or_read(user_id, stamp, now, read).await
    }

    /// How many items wait (at most [`LIMIT`]): the top bar's count.
    pub async fn count(
        &self,
        db: &AnyPool,
        user_id: i64,
        stamp: Option<i64>,
        now: Millis,
    ) -> sqlx::Result<i64> {
        Ok(self.list(db, user_id, stamp, now).await?.len() as i64)
    }

    /// The count if this instance holds a list read at this very stamp and minute; never reads.
    pub fn known_count(&self, user_id: i64, stamp: Option<i64>, now: Millis) -> Option<i64> {
        let list = self.lists.get(user_id, stamp?, now)?;
        Some(list.len() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bumps_take_each_person_once_in_id_order() {
        let people = BTreeSet::from([42, 7, 1_000]);
        assert_eq!(
            bumps_in_id_order(&people),
            "UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id = 7;\
             UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id = 42;\
             UPDATE users SET needs_stamp = needs_stamp + 1 WHERE id = 1000;"
        );
    }

    const HOUR: Millis = 3_600_000;

    fn need(kind: NeedKind, since: Millis) -> Need {
        Need {
            kind,
            room_id: 7,
            room_title: "Northwind".into(),
            item_id: 3,
            label: "Fix timeline".into(),
            detail: "Roadmap".into(),
            since,
        }
    }

    #[test]
    fn each_item_says_what_waits_and_links_to_where_it_is_done() {
        let now = 10 * HOUR;
        let stale = need(NeedKind::AlignDraft { stale: true }, 7 * HOUR);
        assert_eq!(
            stale.what(now),
            "The email “Fix timeline” changed since you aligned: align again"
        );
        assert_eq!(stale.link(), "/rooms/7/drafts/3");
        assert_eq!(stale.age(now), "waiting 3 hours");
        let decide = need(NeedKind::Decide, 0);
        assert_eq!(decide.what(now), "Decide “Fix timeline” (Roadmap is yours)");
        assert_eq!(decide.link(), "/rooms/7#decision-3");
        let late = need(NeedKind::CustomerUpdateOverdue, 8 * HOUR);
        assert_eq!(
            late.what(now),
            "You lead this room: the customer update is overdue by 2 hours"
        );
        assert_eq!(late.age(now), "due 2 hours ago");
        assert_eq!(
            need(NeedKind::AlignUpdate { stale: false }, 0).link(),
            "/rooms/7/updates/3"
        );
    }

    #[test]
    fn a_planned_engagement_waits_for_clearance_only_while_it_can_still_be_cleared() {
        let grace = crate::engagements::rules::STARTED_GRACE;
        assert!(NEEDS.contains(&format!("e.starts_at > $2 - {grace}")));
    }

    #[test]
    fn every_kind_the_query_yields_is_known() {
        for name in [
            "align_draft",
            "align_update",
            "ready_to_send",
            "delivery_unknown",
            "delivery_failed",
            "decide",
            "workstream_overdue",
            "customer_update_overdue",
            "leadership_update_overdue",
            "rule",
            "clear_engagement",
            "outcome_missing",
            "hold_requested",
            "ready_to_resume",
        ] {
            assert!(kind(name, false).is_some(), "{name}");
            assert!(
                NEEDS.contains(&format!("'{name}'")),
                "{name} is not in the query"
            );
        }
    }
}
