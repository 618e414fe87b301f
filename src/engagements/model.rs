//! The queries over `engagements` and the tables around it: who they engage, who takes part,
//! which ledger questions they carry; reading one or a room's open ones, finding the engagements
//! near in time with the same contacts, and every write (each through the room's `RoomTx`).

use sqlx::{AnyConnection, Row};

use super::rules::{EngagementKind, EngagementState, Nearby};
use crate::clock::Millis;
use crate::customers::model::Contact;
use crate::questions::model::QuestionStatus;
use crate::rooms::change::RoomTx;

/// A planned call, meeting, visit or chat, as its page and the room page show it.
#[derive(Clone, Debug)]
pub struct Engagement {
    pub id: i64,
    pub room_id: i64,
    pub workstream_id: i64,
    /// The topic: its workstream's title.
    pub topic: String,
    pub voice_user_id: i64,
    pub voice: String,
    pub kind: EngagementKind,
    pub starts_at: Millis,
    pub minutes: i64,
    pub purpose: String,
    pub state: EngagementState,
    pub planned_by_id: i64,
    pub planned_by: String,
    pub planned_at: Millis,
    pub cleared_by: Option<String>,
    pub cleared_at: Option<Millis>,
    /// Why it was cleared despite a warning (empty when none was needed).
    pub override_reason: String,
    pub sequence: i64,
    pub outcome: String,
    pub outcome_by: Option<String>,
    pub outcome_at: Option<Millis>,
    pub cancelled_reason: String,
    pub question_count: i64,
    pub contacts: Vec<Contact>,
}

impl Engagement {
    pub fn ends_at(&self) -> Millis {
        self.starts_at + self.minutes * 60_000
    }

    /// "Jordan Reyes, Priya Shah".
    pub fn contact_names(&self) -> String {
        let names: Vec<&str> = self.contacts.iter().map(|c| c.name.as_str()).collect();
        names.join(", ")
    }

    pub fn contact_ids(&self) -> Vec<i64> {
        self.contacts.iter().map(|c| c.id).collect()
    }

    /// "Sam Okafor's call with Jordan Reyes about “Forecast”": for sentences.
    pub fn title(&self) -> String {
        format!(
            "{}'s {} with {} about “{}”",
            self.voice,
            self.kind.label().to_lowercase(),
            self.contact_names(),
            self.topic
        )
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            EngagementState::Planned | EngagementState::Cleared
        )
    }
}

/// A member taking part, with what an invitation needs.
#[derive(Clone, Debug)]
pub struct Participant {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub time_zone: Option<String>,
}

/// A ledger question on an engagement's list.
#[derive(Clone, Debug)]
pub struct Bundled {
    pub question_id: i64,
    pub body: String,
    pub stakeholder: String,
    /// Who put it on this engagement's list.
    pub added_by: String,
    pub status: QuestionStatus,
    pub answer: String,
}

/// An open ledger question to one of the customer's contacts, to offer when planning.
#[derive(Clone, Debug)]
pub struct OpenQuestion {
    pub id: i64,
    pub body: String,
    pub contact_id: i64,
    pub contact: String,
    pub asked_by: String,
}

const COLUMNS: &str = "SELECT e.id, e.room_id, e.workstream_id, w.title, v.id, v.name, e.kind, \
     e.starts_at, e.minutes, e.purpose, e.state, e.planned_by, p.name, e.planned_at, c.name, \
     e.cleared_at, e.override_reason, e.sequence, e.outcome, o.name, e.outcome_at, \
     e.cancelled_reason, (SELECT COUNT(*) FROM engagement_questions q WHERE q.engagement_id = e.id) \
     FROM engagements e JOIN workstreams w ON w.id = e.workstream_id \
     JOIN users v ON v.id = COALESCE(w.voice_user_id, w.driver_user_id) \
     JOIN users p ON p.id = e.planned_by LEFT JOIN users c ON c.id = e.cleared_by \
     LEFT JOIN users o ON o.id = e.outcome_by";

