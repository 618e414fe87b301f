//! Workstreams: a slice of the work with exactly one driver, any navigators, and one voice who
//! speaks to the customer on its topic in calls and meetings (the driver unless someone else is
//! named).

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    pub enum WorkstreamStatus {
        Planned = "planned" => "Planned",
        Active = "active" => "Active",
        Blocked = "blocked" => "Blocked",
        Done = "done" => "Done",
    }
}

#[derive(Clone, Debug)]
pub struct Workstream {
    pub id: i64,
    pub title: String,
    pub driver_user_id: i64,
    pub driver_name: String,
    /// Who speaks on this topic: the named voice, or the driver.
    pub voice_user_id: i64,
    pub voice_name: String,
    pub status: WorkstreamStatus,
    pub next_step: String,
    pub due_at: Option<Millis>,
    pub navigators: Vec<(i64, String)>,
}

impl Workstream {
    pub fn is_overdue(&self, now: Millis) -> bool {
        self.status != WorkstreamStatus::Done && self.due_at.is_some_and(|due| due < now)
    }

    pub fn has_navigator(&self, user_id: &i64) -> bool {
        self.navigators.iter().any(|(id, _)| id == user_id)
    }

    pub fn navigator_names(&self) -> String {
        let names: Vec<&str> = self
            .navigators
            .iter()
            .map(|(_, name)| name.as_str())
            .collect();
        names.join(", ")
    }
}

/// The fields a form sets.
pub struct WorkstreamFields<'a> {
    pub title: &'a str,
    pub driver_user_id: i64,
    pub status: WorkstreamStatus,
    pub next_step: &'a str,
    pub due_at: Option<Millis>,
    pub navigators: &'a [i64],
    /// `None`: the driver speaks (and keeps speaking when the driver changes).
    pub voice_user_id: Option<i64>,
}

pub async fn list(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Workstream>> {
    let rows = sqlx::query(
        "SELECT w.id, w.title, w.driver_user_id, u.name, w.status, w.next_step, w.due_at, v.id, v.name \
         FROM workstreams w JOIN users u ON u.id = w.driver_user_id \
         JOIN users v ON v.id = COALESCE(w.voice_user_id, w.driver_user_id) \
         WHERE w.room_id = $1 ORDER BY w.id",
    )
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?;
    let navigators = sqlx::query(
        "SELECT n.workstream_id, n.user_id, u.name FROM workstream_navigators n \
         JOIN workstreams w ON w.id = n.workstream_id JOIN users u ON u.id = n.user_id \
         WHERE w.room_id = $1 ORDER BY u.name",
    )
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        let status: String = row.try_get(4)?;
        let id: i64 = row.try_get(0)?;
        let mut names = Vec::new();
        for nav in &navigators {
            if nav.try_get::<i64, _>(0)? == id {
                names.push((nav.try_get(1)?, nav.try_get(2)?));
            }
        }
        list.push(Workstream {
            id,
            title: row.try_get(1)?,
            driver_user_id: row.try_get(2)?,
            driver_name: row.try_get(3)?,
            voice_user_id: row.try_get(7)?,
            voice_name: row.try_get(8)?,
            status: WorkstreamStatus::parse(&status).unwrap_or(WorkstreamStatus::Planned),
            next_step: row.try_get(5)?,
            due_at: row.try_get(6)?,
            navigators: names,
        });
    }
    Ok(list)
}

pub async fn insert(
    tx: &mut RoomTx,
    room_id: i64,
    fields: &WorkstreamFields<'_>,
    now: Millis,
) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO workstreams (room_id, title, driver_user_id, status, next_step, due_at, \
         created_at, updated_at, voice_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
    )
    .bind(room_id)
    .bind(fields.title)
    .bind(fields.driver_user_id)
    .bind(fields.status.as_str())
    .bind(fields.next_step)
    .bind(fields.due_at)
    .bind(now)
    .bind(fields.voice_user_id)
    .fetch_one(tx.room(room_id))
    .await?;
    set_navigators(tx, id, fields.navigators).await?;
    Ok(id)
}

pub async fn update(
    tx: &mut RoomTx,
    id: i64,
    fields: &WorkstreamFields<'_>,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE workstreams SET title = $1, driver_user_id = $2, status = $3, next_step = $4, \
         due_at = $5, updated_at = $6, voice_user_id = $7 WHERE id = $8",
    )
    .bind(fields.title)
    .bind(fields.driver_user_id)
    .bind(fields.status.as_str())
    .bind(fields.next_step)
    .bind(fields.due_at)
    .bind(now)
    .bind(fields.voice_user_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    set_navigators(tx, id, fields.navigators).await
}

async fn set_navigators(tx: &mut RoomTx, id: i64, navigators: &[i64]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM workstream_navigators WHERE workstream_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for user_id in navigators {
        sqlx::query(
            "INSERT INTO workstream_navigators (workstream_id, user_id) VALUES ($1, $2) \
             ON CONFLICT (workstream_id, user_id) DO NOTHING",
        )
        .bind(id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Titles of the workstreams `user_id` drives in the room.
pub async fn driven_by(
    conn: &mut AnyConnection,
    room_id: i64,
    user_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT title FROM workstreams WHERE room_id = $1 AND driver_user_id = $2 ORDER BY id",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Removes a leaving member from the navigators of the room's workstreams, and gives the topics
/// they spoke on back to their drivers.
pub async fn drop_navigator(tx: &mut RoomTx, room_id: i64, user_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE workstreams SET voice_user_id = NULL WHERE room_id = $1 AND voice_user_id = $2",
    )
    .bind(room_id)
    .bind(user_id)
    .execute(tx.room(room_id))
    .await?;
    sqlx::query(
        "DELETE FROM workstream_navigators WHERE user_id = $1 AND workstream_id IN \
         (SELECT id FROM workstreams WHERE room_id = $2)",
    )
    .bind(user_id)
    .bind(room_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
