//! `/rooms/{id}/engagements/{e}`: one engagement — who, with whom, on what, when (in the reader's
//! zone), the questions bundled on it and who added each, and what the reader can do next: clear
//! it (or see exactly why not, with "join it instead"), add a question, join, move, call it off,
//! or record the outcome. Adding a question and joining are here too; so is calling it off.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::clear::{blockers, engagement_in};
use super::invite;
use super::model::{self, Bundled, Engagement, OpenQuestion, Participant};
use super::rules::{self, Blocker, EngagementState};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::decisions::model::{self as decisions, DecisionType};
use crate::emails::CalendarChange;
use crate::error::AppError;
use crate::questions::model::{self as questions, Similar};
use crate::questions::{Asked, needs_confirmation};
use crate::rooms::access::{Action, Viewer, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{FieldErrors, Form, required_text};
use crate::web::page::Page;

/// Who may move it or call it off: its planner, the topic's voice, the communicator, the lead
/// (or an admin).
pub fn manages(viewer: &Viewer, room: &Room, engagement: &Engagement) -> bool {
    viewer.is_admin
        || [
            engagement.planned_by_id,
            engagement.voice_user_id,
            room.communicator_user_id,
            room.lead_user_id,
        ]
        .contains(&viewer.user_id)
}

/// [`manages`], for the person making a change.
pub fn may_manage(change: &RoomChange, engagement: &Engagement) -> bool {
    manages(&change.viewer, &change.room, engagement)
}

/// A question being added to the engagement, as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QuestionForm {
    /// An open ledger question to put on the list.
    question: String,
    /// Or a new question…
    body: String,
    /// …to one of the engagement's contacts.
    stakeholder: String,
    acknowledged: Vec<i64>,
    confirm: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "engagements/show.html")]
pub struct ShowPage {
    page: Page,
    room: Room,
    e: Engagement,
    participants: Vec<Participant>,
    questions: Vec<Bundled>,
    /// The room's open questions to these contacts, not yet on the list.
    ledger: Vec<OpenQuestion>,
    /// Why the reader could not clear it now (only while planned).
    blockers: Vec<Blocker>,
    /// The reader is the topic's voice or the communicator.
    may_clear: bool,
    may_manage: bool,
    may_record: bool,
    /// May move this plan's questions and people onto a colliding engagement.
    may_join_instead: bool,
    can_contribute: bool,
    is_participant: bool,
    /// For proposing a decision with the outcome.
    types: Vec<DecisionType>,
    form: QuestionForm,
    similar: Vec<Similar>,
    errors: FieldErrors,
    now: Millis,
}

impl ShowPage {
    pub fn has_happened(&self) -> bool {
        self.e.starts_at <= self.now
    }

    pub fn outcome_missing(&self) -> bool {
        rules::outcome_missing(self.e.state, self.e.ends_at(), self.now)
    }

    /// Whether only overridable warnings stand (the voice may clear with a reason).
    pub fn only_warnings(&self) -> bool {
        !self.blockers.is_empty() && self.blockers.iter().all(Blocker::is_overridable)
    }

    /// The engagements of this room it collides with, to join instead.
    pub fn joinable(&self) -> Vec<(i64, String)> {
        self.blockers
            .iter()
            .filter_map(|b| match b {
                Blocker::Collision { other, when, .. } if other.room_id == self.room.id => Some((
                    other.id,
                    format!(
                        "Join {}'s {} on {when}",
                        other.voice,
                        other.kind.label().to_lowercase()
                    ),
                )),
                _ => None,
            })
            .collect()
    }

    pub fn is_open(&self) -> bool {
        self.e.is_open()
    }
}

async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    (room_id, id): (i64, i64),
    form: QuestionForm,
    similar: Vec<Similar>,
    errors: FieldErrors,
) -> Result<ShowPage, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    let e = model::find(&mut conn, room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let participants = model::participants(&mut conn, id).await?;
    let questions = model::questions(&mut conn, id).await?;
    let ledger = model::open_questions(&mut conn, room_id)
        .await?
        .into_iter()
        .filter(|q| e.contacts.iter().any(|c| c.id == q.contact_id))
        .filter(|q| !questions.iter().any(|b| b.question_id == q.id))
        .collect();
    let blockers = match e.state {
        EngagementState::Planned => {
            blockers(&mut conn, state, &room, &e, user.id, page.zone, now).await?
        }
        _ => Vec::new(),
    };
    let can_contribute = check(&viewer, &room, Action::Contribute).is_ok();
    let me = user.id;
    let may_clear = can_contribute && (me == e.voice_user_id || me == room.communicator_user_id);
    let is_participant = participants.iter().any(|p| p.user_id == me);
    let may_manage = can_contribute && manages(&viewer, &room, &e);
    Ok(ShowPage {
        types: decisions::types(&mut conn, room_id).await?,
        may_record: may_manage || (can_contribute && is_participant),
        may_join_instead: may_manage,
        page,
        room,
        participants,
        questions,
        ledger,
        blockers,
        may_clear,
        may_manage,
        can_contribute,
        is_participant,
        e,
        form,
        similar,
        errors,
        now,
    })
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(ids): Path<(i64, i64)>,
) -> Result<ShowPage, AppError> {
    show_page(
        &state,
        &user,
        page,
        ids,
        QuestionForm::default(),
        Vec::new(),
        FieldErrors::default(),
    )
    .await
}

/// The engagement must still be ahead (planned or cleared) to change its list or its people.
fn still_open(engagement: &Engagement) -> Result<(), AppError> {
    match engagement.is_open() {
        true => Ok(()),
        false => Err(AppError::Conflict(format!(
            "This engagement is {}: its list and its people no longer change.",
            engagement.state.label().to_lowercase()
        ))),
    }
}