fn from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Engagement> {
    let kind: String = row.try_get(6)?;
    let state: String = row.try_get(10)?;
    Ok(Engagement {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        workstream_id: row.try_get(2)?,
        topic: row.try_get(3)?,
        voice_user_id: row.try_get(4)?,
        voice: row.try_get(5)?,
        kind: EngagementKind::parse(&kind).unwrap_or(EngagementKind::Call),
        starts_at: row.try_get(7)?,
        minutes: row.try_get(8)?,
        purpose: row.try_get(9)?,
        state: EngagementState::parse(&state).unwrap_or(EngagementState::Planned),
        planned_by_id: row.try_get(11)?,
        planned_by: row.try_get(12)?,
        planned_at: row.try_get(13)?,
        cleared_by: row.try_get(14)?,
        cleared_at: row.try_get(15)?,
        override_reason: row.try_get(16)?,
        sequence: row.try_get(17)?,
        outcome: row.try_get(18)?,
        outcome_by: row.try_get(19)?,
        outcome_at: row.try_get(20)?,
        cancelled_reason: row.try_get(21)?,
        question_count: row.try_get(22)?,
        contacts: Vec::new(),
    })
}

const CONTACT_COLUMNS: &str =
    "ec.engagement_id, c.id, c.customer_id, c.name, c.email, c.title, c.time_zone";

fn contact_from(row: &sqlx::any::AnyRow) -> sqlx::Result<(i64, Contact)> {
    Ok((
        row.try_get(0)?,
        Contact {
            id: row.try_get(1)?,
            customer_id: row.try_get(2)?,
            name: row.try_get(3)?,
            email: row.try_get(4)?,
            title: row.try_get(5)?,
            time_zone: row.try_get(6)?,
        },
    ))
}

/// The room's engagements still planned or cleared (upcoming, or waiting for their outcome),
/// soonest first, with their contacts.
pub async fn open_in_room(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Engagement>> {
    let rows = sqlx::query(&format!(
        "{COLUMNS} WHERE e.room_id = $1 AND e.state IN ('planned', 'cleared') ORDER BY e.starts_at, e.id"
    ))
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = rows
        .iter()
        .map(from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let contacts = sqlx::query(&format!(
        "SELECT {CONTACT_COLUMNS} FROM engagement_contacts ec JOIN contacts c ON c.id = ec.contact_id \
         JOIN engagements e ON e.id = ec.engagement_id \
         WHERE e.room_id = $1 AND e.state IN ('planned', 'cleared') ORDER BY c.name, c.id"
    ))
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    for row in &contacts {
        let (engagement, contact) = contact_from(row)?;
        if let Some(e) = list.iter_mut().find(|e| e.id == engagement) {
            e.contacts.push(contact);
        }
    }
    Ok(list)
}

/// One engagement of the room, with its contacts.
pub async fn find(
    conn: &mut AnyConnection,
    room_id: i64,
    id: i64,
) -> sqlx::Result<Option<Engagement>> {
    let row = sqlx::query(&format!("{COLUMNS} WHERE e.room_id = $1 AND e.id = $2"))
        .bind(room_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut engagement = from_row(&row)?;
    let contacts = sqlx::query(&format!(
        "SELECT {CONTACT_COLUMNS} FROM engagement_contacts ec JOIN contacts c ON c.id = ec.contact_id \
         WHERE ec.engagement_id = $1 ORDER BY c.name, c.id"
    ))
    .bind(id)
    .fetch_all(conn)
    .await?;
    for row in &contacts {
        engagement.contacts.push(contact_from(row)?.1);
    }
    Ok(Some(engagement))
}

/// Who takes part and is still an active member of the room (someone removed from the room, or
/// deactivated, gets no more invitations and is no longer listed).
pub async fn participants(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Vec<Participant>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, u.email, u.time_zone FROM engagement_participants p \
         JOIN users u ON u.id = p.user_id AND u.is_active = 1 \
         JOIN engagements e ON e.id = p.engagement_id \
         JOIN members m ON m.room_id = e.room_id AND m.user_id = p.user_id \
         WHERE p.engagement_id = $1 ORDER BY u.name, u.id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Participant {
                user_id: row.try_get(0)?,
                name: row.try_get(1)?,
                email: row.try_get(2)?,
                time_zone: row.try_get(3)?,
            })
        })
        .collect()
}

