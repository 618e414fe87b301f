//! Outreach pauses: a room-wide hold on every channel to the customer, with reason, who asked
//! for it, who granted it, an optional end and an optional resume condition; and hold requests
//! waiting for the lead or the communicator.

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::web::time::Zone;
use crate::workstreams::model::{Workstream, WorkstreamStatus};

/// What makes a pause ready to resume (the lead still resumes it: never silently).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    /// From this time on.
    At(Millis),
    /// When this workstream reaches this status.
    Workstream {
        id: i64,
        title: String,
        status: WorkstreamStatus,
    },
}

impl Resume {
    /// Whether the condition holds at `now`, with the room's workstreams as they are.
    pub fn is_met(&self, now: Millis, workstreams: &[Workstream]) -> bool {
        match self {
            Resume::At(at) => *at <= now,
            Resume::Workstream { id, status, .. } => workstreams
                .iter()
                .any(|w| w.id == *id && w.status == *status),
        }
    }

    /// "when “Forecast from telemetry” is done", "on 3 Dec 2026, 09:00 UTC".
    pub fn words(&self, zone: Zone) -> String {
        match self {
            Resume::At(at) => format!("on {}", zone.when(*at)),
            Resume::Workstream { title, status, .. } => {
                format!("when “{title}” is {}", status.label().to_lowercase())
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pause {
    pub id: i64,
    pub reason: String,
    /// Who set it, or asked for it when someone else granted it.
    pub set_by: String,
    pub set_at: Millis,
    /// Who granted it, when that was not the person who asked.
    pub granted_by: Option<String>,
    pub until: Option<Millis>,
    pub resume: Option<Resume>,
}

impl Pause {
    /// In force at `now`: not ended, and its end time (if any) not reached.
    pub fn is_active(&self, now: Millis) -> bool {
        self.until.is_none_or(|until| until > now)
    }

    /// Its resume condition holds: the room shows "ready to resume" to the lead.
    pub fn is_ready_to_resume(&self, now: Millis, workstreams: &[Workstream]) -> bool {
        self.resume
            .as_ref()
            .is_some_and(|resume| resume.is_met(now, workstreams))
    }
}

/// A hold someone asked for, waiting for the lead or the communicator.
#[derive(Clone, Debug)]
pub struct HoldRequest {
    pub id: i64,
    pub reason: String,
    pub asked_by: String,
    pub asked_at: Millis,
    pub resume: Option<Resume>,
}

/// The columns (after `p.id, p.reason, asker, p.set_at`) that make a resume condition, and its
/// joins.
const RESUME: &str = "p.resume_at, p.resume_workstream_id, w.title, p.resume_status";
const RESUME_JOIN: &str = "LEFT JOIN workstreams w ON w.id = p.resume_workstream_id";

fn resume_from(row: &sqlx::any::AnyRow, first: usize) -> sqlx::Result<Option<Resume>> {
    let at: Option<Millis> = row.try_get(first)?;
    let workstream: Option<i64> = row.try_get(first + 1)?;
    let title: Option<String> = row.try_get(first + 2)?;
    let status: Option<String> = row.try_get(first + 3)?;
    Ok(
        match (
            at,
            workstream,
            status.as_deref().and_then(WorkstreamStatus::parse),
        ) {
            (Some(at), _, _) => Some(Resume::At(at)),
            (None, Some(id), Some(status)) => Some(Resume::Workstream {
                id,
                title: title.unwrap_or_default(),
                status,
            }),
            _ => None,
        },
    )
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
    let row = sqlx::query(&format!(
        "SELECT p.id, p.reason, u.name, p.set_at, g.name, p.until, {RESUME} FROM outreach_pauses p \
         JOIN users u ON u.id = p.set_by LEFT JOIN users g ON g.id = p.granted_by {RESUME_JOIN} \
         WHERE p.room_id = $1 AND p.ended_at IS NULL AND p.state = 'granted' ORDER BY p.id DESC LIMIT 1"
    ))
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Pause {
            id: row.try_get(0)?,
            reason: row.try_get(1)?,
            set_by: row.try_get(2)?,
            set_at: row.try_get(3)?,
            granted_by: row.try_get(4)?,
            until: row.try_get(5)?,
            resume: resume_from(&row, 6)?,
        })
    })
    .transpose()
}

/// The holds asked for in the room and not yet granted or declined, oldest first.
pub async fn requests(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<HoldRequest>> {
    let rows = sqlx::query(&format!(
        "SELECT p.id, p.reason, u.name, p.set_at, {RESUME} FROM outreach_pauses p \
         JOIN users u ON u.id = p.set_by {RESUME_JOIN} \
         WHERE p.room_id = $1 AND p.state = 'requested' ORDER BY p.id"
    ))
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HoldRequest {
                id: row.try_get(0)?,
                reason: row.try_get(1)?,
                asked_by: row.try_get(2)?,
                asked_at: row.try_get(3)?,
                resume: resume_from(row, 4)?,
            })
        })
        .collect()
}

