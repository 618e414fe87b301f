//! Sending: `POST …/delivery` re-checks the gate inside the transaction that queues the message.
//! A refused send answers 409 with every reason, records "send blocked" on the timeline and
//! queues nothing. And the communicator's decision on a delivery that is unknown.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use lettre::message::Mailbox;
use serde::Deserialize;

use super::DraftState;
use super::gate;
use super::model;
use super::render::{self, Email, customer_email};
use crate::AppState;
use crate::accounts::{CurrentUser, user};
use crate::approvals::refusal::{Attempt, Refusal};
use crate::error::AppError;
use crate::outbox::effects;
use crate::outbox::model::{self as outbox, MessageKind, OutboxState, Outgoing};
use crate::outbox::resolution::ResolutionForm;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::rooms::model::{self as rooms, Audience};
use crate::web::forms::Form;
use crate::web::page::Page;
use crate::web::time;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/{draft}/delivery", post(send))
        .route("/rooms/{id}/outbox/{message}/resolution", post(resolve))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SendForm {
    revision: i64,
}

async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Form(form): Form<SendForm>,
) -> Result<Response, AppError> {
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    match request(&state, &user, (room_id, draft_id), form.revision, page.zone).await? {
        Sent::Queued { .. } => Ok(Redirect::to(&path).into_response()),
        Sent::Refused(refusal) => Ok(refusal.page(page)),
    }
}

/// What a request to send a draft came to.
pub enum Sent {
    Queued {
        outbox_id: i64,
    },
    /// Refused by the gate: recorded on the timeline and in the measures; nothing was queued.
    Refused(Refusal),
}

/// A request by `user` to send revision `revision` of a draft — from the page or the API, the
/// same way: the gate is checked inside the transaction that queues the message (its blockers
/// worded in `zone`), and a refusal is recorded before it is answered.
pub async fn request(
    state: &AppState,
    user: &CurrentUser,
    (room_id, draft_id): (i64, i64),
    revision: i64,
    zone: time::Zone,
) -> Result<Sent, AppError> {
    let mut change = RoomChange::begin(state, room_id, user, Action::Read).await?;
    let (conn, room, now) = change.parts();
    let draft = DraftState::load(conn, room, draft_id, now).await?;
    let room = room.clone();
    let recipients = draft.recipients(change.conn()).await?;
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    if let Err(blockers) = draft.readiness(&room, user.id, revision, &recipients, zone) {
        let reasons = gate::reasons(&blockers);
        let refusal = Refusal::new(Attempt::Send, path, &blockers);
        refuse(change, &draft, &refusal, &reasons).await?;
        return Ok(Sent::Refused(refusal));
    }
    let outbox_id = queue(state, &mut change, &draft).await?;
    change.commit().await?;
    state.outbox.wake();
    tracing::info!(
        room.id = room_id,
        draft.id = draft_id,
        outbox.id = outbox_id,
        "customer email queued"
    );
    Ok(Sent::Queued { outbox_id })
}

/// Records the refused send on the timeline, with the kinds of its `reasons` for the measures
/// (nothing else changes).
async fn refuse(
    mut change: RoomChange,
    draft: &DraftState,
    refusal: &Refusal,
    reasons: &str,
) -> Result<(), AppError> {
    let summary = refusal.summary(&change.viewer.name, &draft.current.subject);
    change
        .record("drafts.send_blocked", &summary, &refusal.back)
        .await?;
    let (room_id, by, at) = (change.room.id, change.viewer.user_id, change.now);
    model::record_blocked_send(change.conn(), room_id, draft.draft.id, by, reasons, at).await?;
    change.commit().await?;
    tracing::info!(
        room.id = draft.draft.room_id,
        draft.id = draft.draft.id,
        "send blocked"
    );
    Ok(())
}

/// Queues the current revision for delivery and says so on the timeline.
async fn queue(
    state: &AppState,
    change: &mut RoomChange,
    draft: &DraftState,
) -> Result<i64, AppError> {
    let message = build(state, change, draft).await?;
    let (room_id, draft_id, sender) = (change.room.id, draft.draft.id, change.viewer.user_id);
    let outgoing = Outgoing {
        kind: MessageKind::Customer,
        room_id: Some(room_id),
        draft_id: Some(draft_id),
        sender_id: Some(sender),
        contact_ids: draft.current.recipient_ids(),
        message,
    };
    let now = change.now;
    let outbox_id =
        outbox::enqueue_in_room(change.conn(), state.db.backend(), &outgoing, now).await?;
    model::set_outbox(change.conn(), draft_id, outbox_id).await?;
    // The customer heard from us: the next update falls due one cadence from now.
    let next_due = change.room.next_due_after(Audience::Customer, now);
    rooms::set_next_customer_update_due(change.conn(), room_id, next_due).await?;
    let summary = format!(
        "{} sent revision {} of “{}” (aligned by every PM); it is queued for delivery. The next customer update is due in {}.",
        change.viewer.name,
        draft.draft.current_revision,
        draft.current.subject,
        time::span(next_due - now)
    );
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    change.record("drafts.queued", &summary, &path).await?;
    Ok(outbox_id)
}

