//! Outbox rows: queueing a message in the transaction of the action that sends it, claiming the
//! next due row under a lease with a fencing token, and recording how delivery ended.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::db::Backend;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    pub enum OutboxState {
        Queued = "queued" => "Queued",
        Sending = "sending" => "Sending",
        Sent = "sent" => "Sent",
        Retrying = "retrying" => "Retrying",
        Failed = "failed" => "Failed",
        Unknown = "unknown" => "Delivery unknown",
    }
}

text_enum! {
    pub enum MessageKind {
        Customer = "customer" => "Customer email",
        Notification = "notification" => "Notification",
        Invitation = "invitation" => "Invitation",
    }
}

/// A message ready to queue: the exact bytes, its envelope, and what it belongs to.
pub struct Outgoing {
    pub kind: MessageKind,
    pub room_id: Option<i64>,
    pub draft_id: Option<i64>,
    pub sender_id: Option<i64>,
    pub contact_ids: Vec<i64>,
    pub message: lettre::Message,
}

impl Outgoing {
    /// An internal notification: from Accord, about no room, to no customer contact.
    pub fn notification(message: lettre::Message) -> Outgoing {
        Outgoing {
            kind: MessageKind::Notification,
            room_id: None,
            draft_id: None,
            sender_id: None,
            contact_ids: Vec::new(),
            message,
        }
    }
}

/// Queues a notification: a message that belongs to no room (alignment requests, pre-reads,
/// invitations), so no room page shows it. Like every enqueue, it writes the row in the caller's
/// transaction and returns its id; on PostgreSQL every instance's worker hears of it at commit.
pub async fn enqueue(
    conn: &mut AnyConnection,
    backend: Backend,
    outgoing: &Outgoing,
    now: Millis,
) -> anyhow::Result<i64> {
    anyhow::ensure!(
        outgoing.room_id.is_none(),
        "a room's email is queued with enqueue_in_room"
    );
    insert_row(conn, backend, outgoing, now).await
}

/// Queues a room's customer email, which its room page shows from now on.
pub async fn enqueue_in_room(
    tx: &mut RoomTx,
    backend: Backend,
    outgoing: &Outgoing,
    now: Millis,
) -> anyhow::Result<i64> {
    let room_id = outgoing
        .room_id
        .ok_or_else(|| anyhow::anyhow!("a room's email names its room"))?;
    insert_row(tx.room(room_id), backend, outgoing, now).await
}

/// The row itself; only the two functions above choose whether a room is written.
async fn insert_row(
    tx: &mut AnyConnection,
    backend: Backend,
    outgoing: &Outgoing,
    now: Millis,
) -> anyhow::Result<i64> {
    let envelope = outgoing.message.envelope();
    let message_id = outgoing
        .message
        .headers()
        .get_raw("Message-ID")
        .ok_or_else(|| anyhow::anyhow!("a queued message needs a Message-ID"))?
        .to_owned();
    let subject = outgoing
        .message
        .headers()
        .get_raw("Subject")
        .unwrap_or_default()
        .to_owned();
    let raw = String::from_utf8(outgoing.message.formatted())?;
    let to: Vec<String> = envelope.to().iter().map(ToString::to_string).collect();
    let from = envelope.from().map(ToString::to_string).unwrap_or_default();
    let contact_ids: Vec<String> = outgoing
        .contact_ids
        .iter()
        .map(ToString::to_string)
        .collect();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (kind, room_id, draft_id, sender_id, contact_ids, message_id, envelope_from, \
         envelope_to, subject, raw, state, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $11) RETURNING id",
    )
    .bind(outgoing.kind.as_str())
    .bind(outgoing.room_id)
    .bind(outgoing.draft_id)
    .bind(outgoing.sender_id)
    .bind(contact_ids.join(","))
    .bind(message_id)
    .bind(from)
    .bind(to.join(","))
    .bind(subject)
    .bind(raw)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify('accord_outbox', '')")
            .execute(tx)
            .await?;
    }
    Ok(id)
}

