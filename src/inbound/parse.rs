//! Reading one raw message into the fields Accord files: who wrote it, what it answers, its text
//! (HTML-only mail turned into plain text), its attachments, and whether it is an auto-reply or a
//! delivery report. Parsing is `mail-parser`'s; this module only decides what to keep and where
//! the limits are.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};

/// Parts beyond this make a message unparsable (a MIME bomb is thousands of empty parts).
const MAX_PARTS: usize = 1_000;
/// Attachments kept per message; a message with more is unparsable.
const MAX_ATTACHMENTS: usize = 100;
/// The header block (before the first empty line) may not be larger than this.
const MAX_HEADER_BYTES: usize = 256 * 1024;
/// Text kept from the body (the raw message always stays whole).
const MAX_TEXT_CHARS: usize = 200_000;
/// Message-IDs kept from `References`.
const MAX_REFERENCES: usize = 100;

/// A message as Accord files it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// `<id>` with angle brackets, as Accord stores the ones it sends; empty when missing.
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from_address: String,
    pub from_name: String,
    /// Every address the message was sent to (To, Cc, Delivered-To, X-Original-To), lower case.
    pub recipients: Vec<String>,
    pub subject: String,
    /// When the sender says they wrote it (the `Date` header), epoch milliseconds.
    pub written_at: Option<i64>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub auto_reply: bool,
    /// Set when the message is a delivery status notification (a bounce).
    pub bounce: Option<Bounce>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A delivery report: which of our messages failed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-ID of the message that could not be delivered, `<id>`, if the report names it.
    pub original_message_id: Option<String>,
    pub failed: bool,
    pub reason: String,
}

/// Why a message cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unparsable {
    Empty,
    NoHeaders,
    HeadersTooLarge,
    TooManyParts(usize),
    TooManyAttachments(usize),
}

impl std::fmt::Display for Unparsable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unparsable::Empty => write!(f, "the message is empty"),
            Unparsable::NoHeaders => write!(f, "no mail headers were found"),
            Unparsable::HeadersTooLarge => {
                write!(
                    f,
                    "the headers are larger than {} KiB",
                    MAX_HEADER_BYTES / 1024
                )
            }
            Unparsable::TooManyParts(n) => {
                write!(f, "{n} MIME parts (at most {MAX_PARTS} are read)")
            }
            Unparsable::TooManyAttachments(n) => {
                write!(f, "{n} attachments (at most {MAX_ATTACHMENTS} are kept)")
            }
        }
    }
}

/// The key that makes filing idempotent: the Message-ID, or a digest of the bytes without one.
pub fn dedupe_key(message_id: &str, raw: &[u8]) -> String {
    if message_id.is_empty() {
        format!("sha256:{}", crate::secrets::digest_bytes(raw))
    } else {
        message_id.to_owned()
    }
}

/// `<id>` for an id mail-parser returns without brackets (or with them, from a raw header).
pub fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

fn header_block_len(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => raw.len(),
    }
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![bracketed(&clean(id))],
        HeaderValue::TextList(list) => list.iter().map(|id| bracketed(&clean(id))).collect(),
        _ => Vec::new(),
    }
}

/// Text as Accord stores it: no NUL or other control characters (PostgreSQL refuses NUL in text,
/// and no page should carry terminal escapes), line breaks and tabs kept.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}\n[…]", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Reads `raw` (size limits are the caller's: the whole message is checked before this).
pub fn parse(raw: &[u8]) -> Result<Parsed, Unparsable> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Unparsable::Empty);
    }
    if header_block_len(raw) > MAX_HEADER_BYTES {
        return Err(Unparsable::HeadersTooLarge);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unparsable::NoHeaders)?;
    if message.headers().is_empty() || message.from().is_none() && message.message_id().is_none() {
        return Err(Unparsable::NoHeaders);
    }
    if message.parts.len() > MAX_PARTS {
        return Err(Unparsable::TooManyParts(message.parts.len()));
    }
    if message.attachment_count() > MAX_ATTACHMENTS {
        return Err(Unparsable::TooManyAttachments(message.attachment_count()));
    }
    let from = message.from().and_then(|a| a.first());
    let mut recipients: Vec<String> = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_lowercase)
        .collect();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        for value in message.header_values(name) {
            if let Some(text) = value.as_text() {
                recipients.push(clean(text.trim().trim_matches(['<', '>'])).to_lowercase());
            }
        }
    }
    let bounce = bounce_of(&message);
    let text = match message.body_text(0) {
        Some(text) if bounce.is_none() => text.into_owned(),
        _ => message
            .text_bodies()
            .filter_map(|p| p.text_contents())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let attachments = message
        .attachments()
        .filter(|part| !matches!(part.body, PartType::Message(_)) || bounce.is_none())
        .map(|part| Attachment {
            filename: part
                .attachment_name()
                .map(|name| clean_filename(&clean(name)))
                .unwrap_or_else(|| "attachment".to_owned()),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_owned())
                .to_lowercase(),
            content: part.contents().to_vec(),
        })
        .collect();
    Ok(Parsed {
        message_id: message
            .message_id()
            .map(|id| bracketed(&clean(id)))
            .unwrap_or_default(),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references())
            .into_iter()
            .rev()
            .take(MAX_REFERENCES)
            .rev()
            .collect(),
        from_address: clean(from.and_then(|a| a.address()).unwrap_or_default())
            .trim()
            .to_lowercase(),
        from_name: clean(from.and_then(|a| a.name()).unwrap_or_default())
            .trim()
            .to_owned(),
        recipients,
        subject: clean(message.subject().unwrap_or_default())
            .trim()
            .to_owned(),
        written_at: message.date().map(|d| d.to_timestamp() * 1000),
        text: truncate_chars(
            clean(&text.replace("\r\n", "\n")).trim_end(),
            MAX_TEXT_CHARS,
        ),
        attachments,
        auto_reply: is_auto_reply(&message),
        bounce,
    })
}

