//! When logging a touch deserves a warning. Pure functions over recent touches.

use crate::clock::Millis;
use crate::text_enum::text_enum;
use crate::web::time;

pub const DAY: Millis = 24 * 3600 * 1000;
pub const WEEK: Millis = 7 * DAY;

text_enum! {
    pub enum Channel {
        Email = "email" => "Email",
        Call = "call" => "Call",
        Meeting = "meeting" => "Meeting",
        Chat = "chat" => "Chat",
    }
}

impl Channel {
    /// "an email", "a call": for sentences.
    pub fn with_article(self) -> &'static str {
        match self {
            Channel::Email => "an email",
            Channel::Call => "a call",
            Channel::Meeting => "a meeting",
            Channel::Chat => "a chat",
        }
    }

    /// Written channels speak for the company: they belong to the communicator.
    pub fn is_written(self) -> bool {
        matches!(self, Channel::Email | Channel::Chat)
    }
}

/// One touch of a contact.
#[derive(Clone, Debug)]
pub struct Touch {
    pub at: Millis,
    pub by_user_id: i64,
    pub by_name: String,
    pub channel: Channel,
}

/// A contact's touches in the last 7 days (any room), newest first.
#[derive(Clone, Debug, Default)]
pub struct ContactActivity {
    pub touches: Vec<Touch>,
}

impl ContactActivity {
    pub fn count(&self) -> usize {
        self.touches.len()
    }

    pub fn last(&self) -> Option<&Touch> {
        self.touches.first()
    }

    /// Above the configured number of touches in 7 days.
    pub fn is_over(&self, limit: impl std::borrow::Borrow<i64>) -> bool {
        self.touches.len() as i64 > *limit.borrow()
    }
}

/// What to warn about when `logger` logs a touch of `contact` at `at`.
#[allow(clippy::too_many_arguments)]
pub fn warnings(
    contact: &str,
    recent: &ContactActivity,
    logger: i64,
    logger_is_communicator: bool,
    channel: Channel,
    limit: i64,
    at: Millis,
    now: Millis,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let by_someone_else = recent
        .touches
        .iter()
        .find(|t| t.by_user_id != logger && (at - t.at).abs() < DAY);
    if let Some(other) = by_someone_else {
        warnings.push(format!(
            "{} was also in touch with {contact} {} ({}): coordinate before reaching out again.",
            other.by_name,
            time::relative(other.at, now),
            other.channel.label().to_lowercase()
        ));
    }
    let in_week = recent.touches.iter().filter(|t| at - t.at < WEEK).count() as i64 + 1;
    if in_week > limit {
        warnings.push(format!(
            "{contact} has now been contacted {in_week} times in 7 days (more than {limit})."
        ));
    }
    if channel.is_written() && !logger_is_communicator {
        warnings.push(
            "You are not this room's communicator: written messages to the customer should come from the communicator."
                .to_owned(),
        );
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Millis = 3600 * 1000;
    const NOW: Millis = 30 * DAY;

    fn touch(hours_ago: Millis, by: i64) -> Touch {
        Touch {
            at: NOW - hours_ago * HOUR,
            by_user_id: by,
            by_name: format!("User {by}"),
            channel: Channel::Call,
        }
    }

    fn activity(touches: Vec<Touch>) -> ContactActivity {
        ContactActivity { touches }
    }

    #[test]
    fn a_quiet_contact_logged_by_the_communicator_needs_no_warning() {
        let warnings = warnings(
            "Jordan",
            &activity(vec![]),
            1,
            true,
            Channel::Email,
            3,
            NOW,
            NOW,
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn someone_else_touching_the_contact_in_the_last_day_is_a_warning() {
        let recent = activity(vec![touch(3, 2)]);
        let warnings = warnings("Jordan", &recent, 1, true, Channel::Call, 3, NOW, NOW);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("User 2 was also in touch with Jordan 3 hours ago (call)"));
        let own = activity(vec![touch(3, 1)]);
        assert!(super::warnings("Jordan", &own, 1, true, Channel::Call, 3, NOW, NOW).is_empty());
        let old = activity(vec![touch(30, 2)]);
        assert!(super::warnings("Jordan", &old, 1, true, Channel::Call, 3, NOW, NOW).is_empty());
    }

    #[test]
    fn passing_the_weekly_limit_is_a_warning() {
        let recent = activity(vec![touch(30, 1), touch(50, 1), touch(70, 1)]);
        let warnings = warnings("Jordan", &recent, 1, true, Channel::Call, 3, NOW, NOW);
        assert_eq!(
            warnings,
            ["Jordan has now been contacted 4 times in 7 days (more than 3)."]
        );
        let at_limit = activity(vec![touch(30, 1), touch(50, 1)]);
        assert!(
            super::warnings("Jordan", &at_limit, 1, true, Channel::Call, 3, NOW, NOW).is_empty()
        );
    }

    #[test]
    fn a_written_touch_by_someone_other_than_the_communicator_is_a_warning() {
        let quiet = activity(vec![]);
        assert_eq!(
            warnings("Jordan", &quiet, 1, false, Channel::Email, 3, NOW, NOW).len(),
            1
        );
        assert_eq!(
            warnings("Jordan", &quiet, 1, false, Channel::Chat, 3, NOW, NOW).len(),
            1
        );
        assert!(warnings("Jordan", &quiet, 1, false, Channel::Meeting, 3, NOW, NOW).is_empty());
    }
}
