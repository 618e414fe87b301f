//! The delivery worker: picks due rows up as soon as they are queued (an in-process wake-up, and
//! on PostgreSQL a LISTEN on `accord_outbox` so every instance hears every commit), delivers them
//! through the mailer, and records each outcome with the claim's fencing token.
//!
//! Just before a message's data is handed to the mail server, the worker durably marks it
//! ([`Marks`] batches the marks of concurrent deliveries into one commit), so that after a crash
//! only a message that may really have reached the server becomes unknown.
//!
//! Retries: transient failures back off exponentially with jitter up to [`MAX_ATTEMPTS`], then
//! fail; permanent failures fail at once; a handed-over message whose reply never comes is
//! unknown, except a notification, which is sent again (a duplicate is harmless). Invitations
//! carry a one-time sign-in link, so an admin decides about them like the communicator about a
//! customer email.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::effects;
use super::model::{Claim, MessageKind, OutboxState};
use crate::AppState;
use crate::clock::Millis;
use crate::config::OutboxStep;
use crate::db::Backend;
use crate::mail::Delivered;

/// Attempts before a transiently failing message is marked failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// Messages delivered at the same time by one worker.
const CONCURRENCY: usize = 32;
/// How long a finished delivery waits for others to be recorded with it.
const BATCH_WINDOW: Duration = Duration::from_millis(5);
/// How often a worker looks for due retries and expired leases without being woken.
const TICK: Duration = Duration::from_millis(500);
/// The pause before listening again after the LISTEN connection failed.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// The wake-up handle handlers use after committing a queued message, and the signal the worker
/// gives each time it has recorded outcomes (so a caller can await delivery instead of polling).
#[derive(Clone)]
pub struct Wakeup {
    notify: Arc<Notify>,
    recorded: Arc<watch::Sender<u64>>,
}

impl Default for Wakeup {
    fn default() -> Wakeup {
        Wakeup {
            notify: Arc::default(),
            recorded: Arc::new(watch::channel(0).0),
        }
    }
}

impl Wakeup {
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Changes every time this instance's worker records delivery outcomes.
    pub fn recorded(&self) -> watch::Receiver<u64> {
        self.recorded.subscribe()
    }
}

/// The wait before attempt `attempts + 1`: 5 s doubling per attempt, capped at 10 minutes,
/// spread by `jitter` (0.0–1.0 maps to ±20%) so retries from many rows do not arrive together.
pub fn retry_delay(attempts: i64, jitter: f64) -> Duration {
    let base = 5_000u64
        .saturating_mul(1 << (attempts.clamp(1, 20) - 1))
        .min(600_000);
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_millis((base as f64 * spread) as u64)
}

/// What to record for a delivery outcome of a message of `kind` after `attempts` attempts.
pub fn next_state(outcome: &Delivered, kind: MessageKind, attempts: i64) -> (OutboxState, String) {
    match outcome {
        Delivered::Accepted => (OutboxState::Sent, String::new()),
        Delivered::Permanent(reply) => (OutboxState::Failed, reply.clone()),
        Delivered::Unknown(why) if kind == MessageKind::Notification => next_state(
            &Delivered::Transient(format!(
                "{why} Sent again: a second copy of a notification is harmless."
            )),
            kind,
            attempts,
        ),
        Delivered::Unknown(why) => (OutboxState::Unknown, why.clone()),
        Delivered::Transient(why) if attempts >= MAX_ATTEMPTS => (
            OutboxState::Failed,
            format!("Gave up after {attempts} attempts. Last error: {why}"),
        ),
        Delivered::Transient(why) => (OutboxState::Retrying, why.clone()),
    }
}