/// A row this worker holds: deliver it, then record the outcome with the same fence.
#[derive(Clone, Debug)]
pub struct Claim {
    pub id: i64,
    pub kind: MessageKind,
    /// The room whose page shows this message's state (customer emails only).
    pub room_id: Option<i64>,
    pub fence: i64,
    pub attempts: i64,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub raw: String,
}

/// Claims up to `limit` of the oldest due rows under a lease, in one statement, and locks the
/// rooms of the customer emails among them. PostgreSQL skips
/// rows other workers hold (`FOR UPDATE SKIP LOCKED`); SQLite's single writer makes the statement
/// atomic on its own. The rows are picked once, in a materialized CTE: PostgreSQL may run a
/// `WHERE id IN (SELECT … LIMIT n)` subquery more than once in one update, and claimed more than
/// `limit` rows that way at 100k rooms.
pub async fn claim_due(
    tx: &mut RoomTx,
    backend: Backend,
    worker: &str,
    now: Millis,
    lease_ms: Millis,
    limit: i64,
) -> sqlx::Result<Vec<Claim>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE state IN ('queued', 'retrying') \
         AND next_attempt_at <= $3 ORDER BY id LIMIT $4{lock}) \
         UPDATE outbox SET state = 'sending', lease_owner = $1, lease_until = $2, fence = fence + 1, \
         attempts = attempts + 1, handed_over_at = NULL \
         WHERE id IN (SELECT id FROM picked) AND state IN ('queued', 'retrying') \
         RETURNING id, fence, attempts, envelope_from, envelope_to, raw, \
         CASE WHEN kind = 'customer' THEN room_id END, kind"
    );
    // Planned afresh on every run, not prepared once per connection: PostgreSQL keeps a
    // prepared statement's generic plan until the table is next analyzed, and one made while
    // the outbox was empty scans the whole table (measured: 60-70 ms a pick over 8,000 rows,
    // for up to a minute, until autovacuum came by). A pick runs once per batch of emails. The
    // waiting rows have an index of their own (`outbox_waiting`, migration 0022), which the
    // `state IN (…)` condition names.
    let rows = sqlx::query(&sql)
        .persistent(false)
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    let claims: Vec<Claim> = rows
        .into_iter()
        .map(|row| {
            let to: String = row.try_get(4)?;
            Ok(Claim {
                id: row.try_get(0)?,
                fence: row.try_get(1)?,
                attempts: row.try_get(2)?,
                envelope_from: row.try_get(3)?,
                envelope_to: to
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                raw: row.try_get(5)?,
                room_id: row.try_get(6)?,
                kind: MessageKind::parse(&row.try_get::<String, _>(7)?)
                    .unwrap_or(MessageKind::Notification),
            })
        })
        .collect::<sqlx::Result<_>>()?;
    // A claimed customer email shows as "sending" on its room's page.
    tx.lock_more(claims.iter().filter_map(|c| c.room_id))
        .await?;
    Ok(claims)
}

/// Sets the outcome of a claimed row if this worker still holds it (same fence); `false` when
/// the lease was lost and someone else decides.
pub async fn settle(
    tx: &mut RoomTx,
    claim: &Claim,
    state: OutboxState,
    error: &str,
    next_attempt_at: Millis,
    now: Millis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE outbox SET state = $1, last_error = $2, next_attempt_at = $3, \
         sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END, lease_owner = NULL, lease_until = NULL \
         WHERE id = $5 AND fence = $6 AND state = 'sending'",
    )
    .bind(state.as_str())
    .bind(error)
    .bind(next_attempt_at)
    .bind(now)
    .bind(claim.id)
    .bind(claim.fence)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// What a customer email belongs to, for the effects of its delivery.
#[derive(Clone, Debug)]
pub struct Owner {
    pub kind: MessageKind,
    pub room_id: Option<i64>,
    pub draft_id: Option<i64>,
    pub sender_id: Option<i64>,
    pub contact_ids: Vec<i64>,
    pub subject: String,
}

