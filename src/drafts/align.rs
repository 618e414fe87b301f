//! A PM aligning on the exact current revision, or withdrawing their alignment.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::DraftState;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::{self, SubjectKind, approval_refusal};
use crate::error::AppError;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::web::forms::Form;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/{draft}/approval", post(approve))
        .route(
            "/rooms/{id}/drafts/{draft}/approval/withdrawal",
            post(withdraw),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApprovalForm {
    revision: i64,
}

fn only_pms() -> AppError {
    AppError::Forbidden("Only the room's product managers align on customer email.".into())
}

async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Form(form): Form<ApprovalForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    if !change.viewer.is_pm() {
        return Err(only_pms());
    }
    let (conn, room, now) = change.parts();
    let draft = DraftState::load(conn, room, draft_id, now).await?;
    // Checked against the revision that is current inside this transaction: an approval racing
    // a save of a newer revision either lands first (and goes stale) or is refused here.
    if let Some(why) = approval_refusal(form.revision, draft.draft.current_revision) {
        drop(change);
        return super::show::refused(&state, &user, page, room_id, draft_id, why).await;
    }
    let (now, kind) = (change.now, SubjectKind::Draft);
    approvals::approve(change.conn(), kind, draft_id, user.id, form.revision, now).await?;
    let summary = format!(
        "{} aligned on revision {} of “{}”.",
        user.name, form.revision, draft.current.subject
    );
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    change.record("drafts.approved", &summary, &path).await?;
    change.commit().await?;
    Ok(Redirect::to(&path).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, draft_id)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    if !change.viewer.is_pm() {
        return Err(only_pms());
    }
    let (conn, room, now) = change.parts();
    let draft = DraftState::load(conn, room, draft_id, now).await?;
    if !approvals::withdraw(change.conn(), SubjectKind::Draft, draft_id, user.id).await? {
        return Err(AppError::Conflict(
            "You had not aligned on this draft.".into(),
        ));
    }
    let summary = format!(
        "{} withdrew their alignment on “{}”.",
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
