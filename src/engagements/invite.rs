//! Calendar invitations for cleared engagements: one `.ics` (RFC 5545, with the iTIP method
//! `REQUEST` or `CANCEL`) built with `icalendar`, carrying the agreed questions; the same UID for
//! the engagement's whole life and a SEQUENCE that grows with every change; emailed through the
//! outbox to each internal participant, the time worded in their own zone.

use chrono::{DateTime, Utc};
use icalendar::{Attendee, Calendar, Component, Event, EventLike, EventStatus};
use lettre::Message;

use super::model::{Bundled, Engagement, Participant};
use crate::AppState;
use crate::clock::Millis;
use crate::emails::{self, CalendarChange, EngagementNotice};
use crate::error::AppError;
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::change::RoomChange;
use crate::web::time::Zone;

/// The engagement's calendar UID: stable from the first invitation to the cancellation.
pub fn uid(engagement: &Engagement, domain: &str) -> String {
    format!("engagement-{}@{domain}", engagement.id)
}

fn utc(at: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or_default()
}

fn mailto(person: &Participant) -> Attendee {
    Attendee {
        cn: Some(person.name.clone()),
        ..Attendee::new(format!("mailto:{}", person.email))
    }
}

/// The agreed questions, one line each: "text (for Jordan; added by Dana)".
pub fn question_lines(questions: &[Bundled]) -> Vec<String> {
    questions
        .iter()
        .map(|q| format!("{} ({}; added by {})", q.body, q.stakeholder, q.added_by))
        .collect()
}

