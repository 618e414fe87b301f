//! The one pipeline every door (IMAP, HTTP, the pipe, the demo) files a message through: parse,
//! match, and write it in one transaction with everything it changes — the room's conversation
//! and version, an inbound touch, a timeline entry, a delivery marked failed for a bounce, and one
//! notification per PM and communicator through the outbox. The same message twice is filed once.
//! Nothing of the customer's text is logged.

use lettre::Message;
use lettre::message::Mailbox;
use sqlx::AnyConnection;

use super::matching::{self, Found};
use super::model::{self, InboundKind, InboundState, MatchedBy, NewInbound, Source};
use super::parse::{self, Parsed, Unparsable};
use crate::AppState;
use crate::accounts::user::{self, EmailAddress};
use crate::clock::Millis;
use crate::contact_log;
use crate::contact_log::model::NewTouch;
use crate::contact_log::rules::Channel;
use crate::customers::model::{self as customers, NewContact};
use crate::emails::{self, CustomerReplied};
use crate::members::model::{self as members, MemberKind};
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::change::RoomTx;
use crate::rooms::model as rooms;
use crate::timeline;

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Filed into a room (a reply, an automatic reply, or a delivery report of a room's email).
    Filed { id: i64, room_id: Option<i64> },
    /// Kept for an admin to file or discard.
    Unmatched { id: i64 },
    /// Filed before (same Message-ID, or the same bytes without one): nothing changed.
    AlreadyFiled { id: i64 },
}

/// Why a door refuses a message outright (nothing is stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    TooLarge { limit: usize },
    Unparsable(Unparsable),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooLarge { limit } => {
                write!(
                    f,
                    "the message is larger than {limit} bytes (ACCORD_INBOUND_MAX_BYTES)"
                )
            }
            Refused::Unparsable(why) => write!(f, "not a mail message: {why}"),
        }
    }
}

/// What to do with bytes that are not a readable message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Tell the sender (HTTP 400, pipe exit 65): their side still has the message.
    Refuse,
    /// Keep it in the unmatched queue (IMAP: the mailbox must move on).
    Keep,
}

/// Files one raw message.
pub async fn file(
    state: &AppState,
    raw: &[u8],
    source: Source,
    unreadable: Unreadable,
) -> anyhow::Result<Result<Outcome, Refused>> {
    let limit = state.config.inbound.max_bytes;
    if raw.len() > limit {
        return Ok(Err(Refused::TooLarge { limit }));
    }
    let parsed = match parse::parse(raw) {
        Ok(parsed) => parsed,
        Err(why) if unreadable == Unreadable::Refuse => return Ok(Err(Refused::Unparsable(why))),
        Err(why) => {
            return keep_unreadable(state, raw, source, &why.to_string())
                .await
                .map(Ok);
        }
    };
    let key = parse::dedupe_key(&parsed.message_id, raw);
    {
        // Most duplicates (a retried webhook, a second instance's IMAP fetch) stop here, before
        // the write lock.
        let mut conn = state.db.reader().acquire().await?;
        if let Some(id) = model::filed_as(&mut conn, &key).await? {
            return Ok(Ok(Outcome::AlreadyFiled { id }));
        }
    }
    let now = state.clock.now();
    let threading = (parsed.in_reply_to.join(" "), parsed.references.join(" "));
    let row = unmatched(&parsed, &key, raw, source, &threading);
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let outcome = match &parsed.bounce {
        Some(bounce) => file_bounce(&mut tx, row, bounce, now).await?,
        None => file_message(state, &mut tx, &parsed, row, now).await?,
    };
    if let Outcome::AlreadyFiled { .. } = outcome {
        // Another door or instance filed it meanwhile; this transaction changes nothing.
        drop(tx);
        let mut conn = state.db.reader().acquire().await?;
        let id = model::filed_as(&mut conn, &key).await?.unwrap_or_default();
        return Ok(Ok(Outcome::AlreadyFiled { id }));
    }
    tx.commit().await?;
    state.outbox.wake();
    tracing::info!(source = source.as_str(), outcome = ?outcome, "inbound message");
    Ok(Ok(outcome))
}

