//! What a delivery changes besides the outbox row: every state a customer email reaches bumps its
//! room's version (its page shows the draft's delivery state, and live pages refresh); a sent one
//! logs itself in the contact log and the timeline; a failure or an unknown outcome shows up in
//! the room. All of it in the transaction that changes the row, a `RoomTx`: the rooms of the
//! outcomes are locked up front, in room id order, so two instances' transactions never wait on
//! each other in a cycle; a claim locks the rooms of the rows it claimed.

use super::model::{self, Claim, MessageKind, OutboxState, Owner};
use crate::AppState;
use crate::clock::Millis;
use crate::contact_log;
use crate::contact_log::model::NewTouch;
use crate::contact_log::rules::Channel;
use crate::rooms::change::RoomTx;
use crate::timeline;

/// Claims up to `limit` due rows for `worker`, marking the rooms of customer emails changed.
pub async fn claim(
    state: &AppState,
    worker: &str,
    lease_ms: Millis,
    limit: i64,
) -> anyhow::Result<Vec<Claim>> {
    let now = state.clock.now();
    let backend = state.db.backend();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let claims = model::claim_due(&mut tx, backend, worker, now, lease_ms, limit).await?;
    tx.commit().await?;
    Ok(claims)
}

/// Records the outcomes of claims in one transaction; returns how many this worker no longer held.
pub async fn record(
    state: &AppState,
    outcomes: &[(&Claim, OutboxState, &str, Millis)],
) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let rooms = outcomes.iter().filter_map(|(claim, ..)| claim.room_id);
    let mut tx = RoomTx::begin(&state.db, rooms, now).await?;
    let mut lost = 0;
    for &(claim, next, error, retry_at) in outcomes {
        if !model::settle(&mut tx, claim, next, error, retry_at, now).await? {
            lost += 1;
            continue;
        }
        if let Some(owner) = model::owner(&mut tx, claim.id).await? {
            announce(&mut tx, &owner, next, error, now).await?;
        }
    }
    tx.commit().await?;
    Ok(lost)
}

/// Extends the leases of every row `worker` is delivering.
pub async fn renew_leases(state: &AppState, worker: &str, lease_ms: Millis) -> anyhow::Result<()> {
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    model::renew_leases(&mut tx, worker, now + lease_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// Durably marks claimed messages as about to be handed over; returns the ids still held.
pub async fn mark_handing_over(
    state: &AppState,
    claims: &[(i64, i64)],
) -> anyhow::Result<Vec<i64>> {
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let held = model::mark_handing_over(&mut tx, claims, now).await?;
    tx.commit().await?;
    Ok(held)
}

/// Settles rows whose worker vanished mid-delivery (retried if never handed over, otherwise
/// `unknown`), and says so in their rooms.
pub async fn expire_leases(state: &AppState) -> anyhow::Result<()> {
    expire_before(state, state.clock.now()).await
}

/// At start on SQLite (one process owns the file): anything still `sending` was interrupted.
pub async fn recover_interrupted(state: &AppState) -> anyhow::Result<()> {
    expire_before(state, i64::MAX).await
}

async fn expire_before(state: &AppState, cutoff: Millis) -> anyhow::Result<()> {
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    let ids = model::expire_leases(&mut tx, now, cutoff).await?;
    for id in &ids {
        if let Some(owner) = model::owner(&mut tx, *id).await? {
            announce(&mut tx, &owner, OutboxState::Unknown, "", now).await?;
        }
    }
    tx.commit().await?;
    if !ids.is_empty() {
        tracing::warn!(
            count = ids.len(),
            "outbox: interrupted deliveries that had been handed over marked unknown"
        );
    }
    Ok(())
}

/// The room-visible effects of a customer email reaching `state`.
pub async fn announce(
    tx: &mut RoomTx,
    owner: &Owner,
    state: OutboxState,
    error: &str,
    now: Millis,
) -> sqlx::Result<()> {
    let (MessageKind::Customer, Some(room_id)) = (owner.kind, owner.room_id) else {
        return Ok(());
    };
    // Every state of a customer email shows on its room's page.
    tx.lock_more([room_id]).await?;
    let link = owner
        .draft_id
        .map_or(String::new(), |d| format!("/rooms/{room_id}/drafts/{d}"));
    let subject = &owner.subject;
    let (kind, summary) = match state {
        OutboxState::Sent => (
            "drafts.sent",
            format!("The email “{subject}” was delivered to the customer's mail server."),
        ),
        OutboxState::Failed => (
            "drafts.failed",
            format!("The email “{subject}” could not be delivered: {error}"),
        ),
        OutboxState::Unknown => (
            "drafts.delivery_unknown",
            format!(
                "Delivery of “{subject}” is unknown: the communicator must mark it delivered or send it again."
            ),
        ),
        _ => return Ok(()),
    };
    timeline::record(tx, room_id, None, kind, &summary, &link, now).await?;
    if state == OutboxState::Sent {
        log_touches(tx, owner, room_id, now).await?;
    }
    Ok(())
}

async fn log_touches(
    tx: &mut RoomTx,
    owner: &Owner,
    room_id: i64,
    now: Millis,
) -> sqlx::Result<()> {
    let Some(sender) = owner.sender_id else {
        return Ok(());
    };
    let summary = format!("Sent “{}”", owner.subject);
    for contact_id in &owner.contact_ids {
        let touch = NewTouch {
            origin: contact_log::model::Origin::Sent,
            room_id,
            contact_id: *contact_id,
            channel: Channel::Email,
            summary: &summary,
            touched_at: now,
            by: sender,
        };
        contact_log::model::insert(tx, &touch, now).await?;
    }
    Ok(())
}
