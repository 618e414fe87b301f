//! Outreach pauses and holds. The lead or the communicator pauses every channel to the customer
//! at once (reason, optional end, optional resume condition) and resumes it; any other member
//! *asks* for a hold, which the lead or the communicator grants or declines with a reason. While
//! paused nothing goes to the customer, whoever approved, and no call or meeting is cleared. A
//! resume condition that is met shows "ready to resume": the lead resumes with one click.

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::rooms::access::{Action, Viewer, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::forms::{FieldErrors, Form, invalid, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;
use crate::workstreams::model::{self as workstreams, Workstream, WorkstreamStatus};
use model::{NewHold, Resume};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/pause", axum::routing::get(form).post(pause))
        .route("/rooms/{id}/pause/end", post(resume))
        .route("/rooms/{id}/holds", post(ask))
        .route("/rooms/{id}/holds/{hold}/grant", post(grant))
        .route("/rooms/{id}/holds/{hold}/decline", post(decline))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PauseForm {
    reason: String,
    until: String,
    /// Ready to resume from this time (as typed, in the reader's zone).
    resume_at: String,
    /// Ready to resume when a workstream reaches a status: "ID:STATUS".
    resume_when: String,
}

/// A pause or hold as typed, checked.
struct Checked {
    reason: String,
    until: Option<i64>,
    resume: Option<Resume>,
}

impl PauseForm {
    fn parse(
        &self,
        zone: Zone,
        workstreams: &[Workstream],
        now: i64,
    ) -> Result<Checked, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reason = errors.check(
            "reason",
            required_text(&self.reason, 500, "Say why outreach should pause."),
        );
        let until = errors.check("until", zone.parse_input(&self.until));
        if until.flatten().is_some_and(|until| until <= now) {
            errors.add("until", "The end of the pause must be in the future.");
        }
        let resume_at = errors.check("resume_at", zone.parse_input(&self.resume_at));
        let resume_when = match self.resume_when.split_once(':') {
            None if self.resume_when.trim().is_empty() => Some(None),
            None => None,
            Some((id, status)) => workstreams
                .iter()
                .find(|w| id.parse() == Ok(w.id))
                .zip(WorkstreamStatus::parse(status))
                .map(|(w, status)| {
                    Some(Resume::Workstream {
                        id: w.id,
                        title: w.title.clone(),
                        status,
                    })
                }),
        };
        let resume_when = errors.require(
            "resume_when",
            resume_when,
            "Choose a workstream of this room and a status.",
        );
        let resume = match (resume_at.flatten(), resume_when.clone().flatten()) {
            (Some(_), Some(_)) => {
                errors.add(
                    "resume_when",
                    "Choose one resume condition: a time or a workstream.",
                );
                None
            }
            (Some(at), None) => Some(Resume::At(at)),
            (None, when) => when,
        };
        errors.finish(|| {
            Some(Checked {
                reason: reason?,
                until: until?,
                resume,
            })
        })
    }

    fn hold(checked: &Checked) -> NewHold<'_> {
        NewHold {
            reason: &checked.reason,
            until: checked.until,
            resume: checked.resume.as_ref(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/pause.html")]
struct PausePage {
    page: Page,
    room: Room,
    /// The lead or the communicator pauses at once; anyone else asks.
    pauses_directly: bool,
    workstreams: Vec<Workstream>,
    statuses: &'static [WorkstreamStatus],
    form: PauseForm,
    errors: FieldErrors,
}

impl PausePage {
    fn is_resume_choice(&self, workstream: &Workstream, status: &WorkstreamStatus) -> bool {
        self.form.resume_when == format!("{}:{}", workstream.id, status.as_str())
    }
}

fn pauses_directly(viewer: &Viewer, room: &Room) -> bool {
    check(viewer, room, Action::ControlOutreach).is_ok()
}

async fn page_with(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: PauseForm,
    errors: FieldErrors,
) -> Result<PausePage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    Ok(PausePage {
        page,
        pauses_directly: pauses_directly(&viewer, &room),
        workstreams: workstreams::list(&mut conn, room_id).await?,
        room,
        statuses: WorkstreamStatus::ALL,
        form,
        errors,
    })
}

async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<PausePage, AppError> {
    page_with(
        &state,
        &user,
        page,
        room_id,
        PauseForm::default(),
        FieldErrors::default(),
    )
    .await
}

/// The form checked inside the change (the workstreams as they are now); the form again (422)
/// when it is not right.
async fn checked(
    page: &Page,
    change: &mut RoomChange,
    form: &PauseForm,
) -> Result<Result<Checked, FieldErrors>, AppError> {
    let room_id = change.room.id;
    let workstreams = workstreams::list(change.conn(), room_id).await?;
    Ok(form.parse(page.zone, &workstreams, change.now))
}

async fn invalid_form(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    change: RoomChange,
    form: PauseForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let room_id = change.room.id;
    drop(change);
    invalid(page_with(state, user, page, room_id, form, errors).await?)
}

/// " until Tue 1 Dec, 09:00 UTC; ready to resume when “Forecast” is done": for timeline entries.
fn terms(checked: &Checked, zone: Zone) -> String {
    let until = checked.until.map_or(" until resumed".to_owned(), |u| {
        format!(" until {}", zone.when(u))
    });
    let resume = checked
        .resume
        .as_ref()
        .map(|r| format!(" (ready to resume {})", r.words(zone)))
        .unwrap_or_default();
    format!("{until}{resume}")
}

/// Whether a form pauses at once (the lead or the communicator) or asks for a hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pausing {
    Now,
    Asked,
}

async fn pause(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<PauseForm>,
) -> Result<Response, AppError> {
    hold(&state, &user, page, room_id, form, Pausing::Now).await
}

/// Any member but leadership asks for a hold; nothing pauses until it is granted.
async fn ask(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<PauseForm>,
) -> Result<Response, AppError> {
    hold(&state, &user, page, room_id, form, Pausing::Asked).await
}

/// Pauses the room, or records the request for a hold, with its timeline entry.
async fn hold(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: PauseForm,
    pausing: Pausing,
) -> Result<Response, AppError> {
    let action = match pausing {
        Pausing::Now => Action::ControlOutreach,
        Pausing::Asked => Action::Contribute,
    };
    let mut change = RoomChange::begin(state, room_id, user, action).await?;
    let checked = match checked(&page, &mut change, &form).await? {
        Ok(checked) => checked,
        Err(errors) => return invalid_form(state, user, page, change, form, errors).await,
    };
    let (now, hold) = (change.now, PauseForm::hold(&checked));
    let (kind, verb) = match pausing {
        Pausing::Now => {
            model::insert(change.conn(), room_id, &hold, user.id, now).await?;
            ("outreach.paused", "paused")
        }
        Pausing::Asked => {
            model::request(change.conn(), room_id, &hold, user.id, now).await?;
            ("outreach.hold_requested", "asked to hold")
        }
    };
    let summary = format!(
        "{} {verb} customer outreach{}: {}",
        user.name,
        terms(&checked, page.zone),
        checked.reason
    );
    change.record(kind, &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}

/// The pending request `hold` of the room, read inside the change.
async fn pending(change: &mut RoomChange, hold: i64) -> Result<model::HoldRequest, AppError> {
    let room_id = change.room.id;
    model::requests(change.conn(), room_id)
        .await?
        .into_iter()
        .find(|r| r.id == hold)
        .ok_or_else(|| AppError::Conflict("This hold was already granted or declined.".into()))
}

async fn grant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, hold)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ControlOutreach).await?;
    let request = pending(&mut change, hold).await?;
    let now = change.now;
    model::grant(change.conn(), room_id, hold, user.id, now).await?;
    let summary = format!(
        "{} granted {}'s hold: customer outreach is paused — {}",
        user.name, request.asked_by, request.reason
    );
    change.record("outreach.paused", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeclineForm {
    reason: String,
}

async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, hold)): Path<(i64, i64)>,
    Form(form): Form<DeclineForm>,
) -> Result<Redirect, AppError> {
    let reason = required_text(&form.reason, 500, "Say why the hold is declined.")
        .map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ControlOutreach).await?;
    let request = pending(&mut change, hold).await?;
    let now = change.now;
    model::decline(change.conn(), room_id, hold, &reason, user.id, now).await?;
    let summary = format!(
        "{} declined {}'s hold ({}): {reason}",
        user.name, request.asked_by, request.reason
    );
    change
        .record("outreach.hold_declined", &summary, "")
        .await?;
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