/// Keeps bytes that could not be read, for an admin, under a digest of the bytes.
pub async fn keep_unreadable(
    state: &AppState,
    raw: &[u8],
    source: Source,
    why: &str,
) -> anyhow::Result<Outcome> {
    let key = parse::dedupe_key("", raw);
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let new = NewInbound {
        dedupe_key: &key,
        message_id: "",
        state: InboundState::Unmatched,
        kind: InboundKind::Unparsable,
        room_id: None,
        contact_id: None,
        matched_by: None,
        why_unmatched: &format!("Unreadable: {why}."),
        thread_root: "",
        from_address: "",
        from_name: "",
        subject: "",
        text: "",
        in_reply_to: "",
        references: "",
        written_at: None,
        source,
        raw,
        attachments: &[],
    };
    let Some(id) = model::insert(&mut tx, &new, now).await? else {
        let mut conn = state.db.reader().acquire().await?;
        let id = model::filed_as(&mut conn, &key).await?.unwrap_or_default();
        return Ok(Outcome::AlreadyFiled { id });
    };
    tx.commit().await?;
    tracing::info!(
        source = source.as_str(),
        id,
        "inbound message unreadable; kept for an admin"
    );
    Ok(Outcome::Unmatched { id })
}

/// The room a message may enter, with its contact, or why it may not.
enum Destination {
    Room {
        found: Found,
        contact_id: Option<i64>,
    },
    Unmatched(String),
}

async fn destination(
    state: &AppState,
    tx: &mut RoomTx,
    parsed: &Parsed,
    now: Millis,
) -> anyhow::Result<Destination> {
    let evidence = matching::evidence(&parsed.in_reply_to, &parsed.references);
    let sent = model::rooms_of_sent(tx, &evidence).await?;
    let token = state
        .config
        .inbound
        .address
        .as_ref()
        .and_then(|address| parsed.recipients.iter().find_map(|r| address.token_in(r)));
    let by_token = match token {
        Some(token) => model::room_of_token(tx, token).await?,
        None => None,
    };
    let Some(found) = matching::choose(&parsed.in_reply_to, &parsed.references, &sent, by_token)
    else {
        let why = match token {
            Some(_) => "It was sent to a reply address no room has (rotated, or never issued).",
            None => "It answers no email Accord sent and names no room's reply address.",
        };
        return Ok(Destination::Unmatched(why.to_owned()));
    };
    let Some(room) = rooms::find(&mut **tx, found.room_id).await? else {
        return Ok(Destination::Unmatched("Its room no longer exists.".into()));
    };
    let customer = customers::find(&mut **tx, room.customer_id).await?;
    let domain = customer.as_ref().map_or("", |c| c.email_domain.as_str());
    let contacts = customers::contacts_of(&mut **tx, room.customer_id).await?;
    let addresses: Vec<String> = contacts.iter().map(|c| c.email.clone()).collect();
    if !matching::sender_belongs(&parsed.from_address, &addresses, domain) {
        let customer = customer.map_or_else(String::new, |c| c.name);
        return Ok(Destination::Unmatched(format!(
            "It matches room {} ({}), but the sender is not one of {customer}'s contacts or at its email domain.",
            room.id,
            found.by.label()
        )));
    }
    let contact_id = match contacts
        .iter()
        .find(|c| c.email.eq_ignore_ascii_case(&parsed.from_address))
    {
        Some(contact) => Some(contact.id),
        None => new_contact(tx, room.customer_id, parsed, now).await?,
    };
    Ok(Destination::Room { found, contact_id })
}

/// Someone at the customer's domain wrote for the first time: they become a contact.
async fn new_contact(
    tx: &mut AnyConnection,
    customer_id: i64,
    parsed: &Parsed,
    now: Millis,
) -> anyhow::Result<Option<i64>> {
    let Ok(email) = EmailAddress::parse(&parsed.from_address) else {
        return Ok(None);
    };
    let name = match parsed.from_name.trim() {
        "" => email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned(),
        name => name.chars().take(120).collect(),
    };
    let contact = NewContact {
        name,
        email,
        title: String::new(),
        time_zone: None,
    };
    Ok(customers::insert_contact(tx, customer_id, &contact, now).await?)
}

