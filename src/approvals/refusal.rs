//! The one refusal path of every gate (rules 2, 3, 6 and 11): the blockers the gates share — a
//! closed room, outreach paused, a PM not aligned or aligned on a stale revision — and the refusal
//! that renders any gate's blockers as the checklist, the 409 page and the timeline sentence.
//! Drafts, leadership updates and engagements wrap [`Blocker`] in their own blocker enums with
//! their extra reasons.

use std::fmt;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Alignment;
use crate::members::model::Member;
use crate::outreach::model::Pause;
use crate::web::page::Page;
use crate::web::time::Zone;

/// A reason shared by every gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    RoomClosed,
    /// Outreach is paused: no email, no call, no meeting.
    Paused {
        reason: String,
        by: String,
        /// When the pause ends on its own, worded in the reader's zone.
        until: Option<String>,
    },
    NotAligned {
        pm: String,
    },
    StaleApproval {
        pm: String,
        revision: i64,
    },
    Objects {
        pm: String,
        revision: i64,
        reason: String,
    },
    StaleObjection {
        pm: String,
        revision: i64,
    },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::RoomClosed => write!(f, "The room is closed"),
            Blocker::Paused { reason, by, until } => {
                write!(f, "Outreach is paused by {by}: {reason}")?;
                match until {
                    Some(until) => write!(f, " (until {until})"),
                    None => write!(f, " (until someone resumes it)"),
                }
            }
            Blocker::NotAligned { pm } => write!(f, "{pm} has not aligned on the current revision"),
            Blocker::StaleApproval { pm, revision } => write!(
                f,
                "{pm} aligned on revision {revision}, which has since been edited: their approval is stale"
            ),
            Blocker::Objects {
                pm,
                revision,
                reason,
            } => write!(f, "{pm} objects to revision {revision}: {reason}"),
            Blocker::StaleObjection { pm, revision } => write!(
                f,
                "{pm} objected to revision {revision}; it has changed since, so they are asked again"
            ),
        }
    }
}

impl Blocker {
    /// The pause in force, worded in `zone`.
    pub fn paused(pause: &Pause, zone: Zone) -> Blocker {
        Blocker::Paused {
            reason: pause.reason.clone(),
            by: pause.set_by.clone(),
            until: pause.until.map(|at| zone.when(at)),
        }
    }
}

/// The room-closed blocker (if closed), then one blocker per PM not aligned on the current
/// revision (`current`), in member order: an objection says so, with its reason.
pub fn shared_blockers(
    room_closed: bool,
    alignment: &[(Member, Alignment)],
    current: i64,
) -> Vec<Blocker> {
    let closed = room_closed.then_some(Blocker::RoomClosed);
    let behind = alignment.iter().filter_map(|(pm, state)| match state {
        Alignment::Current | Alignment::ByStandIn { .. } | Alignment::ByRuling { .. } => None,
        Alignment::Objects { reason } => Some(Blocker::Objects {
            pm: pm.name.clone(),
            revision: current,
            reason: reason.clone(),
        }),
        Alignment::StaleObjection { revision } => Some(Blocker::StaleObjection {
            pm: pm.name.clone(),
            revision: *revision,
        }),
        Alignment::Missing => Some(Blocker::NotAligned {
            pm: pm.name.clone(),
        }),
        Alignment::Stale { revision } => Some(Blocker::StaleApproval {
            pm: pm.name.clone(),
            revision: *revision,
        }),
    });
    closed.into_iter().chain(behind).collect()
}

/// What a gate refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Sending a customer email.
    Send,
    /// Publishing a leadership update.
    Publish,
    /// Clearing a call or meeting with the customer.
    Clear,
}

/// A gate's refusal of one attempt: what was attempted, on what, and every reason.
pub struct Refusal {
    pub attempt: Attempt,
    /// The page of the draft, update or engagement, to go back to.
    pub back: String,
    /// The reasons, as sentences (each gate's `Blocker` displays as one).
    pub blockers: Vec<String>,
}