pub async fn owner(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Owner>> {
    let row = sqlx::query(
        "SELECT kind, room_id, draft_id, sender_id, contact_ids, subject FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get(0)?;
    let contacts: String = row.try_get(4)?;
    Ok(Some(Owner {
        kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Notification),
        room_id: row.try_get(1)?,
        draft_id: row.try_get(2)?,
        sender_id: row.try_get(3)?,
        contact_ids: contacts.split(',').filter_map(|s| s.parse().ok()).collect(),
        subject: row.try_get(5)?,
    }))
}

/// Extends the lease of every row `worker` holds to `until`.
pub async fn renew_leases(tx: &mut RoomTx, worker: &str, until: Millis) -> sqlx::Result<u64> {
    let renewed = sqlx::query(
        "UPDATE outbox SET lease_until = $1 WHERE lease_owner = $2 AND state = 'sending'",
    )
    .bind(until)
    .bind(worker)
    .execute(&mut **tx)
    .await?;
    Ok(renewed.rows_affected())
}

/// Durably marks claimed rows as about to be handed to the mail server, each only if this
/// worker still holds it; returns the ids still held (the others must not be sent).
pub async fn mark_handing_over(
    tx: &mut RoomTx,
    claims: &[(i64, i64)],
    now: Millis,
) -> sqlx::Result<Vec<i64>> {
    let mut held = Vec::with_capacity(claims.len());
    for &(id, fence) in claims {
        let marked = sqlx::query(
            "UPDATE outbox SET handed_over_at = $1 WHERE id = $2 AND fence = $3 AND state = 'sending'",
        )
        .bind(now)
        .bind(id)
        .bind(fence)
        .execute(&mut **tx)
        .await?;
        if marked.rows_affected() == 1 {
            held.push(id);
        }
    }
    Ok(held)
}

/// What happens to a message whose worker vanished mid-delivery.
pub const NEVER_HANDED_OVER: &str = "Never handed over: Accord stopped before giving this message to the mail server, so it is sent again automatically.";
pub const HANDED_OVER_NO_ANSWER: &str = "Handed over, no answer: Accord stopped while giving this message to the mail server, before the server's reply, so the server may or may not have accepted it.";
pub const NOTIFICATION_RESENT: &str = "Handed over, no answer: sent again automatically, since a second copy of an internal notification is harmless.";

/// Rows left in `sending` whose lease ran out (the worker died mid-delivery). One that never
/// reached the handing-over mark was not sent and is retried at once; one that did may have been
/// accepted, so it becomes `unknown` and is never resent automatically (except a notification,
/// whose duplicate is harmless). Returns the ids that became `unknown`.
pub async fn expire_leases(tx: &mut RoomTx, now: Millis, cutoff: Millis) -> sqlx::Result<Vec<i64>> {
    sqlx::query_as(
        "UPDATE outbox SET \
         state = CASE WHEN handed_over_at IS NULL OR kind = 'notification' THEN 'retrying' ELSE 'unknown' END, \
         last_error = CASE WHEN handed_over_at IS NULL THEN $1 WHEN kind = 'notification' THEN $2 ELSE $3 END, \
         next_attempt_at = $4, lease_owner = NULL, lease_until = NULL \
         WHERE state = 'sending' AND lease_until < $5 RETURNING id, state",
    )
    .bind(NEVER_HANDED_OVER)
    .bind(NOTIFICATION_RESENT)
    .bind(HANDED_OVER_NO_ANSWER)
    .bind(now)
    .bind(cutoff)
    .fetch_all(&mut **tx)
    .await
    .map(|rows: Vec<(i64, String)>| {
        rows.into_iter()
            .filter(|(_, state)| state == OutboxState::Unknown.as_str())
            .map(|(id, _)| id)
            .collect()
    })
}

/// One row as a page shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub kind: MessageKind,
    pub draft_id: Option<i64>,
    pub subject: String,
    pub recipients: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: Millis,
    pub sent_at: Option<Millis>,
    pub message_id: String,
    pub room_id: Option<i64>,
    /// Who resolved an unknown delivery, and when.
    pub resolved: Option<(String, Millis)>,
    /// When the next attempt is due (for a message being retried).
    pub next_attempt_at: Millis,
}

