//! The queries over `inbound_messages`, `inbound_raw` and `inbound_attachments`: filing a
//! message once (the dedupe key is unique), reading a room's conversation and the unmatched
//! queue, and the lookups matching needs.

use sqlx::{AnyConnection, Row};

use super::parse::Attachment;
use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    pub enum InboundState {
        Filed = "filed" => "Filed",
        Unmatched = "unmatched" => "Waiting for an admin",
        Discarded = "discarded" => "Discarded",
    }
}

text_enum! {
    pub enum InboundKind {
        Reply = "reply" => "Reply",
        AutoReply = "auto_reply" => "Automatic reply",
        Bounce = "bounce" => "Delivery report",
        Unparsable = "unparsable" => "Unreadable",
    }
}

text_enum! {
    pub enum Source {
        Imap = "imap" => "IMAP mailbox",
        Http = "http" => "HTTP",
        Pipe = "pipe" => "Mail server pipe",
        Demo = "demo" => "Demo",
    }
}

text_enum! {
    pub enum MatchedBy {
        InReplyTo = "in_reply_to" => "its In-Reply-To header",
        References = "references" => "its References header",
        ReplyAddress = "reply_address" => "the room's reply address",
        Admin = "admin" => "an admin's decision",
    }
}

/// A received message as pages show it (without its bytes).
#[derive(Clone, Debug)]
pub struct Received {
    pub id: i64,
    pub state: InboundState,
    pub kind: InboundKind,
    pub room_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub matched_by: Option<MatchedBy>,
    pub why_unmatched: String,
    pub thread_root: String,
    pub message_id: String,
    pub from_address: String,
    pub from_name: String,
    pub subject: String,
    pub text: String,
    pub in_reply_to: String,
    pub references: String,
    pub written_at: Option<Millis>,
    pub received_at: Millis,
    pub source: Source,
    pub size_bytes: i64,
    pub attachment_count: i64,
}

impl Received {
    /// "Jordan Reyes", or the address when the sender gave no name.
    pub fn sender(&self) -> &str {
        match (self.from_name.as_str(), self.from_address.as_str()) {
            ("", "") => "an unknown sender",
            ("", address) => address,
            (name, _) => name,
        }
    }

    /// The new part of the text, and the quoted history folded under it.
    pub fn fresh(&self) -> &str {
        super::quote::split(&self.text).0
    }

    pub fn quoted(&self) -> &str {
        super::quote::split(&self.text).1
    }

    /// The start of what is new, for the room page's conversation.
    pub fn preview(&self) -> String {
        let fresh = self.fresh();
        match fresh.char_indices().nth(280) {
            Some((cut, _)) => format!("{}…", fresh[..cut].trim_end()),
            None => fresh.to_owned(),
        }
    }

    pub fn subject_or_none(&self) -> &str {
        match self.subject.as_str() {
            "" => "(no subject)",
            subject => subject,
        }
    }

    pub fn is_auto_reply(&self) -> bool {
        self.kind == InboundKind::AutoReply
    }
}

const COLUMNS: &str = "m.id, m.state, m.kind, m.room_id, m.contact_id, m.matched_by, \
     m.why_unmatched, m.thread_root, m.message_id, m.from_address, m.from_name, m.subject, \
     m.body_text, m.in_reply_to, m.references_ids, m.written_at, m.received_at, m.source, \
     m.size_bytes, (SELECT COUNT(*) FROM inbound_attachments a WHERE a.message_id = m.id)";

fn from_row(row: sqlx::any::AnyRow) -> sqlx::Result<Received> {
    let text = |i: usize| -> sqlx::Result<String> { row.try_get(i) };
    Ok(Received {
        id: row.try_get(0)?,
        state: InboundState::parse(&text(1)?).unwrap_or(InboundState::Unmatched),
        kind: InboundKind::parse(&text(2)?).unwrap_or(InboundKind::Unparsable),
        room_id: row.try_get(3)?,
        contact_id: row.try_get(4)?,
        matched_by: MatchedBy::parse(&text(5)?),
        why_unmatched: text(6)?,
        thread_root: text(7)?,
        message_id: text(8)?,
        from_address: text(9)?,
        from_name: text(10)?,
        subject: text(11)?,
        text: text(12)?,
        in_reply_to: text(13)?,
        references: text(14)?,
        written_at: row.try_get(15)?,
        received_at: row.try_get(16)?,
        source: Source::parse(&text(17)?).unwrap_or(Source::Http),
        size_bytes: row.try_get(18)?,
        attachment_count: row.try_get(19)?,
    })
}

/// A message to file (the parsed fields, or only the bytes for an unparsable one).
#[derive(Clone, Copy)]
pub struct NewInbound<'a> {
    pub dedupe_key: &'a str,
    pub message_id: &'a str,
    pub state: InboundState,
    pub kind: InboundKind,
    pub room_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub matched_by: Option<MatchedBy>,
    pub why_unmatched: &'a str,
    pub thread_root: &'a str,
    pub from_address: &'a str,
    pub from_name: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub in_reply_to: &'a str,
    pub references: &'a str,
    pub written_at: Option<Millis>,
    pub source: Source,
    pub raw: &'a [u8],
    pub attachments: &'a [Attachment],
}

