//! `/rooms/{id}/messages/{m}`: one received message in its room — what is new, the quoted
//! history folded, its attachments (downloadable by members only), which open questions it
//! answers (suggested by the ledger's similarity), and "Reply", which starts an ordinary draft.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, AttachmentInfo, InboundState, Received};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::questions::model::{self as questions, AnsweredIn, Question, QuestionStatus};
use crate::questions::similarity;
use crate::rooms::access::{Action, Viewer, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{Form, required_text};
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/messages/{m}", get(show))
        .route("/rooms/{id}/messages/{m}/attachments/{n}", get(download))
        .route("/rooms/{id}/messages/{m}/answers", post(answers))
}

/// An open question and how well a passage of the message answers it.
pub struct Suggestion {
    pub question: Question,
    pub percent: i64,
    pub passage: String,
}

/// The paragraph of `text` that covers most of `question` (the ledger's terms: stemmed, with
/// synonyms), and how much of it.
pub fn best_passage(question: &str, text: &str) -> (f64, String) {
    let wanted = similarity::terms(question);
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|paragraph| {
            let covered = similarity::coverage(&wanted, &similarity::terms(paragraph));
            (covered, paragraph.to_owned())
        })
        .fold((0.0, String::new()), |best, next| {
            if next.0 > best.0 { next } else { best }
        })
}

/// The open questions of the room, best answered by `text` first.
pub fn suggestions(open: Vec<Question>, text: &str) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = open
        .into_iter()
        .map(|question| {
            let (score, passage) = best_passage(&question.body, text);
            Suggestion {
                percent: (score * 100.0).round() as i64,
                passage: if passage.is_empty() {
                    text.to_owned()
                } else {
                    passage
                },
                question,
            }
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.percent));
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "inbound/message.html")]
struct MessagePage {
    page: Page,
    room: Room,
    message: Received,
    attachments: Vec<AttachmentInfo>,
    suggestions: Vec<Suggestion>,
    answered: Vec<Question>,
    may_answer: bool,
    may_reply: bool,
    contact_name: Option<String>,
}

impl MessagePage {
    pub fn is_suggested(&self, s: &Suggestion) -> bool {
        s.percent >= (similarity::THRESHOLD * 100.0) as i64
    }
}

/// Whether the viewer speaks for the room on the ledger: a PM, or the communicator.
fn may_answer(viewer: &Viewer, room: &Room) -> bool {
    check(viewer, room, Action::Contribute).is_ok()
        && (viewer.is_pm() || viewer.user_id == room.communicator_user_id)
}

/// The message, when it was filed in this room (404 otherwise, like any room content).
async fn message_in_room(
    conn: &mut sqlx::AnyConnection,
    room_id: i64,
    id: i64,
) -> Result<Received, AppError> {
    model::find(conn, id)
        .await?
        .filter(|m| m.room_id == Some(room_id) && m.state == InboundState::Filed)
        .ok_or(AppError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
) -> Result<MessagePage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let message = message_in_room(&mut conn, room_id, id).await?;
    let all = questions::list(&mut conn, room_id).await?;
    let answered = questions::answered_in_message(&mut conn, id).await?;
    let open: Vec<Question> = all
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Open)
        .collect();
    let contact_name = match message.contact_id {
        Some(contact) => crate::customers::model::find_contact(&mut *conn, contact)
            .await?
            .map(|c| c.name),
        None => None,
    };
    Ok(MessagePage {
        attachments: model::attachments(&mut conn, id).await?,
        suggestions: suggestions(open, message.fresh()),
        answered,
        may_answer: may_answer(&viewer, &room),
        may_reply: check(&viewer, &room, Action::Contribute).is_ok()
            && message.contact_id.is_some(),
        contact_name,
        page,
        room,
        message,
    })
}

/// Serves one attachment as a download, never inline (a customer's HTML never runs here).
async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id, position)): Path<(i64, i64, i64)>,
) -> Result<Response, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    read_room(&mut conn, room_id, &user).await?;
    message_in_room(&mut conn, room_id, id).await?;
    let (filename, content) = model::attachment_content(&mut conn, id, position)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(attachment_response(&filename, content))
}

/// An attachment as a download: octet-stream, `attachment` disposition, no sniffing.
pub fn attachment_response(filename: &str, content: Vec<u8>) -> Response {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    let encoded = url::form_urlencoded::byte_serialize(filename.as_bytes()).collect::<String>();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        content,
    )
        .into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnswersForm {
    question: i64,
    passage: String,
}

/// Marks an open question answered by this message, quoting the passage that answers it.
async fn answers(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<AnswersForm>,
) -> Result<Redirect, AppError> {
    let passage = required_text(&form.passage, 5000, "Quote the passage that answers it.")
        .map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    if !may_answer(&change.viewer, &change.room) {
        return Err(AppError::Forbidden(
            "Only the room's PMs and its communicator record answers from the customer.".into(),
        ));
    }
    let message = message_in_room(change.conn(), room_id, id).await?;
    let question = questions::find(change.conn(), room_id, form.question)
        .await?
        .ok_or(AppError::NotFound)?;
    if question.status != QuestionStatus::Open {
        return Err(AppError::Conflict(format!(
            "“{}” is already {}.",
            question.body,
            question.status.label().to_lowercase()
        )));
    }
    let now = change.now;
    questions::answer_from(
        change.conn(),
        question.id,
        &passage,
        AnsweredIn::Message(id),
        user.id,
        now,
    )
    .await?;
    let summary = format!(
        "{} marked “{}” answered by {}'s email “{}”.",
        user.name,
        question.body,
        message.sender(),
        message.subject_or_none()
    );
    change
        .record(
            "questions.answered",
            &summary,
            &format!("/rooms/{room_id}/messages/{id}"),
        )
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!(
        "/rooms/{room_id}/messages/{id}#answers"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paragraph_that_answers_a_question_is_found() {
        let text = "Thanks for the update.\n\nWe run about 40 depots in the affected region, all on the nightly plan.\n\nBest, Jordan";
        let (score, passage) = best_passage("How many depots are affected?", text);
        assert!(score >= similarity::THRESHOLD, "{score}");
        assert!(passage.starts_with("We run about 40 depots"), "{passage}");
        let (none, _) = best_passage("Which ERP version do you run?", "Thanks!");
        assert!(none < similarity::THRESHOLD);
    }
}
