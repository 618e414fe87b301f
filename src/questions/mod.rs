//! The question ledger: before a question is recorded, the most similar questions already asked
//! of this customer (in this room or another) are shown; asking anyway is an explicit, recorded
//! choice. Questions are answered or withdrawn later.

pub mod model;
pub mod reindex;
pub mod similarity;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::customers::model::{self as customers, Contact};
use crate::error::AppError;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{FieldErrors, Form, invalid, required_text};
use crate::web::page::Page;
use model::{NewQuestion, Question, QuestionStatus, Similar};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/questions/new", get(new))
        .route("/rooms/{id}/questions/similar", get(similar))
        .route("/rooms/{id}/questions", post(ask))
        .route("/rooms/{id}/questions/{q}", get(show))
        .route("/rooms/{id}/questions/{q}/answer", post(answer))
        .route("/rooms/{id}/questions/{q}/withdrawal", post(withdraw))
}

/// Similar questions must all have been seen (their ids acknowledged) before asking anyway.
pub fn needs_confirmation(similar: &[Similar], acknowledged: &[i64], confirmed: bool) -> bool {
    let all_seen = similar
        .iter()
        .all(|s| acknowledged.contains(&s.question.id));
    !similar.is_empty() && (!confirmed || !all_seen)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AskForm {
    body: String,
    stakeholder: String,
    internal_name: String,
    acknowledged: Vec<i64>,
    confirm: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "questions/new.html")]
struct NewPage {
    page: Page,
    room: Room,
    contacts: Vec<Contact>,
    form: AskForm,
    errors: FieldErrors,
    similar: Vec<Similar>,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "questions/new.html", block = "similar")]
struct SimilarFragment {
    page: Page,
    room: Room,
    similar: Vec<Similar>,
    checked: bool,
    errors: FieldErrors,
}

async fn new_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: AskForm,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let checked = !form.body.trim().is_empty();
    let similar = match checked {
        true => model::similar_to(&mut conn, room.customer_id, &form.body).await?,
        false => Vec::new(),
    };
    Ok(NewPage {
        page,
        contacts: customers::contacts_of(&mut *conn, room.customer_id).await?,
        room,
        form,
        errors,
        similar,
        checked,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Draft {
    body: String,
}

/// The form; with `?body=` it also shows what was already asked (the no-JavaScript check).
async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Query(draft): Query<Draft>,
) -> Result<NewPage, AppError> {
    let form = AskForm {
        body: draft.body,
        ..AskForm::default()
    };
    new_page(&state, &user, page, room_id, form, FieldErrors::default()).await
}

/// The "already asked" list alone, fetched by htmx as the question is typed.
async fn similar(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Query(draft): Query<Draft>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !headers.contains_key("hx-request") {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("body", &draft.body)
            .finish();
        return Ok(
            Redirect::to(&format!("/rooms/{room_id}/questions/new?{query}")).into_response(),
        );
    }
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &user).await?;
    let similar = model::similar_to(&mut conn, room.customer_id, &draft.body).await?;
    let checked = !draft.body.trim().is_empty();
    Ok(SimilarFragment {
        page,
        room,
        similar,
        checked,
        errors: FieldErrors::default(),
    }
    .into_response())
}

/// A question as asked, checked: its text and whom it is for (a contact, or an internal name).
pub struct Asked {
    pub body: String,
    pub contact_id: Option<i64>,
    pub internal_name: String,
}

impl AskForm {
    fn parse(&self, contacts: &[Contact]) -> Result<Asked, FieldErrors> {
        let mut errors = FieldErrors::default();
        let body = errors.check(
            "body",
            required_text(&self.body, 2000, "Write the question."),
        );
        let stakeholder = match self.stakeholder.strip_prefix("contact:") {
            Some(id) => contacts
                .iter()
                .find(|c| id.parse() == Ok(c.id))
                .map(|c| (Some(c.id), String::new())),
            None if self.stakeholder == "internal" => errors
                .check(
                    "internal_name",
                    required_text(&self.internal_name, 120, "Name the internal stakeholder."),
                )
                .map(|name| (None, name)),
            None => None,
        };
        if stakeholder.is_none() && errors.get("internal_name").is_none() {
            errors.add("stakeholder", "Choose who the question is for.");
        }
        errors.finish(|| {
            let (contact_id, internal_name) = stakeholder?;
            Some(Asked {
                body: body?,
                contact_id,
                internal_name,
            })
        })
    }
}

