//! Decision types (each with exactly one owner) and the decisions recorded against them.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    pub enum DecisionStatus {
        Proposed = "proposed" => "Proposed",
        Decided = "decided" => "Decided",
        Rejected = "rejected" => "Rejected",
        Superseded = "superseded" => "Superseded",
    }
}

/// The types every room opens with. "Customer communication" is owned by the communicator,
/// the rest by the lead.
pub const DEFAULT_TYPES: [&str; 5] = [
    "Product scope",
    "Technical approach",
    "Customer communication",
    "Commercial",
    "Timeline",
];

#[derive(Clone, Debug)]
pub struct DecisionType {
    pub id: i64,
    pub name: String,
    pub owner_user_id: i64,
    pub owner_name: String,
    /// Who settles a disagreement about decisions of this type (`None`: the room's lead).
    pub escalates_to: Option<(i64, String)>,
}

#[derive(Clone, Debug)]
pub struct Decision {
    pub id: i64,
    pub decision_type_id: i64,
    pub type_name: String,
    pub title: String,
    pub rationale: String,
    pub status: DecisionStatus,
    pub proposed_by: String,
    pub proposed_at: Millis,
    pub decided_by: Option<String>,
    pub decided_at: Option<Millis>,
    pub supersedes_id: Option<i64>,
    pub superseded_by_id: Option<i64>,
    /// A PM who contests the proposal, and why.
    pub contested: Option<(String, String)>,
}

pub async fn insert_default_types(
    tx: &mut RoomTx,
    room_id: i64,
    lead: i64,
    communicator: i64,
) -> sqlx::Result<()> {
    for name in DEFAULT_TYPES {
        let owner = if name == "Customer communication" {
            communicator
        } else {
            lead
        };
        insert_type(tx, room_id, name, owner).await?;
    }
    Ok(())
}

/// Adds a type; `None` when the room already has one with this name.
pub async fn insert_type(
    tx: &mut RoomTx,
    room_id: i64,
    name: &str,
    owner: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO decision_types (room_id, name, name_key, owner_user_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (room_id, name_key) DO NOTHING RETURNING id",
    )
    .bind(room_id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(owner)
    .fetch_optional(tx.room(room_id))
    .await
}

/// Renames and reassigns a type; `false` when the new name is taken by another type.
pub async fn update_type(
    tx: &mut RoomTx,
    type_id: i64,
    name: &str,
    owner: i64,
) -> sqlx::Result<bool> {
    let room_id: i64 = sqlx::query_scalar("SELECT room_id FROM decision_types WHERE id = $1")
        .bind(type_id)
        .fetch_one(&mut **tx)
        .await?;
    let clash: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM decision_types WHERE room_id = $1 AND name_key = $2 AND id <> $3",
    )
    .bind(room_id)
    .bind(name.to_lowercase())
    .bind(type_id)
    .fetch_optional(&mut **tx)
    .await?;
    if clash.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE decision_types SET name = $1, name_key = $2, owner_user_id = $3 WHERE id = $4",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(owner)
    .bind(type_id)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

pub async fn types(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<DecisionType>> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.owner_user_id, u.name, t.escalates_to_user_id, e.name \
         FROM decision_types t JOIN users u ON u.id = t.owner_user_id \
         LEFT JOIN users e ON e.id = t.escalates_to_user_id WHERE t.room_id = $1 ORDER BY t.id",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(DecisionType {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                owner_user_id: row.try_get(2)?,
                owner_name: row.try_get(3)?,
                escalates_to: row
                    .try_get::<Option<i64>, _>(4)?
                    .zip(row.try_get::<Option<String>, _>(5)?),
            })
        })
        .collect()
}

/// Names of the types `user_id` owns in the room.
pub async fn owned_by(
    conn: &mut AnyConnection,
    room_id: i64,
    user_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT name FROM decision_types WHERE room_id = $1 AND owner_user_id = $2 ORDER BY id",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_all(conn)
    .await
}

pub struct NewDecision<'a> {
    pub room_id: i64,
    pub decision_type_id: i64,
    pub title: &'a str,
    pub rationale: &'a str,
    pub supersedes_id: Option<i64>,
    pub proposed_by: i64,
}

