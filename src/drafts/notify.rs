//! "Waiting for your alignment": an internal notification to each PM who has not aligned on the
//! current revision. It goes through the outbox like any email but is not customer outreach, so
//! an outreach pause does not hold it.

use lettre::Message;
use lettre::message::Mailbox;
use sqlx::AnyConnection;

use crate::AppState;
use crate::accounts::user;
use crate::approvals::{Alignment, SubjectKind, link};
use crate::clock::Millis;
use crate::emails::{self, AlignmentRequest};
use crate::members::model::Member;
use crate::outbox::model::{self as outbox, Outgoing};

/// What waits for alignment: its room, kind and id, the exact revision, and its page.
pub struct Waiting<'a> {
    pub room_id: i64,
    pub kind: SubjectKind,
    pub subject_id: i64,
    pub revision: i64,
    /// As a phrase: "The draft “…” (revision 2)".
    pub what: &'a str,
    pub path: &'a str,
}

/// Queues one notification per PM still to align (not `except`, who just saved or approved),
/// each with a one-time link bound to them and this exact revision.
pub async fn pms_to_align(
    state: &AppState,
    tx: &mut AnyConnection,
    alignment: &[(Member, Alignment)],
    except: i64,
    waiting: &Waiting<'_>,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for (pm, state_of_pm) in alignment {
        if state_of_pm.is_current() || pm.user_id == except {
            continue;
        }
        request(state, tx, pm.user_id, waiting, None, now).await?;
        queued += 1;
    }
    Ok(queued)
}

/// One "waiting for your alignment" email (a reminder when `waited` says for how long).
pub async fn request(
    state: &AppState,
    tx: &mut AnyConnection,
    user_id: i64,
    waiting: &Waiting<'_>,
    waited: Option<&str>,
    now: Millis,
) -> anyhow::Result<()> {
    let Some(account) = user::find(&mut *tx, user_id).await? else {
        return Ok(());
    };
    let to = Mailbox::new(Some(account.name.clone()), account.email.parse()?);
    let subject = match waited {
        Some(waited) => format!("Reminder, waiting {waited}: {}", waiting.what),
        None => format!("Waiting for your alignment: {}", waiting.what),
    };
    let headers = Message::builder()
        .from(state.config.mail_from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(crate::mail::message_id(&state.config)));
    let target = (waiting.room_id, waiting.kind, waiting.subject_id);
    let align_link = link::issue(tx, state, target, user_id, waiting.revision, now).await?;
    let request = AlignmentRequest {
        name: &account.name,
        what: waiting.what,
        link: &state.config.link(waiting.path),
        align_link: &align_link,
        waited,
    };
    let message = emails::compose(headers, &request)?;
    let outgoing = Outgoing::notification(message);
    outbox::enqueue(tx, state.db.backend(), &outgoing, now).await?;
    Ok(())
}
