//! Drafts and their numbered revisions. Every save is a new revision; the draft points at the
//! current one and, once queued, at its outbox row.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::outbox::model::OutboxState;
use crate::rooms::change::RoomTx;
use crate::web::forms::required_text;

#[derive(Clone, Debug)]
pub struct Draft {
    pub id: i64,
    pub room_id: i64,
    pub created_by: i64,
    pub current_revision: i64,
    pub outbox_id: Option<i64>,
    /// The received message this draft answers ("Reply" on it), if any.
    pub replies_to_message: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Revision {
    pub number: i64,
    pub to_ids: Vec<i64>,
    pub cc_ids: Vec<i64>,
    pub subject: String,
    pub body: String,
    pub author_id: i64,
    pub author: String,
    pub created_at: Millis,
}

impl Revision {
    pub fn recipient_ids(&self) -> Vec<i64> {
        self.to_ids.iter().chain(&self.cc_ids).copied().collect()
    }
}

/// The fields a save writes.
/// A customer email's subject: 1 to 200 characters, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: &str) -> Result<Subject, String> {
        required_text(raw, 200, "Write a subject.").map(Subject)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer email's body: 1 to 20,000 characters, trimmed. What PMs align on, to the letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    pub fn parse(raw: &str) -> Result<Body, String> {
        required_text(raw, 20_000, "Write the message.").map(Body)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct Content<'a> {
    pub to_ids: &'a [i64],
    pub cc_ids: &'a [i64],
    pub subject: &'a str,
    pub body: &'a str,
}

fn ids(list: &[i64]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_ids(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|s| s.parse().ok()).collect()
}

pub async fn create(
    tx: &mut RoomTx,
    room_id: i64,
    author: i64,
    replies_to_message: Option<i64>,
    now: Millis,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO drafts (room_id, created_by, created_at, current_revision, replies_to_message) \
         VALUES ($1, $2, $3, 0, $4) RETURNING id",
    )
    .bind(room_id)
    .bind(author)
    .bind(now)
    .bind(replies_to_message)
    .fetch_one(tx.room(room_id))
    .await
}

/// Saves a new revision and makes it current; returns its number.
pub async fn add_revision(
    tx: &mut RoomTx,
    draft_id: i64,
    content: &Content<'_>,
    author: i64,
    now: Millis,
) -> sqlx::Result<i64> {
    let number: i64 = sqlx::query_scalar("UPDATE drafts SET current_revision = current_revision + 1 WHERE id = $1 RETURNING current_revision")
        .bind(draft_id)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO draft_revisions (draft_id, number, to_ids, cc_ids, subject, body, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(draft_id)
    .bind(number)
    .bind(ids(content.to_ids))
    .bind(ids(content.cc_ids))
    .bind(content.subject)
    .bind(content.body)
    .bind(author)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(number)
}

pub async fn find(conn: &mut AnyConnection, room_id: i64, id: i64) -> sqlx::Result<Option<Draft>> {
    let row = sqlx::query("SELECT id, room_id, created_by, current_revision, outbox_id, replies_to_message FROM drafts WHERE room_id = $1 AND id = $2")
        .bind(room_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        Ok(Draft {
            id: row.try_get(0)?,
            room_id: row.try_get(1)?,
            created_by: row.try_get(2)?,
            current_revision: row.try_get(3)?,
            outbox_id: row.try_get(4)?,
            replies_to_message: row.try_get(5)?,
        })
    })
    .transpose()
}

const REVISION: &str = "SELECT r.number, r.to_ids, r.cc_ids, r.subject, r.body, r.author_id, u.name, r.created_at \
     FROM draft_revisions r JOIN users u ON u.id = r.author_id";

fn revision_from(row: sqlx::any::AnyRow) -> sqlx::Result<Revision> {
    let (to, cc): (String, String) = (row.try_get(1)?, row.try_get(2)?);
    Ok(Revision {
        number: row.try_get(0)?,
        to_ids: parse_ids(&to),
        cc_ids: parse_ids(&cc),
        subject: row.try_get(3)?,
        body: row.try_get(4)?,
        author_id: row.try_get(5)?,
        author: row.try_get(6)?,
        created_at: row.try_get(7)?,
    })
}

pub async fn revision(
    conn: &mut AnyConnection,
    draft_id: i64,
    number: i64,
) -> sqlx::Result<Option<Revision>> {
    let row = sqlx::query(&format!(
        "{REVISION} WHERE r.draft_id = $1 AND r.number = $2"
    ))
    .bind(draft_id)
    .bind(number)
    .fetch_optional(conn)
    .await?;
    row.map(revision_from).transpose()
}

pub async fn revisions(conn: &mut AnyConnection, draft_id: i64) -> sqlx::Result<Vec<Revision>> {
    let rows = sqlx::query(&format!(
        "{REVISION} WHERE r.draft_id = $1 ORDER BY r.number DESC"
    ))
    .bind(draft_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(revision_from).collect()
}

pub async fn set_outbox(tx: &mut RoomTx, draft_id: i64, outbox_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE drafts SET outbox_id = $1 WHERE id = $2")
        .bind(outbox_id)
        .bind(draft_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Keeps a refused send with the kinds of its blockers (`gate::reasons`).
pub async fn record_blocked_send(
    tx: &mut RoomTx,
    room_id: i64,
    draft_id: i64,
    by: i64,
    reasons: &str,
    at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO blocked_sends (room_id, draft_id, by_user_id, blocked_at, reasons) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(room_id)
    .bind(draft_id)
    .bind(by)
    .bind(at)
    .bind(reasons)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// A draft as the room page lists it.
#[derive(Clone, Debug)]
pub struct Summary {
    pub id: i64,
    pub subject: String,
    pub revision: i64,
    pub state: Option<OutboxState>,
}

pub async fn for_room(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Summary>> {
    let rows = sqlx::query(
        "SELECT d.id, r.subject, d.current_revision, o.state FROM drafts d \
         JOIN draft_revisions r ON r.draft_id = d.id AND r.number = d.current_revision \
         LEFT JOIN outbox o ON o.id = d.outbox_id WHERE d.room_id = $1 ORDER BY d.id DESC",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Summary {
                id: row.try_get(0)?,
                subject: row.try_get(1)?,
                revision: row.try_get(2)?,
                state: row
                    .try_get::<Option<String>, _>(3)?
                    .as_deref()
                    .and_then(OutboxState::parse),
            })
        })
        .collect()
}
