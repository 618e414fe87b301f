//! Nobody chases approvals by hand. A sweep in every instance looks at the drafts and leadership
//! updates still waiting: a PM who has not taken a position on the current revision is reminded
//! once per period (`ACCORD_NUDGE_AFTER_HOURS`, one hour in S1 rooms) — their stand-in instead,
//! while they are away — and after two periods the room's lead is told who is holding what and
//! since when (the room's leadership members, when the lead is the one holding it). The `nudges`
//! table's key makes each of those at most once per person, revision and period, however many
//! instances sweep.

use std::time::Duration;

use futures_util::TryStreamExt;
use lettre::Message;
use lettre::message::Mailbox;
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;

use super::absence;
use super::{SubjectKind, standing};
use crate::AppState;
use crate::accounts::user;
use crate::clock::Millis;
use crate::drafts::notify::{self, Waiting};
use crate::emails::{self, HeldUp};
use crate::members::model::{self as members, MemberKind};
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::change::RoomTx;
use crate::rooms::model::Severity;
use crate::web::time;

/// How often the sweep runs without a test hook.
const EVERY: Duration = Duration::from_secs(60);
/// Revisions older than this are no longer chased.
const CHASED_FOR: Millis = 7 * 24 * 3_600_000;

/// Sweeps until `stop` says so.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.config.hooks.nudge_poll.unwrap_or(EVERY);
    crate::sweeps::every(every, stop, "alignment reminders", || sweep(&state)).await;
}

/// One waiting draft or update.
struct Candidate {
    room_id: i64,
    kind: SubjectKind,
    subject_id: i64,
    revision: i64,
    since: Millis,
    title: String,
    severity: String,
    lead: i64,
}

/// How long a revision waits before its first reminder in a room of `severity`: an hour in S1
/// rooms, `ACCORD_NUDGE_AFTER_HOURS` (whole hours, at least one) elsewhere.
fn reminder_after(severity: &str, configured: Duration) -> Millis {
    let hours = match severity {
        s if s == Severity::S1.as_str() => 1,
        _ => (configured.as_secs() / 3600).max(1) as i64,
    };
    hours * 3_600_000
}

/// The drafts and updates waiting long enough for a reminder, read as they arrive: the
/// statement leaves out what is not yet due (at 100,000 rooms nearly every waiting draft, which
/// held as rows took the server from ~34 to ~148 MB once a minute).
async fn candidates(
    conn: &mut AnyConnection,
    now: Millis,
    configured: Duration,
) -> sqlx::Result<Vec<Candidate>> {
    let (s1_due, due) = (
        now - reminder_after(Severity::S1.as_str(), configured),
        now - reminder_after(Severity::S3.as_str(), configured),
    );
    let mut rows = sqlx::query(
        "SELECT r.id, 'draft', d.id, d.current_revision, v.created_at, v.subject, r.severity, r.lead_user_id \
         FROM drafts d JOIN rooms r ON r.id = d.room_id \
         JOIN draft_revisions v ON v.draft_id = d.id AND v.number = d.current_revision \
         WHERE r.status = 'open' AND d.outbox_id IS NULL AND v.created_at > $1 \
         AND v.created_at <= CASE WHEN r.severity = $2 THEN $3 ELSE $4 END \
         UNION ALL \
         SELECT r.id, 'update', u.id, u.current_revision, v.created_at, v.headline, r.severity, r.lead_user_id \
         FROM leadership_updates u JOIN rooms r ON r.id = u.room_id \
         JOIN update_revisions v ON v.update_id = u.id AND v.number = u.current_revision \
         WHERE r.status = 'open' AND u.published_version IS NULL AND v.created_at > $1 \
         AND v.created_at <= CASE WHEN r.severity = $2 THEN $3 ELSE $4 END",
    )
    .bind(now - CHASED_FOR)
    .bind(Severity::S1.as_str())
    .bind(s1_due)
    .bind(due)
    .fetch(conn);
    let mut list = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let kind: String = row.try_get(1)?;
        list.push(Candidate {
            room_id: row.try_get(0)?,
            kind: SubjectKind::parse(&kind).unwrap_or(SubjectKind::Draft),
            subject_id: row.try_get(2)?,
            revision: row.try_get(3)?,
            since: row.try_get(4)?,
            title: row.try_get(5)?,
            severity: row.try_get(6)?,
            lead: row.try_get(7)?,
        });
    }
    Ok(list)
}

/// The period a revision saved at `since` is in at `now` (0: not yet due), for rooms whose
/// reminders come every `after`.
pub fn period(since: Millis, now: Millis, after: Millis) -> i64 {
    match after > 0 {
        true => (now - since).max(0) / after,
        false => 0,
    }
}

