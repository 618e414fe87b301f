//! The membership rules: who can be removed, who can take over a role.

use super::model::Member;
use crate::members::model::{MemberKind, Role};
use crate::rooms::model::Room;

/// What someone still holds in the room, which must be handed over before they can leave.
#[derive(Clone, Debug, Default)]
pub struct Holdings {
    pub driven_workstreams: Vec<String>,
    pub owned_decision_types: Vec<String>,
}

/// Every reason `user_id` cannot be removed from `room` now, as things to do, in order.
pub fn removal_blockers(room: &Room, user_id: i64, holdings: &Holdings) -> Vec<String> {
    let mut blockers = Vec::new();
    if room.lead_user_id == user_id {
        blockers.push("hand over the lead".to_owned());
    }
    if room.communicator_user_id == user_id {
        blockers.push("hand over the communicator role".to_owned());
    }
    for title in &holdings.driven_workstreams {
        blockers.push(format!("reassign the driver of the workstream “{title}”"));
    }
    for name in &holdings.owned_decision_types {
        blockers.push(format!("reassign the owner of the decision type “{name}”"));
    }
    blockers
}

/// Whether `to` may take `role` in `room` (`to` is `None` when they are not a member).
pub fn handover_refusal(room: &Room, role: Role, to: Option<&Member>) -> Option<String> {
    let holder = match role {
        Role::Lead => room.lead_user_id,
        Role::Communicator => room.communicator_user_id,
    };
    let Some(to) = to else {
        return Some("Choose a member of this room.".to_owned());
    };
    if to.user_id == holder {
        return Some(format!("{} already holds this role.", to.name));
    }
    match (role, to.kind) {
        (Role::Lead, MemberKind::Pm) => None,
        (Role::Lead, _) => Some("The lead must be a product manager of this room.".to_owned()),
        (Role::Communicator, MemberKind::Leadership) => Some(
            "The communicator must be a product manager or partner; leadership members only read."
                .to_owned(),
        ),
        (Role::Communicator, _) => None,
    }
}

/// Whether someone of `kind` can hold a driver or owner role (leadership members only read).
pub fn can_hold_work(kind: MemberKind) -> bool {
    kind != MemberKind::Leadership
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::model::tests::room_with_roles;

    fn member(user_id: i64, kind: MemberKind) -> Member {
        Member {
            user_id,
            name: format!("User {user_id}"),
            title: String::new(),
            kind,
        }
    }

    #[test]
    fn a_member_holding_nothing_can_be_removed() {
        let room = room_with_roles(1, 2);
        assert!(removal_blockers(&room, 3, &Holdings::default()).is_empty());
    }

    #[test]
    fn every_role_held_is_named() {
        let room = room_with_roles(1, 1);
        let holdings = Holdings {
            driven_workstreams: vec!["Engineering integration".into()],
            owned_decision_types: vec!["Commercial".into()],
        };
        assert_eq!(
            removal_blockers(&room, 1, &holdings),
            [
                "hand over the lead",
                "hand over the communicator role",
                "reassign the driver of the workstream “Engineering integration”",
                "reassign the owner of the decision type “Commercial”",
            ]
        );
    }

    #[test]
    fn the_lead_goes_only_to_a_product_manager() {
        let room = room_with_roles(1, 2);
        assert!(handover_refusal(&room, Role::Lead, Some(&member(3, MemberKind::Pm))).is_none());
        assert!(
            handover_refusal(&room, Role::Lead, Some(&member(3, MemberKind::Partner))).is_some()
        );
        assert!(handover_refusal(&room, Role::Lead, Some(&member(1, MemberKind::Pm))).is_some());
        assert!(handover_refusal(&room, Role::Lead, None).is_some());
    }

    #[test]
    fn the_communicator_is_never_a_leadership_member() {
        let room = room_with_roles(1, 2);
        let partner = member(3, MemberKind::Partner);
        let director = member(4, MemberKind::Leadership);
        assert!(handover_refusal(&room, Role::Communicator, Some(&partner)).is_none());
        assert!(handover_refusal(&room, Role::Communicator, Some(&director)).is_some());
    }
}