/// The crash tests' pause point (`--fault-pause-outbox-at`): the worker stops there for good, so
/// the test can kill the process at exactly that step.
async fn maybe_pause(state: &AppState, step: OutboxStep) {
    if state.config.hooks.outbox_pause == Some(step) {
        eprintln!("outbox: paused at {step:?}");
        std::future::pending::<()>().await;
    }
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// Runs until `stop` turns true, then finishes the deliveries in flight.
pub async fn run(state: AppState, wakeup: Wakeup, mut stop: watch::Receiver<bool>) {
    let worker = format!("worker-{}", &crate::secrets::random_token()[..12]);
    // Renewed every third of its length while deliveries run, so a live worker keeps its claims
    // however long an exchange takes, and a dead one's are taken over soon.
    let lease = state.config.smtp_timeouts.reply.as_millis() as Millis + 5_000;
    let mut last_renewal = tokio::time::Instant::now();
    let marks = Marks::start(state.clone());
    let tick = state.config.hooks.outbox_poll.unwrap_or(TICK);
    let mut listener = listen(&state).await;
    let mut last_listen_attempt = tokio::time::Instant::now();
    let mut in_flight: JoinSet<Outcome> = JoinSet::new();
    let mut last_expiry = tokio::time::Instant::now() - TICK;
    maybe_pause(&state, OutboxStep::BeforeClaim).await;
    loop {
        if *stop.borrow() {
            break;
        }
        // Lease expiry is a write transaction: once per tick, not once per delivery.
        if last_expiry.elapsed() >= TICK {
            last_expiry = tokio::time::Instant::now();
            if let Err(error) = effects::expire_leases(&state).await {
                tracing::warn!(error = %error, "outbox: could not expire leases");
            }
        }
        if !in_flight.is_empty() && last_renewal.elapsed().as_millis() as Millis >= lease / 3 {
            last_renewal = tokio::time::Instant::now();
            if let Err(error) = effects::renew_leases(&state, &worker, lease).await {
                tracing::warn!(error = %error, "outbox: could not renew leases");
            }
        }
        let room = CONCURRENCY.saturating_sub(in_flight.len());
        if room > 0 {
            match effects::claim(&state, &worker, lease, room as i64).await {
                Ok(claims) => {
                    for claim in claims {
                        in_flight.spawn(deliver(state.clone(), marks.clone(), claim));
                    }
                }
                Err(error) => tracing::warn!(error = %error, "outbox: claim failed"),
            }
        }
        if listener.is_none()
            && state.db.backend() == Backend::Postgres
            && last_listen_attempt.elapsed() >= LISTEN_RETRY
        {
            last_listen_attempt = tokio::time::Instant::now();
            listener = listen(&state).await;
        }
        let listened = async {
            match listener.as_mut() {
                Some(listener) => {
                    // The listener reconnects (and listens again) on the next call after a
                    // lost connection; notifications sent meanwhile are lost, so the loop claims
                    // again after every error, a moment later rather than in a tight loop.
                    if let Err(error) = listener.recv().await {
                        tracing::warn!(error = %error, "outbox: LISTEN connection lost; reconnecting");
                        tokio::time::sleep(LISTEN_RETRY).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let mut finished = Vec::new();
        tokio::select! {
            () = wakeup.notify.notified() => {}
            () = listened => {}
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => finished.extend(done.ok()),
            () = tokio::time::sleep(tick) => {}
            _ = stop.changed() => {}
        }
        if !finished.is_empty() && !in_flight.is_empty() {
            // Let deliveries finishing at about the same time share one commit.
            tokio::time::sleep(BATCH_WINDOW).await;
        }
        while let Some(done) = in_flight.try_join_next() {
            finished.extend(done.ok());
        }
        record(&state, finished).await;
    }
    let mut finished = Vec::new();
    while let Some(done) = in_flight.join_next().await {
        finished.extend(done.ok());
    }
    record(&state, finished).await;
}

/// How one delivery ended, to be recorded.
struct Outcome {
    claim: Claim,
    next: OutboxState,
    error: String,
    retry_at: Millis,
}

/// Records every finished delivery in one transaction (one commit, not one per message).
async fn record(state: &AppState, finished: Vec<Outcome>) {
    if finished.is_empty() {
        return;
    }
    let batch: Vec<(&Claim, OutboxState, &str, Millis)> = finished
        .iter()
        .map(|o| (&o.claim, o.next, o.error.as_str(), o.retry_at))
        .collect();
    match effects::record(state, &batch).await {
        Ok(lost) if lost > 0 => tracing::warn!(
            lost,
            "leases lost before outcomes were recorded; another worker decides"
        ),
        Ok(_) => tracing::debug!(count = finished.len(), "deliveries recorded"),
        Err(error) => tracing::error!(error = %error, "could not record delivery outcomes"),
    }
    state.outbox.recorded.send_modify(|n| *n += 1);
}

async fn listen(state: &AppState) -> Option<sqlx::postgres::PgListener> {
    if state.db.backend() != Backend::Postgres {
        return None;
    }
    let mut listener = sqlx::postgres::PgListener::connect(state.config.database_url.as_str())
        .await
        .ok()?;
    listener.listen("accord_outbox").await.ok()?;
    Some(listener)
}

#[tracing::instrument(name = "outbox", skip_all, fields(outbox.id = claim.id, attempt = claim.attempts))]
async fn deliver(state: AppState, marks: Marks, claim: Claim) -> Outcome {
    maybe_pause(&state, OutboxStep::Claimed).await;
    let handover = async {
        let held = marks.mark(&claim).await;
        if held {
            maybe_pause(&state, OutboxStep::HandedOver).await;
        }
        held
    };
    let outcome = state
        .mailer
        .deliver(
            &claim.envelope_from,
            &claim.envelope_to,
            claim.raw.as_bytes(),
            handover,
        )
        .await;
    if outcome == Delivered::Accepted {
        maybe_pause(&state, OutboxStep::Replied).await;
    }
    let (next, error) = next_state(&outcome, claim.kind, claim.attempts);
    let retry_at =
        state.clock.now() + retry_delay(claim.attempts, random_unit()).as_millis() as Millis;
    tracing::info!(state = next.as_str(), "delivery attempted");
    Outcome {
        claim,
        next,
        error,
        retry_at,
    }
}

/// A request to mark one claimed message as about to be handed over, with where to answer.
type MarkRequest = (i64, i64, oneshot::Sender<bool>);

/// Batches the durable handing-over marks of concurrent deliveries: while one commit runs, the
/// next requests gather and share the following one.
#[derive(Clone)]
struct Marks {
    requests: mpsc::UnboundedSender<MarkRequest>,
}

impl Marks {
    fn start(state: AppState) -> Marks {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(commit_marks(state, receiver));
        Marks { requests }
    }

    /// Whether the mark is durable and this worker still holds the claim (only then send).
    async fn mark(&self, claim: &Claim) -> bool {
        let (answer, answered) = oneshot::channel();
        if self.requests.send((claim.id, claim.fence, answer)).is_err() {
            return false;
        }
        answered.await.unwrap_or(false)
    }
}

async fn commit_marks(state: AppState, mut receiver: mpsc::UnboundedReceiver<MarkRequest>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let claims: Vec<(i64, i64)> = batch.iter().map(|(id, fence, _)| (*id, *fence)).collect();
        let held = match effects::mark_handing_over(&state, &claims).await {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(error = %error, "outbox: could not mark deliveries as handed over");
                Vec::new()
            }
        };
        for (id, _, answer) in batch {
            let _ = answer.send(held.contains(&id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter() {
        assert_eq!(retry_delay(1, 0.5), Duration::from_secs(5));
        assert_eq!(retry_delay(2, 0.5), Duration::from_secs(10));
        assert_eq!(retry_delay(4, 0.5), Duration::from_secs(40));
        assert_eq!(retry_delay(30, 0.5), Duration::from_secs(600));
        assert_eq!(retry_delay(1, 0.0), Duration::from_secs(4));
        assert_eq!(retry_delay(1, 1.0), Duration::from_secs(6));
    }

    #[test]
    fn outcomes_map_to_states() {
        let customer = MessageKind::Customer;
        let transient = Delivered::Transient("421 try later".into());
        assert_eq!(
            next_state(&Delivered::Accepted, customer, 1).0,
            OutboxState::Sent
        );
        assert_eq!(next_state(&transient, customer, 1).0, OutboxState::Retrying);
        assert_eq!(
            next_state(&transient, customer, MAX_ATTEMPTS).0,
            OutboxState::Failed
        );
        assert_eq!(
            next_state(
                &Delivered::Permanent("550 no such user".into()),
                customer,
                1
            ),
            (OutboxState::Failed, "550 no such user".into())
        );
        let unknown = Delivered::Unknown("no reply".into());
        assert_eq!(next_state(&unknown, customer, 1).0, OutboxState::Unknown);
        assert_eq!(
            next_state(&unknown, MessageKind::Invitation, 1).0,
            OutboxState::Unknown
        );
        assert_eq!(
            next_state(&unknown, MessageKind::Notification, 1).0,
            OutboxState::Retrying
        );
        assert_eq!(
            next_state(&unknown, MessageKind::Notification, MAX_ATTEMPTS).0,
            OutboxState::Failed
        );
    }
}
