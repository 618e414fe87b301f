//! `/rooms/{id}/engagements/new`: planning a call, meeting, visit or chat — contacts, topic, time
//! (in the planner's zone), purpose, and the questions to ask, pre-filled with the room's open
//! ledger questions for those contacts so each is asked once. The room's engagements already
//! planned are listed first, so a teammate adds a question to one instead of calling separately.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::model::{self, Engagement, NewEngagement, OpenQuestion};
use super::rules::{EngagementKind, STARTED_GRACE};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::customers::model::{self as customers, Contact};
use crate::error::AppError;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{FieldErrors, Form, invalid, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;
use crate::workstreams::model::{self as workstreams, Workstream};

/// The longest engagement one plan holds: a full day on site.
const MAX_MINUTES: i64 = 12 * 60;

/// Checks a planned length in minutes: a whole number from 5 to a full day on site.
pub fn planned_minutes(raw: &str) -> Result<i64, String> {
    match raw.trim().parse::<i64>() {
        Ok(minutes) if (5..=MAX_MINUTES).contains(&minutes) => Ok(minutes),
        _ => Err(format!(
            "Give a length between 5 and {MAX_MINUTES} minutes."
        )),
    }
}

/// Checks a planned time: set, readable in `zone`, and not in the past (beyond the grace).
pub fn planned_time(raw: &str, zone: Zone, now: Millis) -> Result<Millis, String> {
    match zone.parse_input(raw)? {
        None => Err("Say when it takes place.".to_owned()),
        Some(at) if at < now - STARTED_GRACE => Err(
            "That is in the past: plan what is ahead. For a conversation that already happened, log a touch."
                .to_owned(),
        ),
        Some(at) => Ok(at),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PlanForm {
    kind: String,
    workstream: String,
    contacts: Vec<i64>,
    starts_at: String,
    minutes: String,
    purpose: String,
    /// The ledger questions to bundle.
    questions: Vec<i64>,
}

/// The planning page's query: what to pre-select (the room page links with a topic).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Preselect {
    workstream: Option<i64>,
    contact: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "engagements/new.html")]
pub struct PlanPage {
    page: Page,
    room: Room,
    kinds: &'static [EngagementKind],
    workstreams: Vec<Workstream>,
    contacts: Vec<Contact>,
    open_questions: Vec<OpenQuestion>,
    planned: Vec<Engagement>,
    form: PlanForm,
    errors: FieldErrors,
}

impl PlanPage {
    fn is_contact(&self, id: &i64) -> bool {
        self.form.contacts.contains(id)
    }

    fn is_question(&self, id: &i64) -> bool {
        self.form.questions.contains(id)
    }
}

/// The plan as typed, checked.
struct Checked {
    kind: EngagementKind,
    workstream: Workstream,
    contacts: Vec<i64>,
    starts_at: Millis,
    minutes: i64,
    purpose: String,
    questions: Vec<i64>,
}

impl PlanForm {
    fn parse(
        &self,
        workstreams: &[Workstream],
        contacts: &[Contact],
        open: &[OpenQuestion],
        (zone, now): (Zone, Millis),
    ) -> Result<Checked, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.require(
            "kind",
            EngagementKind::parse(&self.kind),
            "Choose a call, meeting, visit or chat.",
        );
        let workstream = workstreams
            .iter()
            .find(|w| self.workstream.parse() == Ok(w.id))
            .cloned();
        let workstream = errors.require(
            "workstream",
            workstream,
            "Choose the topic: one of the room's workstreams (its voice clears the engagement).",
        );
        let chosen: Vec<i64> = contacts
            .iter()
            .filter(|c| self.contacts.contains(&c.id))
            .map(|c| c.id)
            .collect();
        if chosen.is_empty() || chosen.len() != self.contacts.len() {
            errors.add(
                "contacts",
                "Choose who you will talk to among the customer's contacts.",
            );
        }
        let starts_at = errors.check("starts_at", planned_time(&self.starts_at, zone, now));
        let minutes = errors.check("minutes", planned_minutes(&self.minutes));
        let purpose = errors.check(
            "purpose",
            required_text(&self.purpose, 1000, "Say what the engagement is for."),
        );
        let questions: Vec<i64> = self.questions.clone();
        let bundled: Vec<&OpenQuestion> =
            open.iter().filter(|q| questions.contains(&q.id)).collect();
        let elsewhere = bundled
            .iter()
            .find(|q| !chosen.is_empty() && !chosen.contains(&q.contact_id));
        if bundled.len() != questions.len() {
            errors.add(
                "questions",
                "Only the room's open questions can be bundled.",
            );
        } else if let Some(q) = elsewhere {
            errors.add(
                "questions",
                format!(
                    "“{}” is for {}, who is not on this one: untick it, or add them.",
                    q.body, q.contact
                ),
            );
        }
        errors.finish(|| {
            Some(Checked {
                kind: kind?,
                workstream: workstream?,
                contacts: chosen,
                starts_at: starts_at?,
                minutes: minutes?,
                purpose: purpose?,
                questions,
            })
        })
    }
}

