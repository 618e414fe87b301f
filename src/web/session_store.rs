//! Sessions live in the database (table `sessions`), so they survive a restart and are shared by
//! every Accord instance. A tower-sessions store over Accord's own `Any` pools: one pool, one
//! migration set, both backends. The signed-in user's id gets its own column so deactivating a
//! user can end every one of their sessions at once. Loading a session reads its user's row in
//! the same query and hands it over under `SESSION_USER_AT_LOAD`, which is never stored.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

use crate::accounts::{SESSION_USER_AT_LOAD, SESSION_USER_ID, UserAtLoad};
use crate::db::Db;
use crate::db::lanes::Param;
use crate::rooms::in_view;

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> DbSessionStore {
        DbSessionStore { db }
    }

    /// Removes sessions past their expiry; run periodically.
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(self.db.writer())
            .await?;
        Ok(result.rows_affected())
    }
}

/// Ends every session of a user (deactivation).
pub async fn delete_sessions_of<'e, E>(executor: E, user_id: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// tower-sessions speaks the `time` crate; Accord's own code uses chrono and epoch milliseconds,
/// so `time` appears only in these two conversions.
fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn backend(error: impl std::fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

fn encode(record: &Record) -> Result<(String, Option<i64>)> {
    let mut stored = record.data.clone();
    stored.remove(SESSION_USER_AT_LOAD);
    let data = serde_json::to_string(&stored).map_err(|e| Error::Encode(e.to_string()))?;
    let user_id = record
        .data
        .get(SESSION_USER_ID)
        .and_then(serde_json::Value::as_i64);
    Ok((data, user_id))
}

/// The user columns of a session row (all NULL for a session nobody signed in to).
/// The statement that loads a session with its user, and the one that also joins the room a
/// page is about (`rooms::in_view`); each is built once.
fn load_statement(room_in_view: bool) -> &'static str {
    fn statement(room_columns: &str, room_joins: &str) -> String {
        format!(
            "SELECT s.data, s.expires_at, u.id AS user_id_at_load, u.name AS user_name, \
             u.email AS user_email, u.is_admin AS user_is_admin, u.is_active AS user_is_active, \
             u.time_zone AS user_time_zone, u.needs_stamp AS user_needs_stamp{room_columns} \
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id {room_joins} \
             WHERE s.id = $1 AND s.expires_at > $2"
        )
    }
    static SESSION: LazyLock<String> = LazyLock::new(|| statement("", ""));
    static SESSION_AND_ROOM: LazyLock<String> = LazyLock::new(|| {
        let (columns, joins) = in_view::select();
        statement(&format!(", {columns}"), joins)
    });
    match room_in_view {
        true => &SESSION_AND_ROOM,
        false => &SESSION,
    }
}

fn user_at_load(row: &sqlx::any::AnyRow) -> sqlx::Result<Option<UserAtLoad>> {
    let Some(id) = row.try_get::<Option<i64>, _>(2)? else {
        return Ok(None);
    };
    Ok(Some(UserAtLoad {
        id,
        name: row.try_get(3)?,
        email: row.try_get(4)?,
        is_admin: row.try_get::<i64, _>(5)? == 1,
        is_active: row.try_get::<i64, _>(6)? == 1,
        time_zone: row.try_get(7)?,
        needs_stamp: Some(row.try_get(8)?),
    }))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let (data, user_id) = encode(record)?;
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(user_id)
            .bind(&data)
            .bind(millis(record.expiry_date))
            .execute(self.db.writer())
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let (data, user_id) = encode(record)?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(user_id)
        .bind(data)
        .bind(millis(record.expiry_date))
        .execute(self.db.writer())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        // A page about one room reads it here too: one statement proves session, user,
        // membership and room version (`rooms::in_view`).
        let room = in_view::requested();
        let now = chrono::Utc::now().timestamp_millis();
        let mut params = vec![Param::Text(id.to_string()), Param::Int(now)];
        params.extend(room.map(Param::Int));
        let row = self
            .db
            .lanes()
            .fetch_optional(load_statement(room.is_some()), &params)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0).map_err(backend)?;
        let expires_at: i64 = row.try_get(1).map_err(backend)?;
        let mut data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let user = user_at_load(&row).map_err(backend)?;
        if room.is_some() {
            in_view::remember(user.as_ref().map(|u| u.id), &row).map_err(backend)?;
        }
        if let Some(user) = user {
            let user = serde_json::to_value(user).map_err(|e| Error::Encode(e.to_string()))?;
            data.insert(SESSION_USER_AT_LOAD.to_owned(), user);
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.db.writer())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
