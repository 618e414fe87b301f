//! The queries over `escalations`: raising one, reading it, and recording the ruling once.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    /// What is disagreed about.
    pub enum Subject {
        Draft = "draft" => "customer email",
        Update = "update" => "leadership update",
        Decision = "decision" => "decision",
    }
}

text_enum! {
    /// How the escalation point settled it.
    pub enum Ruling {
        Proceed = "proceed" => "go ahead as it is",
        Uphold = "uphold" => "the objection stands: revise it",
        Decide = "decided" => "decided",
        Reject = "rejected" => "rejected",
    }
}

#[derive(Clone, Debug)]
pub struct Escalation {
    pub id: i64,
    pub room_id: i64,
    pub subject: Subject,
    pub subject_id: i64,
    pub revision: i64,
    pub objector_id: i64,
    pub objector: String,
    pub position: String,
    pub raised_by: String,
    pub raised_at: Millis,
    pub ruled: Option<(String, Ruling, String, Millis)>,
}

pub struct NewEscalation<'a> {
    pub room_id: i64,
    pub subject: Subject,
    pub subject_id: i64,
    pub revision: i64,
    pub objector_id: i64,
    pub position: &'a str,
    pub raised_by: i64,
}

pub async fn insert(tx: &mut RoomTx, new: &NewEscalation<'_>, now: Millis) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO escalations (room_id, subject_kind, subject_id, revision, objector_user_id, \
         position, raised_by, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.room_id)
    .bind(new.subject.as_str())
    .bind(new.subject_id)
    .bind(new.revision)
    .bind(new.objector_id)
    .bind(new.position)
    .bind(new.raised_by)
    .bind(now)
    .fetch_one(tx.room(new.room_id))
    .await
}

const QUERY: &str = "SELECT e.id, e.room_id, e.subject_kind, e.subject_id, e.revision, \
     e.objector_user_id, o.name, e.position, r.name, e.raised_at, j.name, e.ruling, e.ruling_note, \
     e.ruled_at FROM escalations e JOIN users o ON o.id = e.objector_user_id \
     JOIN users r ON r.id = e.raised_by LEFT JOIN users j ON j.id = e.ruled_by";

fn from_row(row: sqlx::any::AnyRow) -> sqlx::Result<Escalation> {
    let (subject, ruling): (String, String) = (row.try_get(2)?, row.try_get(11)?);
    let ruled_by: Option<String> = row.try_get(10)?;
    let ruled_at: Option<Millis> = row.try_get(13)?;
    Ok(Escalation {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        subject: Subject::parse(&subject).unwrap_or(Subject::Draft),
        subject_id: row.try_get(3)?,
        revision: row.try_get(4)?,
        objector_id: row.try_get(5)?,
        objector: row.try_get(6)?,
        position: row.try_get(7)?,
        raised_by: row.try_get(8)?,
        raised_at: row.try_get(9)?,
        ruled: match (ruled_by, Ruling::parse(&ruling), ruled_at) {
            (Some(by), Some(ruling), Some(at)) => Some((by, ruling, row.try_get(12)?, at)),
            _ => None,
        },
    })
}

pub async fn find(
    conn: &mut AnyConnection,
    room_id: i64,
    id: i64,
) -> sqlx::Result<Option<Escalation>> {
    sqlx::query(&format!("{QUERY} WHERE e.room_id = $1 AND e.id = $2"))
        .bind(room_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(from_row)
        .transpose()
}

/// The escalation not yet ruled on for this subject (and revision, and objector), if any.
pub async fn open_for(
    conn: &mut AnyConnection,
    subject: Subject,
    subject_id: i64,
    revision: i64,
    objector: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM escalations WHERE subject_kind = $1 AND subject_id = $2 AND revision = $3 \
         AND objector_user_id = $4 AND ruled_at IS NULL",
    )
    .bind(subject.as_str())
    .bind(subject_id)
    .bind(revision)
    .bind(objector)
    .fetch_optional(conn)
    .await
}

/// The room's escalations still waiting for a ruling, oldest first.
pub async fn waiting_in_room(
    conn: &mut AnyConnection,
    room_id: i64,
) -> sqlx::Result<Vec<Escalation>> {
    sqlx::query(&format!(
        "{QUERY} WHERE e.room_id = $1 AND e.ruled_at IS NULL ORDER BY e.id"
    ))
    .bind(room_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(from_row)
    .collect()
}

/// Records the ruling; `false` when someone ruled first.
pub async fn rule(
    tx: &mut RoomTx,
    escalation: &Escalation,
    by: i64,
    ruling: Ruling,
    note: &str,
    now: Millis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE escalations SET ruled_by = $1, ruling = $2, ruling_note = $3, ruled_at = $4 \
         WHERE id = $5 AND ruled_at IS NULL",
    )
    .bind(by)
    .bind(ruling.as_str())
    .bind(note)
    .bind(now)
    .bind(escalation.id)
    .execute(tx.room(escalation.room_id))
    .await?;
    Ok(done.rows_affected() == 1)
}
