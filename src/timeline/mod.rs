//! The timeline: the append-only record of everything that happened in a room, written in the
//! same transaction as the change it describes (refused attempts included, by later issues).
//!
//! Kinds read `category.verb` (`decisions.proposed`), so filtering by category is a range scan on
//! the `(room_id, kind, id)` index.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    /// The groups the timeline can be filtered by.
    pub enum Category {
        Room = "room" => "Room",
        Members = "members" => "Members and roles",
        Workstreams = "workstreams" => "Workstreams",
        Decisions = "decisions" => "Decisions",
        Questions = "questions" => "Questions",
        Contacts = "contacts" => "Contact log",
        Engagements = "engagements" => "Calls and meetings",
        Drafts = "drafts" => "Customer email",
        Outreach = "outreach" => "Outreach",
        Updates = "updates" => "Leadership updates",
    }
}

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: i64,
    pub at: Millis,
    pub actor: Option<String>,
    pub kind: String,
    pub summary: String,
    pub link: String,
}

impl Event {
    /// The category part of the kind, for the label next to the event.
    pub fn category(&self) -> Option<Category> {
        self.kind.split('.').next().and_then(Category::parse)
    }
}

/// Appends an event. `kind` is `category.verb`; `link` is a path inside the room, or empty.
pub async fn record(
    tx: &mut RoomTx,
    room_id: i64,
    actor: Option<i64>,
    kind: &str,
    summary: &str,
    link: &str,
    at: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO timeline_events (room_id, at, actor_user_id, kind, summary, link) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(room_id)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(summary)
    .bind(link)
    .execute(tx.room(room_id))
    .await?;
    crate::webhooks::events::queue(tx, room_id, (kind, summary, link), at).await?;
    Ok(())
}

/// Newest first, `limit` events older than `before` (an event id), optionally one category.
pub async fn page(
    conn: &mut AnyConnection,
    room_id: i64,
    category: Option<Category>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Event>> {
    let (from, to) = match category {
        Some(category) => (
            format!("{}.", category.as_str()),
            format!("{}/", category.as_str()),
        ),
        None => (String::new(), "\u{10FFFF}".to_owned()),
    };
    let rows = sqlx::query(
        "SELECT e.id, e.at, u.name, e.kind, e.summary, e.link FROM timeline_events e \
         LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.room_id = $1 AND e.kind >= $2 AND e.kind < $3 AND e.id < $4 \
         ORDER BY e.id DESC LIMIT $5",
    )
    .bind(room_id)
    .bind(from)
    .bind(to)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Event {
                id: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                kind: row.try_get(3)?,
                summary: row.try_get(4)?,
                link: row.try_get(5)?,
            })
        })
        .collect()
}
