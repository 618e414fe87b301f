//! Leadership updates (rule 6): written by the room's PMs with the room's facts pulled in,
//! aligned like customer email — every PM on the exact current revision — and published only then,
//! re-checked inside the publishing transaction, as a frozen, numbered pre-read.

pub mod compose;
pub mod index;
pub mod model;
pub mod pre_read;
pub mod publish;
pub mod snapshot;

use std::fmt;

use axum::Router;

use crate::AppState;
use crate::approvals::Alignment;
use crate::approvals::refusal::{self, shared_blockers};
use crate::error::AppError;
use crate::members::model::Member;
use crate::rooms::access::Viewer;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(compose::router())
        .merge(publish::router())
        .merge(pre_read::router())
        .merge(index::router())
}

/// Only the room's product managers write, align on and publish leadership updates.
pub fn require_pm(viewer: &Viewer) -> Result<(), AppError> {
    match viewer.is_pm() {
        true => Ok(()),
        false => Err(AppError::Forbidden(
            "Only the room's product managers write, align on and publish leadership updates."
                .into(),
        )),
    }
}

/// Why a leadership update cannot be published now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    AlreadyPublished {
        version: i64,
    },
    /// A room closed, or a PM not aligned on the current revision.
    Shared(refusal::Blocker),
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::AlreadyPublished { version } => {
                write!(f, "This update was already published as version {version}")
            }
            Blocker::Shared(blocker) => blocker.fmt(f),
        }
    }
}

/// Every reason the update cannot be published now, in checklist order.
pub fn publish_blockers(
    alignment: &[(Member, Alignment)],
    room_closed: bool,
    published: Option<i64>,
    current: i64,
) -> Vec<Blocker> {
    let published = published.map(|version| Blocker::AlreadyPublished { version });
    let shared = shared_blockers(room_closed, alignment, current).into_iter();
    published
        .into_iter()
        .chain(shared.map(Blocker::Shared))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(user_id: i64, name: &str) -> Member {
        Member::pm(user_id, name)
    }

    #[test]
    fn an_update_every_pm_aligned_on_may_be_published() {
        let aligned = [
            (pm(1, "Dana"), Alignment::Current),
            (pm(2, "Sam"), Alignment::Current),
        ];
        assert!(publish_blockers(&aligned, false, None, 2).is_empty());
    }

    #[test]
    fn every_missing_or_stale_alignment_and_a_closed_or_published_update_blocks() {
        let behind = [
            (pm(1, "Dana"), Alignment::Stale { revision: 1 }),
            (pm(2, "Sam"), Alignment::Missing),
        ];
        let sentences: Vec<String> = publish_blockers(&behind, true, Some(3), 2)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            sentences,
            [
                "This update was already published as version 3",
                "The room is closed",
                "Dana aligned on revision 1, which has since been edited: their approval is stale",
                "Sam has not aligned on the current revision",
            ]
        );
    }
}
