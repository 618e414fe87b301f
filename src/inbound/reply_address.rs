//! `POST /rooms/{id}/reply-address`: gives the room a new reply address (a new `+TOKEN`). The old
//! address then files nothing — a reply to an earlier email still finds the room through its
//! `In-Reply-To` — so a leaked address stops working at once.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::rooms::model;

pub fn router() -> Router<AppState> {
    Router::new().route("/rooms/{id}/reply-address", post(rotate))
}

async fn rotate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
) -> Result<Redirect, AppError> {
    if state.config.inbound.address.is_none() {
        return Err(AppError::Conflict(
            "Inbound mail is not set up (ACCORD_INBOUND_ADDRESS), so rooms have no reply address."
                .into(),
        ));
    }
    let mut change = RoomChange::begin(&state, room_id, &user, Action::EditRoom).await?;
    model::rotate_reply_token(change.conn(), room_id).await?;
    let summary = format!(
        "{} gave the room a new reply address; mail to the old one no longer comes in.",
        user.name
    );
    change.record("drafts.reply_address", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#email")))
}
