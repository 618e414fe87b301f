//! Every email Accord writes, each an askama text template plus an HTML template under
//! `templates/emails/` (askama escapes the HTML). Headers — addresses, RFC 2047 subjects,
//! Message-IDs — are lettre's; nothing here escapes by hand.

use askama::Template;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MessageBuilder, MultiPart};

/// One email's two bodies.
pub trait Email {
    fn text(&self) -> askama::Result<String>;
    fn html(&self) -> askama::Result<String>;
}

/// The message: `headers` (from, to, subject, …) with both bodies as `multipart/alternative`.
pub fn compose(headers: MessageBuilder, email: &impl Email) -> anyhow::Result<Message> {
    let body = MultiPart::alternative_plain_html(email.text()?, email.html()?);
    Ok(headers.multipart(body)?)
}

/// The message with a calendar invitation attached (`text/calendar` with its iTIP `method`,
/// `REQUEST` or `CANCEL`), as calendar clients expect it.
pub fn compose_with_calendar(
    headers: MessageBuilder,
    email: &impl Email,
    ics: String,
    method: &str,
) -> anyhow::Result<Message> {
    let calendar = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))?;
    let body = MultiPart::mixed()
        .multipart(MultiPart::alternative_plain_html(
            email.text()?,
            email.html()?,
        ))
        .singlepart(Attachment::new("invite.ics".to_owned()).body(ics, calendar));
    Ok(headers.multipart(body)?)
}

/// Implements [`Email`] for a text template whose HTML twin wraps it as `m`.
macro_rules! email {
    ($text:ident, $html:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $html<'a> {
            m: &'a $text<'a>,
        }

        impl Email for $text<'_> {
            fn text(&self) -> askama::Result<String> {
                self.render()
            }
            fn html(&self) -> askama::Result<String> {
                $html { m: self }.render()
            }
        }
    };
}

/// The customer email: the revision's body, paragraphs (blank lines) as HTML paragraphs.
#[derive(Template)]
#[template(path = "emails/customer.txt")]
pub struct CustomerEmail<'a> {
    pub subject: &'a str,
    pub body: &'a str,
}
email!(CustomerEmail, CustomerEmailHtml, "emails/customer.html");

impl CustomerEmail<'_> {
    /// The body's paragraphs, trimmed, without empty ones.
    pub fn paragraphs(&self) -> Vec<String> {
        self.body
            .replace("\r\n", "\n")
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// "Waiting for your alignment", to a PM who has not aligned on the current revision.
#[derive(Template)]
#[template(path = "emails/alignment.txt")]
pub struct AlignmentRequest<'a> {
    pub name: &'a str,
    /// What waits, as a phrase: "The draft “…”".
    pub what: &'a str,
    pub link: &'a str,
    /// The one-time link that opens this exact revision with a confirm button.
    pub align_link: &'a str,
    /// For a reminder: how long it has waited ("for 5 hours").
    pub waited: Option<&'a str>,
}
email!(
    AlignmentRequest,
    AlignmentRequestHtml,
    "emails/alignment.html"
);

/// A new pre-read, to each leadership member of the room.
#[derive(Template)]
#[template(path = "emails/pre_read.txt")]
pub struct PreReadPublished<'a> {
    pub name: &'a str,
    pub room_title: &'a str,
    pub status: &'a str,
    pub headline: &'a str,
    pub link: &'a str,
    /// When the next leadership update is due, in the recipient's zone.
    pub next_due: String,
}
email!(
    PreReadPublished,
    PreReadPublishedHtml,
    "emails/pre_read.html"
);

/// "The customer wrote", to each PM and the communicator of the room the reply was filed in. It
/// names who wrote and the subject; the message itself stays in Accord.
#[derive(Template)]
#[template(path = "emails/customer_reply.txt")]
pub struct CustomerReplied<'a> {
    pub name: &'a str,
    pub sender: &'a str,
    pub room_title: &'a str,
    pub subject: &'a str,
    pub link: &'a str,
}
email!(
    CustomerReplied,
    CustomerRepliedHtml,
    "emails/customer_reply.html"
);

/// "Your ruling is needed", to the escalation point of a disagreement.
#[derive(Template)]
#[template(path = "emails/escalation.txt")]
pub struct EscalationRequest<'a> {
    pub name: &'a str,
    /// What is disputed: "revision 3 of the customer email “…”".
    pub what: &'a str,
    pub objector: &'a str,
    pub link: &'a str,
}
email!(
    EscalationRequest,
    EscalationRequestHtml,
    "emails/escalation.html"
);

