//! Outreach pauses: a room-wide hold on customer email, with reason, who set it and optional end.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;

#[derive(Clone, Debug)]
pub struct Pause {
    pub id: i64,
    pub reason: String,
    pub set_by: String,
    pub set_at: Millis,
    pub until: Option<Millis>,
}

impl Pause {
    /// In force at `now`: not ended, and its end time (if any) not reached.
    pub fn is_active(&self, now: Millis) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// The room's pause in force at `now`, if any (an expired pause ends by itself).
pub async fn active(
    conn: &mut AnyConnection,
    room_id: i64,
    now: Millis,
) -> sqlx::Result<Option<Pause>> {
    Ok(unended(conn, room_id)
        .await?
        .filter(|pause| pause.is_active(now)))
}

/// The room's latest pause that nobody ended; it may have run out by itself (see `is_active`).
pub async fn unended(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Option<Pause>> {
    let row = sqlx::query(
        "SELECT p.id, p.reason, u.name, p.set_at, p.until FROM outreach_pauses p JOIN users u ON u.id = p.set_by \
         WHERE p.room_id = $1 AND p.ended_at IS NULL ORDER BY p.id DESC LIMIT 1",
    )
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Pause {
            id: row.try_get(0)?,
            reason: row.try_get(1)?,
            set_by: row.try_get(2)?,
            set_at: row.try_get(3)?,
            until: row.try_get(4)?,
        })
    })
    .transpose()
}

pub async fn insert(
    tx: &mut RoomTx,
    room_id: i64,
    reason: &str,
    by: i64,
    until: Option<Millis>,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE outreach_pauses SET ended_at = $1, ended_by = $2 WHERE room_id = $3 AND ended_at IS NULL")
        .bind(now)
        .bind(by)
        .bind(room_id)
        .execute(tx.room(room_id))
        .await?;
    sqlx::query("INSERT INTO outreach_pauses (room_id, reason, set_by, set_at, until) VALUES ($1, $2, $3, $4, $5)")
        .bind(room_id)
        .bind(reason)
        .bind(by)
        .bind(now)
        .bind(until)
        .execute(tx.room(room_id))
        .await?;
    Ok(())
}

pub async fn end(tx: &mut RoomTx, pause_id: i64, by: i64, now: Millis) -> sqlx::Result<()> {
    sqlx::query("UPDATE outreach_pauses SET ended_at = $1, ended_by = $2 WHERE id = $3")
        .bind(now)
        .bind(by)
        .bind(pause_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_with_an_end_time_ends_by_itself() {
        let pause = Pause {
            id: 1,
            reason: "Waiting for the fix".into(),
            set_by: "Dana".into(),
            set_at: 0,
            until: Some(100),
        };
        assert!(pause.is_active(99));
        assert!(!pause.is_active(100));
        let open_ended = Pause {
            until: None,
            ..pause
        };
        assert!(open_ended.is_active(i64::MAX));
    }
}
