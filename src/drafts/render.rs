//! Turning a revision into what people read: the email itself (its headers here, its bodies in
//! `templates/emails/customer.*`) and the difference between two revisions.

use lettre::Message;
use lettre::message::Mailbox;
use similar::{ChangeTag, TextDiff};

use crate::config::Config;
use crate::emails::{self, CustomerEmail};

/// The customer email: From the configured sender under the communicator's name, Reply-To the
/// room's reply address (or the communicator when inbound mail is not set up), the revision's
/// recipients, a fixed Message-ID.
pub struct Email<'a> {
    pub communicator_name: &'a str,
    pub reply_to: &'a str,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: &'a str,
    pub body: &'a str,
    /// The Message-IDs of the thread this one follows, oldest first: the room's earlier customer
    /// emails, and (for a reply) the customer's message and what it references.
    pub earlier: &'a [String],
}

/// The thread a reply to a received message follows: the room's earlier emails, then what the
/// customer's message references that they do not, then the customer's message itself (which
/// `In-Reply-To` therefore names).
pub fn reply_chain(earlier: &[String], references: &[String], answered: &str) -> Vec<String> {
    let mut chain: Vec<String> = earlier
        .iter()
        .filter(|id| *id != answered)
        .cloned()
        .collect();
    for id in references {
        if !chain.contains(id) && id != answered {
            chain.push(id.clone());
        }
    }
    chain.push(answered.to_owned());
    chain
}

/// Most earlier messages named in `References` (the first and the latest are always kept).
const REFERENCES_KEPT: usize = 20;

/// `In-Reply-To` and `References` for a message that follows `earlier` (oldest first) in one
/// thread: it answers the latest; the references keep the first and the most recent ones.
pub fn thread_headers(earlier: &[String]) -> Option<(String, String)> {
    let latest = earlier.last()?;
    let kept: Vec<&str> = match earlier.len() > REFERENCES_KEPT {
        true => std::iter::once(&earlier[0])
            .chain(&earlier[earlier.len() - (REFERENCES_KEPT - 1)..])
            .map(String::as_str)
            .collect(),
        false => earlier.iter().map(String::as_str).collect(),
    };
    Some((latest.clone(), kept.join(" ")))
}

pub fn customer_email(config: &Config, email: &Email<'_>) -> anyhow::Result<Message> {
    let from = Mailbox::new(
        Some(email.communicator_name.to_owned()),
        config.mail_from.email.clone(),
    );
    let reply_to = Mailbox::new(
        Some(email.communicator_name.to_owned()),
        email.reply_to.parse()?,
    );
    let mut builder = Message::builder()
        .from(from)
        .reply_to(reply_to)
        .subject(email.subject)
        .message_id(Some(crate::mail::message_id(config)));
    if let Some((in_reply_to, references)) = thread_headers(email.earlier) {
        builder = builder.in_reply_to(in_reply_to).references(references);
    }
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
    fn a_follow_up_answers_the_latest_and_references_the_thread() {
        assert_eq!(
            thread_headers(&[]),
            None,
            "the first email starts the thread"
        );
        let ids: Vec<String> = (1..=3).map(|n| format!("<{n}@accord>")).collect();
        assert_eq!(
            thread_headers(&ids),
            Some((
                "<3@accord>".into(),
                "<1@accord> <2@accord> <3@accord>".into()
            ))
        );
        let long: Vec<String> = (1..=50).map(|n| format!("<{n}@accord>")).collect();
        let (reply_to, references) = thread_headers(&long).unwrap();
        assert_eq!(reply_to, "<50@accord>");
        let kept: Vec<&str> = references.split(' ').collect();
        assert_eq!(kept.len(), REFERENCES_KEPT);
        assert_eq!(
            (kept[0], kept[1], kept[19]),
            ("<1@accord>", "<32@accord>", "<50@accord>")
        );
    }

    #[test]
    fn a_reply_answers_the_customers_message_within_the_thread() {
        let earlier: Vec<String> = vec!["<1@accord>".into(), "<2@accord>".into()];
        let theirs: Vec<String> = vec!["<1@accord>".into(), "<x@client>".into()];
        let chain = reply_chain(&earlier, &theirs, "<reply@customer>");
        assert_eq!(
            chain,
            ["<1@accord>", "<2@accord>", "<x@client>", "<reply@customer>"]
        );
        let (in_reply_to, references) = thread_headers(&chain).unwrap();
        assert_eq!(in_reply_to, "<reply@customer>");
        assert!(references.starts_with("<1@accord>"));
    }

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