/// Puts a question on the list: an open one from the ledger, or a new one (recorded in the ledger
/// through the same "already asked?" check as everywhere: similar questions must be seen first).
pub async fn add_question(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let engagement = engagement_in(&mut change, id).await?;
    still_open(&engagement)?;
    let now = change.now;
    let (question_id, body) = match form.question.trim() {
        "" => {
            let mut errors = FieldErrors::default();
            let body = errors.check(
                "body",
                required_text(&form.body, 2000, "Write the question."),
            );
            let contact = engagement
                .contacts
                .iter()
                .find(|c| form.stakeholder.parse() == Ok(c.id));
            let contact = errors.require(
                "stakeholder",
                contact,
                "Choose which of the engagement's contacts it is for.",
            );
            let (body, contact) = match errors.finish(|| Some((body?, contact?.id))) {
                Ok(checked) => checked,
                Err(errors) => {
                    drop(change);
                    let page =
                        show_page(&state, &user, page, (room_id, id), form, Vec::new(), errors);
                    return Ok((StatusCode::UNPROCESSABLE_ENTITY, page.await?).into_response());
                }
            };
            let customer = change.room.customer_id;
            let similar = questions::similar_to(change.conn(), customer, &body).await?;
            if needs_confirmation(&similar, &form.acknowledged, form.confirm == "yes") {
                let now = change.now;
                drop(change);
                questions::note_similar_shown(&state.db, room_id, user.id, &body, now).await?;
                let errors = FieldErrors::single(
                    "confirm",
                    "Read the similar questions above: put one of them on the list, or tick this box to add yours anyway.",
                );
                let page = show_page(&state, &user, page, (room_id, id), form, similar, errors);
                return Ok((StatusCode::CONFLICT, page.await?).into_response());
            }
            let despite: Vec<String> = similar.iter().map(|s| s.question.id.to_string()).collect();
            let asked = Asked {
                body: body.clone(),
                contact_id: Some(contact),
                internal_name: String::new(),
            };
            (
                crate::questions::record(&mut change, &asked, &despite).await?,
                body,
            )
        }
        raw => {
            let open = model::open_questions(change.conn(), room_id).await?;
            let question = open
                .into_iter()
                .find(|q| raw.parse() == Ok(q.id))
                .ok_or_else(|| {
                    AppError::Conflict("Choose an open question of this room.".into())
                })?;
            (question.id, question.body)
        }
    };
    if model::add_question(change.conn(), room_id, id, question_id, user.id, now).await? {
        let summary = format!(
            "{} added a question to {}: “{body}”",
            user.name,
            engagement.title()
        );
        let link = format!("/rooms/{room_id}/engagements/{id}");
        change
            .record("engagements.question_added", &summary, &link)
            .await?;
    }
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/engagements/{id}#questions")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JoinForm {
    /// The reader's own planned engagement this one replaces: its questions and people move here.
    from: Option<i64>,
}

/// Joins the engagement; with `from`, instead of the reader's own colliding plan, which is
/// called off after its questions and people move over.
pub async fn join(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<JoinForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let target = engagement_in(&mut change, id).await?;
    still_open(&target)?;
    let before: Vec<i64> = model::participants(change.conn(), id)
        .await?
        .iter()
        .map(|p| p.user_id)
        .collect();
    let link = format!("/rooms/{room_id}/engagements/{id}");
    let summary = match form.from {
        Some(from) if from != id => {
            let mine = engagement_in(&mut change, from).await?;
            if mine.state != EngagementState::Planned || !may_manage(&change, &mine) {
                return Err(AppError::Conflict(
                    "Only a planned engagement you planned or speak on can join another.".into(),
                ));
            }
            model::merge_into(change.conn(), room_id, from, id).await?;
            let reason = format!("joined {} instead", target.title());
            model::cancel(change.conn(), room_id, from, &reason).await?;
            format!(
                "{} joined {} instead of {}: its {} question{} moved there.",
                user.name,
                target.title(),
                mine.title(),
                mine.question_count,
                if mine.question_count == 1 { "" } else { "s" }
            )
        }
        _ => format!("{} joined {}.", user.name, target.title()),
    };
    model::add_participant(change.conn(), room_id, id, user.id).await?;
    if target.state == EngagementState::Cleared {
        let added: Vec<i64> = model::participants(change.conn(), id)
            .await?
            .iter()
            .map(|p| p.user_id)
            .filter(|p| !before.contains(p))
            .collect();
        invite::send(
            &state,
            &mut change,
            &target,
            CalendarChange::New,
            Some(&added),
        )
        .await?;
    }
    change.record("engagements.joined", &summary, &link).await?;
    change.commit().await?;
    Ok(Redirect::to(&link).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CancelForm {
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<CancelForm>,
) -> Result<Response, AppError> {
    let reason = required_text(&form.reason, 500, "Say why it is called off.")
        .map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let engagement = engagement_in(&mut change, id).await?;
    still_open(&engagement)?;
    if !may_manage(&change, &engagement) {
        return Err(AppError::Forbidden(
            "Only its planner, the topic's voice, the communicator or the lead can call it off."
                .into(),
        ));
    }
    model::cancel(change.conn(), room_id, id, &reason).await?;
    if engagement.state == EngagementState::Cleared {
        let cancelled = engagement_in(&mut change, id).await?;
        invite::send(
            &state,
            &mut change,
            &cancelled,
            CalendarChange::Cancelled,
            None,
        )
        .await?;
    }
    let summary = format!("{} called off {}: {reason}", user.name, engagement.title());
    let link = format!("/rooms/{room_id}/engagements/{id}");
    change
        .record("engagements.cancelled", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#engagements")).into_response())
}
