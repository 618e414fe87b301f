//! Editing a room's details and moving it through open → resolved → closed (and back by
//! reopening). A closed room is read-only; closing needs a resolution summary.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::access::{Abilities, Action};
use super::change::{RoomChange, read_room};
use super::model::{self, CADENCE_CHOICES, Details, Room, RoomStatus, Severity, cadence_words};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::customers::model as customers;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid, optional_text, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/edit", get(edit))
        .route("/rooms/{id}", axum::routing::post(update))
        .route("/rooms/{id}/resolution", post(resolve))
        .route("/rooms/{id}/closure", post(close))
        .route("/rooms/{id}/reopening", post(reopen))
}

/// Whether a room may move from `from` to `to`; closing needs a resolution summary.
pub fn transition(from: RoomStatus, to: RoomStatus, summary: &str) -> Result<(), String> {
    match (from, to) {
        (RoomStatus::Open, RoomStatus::Resolved) => Ok(()),
        (RoomStatus::Open | RoomStatus::Resolved, RoomStatus::Closed)
            if summary.trim().is_empty() =>
        {
            Err("Write a resolution summary before closing the room.".to_owned())
        }
        (RoomStatus::Open | RoomStatus::Resolved, RoomStatus::Closed) => Ok(()),
        (RoomStatus::Resolved | RoomStatus::Closed, RoomStatus::Open) => Ok(()),
        (from, to) => Err(format!(
            "A room that is {} cannot become {}.",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailsForm {
    title: String,
    problem: String,
    severity: String,
    next_customer_update_due: String,
    next_leadership_update_due: String,
    /// Hours between customer updates; empty follows the severity.
    customer_cadence: String,
    leadership_cadence: String,
}

/// A cadence field: empty follows the severity, else one of [`CADENCE_CHOICES`].
fn cadence(raw: &str) -> Result<Option<i64>, &'static str> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw
            .parse()
            .ok()
            .filter(|hours| CADENCE_CHOICES.contains(hours))
            .map(Some)
            .ok_or("Choose how often from the list."),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/edit.html")]
struct EditPage {
    page: Page,
    room: Room,
    can: Abilities,
    form: DetailsForm,
    errors: FieldErrors,
    severities: &'static [Severity],
    cadences: &'static [i64],
}

impl EditPage {
    fn cadence_words(&self, hours: &i64) -> String {
        cadence_words(*hours)
    }

    /// "Follow the severity (S2 high: every 3 days)".
    fn by_severity(&self) -> String {
        let severity = self.room.severity();
        format!(
            "Follow the severity ({}: {})",
            severity.label(),
            cadence_words(severity.cadence_hours())
        )
    }
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: Option<DetailsForm>,
    errors: FieldErrors,
) -> Result<EditPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    let can = Abilities::of(&viewer, &room);
    if !can.edit_room && !can.change_lifecycle {
        return Err(AppError::Forbidden(
            "Only product managers of this room (or an admin) can change it.".into(),
        ));
    }
    let form = form.unwrap_or_else(|| DetailsForm {
        title: room.title.clone(),
        problem: room.problem.clone(),
        severity: room.severity().as_str().to_owned(),
        next_customer_update_due: room
            .next_customer_update_due
            .map(|at| page.zone.to_input(at))
            .unwrap_or_default(),
        next_leadership_update_due: room
            .next_leadership_update_due
            .map(|at| page.zone.to_input(at))
            .unwrap_or_default(),
        customer_cadence: room
            .customer_cadence_hours
            .map_or(String::new(), |h| h.to_string()),
        leadership_cadence: room
            .leadership_cadence_hours
            .map_or(String::new(), |h| h.to_string()),
    });
    Ok(EditPage {
        page,
        room,
        can,
        form,
        errors,
        severities: Severity::ALL,
        cadences: CADENCE_CHOICES,
    })
}

async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<EditPage, AppError> {
    edit_page(&state, &user, page, room_id, None, FieldErrors::default()).await
}

impl DetailsForm {
    /// Checks the form; due times are read in `zone`.
    fn parse(&self, zone: Zone) -> Result<Details, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(
            "title",
            required_text(&self.title, 160, "Give the escalation a short title."),
        );
        let problem = errors.check(
            "problem",
            required_text(&self.problem, 5000, "Describe the problem."),
        );
        let severity = errors.require(
            "severity",
            Severity::parse(&self.severity),
            "Choose a severity.",
        );
        let customer_due = errors.check(
            "next_customer_update_due",
            zone.parse_input(&self.next_customer_update_due),
        );
        let leadership_due = errors.check(
            "next_leadership_update_due",
            zone.parse_input(&self.next_leadership_update_due),
        );
        let customer_cadence = errors.check("customer_cadence", cadence(&self.customer_cadence));
        let leadership_cadence =
            errors.check("leadership_cadence", cadence(&self.leadership_cadence));
        errors.finish(|| {
            Some(Details {
                customer_cadence_hours: customer_cadence?,
                leadership_cadence_hours: leadership_cadence?,
                title: title?,
                problem: problem?,
                severity: severity?,
                next_customer_update_due: customer_due?,
                next_leadership_update_due: leadership_due?,
            })
        })
    }
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<DetailsForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::EditRoom).await?;
    let details = match form.parse(page.zone) {
        Ok(details) => details,
        Err(errors) => {
            drop(change);
            return invalid(edit_page(&state, &user, page, room_id, Some(form), errors).await?);
        }
    };
    let customer_id = change.room.customer_id;
    let customer = customers::find(&mut **change.conn(), customer_id)
        .await?
        .map_or(String::new(), |c| c.name);
    model::update_details(change.conn(), room_id, &customer, &details).await?;
    let summary = format!(
        "{} updated the room's details ({}).",
        user.name,
        details.severity.label()
    );
    change.record("room.updated", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusForm {
    summary: String,
}

async fn move_to(
    state: &AppState,
    user: &CurrentUser,
    room_id: i64,
    to: RoomStatus,
    summary: &str,
) -> Result<Redirect, AppError> {
    let summary = optional_text(summary, 5000).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(state, room_id, user, Action::ChangeLifecycle).await?;
    transition(change.room.status(), to, &summary).map_err(AppError::Conflict)?;
    let resolution = (to != RoomStatus::Open && !summary.is_empty()).then_some(summary.as_str());
    model::set_status(change.conn(), room_id, to, resolution).await?;
    let (kind, verb) = match to {
        RoomStatus::Open => ("room.reopened", "reopened the room"),
        RoomStatus::Resolved => ("room.resolved", "marked the room resolved"),
        RoomStatus::Closed => ("room.closed", "closed the room"),
    };
    let said = match summary.is_empty() {
        true => format!("{} {verb}.", user.name),
        false => format!("{} {verb}: {summary}", user.name),
    };
    change.record(kind, &said, "").await?;
    if to == RoomStatus::Closed {
        crate::retrospectives::freeze(&mut change).await?;
    }
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")))
}

async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Redirect, AppError> {
    move_to(&state, &user, room_id, RoomStatus::Resolved, &form.summary).await
}

async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Redirect, AppError> {
    move_to(&state, &user, room_id, RoomStatus::Closed, &form.summary).await
}

async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Redirect, AppError> {
    let reason = required_text(&form.summary, 2000, "Say why the room is reopened.")
        .map_err(AppError::Conflict)?;
    move_to(&state, &user, room_id, RoomStatus::Open, &reason).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoomStatus::*;

    #[test]
    fn rooms_move_forward_and_reopen() {
        assert!(transition(Open, Resolved, "").is_ok());
        assert!(transition(Resolved, Closed, "Shipped the forecast view").is_ok());
        assert!(transition(Open, Closed, "Customer satisfied").is_ok());
        assert!(transition(Closed, Open, "").is_ok());
        assert!(transition(Resolved, Open, "").is_ok());
    }

    #[test]
    fn closing_needs_a_resolution_summary() {
        assert_eq!(
            transition(Resolved, Closed, "  ").unwrap_err(),
            "Write a resolution summary before closing the room."
        );
    }

    #[test]
    fn impossible_moves_are_refused() {
        assert!(transition(Closed, Resolved, "x").is_err());
        assert!(transition(Open, Open, "x").is_err());
        assert!(transition(Closed, Closed, "x").is_err());
    }
}
