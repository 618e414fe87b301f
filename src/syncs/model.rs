//! The queries over `syncs` and `sync_items`, and the room's sync cadence: when the team meets
//! next, the syncs held with their minutes, and what the last one left undiscussed.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::rooms::model::Severity;

/// Hours between two syncs when the room names none: S1 daily, S2 twice a week, S3 weekly.
pub fn default_every_hours(severity: Severity) -> i64 {
    match severity {
        Severity::S1 => 24,
        Severity::S2 => 84,
        Severity::S3 => 168,
    }
}

/// The room's sync settings: its own cadence (if any) and the next sync's time (if set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub every_hours: Option<i64>,
    pub next_at: Option<Millis>,
}

pub async fn schedule(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Schedule> {
    let row = sqlx::query("SELECT sync_every_hours, next_sync_at FROM rooms WHERE id = $1")
        .bind(room_id)
        .fetch_one(conn)
        .await?;
    Ok(Schedule {
        every_hours: row.try_get(0)?,
        next_at: row.try_get(1)?,
    })
}

pub async fn set_schedule(tx: &mut RoomTx, room_id: i64, schedule: Schedule) -> sqlx::Result<()> {
    sqlx::query("UPDATE rooms SET sync_every_hours = $1, next_sync_at = $2 WHERE id = $3")
        .bind(schedule.every_hours)
        .bind(schedule.next_at)
        .bind(room_id)
        .execute(tx.room(room_id))
        .await?;
    Ok(())
}

/// A sync held, with its minutes.
#[derive(Clone, Debug)]
pub struct Held {
    pub id: i64,
    pub held_at: Millis,
    pub taken_by: String,
    pub notes: String,
    pub next_steps: String,
    /// Each agenda item's words and whether it was discussed.
    pub items: Vec<(String, bool)>,
}

impl Held {
    pub fn discussed(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(_, d)| *d)
            .map(|(l, _)| l.as_str())
            .collect()
    }

    pub fn carried_over(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(_, d)| !*d)
            .map(|(l, _)| l.as_str())
            .collect()
    }
}

/// The room's latest syncs, newest first, with their items.
pub async fn past(conn: &mut AnyConnection, room_id: i64, limit: i64) -> sqlx::Result<Vec<Held>> {
    let rows = sqlx::query(
        "SELECT s.id, s.held_at, u.name, s.notes, s.next_steps FROM syncs s \
         JOIN users u ON u.id = s.taken_by WHERE s.room_id = $1 ORDER BY s.id DESC LIMIT $2",
    )
    .bind(room_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut held = rows
        .iter()
        .map(|row| {
            Ok(Held {
                id: row.try_get(0)?,
                held_at: row.try_get(1)?,
                taken_by: row.try_get(2)?,
                notes: row.try_get(3)?,
                next_steps: row.try_get(4)?,
                items: Vec::new(),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let items = sqlx::query(
        "SELECT i.sync_id, i.label, i.discussed FROM sync_items i JOIN syncs s ON s.id = i.sync_id \
         WHERE s.room_id = $1 ORDER BY i.sync_id, i.item_key",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    for row in &items {
        let sync: i64 = row.try_get(0)?;
        if let Some(h) = held.iter_mut().find(|h| h.id == sync) {
            h.items
                .push((row.try_get(1)?, row.try_get::<i64, _>(2)? == 1));
        }
    }
    Ok(held)
}

/// The keys the room's last sync left undiscussed: they carry over.
pub async fn carried(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT i.item_key FROM sync_items i WHERE i.discussed = 0 AND i.sync_id = \
         (SELECT MAX(id) FROM syncs WHERE room_id = $1)",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await
}

/// One agenda item as it stood: its key, its words, whether it was discussed.
pub struct Minuted<'a> {
    pub key: &'a str,
    pub label: &'a str,
    pub discussed: bool,
}

/// Records a sync held now by `taken_by`, with its notes, next steps and items.
pub async fn insert(
    tx: &mut RoomTx,
    room_id: i64,
    taken_by: i64,
    (notes, next_steps): (&str, &str),
    items: &[Minuted<'_>],
    now: Millis,
) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO syncs (room_id, held_at, taken_by, notes, next_steps) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(room_id)
    .bind(now)
    .bind(taken_by)
    .bind(notes)
    .bind(next_steps)
    .fetch_one(tx.room(room_id))
    .await?;
    for item in items {
        sqlx::query(
            "INSERT INTO sync_items (sync_id, item_key, label, discussed) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sync_id, item_key) DO NOTHING",
        )
        .bind(id)
        .bind(item.key)
        .bind(item.label)
        .bind(i64::from(item.discussed))
        .execute(tx.room(room_id))
        .await?;
    }
    Ok(id)
}
