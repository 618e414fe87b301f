//! Rule 11, as pure functions: when an engagement may be cleared (the voice or the communicator;
//! not while outreach is paused; not near another engagement with the same contact; a contact over
//! the touch limit only with a reason), and when its outcome is overdue.

use std::fmt;

use crate::approvals::refusal;
use crate::clock::Millis;
use crate::contact_log::rules::{Channel, DAY};
use crate::outreach::model::Pause;
use crate::text_enum::text_enum;
use crate::web::time::Zone;

text_enum! {
    /// How the customer is engaged.
    pub enum EngagementKind {
        Call = "call" => "Call",
        Meeting = "meeting" => "Meeting",
        Visit = "visit" => "Visit",
        Chat = "chat" => "Chat",
    }
}

impl EngagementKind {
    /// "a call": for sentences.
    pub fn with_article(self) -> &'static str {
        match self {
            EngagementKind::Call => "a call",
            EngagementKind::Meeting => "a meeting",
            EngagementKind::Visit => "a visit",
            EngagementKind::Chat => "a chat",
        }
    }

    /// The channel its contact-log touch is written under (a visit is a meeting in person).
    pub fn channel(self) -> Channel {
        match self {
            EngagementKind::Call => Channel::Call,
            EngagementKind::Meeting | EngagementKind::Visit => Channel::Meeting,
            EngagementKind::Chat => Channel::Chat,
        }
    }
}

text_enum! {
    pub enum EngagementState {
        Planned = "planned" => "Planned",
        Cleared = "cleared" => "Cleared",
        Done = "done" => "Done",
        Cancelled = "cancelled" => "Cancelled",
    }
}

/// Another engagement with one of the same contacts, near in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nearby {
    pub id: i64,
    pub room_id: i64,
    /// Who speaks on it.
    pub voice: String,
    pub kind: EngagementKind,
    pub starts_at: Millis,
    pub contact: String,
    pub cleared: bool,
}

/// Why an engagement cannot be cleared now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// The room is closed, or outreach is paused.
    Shared(refusal::Blocker),
    NotPlanned {
        state: EngagementState,
    },
    /// It already took place: clearing it afterwards would not coordinate anything.
    AlreadyTookPlace {
        when: String,
    },
    NotTheVoice {
        voice: String,
        communicator: String,
    },
    /// Another engagement with the same contact is close: join it instead.
    Collision {
        other: Nearby,
        /// When it starts, in the reader's zone.
        when: String,
        window_hours: i64,
    },
    /// A contact was touched more than the limit in 7 days: cleared only with a reason.
    OverTouchLimit {
        contact: String,
        touches: usize,
        limit: i64,
    },
}

impl Blocker {
    /// Only the touch limit may be overridden (by the voice, with a reason).
    pub fn is_overridable(&self) -> bool {
        matches!(self, Blocker::OverTouchLimit { .. })
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Shared(blocker) => blocker.fmt(f),
            Blocker::NotPlanned { state } => {
                write!(f, "It is {}, not planned", state.label().to_lowercase())
            }
            Blocker::AlreadyTookPlace { when } => write!(
                f,
                "It was due on {when}: record its outcome (as not coordinated), or move it"
            ),
            Blocker::NotTheVoice {
                voice,
                communicator,
            } => write!(
                f,
                "Only the topic's voice, {voice}, or the communicator, {communicator}, can clear it"
            ),
            Blocker::Collision {
                other,
                when,
                window_hours,
            } => {
                let state = if other.cleared { "cleared" } else { "planned" };
                write!(
                    f,
                    "{}'s {} with {} on {when} is already {state}, within {window_hours} hours: join it instead",
                    other.voice,
                    other.kind.label().to_lowercase(),
                    other.contact
                )
            }
            Blocker::OverTouchLimit {
                contact,
                touches,
                limit,
            } => write!(
                f,
                "{contact} was contacted {touches} times in 7 days (the limit is {limit}): clear it only with a reason"
            ),
        }
    }
}

