//! Who is in a new room and who holds its roles: the opener, the people named on the form, and
//! sensible defaults (the opener leads and communicates when they are a PM; otherwise the first
//! PM named does).

use std::collections::BTreeMap;

use crate::members::model::MemberKind;

/// What the escalation form says about people.
#[derive(Clone, Debug, Default)]
pub struct Staffing {
    pub opener: i64,
    pub opener_kind: Option<MemberKind>,
    pub pms: Vec<i64>,
    pub partners: Vec<i64>,
    pub leadership: Vec<i64>,
    pub lead: Option<i64>,
    pub communicator: Option<i64>,
}

/// The resolved membership and roles of a new room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles {
    pub members: BTreeMap<i64, MemberKind>,
    pub lead: i64,
    pub communicator: i64,
}

/// Resolves the staffing, or says (per form field) what is wrong.
pub fn resolve(staffing: &Staffing) -> Result<Roles, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let mut members = BTreeMap::new();
    let Some(opener_kind) = staffing.opener_kind else {
        return Err(vec![(
            "my_kind",
            "Say how you take part in this room.".to_owned(),
        )]);
    };
    if opener_kind == MemberKind::Leadership {
        errors.push((
            "my_kind",
            "Open the room as a product manager or a partner.".to_owned(),
        ));
    }
    members.insert(staffing.opener, opener_kind);
    let named = [
        (MemberKind::Pm, &staffing.pms, "pms"),
        (MemberKind::Partner, &staffing.partners, "partners"),
        (MemberKind::Leadership, &staffing.leadership, "leadership"),
    ];
    for (kind, ids, field) in named {
        for id in ids {
            match members.insert(*id, kind) {
                Some(earlier) if earlier != kind => errors.push((
                    field,
                    format!(
                        "Each person takes part one way: someone is named as both {} and {}.",
                        earlier.label(),
                        kind.label()
                    ),
                )),
                _ => {}
            }
        }
    }
    let first_pm = members
        .iter()
        .find(|(_, kind)| **kind == MemberKind::Pm)
        .map(|(id, _)| *id);
    let default_holder = match opener_kind {
        MemberKind::Pm => Some(staffing.opener),
        _ => staffing.pms.first().copied().or(first_pm),
    };
    let lead = staffing.lead.or(default_holder);
    match lead.map(|id| members.get(&id)) {
        None => errors.push((
            "pms",
            "Name at least one product manager: the room needs a lead.".to_owned(),
        )),
        Some(Some(MemberKind::Pm)) => {}
        Some(_) => errors.push((
            "lead",
            "The lead must be one of the room's product managers.".to_owned(),
        )),
    }
    let communicator = staffing.communicator.or(lead);
    match communicator.map(|id| members.get(&id)) {
        Some(Some(MemberKind::Pm | MemberKind::Partner)) | None => {}
        Some(_) => errors.push((
            "communicator",
            "The communicator must be a product manager or partner of the room.".to_owned(),
        )),
    }
    match (errors.is_empty(), lead, communicator) {
        (true, Some(lead), Some(communicator)) => Ok(Roles {
            members,
            lead,
            communicator,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staffing(opener_kind: MemberKind) -> Staffing {
        Staffing {
            opener: 1,
            opener_kind: Some(opener_kind),
            ..Staffing::default()
        }
    }

    #[test]
    fn a_pm_opener_leads_and_communicates_by_default() {
        let roles = resolve(&Staffing {
            pms: vec![2],
            ..staffing(MemberKind::Pm)
        })
        .unwrap();
        assert_eq!((roles.lead, roles.communicator), (1, 1));
        assert_eq!(roles.members[&2], MemberKind::Pm);
    }

    #[test]
    fn a_partner_opener_hands_the_lead_to_the_first_pm_named() {
        let roles = resolve(&Staffing {
            pms: vec![3, 2],
            leadership: vec![4],
            ..staffing(MemberKind::Partner)
        })
        .unwrap();
        assert_eq!((roles.lead, roles.communicator), (3, 3));
        assert_eq!(roles.members[&1], MemberKind::Partner);
        assert_eq!(roles.members[&4], MemberKind::Leadership);
    }

    #[test]
    fn a_room_without_a_pm_cannot_open() {
        let errors = resolve(&staffing(MemberKind::Partner)).unwrap_err();
        assert_eq!(errors[0].0, "pms");
    }

    #[test]
    fn the_lead_must_be_a_pm_and_the_communicator_not_leadership() {
        let errors = resolve(&Staffing {
            pms: vec![2],
            leadership: vec![4],
            lead: Some(1),
            communicator: Some(4),
            ..staffing(MemberKind::Partner)
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["lead", "communicator"]);
    }

    #[test]
    fn a_chosen_partner_can_be_the_communicator() {
        let roles = resolve(&Staffing {
            partners: vec![5],
            communicator: Some(5),
            ..staffing(MemberKind::Pm)
        })
        .unwrap();
        assert_eq!((roles.lead, roles.communicator), (1, 5));
    }

    #[test]
    fn nobody_takes_part_two_ways() {
        let errors = resolve(&Staffing {
            pms: vec![2],
            partners: vec![2],
            ..staffing(MemberKind::Pm)
        })
        .unwrap_err();
        assert_eq!(errors[0].0, "partners");
    }

    #[test]
    fn someone_not_in_the_room_cannot_lead() {
        let errors = resolve(&Staffing {
            lead: Some(9),
            ..staffing(MemberKind::Pm)
        })
        .unwrap_err();
        assert_eq!(errors[0].0, "lead");
    }
}
