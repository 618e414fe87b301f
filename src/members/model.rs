//! Members of a room and the hand-over history of its single-holder roles.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    /// How someone takes part in a room.
    pub enum MemberKind {
        Pm = "pm" => "Product manager",
        Partner = "partner" => "Partner",
        Leadership = "leadership" => "Leadership",
    }
}

text_enum! {
    /// The single-holder roles of a room.
    pub enum Role {
        Lead = "lead" => "Lead",
        Communicator = "communicator" => "Communicator",
    }
}

#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub title: String,
    pub kind: MemberKind,
}

#[cfg(test)]
impl Member {
    /// A product manager of the room, for unit tests of the rules.
    pub fn pm(user_id: i64, name: &str) -> Member {
        Member {
            user_id,
            name: name.to_owned(),
            title: String::new(),
            kind: MemberKind::Pm,
        }
    }
}

pub async fn list(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.name, u.title, m.kind FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = $1 ORDER BY u.name, u.id",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let kind: String = row.try_get(3)?;
            Ok(Member {
                user_id: row.try_get(0)?,
                name: row.try_get(1)?,
                title: row.try_get(2)?,
                kind: MemberKind::parse(&kind).unwrap_or(MemberKind::Partner),
            })
        })
        .collect()
}

/// Adds a member; `false` when they already are one.
pub async fn insert(
    tx: &mut RoomTx,
    room_id: i64,
    user_id: i64,
    kind: MemberKind,
    added_by: i64,
    now: Millis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO members (room_id, user_id, kind, added_by, added_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(kind.as_str())
    .bind(added_by)
    .bind(now)
    .execute(tx.room(room_id))
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn delete(tx: &mut RoomTx, room_id: i64, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM members WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .execute(tx.room(room_id))
        .await?;
    tx.left(user_id);
    Ok(())
}

/// A recorded hand-over of the lead or the communicator role.
#[derive(Clone, Debug)]
pub struct Handover {
    pub role: Role,
    pub from: String,
    pub to: String,
    pub by: String,
    pub reason: String,
    pub at: Millis,
}

/// A hand-over about to be recorded.
pub struct NewHandover<'a> {
    pub room_id: i64,
    pub role: Role,
    pub from: i64,
    pub to: i64,
    pub by: i64,
    pub reason: &'a str,
}

pub async fn record_handover(tx: &mut RoomTx, h: &NewHandover<'_>, at: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO role_handovers (room_id, role, from_user_id, to_user_id, reason, by_user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(h.room_id)
    .bind(h.role.as_str())
    .bind(h.from)
    .bind(h.to)
    .bind(h.reason)
    .bind(h.by)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn handovers(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Handover>> {
    let rows = sqlx::query(
        "SELECT h.role, f.name, t.name, b.name, h.reason, h.at FROM role_handovers h \
         JOIN users f ON f.id = h.from_user_id JOIN users t ON t.id = h.to_user_id \
         JOIN users b ON b.id = h.by_user_id WHERE h.room_id = $1 ORDER BY h.id DESC",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let role: String = row.try_get(0)?;
            Ok(Handover {
                role: Role::parse(&role).unwrap_or(Role::Lead),
                from: row.try_get(1)?,
                to: row.try_get(2)?,
                by: row.try_get(3)?,
                reason: row.try_get(4)?,
                at: row.try_get(5)?,
            })
        })
        .collect()
}
