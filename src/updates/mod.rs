//! Leadership updates (rule 6): written by the room's PMs with the room's facts pulled in,
//! aligned like customer email — every PM on the exact current revision — and published only then,
//! re-checked inside the publishing transaction, as a frozen, numbered pre-read.

pub mod compose;
pub mod index;
pub mod model;
pub mod pre_read;
pub mod publish;
pub mod snapshot;

use axum::Router;

use crate::AppState;
use crate::approvals::Alignment;
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

/// Every reason the update cannot be published now.
pub fn publish_blockers(
    alignment: &[(Member, Alignment)],
    room_closed: bool,
    published: Option<i64>,
) -> Vec<String> {
    let mut blockers = Vec::new();
    if let Some(version) = published {
        blockers.push(format!(
            "This update was already published as version {version}"
        ));
    }
    if room_closed {
        blockers.push("The room is closed".to_owned());
    }
    for (pm, state) in alignment {
        match state {
            Alignment::Current => {}
            Alignment::Missing => blockers.push(format!("{} has not aligned on the current revision", pm.name)),
            Alignment::Stale { revision } => blockers.push(format!(
                "{} aligned on revision {revision}, which has since been edited: their approval is stale",
                pm.name
            )),
        }
    }
    blockers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::access::MemberKind;

    fn pm(id: i64, name: &str) -> Member {
        Member {
            user_id: id,
            name: name.into(),
            title: String::new(),
            kind: MemberKind::Pm,
        }
    }

    #[test]
    fn an_update_every_pm_aligned_on_may_be_published() {
        let aligned = [
            (pm(1, "Dana"), Alignment::Current),
            (pm(2, "Sam"), Alignment::Current),
        ];
        assert!(publish_blockers(&aligned, false, None).is_empty());
    }

    #[test]
    fn every_missing_or_stale_alignment_and_a_closed_or_published_update_blocks() {
        let behind = [
            (pm(1, "Dana"), Alignment::Stale { revision: 1 }),
            (pm(2, "Sam"), Alignment::Missing),
        ];
        assert_eq!(
            publish_blockers(&behind, true, Some(3)),
            [
                "This update was already published as version 3",
                "The room is closed",
                "Dana aligned on revision 1, which has since been edited: their approval is stale",
                "Sam has not aligned on the current revision",
            ]
        );
    }
}
