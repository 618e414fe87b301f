//! The sync's agenda, built the moment the page opens from the room's open state only — so there
//! is nothing to prepare and nothing stale. A pure function of plain records: each item has a
//! stable key (`decision:12`), so the minutes can tick it and the next sync can say what carried
//! over.

use crate::clock::Millis;
use crate::contact_log::rules::{ContactActivity, DAY};
use crate::customers::model::Contact;
use crate::decisions::model::{Decision, DecisionStatus};
use crate::engagements::model::Engagement;
use crate::questions::model::{Question, QuestionStatus};
use crate::web::time::{self, Zone};
use crate::workstreams::model::{Workstream, WorkstreamStatus};

/// A question open this long is on the agenda.
pub const QUESTION_AGE: Millis = 3 * DAY;
/// An update due this soon (or overdue) is on the agenda.
pub const UPDATE_HORIZON: Millis = DAY;

/// A draft or leadership update waiting for PMs.
#[derive(Clone, Debug)]
pub struct Waiting {
    /// `draft` or `update`.
    pub kind: &'static str,
    pub id: i64,
    /// A subject or a headline.
    pub title: String,
    /// PMs who have not aligned on the current revision.
    pub on: Vec<String>,
    /// PMs objecting to it, with their reasons.
    pub objections: Vec<(String, String)>,
}

/// One thing to talk about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    /// The group it is listed under.
    pub group: &'static str,
    pub text: String,
    /// Where it lives in the room.
    pub link: String,
    /// It was on the last sync's agenda and not ticked as discussed.
    pub carried_over: bool,
}

/// The room's open state the agenda is built from.
pub struct Open<'a> {
    pub room_id: i64,
    pub now: Millis,
    pub zone: Zone,
    pub decisions: &'a [Decision],
    pub waiting: &'a [Waiting],
    pub workstreams: &'a [Workstream],
    pub questions: &'a [Question],
    pub engagements: &'a [Engagement],
    pub contacts: &'a [(Contact, ContactActivity)],
    pub touch_limit: i64,
    pub customer_update_due: Option<Millis>,
    pub leadership_update_due: Option<Millis>,
}