async fn plan_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: Option<PlanForm>,
    preselect: Preselect,
    errors: FieldErrors,
) -> Result<PlanPage, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let contacts = customers::contacts_of(&mut *conn, room.customer_id).await?;
    let open_questions = model::open_questions(&mut conn, room_id).await?;
    let workstreams = workstreams::list(&mut conn, room_id).await?;
    let form = form.unwrap_or_else(|| {
        // Pre-filled: the contact asked for, else whoever escalated; the open questions to them.
        let contact = preselect
            .contact
            .or(room.escalated_by_contact_id)
            .filter(|id| contacts.iter().any(|c| c.id == *id));
        let chosen: Vec<i64> = contact.into_iter().collect();
        PlanForm {
            kind: EngagementKind::Call.as_str().to_owned(),
            workstream: preselect
                .workstream
                .or(workstreams.first().map(|w| w.id))
                .map(|id| id.to_string())
                .unwrap_or_default(),
            questions: open_questions
                .iter()
                .filter(|q| chosen.contains(&q.contact_id))
                .map(|q| q.id)
                .collect(),
            contacts: chosen,
            minutes: "30".into(),
            ..PlanForm::default()
        }
    });
    Ok(PlanPage {
        page,
        kinds: EngagementKind::ALL,
        planned: model::open_in_room(&mut conn, room_id)
            .await?
            .into_iter()
            .filter(|e| e.ends_at() > now)
            .collect(),
        room,
        workstreams,
        contacts,
        open_questions,
        form,
        errors,
    })
}

pub async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Query(preselect): Query<Preselect>,
) -> Result<PlanPage, AppError> {
    plan_page(
        &state,
        &user,
        page,
        room_id,
        None,
        preselect,
        FieldErrors::default(),
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<PlanForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let customer_id = change.room.customer_id;
    let contacts = customers::contacts_of(&mut **change.conn(), customer_id).await?;
    let open = model::open_questions(change.conn(), room_id).await?;
    let workstreams = workstreams::list(change.conn(), room_id).await?;
    let checked = match form.parse(&workstreams, &contacts, &open, (page.zone, change.now)) {
        Ok(checked) => checked,
        Err(errors) => {
            drop(change);
            let page = plan_page(
                &state,
                &user,
                page,
                room_id,
                Some(form),
                Preselect::default(),
                errors,
            );
            return invalid(page.await?);
        }
    };
    let now = change.now;
    let new = NewEngagement {
        room_id,
        workstream_id: checked.workstream.id,
        kind: checked.kind,
        starts_at: checked.starts_at,
        minutes: checked.minutes,
        purpose: &checked.purpose,
        planned_by: user.id,
        contacts: &checked.contacts,
    };
    let id = model::insert(change.conn(), &new, now).await?;
    for question in &checked.questions {
        model::add_question(change.conn(), room_id, id, *question, user.id, now).await?;
    }
    let names: Vec<&str> = contacts
        .iter()
        .filter(|c| checked.contacts.contains(&c.id))
        .map(|c| c.name.as_str())
        .collect();
    let summary = format!(
        "{} planned {} with {} on {} about “{}” ({} question{} bundled), for {} to clear.",
        user.name,
        checked.kind.with_article(),
        names.join(", "),
        page.zone.when(checked.starts_at),
        checked.workstream.title,
        checked.questions.len(),
        if checked.questions.len() == 1 {
            ""
        } else {
            "s"
        },
        checked.workstream.voice_name
    );
    let link = format!("/rooms/{room_id}/engagements/{id}");
    change
        .record("engagements.planned", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&link).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_for_what_is_ahead_or_starting_now() {
        let now = 1_796_137_200_000; // 2026-12-01 15:00 UTC
        assert_eq!(
            planned_time("2026-12-02T09:30", Zone::UTC, now),
            Ok(now + 18 * 3_600_000 + 30 * 60_000)
        );
        assert_eq!(
            planned_time("2026-12-01T14:50", Zone::UTC, now),
            Ok(now - 10 * 60_000)
        );
        assert!(
            planned_time("2026-12-01T14:40", Zone::UTC, now)
                .unwrap_err()
                .contains("log a touch")
        );
        assert_eq!(
            planned_time("", Zone::UTC, now),
            Err("Say when it takes place.".to_owned())
        );
        assert!(planned_time("tomorrow", Zone::UTC, now).is_err());
    }
}
