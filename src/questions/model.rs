//! Questions and their answers, and the candidate search behind "already asked".

use sqlx::{AnyConnection, Row};

use super::similarity;
use crate::clock::Millis;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;

text_enum! {
    pub enum QuestionStatus {
        Open = "open" => "Open",
        Answered = "answered" => "Answered",
        Withdrawn = "withdrawn" => "Withdrawn",
    }
}

#[derive(Clone, Debug)]
pub struct Question {
    pub id: i64,
    pub room_id: i64,
    pub room_title: String,
    pub body: String,
    pub stakeholder: String,
    pub asked_by: String,
    pub asked_at: Millis,
    pub status: QuestionStatus,
    pub answer: String,
    pub answered_at: Option<Millis>,
    /// The customer's email the answer was quoted from, when it came from one.
    pub answered_in_message: Option<i64>,
    /// The call or meeting it was answered on, when it was.
    pub answered_in_engagement: Option<i64>,
    pub asked_despite: String,
    terms: String,
}

/// A question found similar to a new one, with how close it is.
#[derive(Clone, Debug)]
pub struct Similar {
    pub question: Question,
    pub score: f64,
}

impl Similar {
    pub fn percent(&self) -> i64 {
        (self.score * 100.0).round() as i64
    }
}

const QUERY: &str = "SELECT q.id, q.room_id, r.title, q.body, \
     COALESCE(c.name, q.stakeholder_name), u.name, q.asked_at, q.status, q.answer, q.answered_at, \
     q.asked_despite, q.terms, q.answered_in_message, q.answered_in_engagement FROM questions q JOIN rooms r ON r.id = q.room_id \
     JOIN users u ON u.id = q.asked_by LEFT JOIN contacts c ON c.id = q.stakeholder_contact_id";

fn from_row(row: sqlx::any::AnyRow) -> sqlx::Result<Question> {
    let status: String = row.try_get(7)?;
    Ok(Question {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        room_title: row.try_get(2)?,
        body: row.try_get(3)?,
        stakeholder: row.try_get(4)?,
        asked_by: row.try_get(5)?,
        asked_at: row.try_get(6)?,
        status: QuestionStatus::parse(&status).unwrap_or(QuestionStatus::Open),
        answer: row.try_get(8)?,
        answered_at: row.try_get(9)?,
        asked_despite: row.try_get(10)?,
        terms: row.try_get(11)?,
        answered_in_message: row.try_get(12)?,
        answered_in_engagement: row.try_get(13)?,
    })
}

pub async fn list(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Question>> {
    let rows = sqlx::query(&format!("{QUERY} WHERE q.room_id = $1 ORDER BY q.id DESC"))
        .bind(room_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(from_row).collect()
}

pub async fn find(
    conn: &mut AnyConnection,
    room_id: i64,
    id: i64,
) -> sqlx::Result<Option<Question>> {
    let row = sqlx::query(&format!("{QUERY} WHERE q.room_id = $1 AND q.id = $2"))
        .bind(room_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(from_row).transpose()
}

/// How many candidates sharing a term are scored (the best-overlapping first).
const CANDIDATES: i64 = 200;
/// How many similar questions are shown.
const SHOWN: usize = 5;

/// The questions of this customer (any room) most similar to `text`, best first.
pub async fn similar_to(
    conn: &mut AnyConnection,
    customer_id: i64,
    text: &str,
) -> sqlx::Result<Vec<Similar>> {
    let terms = similarity::terms(text);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..terms.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT question_id FROM question_terms WHERE customer_id = $1 AND term IN ({}) \
         GROUP BY question_id ORDER BY COUNT(*) DESC, question_id DESC LIMIT {CANDIDATES}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar(&sql).bind(customer_id);
    for term in &terms {
        query = query.bind(term);
    }
    let ids: Vec<i64> = query.fetch_all(&mut *conn).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("{QUERY} WHERE q.id IN ({})", placeholders.join(", "));
    let mut candidates = sqlx::query(&sql);
    for id in &ids {
        candidates = candidates.bind(id);
    }
    let mut found = Vec::new();
    for row in candidates.fetch_all(&mut *conn).await? {
        let question = from_row(row)?;
        let theirs: Vec<String> = question.terms.split(' ').map(str::to_owned).collect();
        let score = similarity::score(&terms, &theirs);
        if score >= similarity::THRESHOLD && question.status != QuestionStatus::Withdrawn {
            found.push(Similar { question, score });
        }
    }
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.question.id.cmp(&a.question.id))
    });
    found.truncate(SHOWN);
    Ok(found)
}

pub struct NewQuestion<'a> {
    pub room_id: i64,
    pub customer_id: i64,
    pub body: &'a str,
    pub stakeholder_contact_id: Option<i64>,
    pub stakeholder_name: &'a str,
    pub asked_by: i64,
    pub asked_despite: &'a str,
}