/// A name safe to offer for download: no path, no control characters, not empty.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    match clean.trim() {
        "" | "." | ".." => "attachment".to_owned(),
        name => name.to_owned(),
    }
}

/// RFC 3834's `Auto-Submitted`, and the headers out-of-office responders use instead.
fn is_auto_reply(message: &mail_parser::Message<'_>) -> bool {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    header("Auto-Submitted").is_some_and(|v| v != "no")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("Precedence")
            .is_some_and(|v| matches!(v.as_str(), "auto_reply" | "bulk" | "junk"))
        || header("X-MS-Exchange-Generated-Message-Source").is_some()
}

/// A `multipart/report; report-type=delivery-status` message (RFC 3464): the failed message's
/// id from the returned headers, and the action and diagnostic from the status part.
fn bounce_of(message: &mail_parser::Message<'_>) -> Option<Bounce> {
    let root = message.root_part().content_type()?;
    let is_report = root.ctype().eq_ignore_ascii_case("multipart")
        && root
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && root
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut bounce = Bounce {
        original_message_id: None,
        failed: false,
        reason: String::new(),
    };
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let subtype = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        match (ct.ctype().to_ascii_lowercase().as_str(), subtype.as_str()) {
            ("message", "delivery-status") | ("message", "global-delivery-status") => {
                let status = String::from_utf8_lossy(part.contents()).into_owned();
                for line in status.lines() {
                    let Some((name, value)) = line.split_once(':') else {
                        continue;
                    };
                    let value = value.trim();
                    match name.trim().to_ascii_lowercase().as_str() {
                        "action" if value.eq_ignore_ascii_case("failed") => bounce.failed = true,
                        "diagnostic-code" | "status" if bounce.reason.is_empty() => {
                            bounce.reason = value.chars().take(300).collect();
                        }
                        "diagnostic-code" => {
                            bounce.reason = value.chars().take(300).collect();
                        }
                        _ => {}
                    }
                }
            }
            ("message", "rfc822") | ("text", "rfc822-headers") | ("message", "rfc822-headers") => {
                let id = match &part.body {
                    PartType::Message(returned) => returned.message_id().map(bracketed),
                    _ => MessageParser::default()
                        .parse_headers(part.contents())
                        .and_then(|h| h.message_id().map(bracketed)),
                };
                bounce.original_message_id = bounce.original_message_id.or(id);
            }
            _ => {}
        }
    }
    Some(bounce)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "From: Jordan Reyes <Jordan@Northwind.example>\r\n\
To: escalations+abc@accord.example\r\n\
Subject: Re: Route planning\r\n\
Message-ID: <reply-1@northwind.example>\r\n\
In-Reply-To: <sent-2@accord.example>\r\n\
References: <sent-1@accord.example> <sent-2@accord.example>\r\n\
Date: Tue, 1 Dec 2026 09:00:00 +0000\r\n\
\r\n\
Friday works.\r\n\
\r\n\
On Mon, Sam wrote:\r\n\
> The fix ships Friday.\r\n";

    #[test]
    fn a_reply_is_read_into_its_fields() {
        let parsed = parse(REPLY.as_bytes()).unwrap();
        assert_eq!(parsed.message_id, "<reply-1@northwind.example>");
        assert_eq!(parsed.in_reply_to, ["<sent-2@accord.example>"]);
        assert_eq!(
            parsed.references,
            ["<sent-1@accord.example>", "<sent-2@accord.example>"]
        );
        assert_eq!(parsed.from_address, "jordan@northwind.example");
        assert_eq!(parsed.from_name, "Jordan Reyes");
        assert_eq!(parsed.recipients, ["escalations+abc@accord.example"]);
        assert_eq!(parsed.subject, "Re: Route planning");
        assert_eq!(parsed.written_at, Some(1_796_115_600_000));
        assert!(parsed.text.starts_with("Friday works."));
        assert!(!parsed.auto_reply && parsed.bounce.is_none());
    }

    #[test]
    fn html_only_mail_becomes_text_without_its_script() {
        let raw = "From: a@b.example\r\nMessage-ID: <h@b>\r\nContent-Type: text/html\r\n\r\n\
<p>Hello <b>there</b></p><script>alert(1)</script>";
        let parsed = parse(raw.as_bytes()).unwrap();
        assert!(parsed.text.contains("Hello"), "{}", parsed.text);
        assert!(!parsed.text.contains("<script"), "{}", parsed.text);
    }

    #[test]
    fn out_of_office_replies_are_recognised() {
        for header in [
            "Auto-Submitted: auto-replied",
            "X-Autoreply: yes",
            "Precedence: auto_reply",
        ] {
            let raw = format!("From: a@b.example\r\nMessage-ID: <o@b>\r\n{header}\r\n\r\nAway.");
            assert!(parse(raw.as_bytes()).unwrap().auto_reply, "{header}");
        }
        let raw = "From: a@b.example\r\nMessage-ID: <o@b>\r\nAuto-Submitted: no\r\n\r\nHi";
        assert!(!parse(raw.as_bytes()).unwrap().auto_reply);
    }

    #[test]
    fn a_delivery_report_names_the_failed_message_and_why() {
        let raw = "From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\n\
Message-ID: <dsn-1@relay.example>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
--B\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; relay.example\r\n\r\n\
Final-Recipient: rfc822; jordan@northwind.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n\
--B\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: Sam <accord@accord.example>\r\nMessage-ID: <sent-2@accord.example>\r\nSubject: Route planning\r\n\
--B--\r\n";
        let bounce = parse(raw.as_bytes()).unwrap().bounce.unwrap();
        assert_eq!(
            bounce.original_message_id.as_deref(),
            Some("<sent-2@accord.example>")
        );
        assert!(bounce.failed);
        assert_eq!(bounce.reason, "smtp; 550 5.1.1 mailbox unknown");
    }

    #[test]
    fn hostile_shapes_are_refused_with_a_reason() {
        assert_eq!(parse(b"  \r\n"), Err(Unparsable::Empty));
        let huge = format!("From: a@b\r\nX-Big: {}\r\n\r\nhi", "a".repeat(300 * 1024));
        assert_eq!(parse(huge.as_bytes()), Err(Unparsable::HeadersTooLarge));
        let mut bomb = String::from(
            "From: a@b\r\nMessage-ID: <m@b>\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n",
        );
        for _ in 0..1_200 {
            bomb.push_str("--x\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        bomb.push_str("--x--\r\n");
        assert!(matches!(
            parse(bomb.as_bytes()),
            Err(Unparsable::TooManyParts(_))
        ));
    }

    #[test]
    fn stored_text_has_no_control_characters() {
        assert_eq!(clean("a\u{0}b\u{1b}[2Jc\n\td\r"), "ab[2Jc\n\td");
        let raw = "From: a@b.example\r\nMessage-ID: <n@b>\r\nSubject: x\u{0}y\r\nContent-Type: text/html\r\n\r\n&#0;text&#x1b;";
        let parsed = parse(raw.as_bytes()).unwrap();
        assert!(!parsed.text.contains('\u{0}') && !parsed.subject.contains('\u{0}'));
    }

    #[test]
    fn attachment_names_lose_their_paths() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_filename(".."), "attachment");
        assert_eq!(clean_filename("a\"b\n.txt"), "ab.txt");
    }

    #[test]
    fn the_dedupe_key_is_the_message_id_or_a_digest() {
        assert_eq!(dedupe_key("<a@b>", b"x"), "<a@b>");
        let key = dedupe_key("", b"x");
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64);
        assert_eq!(bracketed("a@b"), "<a@b>");
        assert_eq!(bracketed(" <a@b> "), "<a@b>");
    }
}
