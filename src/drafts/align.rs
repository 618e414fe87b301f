//! A PM aligning on the exact current revision or objecting to it with a reason (themselves, or
//! their stand-in for them while they are away), or withdrawing that position.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;

use super::DraftState;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::position::{self, PositionForm};
use crate::approvals::{self, Stance, SubjectKind, approval_refusal};
use crate::error::AppError;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::rooms::parts::Part;
use crate::web::forms::Form;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/{draft}/approval", post(approve))
        .route("/rooms/{id}/drafts/{draft}/objection", post(object))
        .route(
            "/rooms/{id}/drafts/{draft}/approval/withdrawal",
            post(withdraw),
        )
}

fn only_pms() -> AppError {
    AppError::Forbidden("Only the room's product managers align on customer email.".into())
}

async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Form(form): Form<PositionForm>,
) -> Result<Response, AppError> {
    take_position(
        &state,
        &user,
        page,
        (room_id, draft_id),
        &form,
        Stance::Aligned,
    )
    .await
}

async fn object(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Form(form): Form<PositionForm>,
) -> Result<Response, AppError> {
    take_position(
        &state,
        &user,
        page,
        (room_id, draft_id),
        &form,
        Stance::Objected,
    )
    .await
}

async fn take_position(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    (room_id, draft_id): (i64, i64),
    form: &PositionForm,
    stance: Stance,
) -> Result<Response, AppError> {
    match position_on(state, user, (room_id, draft_id), form, stance).await? {
        Ok(()) => Ok(Redirect::to(&format!("/rooms/{room_id}/drafts/{draft_id}")).into_response()),
        Err(why) => super::show::refused(state, user, page, room_id, draft_id, why).await,
    }
}

/// Records `user`'s position (or their absent PM's, as stand-in) on a revision of a draft — from
/// the page or the API, the same way — with its timeline entry. `Ok(Err(why))` when that
/// revision is no longer current (nothing was written).
pub async fn position_on(
    state: &AppState,
    user: &CurrentUser,
    (room_id, draft_id): (i64, i64),
    form: &PositionForm,
    stance: Stance,
) -> Result<Result<(), String>, AppError> {
    let mut change =
        RoomChange::begin_writing_only(state, room_id, user, Action::Read, Part::Email).await?;
    let (conn, room, now) = change.parts();
    let draft = DraftState::load(conn, room, draft_id, now).await?;
    // Checked against the revision that is current inside this transaction: a position racing
    // a save of a newer revision either lands first (and goes stale) or is refused here.
    if let Some(why) = approval_refusal(form.revision, draft.draft.current_revision) {
        return Ok(Err(why));
    }
    let who = position::take(&mut change, (SubjectKind::Draft, draft_id), form, stance).await?;
    let what = format!("“{}”", draft.current.subject);
    let (kind, summary) =
        position::entry("drafts", (&who, stance), form.revision, &what, &form.reason);
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    change.record(&kind, &summary, &path).await?;
    change.commit().await?;
    Ok(Ok(()))
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, draft_id)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Email)
            .await?;
    if !change.viewer.is_pm() {
        return Err(only_pms());
    }
    let (conn, room, now) = change.parts();
    let draft = DraftState::load(conn, room, draft_id, now).await?;
    if !approvals::withdraw(change.conn(), SubjectKind::Draft, draft_id, user.id).await? {
        return Err(AppError::Conflict(
            "You had taken no position on this draft.".into(),
        ));
    }
    let summary = format!(
        "{} withdrew their position on “{}”.",
        user.name, draft.current.subject
    );
    change
        .record(
            "drafts.approval_withdrawn",
            &summary,
            &format!("/rooms/{room_id}/drafts/{draft_id}"),
        )
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/drafts/{draft_id}")))
}
