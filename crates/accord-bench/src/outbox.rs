//! The outbox scenario: a burst of notifications straight into the outbox, timed until the SMTP
//! sink has them all, then one aligned customer email sent through the web, timed from the click
//! to the sink.

use std::time::{Duration, Instant};

use accord::db::Db;
use accord::outbox::model::{self as outbox, Outgoing};
use clap::Parser;
use lettre::message::header::ContentType;

use crate::dataset;
use crate::load::{self, Request};
use crate::server::Server;
use crate::smtp;

pub struct OutboxResult {
    pub emails_per_s: f64,
    pub pickup_ms: f64,
    pub errors: usize,
}

/// Queues `emails` notifications straight into the outbox and times their delivery; then sends
/// one aligned customer email through the web and times approval-to-pickup.
pub async fn outbox_scenario(
    db: &Db,
    server: &Server,
    sink: &smtp::Sink,
    cookie: &str,
    token: &str,
    f: &dataset::Fixture,
    emails: usize,
) -> anyhow::Result<OutboxResult> {
    let config = accord::config::Cli::try_parse_from(["accord"])?
        .settings
        .validate()?;
    // The rate counts only this scenario's messages.
    settle(db).await?;
    let already = sink.count();
    let mut tx = db.begin_write().await?;
    let now = chrono::Utc::now().timestamp_millis();
    for n in 0..emails {
        let message = lettre::Message::builder()
            .from(config.mail_from.clone())
            .to(format!("reader{n}@accord.bench").parse()?)
            .subject(format!("Waiting for your alignment {n}"))
            .message_id(Some(accord::mail::message_id(&config)))
            .header(ContentType::TEXT_PLAIN)
            .body(format!("Message {n}"))?;
        let outgoing = Outgoing::notification(message);
        outbox::enqueue(&mut tx, db.backend(), &outgoing, now).await?;
    }
    tx.commit().await?;
    let waited = Instant::now();
    while sink.count() < already + emails && waited.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let arrivals = sink.arrivals.lock().expect("not poisoned")[already..].to_vec();
    let mut errors = emails.saturating_sub(arrivals.len());
    if errors > 0 {
        explain_undelivered(db).await?;
    }
    let emails_per_s = match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) if arrivals.len() > 1 => {
            (arrivals.len() - 1) as f64 / last.duration_since(*first).as_secs_f64().max(1e-6)
        }
        _ => 0.0,
    };
    let before = sink.count();
    let (room, draft) = f.send_room;
    let sent_at = Instant::now();
    let send = Request::post(
        format!("/rooms/{room}/drafts/{draft}/delivery"),
        format!("revision=2&csrf_token={token}"),
    );
    let (status, _, _) = load::once(server.addr, &send, cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    if status != 303 {
        errors += 1;
    }
    while sink.count() == before && sent_at.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let pickup_ms = sent_at.elapsed().as_secs_f64() * 1000.0;
    if sink.count() == before {
        errors += 1;
    }
    Ok(OutboxResult {
        emails_per_s,
        pickup_ms,
        errors,
    })
}

/// Prints where the messages that never reached the sink ended up (the bench's own messages:
/// nothing about customers).
async fn explain_undelivered(db: &Db) -> anyhow::Result<()> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT state, last_error, COUNT(*) FROM outbox WHERE state <> 'sent' \
         GROUP BY state, last_error ORDER BY 3 DESC",
    )
    .fetch_all(db.reader())
    .await?;
    for (state, error, count) in rows {
        eprintln!("outbox: {count} message(s) {state}: {error}");
    }
    Ok(())
}

/// Waits (at most two minutes) until the outbox has delivered what earlier scenarios queued —
/// the write mix's emails, a notification per PM for each customer reply filed — so that the
/// next scenario measures its own load, not the deliveries still running behind it. Returns how
/// many messages were waiting.
pub async fn settle(db: &Db) -> anyhow::Result<i64> {
    let waiting = pending(db).await?;
    let settling = Instant::now();
    while pending(db).await? > 0 && settling.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(waiting)
}

/// Messages the outbox has yet to deliver.
async fn pending(db: &Db) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'retrying', 'sending')",
    )
    .fetch_one(db.reader())
    .await?)
}