pub async fn questions(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Vec<Bundled>> {
    let rows = sqlx::query(
        "SELECT q.id, q.body, COALESCE(c.name, q.stakeholder_name), a.name, q.status, q.answer \
         FROM engagement_questions eq JOIN questions q ON q.id = eq.question_id \
         LEFT JOIN contacts c ON c.id = q.stakeholder_contact_id JOIN users a ON a.id = eq.added_by \
         WHERE eq.engagement_id = $1 ORDER BY eq.added_at, q.id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get(4)?;
            Ok(Bundled {
                question_id: row.try_get(0)?,
                body: row.try_get(1)?,
                stakeholder: row.try_get(2)?,
                added_by: row.try_get(3)?,
                status: QuestionStatus::parse(&status).unwrap_or(QuestionStatus::Open),
                answer: row.try_get(5)?,
            })
        })
        .collect()
}

/// The room's open questions to the customer's contacts (the ledger a plan bundles from).
pub async fn open_questions(
    conn: &mut AnyConnection,
    room_id: i64,
) -> sqlx::Result<Vec<OpenQuestion>> {
    let rows = sqlx::query(
        "SELECT q.id, q.body, c.id, c.name, u.name FROM questions q \
         JOIN contacts c ON c.id = q.stakeholder_contact_id JOIN users u ON u.id = q.asked_by \
         WHERE q.room_id = $1 AND q.status = 'open' ORDER BY q.id",
    )
    .bind(room_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OpenQuestion {
                id: row.try_get(0)?,
                body: row.try_get(1)?,
                contact_id: row.try_get(2)?,
                contact: row.try_get(3)?,
                asked_by: row.try_get(4)?,
            })
        })
        .collect()
}

/// Planned or cleared engagements, in any room, with any of `contacts`, starting between `from`
/// and `to` (exclusive), other than `except`: one row per shared contact.
pub async fn nearby(
    conn: &mut AnyConnection,
    contacts: &[i64],
    (from, to): (Millis, Millis),
    except: i64,
) -> sqlx::Result<Vec<Nearby>> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..contacts.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT e.id, e.room_id, v.name, e.kind, e.starts_at, c.name, e.state FROM engagements e \
         JOIN engagement_contacts ec ON ec.engagement_id = e.id JOIN contacts c ON c.id = ec.contact_id \
         JOIN workstreams w ON w.id = e.workstream_id \
         JOIN users v ON v.id = COALESCE(w.voice_user_id, w.driver_user_id) \
         WHERE e.state IN ('planned', 'cleared') AND e.starts_at > $1 AND e.starts_at < $2 \
         AND e.id <> $3 AND ec.contact_id IN ({}) ORDER BY e.starts_at, e.id, c.name",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(from).bind(to).bind(except);
    for contact in contacts {
        query = query.bind(*contact);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get(3)?;
            let state: String = row.try_get(6)?;
            Ok(Nearby {
                id: row.try_get(0)?,
                room_id: row.try_get(1)?,
                voice: row.try_get(2)?,
                kind: EngagementKind::parse(&kind).unwrap_or(EngagementKind::Call),
                starts_at: row.try_get(4)?,
                contact: row.try_get(5)?,
                cleared: state == "cleared",
            })
        })
        .collect()
}

/// An engagement to write.
pub struct NewEngagement<'a> {
    pub room_id: i64,
    pub workstream_id: i64,
    pub kind: EngagementKind,
    pub starts_at: Millis,
    pub minutes: i64,
    pub purpose: &'a str,
    pub planned_by: i64,
    pub contacts: &'a [i64],
}

