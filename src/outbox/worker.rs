//! The delivery worker: picks due rows up as soon as they are queued (an in-process wake-up, and
//! on PostgreSQL a LISTEN on `accord_outbox` so every instance hears every commit), delivers them
//! through the mailer, and records each outcome with the claim's fencing token.
//!
//! Retries: transient failures back off exponentially with jitter up to [`MAX_ATTEMPTS`], then
//! fail; permanent failures fail at once; a reply that never comes makes the delivery unknown.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::effects;
use super::model::{self, Claim, OutboxState};
use crate::AppState;
use crate::clock::Millis;
use crate::db::Backend;
use crate::mail::Delivered;

/// Attempts before a transiently failing message is marked failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// Messages delivered at the same time by one worker.
const CONCURRENCY: usize = 8;
/// How often a worker looks for due retries and expired leases without being woken.
const TICK: Duration = Duration::from_millis(500);

/// The wake-up handle handlers use after committing a queued message.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn wake(&self) {
        self.0.notify_one();
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

/// What to record for a delivery outcome after `attempts` attempts.
pub fn next_state(outcome: &Delivered, attempts: i64) -> (OutboxState, String) {
    match outcome {
        Delivered::Accepted => (OutboxState::Sent, String::new()),
        Delivered::Permanent(reply) => (OutboxState::Failed, reply.clone()),
        Delivered::Unknown(why) => (OutboxState::Unknown, why.clone()),
        Delivered::Transient(why) if attempts >= MAX_ATTEMPTS => (
            OutboxState::Failed,
            format!("Gave up after {attempts} attempts. Last error: {why}"),
        ),
        Delivered::Transient(why) => (OutboxState::Retrying, why.clone()),
    }
}

/// A test-only pause point (`ACCORD_FAULT_PAUSE_OUTBOX_AT=before_claim|claimed|replied`): the
/// worker stops there for good, so a crash test can kill the process at exactly that step.
fn pause_point() -> Option<&'static str> {
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    POINT
        .get_or_init(|| std::env::var("ACCORD_FAULT_PAUSE_OUTBOX_AT").ok())
        .as_deref()
}

async fn maybe_pause(step: &str) {
    if pause_point() == Some(step) {
        eprintln!("outbox: paused at {step}");
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
    // Longer than any send can take (the SMTP timeout), so a live worker never loses a lease.
    let lease = state.config.smtp_timeout.as_millis() as Millis + 5_000;
    let mut listener = listen(&state).await;
    let mut in_flight: JoinSet<()> = JoinSet::new();
    maybe_pause("before_claim").await;
    loop {
        if *stop.borrow() {
            break;
        }
        if let Err(error) = effects::expire_leases(&state).await {
            tracing::warn!(error = %error, "outbox: could not expire leases");
        }
        while in_flight.len() < CONCURRENCY {
            match model::claim_next(&state.db, &worker, state.clock.now(), lease).await {
                Ok(Some(claim)) => {
                    in_flight.spawn(deliver(state.clone(), claim));
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(error = %error, "outbox: claim failed");
                    break;
                }
            }
        }
        let listened = async {
            match listener.as_mut() {
                Some(listener) => {
                    let _ = listener.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wakeup.0.notified() => {}
            () = listened => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
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
async fn deliver(state: AppState, claim: Claim) {
    maybe_pause("claimed").await;
    let outcome = state
        .mailer
        .send_raw(
            &claim.envelope_from,
            &claim.envelope_to,
            claim.raw.as_bytes(),
            state.config.smtp_timeout,
        )
        .await;
    if outcome == Delivered::Accepted {
        maybe_pause("replied").await;
    }
    let (next, error) = next_state(&outcome, claim.attempts);
    let retry_at =
        state.clock.now() + retry_delay(claim.attempts, random_unit()).as_millis() as Millis;
    match effects::record(&state, &claim, next, &error, retry_at).await {
        Ok(true) => tracing::info!(state = next.as_str(), "delivery recorded"),
        Ok(false) => {
            tracing::warn!("lease lost before the outcome was recorded; another worker decides")
        }
        Err(error) => tracing::error!(error = %error, "could not record the delivery outcome"),
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
        let transient = Delivered::Transient("421 try later".into());
        assert_eq!(next_state(&Delivered::Accepted, 1).0, OutboxState::Sent);
        assert_eq!(next_state(&transient, 1).0, OutboxState::Retrying);
        assert_eq!(next_state(&transient, MAX_ATTEMPTS).0, OutboxState::Failed);
        assert_eq!(
            next_state(&Delivered::Permanent("550 no such user".into()), 1),
            (OutboxState::Failed, "550 no such user".into())
        );
        assert_eq!(
            next_state(&Delivered::Unknown("no reply".into()), 1).0,
            OutboxState::Unknown
        );
    }
}