impl Refusal {
    pub fn new(attempt: Attempt, back: String, blockers: &[impl ToString]) -> Refusal {
        Refusal {
            attempt,
            back,
            blockers: blockers.iter().map(ToString::to_string).collect(),
        }
    }

    /// The timeline entry: who tried what, and every reason.
    pub fn summary(&self, actor: &str, subject: &str) -> String {
        let attempt = match self.attempt {
            Attempt::Send => format!("Send blocked: {actor} tried to send “{subject}”"),
            Attempt::Publish => {
                format!("Publish blocked: {actor} tried to publish the leadership update")
            }
            Attempt::Clear => format!("Clearing blocked: {actor} tried to clear {subject}"),
        };
        format!("{attempt} — {}.", self.blockers.join("; "))
    }

    /// The 409 page.
    pub fn page(self, page: Page) -> Response {
        let (eyebrow, heading, nothing, back_label) = match self.attempt {
            Attempt::Send => (
                "Not sent",
                "This email cannot go to the customer yet",
                "Nothing was queued.",
                "Back to the draft",
            ),
            Attempt::Publish => (
                "Not published",
                "This update cannot be published yet",
                "Nothing was published.",
                "Back to the update",
            ),
            Attempt::Clear => (
                "Not cleared",
                "This engagement cannot be cleared yet",
                "It stays planned: it is not coordinated, and no invitation went out.",
                "Back to the engagement",
            ),
        };
        let blocked = BlockedPage {
            page,
            eyebrow,
            heading,
            nothing,
            back: self.back,
            back_label,
            blockers: self.blockers,
        };
        (StatusCode::CONFLICT, blocked).into_response()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/blocked.html")]
struct BlockedPage {
    page: Page,
    eyebrow: &'static str,
    heading: &'static str,
    nothing: &'static str,
    back: String,
    back_label: &'static str,
    blockers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(user_id: i64, name: &str) -> Member {
        Member::pm(user_id, name)
    }

    #[test]
    fn a_closed_room_then_every_pm_behind_in_member_order() {
        let alignment = [
            (pm(1, "Dana"), Alignment::Stale { revision: 1 }),
            (pm(2, "Sam"), Alignment::Current),
            (pm(3, "Kim"), Alignment::Missing),
        ];
        assert_eq!(
            shared_blockers(true, &alignment, 2),
            [
                Blocker::RoomClosed,
                Blocker::StaleApproval {
                    pm: "Dana".into(),
                    revision: 1
                },
                Blocker::NotAligned { pm: "Kim".into() },
            ]
        );
        assert!(shared_blockers(false, &alignment[1..2], 2).is_empty());
    }

    #[test]
    fn blockers_read_as_sentences() {
        assert_eq!(
            Blocker::StaleApproval {
                pm: "Dana".into(),
                revision: 3
            }
            .to_string(),
            "Dana aligned on revision 3, which has since been edited: their approval is stale"
        );
        assert_eq!(
            Blocker::NotAligned { pm: "Sam".into() }.to_string(),
            "Sam has not aligned on the current revision"
        );
    }

    #[test]
    fn the_timeline_sentence_names_the_attempt_and_every_reason() {
        let blockers = [
            Blocker::RoomClosed,
            Blocker::NotAligned { pm: "Sam".into() },
        ];
        let draft = Refusal::new(Attempt::Send, "/d".into(), &blockers);
        assert_eq!(
            draft.summary("Dana", "Fix shipped"),
            "Send blocked: Dana tried to send “Fix shipped” — The room is closed; Sam has not aligned on the current revision."
        );
        let update = Refusal::new(Attempt::Publish, "/u".into(), &blockers[..1]);
        assert_eq!(
            update.summary("Dana", "ignored"),
            "Publish blocked: Dana tried to publish the leadership update — The room is closed."
        );
    }
}
