//! The send gate (rules 1–4): every reason a draft cannot go to the customer right now. One
//! pure function; the blockers shared with leadership updates come from `approvals::refusal`, and
//! the same blockers render the checklist on the draft page, the 409 answer to a refused send,
//! and the "send blocked" timeline entry.

use std::fmt;

use crate::approvals::Alignment;
use crate::approvals::refusal::{self, shared_blockers};
use crate::members::model::Member;
use crate::outreach::model::Pause;
use crate::text_enum::text_enum;
use crate::web::time::Zone;

/// Why a draft cannot be sent now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// A room closed, outreach paused, or a PM not aligned on the current revision.
    Shared(refusal::Blocker),
    NotCommunicator {
        communicator: String,
    },
    NoRecipient,
    NotACustomerContact {
        recipient: String,
    },
    AlreadyQueued,
    AlreadySent,
    ChangedSinceOpened {
        seen: i64,
        current: i64,
    },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Shared(blocker) => blocker.fmt(f),
            Blocker::NotCommunicator { communicator } => {
                write!(
                    f,
                    "Only the communicator, {communicator}, can send customer email"
                )
            }
            Blocker::NoRecipient => write!(f, "The draft has no recipient"),
            Blocker::NotACustomerContact { recipient } => {
                write!(f, "{recipient} is not a contact of this room's customer")
            }
            Blocker::AlreadyQueued => write!(f, "This draft is already queued for delivery"),
            Blocker::AlreadySent => write!(f, "This draft was already sent"),
            Blocker::ChangedSinceOpened { seen, current } => write!(
                f,
                "The draft changed since you opened it (you saw revision {seen}; it is now revision {current}): read it again"
            ),
        }
    }
}

text_enum! {
    /// A blocker's kind, kept with each refused send for "sends blocked by reason".
    pub enum BlockReason {
        RoomClosed = "room_closed" => "Room closed",
        Paused = "paused" => "Outreach paused",
        NotAligned = "not_aligned" => "A PM had not aligned",
        StaleApproval = "stale_approval" => "An alignment was stale",
        Objection = "objection" => "A PM objected",
        NotCommunicator = "not_communicator" => "Not the communicator",
        NoRecipient = "no_recipient" => "No recipient",
        NotACustomerContact = "not_a_contact" => "Recipient not a contact",
        AlreadyQueuedOrSent = "already_queued" => "Already queued or sent",
        ChangedSinceOpened = "changed" => "Changed since opened",
        Unrecorded = "unrecorded" => "Not recorded (before reasons were kept)",
    }
}

impl Blocker {
    /// What kind of reason this is.
    pub fn reason(&self) -> BlockReason {
        match self {
            Blocker::Shared(shared) => match shared {
                refusal::Blocker::RoomClosed => BlockReason::RoomClosed,
                refusal::Blocker::Paused { .. } => BlockReason::Paused,
                refusal::Blocker::NotAligned { .. } => BlockReason::NotAligned,
                refusal::Blocker::StaleApproval { .. } => BlockReason::StaleApproval,
                refusal::Blocker::Objects { .. } | refusal::Blocker::StaleObjection { .. } => {
                    BlockReason::Objection
                }
            },
            Blocker::NotCommunicator { .. } => BlockReason::NotCommunicator,
            Blocker::NoRecipient => BlockReason::NoRecipient,
            Blocker::NotACustomerContact { .. } => BlockReason::NotACustomerContact,
            Blocker::AlreadyQueued | Blocker::AlreadySent => BlockReason::AlreadyQueuedOrSent,
            Blocker::ChangedSinceOpened { .. } => BlockReason::ChangedSinceOpened,
        }
    }
}

/// The distinct kinds of `blockers`, in first-seen order, as stored (`not_aligned,paused`).
pub fn reasons(blockers: &[Blocker]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for kind in blockers.iter().map(|b| b.reason().as_str()) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.join(",")
}

/// Where the draft's message stands in the outbox, if it was ever queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    NotQueued,
    InProgress,
    Sent,
}