/// The row of a message as first read: held, matched to nothing yet. Each outcome changes what
/// it knows (`NewInbound { room_id, .. }`).
fn unmatched<'a>(
    parsed: &'a Parsed,
    key: &'a str,
    raw: &'a [u8],
    source: Source,
    threading: &'a (String, String),
) -> NewInbound<'a> {
    NewInbound {
        dedupe_key: key,
        message_id: &parsed.message_id,
        state: InboundState::Unmatched,
        kind: match parsed.auto_reply {
            true => InboundKind::AutoReply,
            false => InboundKind::Reply,
        },
        room_id: None,
        contact_id: None,
        matched_by: None,
        why_unmatched: "",
        thread_root: "",
        from_address: &parsed.from_address,
        from_name: &parsed.from_name,
        subject: &parsed.subject,
        text: &parsed.text,
        in_reply_to: &threading.0,
        references: &threading.1,
        written_at: parsed.written_at,
        source,
        raw,
        attachments: &parsed.attachments,
    }
}

/// A held message's outcome (or a duplicate's, when its key was filed meanwhile).
fn held(inserted: Option<i64>) -> Outcome {
    match inserted {
        Some(id) => Outcome::Unmatched { id },
        None => Outcome::AlreadyFiled { id: 0 },
    }
}

async fn file_message(
    state: &AppState,
    tx: &mut RoomTx,
    parsed: &Parsed,
    row: NewInbound<'_>,
    now: Millis,
) -> anyhow::Result<Outcome> {
    let (found, contact_id) = match destination(state, tx, parsed, now).await? {
        Destination::Unmatched(why) => {
            let row = NewInbound {
                why_unmatched: &why,
                ..row
            };
            return Ok(held(model::insert(tx, &row, now).await?));
        }
        Destination::Room { found, contact_id } => (found, contact_id),
    };
    let room_id = found.room_id;
    tx.lock_more([room_id]).await?;
    let thread_root = match found.by {
        MatchedBy::InReplyTo | MatchedBy::References => {
            model::room_thread_root(tx, room_id).await?
        }
        _ => matching::thread_root(&parsed.in_reply_to, &parsed.references, &parsed.message_id),
    };
    let row = NewInbound {
        state: InboundState::Filed,
        room_id: Some(room_id),
        contact_id,
        matched_by: Some(found.by),
        thread_root: &thread_root,
        ..row
    };
    let Some(id) = model::insert(tx, &row, now).await? else {
        return Ok(Outcome::AlreadyFiled { id: 0 });
    };
    let said = Said {
        sender: &parsed.from_name,
        address: &parsed.from_address,
        subject: &parsed.subject,
    };
    let what = (row.kind, row.source);
    announce(state, tx, room_id, id, contact_id, &said, what, now).await?;
    Ok(Outcome::Filed {
        id,
        room_id: Some(room_id),
    })
}

/// Who wrote a message and about what, for the room's timeline and notifications.
pub struct Said<'a> {
    pub sender: &'a str,
    pub address: &'a str,
    pub subject: &'a str,
}

