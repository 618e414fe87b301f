//! "Waiting for your alignment": an internal notification to each PM who has not aligned on the
//! current revision. It goes through the outbox like any email but is not customer outreach, so
//! an outreach pause does not hold it.

use lettre::Message;
use lettre::message::Mailbox;
use sqlx::AnyConnection;

use crate::AppState;
use crate::accounts::user;
use crate::approvals::Alignment;
use crate::clock::Millis;
use crate::emails::{self, AlignmentRequest};
use crate::members::model::Member;
use crate::outbox::model::{self as outbox, Outgoing};

/// Queues one notification per PM still to align (not `except`, who just saved or approved).
pub async fn pms_to_align(
    state: &AppState,
    tx: &mut AnyConnection,
    alignment: &[(Member, Alignment)],
    except: i64,
    what: &str,
    link_path: &str,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for (pm, state_of_pm) in alignment {
        if state_of_pm.is_current() || pm.user_id == except {
            continue;
        }
        let Some(account) = user::find(&mut *tx, pm.user_id).await? else {
            continue;
        };
        let to = Mailbox::new(Some(account.name.clone()), account.email.parse()?);
        let headers = Message::builder()
            .from(state.config.mail_from.clone())
            .to(to)
            .subject(format!("Waiting for your alignment: {what}"))
            .message_id(Some(crate::mail::message_id(&state.config)));
        let request = AlignmentRequest {
            name: &account.name,
            what,
            link: &state.config.link(link_path),
        };
        let message = emails::compose(headers, &request)?;
        let outgoing = Outgoing::notification(message);
        outbox::enqueue(tx, state.db.backend(), &outgoing, now).await?;
        queued += 1;
    }
    Ok(queued)
}