/// "Dana is holding …", to the room's lead after a revision waited two reminder periods.
#[derive(Template)]
#[template(path = "emails/held_up.txt")]
pub struct HeldUp<'a> {
    pub name: &'a str,
    pub holder: &'a str,
    pub what: &'a str,
    /// "for 8 hours".
    pub waited: &'a str,
    pub link: &'a str,
}
email!(HeldUp, HeldUpHtml, "emails/held_up.html");

/// "You stand in for Dana", to the stand-in a PM named when going away.
#[derive(Template)]
#[template(path = "emails/stand_in.txt")]
pub struct StandInNotice<'a> {
    pub name: &'a str,
    pub absent: &'a str,
    pub room_title: &'a str,
    /// When they are back, in the stand-in's zone.
    pub until: String,
    pub link: &'a str,
}
email!(StandInNotice, StandInNoticeHtml, "emails/stand_in.html");

/// What a calendar email says happened to the engagement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarChange {
    New,
    Moved,
    Cancelled,
}

/// A cleared call or meeting (or its new time, or its cancellation), to each internal participant,
/// with the `.ics` attached.
#[derive(Template)]
#[template(path = "emails/engagement.txt")]
pub struct EngagementNotice<'a> {
    pub name: &'a str,
    pub change: CalendarChange,
    /// "Sam Okafor's call with Jordan Reyes about “Forecast”".
    pub title: &'a str,
    /// When it starts, in the participant's zone.
    pub when: String,
    pub minutes: i64,
    pub purpose: &'a str,
    pub questions: Vec<String>,
    /// Why it was called off.
    pub reason: &'a str,
    pub link: &'a str,
}
email!(
    EngagementNotice,
    EngagementNoticeHtml,
    "emails/engagement.html"
);

/// The sync's agenda, to each member of the room an hour before.
#[derive(Template)]
#[template(path = "emails/sync_agenda.txt")]
pub struct SyncAgenda<'a> {
    pub name: &'a str,
    pub room_title: &'a str,
    /// When the sync starts, in the member's zone.
    pub when: String,
    pub items: Vec<String>,
    pub link: &'a str,
}
email!(SyncAgenda, SyncAgendaHtml, "emails/sync_agenda.html");

/// One room in a weekly digest.
pub struct DigestRoom {
    pub title: String,
    /// "S2, open".
    pub status: String,
    /// Timeline entries in the week.
    pub changes: i64,
    pub overdue: Vec<String>,
    pub link: String,
}

/// The weekly digest to a leadership member.
#[derive(Template)]
#[template(path = "emails/digest.txt")]
pub struct WeeklyDigest<'a> {
    pub name: &'a str,
    pub rooms: Vec<DigestRoom>,
    /// Open rooms not listed (the list keeps the most recently changed).
    pub more: usize,
    /// "Commercial: 4.5 days (2 decided)", as `/insights` words it.
    pub velocity: Vec<String>,
    /// Rooms where a contact heard more than one voice.
    pub crowded: usize,
    pub uncoordinated: usize,
    pub parallel: usize,
    pub insights: &'a str,
    pub dashboard: &'a str,
}
email!(WeeklyDigest, WeeklyDigestHtml, "emails/digest.html");

/// The invitation to set a password.
#[derive(Template)]
#[template(path = "emails/invitation.txt")]
pub struct Invitation<'a> {
    pub name: &'a str,
    pub inviter: &'a str,
    pub link: &'a str,
}
email!(Invitation, InvitationHtml, "emails/invitation.html");

#[cfg(test)]
mod tests {
    use super::*;

    fn both(email: &impl Email) -> String {
        format!(
            "--- text/plain\n{}\n--- text/html\n{}",
            email.text().unwrap(),
            email.html().unwrap()
        )
    }

