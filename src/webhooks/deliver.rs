//! Delivering webhooks, the outbox's way: every instance claims due deliveries under a lease
//! (so two instances never post the same one at once, and a crashed instance's claim runs out),
//! posts each signed, records every attempt, and settles it — delivered on a 2xx (and never
//! posted again), retried with the outbox's backoff otherwise (an error, a non-2xx answer, a
//! timeout after the receiver read the body: the same event id each time), failed after
//! [`MAX_ATTEMPTS`].

use std::time::{Duration, Instant};

use sqlx::Row;
use tokio::sync::watch;

use super::events::{self, Event};
use super::sign;
use crate::AppState;
use crate::clock::Millis;
use crate::outbox::worker::retry_delay;

/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How often each instance looks for due deliveries without a test hook.
const TICK: Duration = Duration::from_millis(500);
/// How long a claim holds: longer than one attempt can take.
const LEASE: Millis = 60_000;
/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries claimed per sweep.
const BATCH: usize = 16;

/// Delivers until `stop` says so.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error, "webhooks: no HTTP client; nothing will be delivered");
            return;
        }
    };
    let every = state.config.hooks.outbox_poll.unwrap_or(TICK);
    crate::sweeps::every(every, stop, "webhook deliveries", || {
        deliver_due(&state, &client)
    })
    .await;
}

/// One claimed delivery, with its endpoint.
struct Claimed {
    id: i64,
    event_id: String,
    event: String,
    room_id: i64,
    room_title: String,
    summary: String,
    link: String,
    body: Option<String>,
    created_at: Millis,
    attempts: i64,
    url: String,
    secret: String,
    slack: bool,
}

/// Claims one due delivery (queued or retrying and due, or delivering with an expired lease).
/// The state is checked again on the row itself, so two instances racing for it claim it once.
async fn claim(state: &AppState, now: Millis) -> sqlx::Result<Option<Claimed>> {
    let due = "(d.state IN ('queued', 'retrying') AND d.next_attempt_at <= $1) \
               OR (d.state = 'delivering' AND d.lease_until < $1)";
    let sql = format!(
        "UPDATE webhook_deliveries SET state = 'delivering', lease_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT d.id FROM webhook_deliveries d \
         WHERE d.state IN ('queued', 'retrying', 'delivering') AND ({due}) ORDER BY d.id LIMIT 1) \
         AND ({}) RETURNING id",
        due.replace("d.", "")
    );
    let mut tx = state.db.begin_write().await?;
    // The first condition names the rows of `webhook_deliveries_waiting` (migration 0023), so
    // the oldest is found there rather than by walking every delivery ever made in id order;
    // and the statement is planned on every run, as the outbox's claim is
    // (`outbox::model::claim_due`).
    let Some(id): Option<i64> = sqlx::query_scalar(&sql)
        .persistent(false)
        .bind(now)
        .bind(now + LEASE)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT d.event_id, d.event, d.room_id, d.room_title, d.summary, d.link, d.email_body, \
         d.created_at, d.attempts, e.url, e.secret, e.format FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let format: String = row.try_get(11)?;
    Ok(Some(Claimed {
        id,
        event_id: row.try_get(0)?,
        event: row.try_get(1)?,
        room_id: row.try_get(2)?,
        room_title: row.try_get(3)?,
        summary: row.try_get(4)?,
        link: row.try_get(5)?,
        body: row.try_get(6)?,
        created_at: row.try_get(7)?,
        attempts: row.try_get(8)?,
        url: row.try_get(9)?,
        secret: row.try_get(10)?,
        slack: format == "slack",
    }))
}

/// What one attempt came to.
struct Attempt {
    status: Option<u16>,
    error: String,
    took: Duration,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

async fn post(state: &AppState, client: &reqwest::Client, claimed: &Claimed) -> Attempt {
    let url = state.config.link(&claimed.link);
    let event = Event {
        id: &claimed.event_id,
        name: &claimed.event,
        room_id: claimed.room_id,
        room_title: &claimed.room_title,
        summary: &claimed.summary,
        url: &url,
        at: claimed.created_at,
        body: claimed.body.as_deref(),
    };
    let body = events::payload(&event, claimed.slack).to_string();
    let timestamp = state.clock.now() / 1000;
    let signature = sign::signature(&claimed.secret, &claimed.event_id, timestamp, &body);
    let started = Instant::now();
    let sent = client
        .post(&claimed.url)
        .header("content-type", "application/json")
        .header("user-agent", "Accord-Webhooks/1")
        .header("webhook-id", &claimed.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let took = started.elapsed();
    match sent {
        Ok(response) => {
            let status = response.status();
            Attempt {
                status: Some(status.as_u16()),
                error: match status.is_success() {
                    true => String::new(),
                    false => format!("answered {status}"),
                },
                took,
            }
        }
        Err(error) => Attempt {
            status: None,
            error: match error.is_timeout() {
                true => format!("no answer within {} s", TIMEOUT.as_secs()),
                false if error.is_connect() => "could not connect".to_owned(),
                false => "the request failed".to_owned(),
            },
            took,
        },
    }
}

/// The state after an attempt: delivered, retrying (with when), or failed.
fn settle(
    attempt_succeeded: bool,
    attempts: i64,
    now: Millis,
    jitter: f64,
) -> (&'static str, Millis) {
    match (attempt_succeeded, attempts >= MAX_ATTEMPTS) {
        (true, _) => ("delivered", now),
        (false, true) => ("failed", now),
        (false, false) => (
            "retrying",
            now + retry_delay(attempts, jitter).as_millis() as Millis,
        ),
    }
}

async fn record(state: &AppState, claimed: &Claimed, attempt: &Attempt) -> sqlx::Result<()> {
    let now = state.clock.now();
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let (next, at) = settle(
        attempt.succeeded(),
        claimed.attempts,
        now,
        f64::from(jitter[0]) / 255.0,
    );
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(claimed.id)
    .bind(now)
    .bind(attempt.status.map(i64::from))
    .bind(&attempt.error)
    .bind(attempt.took.as_millis() as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, lease_until = NULL, \
         last_error = $3, delivered_at = CASE WHEN $1 = 'delivered' THEN $2 ELSE delivered_at END \
         WHERE id = $4 AND state = 'delivering'",
    )
    .bind(next)
    .bind(at)
    .bind(&attempt.error)
    .bind(claimed.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Delivers what is due now (a batch); returns how many were delivered.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> anyhow::Result<usize> {
    let mut delivered = 0;
    for _ in 0..BATCH {
        let Some(claimed) = claim(state, state.clock.now()).await? else {
            break;
        };
        let attempt = post(state, client, &claimed).await;
        record(state, &claimed, &attempt).await?;
        if attempt.succeeded() {
            delivered += 1;
        } else {
            tracing::warn!(
                delivery.id = claimed.id,
                event = claimed.event.as_str(),
                attempts = claimed.attempts,
                error = attempt.error.as_str(),
                "webhook not delivered"
            );
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_is_final_a_failure_backs_off_until_the_last_attempt() {
        assert_eq!(settle(true, 3, 100, 0.5), ("delivered", 100));
        assert_eq!(settle(false, 1, 0, 0.5), ("retrying", 5_000));
        assert_eq!(settle(false, 2, 0, 0.5), ("retrying", 10_000));
        assert_eq!(settle(false, MAX_ATTEMPTS, 7, 0.5), ("failed", 7));
    }
}
