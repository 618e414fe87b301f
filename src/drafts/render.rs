//! Turning a revision into what people read: the email itself (its headers here, its bodies in
//! `templates/emails/customer.*`) and the difference between two revisions.

use lettre::Message;
use lettre::message::Mailbox;
use similar::{ChangeTag, TextDiff};

use crate::config::Config;
use crate::emails::{self, CustomerEmail};

/// The customer email: From the configured sender under the communicator's name, Reply-To the
/// communicator, the revision's recipients, a fixed Message-ID.
pub struct Email<'a> {
    pub communicator_name: &'a str,
    pub communicator_email: &'a str,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: &'a str,
    pub body: &'a str,
}

pub fn customer_email(config: &Config, email: &Email<'_>) -> anyhow::Result<Message> {
    let from = Mailbox::new(
        Some(email.communicator_name.to_owned()),
        config.mail_from.email.clone(),
    );
    let reply_to = Mailbox::new(
        Some(email.communicator_name.to_owned()),
        email.communicator_email.parse()?,
    );
    let mut builder = Message::builder()
        .from(from)
        .reply_to(reply_to)
        .subject(email.subject)
        .message_id(Some(crate::mail::message_id(config)));
    for to in &email.to {
        builder = builder.to(to.clone());
    }
    for cc in &email.cc {
        builder = builder.cc(cc.clone());
    }
    let body = CustomerEmail {
        subject: email.subject,
        body: email.body,
    };
    emails::compose(builder, &body)
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub change: &'static str,
    pub text: String,
}

/// A line-by-line diff from `old` to `new`: "same", "removed" or "added" per line.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            change: match change.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Delete => "removed",
                ChangeTag::Insert => "added",
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_marks_removed_and_added_lines() {
        let lines = diff(
            "Hello\nWe ship Friday.\nSam\n",
            "Hello\nWe ship Monday.\nSam\n",
        );
        let changes: Vec<(&str, &str)> =
            lines.iter().map(|l| (l.change, l.text.as_str())).collect();
        assert_eq!(
            changes,
            [
                ("same", "Hello"),
                ("removed", "We ship Friday."),
                ("added", "We ship Monday."),
                ("same", "Sam")
            ]
        );
    }
}
