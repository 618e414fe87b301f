//! The agenda by email an hour before each sync: a sweep in every instance finds the open rooms
//! whose next sync starts within the hour, claims (room, sync time) in `sync_reminders` — so one
//! instance sends it, once — and emails each member the agenda as it stands then, times in their
//! own zone.

use std::time::Duration;

use tokio::sync::watch;

use crate::AppState;
use crate::accounts::user;
use crate::clock::Millis;
use crate::emails::{self, SyncAgenda};
use crate::members::model as members;
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::change::RoomTx;
use crate::rooms::model as rooms;
use crate::web::time::Zone;

/// How long before a sync its agenda goes out.
pub const AHEAD: Millis = 3_600_000;
/// How often the sweep runs without a test hook.
const EVERY: Duration = Duration::from_secs(60);

/// Sweeps until `stop` says so.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.config.hooks.nudge_poll.unwrap_or(EVERY);
    crate::sweeps::every(every, stop, "sync agendas", || sweep(&state)).await;
}

/// Queues the agendas due now; returns how many emails.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let due: Vec<(i64, Millis)> = {
        let mut conn = state.db.reader().acquire().await?;
        sqlx::query_as(
            "SELECT r.id, r.next_sync_at FROM rooms r WHERE r.status = 'open' \
             AND r.next_sync_at > $1 AND r.next_sync_at <= $2 AND NOT EXISTS ( \
             SELECT 1 FROM sync_reminders s WHERE s.room_id = r.id AND s.sync_at = r.next_sync_at)",
        )
        .bind(now)
        .bind(now + AHEAD)
        .fetch_all(&mut *conn)
        .await?
    };
    let mut sent = 0;
    for (room_id, sync_at) in due {
        let mut tx = RoomTx::begin(&state.db, [], now).await?;
        let claimed = sqlx::query(
            "INSERT INTO sync_reminders (room_id, sync_at, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(room_id)
        .bind(sync_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let Some(room) = rooms::find(&mut *tx, room_id).await? else {
            continue;
        };
        let link = state.config.link(&format!("/rooms/{room_id}/sync"));
        for member in members::list(&mut tx, room_id).await? {
            let Some(account) = user::find(&mut *tx, member.user_id).await? else {
                continue;
            };
            if !account.is_active() {
                continue;
            }
            let zone = account
                .time_zone
                .as_deref()
                .and_then(Zone::parse)
                .unwrap_or(state.config.default_zone);
            let (items, _) = super::build(&mut tx, state, &room, zone, now).await?;
            let email = SyncAgenda {
                name: &account.name,
                room_title: &room.title,
                when: zone.when(sync_at),
                items: items.iter().map(|i| i.text.clone()).collect(),
                link: &link,
            };
            let headers = crate::mail::to_person(
                &state.config,
                &account.name,
                &account.email,
                format!("Agenda: sync on “{}”", room.title),
            )?;
            let message = emails::compose(headers, &email)?;
            outbox::enqueue(
                &mut tx,
                state.db.backend(),
                &Outgoing::notification(message),
                now,
            )
            .await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    Ok(sent)
}