const ENTRY: &str = "SELECT o.id, o.kind, o.draft_id, o.subject, o.envelope_to, o.state, o.attempts, o.last_error, \
    o.created_at, o.sent_at, o.message_id, o.room_id, u.name, o.resolved_at, o.next_attempt_at \
    FROM outbox o LEFT JOIN users u ON u.id = o.resolved_by";

fn entry(row: sqlx::any::AnyRow) -> sqlx::Result<Entry> {
    let (kind, state): (String, String) = (row.try_get(1)?, row.try_get(5)?);
    Ok(Entry {
        id: row.try_get(0)?,
        kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Notification),
        draft_id: row.try_get(2)?,
        subject: row.try_get(3)?,
        recipients: row.try_get::<String, _>(4)?.replace(',', ", "),
        state: OutboxState::parse(&state).unwrap_or(OutboxState::Queued),
        attempts: row.try_get(6)?,
        last_error: row.try_get(7)?,
        created_at: row.try_get(8)?,
        sent_at: row.try_get(9)?,
        message_id: row.try_get(10)?,
        room_id: row.try_get(11)?,
        resolved: row
            .try_get::<Option<String>, _>(12)?
            .zip(row.try_get::<Option<Millis>, _>(13)?),
        next_attempt_at: row.try_get(14)?,
    })
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Entry>> {
    let row = sqlx::query(&format!("{ENTRY} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(entry).transpose()
}

/// The row that sent `message_id`, and its room.
pub async fn find_by_message_id(
    conn: &mut AnyConnection,
    message_id: &str,
) -> sqlx::Result<Option<(i64, Option<i64>)>> {
    let row = sqlx::query("SELECT id, room_id FROM outbox WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
}

/// A delivery report says the message bounced after the mail server took it: it failed after
/// all. Returns whether the row changed (a report arriving twice changes it once).
pub async fn mark_bounced(tx: &mut RoomTx, id: i64, reason: &str) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE outbox SET state = 'failed', last_error = $1 \
         WHERE id = $2 AND state IN ('sent', 'unknown')",
    )
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The Message-IDs of the room's customer emails, oldest first.
pub async fn customer_message_ids(
    conn: &mut AnyConnection,
    room_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE room_id = $1 AND kind = 'customer' ORDER BY id",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await
}

/// The room's customer emails, newest first.
pub async fn for_room(
    conn: &mut AnyConnection,
    room_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "{ENTRY} WHERE o.room_id = $1 AND o.kind = 'customer' ORDER BY o.id DESC LIMIT $2"
    ))
    .bind(room_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(entry).collect()
}

/// Every message, newest first (the admin view).
pub async fn recent(conn: &mut AnyConnection, limit: i64) -> sqlx::Result<Vec<Entry>> {
    let rows = sqlx::query(&format!("{ENTRY} ORDER BY o.id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(entry).collect()
}

/// A person's decision on an `unknown` row (the communicator's, or an admin's): mark it
/// delivered, or queue it again. Records who decided and when.
pub async fn resolve_unknown(
    tx: &mut RoomTx,
    id: i64,
    delivered: bool,
    by: i64,
    now: Millis,
) -> sqlx::Result<bool> {
    let (state, sent_at) = if delivered {
        ("sent", Some(now))
    } else {
        ("queued", None)
    };
    let result = sqlx::query(
        "UPDATE outbox SET state = $1, sent_at = $2, resolved_by = $3, resolved_at = $4, next_attempt_at = $4, \
         last_error = '' WHERE id = $5 AND state = 'unknown'",
    )
    .bind(state)
    .bind(sent_at)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}