pub async fn insert(tx: &mut RoomTx, new: &NewEngagement<'_>, now: Millis) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO engagements (room_id, workstream_id, kind, starts_at, minutes, purpose, state, \
         planned_by, planned_at) VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8) RETURNING id",
    )
    .bind(new.room_id)
    .bind(new.workstream_id)
    .bind(new.kind.as_str())
    .bind(new.starts_at)
    .bind(new.minutes)
    .bind(new.purpose)
    .bind(new.planned_by)
    .bind(now)
    .fetch_one(tx.room(new.room_id))
    .await?;
    for contact in new.contacts {
        sqlx::query(
            "INSERT INTO engagement_contacts (engagement_id, contact_id) VALUES ($1, $2) \
             ON CONFLICT (engagement_id, contact_id) DO NOTHING",
        )
        .bind(id)
        .bind(contact)
        .execute(tx.room(new.room_id))
        .await?;
    }
    add_participant(tx, new.room_id, id, new.planned_by).await?;
    Ok(id)
}

/// Adds a member to those taking part (once).
pub async fn add_participant(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    user_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO engagement_participants (engagement_id, user_id) VALUES ($1, $2) \
         ON CONFLICT (engagement_id, user_id) DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .execute(tx.room(room_id))
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Puts a ledger question on the engagement's list (once); false when it was already there.
pub async fn add_question(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    question_id: i64,
    by: i64,
    now: Millis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO engagement_questions (engagement_id, question_id, added_by, added_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (engagement_id, question_id) DO NOTHING",
    )
    .bind(id)
    .bind(question_id)
    .bind(by)
    .bind(now)
    .execute(tx.room(room_id))
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Moves one engagement's questions and participants onto another (joining it instead).
pub async fn merge_into(tx: &mut RoomTx, room_id: i64, from: i64, into: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO engagement_questions (engagement_id, question_id, added_by, added_at) \
         SELECT $1, question_id, added_by, added_at FROM engagement_questions WHERE engagement_id = $2 \
         ON CONFLICT (engagement_id, question_id) DO NOTHING",
    )
    .bind(into)
    .bind(from)
    .execute(tx.room(room_id))
    .await?;
    sqlx::query(
        "INSERT INTO engagement_participants (engagement_id, user_id) \
         SELECT $1, user_id FROM engagement_participants WHERE engagement_id = $2 \
         ON CONFLICT (engagement_id, user_id) DO NOTHING",
    )
    .bind(into)
    .bind(from)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Marks it cleared by `by` (with the reason a warning was overridden, if any).
pub async fn clear(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    by: i64,
    override_reason: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE engagements SET state = 'cleared', cleared_by = $1, cleared_at = $2, \
         override_reason = $3 WHERE id = $4 AND state = 'planned'",
    )
    .bind(by)
    .bind(now)
    .bind(override_reason)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Moves it to a new time; a cleared one's invitation is sent again with the next sequence.
pub async fn reschedule(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    starts_at: Millis,
    minutes: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE engagements SET starts_at = $1, minutes = $2, \
         sequence = CASE WHEN state = 'cleared' THEN sequence + 1 ELSE sequence END WHERE id = $3",
    )
    .bind(starts_at)
    .bind(minutes)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Calls it off, with the reason; a cleared one's cancellation carries the next sequence.
pub async fn cancel(tx: &mut RoomTx, room_id: i64, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE engagements SET cancelled_reason = $1, \
         sequence = CASE WHEN state = 'cleared' THEN sequence + 1 ELSE sequence END, \
         state = 'cancelled' WHERE id = $2",
    )
    .bind(reason)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Records what happened; the engagement is done.
pub async fn finish(
    tx: &mut RoomTx,
    room_id: i64,
    id: i64,
    outcome: &str,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE engagements SET state = 'done', outcome = $1, outcome_by = $2, outcome_at = $3 \
         WHERE id = $4",
    )
    .bind(outcome)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}