/// Files a message with its bytes and attachments; `None` when its dedupe key was filed before
/// (nothing is written then). A message for a room is written through that room's `RoomTx`.
pub async fn insert(
    tx: &mut RoomTx,
    new: &NewInbound<'_>,
    now: Millis,
) -> sqlx::Result<Option<i64>> {
    let conn: &mut AnyConnection = match new.room_id {
        Some(room_id) => tx.room(room_id),
        None => tx,
    };
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO inbound_messages (dedupe_key, message_id, state, kind, room_id, contact_id, \
         matched_by, why_unmatched, thread_root, from_address, from_name, subject, body_text, \
         in_reply_to, references_ids, written_at, received_at, source, size_bytes, filed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(new.dedupe_key)
    .bind(new.message_id)
    .bind(new.state.as_str())
    .bind(new.kind.as_str())
    .bind(new.room_id)
    .bind(new.contact_id)
    .bind(new.matched_by.map_or("", MatchedBy::as_str))
    .bind(new.why_unmatched)
    .bind(new.thread_root)
    .bind(new.from_address)
    .bind(new.from_name)
    .bind(new.subject)
    .bind(new.text)
    .bind(new.in_reply_to)
    .bind(new.references)
    .bind(new.written_at)
    .bind(now)
    .bind(new.source.as_str())
    .bind(new.raw.len() as i64)
    .bind(new.room_id.map(|_| now))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    sqlx::query("INSERT INTO inbound_raw (message_id, raw) VALUES ($1, $2)")
        .bind(id)
        .bind(new.raw.to_vec())
        .execute(&mut *conn)
        .await?;
    for (position, attachment) in new.attachments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inbound_attachments (message_id, position, filename, content_type, size_bytes, content) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(position as i64 + 1)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(attachment.content.len() as i64)
        .bind(attachment.content.clone())
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(id))
}

/// The id already filed under `dedupe_key`, if any.
pub async fn filed_as(conn: &mut AnyConnection, dedupe_key: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM inbound_messages WHERE dedupe_key = $1")
        .bind(dedupe_key)
        .fetch_optional(conn)
        .await
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Received>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_messages m WHERE m.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(from_row)
    .transpose()
}

/// The room's received messages, newest first.
pub async fn for_room(
    conn: &mut AnyConnection,
    room_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Received>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_messages m WHERE m.room_id = $1 AND m.state = 'filed' \
         ORDER BY m.received_at DESC, m.id DESC LIMIT $2"
    ))
    .bind(room_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(from_row)
    .collect()
}

/// The messages no room took, oldest first (the admin queue).
pub async fn unmatched(conn: &mut AnyConnection, limit: i64) -> sqlx::Result<Vec<Received>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_messages m WHERE m.state = 'unmatched' \
         ORDER BY m.received_at, m.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(from_row)
    .collect()
}

pub async fn count_unmatched(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM inbound_messages WHERE state = 'unmatched'")
        .fetch_one(conn)
        .await
}

/// An attachment's name, type and size (its bytes stay in the database until downloaded).
#[derive(Clone, Debug)]
pub struct AttachmentInfo {
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

impl AttachmentInfo {
    pub fn size(&self) -> String {
        human_size(self.size_bytes)
    }
}

/// "812 bytes", "14 KB", "2.3 MB".
pub fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{} KB", (b + 512) / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

pub async fn attachments(
    conn: &mut AnyConnection,
    message_id: i64,
) -> sqlx::Result<Vec<AttachmentInfo>> {
    let rows = sqlx::query(
        "SELECT position, filename, content_type, size_bytes FROM inbound_attachments \
         WHERE message_id = $1 ORDER BY position",
    )
    .bind(message_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(AttachmentInfo {
                position: row.try_get(0)?,
                filename: row.try_get(1)?,
                content_type: row.try_get(2)?,
                size_bytes: row.try_get(3)?,
            })
        })
        .collect()
}

/// One attachment's name and bytes.
pub async fn attachment_content(
    conn: &mut AnyConnection,
    message_id: i64,
    position: i64,
) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query(
        "SELECT filename, content FROM inbound_attachments WHERE message_id = $1 AND position = $2",
    )
    .bind(message_id)
    .bind(position)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
}

/// The exact bytes received.
pub async fn raw(conn: &mut AnyConnection, message_id: i64) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT raw FROM inbound_raw WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(conn)
        .await
}

/// Files an unmatched message into a room (an admin's decision).
pub async fn file_into_room(
    tx: &mut RoomTx,
    id: i64,
    room_id: i64,
    contact_id: Option<i64>,
    by: i64,
    now: Millis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE inbound_messages SET state = 'filed', room_id = $1, contact_id = $2, \
         matched_by = 'admin', filed_by = $3, filed_at = $4 WHERE id = $5 AND state = 'unmatched'",
    )
    .bind(room_id)
    .bind(contact_id)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Discards an unmatched message (it stays stored, out of the queue).
pub async fn discard(tx: &mut RoomTx, id: i64, by: i64, now: Millis) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE inbound_messages SET state = 'discarded', filed_by = $1, filed_at = $2 \
         WHERE id = $3 AND state = 'unmatched'",
    )
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The rooms of the customer emails Accord sent with these Message-IDs.
pub async fn rooms_of_sent(
    conn: &mut AnyConnection,
    message_ids: &[String],
) -> sqlx::Result<Vec<(String, i64)>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=message_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT message_id, room_id FROM outbox WHERE kind = 'customer' AND room_id IS NOT NULL \
         AND message_id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in message_ids {
        query = query.bind(id);
    }
    query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// The room whose reply address carries `token`.
pub async fn room_of_token(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM rooms WHERE reply_token = $1")
        .bind(token)
        .fetch_optional(conn)
        .await
}

/// The first customer email of the room: every email Accord sends there follows it in one thread.
pub async fn room_thread_root(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<String> {
    let first: Option<String> = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE room_id = $1 AND kind = 'customer' ORDER BY id LIMIT 1",
    )
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    Ok(first.unwrap_or_default())
}
