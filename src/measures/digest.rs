//! The weekly digest: on Mondays each leadership member who did not opt out gets their open
//! rooms' status, what changed in the week, what is overdue, and the coordination measures of
//! `/insights` (the same reading, the same numbers), through the outbox. A sweep in every
//! instance claims (person, week) in `digests`, so it goes out once whatever the instances.

use std::time::Duration;

use lettre::Message;
use sqlx::Row;
use tokio::sync::watch;

use super::cache::Key;
use super::formulas::DAY;
use crate::AppState;
use crate::accounts::user;
use crate::clock::Millis;
use crate::emails::{self, DigestRoom, WeeklyDigest};
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::change::RoomTx;

const WEEK: Millis = 7 * DAY;
/// The period of the measures the digest shares with `/insights`' default.
pub const MEASURED_DAYS: i64 = 90;
/// Rooms listed one by one (those that changed most recently); the rest are counted.
const ROOMS_LISTED: usize = 25;
/// How often the sweep runs without a test hook.
const EVERY: Duration = Duration::from_secs(300);

/// The week `at` falls in, weeks starting Monday 00:00 UTC (the epoch was a Thursday).
pub fn week_of(at: Millis) -> i64 {
    (at + 3 * DAY).div_euclid(WEEK)
}

/// Sweeps until `stop` says so.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.config.hooks.nudge_poll.unwrap_or(EVERY);
    crate::sweeps::every(every, stop, "weekly digests", || sweep(&state)).await;
}

/// Queues the digests of this week not sent yet; returns how many.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let week = week_of(now);
    let people: Vec<i64> = {
        let mut conn = state.db.reader().acquire().await?;
        sqlx::query_scalar(
            "SELECT DISTINCT u.id FROM users u JOIN members m ON m.user_id = u.id AND m.kind = 'leadership' \
             JOIN rooms r ON r.id = m.room_id AND r.status <> 'closed' \
             WHERE u.is_active = 1 AND u.weekly_digest = 1 AND NOT EXISTS \
             (SELECT 1 FROM digests d WHERE d.user_id = u.id AND d.week = $1) ORDER BY u.id",
        )
        .bind(week)
        .fetch_all(&mut *conn)
        .await?
    };
    let mut sent = 0;
    for user_id in people {
        let Some(account) = user::find(state.db.reader(), user_id).await? else {
            continue;
        };
        // Composed from reads alone (at 100k rooms that takes a while); the write transaction
        // below only claims the week and queues the email.
        let message = digest(state, &account, now).await?;
        let mut tx = RoomTx::begin(&state.db, [], now).await?;
        let claimed = sqlx::query(
            "INSERT INTO digests (user_id, week, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(week)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        outbox::enqueue(
            &mut tx,
            state.db.backend(),
            &Outgoing::notification(message),
            now,
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// One person's digest: their open rooms that changed most recently (at most [`ROOMS_LISTED`],
/// with how many more there are), and the measures of their `/insights` over its default period
/// — read through the same cache, so the numbers are the page's.
async fn digest(state: &AppState, account: &user::User, now: Millis) -> anyhow::Result<Message> {
    let mut conn = state.db.reader().acquire().await?;
    let rows = sqlx::query(
        "SELECT r.id, r.title, r.status, r.severity, r.next_customer_update_due, r.next_leadership_update_due, \
         (SELECT COUNT(*) FROM timeline_events e WHERE e.room_id = r.id AND e.at > $2), \
         (SELECT COUNT(*) FROM workstreams w WHERE w.room_id = r.id AND w.status <> 'done' AND w.due_at < $3) \
         FROM rooms r JOIN members m ON m.room_id = r.id AND m.user_id = $1 AND m.kind = 'leadership' \
         WHERE r.status <> 'closed' ORDER BY r.updated_at DESC, r.id DESC LIMIT $4",
    )
    .bind(account.id)
    .bind(now - WEEK)
    .bind(now)
    .bind(ROOMS_LISTED as i64)
    .fetch_all(&mut *conn)
    .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rooms r JOIN members m ON m.room_id = r.id AND m.user_id = $1 \
         AND m.kind = 'leadership' WHERE r.status <> 'closed'",
    )
    .bind(account.id)
    .fetch_one(&mut *conn)
    .await?;
    drop(conn);
    let mut rooms = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get(0)?;
        let mut overdue = Vec::new();
        let customer: Option<Millis> = row.try_get(4)?;
        let leadership: Option<Millis> = row.try_get(5)?;
        if customer.is_some_and(|due| due < now) {
            overdue.push("the customer update".to_owned());
        }
        if leadership.is_some_and(|due| due < now) {
            overdue.push("the leadership update".to_owned());
        }
        let late: i64 = row.try_get(7)?;
        if late > 0 {
            overdue.push(format!(
                "{late} workstream{}",
                if late == 1 { "" } else { "s" }
            ));
        }
        let status: String = row.try_get(2)?;
        let severity: String = row.try_get(3)?;
        rooms.push(DigestRoom {
            title: row.try_get(1)?,
            status: format!("{severity}, {status}"),
            changes: row.try_get(6)?,
            overdue,
            link: state.config.link(&format!("/rooms/{id}")),
        });
    }
    let key = Key {
        user_id: account.id,
        is_admin: false,
        days: MEASURED_DAYS,
    };
    let insights = state.insights.get(state.db.reader(), key, now).await?;
    let email = WeeklyDigest {
        name: &account.name,
        more: (open as usize).saturating_sub(rooms.len()),
        rooms,
        velocity: insights.velocity_lines(),
        crowded: insights.totals.crowded,
        uncoordinated: insights.totals.uncoordinated,
        parallel: insights.totals.parallel,
        insights: &state.config.link("/insights"),
        dashboard: &state.config.link("/"),
    };
    let headers = crate::mail::to_person(
        &state.config,
        &account.name,
        &account.email,
        "Your escalations this week",
    )?;
    emails::compose(headers, &email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_utc() {
        let monday = 1_796_601_600_000; // Mon 7 Dec 2026, 00:00 UTC
        assert_eq!(week_of(monday), week_of(monday + WEEK - 1));
        assert_eq!(week_of(monday) - 1, week_of(monday - 1));
    }
}
