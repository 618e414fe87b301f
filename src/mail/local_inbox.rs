//! `/admin/mail`: the outbox with each message's delivery state, and what the local transport
//! wrote, so a newcomer without SMTP sees what Accord would have sent. Admins only.

use std::path::Path as FsPath;
use std::time::SystemTime;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::AppState;
use crate::accounts::AdminUser;
use crate::error::AppError;
use crate::outbox::model::{self as outbox, Entry};
use crate::web::filters;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(index))
        .route("/admin/mail/{file}", get(show))
}

/// A summary of one written message.
struct LocalMessage {
    file: String,
    to: String,
    subject: String,
    date: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail.html")]
struct MailPage {
    page: Page,
    mail_mode: String,
    outbox: Vec<Entry>,
    messages: Vec<LocalMessage>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/mail_message.html")]
struct MessagePage {
    page: Page,
    file: String,
    raw: String,
}

const SHOWN: usize = 200;

async fn index(
    State(state): State<AppState>,
    _admin: AdminUser,
    page: Page,
) -> Result<MailPage, AppError> {
    let messages = match state.mailer.local_dir() {
        Some(dir) => read_messages(dir).await?,
        None => Vec::new(),
    };
    let mut conn = state.db.reader().acquire().await?;
    Ok(MailPage {
        page,
        mail_mode: state.mailer.describe(),
        outbox: outbox::recent(&mut conn, SHOWN as i64).await?,
        messages,
    })
}

async fn read_messages(dir: &FsPath) -> anyhow::Result<Vec<LocalMessage>> {
    let mut found: Vec<(SystemTime, String)> = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_message_file(&name) {
            let modified = entry.metadata().await?.modified()?;
            found.push((modified, name));
        }
    }
    found.sort_by(|a, b| b.cmp(a));
    let mut messages = Vec::new();
    for (_, file) in found.into_iter().take(SHOWN) {
        let raw = tokio::fs::read(dir.join(&file)).await?;
        messages.push(LocalMessage::parse(&raw, file));
    }
    Ok(messages)
}

impl LocalMessage {
    /// The listed headers of a raw message, decoded (RFC 2047 encoded words, folded lines).
    fn parse(raw: &[u8], file: String) -> LocalMessage {
        let parsed = mail_parser::MessageParser::default().parse_headers(raw);
        let recipients = parsed.as_ref().and_then(|m| m.to()).map(|to| {
            to.iter()
                .map(|a| match (a.name(), a.address()) {
                    (Some(name), Some(address)) => format!("{name} <{address}>"),
                    (_, address) => address.unwrap_or_default().to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let subject = parsed.as_ref().and_then(|m| m.subject());
        let date = parsed
            .as_ref()
            .and_then(|m| m.date())
            .map(|d| d.to_rfc822());
        LocalMessage {
            to: recipients.unwrap_or_default(),
            subject: subject.unwrap_or_default().to_owned(),
            date: date.unwrap_or_default(),
            file,
        }
    }
}

fn is_message_file(name: &str) -> bool {
    name.strip_suffix(".eml").is_some_and(|stem| {
        !stem.is_empty() && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

async fn show(
    State(state): State<AppState>,
    _admin: AdminUser,
    page: Page,
    Path(file): Path<String>,
) -> Result<MessagePage, AppError> {
    let dir = state.mailer.local_dir().ok_or(AppError::NotFound)?;
    if !is_message_file(&file) {
        return Err(AppError::NotFound);
    }
    let raw = tokio::fs::read_to_string(dir.join(&file))
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(MessagePage { page, file, raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_decoded_unfolded_and_found_case_insensitively() {
        let raw = "From: a@b.c\r\n\
                   subject: =?utf-8?q?R=C3=BCckmeldung?=\r\n zu Lieferung\r\n\
                   To: \"Jordan Reyes\" <x@y.z>\r\n\r\n\
                   Subject: body";
        let message = LocalMessage::parse(raw.as_bytes(), "m.eml".into());
        assert_eq!(message.subject, "Rückmeldung zu Lieferung");
        assert_eq!(message.to, "Jordan Reyes <x@y.z>");
    }

    #[test]
    fn only_plain_eml_names_are_served() {
        assert!(is_message_file("0b6f-11aa.eml"));
        assert!(!is_message_file("../accord.db"));
        assert!(!is_message_file("x.eml.json"));
        assert!(!is_message_file(".eml"));
    }
}