/// A pause or hold as asked for: why, until when it holds by itself, what makes it ready to
/// resume.
pub struct NewHold<'a> {
    pub reason: &'a str,
    pub until: Option<Millis>,
    pub resume: Option<&'a Resume>,
}

fn resume_columns(resume: Option<&Resume>) -> (Option<Millis>, Option<i64>, Option<&'static str>) {
    match resume {
        None => (None, None, None),
        Some(Resume::At(at)) => (Some(*at), None, None),
        Some(Resume::Workstream { id, status, .. }) => (None, Some(*id), Some(status.as_str())),
    }
}

/// Records a hold `by` asked for; it changes nothing until granted.
pub async fn request(
    tx: &mut RoomTx,
    room_id: i64,
    hold: &NewHold<'_>,
    by: i64,
    now: Millis,
) -> sqlx::Result<i64> {
    let (resume_at, workstream, status) = resume_columns(hold.resume);
    sqlx::query_scalar(
        "INSERT INTO outreach_pauses (room_id, reason, set_by, set_at, until, state, resume_at, \
         resume_workstream_id, resume_status) VALUES ($1, $2, $3, $4, $5, 'requested', $6, $7, $8) RETURNING id",
    )
    .bind(room_id)
    .bind(hold.reason)
    .bind(by)
    .bind(now)
    .bind(hold.until)
    .bind(resume_at)
    .bind(workstream)
    .bind(status)
    .fetch_one(tx.room(room_id))
    .await
}

/// Grants a requested hold: it becomes the room's pause (ending any other).
pub async fn grant(
    tx: &mut RoomTx,
    room_id: i64,
    request_id: i64,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    end_others(tx, room_id, by, now).await?;
    sqlx::query(
        "UPDATE outreach_pauses SET state = 'granted', granted_by = $1, set_at = $2 \
         WHERE id = $3 AND state = 'requested'",
    )
    .bind(by)
    .bind(now)
    .bind(request_id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Declines a requested hold, with the reason.
pub async fn decline(
    tx: &mut RoomTx,
    room_id: i64,
    request_id: i64,
    reason: &str,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outreach_pauses SET state = 'declined', declined_reason = $1, ended_by = $2, ended_at = $3 \
         WHERE id = $4 AND state = 'requested'",
    )
    .bind(reason)
    .bind(by)
    .bind(now)
    .bind(request_id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

async fn end_others(tx: &mut RoomTx, room_id: i64, by: i64, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outreach_pauses SET ended_at = $1, ended_by = $2 \
         WHERE room_id = $3 AND ended_at IS NULL AND state = 'granted'",
    )
    .bind(now)
    .bind(by)
    .bind(room_id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Pauses the room now (ending any other pause): set by the lead or the communicator.
pub async fn insert(
    tx: &mut RoomTx,
    room_id: i64,
    hold: &NewHold<'_>,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    end_others(tx, room_id, by, now).await?;
    let (resume_at, workstream, status) = resume_columns(hold.resume);
    sqlx::query(
        "INSERT INTO outreach_pauses (room_id, reason, set_by, set_at, until, resume_at, \
         resume_workstream_id, resume_status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(room_id)
    .bind(hold.reason)
    .bind(by)
    .bind(now)
    .bind(hold.until)
    .bind(resume_at)
    .bind(workstream)
    .bind(status)
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
            granted_by: None,
            until: Some(100),
            resume: None,
        };
        assert!(pause.is_active(99));
        assert!(!pause.is_active(100));
        let open_ended = Pause {
            until: None,
            ..pause
        };
        assert!(open_ended.is_active(i64::MAX));
    }

    fn workstream(status: WorkstreamStatus) -> Workstream {
        Workstream {
            id: 7,
            title: "Forecast from telemetry".into(),
            driver_user_id: 1,
            driver_name: "Dana".into(),
            voice_user_id: 1,
            voice_name: "Dana".into(),
            status,
            next_step: String::new(),
            due_at: None,
            navigators: vec![],
        }
    }

    #[test]
    fn a_resume_condition_is_met_by_its_time_or_its_workstream_status() {
        let at = Resume::At(100);
        assert!(!at.is_met(99, &[]));
        assert!(at.is_met(100, &[]));
        let done = Resume::Workstream {
            id: 7,
            title: "Forecast from telemetry".into(),
            status: WorkstreamStatus::Done,
        };
        assert!(!done.is_met(0, &[workstream(WorkstreamStatus::Active)]));
        assert!(done.is_met(0, &[workstream(WorkstreamStatus::Done)]));
        assert!(
            !done.is_met(0, &[]),
            "a workstream that is gone meets nothing"
        );
        assert_eq!(
            done.words(Zone::UTC),
            "when “Forecast from telemetry” is done"
        );
    }
}
