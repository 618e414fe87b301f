//! A person's decision about a message whose delivery is unknown: mark it delivered, or send it
//! again. Customer emails are decided in their room (the communicator, or an admin) by
//! `drafts::send`; every other message (invitations) by an admin on `/admin/mail`, here.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use serde::Deserialize;

use super::model::{self, MessageKind};
use crate::AppState;
use crate::accounts::AdminUser;
use crate::error::AppError;
use crate::rooms::change::RoomTx;
use crate::web::forms::Form;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/mail/outbox/{id}/resolution", post(resolve))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResolutionForm {
    decision: String,
}

impl ResolutionForm {
    /// `true` to mark the message delivered, `false` to send it again.
    pub fn delivered(&self) -> Result<bool, AppError> {
        match self.decision.as_str() {
            "delivered" => Ok(true),
            "resend" => Ok(false),
            _ => Err(AppError::Conflict(
                "Choose “mark delivered” or “send again”.".into(),
            )),
        }
    }
}

async fn resolve(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<ResolutionForm>,
) -> Result<Redirect, AppError> {
    let delivered = form.delivered()?;
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let entry = model::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if entry.kind == MessageKind::Customer {
        return Err(AppError::Conflict(
            "A customer email is decided in its room: open its draft and mark it delivered or send it again there.".into(),
        ));
    }
    if !model::resolve_unknown(&mut tx, id, delivered, admin.id, now).await? {
        return Err(AppError::Conflict(
            "This message's delivery is no longer unknown.".into(),
        ));
    }
    tx.commit().await?;
    tracing::info!(
        outbox.id = id,
        delivered,
        "unknown delivery resolved by an admin"
    );
    state.outbox.wake();
    Ok(Redirect::to("/admin/mail"))
}
