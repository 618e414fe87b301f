//! Who settles a disagreement. Each room names its escalation point: the lead, or for a decision
//! type its *escalates-to* member. Someone who is a party to the disagreement (the objector, or the
//! PM contesting) cannot rule alone on it: then the room's leadership members rule (any one of
//! them who is not a party), and a room without one goes to the administrators.

/// Who may rule on one escalation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rulers {
    /// The escalation point.
    Point(i64),
    /// The point is a party: any of these leadership members.
    Leadership(Vec<i64>),
    /// The point is a party and the room has no other leadership member.
    Admins,
}

impl Rulers {
    pub fn may_rule(&self, user_id: i64, is_admin: bool) -> bool {
        match self {
            Rulers::Point(point) => *point == user_id,
            Rulers::Leadership(ids) => ids.contains(&user_id),
            Rulers::Admins => is_admin,
        }
    }

    /// The people to notify (administrators are found by the caller).
    pub fn people(&self) -> Vec<i64> {
        match self {
            Rulers::Point(point) => vec![*point],
            Rulers::Leadership(ids) => ids.clone(),
            Rulers::Admins => Vec::new(),
        }
    }
}

/// The rulers of a disagreement whose escalation point is `point` and whose party is `party`.
pub fn rulers(point: i64, party: i64, leadership: &[i64]) -> Rulers {
    if point != party {
        return Rulers::Point(point);
    }
    let others: Vec<i64> = leadership
        .iter()
        .copied()
        .filter(|id| *id != party)
        .collect();
    match others.is_empty() {
        true => Rulers::Admins,
        false => Rulers::Leadership(others),
    }
}

/// The escalation point: the decision type's escalates-to member, or the room's lead.
pub fn point(escalates_to: Option<i64>, lead: i64) -> i64 {
    escalates_to.unwrap_or(lead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_point_rules_unless_it_is_the_party() {
        assert_eq!(rulers(5, 1, &[5, 6]), Rulers::Point(5));
        assert!(rulers(5, 1, &[]).may_rule(5, false));
        assert!(
            !rulers(5, 1, &[]).may_rule(1, true),
            "not even an admin overrules the point"
        );
    }

    #[test]
    fn a_party_who_is_the_point_hands_the_ruling_to_leadership_then_admins() {
        let leadership = rulers(1, 1, &[1, 5, 6]);
        assert_eq!(leadership, Rulers::Leadership(vec![5, 6]));
        assert!(leadership.may_rule(6, false) && !leadership.may_rule(1, false));
        let admins = rulers(1, 1, &[1]);
        assert_eq!(admins, Rulers::Admins);
        assert!(admins.may_rule(9, true) && !admins.may_rule(1, false));
    }

    #[test]
    fn a_decision_type_names_its_own_point_or_falls_back_to_the_lead() {
        assert_eq!(point(Some(7), 1), 7);
        assert_eq!(point(None, 1), 1);
    }
}
