//! The alignment panel of a draft or a leadership update: each PM's position on the current
//! revision (with how long the revision has waited for them), and the forms the viewer may use
//! — align, object with a reason, withdraw, speak for the absent PM they stand in for, escalate a
//! standing objection. One panel for both, rendered by one macro.

use super::absence::{self, Absence};
use super::{Alignment, SubjectKind, has_aligned, is_aligned_on_current, objects};
use crate::clock::Millis;
use crate::members::model::Member;
use crate::web::time;

pub struct Panel {
    pub kind: SubjectKind,
    pub room_id: i64,
    pub subject_id: i64,
    pub revision: i64,
    pub rows: Vec<(Member, Alignment)>,
    pub away: Vec<Absence>,
    pub viewer_id: i64,
    pub viewer_is_pm: bool,
    /// The room is open and the subject can still change (not sent or published).
    pub can_act: bool,
    /// When the current revision was saved.
    pub since: Millis,
    pub now: Millis,
}

impl Panel {
    /// Where the forms post.
    pub fn path(&self) -> String {
        let what = match self.kind {
            SubjectKind::Draft => "drafts",
            SubjectKind::Update => "updates",
        };
        format!("/rooms/{}/{what}/{}", self.room_id, self.subject_id)
    }

    pub fn subject(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn may_align(&self) -> bool {
        self.viewer_is_pm && self.can_act && !is_aligned_on_current(&self.rows, self.viewer_id)
    }

    pub fn may_object(&self) -> bool {
        self.viewer_is_pm && self.can_act && !objects(&self.rows, self.viewer_id)
    }

    pub fn may_withdraw(&self) -> bool {
        self.viewer_is_pm && self.can_act && has_aligned(&self.rows, self.viewer_id)
    }

    pub fn may_escalate(&self) -> bool {
        self.viewer_is_pm && self.can_act
    }

    /// The absent PM the viewer stands in for, when they may act for them here.
    pub fn covering(&self) -> Option<&Absence> {
        absence::standing_in_for(&self.away, self.viewer_id).filter(|_| self.can_act)
    }

    /// "for 5 hours": how long the current revision has waited.
    pub fn waited(&self) -> String {
        time::span(self.now - self.since)
    }

    /// Whether `pm` is away now.
    pub fn away_until(&self, pm: &Member) -> Option<Millis> {
        absence::until(&self.away, pm.user_id)
    }
}