pub async fn insert(tx: &mut RoomTx, new: &NewDecision<'_>, now: Millis) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO decisions (room_id, decision_type_id, title, rationale, status, proposed_by, \
         proposed_at, supersedes_id) VALUES ($1, $2, $3, $4, 'proposed', $5, $6, $7) RETURNING id",
    )
    .bind(new.room_id)
    .bind(new.decision_type_id)
    .bind(new.title)
    .bind(new.rationale)
    .bind(new.proposed_by)
    .bind(now)
    .bind(new.supersedes_id)
    .fetch_one(&mut **tx)
    .await
}

/// Decides or rejects a proposed decision; when decided, the one it supersedes is marked
/// superseded and linked back.
pub async fn settle(
    tx: &mut RoomTx,
    decision: &Decision,
    outcome: DecisionStatus,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE decisions SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
        .bind(outcome.as_str())
        .bind(by)
        .bind(now)
        .bind(decision.id)
        .execute(&mut **tx)
        .await?;
    if let (DecisionStatus::Decided, Some(older)) = (outcome, decision.supersedes_id) {
        sqlx::query(
            "UPDATE decisions SET status = 'superseded', superseded_by_id = $1 WHERE id = $2",
        )
        .bind(decision.id)
        .bind(older)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A PM contests a proposed decision, with a reason.
pub async fn contest(tx: &mut RoomTx, id: i64, by: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE decisions SET contested_by = $1, contested_reason = $2 WHERE id = $3")
        .bind(by)
        .bind(reason)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets (or clears) who settles disagreements about decisions of a type.
pub async fn set_escalates_to(
    tx: &mut RoomTx,
    type_id: i64,
    user_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE decision_types SET escalates_to_user_id = $1 WHERE id = $2")
        .bind(user_id)
        .bind(type_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const DECISION_QUERY: &str = "SELECT d.id, d.decision_type_id, t.name, d.title, d.rationale, \
     d.status, p.name, d.proposed_at, s.name, d.decided_at, d.supersedes_id, d.superseded_by_id, \
     c.name, d.contested_reason \
     FROM decisions d JOIN decision_types t ON t.id = d.decision_type_id \
     JOIN users p ON p.id = d.proposed_by LEFT JOIN users s ON s.id = d.decided_by \
     LEFT JOIN users c ON c.id = d.contested_by";

fn decision_from(row: sqlx::any::AnyRow) -> sqlx::Result<Decision> {
    let status: String = row.try_get(5)?;
    Ok(Decision {
        id: row.try_get(0)?,
        decision_type_id: row.try_get(1)?,
        type_name: row.try_get(2)?,
        title: row.try_get(3)?,
        rationale: row.try_get(4)?,
        status: DecisionStatus::parse(&status).unwrap_or(DecisionStatus::Proposed),
        proposed_by: row.try_get(6)?,
        proposed_at: row.try_get(7)?,
        decided_by: row.try_get(8)?,
        decided_at: row.try_get(9)?,
        supersedes_id: row.try_get(10)?,
        superseded_by_id: row.try_get(11)?,
        contested: row
            .try_get::<Option<String>, _>(12)?
            .map(|name| (name, row.try_get(13).unwrap_or_default())),
    })
}

/// The room's decisions, newest first, optionally of one type.
pub async fn list(
    conn: &mut AnyConnection,
    room_id: i64,
    type_id: Option<i64>,
) -> sqlx::Result<Vec<Decision>> {
    let rows = sqlx::query(&format!(
        "{DECISION_QUERY} WHERE d.room_id = $1 AND ($2 = 0 OR d.decision_type_id = $2) ORDER BY d.id DESC"
    ))
    .bind(room_id)
    .bind(type_id.unwrap_or(0))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(decision_from).collect()
}

/// One decision of a room (`None` if it belongs to another room).
pub async fn find(
    conn: &mut AnyConnection,
    room_id: i64,
    id: i64,
) -> sqlx::Result<Option<Decision>> {
    let row = sqlx::query(&format!(
        "{DECISION_QUERY} WHERE d.room_id = $1 AND d.id = $2"
    ))
    .bind(room_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(decision_from).transpose()
}
