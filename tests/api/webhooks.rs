//! Signed webhooks, delivered to a real local HTTP listener: retried until a 2xx, once per
//! success, with the same event id every time, and a signature that verifies with code written
//! here from the Standard Webhooks description.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{Client, Options, TestApp, count, eventually};

/// What the receiver does with each request, in order (the last one repeats).
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// Reads the whole request, then never answers.
    Silence,
}

/// One request as received.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A tiny HTTP/1.1 receiver on a free local port.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Vec<Answer>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/accord", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let request = loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(request) = parse(&buffer) {
                            break request;
                        }
                    };
                    let answer = {
                        let mut log = log.lock().unwrap();
                        log.push(request);
                        script[(log.len() - 1).min(script.len() - 1)]
                    };
                    match answer {
                        Answer::Status(status) => {
                            let reply = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = socket.write_all(reply.as_bytes()).await;
                        }
                        Answer::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        Receiver { url, received }
    }

    fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A whole request (head and `content-length` bytes of body), once it has all arrived.
fn parse(buffer: &[u8]) -> Option<Received> {
    let text = String::from_utf8_lossy(buffer);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    (body.len() >= length).then(|| Received {
        headers,
        body: body[..length].to_owned(),
    })
}

/// Verifies a Standard Webhooks signature, written here from the specification.
fn verifies(secret: &str, request: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        request.body
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    request
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        args: vec!["--outbox-poll-ms".into(), "50".into()],
        ..Options::default()
    })
    .await
}

/// Registers an endpoint as an admin and returns its signing secret (shown once).
async fn register(admin: &Client, url: &str, events: &[&str]) -> String {
    let mut fields = vec![("url", url), ("format", "standard")];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let created = admin.post_form("/admin/webhooks", &fields).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let html = created.text().await.unwrap();
    let start = html
        .find("value=\"whsec_")
        .expect("the secret is shown once")
        + 7;
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_once_more_with_the_same_id_and_a_valid_signature()
 {
    let app = app().await;
    let receiver = Receiver::start(vec![
        Answer::Status(500),
        Answer::Status(503),
        Answer::Status(204),
    ])
    .await;
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let secret = register(&admin.0, &receiver.url, &["room.opened"]).await;
    let team = app.team().await;
    let room = team.open_northwind().await;

    eventually("the first attempt", || async {
        receiver.requests().len() == 1
    })
    .await;
    for expected in [2, 3] {
        // The failure is recorded (with its retry time, from the clock) before the clock moves:
        // moved first, the retry would be scheduled a minute after the moved clock.
        let sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'retrying'";
        eventually("the failure recorded", || async {
            count(&app, sql).await == 1
        })
        .await;
        app.clock.advance(Duration::from_secs(60));
        eventually("the next attempt", || async {
            receiver.requests().len() == expected
        })
        .await;
    }
    eventually("delivered", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'",
        )
        .await
            == 1
    })
    .await;
    // Delivered once: nothing more, however long we wait.
    app.clock.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    let id = requests[0].header("webhook-id");
    assert!(id.starts_with("msg_"));
    for request in &requests {
        assert_eq!(
            request.header("webhook-id"),
            id,
            "the same event id each time"
        );
        assert!(verifies(&secret, request), "the signature verifies");
        assert!(!verifies(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            request
        ));
    }
    let event: Value = serde_json::from_str(&requests[2].body).unwrap();
    assert_eq!(event["type"], "room.opened");
    assert_eq!(event["data"]["room_id"], room);
    assert_eq!(
        event["data"]["room_title"],
        "Capacity monitoring does not say when to order"
    );
    assert!(event["data"].get("email_body").is_none());
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_attempts").await,
        3
    );

    // Administrators see the attempts; nobody else sees the page.
    let (_, page) = admin.0.page("/admin/webhooks").await;
    assert!(page.contains("room.opened") && page.contains("delivered") && page.contains(id));
    assert_eq!(
        team.dana.0.page("/admin/webhooks").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_receiver_that_reads_the_body_and_never_answers_is_retried_with_the_same_event_id() {
    let app = app().await;
    let receiver = Receiver::start(vec![Answer::Silence, Answer::Status(200)]).await;
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    register(&admin.0, &receiver.url, &["room.opened", "send.blocked"]).await;
    let team = app.team().await;
    team.open_northwind().await;
    eventually("the first attempt", || async {
        receiver.requests().len() == 1
    })
    .await;
    // Accord waits ten seconds for an answer before it gives up on the attempt.
    tokio::time::sleep(Duration::from_secs(5)).await;
    eventually("given up waiting for an answer", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'retrying'",
        )
        .await
            == 1
    })
    .await;
    let error = count(
        &app,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE last_error LIKE 'no answer within%'",
    )
    .await;
    assert_eq!(error, 1);
    app.clock.advance(Duration::from_secs(60));
    eventually("delivered on the retry", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'",
        )
        .await
            == 1
    })
    .await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id")
    );
    assert_eq!(requests[0].body, requests[1].body, "the same event");
}

#[tokio::test]
async fn bad_endpoints_are_refused_and_a_disabled_one_gets_nothing() {
    let app = app().await;
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    for (url, event) in [
        ("ftp://hooks.example.com/x", "room.opened"),
        ("not a url", "room.opened"),
        ("https://hooks.example.com/x", "room.deleted"),
    ] {
        let refused = admin
            .0
            .post_form(
                "/admin/webhooks",
                &[("url", url), ("events", event), ("format", "standard")],
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url} {event}"
        );
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );

    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    register(&admin.0, &receiver.url, &["room.opened"]).await;
    let id = count(&app, "SELECT id FROM webhook_endpoints").await;
    let disabled = admin
        .0
        .post_form(&format!("/admin/webhooks/{id}/disabling"), &[])
        .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    app.team().await.open_northwind().await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );
}

#[tokio::test]
async fn customer_email_text_goes_only_to_an_endpoint_that_asked_for_it() {
    let app = app().await;
    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    for bodies in ["yes", "no"] {
        let created = admin
            .0
            .post_form(
                "/admin/webhooks",
                &[
                    ("url", receiver.url.as_str()),
                    ("events", "alignment.requested"),
                    ("format", "standard"),
                    ("include_bodies", bodies),
                ],
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let team = app.team().await;
    app.room_with_draft(&team).await;
    eventually("both delivered", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'",
        )
        .await
            == 2
    })
    .await;
    let with_text = receiver
        .requests()
        .iter()
        .filter(|r| {
            r.body
                .contains("We will show you the 90-day forecast on Friday.")
        })
        .count();
    assert_eq!(
        with_text, 1,
        "only the endpoint that opted in gets the text"
    );
}
