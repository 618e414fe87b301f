//! Outreach pauses: the lead or the communicator holds all customer email for the room (reason,
//! optional end) and resumes it. While paused, nothing goes to the customer, whoever approved.

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::forms::{Form, required_text};
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/pause", axum::routing::get(form).post(pause))
        .route("/rooms/{id}/pause/end", post(resume))
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/pause.html")]
struct PausePage {
    page: Page,
    room: Room,
}

async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<PausePage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    check(&viewer, &room, Action::ControlOutreach)?;
    Ok(PausePage { page, room })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PauseForm {
    reason: String,
    until: String,
}

async fn pause(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<PauseForm>,
) -> Result<Redirect, AppError> {
    let reason = required_text(&form.reason, 500, "Say why outreach is paused.")
        .map_err(AppError::Conflict)?;
    let until = page
        .zone
        .parse_input(&form.until)
        .map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ControlOutreach).await?;
    let now = change.now;
    if until.is_some_and(|until| until <= now) {
        return Err(AppError::Conflict(
            "The end of the pause must be in the future.".into(),
        ));
    }
    model::insert(change.conn(), room_id, &reason, user.id, until, now).await?;
    let until_words = until.map_or(" until resumed".to_owned(), |u| {
        format!(" until {}", page.zone.when(u))
    });
    let summary = format!(
        "{} paused customer outreach{until_words}: {reason}",
        user.name
    );
    change.record("outreach.paused", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")))
}

async fn resume(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ControlOutreach).await?;
    let now = change.now;
    let active = model::active(change.conn(), room_id, now).await?;
    let active = active.ok_or_else(|| AppError::Conflict("Outreach is not paused.".into()))?;
    model::end(change.conn(), active.id, user.id, now).await?;
    let summary = format!("{} resumed customer outreach.", user.name);
    change.record("outreach.resumed", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")))
}
