//! Clearing an engagement (rule 11), and moving one to a new time: both re-check, in the
//! transaction that writes, every reason it may not go ahead — the same checklist the engagement
//! page shows beforehand, the 409 page a refused attempt gets, and the timeline entry it leaves.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::AnyConnection;

use super::invite;
use super::model::{self, Engagement};
use super::rules::{self, Blocker, Clearing, EngagementState};
use crate::AppState;
use crate::accounts::{CurrentUser, user};
use crate::approvals::refusal::{Attempt, Refusal};
use crate::clock::Millis;
use crate::contact_log;
use crate::emails::CalendarChange;
use crate::error::AppError;
use crate::outreach::model as outreach;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::rooms::model::Room;
use crate::web::forms::{Form, optional_text};
use crate::web::page::Page;
use crate::web::time::Zone;

/// Every reason `clearer` could not clear `engagement` (as it is given: a new time, say) now.
pub async fn blockers(
    conn: &mut AnyConnection,
    state: &AppState,
    room: &Room,
    engagement: &Engagement,
    clearer: i64,
    zone: Zone,
    now: Millis,
) -> Result<Vec<Blocker>, AppError> {
    let pause = outreach::active(conn, room.id, now).await?;
    let window = state.config.engagement_window.as_millis() as Millis;
    let span = (engagement.starts_at - window, engagement.starts_at + window);
    let others = model::nearby(conn, &engagement.contact_ids(), span, engagement.id).await?;
    let activity = contact_log::model::activity(conn, room.customer_id, now).await?;
    let touches: Vec<(String, usize)> = activity
        .iter()
        .filter(|(c, _)| engagement.contacts.iter().any(|e| e.id == c.id))
        .map(|(c, a)| (c.name.clone(), a.count()))
        .collect();
    let communicator = user::find(&mut *conn, room.communicator_user_id)
        .await?
        .map_or_else(|| "the communicator".to_owned(), |u| u.name);
    Ok(rules::clearance(&Clearing {
        clearer,
        voice: (engagement.voice_user_id, &engagement.voice),
        communicator: (room.communicator_user_id, &communicator),
        state: engagement.state,
        room_closed: room.is_closed(),
        pause: pause.as_ref(),
        starts_at: engagement.starts_at,
        now,
        others: &others,
        window,
        touches: &touches,
        limit: state.config.contact_touch_limit,
        zone,
    }))
}

/// The engagement of the room, read inside the change.
pub async fn engagement_in(change: &mut RoomChange, id: i64) -> Result<Engagement, AppError> {
    let room_id = change.room.id;
    model::find(change.conn(), room_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Refuses the attempt: the 409 page with every reason, and a timeline entry saying so.
async fn refuse(
    mut change: RoomChange,
    page: Page,
    engagement: &Engagement,
    blockers: &[Blocker],
) -> Result<Response, AppError> {
    let link = format!("/rooms/{}/engagements/{}", change.room.id, engagement.id);
    let refusal = Refusal::new(Attempt::Clear, link.clone(), blockers);
    let summary = refusal.summary(&change.viewer.name, &engagement.title());
    change
        .record("engagements.clearing_blocked", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(refusal.page(page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClearForm {
    /// Why the voice clears it despite a warning (the touch limit).
    override_reason: String,
}

/// " — cleared despite: Jordan was contacted 4 times…; because: he asked for the call".
fn despite(blockers: &[Blocker], reason: &str) -> String {
    match blockers.is_empty() {
        true => String::new(),
        false => {
            let warnings: Vec<String> = blockers.iter().map(ToString::to_string).collect();
            format!(" — despite: {}; because: {reason}", warnings.join("; "))
        }
    }
}

pub async fn clear(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<ClearForm>,
) -> Result<Response, AppError> {
    let reason = optional_text(&form.override_reason, 500).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let engagement = engagement_in(&mut change, id).await?;
    let now = change.now;
    let room = change.room.clone();
    let blockers = blockers(
        change.conn(),
        &state,
        &room,
        &engagement,
        user.id,
        page.zone,
        now,
    )
    .await?;
    if rules::stops(&blockers, &reason) {
        return refuse(change, page, &engagement, &blockers).await;
    }
    let kept = if blockers.is_empty() {
        ""
    } else {
        reason.as_str()
    };
    model::clear(change.conn(), room_id, id, user.id, kept, now).await?;
    model::add_participant(change.conn(), room_id, id, engagement.voice_user_id).await?;
    let cleared = engagement_in(&mut change, id).await?;
    invite::send(&state, &mut change, &cleared, CalendarChange::New, None).await?;
    let summary = format!(
        "{} cleared {} on {}: it is coordinated{}.",
        user.name,
        engagement.title(),
        page.zone.when(engagement.starts_at),
        despite(&blockers, kept)
    );
    let link = format!("/rooms/{room_id}/engagements/{id}");
    change
        .record("engagements.cleared", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&link).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScheduleForm {
    starts_at: String,
    minutes: String,
}

/// Moves the engagement. A planned one simply moves; a cleared one is checked again at its new
/// time (its earlier reason for a warning still counts) and its invitation is updated.
pub async fn reschedule(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, AppError> {
    let starts_at = super::plan::planned_time(&form.starts_at, page.zone, state.clock.now())
        .map_err(AppError::Conflict)?;
    let minutes = super::plan::planned_minutes(&form.minutes).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let engagement = engagement_in(&mut change, id).await?;
    if !super::show::may_manage(&change, &engagement) {
        return Err(AppError::Forbidden(
            "Only its planner, the topic's voice, the communicator or the lead can move it.".into(),
        ));
    }
    if !engagement.is_open() {
        return Err(AppError::Conflict(format!(
            "It is {}: it can no longer move.",
            engagement.state.label().to_lowercase()
        )));
    }
    let was_cleared = engagement.state == EngagementState::Cleared;
    let moved = Engagement {
        starts_at,
        minutes,
        state: EngagementState::Planned,
        ..engagement.clone()
    };
    if was_cleared {
        let room = change.room.clone();
        let now = change.now;
        let blockers = blockers(
            change.conn(),
            &state,
            &room,
            &moved,
            user.id,
            page.zone,
            now,
        )
        .await?;
        if rules::stops(&blockers, &engagement.override_reason) {
            return refuse(change, page, &moved, &blockers).await;
        }
    }
    model::reschedule(change.conn(), room_id, id, starts_at, minutes).await?;
    if was_cleared {
        let updated = engagement_in(&mut change, id).await?;
        invite::send(&state, &mut change, &updated, CalendarChange::Moved, None).await?;
    }
    let summary = format!(
        "{} moved {} to {} ({minutes} minutes).",
        user.name,
        engagement.title(),
        page.zone.when(starts_at)
    );
    let link = format!("/rooms/{room_id}/engagements/{id}");
    change.record("engagements.moved", &summary, &link).await?;
    change.commit().await?;
    Ok(Redirect::to(&link).into_response())
}