/// The agenda, in group order; `carried` are the keys the last sync left undiscussed.
pub fn agenda(open: &Open<'_>, carried: &[String]) -> Vec<Item> {
    let room = open.room_id;
    let mut items = Vec::new();
    let mut add = |key: String, group: &'static str, text: String, link: String| {
        let carried_over = carried.contains(&key);
        items.push(Item {
            key,
            group,
            text,
            link,
            carried_over,
        });
    };
    for d in open
        .decisions
        .iter()
        .filter(|d| d.status == DecisionStatus::Proposed)
    {
        let contested = match &d.contested {
            Some((by, reason)) => format!(" — contested by {by}: {reason}"),
            None => String::new(),
        };
        add(
            format!("decision:{}", d.id),
            "Decisions to make",
            format!(
                "“{}” ({}), proposed by {}{contested}",
                d.title, d.type_name, d.proposed_by
            ),
            format!("/rooms/{room}#decision-{}", d.id),
        );
    }
    for w in open.waiting {
        let what = match w.kind {
            "draft" => format!("The email “{}”", w.title),
            _ => format!("The leadership update “{}”", w.title),
        };
        let mut text = match w.on.is_empty() {
            true => format!("{what} is aligned and waiting to go out"),
            false => format!("{what} waits for {}", w.on.join(", ")),
        };
        for (pm, reason) in &w.objections {
            text.push_str(&format!("; {pm} objects: {reason}"));
        }
        let path = if w.kind == "draft" {
            "drafts"
        } else {
            "updates"
        };
        add(
            format!("{}:{}", w.kind, w.id),
            "Waiting for alignment",
            text,
            format!("/rooms/{room}/{path}/{}", w.id),
        );
    }
    for w in open.workstreams {
        let late = w.is_overdue(open.now);
        if !late && w.status != WorkstreamStatus::Blocked {
            continue;
        }
        let why = match (w.status == WorkstreamStatus::Blocked, late) {
            (true, true) => "blocked and overdue".to_owned(),
            (true, false) => "blocked".to_owned(),
            _ => w
                .due_at
                .map_or_else(String::new, |due| time::due(due, open.now)),
        };
        add(
            format!("workstream:{}", w.id),
            "Workstreams behind",
            format!(
                "“{}” ({}, driven by {}): {why}",
                w.title,
                w.status.label().to_lowercase(),
                w.driver_name
            ),
            format!("/rooms/{room}#workstream-{}", w.id),
        );
    }
    for q in open.questions.iter().filter(|q| q.room_id == room) {
        if q.status != QuestionStatus::Open || open.now - q.asked_at <= QUESTION_AGE {
            continue;
        }
        add(
            format!("question:{}", q.id),
            "Questions open for more than 3 days",
            format!(
                "“{}” for {}, asked by {} {}",
                q.body,
                q.stakeholder,
                q.asked_by,
                time::relative(q.asked_at, open.now)
            ),
            format!("/rooms/{room}/questions/{}", q.id),
        );
    }
    for e in open
        .engagements
        .iter()
        .filter(|e| e.is_open() && e.starts_at > open.now)
    {
        add(
            format!("engagement:{}", e.id),
            "Calls and meetings ahead",
            format!(
                "{} on {} ({})",
                e.title(),
                open.zone.when(e.starts_at),
                e.state.label().to_lowercase()
            ),
            format!("/rooms/{room}/engagements/{}", e.id),
        );
    }
    for (c, activity) in open.contacts {
        if activity.is_over(open.touch_limit) {
            add(
                format!("contact:{}", c.id),
                "Contacts touched too often",
                format!(
                    "{}: {} touches in 7 days (more than {})",
                    c.name,
                    activity.count(),
                    open.touch_limit
                ),
                format!("/rooms/{room}#contacts"),
            );
        }
    }
    let updates = [
        (
            "customer_update",
            "The customer update",
            open.customer_update_due,
            "email",
        ),
        (
            "leadership_update",
            "The leadership update",
            open.leadership_update_due,
            "leadership",
        ),
    ];
    for (key, what, due, anchor) in updates {
        if let Some(due) = due.filter(|due| *due - open.now <= UPDATE_HORIZON) {
            add(
                key.to_owned(),
                "Updates due",
                format!(
                    "{what} is {} ({})",
                    time::due(due, open.now),
                    open.zone.when(due)
                ),
                format!("/rooms/{room}#{anchor}"),
            );
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_log::rules::{Channel, Touch};

    const HOUR: Millis = 3_600_000;
    const NOW: Millis = 400 * DAY;

    fn decision(id: i64, status: DecisionStatus) -> Decision {
        Decision {
            id,
            decision_type_id: 1,
            type_name: "Product scope".into(),
            title: "Forecast per cluster".into(),
            rationale: String::new(),
            status,
            proposed_by: "Dana".into(),
            proposed_at: NOW - DAY,
            decided_by: None,
            decided_at: None,
            supersedes_id: None,
            superseded_by_id: None,
            contested: None,
        }
    }

    fn workstream(id: i64, status: WorkstreamStatus, due_at: Option<Millis>) -> Workstream {
        Workstream {
            id,
            title: format!("Workstream {id}"),
            driver_user_id: 1,
            driver_name: "Dana".into(),
            voice_user_id: 1,
            voice_name: "Dana".into(),
            status,
            next_step: String::new(),
            due_at,
            navigators: vec![],
        }
    }

    fn open<'a>(
        decisions: &'a [Decision],
        workstreams: &'a [Workstream],
        contacts: &'a [(Contact, ContactActivity)],
    ) -> Open<'a> {
        Open {
            room_id: 7,
            now: NOW,
            zone: Zone::UTC,
            decisions,
            waiting: &[],
            workstreams,
            questions: &[],
            engagements: &[],
            contacts,
            touch_limit: 3,
            customer_update_due: None,
            leadership_update_due: None,
        }
    }

    fn keys(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.key.as_str()).collect()
    }

    #[test]
    fn only_open_state_is_on_the_agenda() {
        let decisions = [
            decision(1, DecisionStatus::Proposed),
            decision(2, DecisionStatus::Decided),
        ];
        let workstreams = [
            workstream(3, WorkstreamStatus::Active, Some(NOW - HOUR)),
            workstream(4, WorkstreamStatus::Active, Some(NOW + HOUR)),
            workstream(5, WorkstreamStatus::Blocked, None),
            workstream(6, WorkstreamStatus::Done, Some(NOW - DAY)),
        ];
        let items = agenda(&open(&decisions, &workstreams, &[]), &[]);
        assert_eq!(keys(&items), ["decision:1", "workstream:3", "workstream:5"]);
        assert!(
            items[1].text.ends_with("overdue by 60 minutes"),
            "{}",
            items[1].text
        );
        assert_eq!(
            items[2].text,
            "“Workstream 5” (blocked, driven by Dana): blocked"
        );
    }

    #[test]
    fn an_item_left_undiscussed_last_time_is_carried_over() {
        let decisions = [decision(1, DecisionStatus::Proposed)];
        let items = agenda(
            &open(&decisions, &[], &[]),
            &["decision:1".to_owned(), "decision:9".to_owned()],
        );
        assert!(items[0].carried_over);
        assert_eq!(
            items.len(),
            1,
            "what was settled since is not on the agenda any more"
        );
    }

    #[test]
    fn an_update_due_within_a_day_and_a_busy_contact_are_listed() {
        let jordan = Contact {
            id: 4,
            customer_id: 1,
            name: "Jordan".into(),
            email: "jordan@northwind.example".into(),
            title: String::new(),
            time_zone: String::new(),
        };
        let touch = Touch {
            at: NOW - HOUR,
            by_user_id: 1,
            by_name: "Dana".into(),
            channel: Channel::Call,
        };
        let busy = ContactActivity {
            touches: vec![touch.clone(), touch.clone(), touch.clone(), touch],
        };
        let contacts = [(jordan, busy)];
        let mut state = open(&[], &[], &contacts);
        state.customer_update_due = Some(NOW + 2 * HOUR);
        state.leadership_update_due = Some(NOW + 2 * DAY);
        let items = agenda(&state, &[]);
        assert_eq!(keys(&items), ["contact:4", "customer_update"]);
        assert_eq!(items[0].text, "Jordan: 4 touches in 7 days (more than 3)");
        assert!(
            items[1]
                .text
                .starts_with("The customer update is due in 2 hours")
        );
    }
}
