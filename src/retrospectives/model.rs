//! The queries over `retrospectives` and `retro_alignments`: freezing one at close, reading the
//! latest, writing its two fields (a new revision), and the PMs' alignments on it.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;

/// Timeline kinds that are milestones of a room's story.
pub const MILESTONES: &[&str] = &[
    "room.opened",
    "room.resolved",
    "room.closed",
    "room.reopened",
    "decisions.decided",
    "drafts.sent",
    "updates.published",
    "outreach.paused",
    "outreach.resumed",
    "engagements.outcome",
    "escalations.ruled",
];

/// A retrospective as frozen at close and written since.
#[derive(Clone, Debug)]
pub struct Retrospective {
    pub id: i64,
    pub taken_at: Millis,
    /// (when, what) of each milestone, oldest first.
    pub milestones: Vec<(Millis, String)>,
    /// (measure, value) as they were at close.
    pub measures: Vec<(String, String)>,
    pub went_well: String,
    pub to_change: String,
    /// 0 until the lead first writes it.
    pub revision: i64,
    pub written_by: Option<String>,
}

/// The room's milestones now, oldest first.
pub async fn milestones(
    conn: &mut AnyConnection,
    room_id: i64,
) -> sqlx::Result<Vec<(Millis, String)>> {
    let kinds: Vec<String> = MILESTONES.iter().map(|k| format!("'{k}'")).collect();
    sqlx::query_as(&format!(
        "SELECT at, summary FROM timeline_events WHERE room_id = $1 AND kind IN ({}) ORDER BY at, id",
        kinds.join(", ")
    ))
    .bind(room_id)
    .fetch_all(conn)
    .await
}

/// Freezes a new retrospective for the room (it is closing).
pub async fn freeze(
    tx: &mut RoomTx,
    room_id: i64,
    milestones: &[(Millis, String)],
    measures: &[(String, String)],
    now: Millis,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO retrospectives (room_id, taken_at, milestones, measures) VALUES ($1, $2, $3, $4)",
    )
    .bind(room_id)
    .bind(now)
    .bind(serde_json::to_string(milestones)?)
    .bind(serde_json::to_string(measures)?)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// The room's latest retrospective.
pub async fn latest(
    conn: &mut AnyConnection,
    room_id: i64,
) -> anyhow::Result<Option<Retrospective>> {
    let row = sqlx::query(
        "SELECT r.id, r.taken_at, r.milestones, r.measures, r.went_well, r.to_change, r.revision, u.name \
         FROM retrospectives r LEFT JOIN users u ON u.id = r.written_by \
         WHERE r.room_id = $1 ORDER BY r.id DESC LIMIT 1",
    )
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let milestones: String = row.try_get(2)?;
    let measures: String = row.try_get(3)?;
    Ok(Some(Retrospective {
        id: row.try_get(0)?,
        taken_at: row.try_get(1)?,
        milestones: serde_json::from_str(&milestones)?,
        measures: serde_json::from_str(&measures)?,
        went_well: row.try_get(4)?,
        to_change: row.try_get(5)?,
        revision: row.try_get(6)?,
        written_by: row.try_get(7)?,
    }))
}

/// Saves the lead's two fields as the next revision.
pub async fn write(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    (went_well, to_change): (&str, &str),
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE retrospectives SET went_well = $1, to_change = $2, revision = revision + 1, \
         written_by = $3, written_at = $4 WHERE id = $5",
    )
    .bind(went_well)
    .bind(to_change)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Each PM's aligned revision (user id, revision).
pub async fn alignments(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as("SELECT user_id, revision FROM retro_alignments WHERE retrospective_id = $1")
        .bind(id)
        .fetch_all(conn)
        .await
}

pub async fn align(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    user_id: i64,
    revision: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO retro_alignments (retrospective_id, user_id, revision, aligned_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (retrospective_id, user_id) \
         DO UPDATE SET revision = excluded.revision, aligned_at = excluded.aligned_at",
    )
    .bind(id)
    .bind(user_id)
    .bind(revision)
    .bind(now)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}