/// Everything the gate looks at.
pub struct SendAttempt<'a> {
    pub sender_id: i64,
    pub communicator: &'a Member,
    pub room_closed: bool,
    pub pause: Option<&'a Pause>,
    pub alignment: &'a [(Member, Alignment)],
    pub current_revision: i64,
    pub seen_revision: i64,
    /// Each recipient's address and whether it is a contact of the room's customer.
    pub recipients: &'a [(String, bool)],
    pub delivery: Delivery,
    /// The zone the blockers word times in (the reader's).
    pub zone: Zone,
}

/// `Ok` when the draft may be sent now; otherwise every reason it may not, in checklist order.
pub fn delivery_readiness(attempt: &SendAttempt<'_>) -> Result<(), Vec<Blocker>> {
    let mut blockers = Vec::new();
    match attempt.delivery {
        Delivery::Sent => blockers.push(Blocker::AlreadySent),
        Delivery::InProgress => blockers.push(Blocker::AlreadyQueued),
        Delivery::NotQueued => {}
    }
    let shared = shared_blockers(
        attempt.room_closed,
        attempt.alignment,
        attempt.current_revision,
    );
    blockers.extend(shared.into_iter().map(Blocker::Shared));
    if let Some(pause) = attempt.pause {
        blockers.push(Blocker::Shared(refusal::Blocker::paused(
            pause,
            attempt.zone,
        )));
    }
    if attempt.sender_id != attempt.communicator.user_id {
        blockers.push(Blocker::NotCommunicator {
            communicator: attempt.communicator.name.clone(),
        });
    }
    if attempt.recipients.is_empty() {
        blockers.push(Blocker::NoRecipient);
    }
    for (address, is_contact) in attempt.recipients {
        if !is_contact {
            blockers.push(Blocker::NotACustomerContact {
                recipient: address.clone(),
            });
        }
    }
    if attempt.seen_revision != attempt.current_revision {
        blockers.push(Blocker::ChangedSinceOpened {
            seen: attempt.seen_revision,
            current: attempt.current_revision,
        });
    }
    match blockers.is_empty() {
        true => Ok(()),
        false => Err(blockers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(user_id: i64, name: &str) -> Member {
        Member::pm(user_id, name)
    }

    struct Fixture {
        communicator: Member,
        alignment: Vec<(Member, Alignment)>,
        recipients: Vec<(String, bool)>,
        pause: Pause,
    }

    fn fixture() -> Fixture {
        Fixture {
            communicator: pm(2, "Sam"),
            alignment: vec![
                (pm(1, "Dana"), Alignment::Current),
                (pm(2, "Sam"), Alignment::Current),
            ],
            recipients: vec![("jordan@northwind.example".to_owned(), true)],
            pause: Pause {
                id: 1,
                reason: "Fix not deployed yet".into(),
                set_by: "Dana".into(),
                set_at: 0,
                granted_by: None,
                until: None,
                resume: None,
            },
        }
    }

    fn ready(f: &Fixture) -> SendAttempt<'_> {
        SendAttempt {
            sender_id: 2,
            communicator: &f.communicator,
            room_closed: false,
            pause: None,
            alignment: &f.alignment,
            current_revision: 4,
            seen_revision: 4,
            recipients: &f.recipients,
            delivery: Delivery::NotQueued,
            zone: Zone::UTC,
        }
    }

    fn blockers(attempt: &SendAttempt<'_>) -> Vec<Blocker> {
        delivery_readiness(attempt).err().unwrap_or_default()
    }

    #[test]
    fn an_aligned_draft_from_the_communicator_may_be_sent() {
        assert_eq!(delivery_readiness(&ready(&fixture())), Ok(()));
    }

    #[test]
    fn a_refusal_keeps_each_kind_of_reason_once_in_first_seen_order() {
        let two_missing = vec![
            (pm(1, "Dana"), Alignment::Missing),
            (pm(3, "Kim"), Alignment::Missing),
        ];
        let f = fixture();
        let attempt = SendAttempt {
            alignment: &two_missing,
            pause: Some(&f.pause),
            sender_id: 1,
            ..ready(&f)
        };
        assert_eq!(
            reasons(&blockers(&attempt)),
            "not_aligned,paused,not_communicator"
        );
        assert_eq!(reasons(&[]), "");
        for reason in BlockReason::ALL {
            assert_eq!(BlockReason::parse(reason.as_str()), Some(*reason));
        }
    }

    #[test]
    fn each_blocker_alone() {
        let f = fixture();
        let stale = vec![
            (pm(1, "Dana"), Alignment::Stale { revision: 3 }),
            (pm(2, "Sam"), Alignment::Current),
        ];
        let missing = vec![
            (pm(1, "Dana"), Alignment::Current),
            (pm(3, "Kim"), Alignment::Missing),
        ];
        let outsider = vec![("eve@evil.example".to_owned(), false)];
        let cases: Vec<(SendAttempt<'_>, Blocker)> = vec![
            (
                SendAttempt {
                    pause: Some(&f.pause),
                    ..ready(&f)
                },
                Blocker::Shared(refusal::Blocker::Paused {
                    reason: "Fix not deployed yet".into(),
                    by: "Dana".into(),
                    until: None,
                }),
            ),
            (
                SendAttempt {
                    sender_id: 1,
                    ..ready(&f)
                },
                Blocker::NotCommunicator {
                    communicator: "Sam".into(),
                },
            ),
            (
                SendAttempt {
                    alignment: &missing,
                    ..ready(&f)
                },
                Blocker::Shared(refusal::Blocker::NotAligned { pm: "Kim".into() }),
            ),
            (
                SendAttempt {
                    alignment: &stale,
                    ..ready(&f)
                },
                Blocker::Shared(refusal::Blocker::StaleApproval {
                    pm: "Dana".into(),
                    revision: 3,
                }),
            ),
            (
                SendAttempt {
                    recipients: &[],
                    ..ready(&f)
                },
                Blocker::NoRecipient,
            ),
            (
                SendAttempt {
                    recipients: &outsider,
                    ..ready(&f)
                },
                Blocker::NotACustomerContact {
                    recipient: "eve@evil.example".into(),
                },
            ),
            (
                SendAttempt {
                    room_closed: true,
                    ..ready(&f)
                },
                Blocker::Shared(refusal::Blocker::RoomClosed),
            ),
            (
                SendAttempt {
                    delivery: Delivery::InProgress,
                    ..ready(&f)
                },
                Blocker::AlreadyQueued,
            ),
            (
                SendAttempt {
                    delivery: Delivery::Sent,
                    ..ready(&f)
                },
                Blocker::AlreadySent,
            ),
            (
                SendAttempt {
                    seen_revision: 3,
                    ..ready(&f)
                },
                Blocker::ChangedSinceOpened {
                    seen: 3,
                    current: 4,
                },
            ),
        ];
        for (attempt, expected) in cases {
            assert_eq!(blockers(&attempt), [expected]);
        }
    }

    #[test]
    fn all_blockers_together_in_checklist_order() {
        let f = fixture();
        let everyone_behind = vec![
            (pm(1, "Dana"), Alignment::Stale { revision: 2 }),
            (pm(3, "Kim"), Alignment::Missing),
        ];
        let recipients = vec![("eve@evil.example".to_owned(), false)];
        let attempt = SendAttempt {
            sender_id: 9,
            room_closed: true,
            pause: Some(&f.pause),
            alignment: &everyone_behind,
            seen_revision: 1,
            recipients: &recipients,
            delivery: Delivery::Sent,
            ..ready(&f)
        };
        let found = blockers(&attempt);
        assert_eq!(found.len(), 8);
        assert_eq!(found[0], Blocker::AlreadySent);
        assert!(matches!(
            found.last(),
            Some(Blocker::ChangedSinceOpened { .. })
        ));
        let no_recipient = SendAttempt {
            recipients: &[],
            ..attempt
        };
        assert!(blockers(&no_recipient).contains(&Blocker::NoRecipient));
    }

    #[test]
    fn blockers_read_as_sentences() {
        assert_eq!(
            Blocker::Shared(refusal::Blocker::NotAligned { pm: "Dana".into() }).to_string(),
            "Dana has not aligned on the current revision"
        );
        assert_eq!(
            Blocker::NotCommunicator {
                communicator: "Sam".into()
            }
            .to_string(),
            "Only the communicator, Sam, can send customer email"
        );
    }
}
