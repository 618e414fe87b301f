//! Coordination measures: how a team coordinated, computed exactly from what Accord recorded.
//! `formulas` holds each measure as a pure function; this module reads the records of the rooms
//! a reader may see and applies them, per room and across rooms, for `/insights`.

pub mod cache;
pub mod digest;
pub mod formulas;
pub mod insights;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::drafts::gate::BlockReason;
use crate::rooms::model::Severity;
use formulas::{
    DecisionRecord, PauseRecord, QuestionRecord, Send, TouchRecord, blocked_by_reason,
    cadence_kept, duplicates_avoided, median, parallel_touches, paused_time, time_to_align,
    time_to_answer, time_to_first_email, voices,
};

/// Which rooms a reading covers.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// The rooms `user_id` may read (every room for an admin, the rooms a leadership member is
    /// in otherwise), escalated since `since`.
    Readable {
        user_id: i64,
        is_admin: bool,
        since: Millis,
    },
    /// One room (its retrospective).
    Room(i64),
}

impl Scope {
    /// The SQL condition on a room id column: in the scope, and among the rooms of one pass
    /// (it uses `$1` to `$4`, bound by [`each_row`]). The pass's range is stated on the scope's
    /// rooms too, so that what a pass reads grows with its rooms, not with all of them.
    fn rooms(&self, column: &str) -> String {
        let scoped = match self {
            Scope::Readable { is_admin: true, .. } => format!(
                "{column} IN (SELECT s.id FROM rooms s WHERE s.id BETWEEN $3 AND $4 \
                 AND s.escalated_at >= $2 AND $1 = $1)"
            ),
            Scope::Readable { .. } => format!(
                "{column} IN (SELECT s.id FROM rooms s WHERE s.id BETWEEN $3 AND $4 \
                 AND s.escalated_at >= $2 AND EXISTS (SELECT 1 FROM members m \
                 WHERE m.room_id = s.id AND m.user_id = $1 AND m.kind = 'leadership'))"
            ),
            Scope::Room(_) => format!("{column} = $1 AND $2 = $2"),
        };
        format!("{column} BETWEEN $3 AND $4 AND {scoped}")
    }

    fn binds(&self) -> (i64, Millis) {
        match *self {
            Scope::Readable { user_id, since, .. } => (user_id, since),
            Scope::Room(id) => (id, 0),
        }
    }
}

/// One room's measures.
#[derive(Clone, Debug)]
pub struct RoomMeasures {
    pub id: i64,
    pub title: String,
    /// Shared by the customer's rooms.
    pub customer: Arc<str>,
    pub severity: Severity,
    pub first_email: Option<Millis>,
    /// Customer updates sent, and promised by the cadence since the first.
    pub cadence: Option<(usize, usize)>,
    pub sends: usize,
    pub align_median: Option<Millis>,
    pub revisions_per_send: Option<f64>,
    pub blocked_sends: usize,
    /// The refused sends under each kind of reason (one refusal may have several).
    pub blocked_by_reason: Vec<(BlockReason, usize)>,
    pub decided: usize,
    pub decision_median: Option<Millis>,
    pub superseded: usize,
    pub on_escalation: usize,
    /// The most people who wrote to one contact of the room (the goal is 1).
    pub max_voices: usize,
    pub parallel: usize,
    pub uncoordinated: usize,
    pub asked: usize,
    pub asked_anyway: usize,
    pub duplicates_avoided: usize,
    pub answered: usize,
    pub answer_median: Option<Millis>,
    pub paused: Millis,
}

impl RoomMeasures {
    /// "3 (2 a PM had not aligned, 1 outreach paused)".
    pub fn blocked_words(&self) -> String {
        match self.blocked_sends {
            0 => "0".to_owned(),
            n => {
                let reasons: Vec<String> = self
                    .blocked_by_reason
                    .iter()
                    .map(|(kind, count)| format!("{count} {}", kind.label().to_lowercase()))
                    .collect();
                format!("{n} ({})", reasons.join(", "))
            }
        }
    }