pub async fn insert(tx: &mut RoomTx, new: &NewQuestion<'_>, now: Millis) -> sqlx::Result<i64> {
    let terms = similarity::terms(new.body);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO questions (room_id, customer_id, body, terms, stakeholder_contact_id, \
         stakeholder_name, asked_by, asked_at, status, asked_despite) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9) RETURNING id",
    )
    .bind(new.room_id)
    .bind(new.customer_id)
    .bind(new.body)
    .bind(terms.join(" "))
    .bind(new.stakeholder_contact_id)
    .bind(new.stakeholder_name)
    .bind(new.asked_by)
    .bind(now)
    .bind(new.asked_despite)
    .fetch_one(tx.room(new.room_id))
    .await?;
    for term in terms {
        sqlx::query(
            "INSERT INTO question_terms (customer_id, term, question_id) VALUES ($1, $2, $3) \
             ON CONFLICT (customer_id, term, question_id) DO NOTHING",
        )
        .bind(new.customer_id)
        .bind(term)
        .bind(id)
        .execute(tx.room(new.room_id))
        .await?;
    }
    // Asked anyway after being shown similar questions: that check avoided nothing.
    sqlx::query(
        "UPDATE similar_question_checks SET asked_question_id = $1 \
         WHERE room_id = $2 AND user_id = $3 AND body_digest = $4 AND asked_question_id IS NULL",
    )
    .bind(id)
    .bind(new.room_id)
    .bind(new.asked_by)
    .bind(wording_digest(new.body))
    .execute(tx.room(new.room_id))
    .await?;
    Ok(id)
}

/// What a wording is kept under in `similar_question_checks`: the SHA-256 of the text with case
/// and runs of whitespace ignored (the text itself is not stored twice).
pub fn wording_digest(body: &str) -> String {
    let words: Vec<String> = body.split_whitespace().map(str::to_lowercase).collect();
    crate::secrets::digest(&words.join(" "))
}

/// Keeps that `user_id` was shown similar questions instead of recording `body` in `room_id`
/// (once per person, room and wording): a duplicate avoided, unless they ask it anyway. Called
/// after the refused change was rolled back, in its own short write.
pub async fn note_similar_shown(
    db: &crate::db::Db,
    room_id: i64,
    user_id: i64,
    body: &str,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO similar_question_checks (room_id, user_id, body_digest, shown_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, user_id, body_digest) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(wording_digest(body))
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Rebuilds the stored terms of every question in the room from its text (after the similarity
/// rules changed). Returns how many questions it rebuilt.
pub async fn reindex_room(tx: &mut RoomTx, room_id: i64) -> sqlx::Result<usize> {
    let questions: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT id, customer_id, body FROM questions WHERE room_id = $1")
            .bind(room_id)
            .fetch_all(&mut **tx)
            .await?;
    for (id, customer_id, body) in &questions {
        let terms = similarity::terms(body);
        sqlx::query("UPDATE questions SET terms = $1 WHERE id = $2")
            .bind(terms.join(" "))
            .bind(id)
            .execute(tx.room(room_id))
            .await?;
        sqlx::query("DELETE FROM question_terms WHERE question_id = $1")
            .bind(id)
            .execute(tx.room(room_id))
            .await?;
        for term in terms {
            sqlx::query(
                "INSERT INTO question_terms (customer_id, term, question_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (customer_id, term, question_id) DO NOTHING",
            )
            .bind(customer_id)
            .bind(term)
            .bind(id)
            .execute(tx.room(room_id))
            .await?;
        }
    }
    Ok(questions.len())
}

/// The rooms that have questions.
pub async fn rooms_with_questions(conn: &mut AnyConnection) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT DISTINCT room_id FROM questions ORDER BY room_id")
        .fetch_all(conn)
        .await
}

/// Which similarity rules built the stored terms, if recorded.
pub async fn terms_version(conn: &mut AnyConnection) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM app_meta WHERE key = 'question_terms'")
        .fetch_optional(conn)
        .await
}

pub async fn set_terms_version(conn: &mut AnyConnection, version: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO app_meta (key, value) VALUES ('question_terms', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(version)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn answer(
    tx: &mut RoomTx,
    id: i64,
    answer: &str,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE questions SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4")
        .bind(answer)
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Where an answer came from, linked from the question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnsweredIn {
    /// A passage of the customer's email (an inbound message).
    Message(i64),
    /// What the contact said on a call or meeting (an engagement).
    Engagement(i64),
}

/// Answers a question with `answer`, linking it to where it came from.
pub async fn answer_from(
    tx: &mut RoomTx,
    id: i64,
    answer: &str,
    source: AnsweredIn,
    by: i64,
    now: Millis,
) -> sqlx::Result<()> {
    let (message, engagement) = match source {
        AnsweredIn::Message(id) => (Some(id), None),
        AnsweredIn::Engagement(id) => (None, Some(id)),
    };
    sqlx::query(
        "UPDATE questions SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3, \
         answered_in_message = $4, answered_in_engagement = $5 WHERE id = $6",
    )
    .bind(answer)
    .bind(by)
    .bind(now)
    .bind(message)
    .bind(engagement)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The questions a received message answered.
pub async fn answered_in_message(
    conn: &mut AnyConnection,
    message_id: i64,
) -> sqlx::Result<Vec<Question>> {
    let rows = sqlx::query(&format!(
        "{QUERY} WHERE q.answered_in_message = $1 ORDER BY q.id"
    ))
    .bind(message_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

pub async fn withdraw(tx: &mut RoomTx, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE questions SET status = 'withdrawn' WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
