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
        let raw = tokio::fs::read_to_string(dir.join(&file)).await?;
        messages.push(LocalMessage {
            to: header(&raw, "To"),
            subject: header(&raw, "Subject"),
            date: header(&raw, "Date"),
            file,
        });
    }
    Ok(messages)
}

/// The value of a header in a raw message (unfolded; encoded words are left as they are).
fn header(raw: &str, name: &str) -> String {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.eq_ignore_ascii_case(name) {
            let mut value = value.trim().to_owned();
            while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
            }
            return value;
        }
    }
    String::new()
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
    fn headers_are_found_case_insensitively_and_unfolded() {
        let raw = "From: a@b.c\r\nsubject: Hello\r\n there\r\nTo: x@y.z\r\n\r\nSubject: body";
        assert_eq!(header(raw, "Subject"), "Hello there");
        assert_eq!(header(raw, "To"), "x@y.z");
        assert_eq!(header(raw, "Cc"), "");
    }

    #[test]
    fn only_plain_eml_names_are_served() {
        assert!(is_message_file("0b6f-11aa.eml"));
        assert!(!is_message_file("../accord.db"));
        assert!(!is_message_file("x.eml.json"));
        assert!(!is_message_file(".eml"));
    }
}