    /// Each measure in words, as a retrospective freezes them.
    pub fn lines(&self) -> Vec<(String, String)> {
        let maybe = |d: Option<Millis>| d.map_or_else(|| "—".to_owned(), formulas::words);
        vec![
            (
                "Time to the first customer email".into(),
                maybe(self.first_email),
            ),
            (
                "Customer updates kept / promised".into(),
                self.cadence
                    .map_or_else(|| "—".to_owned(), |(k, p)| format!("{k} / {p}")),
            ),
            ("Customer emails sent".into(), self.sends.to_string()),
            (
                "Time to align (median per email)".into(),
                maybe(self.align_median),
            ),
            (
                "Revisions per email".into(),
                self.revisions_per_send
                    .map_or_else(|| "—".to_owned(), |n| format!("{n:.1}")),
            ),
            ("Sends blocked".into(), self.blocked_words()),
            (
                "Decisions decided (median time)".into(),
                format!("{} ({})", self.decided, maybe(self.decision_median)),
            ),
            (
                "Decisions superseded / settled on escalation".into(),
                format!("{} / {}", self.superseded, self.on_escalation),
            ),
            (
                "Most voices to one contact".into(),
                self.max_voices.to_string(),
            ),
            ("Parallel touches".into(), self.parallel.to_string()),
            (
                "Uncoordinated touches".into(),
                self.uncoordinated.to_string(),
            ),
            (
                "Questions answered (median time)".into(),
                format!(
                    "{} of {} ({})",
                    self.answered,
                    self.asked,
                    maybe(self.answer_median)
                ),
            ),
            (
                "Questions asked anyway".into(),
                self.asked_anyway.to_string(),
            ),
            (
                "Duplicate questions avoided".into(),
                self.duplicates_avoided.to_string(),
            ),
            (
                "Time with outreach paused".into(),
                formulas::words(self.paused),
            ),
        ]
    }
}

/// Rooms read per pass. A pass holds its rooms' records (sends, touches, questions…) at once
/// and keeps only their measures: read in one pass, the records of 100,000 rooms took the
/// server's peak memory from ~34 to ~158 MB. A pass of 1,000 costs about ten statements.
const ROOMS_PER_PASS: i64 = 1_000;

/// Everything `/insights` shows, read in a handful of statements per [`ROOMS_PER_PASS`] rooms.
#[derive(Debug, Default)]
pub struct Reading {
    pub rooms: Vec<RoomMeasures>,
    /// The decisions decided, superseded or contested (the velocity charts and flags need each).
    pub decisions: Vec<DecisionRecord>,
    /// For each contact of each room written to, how many members wrote to them.
    pub voices: Vec<usize>,
}

/// The room ids one pass covers.
#[derive(Clone, Copy)]
struct Pass {
    first: i64,
    last: i64,
}

/// Runs one statement over the scope's rooms in `pass` (it binds `$1` to `$4` for the condition)
/// and hands each row to `each` as it arrives; what `each` keeps of them is a few numbers per
/// record.
async fn each_row(
    conn: &mut AnyConnection,
    scope: Scope,
    pass: Pass,
    sql: String,
    mut each: impl FnMut(&AnyRow) -> sqlx::Result<()>,
) -> sqlx::Result<()> {
    let (first, second) = scope.binds();
    // Planned for this pass's bounds every time: a prepared statement's generic plan cannot see
    // that `BETWEEN $3 AND $4` picks a thousand rooms, and on PostgreSQL it scanned whole tables
    // on every pass (the first `/insights` over 100k rooms took 28 s instead of 6).
    let mut rows = sqlx::query(&sql)
        .persistent(false)
        .bind(first)
        .bind(second)
        .bind(pass.first)
        .bind(pass.last)
        .fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(&row)?;
    }
    Ok(())
}

/// A room as a reading starts from.
struct RoomRecord {
    id: i64,
    title: String,
    customer: String,
    severity: Severity,
    escalated_at: Millis,
    cadence_hours: Option<i64>,
}