/// What a message filed in a room changes there: the timeline, the contact log, and (unless it
/// is an automatic reply, or the demo's history) a notification to each PM and the communicator.
#[allow(clippy::too_many_arguments)]
pub async fn announce(
    state: &AppState,
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    contact_id: Option<i64>,
    said: &Said<'_>,
    (kind, source): (InboundKind, Source),
    now: Millis,
) -> anyhow::Result<()> {
    let Some(room) = rooms::find(&mut **tx, room_id).await? else {
        return Ok(());
    };
    let sender = match said.sender {
        "" => said.address,
        name => name,
    };
    let subject = match said.subject {
        "" => "(no subject)",
        subject => subject,
    };
    let path = format!("/rooms/{room_id}/messages/{id}");
    let (event, summary) = match kind {
        InboundKind::AutoReply => (
            "drafts.auto_reply",
            format!("Automatic reply from {sender}: “{subject}” (nobody was notified)."),
        ),
        _ => ("drafts.received", format!("{sender} wrote: “{subject}”.")),
    };
    timeline::record(tx, room_id, None, event, &summary, &path, now).await?;
    if kind == InboundKind::AutoReply {
        return Ok(());
    }
    if let Some(contact_id) = contact_id {
        let touch = NewTouch {
            origin: contact_log::model::Origin::Received,
            room_id,
            contact_id,
            channel: Channel::Email,
            summary: &format!("Wrote “{subject}”"),
            touched_at: now,
            by: room.communicator_user_id,
        };
        contact_log::model::insert(tx, &touch, now).await?;
    }
    if source == Source::Demo {
        // The demo's story happened before this copy of Accord: nobody is emailed about it.
        return Ok(());
    }
    let mut recipients: Vec<i64> = members::list(tx, room_id)
        .await?
        .into_iter()
        .filter(|m| m.kind == MemberKind::Pm)
        .map(|m| m.user_id)
        .collect();
    if !recipients.contains(&room.communicator_user_id) {
        recipients.push(room.communicator_user_id);
    }
    for user_id in recipients {
        let Some(account) = user::find(&mut **tx, user_id).await? else {
            continue;
        };
        if !account.is_active() {
            continue;
        }
        let to = Mailbox::new(Some(account.name.clone()), account.email.parse()?);
        let headers = Message::builder()
            .from(state.config.mail_from.clone())
            .to(to)
            .subject(format!("{sender} wrote in “{}”", room.title))
            .message_id(Some(crate::mail::message_id(&state.config)));
        let email = CustomerReplied {
            name: &account.name,
            sender,
            room_title: &room.title,
            subject,
            link: &state.config.link(&path),
        };
        let message = emails::compose(headers, &email)?;
        outbox::enqueue(
            tx,
            state.db.backend(),
            &Outgoing::notification(message),
            now,
        )
        .await?;
    }
    Ok(())
}

/// A delivery report: the message it names is marked failed (for the communicator to see) and
/// the report is kept with that message's room.
async fn file_bounce(
    tx: &mut RoomTx,
    row: NewInbound<'_>,
    bounce: &parse::Bounce,
    now: Millis,
) -> anyhow::Result<Outcome> {
    let row = NewInbound {
        kind: InboundKind::Bounce,
        ..row
    };
    let original = match &bounce.original_message_id {
        Some(id) => outbox::find_by_message_id(tx, id).await?,
        None => None,
    };
    let Some((outbox_id, room_id)) = original else {
        let row = NewInbound {
            why_unmatched: "A delivery report about a message Accord did not send.",
            ..row
        };
        return Ok(held(model::insert(tx, &row, now).await?));
    };
    if let Some(room_id) = room_id {
        tx.lock_more([room_id]).await?;
    }
    let thread_root = match room_id {
        Some(room_id) => model::room_thread_root(tx, room_id).await?,
        None => String::new(),
    };
    let row = NewInbound {
        state: InboundState::Filed,
        room_id,
        thread_root: &thread_root,
        ..row
    };
    let Some(id) = model::insert(tx, &row, now).await? else {
        return Ok(Outcome::AlreadyFiled { id: 0 });
    };
    if bounce.failed {
        let reason = match bounce.reason.as_str() {
            "" => "the recipient's mail server returned it".to_owned(),
            reason => format!("returned by the recipient's mail server ({reason})"),
        };
        if outbox::mark_bounced(tx, outbox_id, &reason).await?
            && let Some(owner) = outbox::owner(tx, outbox_id).await?
        {
            crate::outbox::effects::announce(tx, &owner, outbox::OutboxState::Failed, &reason, now)
                .await?;
        }
    }
    Ok(Outcome::Filed { id, room_id })
}
