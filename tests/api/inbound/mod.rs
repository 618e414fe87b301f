//! The customer's side of the conversation: replies coming back through the HTTP door, the pipe
//! and a real IMAP server, matched to the right room (or held for an admin), filed exactly once.

mod admin;
mod corpus;
mod http;
mod imap;
mod room;

use reqwest::StatusCode;

use crate::helpers::{JORDAN, Options, Team, TestApp, count};
use crate::smtp::{Received, SmtpSink};

pub const SECRET: &str = "inbound-test-secret-0123456789";
pub const INBOUND: &str = "escalations@accord.example";

/// Settings that turn inbound mail on (the reply address and the HTTP door), plus `more`.
pub fn inbound_args(more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--inbound-address", INBOUND, "--inbound-secret", SECRET]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

/// A server with inbound mail on.
pub async fn spawn_inbound(more: &[&str]) -> TestApp {
    let options = Options {
        args: inbound_args(more),
        ..Options::default()
    };
    TestApp::spawn_with_smtp(SmtpSink::start().await, options).await
}

/// The Northwind room with one email sent to Jordan (both PMs aligned). Returns the team, the
/// room and the email as the customer received it.
pub async fn sent_to_jordan(app: &TestApp) -> (Team, i64, Received) {
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let sent = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let email = app.smtp.wait_for_to(JORDAN, 1).await.remove(0);
    (team, room, email)
}

/// A message as a customer's mail client writes it.
pub struct Mail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: Option<&'a str>,
    pub extra_headers: &'a str,
    pub body: &'a str,
}

impl Default for Mail<'_> {
    fn default() -> Self {
        Mail {
            from: "Jordan Reyes <jordan@northwind.example>",
            to: INBOUND,
            subject: "Re: Your capacity forecast: next steps",
            message_id: "<reply-1@mail.northwind.example>",
            in_reply_to: None,
            references: None,
            extra_headers: "",
            body: "Friday works for us.\r\n\r\nJordan\r\n\r\nOn Mon, Sam wrote:\r\n> We will show you the 90-day forecast on Friday.\r\n",
        }
    }
}

impl Mail<'_> {
    pub fn raw(&self) -> String {
        let mut headers = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: {}\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n",
            self.from, self.to, self.subject, self.message_id
        );
        if let Some(id) = self.in_reply_to {
            headers.push_str(&format!("In-Reply-To: {id}\r\n"));
        }
        if let Some(ids) = self.references {
            headers.push_str(&format!("References: {ids}\r\n"));
        }
        headers.push_str(self.extra_headers);
        format!("{headers}\r\n{}", self.body)
    }
}

/// Posts one raw message to the HTTP door with the right secret.
pub async fn post_message(app: &TestApp, raw: impl Into<reqwest::Body>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/inbound/messages", app.address))
        .header("Content-Type", "message/rfc822")
        .bearer_auth(SECRET)
        .body(raw)
        .send()
        .await
        .unwrap()
}

/// Posts and expects 202 with `outcome`; returns the message id.
pub async fn filed(app: &TestApp, raw: String, outcome: &str) -> i64 {
    let response = post_message(app, raw).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["outcome"], outcome, "{body}");
    body["id"].as_i64().unwrap()
}

/// The room a message was filed in (`None`: not in a room).
pub async fn room_of(app: &TestApp, message: i64) -> Option<i64> {
    let db = app.db().await;
    let room: Option<i64> =
        sqlx::query_scalar("SELECT room_id FROM inbound_messages WHERE id = $1")
            .bind(message)
            .fetch_one(db.reader())
            .await
            .unwrap();
    db.close().await;
    room
}

/// How many internal notifications the outbox holds.
pub async fn notifications(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'notification'",
    )
    .await
}