/// The measures of every room in `scope`, read [`ROOMS_PER_PASS`] rooms at a time in id order.
pub async fn read(conn: &mut AnyConnection, scope: Scope, now: Millis) -> sqlx::Result<Reading> {
    read_in_passes(conn, scope, now, ROOMS_PER_PASS).await
}

/// [`read`] in passes of `rooms_per_pass` rooms. What a reading holds does not depend on it: a
/// test reads the same record in passes of one room and of all of them.
pub async fn read_in_passes(
    conn: &mut AnyConnection,
    scope: Scope,
    now: Millis,
    rooms_per_pass: i64,
) -> sqlx::Result<Reading> {
    let mut reading = Reading::default();
    // Grown pass by pass, the list of measures would hold up to twice its size while it moves.
    reading.rooms.reserve_exact(count_rooms(conn, scope).await?);
    let mut names = Names::default();
    let mut after = i64::MIN;
    loop {
        let rooms = next_rooms(conn, scope, after, rooms_per_pass).await?;
        let (Some(first), Some(last)) = (rooms.first(), rooms.last()) else {
            break;
        };
        let pass = Pass {
            first: first.id,
            last: last.id,
        };
        after = pass.last;
        read_pass(conn, scope, pass, rooms, now, &mut names, &mut reading).await?;
    }
    Ok(reading)
}

/// Decision types' and owners' names, shared by every decision that names them.
#[derive(Default)]
struct Names(HashSet<Arc<str>>);

impl Names {
    fn shared(&mut self, name: String) -> Arc<str> {
        match self.0.get(name.as_str()) {
            Some(known) => Arc::clone(known),
            None => {
                let name: Arc<str> = name.into();
                self.0.insert(Arc::clone(&name));
                name
            }
        }
    }
}

/// How many rooms `scope` covers.
async fn count_rooms(conn: &mut AnyConnection, scope: Scope) -> sqlx::Result<usize> {
    let sql = format!("SELECT COUNT(*) FROM rooms r WHERE {}", scope.rooms("r.id"));
    let every = Pass {
        first: i64::MIN,
        last: i64::MAX,
    };
    let mut count = 0;
    each_row(conn, scope, every, sql, |row| {
        count = row.try_get::<i64, _>(0)?;
        Ok(())
    })
    .await?;
    Ok(usize::try_from(count).unwrap_or_default())
}

