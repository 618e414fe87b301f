//! Who may do what in a room (rule 8, "members only", and the ownership rules around it).
//!
//! [`check`] is a pure function of the viewer, the room and the action; every handler calls it
//! inside the transaction that writes, after the room is locked, so a membership removed a moment
//! ago cannot slip through.

use super::model::Room;
use crate::accounts::CurrentUser;
use crate::members::model::{MemberKind, Role};

/// The person looking at or changing a room.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub name: String,
    pub is_admin: bool,
    /// `None` for an admin who is not a member.
    pub kind: Option<MemberKind>,
}

impl Viewer {
    /// The viewer of `room`, with their membership read on `conn`.
    /// The viewer `user` is in a room where they are a member of `kind` (`None`: not a member).
    pub fn new(user: &CurrentUser, kind: Option<&str>) -> Viewer {
        Viewer {
            user_id: user.id,
            name: user.name.clone(),
            is_admin: user.is_admin,
            kind: kind.and_then(MemberKind::parse),
        }
    }

    pub fn is_pm(&self) -> bool {
        self.kind == Some(MemberKind::Pm)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See the room and everything in it.
    Read,
    /// Workstreams, questions, contact touches, proposing decisions.
    Contribute,
    /// Add and remove members.
    ManageMembers,
    /// Add, rename and reassign decision types.
    ManageDecisionTypes,
    /// Title, severity, problem statement and update due dates.
    EditRoom,
    /// Resolve, close, reopen.
    ChangeLifecycle,
    /// Hand a single-holder role to someone else.
    HandOver(Role),
    /// Pause or resume customer outreach (the lead and the communicator).
    ControlOutreach,
    /// Write or align on the retrospective of a closed room (the handler says who does which).
    Retrospect,
}

/// Why an action was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a member and not an admin: the room does not exist for them (404).
    NotVisible,
    /// Visible, but not theirs to change (403), with the reason.
    Forbidden(&'static str),
    /// The room is closed: read-only until reopened (409).
    Closed,
}

pub fn check(viewer: &Viewer, room: &Room, action: Action) -> Result<(), Refusal> {
    if viewer.kind.is_none() && !viewer.is_admin {
        return Err(Refusal::NotVisible);
    }
    if action == Action::Read {
        return Ok(());
    }
    if room.is_closed() && !matches!(action, Action::ChangeLifecycle | Action::Retrospect) {
        return Err(Refusal::Closed);
    }
    if viewer.is_admin {
        return Ok(());
    }
    match (action, viewer.kind) {
        (_, Some(MemberKind::Leadership)) => Err(Refusal::Forbidden(
            "Leadership members read the room; they do not change it.",
        )),
        (Action::Contribute | Action::Retrospect, _) => Ok(()),
        (Action::HandOver(Role::Lead), _) if room.lead_user_id != viewer.user_id => Err(
            Refusal::Forbidden("Only the lead (or an admin) can hand over the lead."),
        ),
        (Action::HandOver(Role::Communicator), _)
            if room.communicator_user_id != viewer.user_id =>
        {
            Err(Refusal::Forbidden(
                "Only the communicator (or an admin) can hand over the communicator role.",
            ))
        }
        (Action::HandOver(_), _) => Ok(()),
        (Action::ControlOutreach, _)
            if viewer.user_id == room.lead_user_id
                || viewer.user_id == room.communicator_user_id =>
        {
            Ok(())
        }
        (Action::ControlOutreach, _) => Err(Refusal::Forbidden(
            "Only the lead or the communicator (or an admin) can pause or resume outreach.",
        )),
        (_, Some(MemberKind::Pm)) => Ok(()),
        _ => Err(Refusal::Forbidden(
            "Only product managers of this room (or an admin) can do this.",
        )),
    }
}

/// What the room page offers this viewer (the same rule, asked ahead of time).
#[derive(Clone, Copy, Debug, Default)]
pub struct Abilities {
    pub contribute: bool,
    pub manage_members: bool,
    pub manage_decision_types: bool,
    pub edit_room: bool,
    pub change_lifecycle: bool,
    pub hand_over_lead: bool,
    pub hand_over_communicator: bool,
    pub control_outreach: bool,
}

impl Abilities {
    pub fn of(viewer: &Viewer, room: &Room) -> Abilities {
        let can = |action| check(viewer, room, action).is_ok();
        Abilities {
            contribute: can(Action::Contribute),
            manage_members: can(Action::ManageMembers),
            manage_decision_types: can(Action::ManageDecisionTypes),
            edit_room: can(Action::EditRoom),
            change_lifecycle: can(Action::ChangeLifecycle),
            hand_over_lead: can(Action::HandOver(Role::Lead)),
            hand_over_communicator: can(Action::HandOver(Role::Communicator)),
            control_outreach: can(Action::ControlOutreach),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::model::tests::{closed, room_with_roles};

    const LEAD: i64 = 1;
    const COMMUNICATOR: i64 = 2;

    fn viewer(user_id: i64, kind: Option<MemberKind>, is_admin: bool) -> Viewer {
        Viewer {
            user_id,
            name: String::new(),
            is_admin,
            kind,
        }
    }

    const ACTIONS: [Action; 9] = [
        Action::Read,
        Action::Contribute,
        Action::ManageMembers,
        Action::ManageDecisionTypes,
        Action::EditRoom,
        Action::ChangeLifecycle,
        Action::HandOver(Role::Lead),
        Action::HandOver(Role::Communicator),
        Action::ControlOutreach,
    ];

    /// Which of ACTIONS each viewer may take in an open room.
    fn allowed(viewer: &Viewer) -> Vec<bool> {
        let room = room_with_roles(LEAD, COMMUNICATOR);
        ACTIONS
            .iter()
            .map(|a| check(viewer, &room, *a).is_ok())
            .collect()
    }

    #[test]
    fn the_permission_table_holds() {
        let table = [
            (
                viewer(LEAD, Some(MemberKind::Pm), false),
                [true, true, true, true, true, true, true, false, true],
            ),
            (
                viewer(COMMUNICATOR, Some(MemberKind::Partner), false),
                [true, true, false, false, false, false, false, true, true],
            ),
            (
                viewer(3, Some(MemberKind::Pm), false),
                [true, true, true, true, true, true, false, false, false],
            ),
            (
                viewer(4, Some(MemberKind::Partner), false),
                [true, true, false, false, false, false, false, false, false],
            ),
            (
                viewer(5, Some(MemberKind::Leadership), false),
                [true, false, false, false, false, false, false, false, false],
            ),
            (viewer(6, None, true), [true; 9]),
            (viewer(7, None, false), [false; 9]),
        ];
        for (viewer, expected) in table {
            assert_eq!(allowed(&viewer), expected, "{viewer:?}");
        }
    }

    #[test]
    fn outsiders_do_not_learn_the_room_exists() {
        let room = room_with_roles(LEAD, COMMUNICATOR);
        let outsider = viewer(7, None, false);
        assert_eq!(
            check(&outsider, &room, Action::Read),
            Err(Refusal::NotVisible)
        );
    }

    #[test]
    fn a_closed_room_can_only_be_read_or_reopened() {
        let room = closed(room_with_roles(LEAD, COMMUNICATOR));
        let admin = viewer(6, None, true);
        assert!(check(&admin, &room, Action::Read).is_ok());
        assert!(check(&admin, &room, Action::ChangeLifecycle).is_ok());
        assert_eq!(
            check(&admin, &room, Action::Contribute),
            Err(Refusal::Closed)
        );
        assert_eq!(
            check(&admin, &room, Action::HandOver(Role::Lead)),
            Err(Refusal::Closed)
        );
    }
}
