//! Background sweeps every instance runs (reminders, agenda emails): one loop that sweeps at a
//! fixed interval until told to stop, logging what each sweep queued and retrying after a failure.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Runs `sweep` every `every` until `stop` changes; `what` names what a sweep queues in the log.
pub async fn every<F, Fut>(every: Duration, mut stop: watch::Receiver<bool>, what: &str, sweep: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        match sweep().await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, what, "sweep queued emails"),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                what,
                "sweep failed; will retry"
            ),
        }
    }
}