/// Records that `level` went to `user_id` for this revision and period; `false` when another
/// sweep (here or on another instance) already did.
async fn claim(
    tx: &mut AnyConnection,
    c: &Candidate,
    user_id: i64,
    level: &str,
    period: i64,
    now: Millis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO nudges (subject_kind, subject_id, revision, user_id, level, period, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(c.kind.as_str())
    .bind(c.subject_id)
    .bind(c.revision)
    .bind(user_id)
    .bind(level)
    .bind(period)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues what is due now; returns how many emails.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let list = {
        let mut conn = state.db.reader().acquire().await?;
        candidates(&mut conn, now, state.config.nudge_after).await?
    };
    let mut sent = 0;
    for c in list {
        let after = reminder_after(&c.severity, state.config.nudge_after);
        let period = period(c.since, now, after);
        if period < 1 {
            continue;
        }
        let mut tx = RoomTx::begin(&state.db, [], now).await?;
        let people = members::list(&mut tx, c.room_id).await?;
        let (alignment, away) = standing(
            &mut tx,
            c.kind,
            c.subject_id,
            (c.room_id, &people),
            c.revision,
            now,
        )
        .await?;
        let what = format!(
            "The {} “{}” (revision {})",
            c.kind.label(),
            c.title,
            c.revision
        );
        let what_short = format!("{} “{}”", c.kind.label(), c.title);
        let path = match c.kind {
            SubjectKind::Draft => format!("/rooms/{}/drafts/{}", c.room_id, c.subject_id),
            SubjectKind::Update => format!("/rooms/{}/updates/{}", c.room_id, c.subject_id),
        };
        let waiting = Waiting {
            room_id: c.room_id,
            kind: c.kind,
            subject_id: c.subject_id,
            revision: c.revision,
            what: &what,
            path: &path,
        };
        let waited = format!("for {}", time::span(now - c.since));
        let mut holding = Vec::new();
        for (pm, position) in &alignment {
            if !position.is_waiting() {
                continue;
            }
            holding.push(pm.clone());
            // While away, their stand-in is the one who can answer.
            let to = absence::until(&away, pm.user_id)
                .and_then(|_| away.iter().find(|a| a.user_id == pm.user_id))
                .map_or(pm.user_id, |a| a.stand_in_user_id);
            if claim(&mut tx, &c, to, "reminder", period, now).await? {
                notify::request(state, &mut tx, to, &waiting, Some(&waited), now).await?;
                sent += 1;
            }
        }
        if period >= 2 {
            for pm in &holding {
                // Once per holder and revision: the lead hears of it, then it is theirs to chase.
                if !claim(&mut tx, &c, pm.user_id, "lead", 0, now).await? {
                    continue;
                }
                let told: Vec<i64> = match pm.user_id == c.lead {
                    false => vec![c.lead],
                    true => people
                        .iter()
                        .filter(|m| m.kind == MemberKind::Leadership)
                        .map(|m| m.user_id)
                        .collect(),
                };
                for lead in told {
                    let Some(account) = user::find(&mut *tx, lead).await? else {
                        continue;
                    };
                    let headers = Message::builder()
                        .from(state.config.mail_from.clone())
                        .to(Mailbox::new(
                            Some(account.name.clone()),
                            account.email.parse()?,
                        ))
                        .subject(format!("{} is holding the {what_short}", pm.name))
                        .message_id(Some(crate::mail::message_id(&state.config)));
                    let email = HeldUp {
                        name: &account.name,
                        holder: &pm.name,
                        what: &what,
                        waited: &waited,
                        link: &state.config.link(&path),
                    };
                    let message = emails::compose(headers, &email)?;
                    let backend = state.db.backend();
                    outbox::enqueue(&mut tx, backend, &Outgoing::notification(message), now)
                        .await?;
                    sent += 1;
                }
            }
        }
        tx.commit().await?;
    }
    if sent > 0 {
        state.outbox.wake();
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::period;

    #[test]
    fn a_revision_is_due_once_per_period() {
        let hour = 3_600_000;
        assert_eq!(period(0, 3 * hour, 4 * hour), 0);
        assert_eq!(period(0, 4 * hour, 4 * hour), 1);
        assert_eq!(period(0, 7 * hour, 4 * hour), 1);
        assert_eq!(period(0, 8 * hour, 4 * hour), 2);
        assert_eq!(
            period(10, 0, hour),
            0,
            "a clock behind the revision is not overdue"
        );
    }
}