/// Everything clearing looks at.
pub struct Clearing<'a> {
    pub clearer: i64,
    pub voice: (i64, &'a str),
    pub communicator: (i64, &'a str),
    pub state: EngagementState,
    pub room_closed: bool,
    pub pause: Option<&'a Pause>,
    pub starts_at: Millis,
    pub now: Millis,
    /// Engagements with the same contacts (any state, any time: the rule picks the close ones).
    pub others: &'a [Nearby],
    pub window: Millis,
    /// Each contact's name and touches in the last 7 days.
    pub touches: &'a [(String, usize)],
    pub limit: i64,
    /// The zone the blockers word times in (the reader's).
    pub zone: Zone,
}

/// Whether two engagements are too close to both go ahead.
pub fn collides(a: Millis, b: Millis, window: Millis) -> bool {
    (a - b).abs() < window
}

/// Every reason the engagement cannot be cleared now, in checklist order (empty: it can).
pub fn clearance(c: &Clearing<'_>) -> Vec<Blocker> {
    let mut blockers = Vec::new();
    if c.room_closed {
        blockers.push(Blocker::Shared(refusal::Blocker::RoomClosed));
    }
    if c.state != EngagementState::Planned {
        blockers.push(Blocker::NotPlanned { state: c.state });
    }
    if c.state == EngagementState::Planned && c.starts_at < c.now - STARTED_GRACE {
        blockers.push(Blocker::AlreadyTookPlace {
            when: c.zone.when(c.starts_at),
        });
    }
    if c.clearer != c.voice.0 && c.clearer != c.communicator.0 {
        blockers.push(Blocker::NotTheVoice {
            voice: c.voice.1.to_owned(),
            communicator: c.communicator.1.to_owned(),
        });
    }
    if let Some(pause) = c.pause {
        blockers.push(Blocker::Shared(refusal::Blocker::paused(pause, c.zone)));
    }
    for other in c.others {
        if collides(other.starts_at, c.starts_at, c.window) {
            blockers.push(Blocker::Collision {
                other: other.clone(),
                when: c.zone.when(other.starts_at),
                window_hours: c.window / 3_600_000,
            });
        }
    }
    for (contact, touches) in c.touches {
        if *touches as i64 + 1 > c.limit {
            blockers.push(Blocker::OverTouchLimit {
                contact: contact.clone(),
                touches: *touches,
                limit: c.limit,
            });
        }
    }
    blockers
}

/// Whether the blockers stop clearing, given the reason the voice gave (if any) to clear anyway:
/// only blockers that may be overridden give way, and only to a reason.
pub fn stops(blockers: &[Blocker], override_reason: &str) -> bool {
    let overridable = blockers.iter().all(Blocker::is_overridable);
    !blockers.is_empty() && (!overridable || override_reason.trim().is_empty())
}

/// How long ago an engagement may have started and still be planned or cleared (a call starting
/// now); one that took place earlier was not coordinated: it is logged as a touch instead.
pub const STARTED_GRACE: Millis = 15 * 60_000;

/// An engagement still open (planned or cleared) whose outcome nobody recorded a day after it
/// ended.
pub fn outcome_missing(state: EngagementState, ends_at: Millis, now: Millis) -> bool {
    matches!(state, EngagementState::Planned | EngagementState::Cleared) && now > ends_at + DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Millis = 3_600_000;
    const NOW: Millis = 100 * DAY;
    const TUESDAY: Millis = NOW + 2 * DAY;

    fn pause() -> Pause {
        Pause {
            id: 1,
            reason: "Sales paused PM access until there is something concrete".into(),
            set_by: "Lee".into(),
            set_at: 0,
            granted_by: Some("Dana".into()),
            until: None,
            resume: None,
        }
    }

    fn sams_call(starts_at: Millis) -> Nearby {
        Nearby {
            id: 9,
            room_id: 1,
            voice: "Sam".into(),
            kind: EngagementKind::Call,
            starts_at,
            contact: "Jordan".into(),
            cleared: true,
        }
    }

    fn clearing<'a>(others: &'a [Nearby], touches: &'a [(String, usize)]) -> Clearing<'a> {
        Clearing {
            clearer: 2,
            voice: (2, "Dana"),
            communicator: (3, "Sam"),
            state: EngagementState::Planned,
            room_closed: false,
            pause: None,
            starts_at: TUESDAY,
            now: NOW,
            others,
            window: 48 * HOUR,
            touches,
            limit: 3,
            zone: Zone::UTC,
        }
    }

    #[test]
    fn the_voice_clears_a_quiet_engagement() {
        let touches = [("Jordan".to_owned(), 1)];
        assert!(clearance(&clearing(&[], &touches)).is_empty());
    }

    #[test]
    fn the_communicator_may_clear_too_but_nobody_else() {
        let by_communicator = Clearing {
            clearer: 3,
            ..clearing(&[], &[])
        };
        assert!(clearance(&by_communicator).is_empty());
        let by_someone_else = Clearing {
            clearer: 4,
            ..clearing(&[], &[])
        };
        assert_eq!(
            clearance(&by_someone_else),
            [Blocker::NotTheVoice {
                voice: "Dana".into(),
                communicator: "Sam".into()
            }]
        );
    }

    #[test]
    fn a_pause_blocks_clearing_with_the_send_gates_words() {
        let pause = pause();
        let paused = Clearing {
            pause: Some(&pause),
            ..clearing(&[], &[])
        };
        let blockers = clearance(&paused);
        assert_eq!(blockers.len(), 1);
        assert!(!blockers[0].is_overridable());
        assert_eq!(
            blockers[0].to_string(),
            "Outreach is paused by Lee: Sales paused PM access until there is something concrete (until someone resumes it)"
        );
        assert!(stops(&blockers, "The customer asked for this call"));
    }

    #[test]
    fn another_engagement_with_the_contact_inside_the_window_collides() {
        let near = [sams_call(TUESDAY + 47 * HOUR)];
        let blockers = clearance(&clearing(&near, &[]));
        assert_eq!(blockers.len(), 1);
        assert_eq!(
            blockers[0].to_string(),
            "Sam's call with Jordan on Tue 14 Apr, 23:00 UTC is already cleared, within 48 hours: join it instead"
        );
        assert!(stops(&blockers, "a reason changes nothing"));
        let far = [
            sams_call(TUESDAY + 48 * HOUR),
            sams_call(TUESDAY - 49 * HOUR),
        ];
        assert!(clearance(&clearing(&far, &[])).is_empty());
    }

    #[test]
    fn over_the_touch_limit_clears_only_with_a_reason() {
        let busy = [("Jordan".to_owned(), 3), ("Priya".to_owned(), 2)];
        let blockers = clearance(&clearing(&[], &busy));
        assert_eq!(
            blockers,
            [Blocker::OverTouchLimit {
                contact: "Jordan".into(),
                touches: 3,
                limit: 3
            }]
        );
        assert!(stops(&blockers, "  "));
        assert!(!stops(&blockers, "Jordan asked for this call himself"));
    }

    #[test]
    fn only_a_planned_engagement_in_an_open_room_is_cleared() {
        let cleared = Clearing {
            state: EngagementState::Cleared,
            room_closed: true,
            ..clearing(&[], &[])
        };
        assert_eq!(
            clearance(&cleared),
            [
                Blocker::Shared(refusal::Blocker::RoomClosed),
                Blocker::NotPlanned {
                    state: EngagementState::Cleared
                }
            ]
        );
    }

    #[test]
    fn an_outcome_is_missing_a_day_after_an_open_engagement_ended() {
        let ends = NOW;
        assert!(!outcome_missing(EngagementState::Cleared, ends, ends + DAY));
        assert!(outcome_missing(
            EngagementState::Cleared,
            ends,
            ends + DAY + 1
        ));
        assert!(!outcome_missing(
            EngagementState::Done,
            ends,
            ends + 2 * DAY
        ));
        assert!(!outcome_missing(
            EngagementState::Cancelled,
            ends,
            ends + 2 * DAY
        ));
        assert!(
            outcome_missing(EngagementState::Planned, ends, ends + 2 * DAY),
            "one nobody cleared may still have happened"
        );
    }

    #[test]
    fn an_engagement_that_already_took_place_is_not_cleared_afterwards() {
        let late = Clearing {
            starts_at: NOW - STARTED_GRACE - 1,
            ..clearing(&[], &[])
        };
        let blockers = clearance(&late);
        assert!(matches!(blockers[..], [Blocker::AlreadyTookPlace { .. }]));
        let starting = Clearing {
            starts_at: NOW - STARTED_GRACE,
            ..clearing(&[], &[])
        };
        assert!(clearance(&starting).is_empty());
    }
}
