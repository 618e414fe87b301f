//! After the engagement: its outcome — notes, the bundled questions it answered (each becomes
//! answered in the ledger, linked to the engagement), a decision proposed — recorded once. It
//! writes the contact-log touch for each contact engaged (no double entry: recording twice is
//! refused) and the timeline entry. One that was never cleared is recorded as uncoordinated.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::clear::engagement_in;
use super::model;
use super::rules::EngagementState;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::contact_log::model::{self as touches, NewTouch, Origin};
use crate::decisions::model::{self as decisions, NewDecision};
use crate::error::AppError;
use crate::questions::model::{self as questions, AnsweredIn, QuestionStatus};
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::web::forms::{Form, optional_text, required_text};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutcomeForm {
    notes: String,
    /// The bundled questions, each followed by its answer (empty: not answered).
    question_ids: Vec<i64>,
    answers: Vec<String>,
    /// A decision to propose, optional: its type and title.
    decision_type: String,
    decision_title: String,
}

pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<OutcomeForm>,
) -> Result<Response, AppError> {
    let notes =
        required_text(&form.notes, 4000, "Say what came out of it.").map_err(AppError::Conflict)?;
    let decision_title = optional_text(&form.decision_title, 300).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let engagement = engagement_in(&mut change, id).await?;
    let now = change.now;
    if !engagement.is_open() {
        return Err(AppError::Conflict(format!(
            "This engagement is {}: its outcome {}.",
            engagement.state.label().to_lowercase(),
            match engagement.state {
                EngagementState::Done => "is already recorded",
                _ => "cannot be recorded",
            }
        )));
    }
    if engagement.starts_at > now {
        return Err(AppError::Conflict(
            "It has not happened yet: record its outcome after it took place.".into(),
        ));
    }
    let participants = model::participants(change.conn(), id).await?;
    let is_participant = participants.iter().any(|p| p.user_id == user.id);
    if !is_participant && !super::show::may_manage(&change, &engagement) {
        return Err(AppError::Forbidden(
            "Only someone who took part, its planner, the topic's voice, the communicator or the lead can record the outcome."
                .into(),
        ));
    }
    let decision_type = match decision_title.is_empty() {
        true => None,
        false => {
            let types = decisions::types(change.conn(), room_id).await?;
            let chosen = types
                .into_iter()
                .find(|t| form.decision_type.parse() == Ok(t.id))
                .ok_or_else(|| {
                    AppError::Conflict("Choose the type of the decision you propose.".into())
                })?;
            Some(chosen)
        }
    };
    let bundled = model::questions(change.conn(), id).await?;
    let mut answered = Vec::new();
    for (question_id, answer) in form.question_ids.iter().zip(&form.answers) {
        let answer = optional_text(answer, 2000).map_err(AppError::Conflict)?;
        let on_list = bundled
            .iter()
            .find(|q| q.question_id == *question_id && q.status == QuestionStatus::Open);
        if let (false, Some(question)) = (answer.is_empty(), on_list) {
            answered.push((question.clone(), answer));
        }
    }
    let coordinated = engagement.state == EngagementState::Cleared;
    model::finish(change.conn(), room_id, id, &notes, user.id, now).await?;
    let summary = format!(
        "{} about “{}”: {notes}",
        engagement.kind.label(),
        engagement.topic
    );
    for contact in &engagement.contacts {
        let touch = NewTouch {
            origin: Origin::Engagement { id, coordinated },
            room_id,
            contact_id: contact.id,
            channel: engagement.kind.channel(),
            summary: &summary,
            touched_at: engagement.starts_at,
            by: engagement.voice_user_id,
        };
        touches::insert(change.conn(), &touch, now).await?;
    }
    let link = format!("/rooms/{room_id}/engagements/{id}");
    for (question, answer) in &answered {
        questions::answer_from(
            change.conn(),
            question.question_id,
            answer,
            AnsweredIn::Engagement(id),
            user.id,
            now,
        )
        .await?;
        let said = format!(
            "{} recorded {}'s answer to “{}” from {}: {answer}",
            user.name,
            question.stakeholder,
            question.body,
            engagement.title()
        );
        let question_link = format!("/rooms/{room_id}/questions/{}", question.question_id);
        change
            .record("questions.answered", &said, &question_link)
            .await?;
    }
    if let Some(kind) = &decision_type {
        let new = NewDecision {
            room_id,
            decision_type_id: kind.id,
            title: &decision_title,
            rationale: &format!("Proposed after {}.", engagement.title()),
            supersedes_id: None,
            proposed_by: user.id,
        };
        let decision = decisions::insert(change.conn(), &new, now).await?;
        let said = format!(
            "{} proposed a {} decision after {}: “{decision_title}” (for {} to decide).",
            user.name,
            kind.name,
            engagement.title(),
            kind.owner_name
        );
        let decision_link = format!("/rooms/{room_id}#decision-{decision}");
        change
            .record("decisions.proposed", &said, &decision_link)
            .await?;
    }
    let not_coordinated = match coordinated {
        true => "",
        false => " — not coordinated: nobody cleared it first",
    };
    let said = format!(
        "{} recorded the outcome of {}{not_coordinated}: {notes} ({} question{} answered).",
        user.name,
        engagement.title(),
        answered.len(),
        if answered.len() == 1 { "" } else { "s" }
    );
    change.record("engagements.outcome", &said, &link).await?;
    change.commit().await?;
    Ok(Redirect::to(&link).into_response())
}