/// The `.ics` for the engagement as it is now: `REQUEST`, or `CANCEL` once it is called off.
pub fn calendar(
    engagement: &Engagement,
    participants: &[Participant],
    questions: &[Bundled],
    (domain, link): (&str, &str),
    now: Millis,
) -> String {
    let cancelled = engagement.state == super::rules::EngagementState::Cancelled;
    let mut description = format!("{}\n", engagement.purpose);
    if !questions.is_empty() {
        description.push_str("\nQuestions to ask:\n");
        for line in question_lines(questions) {
            description.push_str(&format!("- {line}\n"));
        }
    }
    description.push_str(&format!("\n{link}"));
    let mut event = Event::new();
    event
        .uid(&uid(engagement, domain))
        .sequence(u32::try_from(engagement.sequence).unwrap_or(0))
        .timestamp(utc(now))
        .starts(utc(engagement.starts_at))
        .ends(utc(engagement.ends_at()))
        .summary(&engagement.title())
        .description(&description)
        .url(link)
        .status(match cancelled {
            true => EventStatus::Cancelled,
            false => EventStatus::Confirmed,
        });
    if let Some(voice) = participants
        .iter()
        .find(|p| p.user_id == engagement.voice_user_id)
    {
        event.add_property("ORGANIZER", format!("mailto:{}", voice.email));
    }
    for person in participants {
        event.attendee(mailto(person));
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Accord//Engagements//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", if cancelled { "CANCEL" } else { "REQUEST" }))
        .push(event.done());
    calendar.done().to_string()
}

/// Queues the invitation (or its update, or its cancellation) to every participant, or only to
/// the participants `only` names (someone who just joined).
pub async fn send(
    state: &AppState,
    change: &mut RoomChange,
    engagement: &Engagement,
    what: CalendarChange,
    only: Option<&[i64]>,
) -> Result<(), AppError> {
    let room_id = change.room.id;
    let participants = super::model::participants(change.conn(), engagement.id).await?;
    let questions = super::model::questions(change.conn(), engagement.id).await?;
    let link = state
        .config
        .link(&format!("/rooms/{room_id}/engagements/{}", engagement.id));
    let domain = state.config.mail_from.email.domain().to_owned();
    let ics = calendar(
        engagement,
        &participants,
        &questions,
        (&domain, &link),
        change.now,
    );
    let method = match what {
        CalendarChange::Cancelled => "CANCEL",
        _ => "REQUEST",
    };
    let title = engagement.title();
    let subject = match what {
        CalendarChange::New => format!("Cleared: {title}"),
        CalendarChange::Moved => format!("New time: {title}"),
        CalendarChange::Cancelled => format!("Called off: {title}"),
    };
    let recipients = participants
        .iter()
        .filter(|p| only.is_none_or(|only| only.contains(&p.user_id)));
    for person in recipients {
        let zone = person
            .time_zone
            .as_deref()
            .and_then(Zone::parse)
            .unwrap_or(state.config.default_zone);
        let notice = EngagementNotice {
            name: &person.name,
            change: what,
            title: &title,
            when: zone.when(engagement.starts_at),
            minutes: engagement.minutes,
            purpose: &engagement.purpose,
            questions: question_lines(&questions),
            reason: &engagement.cancelled_reason,
            link: &link,
        };
        let message = message(state, person, &subject, &notice, ics.clone(), method)?;
        let (backend, now) = (state.db.backend(), change.now);
        outbox::enqueue(
            change.conn(),
            backend,
            &Outgoing::notification(message),
            now,
        )
        .await?;
    }
    Ok(())
}

fn message(
    state: &AppState,
    person: &Participant,
    subject: &str,
    notice: &EngagementNotice<'_>,
    ics: String,
    method: &str,
) -> Result<Message, AppError> {
    let headers = crate::mail::to_person(&state.config, &person.name, &person.email, subject)?;
    Ok(emails::compose_with_calendar(headers, notice, ics, method)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagements::rules::{EngagementKind, EngagementState};

    fn engagement(state: EngagementState, sequence: i64) -> Engagement {
        Engagement {
            id: 12,
            room_id: 1,
            workstream_id: 3,
            topic: "Forecast from telemetry".into(),
            voice_user_id: 2,
            voice: "Sam Okafor".into(),
            kind: EngagementKind::Call,
            starts_at: 1_796_137_200_000,
            minutes: 30,
            purpose: "Walk Jordan through the forecast".into(),
            state,
            planned_by_id: 1,
            planned_by: "Dana Whitfield".into(),
            planned_at: 0,
            cleared_by: None,
            cleared_at: None,
            override_reason: String::new(),
            sequence,
            outcome: String::new(),
            outcome_by: None,
            outcome_at: None,
            cancelled_reason: String::new(),
            question_count: 0,
            contacts: vec![],
        }
    }

    fn people() -> Vec<Participant> {
        vec![
            Participant {
                user_id: 1,
                name: "Dana Whitfield".into(),
                email: "dana@example.com".into(),
                time_zone: None,
            },
            Participant {
                user_id: 2,
                name: "Sam Okafor".into(),
                email: "sam@example.com".into(),
                time_zone: None,
            },
        ]
    }

    #[test]
    fn the_invitation_keeps_its_uid_and_counts_its_changes() {
        let target = (
            "accord.example",
            "https://accord.example/rooms/1/engagements/12",
        );
        let first = calendar(
            &engagement(EngagementState::Cleared, 0),
            &people(),
            &[],
            target,
            0,
        );
        let parsed: Calendar = first.parse().unwrap();
        let event = parsed.events().next().unwrap();
        assert_eq!(event.get_uid(), Some("engagement-12@accord.example"));
        assert_eq!(event.get_sequence(), Some(0));
        assert_eq!(parsed.property_value("METHOD"), Some("REQUEST"));
        let attendees: Vec<String> = event
            .get_attendees()
            .into_iter()
            .map(|a| a.cal_address)
            .collect();
        assert_eq!(
            attendees,
            ["mailto:dana@example.com", "mailto:sam@example.com"]
        );
        assert_eq!(
            event.property_value("ORGANIZER"),
            Some("mailto:sam@example.com")
        );
        let cancelled = calendar(
            &engagement(EngagementState::Cancelled, 1),
            &people(),
            &[],
            target,
            0,
        );
        let parsed: Calendar = cancelled.parse().unwrap();
        let event = parsed.events().next().unwrap();
        assert_eq!(event.get_uid(), Some("engagement-12@accord.example"));
        assert_eq!(event.get_sequence(), Some(1));
        assert_eq!(parsed.property_value("METHOD"), Some("CANCEL"));
        assert_eq!(event.get_status(), Some(EventStatus::Cancelled));
    }
}