    #[test]
    fn customer_email() {
        let email = CustomerEmail {
            subject: "Route planning: the fix ships Friday",
            body: "Hello Jordan,\r\n\r\nWe <will> ship the fix\r\non Friday & tell you.\r\n\r\n\r\nSam",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn alignment_request() {
        let email = AlignmentRequest {
            name: "Dana Whitfield",
            what: "The draft “Fix <b>shipped</b>”",
            link: "https://accord.example/rooms/1/drafts/2",
            align_link: "https://accord.example/align/abc123",
            waited: Some("for 5 hours"),
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn pre_read_published() {
        let email = PreReadPublished {
            name: "Elena Marsh",
            room_title: "Northwind: route planning",
            status: "At risk",
            headline: "Fix ships Friday; customer wants a call",
            link: "https://accord.example/rooms/1/pre-reads/2",
            next_due: "Tue 8 Dec, 09:00 CET".into(),
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn customer_replied() {
        let email = CustomerReplied {
            name: "Dana Whitfield",
            sender: "Jordan <Reyes>",
            room_title: "Northwind: route planning",
            subject: "Re: the fix & Friday",
            link: "https://accord.example/rooms/1/messages/7",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn escalation_request() {
        let email = EscalationRequest {
            name: "Elena Vasquez",
            what: "revision 3 of the customer email “Friday & the fix”",
            objector: "Dana Whitfield",
            link: "https://accord.example/rooms/1/escalations/2",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn held_up() {
        let email = HeldUp {
            name: "Dana Whitfield",
            holder: "Sam <Okafor>",
            what: "The customer email “Friday” (revision 2)",
            waited: "for 8 hours",
            link: "https://accord.example/rooms/1/drafts/2",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn stand_in_notice() {
        let email = StandInNotice {
            name: "Elena Vasquez",
            absent: "Sam <Okafor>",
            room_title: "Northwind: capacity",
            until: "Thu 3 Dec, 18:00 CET".into(),
            link: "https://accord.example/rooms/1",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn engagement_notice() {
        let email = EngagementNotice {
            name: "Dana Whitfield",
            change: CalendarChange::New,
            title: "Sam Okafor's call with Jordan Reyes about “Forecast from telemetry”",
            when: "Tue 1 Dec, 15:00 UTC".into(),
            minutes: 30,
            purpose: "Walk Jordan through the forecast prototype",
            questions: vec![
                "Which sites order hardware first? (Jordan Reyes; added by Dana Whitfield)".into(),
                "Who signs off the purchase? (Jordan Reyes; added by Lee Park)".into(),
            ],
            reason: "",
            link: "https://accord.example/rooms/1/engagements/2",
        };
        insta::assert_snapshot!(both(&email));
        let cancelled = EngagementNotice {
            change: CalendarChange::Cancelled,
            reason: "Jordan is travelling; Sam rebooks next week",
            questions: vec![],
            ..email
        };
        insta::assert_snapshot!(both(&cancelled));
    }

    #[test]
    fn sync_agenda() {
        let email = SyncAgenda {
            name: "Sam Okafor",
            room_title: "Capacity monitoring does not say when to order hardware",
            when: "Tue 1 Dec, 15:00 UTC".into(),
            items: vec![
                "“Forecast per cluster” (Product scope), proposed by Ravi Menon".into(),
                "“Telemetry access” (blocked, driven by Dana Whitfield): blocked".into(),
            ],
            link: "https://accord.example/rooms/1/sync",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn weekly_digest() {
        let email = WeeklyDigest {
            name: "Elena Vasquez",
            rooms: vec![DigestRoom {
                title: "Capacity monitoring does not say when to order hardware".into(),
                status: "S2, open".into(),
                changes: 14,
                overdue: vec!["the customer update".into()],
                link: "https://accord.example/rooms/1".into(),
            }],
            more: 3,
            velocity: vec!["Commercial: 5.0 days (1 decided)".into()],
            crowded: 1,
            uncoordinated: 3,
            parallel: 1,
            insights: "https://accord.example/insights",
            dashboard: "https://accord.example/",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn invitation() {
        let email = Invitation {
            name: "Kim O'Neil",
            inviter: "Ada Admin",
            link: "https://accord.example/password/abc",
        };
        insta::assert_snapshot!(both(&email));
    }

    #[test]
    fn a_non_ascii_subject_is_encoded_by_lettre_and_reads_back_whole() {
        let headers = Message::builder()
            .from("Accord <accord@example.com>".parse().unwrap())
            .to("Jördan <jordan@example.com>".parse().unwrap())
            .subject("Rückmeldung: Lieferung „heute“");
        let email = CustomerEmail {
            subject: "",
            body: "Hallo",
        };
        let raw = compose(headers, &email).unwrap().formatted();
        assert!(!raw.iter().any(|b| *b >= 0x80), "the headers are 7-bit");
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Rückmeldung: Lieferung „heute“"));
        assert_eq!(parsed.body_text(0).as_deref(), Some("Hallo"));
    }
}