/// Writes the question and its timeline entry (every door that asks one comes here); returns
/// its id.
pub async fn record(
    change: &mut RoomChange,
    asked: &Asked,
    despite: &[String],
) -> Result<i64, AppError> {
    let (room_id, now, asker) = (change.room.id, change.now, change.viewer.clone());
    let new = NewQuestion {
        room_id,
        customer_id: change.room.customer_id,
        body: &asked.body,
        stakeholder_contact_id: asked.contact_id,
        stakeholder_name: &asked.internal_name,
        asked_by: asker.user_id,
        asked_despite: &despite.join(","),
    };
    let id = model::insert(change.conn(), &new, now).await?;
    let summary = asked_summary(&asker.name, &asked.body, despite);
    let link = format!("/rooms/{room_id}/questions/{id}");
    change.record("questions.asked", &summary, &link).await?;
    Ok(id)
}

/// The timeline entry, naming the similar questions it was asked despite.
fn asked_summary(asker: &str, body: &str, despite: &[String]) -> String {
    let mut summary = format!("{asker} recorded a question: “{body}”");
    if !despite.is_empty() {
        summary.push_str(&format!(
            " — asked anyway, after seeing {} similar question{} (#{})",
            despite.len(),
            if despite.len() == 1 { "" } else { "s" },
            despite.join(", #")
        ));
    }
    summary
}

async fn ask(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<AskForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let customer_id = change.room.customer_id;
    let contacts = customers::contacts_of(&mut **change.conn(), customer_id).await?;
    let asked = match form.parse(&contacts) {
        Ok(asked) => asked,
        Err(errors) => {
            drop(change);
            return invalid(new_page(&state, &user, page, room_id, form, errors).await?);
        }
    };
    let similar = model::similar_to(change.conn(), customer_id, &asked.body).await?;
    if needs_confirmation(&similar, &form.acknowledged, form.confirm == "yes") {
        let now = change.now;
        drop(change);
        model::note_similar_shown(&state.db, room_id, user.id, &asked.body, now).await?;
        let errors = FieldErrors::single(
            "confirm",
            "Read the similar questions above, then tick this box to record yours anyway.",
        );
        let page = new_page(&state, &user, page, room_id, form, errors).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let despite: Vec<String> = similar.iter().map(|s| s.question.id.to_string()).collect();
    record(&mut change, &asked, &despite).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#questions")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "questions/show.html")]
struct ShowPage {
    page: Page,
    room: Room,
    question: Question,
    can_contribute: bool,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let question = model::find(&mut conn, room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ShowPage {
        page,
        can_contribute: check(&viewer, &room, Action::Contribute).is_ok(),
        room,
        question,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnswerForm {
    answer: String,
}

async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<AnswerForm>,
) -> Result<Redirect, AppError> {
    let text =
        required_text(&form.answer, 5000, "Write the answer.").map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let question = model::find(change.conn(), room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if question.status == QuestionStatus::Withdrawn {
        return Err(AppError::Conflict("This question was withdrawn.".into()));
    }
    let now = change.now;
    model::answer(change.conn(), id, &text, user.id, now).await?;
    let summary = format!("{} recorded the answer to “{}”.", user.name, question.body);
    change
        .record(
            "questions.answered",
            &summary,
            &format!("/rooms/{room_id}/questions/{id}"),
        )
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/questions/{id}")))
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let question = model::find(change.conn(), room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if question.status != QuestionStatus::Open {
        return Err(AppError::Conflict(
            "Only an open question can be withdrawn.".into(),
        ));
    }
    model::withdraw(change.conn(), id).await?;
    let summary = format!("{} withdrew the question “{}”.", user.name, question.body);
    change
        .record(
            "questions.withdrawn",
            &summary,
            &format!("/rooms/{room_id}/questions/{id}"),
        )
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#questions")))
}
