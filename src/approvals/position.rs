//! Taking a position on one exact revision through a web form: aligning or objecting, as the PM
//! or as an absent PM's stand-in. Drafts and leadership updates check their own revision and
//! call [`take`] in the transaction that records it, so every rule is checked where it writes.

use serde::Deserialize;

use super::absence::{self, Absence};
use super::{Position, Stance, SubjectKind, Via};
use crate::error::AppError;
use crate::rooms::change::RoomChange;
use crate::web::forms::required_text;

/// An alignment or objection as posted: the revision it is about, the reason (objections), and
/// the absent PM it is for (a stand-in's).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PositionForm {
    pub revision: i64,
    pub reason: String,
    pub for_user: Option<i64>,
}

/// Whose position the viewer records, checked against who is away now: their own (a PM), or an
/// absent PM's whose named stand-in they are.
pub fn speaker(
    viewer_id: i64,
    viewer_is_pm: bool,
    for_user: Option<i64>,
    away: &[Absence],
) -> Result<Option<&Absence>, &'static str> {
    match for_user {
        Some(pm) if pm != viewer_id => away
            .iter()
            .find(|a| a.user_id == pm && a.stand_in_user_id == viewer_id)
            .map(Some)
            .ok_or(
                "You can speak for a PM only while they are away and you are their named stand-in.",
            ),
        _ if viewer_is_pm => Ok(None),
        _ => Err(
            "Only the room's PMs align or object (or a PM's named stand-in while they are away).",
        ),
    }
}

/// Records the position and returns who took it, for the timeline: "Dana Whitfield", or "Sam
/// Okafor for Dana Whitfield (away)".
pub async fn take(
    change: &mut RoomChange,
    (kind, subject_id): (SubjectKind, i64),
    form: &PositionForm,
    stance: Stance,
) -> Result<String, AppError> {
    if change.room.is_closed() {
        return Err(AppError::Conflict(
            "This room is closed, so it is read-only. Reopen it to make changes.".into(),
        ));
    }
    let reason = match stance {
        Stance::Objected => {
            required_text(&form.reason, 2000, "Say why you object.").map_err(AppError::Conflict)?
        }
        Stance::Aligned => String::new(),
    };
    let (room_id, now) = (change.room.id, change.now);
    let away = absence::active(change.conn(), room_id, now).await?;
    let viewer = change.viewer.clone();
    let standing_in = speaker(viewer.user_id, viewer.is_pm(), form.for_user, &away)
        .map_err(|why| AppError::Forbidden(why.to_owned()))?;
    let (user_id, via, acted_by, who) = match standing_in {
        Some(absent) => (
            absent.user_id,
            Via::StandIn,
            Some(viewer.user_id),
            format!("{} for {} (away)", viewer.name, absent.name),
        ),
        None => (viewer.user_id, Via::Own, None, viewer.name.clone()),
    };
    let position = Position {
        kind,
        subject_id,
        user_id,
        revision: form.revision,
        stance,
        reason: &reason,
        via,
        acted_by,
    };
    super::record(change.conn(), &position, now).await?;
    Ok(who)
}

/// The timeline entry of a position: its kind under `category` ("drafts", "updates") and the
/// sentence "Dana aligned on revision 3 of “…”." or "Dana objects to revision 3 of “…”: why".
pub fn entry(
    category: &str,
    (who, stance): (&str, Stance),
    revision: i64,
    what: &str,
    reason: &str,
) -> (String, String) {
    match stance {
        Stance::Aligned => (
            format!("{category}.approved"),
            format!("{who} aligned on revision {revision} of {what}."),
        ),
        Stance::Objected => (
            format!("{category}.objected"),
            format!(
                "{who} objects to revision {revision} of {what}: {}",
                reason.trim()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn away(user_id: i64, stand_in: i64) -> Absence {
        Absence {
            id: 1,
            user_id,
            name: "Dana".into(),
            stand_in_user_id: stand_in,
            stand_in: "Sam".into(),
            until: 100,
        }
    }

    #[test]
    fn a_pm_speaks_for_themselves_and_a_stand_in_only_for_the_absent_pm_they_cover() {
        let away = [away(1, 5)];
        assert_eq!(speaker(2, true, None, &away), Ok(None));
        assert!(
            speaker(5, false, None, &away).is_err(),
            "leadership has no own position"
        );
        assert_eq!(
            speaker(5, false, Some(1), &away).unwrap().unwrap().user_id,
            1
        );
        assert!(
            speaker(2, true, Some(1), &away).is_err(),
            "not the named stand-in"
        );
        assert!(speaker(5, false, Some(1), &[]).is_err(), "Dana is back");
        assert_eq!(speaker(2, true, Some(2), &away), Ok(None), "for oneself");
    }
}