/// The next `limit` rooms in `scope` after the room id `after`.
async fn next_rooms(
    conn: &mut AnyConnection,
    scope: Scope,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<RoomRecord>> {
    let mut rooms = Vec::new();
    let sql = format!(
        "SELECT r.id, r.title, c.name, r.severity, r.escalated_at, r.customer_cadence_hours \
         FROM rooms r JOIN customers c ON c.id = r.customer_id WHERE {} ORDER BY r.id LIMIT {limit}",
        scope.rooms("r.id"),
    );
    let pass = Pass {
        first: after.saturating_add(1),
        last: i64::MAX,
    };
    each_row(conn, scope, pass, sql, |row| {
        let severity: String = row.try_get(3)?;
        rooms.push(RoomRecord {
            id: row.try_get(0)?,
            title: row.try_get(1)?,
            customer: row.try_get(2)?,
            severity: Severity::parse(&severity).unwrap_or(Severity::S3),
            escalated_at: row.try_get(4)?,
            cadence_hours: row.try_get(5)?,
        });
        Ok(())
    })
    .await?;
    Ok(rooms)
}

/// Reads the records of `rooms` (the scope's rooms in `pass`) and adds their measures to
/// `reading`.
async fn read_pass(
    conn: &mut AnyConnection,
    scope: Scope,
    pass: Pass,
    rooms: Vec<RoomRecord>,
    now: Millis,
    names: &mut Names,
    reading: &mut Reading,
) -> sqlx::Result<()> {
    let mut sends_of: HashMap<i64, Vec<(Millis, Send)>> = HashMap::new();
    let sql = format!(
        "SELECT d.room_id, o.sent_at, d.current_revision, \
         (SELECT MIN(v.created_at) FROM draft_revisions v WHERE v.draft_id = d.id), \
         (SELECT MAX(a.approved_at) FROM approvals a WHERE a.subject_kind = 'draft' AND a.subject_id = d.id \
          AND a.revision = d.current_revision AND a.stance = 'aligned') \
         FROM drafts d JOIN outbox o ON o.id = d.outbox_id WHERE o.state = 'sent' AND {}",
        scope.rooms("d.room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let send = Send {
            first_revision_at: row.try_get::<Option<Millis>, _>(3)?.unwrap_or_default(),
            revision: row.try_get(2)?,
            alignments: row.try_get::<Option<Millis>, _>(4)?.into_iter().collect(),
        };
        let sent_at: Option<Millis> = row.try_get(1)?;
        sends_of
            .entry(row.try_get(0)?)
            .or_default()
            .push((sent_at.unwrap_or_default(), send));
        Ok(())
    })
    .await?;
    let mut blocked_of: HashMap<i64, Vec<String>> = HashMap::new();
    let sql = format!(
        "SELECT room_id, reasons FROM blocked_sends WHERE {}",
        scope.rooms("room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let reasons = row.try_get(1)?;
        blocked_of.entry(row.try_get(0)?).or_default().push(reasons);
        Ok(())
    })
    .await?;
    let mut checks_of: HashMap<i64, Vec<Option<i64>>> = HashMap::new();
    let sql = format!(
        "SELECT room_id, asked_question_id FROM similar_question_checks WHERE {}",
        scope.rooms("room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let asked = row.try_get(1)?;
        checks_of.entry(row.try_get(0)?).or_default().push(asked);
        Ok(())
    })
    .await?;
    let decisions_before = reading.decisions.len();
    let decisions = &mut reading.decisions;
    let sql = format!(
        "SELECT d.room_id, t.name, u.name, d.proposed_at, d.decided_at, d.status, d.contested_by, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM escalations e WHERE e.subject_kind = 'decision' \
         AND e.subject_id = d.id AND e.ruled_at IS NOT NULL) THEN 1 ELSE 0 END AS BIGINT) \
         FROM decisions d JOIN decision_types t ON t.id = d.decision_type_id \
         JOIN users u ON u.id = t.owner_user_id \
         WHERE (d.status <> 'proposed' OR d.contested_by IS NOT NULL) AND {}",
        scope.rooms("d.room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let status: String = row.try_get(5)?;
        let contested: Option<i64> = row.try_get(6)?;
        decisions.push(DecisionRecord {
            room_id: row.try_get(0)?,
            type_name: names.shared(row.try_get(1)?),
            owner: names.shared(row.try_get(2)?),
            proposed_at: row.try_get(3)?,
            decided_at: match status.as_str() {
                "decided" | "superseded" => row.try_get(4)?,
                _ => None,
            },
            superseded: status == "superseded",
            contested: contested.is_some(),
            on_escalation: row.try_get::<i64, _>(7)? == 1,
        });
        Ok(())
    })
    .await?;
    let mut touches = Vec::new();
    let sql = format!(
        "SELECT room_id, contact_id, by_user_id, touched_at, channel, uncoordinated \
         FROM contact_touches WHERE direction = 'outbound' AND {}",
        scope.rooms("room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let channel: String = row.try_get(4)?;
        touches.push(TouchRecord {
            room_id: row.try_get(0)?,
            contact_id: row.try_get(1)?,
            by: row.try_get(2)?,
            at: row.try_get(3)?,
            written: channel == "email" || channel == "chat",
            uncoordinated: row.try_get::<i64, _>(5)? == 1,
        });
        Ok(())
    })
    .await?;
    let mut questions_of: HashMap<i64, Vec<QuestionRecord>> = HashMap::new();
    let sql = format!(
        "SELECT room_id, asked_at, answered_at, asked_despite FROM questions WHERE {}",
        scope.rooms("room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let despite: String = row.try_get(3)?;
        let question = QuestionRecord {
            asked_at: row.try_get(1)?,
            answered_at: row.try_get(2)?,
            asked_anyway: !despite.is_empty(),
        };
        questions_of
            .entry(row.try_get(0)?)
            .or_default()
            .push(question);
        Ok(())
    })
    .await?;
    let mut pauses_of: HashMap<i64, Vec<PauseRecord>> = HashMap::new();
    let sql = format!(
        "SELECT room_id, set_at, ended_at, until FROM outreach_pauses \
         WHERE state = 'granted' AND {}",
        scope.rooms("room_id")
    );
    each_row(conn, scope, pass, sql, |row| {
        let pause = PauseRecord {
            from: row.try_get(1)?,
            ended_at: row.try_get(2)?,
            until: row.try_get(3)?,
        };
        pauses_of.entry(row.try_get(0)?).or_default().push(pause);
        Ok(())
    })
    .await?;
    // Each room's records, found in one go (not one scan per room).
    let pass_voices = voices(&touches);
    reading.voices.extend(pass_voices.values());
    let mut max_voices: HashMap<i64, usize> = HashMap::new();
    for (&(room, _), &n) in &pass_voices {
        let most = max_voices.entry(room).or_default();
        *most = (*most).max(n);
    }
    let mut decisions_of: HashMap<i64, Vec<&DecisionRecord>> = HashMap::new();
    for d in &reading.decisions[decisions_before..] {
        decisions_of.entry(d.room_id).or_default().push(d);
    }
    let mut touches_of: HashMap<i64, Vec<TouchRecord>> = HashMap::new();
    for t in touches {
        touches_of.entry(t.room_id).or_default().push(t);
    }
    for room in rooms {
        let RoomRecord {
            id,
            title,
            customer,
            severity,
            escalated_at,
            cadence_hours,
        } = room;
        let every = cadence_hours.unwrap_or_else(|| severity.cadence_hours()) * formulas::HOUR;
        let sends = sends_of.remove(&id).unwrap_or_default();
        let sent_at: Vec<Millis> = sends.iter().map(|(at, _)| *at).collect();
        let aligns: Vec<Millis> = sends.iter().filter_map(|(_, s)| time_to_align(s)).collect();
        let room_decisions = decisions_of.remove(&id).unwrap_or_default();
        let decided: Vec<Millis> = room_decisions
            .iter()
            .filter_map(|d| d.decided_at.map(|at| at - d.proposed_at))
            .collect();
        let room_touches = touches_of.remove(&id).unwrap_or_default();
        let questions = questions_of.remove(&id).unwrap_or_default();
        let blocked = blocked_of.remove(&id).unwrap_or_default();
        reading.rooms.push(RoomMeasures {
            id,
            title,
            customer: names.shared(customer),
            severity,
            first_email: time_to_first_email(escalated_at, &sent_at),
            cadence: cadence_kept(&sent_at, every, now),
            sends: sends.len(),
            align_median: median(&aligns),
            revisions_per_send: (!sends.is_empty()).then(|| {
                sends.iter().map(|(_, s)| s.revision as f64).sum::<f64>() / sends.len() as f64
            }),
            blocked_sends: blocked.len(),
            blocked_by_reason: blocked_by_reason(&blocked),
            decided: decided.len(),
            decision_median: median(&decided),
            superseded: room_decisions.iter().filter(|d| d.superseded).count(),
            on_escalation: room_decisions.iter().filter(|d| d.on_escalation).count(),
            max_voices: max_voices.get(&id).copied().unwrap_or(0),
            parallel: parallel_touches(&room_touches),
            uncoordinated: room_touches.iter().filter(|t| t.uncoordinated).count(),
            asked: questions.len(),
            asked_anyway: questions.iter().filter(|q| q.asked_anyway).count(),
            duplicates_avoided: duplicates_avoided(&checks_of.remove(&id).unwrap_or_default()),
            answered: questions.iter().filter(|q| q.answered_at.is_some()).count(),
            answer_median: time_to_answer(&questions),
            paused: paused_time(&pauses_of.remove(&id).unwrap_or_default(), now),
        });
    }
    Ok(())
}
