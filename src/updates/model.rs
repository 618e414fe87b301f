//! Leadership updates and their revisions, and the published, frozen pre-reads.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    /// The overall status a leadership update reports.
    pub enum OverallStatus {
        OnTrack = "on_track" => "On track",
        AtRisk = "at_risk" => "At risk",
        OffTrack = "off_track" => "Off track",
    }
}

#[derive(Clone, Debug)]
pub struct Update {
    pub id: i64,
    pub room_id: i64,
    pub current_revision: i64,
    pub published_version: Option<i64>,
}

/// The fields of one revision (and of a pre-read, which freezes one).
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub status: String,
    pub headline: String,
    pub what_changed: String,
    pub decisions: String,
    pub risks: String,
    pub asks: String,
    pub next_due: Option<Millis>,
}

impl Body {
    pub fn status(&self) -> OverallStatus {
        OverallStatus::parse(&self.status).unwrap_or(OverallStatus::OnTrack)
    }
}

#[derive(Clone, Debug)]
pub struct Revision {
    pub number: i64,
    pub body: Body,
    pub author: String,
    pub created_at: Millis,
}

pub async fn create(tx: &mut RoomTx, room_id: i64, by: i64, now: Millis) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO leadership_updates (room_id, created_by, created_at, current_revision) VALUES ($1, $2, $3, 0) RETURNING id",
    )
    .bind(room_id)
    .bind(by)
    .bind(now)
    .fetch_one(tx.room(room_id))
    .await
}

pub async fn add_revision(
    tx: &mut RoomTx,
    update_id: i64,
    body: &Body,
    by: i64,
    now: Millis,
) -> sqlx::Result<i64> {
    let number: i64 = sqlx::query_scalar(
        "UPDATE leadership_updates SET current_revision = current_revision + 1 WHERE id = $1 RETURNING current_revision",
    )
    .bind(update_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO update_revisions (update_id, number, status, headline, what_changed, decisions, risks, asks, \
         next_due, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(update_id)
    .bind(number)
    .bind(&body.status)
    .bind(&body.headline)
    .bind(&body.what_changed)
    .bind(&body.decisions)
    .bind(&body.risks)
    .bind(&body.asks)
    .bind(body.next_due)
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(number)
}

fn update_from(row: sqlx::any::AnyRow) -> sqlx::Result<Update> {
    Ok(Update {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        current_revision: row.try_get(2)?,
        published_version: row.try_get(3)?,
    })
}

pub async fn find(conn: &mut AnyConnection, room_id: i64, id: i64) -> sqlx::Result<Option<Update>> {
    let row = sqlx::query("SELECT id, room_id, current_revision, published_version FROM leadership_updates WHERE room_id = $1 AND id = $2")
        .bind(room_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(update_from).transpose()
}

/// The room's update being prepared (not yet published), if any.
pub async fn in_progress(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Option<Update>> {
    let row = sqlx::query(
        "SELECT id, room_id, current_revision, published_version FROM leadership_updates \
         WHERE room_id = $1 AND published_version IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    row.map(update_from).transpose()
}

pub async fn revision(
    conn: &mut AnyConnection,
    update_id: i64,
    number: i64,
) -> sqlx::Result<Option<Revision>> {
    let row = sqlx::query(
        "SELECT r.number, r.status, r.headline, r.what_changed, r.decisions, r.risks, r.asks, r.next_due, u.name, r.created_at \
         FROM update_revisions r JOIN users u ON u.id = r.author_id WHERE r.update_id = $1 AND r.number = $2",
    )
    .bind(update_id)
    .bind(number)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Revision {
            number: row.try_get(0)?,
            body: Body {
                status: row.try_get(1)?,
                headline: row.try_get(2)?,
                what_changed: row.try_get(3)?,
                decisions: row.try_get(4)?,
                risks: row.try_get(5)?,
                asks: row.try_get(6)?,
                next_due: row.try_get(7)?,
            },
            author: row.try_get(8)?,
            created_at: row.try_get(9)?,
        })
    })
    .transpose()
}

pub async fn mark_published(tx: &mut RoomTx, update_id: i64, version: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE leadership_updates SET published_version = $1 WHERE id = $2")
        .bind(version)
        .bind(update_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A published, frozen pre-read.
#[derive(Clone, Debug)]
pub struct PreRead {
    pub room_id: i64,
    pub version: i64,
    pub revision: i64,
    pub body: Body,
    pub snapshot: String,
    pub published_by: String,
    pub published_at: Millis,
}

const PRE_READ: &str = "SELECT p.room_id, p.version, p.revision, p.status, p.headline, p.what_changed, p.decisions, p.risks, \
     p.asks, p.next_due, p.snapshot, u.name, p.published_at FROM pre_reads p JOIN users u ON u.id = p.published_by";

fn pre_read_from(row: sqlx::any::AnyRow) -> sqlx::Result<PreRead> {
    Ok(PreRead {
        room_id: row.try_get(0)?,
        version: row.try_get(1)?,
        revision: row.try_get(2)?,
        body: Body {
            status: row.try_get(3)?,
            headline: row.try_get(4)?,
            what_changed: row.try_get(5)?,
            decisions: row.try_get(6)?,
            risks: row.try_get(7)?,
            asks: row.try_get(8)?,
            next_due: row.try_get(9)?,
        },
        snapshot: row.try_get(10)?,
        published_by: row.try_get(11)?,
        published_at: row.try_get(12)?,
    })
}

/// Version `version` of the room's pre-read, or the latest when `None`.
pub async fn pre_read(
    conn: &mut AnyConnection,
    room_id: i64,
    version: Option<i64>,
) -> sqlx::Result<Option<PreRead>> {
    let sql = match version {
        Some(_) => format!("{PRE_READ} WHERE p.room_id = $1 AND p.version = $2"),
        None => {
            format!("{PRE_READ} WHERE p.room_id = $1 AND $2 = 0 ORDER BY p.version DESC LIMIT 1")
        }
    };
    let row = sqlx::query(&sql)
        .bind(room_id)
        .bind(version.unwrap_or(0))
        .fetch_optional(conn)
        .await?;
    row.map(pre_read_from).transpose()
}

pub struct NewPreRead<'a> {
    pub room_id: i64,
    pub update_id: i64,
    pub revision: i64,
    pub body: &'a Body,
    pub snapshot: &'a str,
    pub published_by: i64,
}

/// Freezes a revision as the next version; returns the version number.
pub async fn publish(tx: &mut RoomTx, new: &NewPreRead<'_>, now: Millis) -> sqlx::Result<i64> {
    let version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM pre_reads WHERE room_id = $1",
    )
    .bind(new.room_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO pre_reads (room_id, version, update_id, revision, status, headline, what_changed, decisions, risks, \
         asks, next_due, snapshot, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(new.room_id)
    .bind(version)
    .bind(new.update_id)
    .bind(new.revision)
    .bind(&new.body.status)
    .bind(&new.body.headline)
    .bind(&new.body.what_changed)
    .bind(&new.body.decisions)
    .bind(&new.body.risks)
    .bind(&new.body.asks)
    .bind(new.body.next_due)
    .bind(new.snapshot)
    .bind(new.published_by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(version)
}