/// The email for the current revision, from the communicator.
async fn build(
    state: &AppState,
    change: &mut RoomChange,
    draft: &DraftState,
) -> Result<lettre::Message, AppError> {
    let communicator_id = change.room.communicator_user_id;
    let communicator = user::find(&mut **change.conn(), communicator_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Every customer email of a room follows the earlier ones: one thread for the customer.
    let room_id = change.room.id;
    let mut earlier = outbox::customer_message_ids(change.conn(), room_id).await?;
    if let Some(answered) = draft.draft.replies_to_message
        && let Some(message) = crate::inbound::model::find(change.conn(), answered).await?
        && !message.message_id.is_empty()
    {
        let references: Vec<String> = message
            .references
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        earlier = render::reply_chain(&earlier, &references, &message.message_id);
    }
    // Replies come back to the room's own address when inbound mail is set up.
    let reply_to = match &state.config.inbound.address {
        Some(address) => {
            let token = crate::rooms::model::reply_token(change.conn(), room_id).await?;
            address.with_token(&token)
        }
        None => communicator.email.clone(),
    };
    let mailbox = |id: &i64| -> Result<Mailbox, AppError> {
        let contact = draft.contact(*id).ok_or(AppError::NotFound)?;
        let address = contact
            .email
            .parse()
            .map_err(|e| anyhow::anyhow!("contact address: {e}"))?;
        Ok(Mailbox::new(Some(contact.name.clone()), address))
    };
    let email = Email {
        communicator_name: &communicator.name,
        reply_to: &reply_to,
        to: draft
            .current
            .to_ids
            .iter()
            .map(mailbox)
            .collect::<Result<_, _>>()?,
        cc: draft
            .current
            .cc_ids
            .iter()
            .map(mailbox)
            .collect::<Result<_, _>>()?,
        subject: &draft.current.subject,
        body: &draft.current.body,
        earlier: &earlier,
    };
    Ok(customer_email(&state.config, &email)?)
}

/// Only the communicator (or an admin) decides what happened to a customer email.
fn require_communicator(change: &RoomChange) -> Result<(), AppError> {
    let viewer = &change.viewer;
    match change.room.communicator_user_id == viewer.user_id || viewer.is_admin {
        true => Ok(()),
        false => Err(AppError::Forbidden(
            "Only the communicator decides what happened to a customer email.".into(),
        )),
    }
}

async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, message_id)): Path<(i64, i64)>,
    Form(form): Form<ResolutionForm>,
) -> Result<Redirect, AppError> {
    let delivered = form.delivered()?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Read).await?;
    require_communicator(&change)?;
    let owner = outbox::owner(change.conn(), message_id)
        .await?
        .filter(|o| o.room_id == Some(room_id))
        .ok_or(AppError::NotFound)?;
    let now = change.now;
    if !outbox::resolve_unknown(change.conn(), message_id, delivered, user.id, now).await? {
        return Err(AppError::Conflict(
            "This message's delivery is no longer unknown.".into(),
        ));
    }
    let link = record_resolution(&mut change, &owner, delivered).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&link))
}

/// The timeline entry (and, when delivered, the effects of a sent email); returns the page to
/// go back to.
async fn record_resolution(
    change: &mut RoomChange,
    owner: &outbox::Owner,
    delivered: bool,
) -> Result<String, AppError> {
    let (room_id, who, subject) = (change.room.id, change.viewer.name.clone(), &owner.subject);
    let link = owner.draft_id.map_or(format!("/rooms/{room_id}"), |d| {
        format!("/rooms/{room_id}/drafts/{d}")
    });
    if delivered {
        let summary = format!("{who} confirmed that “{subject}” reached the customer.");
        change
            .record("drafts.marked_delivered", &summary, &link)
            .await?;
        let now = change.now;
        effects::announce(change.conn(), owner, OutboxState::Sent, "", now).await?;
    } else {
        let summary = format!("{who} chose to send “{subject}” again.");
        change.record("drafts.resent", &summary, &link).await?;
    }
    Ok(link)
}
