//! The send panel of a draft page: one state, one message. Ready, blocked (with the checklist),
//! queued, retrying (attempt n of 6, the next try, the server's reply in plain words), delivery
//! unknown (decide), failed (the reason and what to do), sent (when, to whom). Never "not
//! sendable yet" next to "sent".

use super::gate::Blocker;
use crate::clock::Millis;
use crate::outbox::model::{Entry, OutboxState};
use crate::outbox::worker::MAX_ATTEMPTS;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendPanel {
    /// Every rule holds: the communicator can send now.
    Ready,
    /// Not sendable yet, and every reason why.
    Blocked(Vec<Blocker>),
    /// Queued or being handed over right now.
    Queued {
        since: Millis,
    },
    Retrying {
        attempt: i64,
        of: i64,
        next_at: Millis,
        reply: String,
    },
    /// The mail server may or may not have it: the communicator decides.
    Unknown {
        reply: String,
    },
    /// It could not be delivered; the draft can be corrected and sent again (`then` says whether
    /// that is possible right now).
    Failed {
        reason: String,
        then: Vec<Blocker>,
    },
    Sent {
        at: Millis,
        to: String,
    },
}

impl SendPanel {
    /// The panel for a draft whose message is `delivery` (if it was ever queued), given the
    /// blockers of sending the current revision now.
    pub fn of(delivery: Option<&Entry>, blockers: Vec<Blocker>) -> SendPanel {
        let Some(delivery) = delivery else {
            return match blockers.is_empty() {
                true => SendPanel::Ready,
                false => SendPanel::Blocked(blockers),
            };
        };
        match delivery.state {
            OutboxState::Queued | OutboxState::Sending => SendPanel::Queued {
                since: delivery.created_at,
            },
            OutboxState::Retrying => SendPanel::Retrying {
                attempt: delivery.attempts,
                of: MAX_ATTEMPTS,
                next_at: delivery.next_attempt_at,
                reply: plain_words(&delivery.last_error),
            },
            OutboxState::Unknown => SendPanel::Unknown {
                reply: plain_words(&delivery.last_error),
            },
            OutboxState::Failed => SendPanel::Failed {
                reason: plain_words(&delivery.last_error),
                then: blockers,
            },
            OutboxState::Sent => SendPanel::Sent {
                at: delivery.sent_at.unwrap_or(delivery.created_at),
                to: delivery.recipients.clone(),
            },
        }
    }

    /// The CSS modifier and the state's name, for the badge.
    pub fn label(&self) -> (&'static str, &'static str) {
        match self {
            SendPanel::Ready => ("ready", "Ready to send"),
            SendPanel::Blocked(_) => ("blocked", "Not sendable yet"),
            SendPanel::Queued { .. } => ("queued", "Queued"),
            SendPanel::Retrying { .. } => ("retrying", "Retrying"),
            SendPanel::Unknown { .. } => ("unknown", "Delivery unknown"),
            SendPanel::Failed { .. } => ("failed", "Failed"),
            SendPanel::Sent { .. } => ("sent", "Sent"),
        }
    }

    /// Whether the send button belongs on the panel (and is enabled).
    pub fn can_send(&self) -> bool {
        match self {
            SendPanel::Ready => true,
            SendPanel::Failed { then, .. } => then.is_empty(),
            _ => false,
        }
    }

    /// Whether the panel shows a send button at all (enabled or not).
    pub fn offers_send(&self) -> bool {
        matches!(
            self,
            SendPanel::Ready | SendPanel::Blocked(_) | SendPanel::Failed { .. }
        )
    }
}

/// A mail server's reply as a person reads it: a bare SMTP reply ("451 4.7.1 Try later") gets a
/// sentence saying what it means; Accord's own explanations are already sentences.
pub fn plain_words(reply: &str) -> String {
    let reply = reply.trim();
    let code = reply
        .get(..3)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
    match code.and_then(|c| c.chars().next()) {
        Some('4') => {
            format!("The mail server asked Accord to try again later (it said “{reply}”).")
        }
        Some('5') => format!("The mail server refused the message for good (it said “{reply}”)."),
        _ if reply.is_empty() => "The mail server gave no reason.".to_owned(),
        _ => reply.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::model::MessageKind;

    fn entry(state: OutboxState) -> Entry {
        Entry {
            id: 1,
            kind: MessageKind::Customer,
            draft_id: Some(1),
            subject: "Fix timeline".into(),
            recipients: "jordan@northwind.example".into(),
            state,
            attempts: 2,
            last_error: "451 4.7.1 Try later".into(),
            created_at: 100,
            sent_at: None,
            message_id: "<m@accord>".into(),
            room_id: Some(1),
            resolved: None,
            next_attempt_at: 500,
        }
    }

    #[test]
    fn each_delivery_state_is_one_panel() {
        let blocked = vec![Blocker::NoRecipient];
        assert_eq!(SendPanel::of(None, vec![]), SendPanel::Ready);
        assert_eq!(
            SendPanel::of(None, blocked.clone()),
            SendPanel::Blocked(blocked.clone())
        );
        // Once queued, the gate's "already queued" is not repeated next to the state.
        let queued = entry(OutboxState::Queued);
        assert_eq!(
            SendPanel::of(Some(&queued), blocked.clone()),
            SendPanel::Queued { since: 100 }
        );
        let retrying = SendPanel::of(Some(&entry(OutboxState::Retrying)), blocked.clone());
        assert_eq!(
            retrying,
            SendPanel::Retrying {
                attempt: 2,
                of: MAX_ATTEMPTS,
                next_at: 500,
                reply: "The mail server asked Accord to try again later (it said “451 4.7.1 Try later”).".into(),
            }
        );
        let mut sent = entry(OutboxState::Sent);
        sent.sent_at = Some(300);
        let sent = SendPanel::of(Some(&sent), blocked.clone());
        assert_eq!(
            sent,
            SendPanel::Sent {
                at: 300,
                to: "jordan@northwind.example".into()
            }
        );
        assert!(!sent.offers_send());
        let failed = SendPanel::of(Some(&entry(OutboxState::Failed)), vec![]);
        assert!(failed.can_send(), "a failed email can be sent again");
        assert!(matches!(
            SendPanel::of(Some(&entry(OutboxState::Unknown)), vec![]),
            SendPanel::Unknown { .. }
        ));
    }

    #[test]
    fn server_replies_are_put_in_plain_words() {
        assert!(plain_words("550 5.1.1 No such user").starts_with("The mail server refused"));
        assert_eq!(
            plain_words("Could not connect to the mail server mx:25: connection refused."),
            "Could not connect to the mail server mx:25: connection refused."
        );
        assert_eq!(plain_words(""), "The mail server gave no reason.");
    }
}
