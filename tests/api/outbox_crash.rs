//! The outbox under crashes and several instances: the real binary killed with SIGKILL at each
//! step of a delivery and restarted, and two instances sharing one queue.

use std::process::{Child, Command, Stdio};

use accord::outbox::model::{self as outbox, MessageKind, Outgoing};
use lettre::message::header::ContentType;
use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, TestData, count, eventually, free_port};

const JORDAN: &str = "jordan@northwind.example";

/// Starts the release-like binary on `data`, optionally paused at an outbox step.
async fn start(data: &TestData, smtp_url: &str, pause_at: Option<&str>) -> (Child, String) {
    let mut args = vec!["serve".to_owned()];
    if let Some(step) = pause_at {
        args.extend(["--fault-pause-outbox-at".into(), step.into()]);
    }
    start_with(&data.database_url, data.dir.path(), smtp_url, &args).await
}

/// Starts the binary on a database with these command-line arguments.
async fn start_with(
    database_url: &str,
    data_dir: &std::path::Path,
    smtp_url: &str,
    args: &[String],
) -> (Child, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_accord"));
    command
        .env("ACCORD_DATA_DIR", data_dir)
        .env("ACCORD_DATABASE_URL", database_url)
        .env("ACCORD_BIND", format!("127.0.0.1:{port}"))
        .env("ACCORD_BASE_URL", &base)
        .env("ACCORD_SMTP_URL", smtp_url)
        .env("ACCORD_SMTP_TIMEOUT_SECS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .args(args);
    let child = command.spawn().unwrap();
    let http = reqwest::Client::new();
    eventually("the binary to serve", || {
        let http = http.clone();
        let url = format!("{base}/healthz");
        async move {
            http.get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        }
    })
    .await;
    (child, base)
}

fn kill_hard(child: &mut Child) {
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

async fn outbox_state(app: &TestApp) -> String {
    let db = app.db().await;
    let state: String = sqlx::query_scalar("SELECT state FROM outbox WHERE kind = 'customer'")
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    state
}

/// A room whose draft every PM aligned on, then the in-process server stopped. Returns the app
/// (stopped), Sam's client and the paths to send.
async fn aligned_draft_then_stop() -> (TestApp, Client, i64, i64) {
    let mut app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = count(
        &app,
        &format!("SELECT id FROM contacts WHERE email = '{JORDAN}'"),
    )
    .await
    .to_string();
    let fields = [
        ("to", jordan.as_str()),
        ("subject", "Forecast next steps"),
        ("body", "Hello Jordan,\n\nFriday.\n\nSam"),
    ];
    team.sam
        .0
        .post_form(&format!("/rooms/{room}/drafts"), &fields)
        .await;
    let draft = count(&app, "SELECT MAX(id) FROM drafts").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/approval"),
            &[("revision", "1")],
        )
        .await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.stop().await;
    let sam = Client {
        http: team.sam.0.http.clone(),
        base: String::new(),
    };
    (app, sam, room, draft)
}

async fn send_through(sam: &Client, base: &str, room: i64, draft: i64) {
    let sam = Client {
        http: sam.http.clone(),
        base: base.to_owned(),
    };
    let response = sam
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/delivery"),
            &[("revision", "1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn killed_while_the_message_is_queued_it_is_delivered_once_after_restart() {
    let (app, sam, room, draft) = aligned_draft_then_stop().await;
    let (mut paused, base) = start(&app.data, &app.smtp.url(), Some("before_claim")).await;
    send_through(&sam, &base, room, draft).await;
    assert_eq!(outbox_state(&app).await, "queued");
    kill_hard(&mut paused);

    let (mut restarted, _) = start(&app.data, &app.smtp.url(), None).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    eventually("the delivery to be recorded", || async {
        outbox_state(&app).await == "sent"
    })
    .await;
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
    kill_hard(&mut restarted);
}

#[tokio::test]
async fn killed_before_the_handing_over_mark_it_is_sent_again_automatically_and_arrives_once() {
    let (app, sam, room, draft) = aligned_draft_then_stop().await;
    let (mut paused, base) = start(&app.data, &app.smtp.url(), Some("claimed")).await;
    send_through(&sam, &base, room, draft).await;
    eventually("the claim", || async {
        outbox_state(&app).await == "sending"
    })
    .await;
    kill_hard(&mut paused);
    assert!(app.smtp.messages_to(JORDAN).is_empty());

    let (mut restarted, _) = start(&app.data, &app.smtp.url(), None).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    eventually("the delivery to be recorded", || async {
        outbox_state(&app).await == "sent"
    })
    .await;
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE kind = 'drafts.delivery_unknown'"
        )
        .await,
        0,
        "a message that was never handed over is not called unknown"
    );
    kill_hard(&mut restarted);
}

#[tokio::test]
async fn killed_after_the_handing_over_mark_the_delivery_is_unknown_and_a_person_decides() {
    let (app, sam, room, draft) = aligned_draft_then_stop().await;
    let (mut paused, base) = start(&app.data, &app.smtp.url(), Some("handed_over")).await;
    send_through(&sam, &base, room, draft).await;
    eventually("the handing-over mark", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'customer' AND handed_over_at IS NOT NULL",
        )
        .await
            == 1
    })
    .await;
    kill_hard(&mut paused);

    let (mut restarted, base) = start(&app.data, &app.smtp.url(), None).await;
    eventually("delivery unknown after the restart", || async {
        outbox_state(&app).await == "unknown"
    })
    .await;
    assert!(
        app.smtp.messages_to(JORDAN).is_empty(),
        "nothing is sent again without a person deciding"
    );

    let sam = Client {
        http: sam.http.clone(),
        base,
    };
    let outbox_id = count(&app, "SELECT id FROM outbox WHERE kind = 'customer'").await;
    let (_, page) = sam.page(&format!("/rooms/{room}/drafts/{draft}")).await;
    assert!(page.contains("Delivery unknown"));
    assert!(
        page.contains("while giving this message to the mail server"),
        "{page}"
    );
    sam.post_form(
        &format!("/rooms/{room}/outbox/{outbox_id}/resolution"),
        &[("decision", "resend")],
    )
    .await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    eventually("the resend to be recorded", || async {
        outbox_state(&app).await == "sent"
    })
    .await;
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
    kill_hard(&mut restarted);
}

#[tokio::test]
async fn killed_after_the_server_accepted_the_message_it_is_unknown_and_never_sent_twice() {
    let (app, sam, room, draft) = aligned_draft_then_stop().await;
    let (mut paused, base) = start(&app.data, &app.smtp.url(), Some("replied")).await;
    send_through(&sam, &base, room, draft).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    kill_hard(&mut paused);
    assert_eq!(outbox_state(&app).await, "sending");

    let (mut restarted, base) = start(&app.data, &app.smtp.url(), None).await;
    eventually("delivery unknown after the restart", || async {
        outbox_state(&app).await == "unknown"
    })
    .await;
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
    let sam = Client {
        http: sam.http.clone(),
        base,
    };
    let outbox_id = count(&app, "SELECT id FROM outbox WHERE kind = 'customer'").await;
    sam.post_form(
        &format!("/rooms/{room}/outbox/{outbox_id}/resolution"),
        &[("decision", "delivered")],
    )
    .await;
    assert_eq!(outbox_state(&app).await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
    kill_hard(&mut restarted);
}

#[tokio::test]
async fn two_instances_deliver_a_thousand_queued_messages_exactly_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let db = app.db().await;
    let mut tx = db.begin_write().await.unwrap();
    for n in 0..1000 {
        let message = lettre::Message::builder()
            .from(app.config.mail_from.clone())
            .to(format!("person{n}@example.com").parse().unwrap())
            .subject(format!("Message {n}"))
            .message_id(Some(accord::mail::message_id(&app.config)))
            .header(ContentType::TEXT_PLAIN)
            .body(format!("Body {n}"))
            .unwrap();
        let outgoing = Outgoing {
            kind: MessageKind::Notification,
            room_id: None,
            draft_id: None,
            sender_id: None,
            contact_ids: vec![],
            message,
        };
        outbox::enqueue(&mut tx, db.backend(), &outgoing, app.clock.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    app.state.outbox.wake();
    other.state.outbox.wake();

    let received = app.smtp.wait_for(1000).await;
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "every message once");
    eventually("every row marked sent", || async {
        count(&app, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await == 1000
    })
    .await;
    assert_eq!(app.smtp.messages().len(), 1000, "nothing twice");
}

#[tokio::test]
async fn a_claim_by_another_instance_shows_on_a_room_page_this_instance_already_served() {
    let (app, sam, room, draft) = aligned_draft_then_stop().await;
    // This instance never claims; the other one claims and stops there.
    let (mut serving, base) = start(&app.data, &app.smtp.url(), Some("before_claim")).await;
    send_through(&sam, &base, room, draft).await;
    let sam = Client {
        http: sam.http.clone(),
        base,
    };
    let (_, queued) = sam.page(&format!("/rooms/{room}")).await;
    assert!(queued.contains(">Queued<"), "{queued}");

    let (mut claiming, _) = start(&app.data, &app.smtp.url(), Some("claimed")).await;
    eventually("the claim", || async {
        outbox_state(&app).await == "sending"
    })
    .await;
    let (_, sending) = sam.page(&format!("/rooms/{room}")).await;
    assert!(sending.contains(">Sending<"), "{sending}");
    kill_hard(&mut claiming);
    kill_hard(&mut serving);
    // Killed mid-claim on purpose: the row stays `sending` until a lease expires.
    app.expect_undelivered_mail();
}

/// Queues an invitation (a kind a person resolves when its delivery is unknown) straight into
/// the outbox, as another instance would; returns its id.
async fn queue_invitation(database_url: &str, app: &TestApp, to: &str) -> i64 {
    let db = accord::db::Db::connect(database_url).await.unwrap();
    let message = lettre::Message::builder()
        .from(app.config.mail_from.clone())
        .to(to.parse().unwrap())
        .subject("You are invited to Accord")
        .message_id(Some(accord::mail::message_id(&app.config)))
        .header(ContentType::TEXT_PLAIN)
        .body("Set your password.".to_owned())
        .unwrap();
    let outgoing = Outgoing {
        kind: MessageKind::Invitation,
        ..Outgoing::notification(message)
    };
    let mut tx = db.begin_write().await.unwrap();
    let id = outbox::enqueue(&mut tx, db.backend(), &outgoing, app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    id
}

async fn state_of(app: &TestApp, id: i64) -> String {
    let db = app.db().await;
    let state: String = sqlx::query_scalar("SELECT state FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    state
}

/// Waits (at most `seconds`) for a row to reach `state`: for what another process decides after
/// its lease runs out.
async fn until_state(app: &TestApp, id: i64, state: &str, seconds: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while state_of(app, id).await != state {
        assert!(
            tokio::time::Instant::now() < deadline,
            "message {id} never became {state}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A fresh database and SMTP listener with the in-process server stopped, for binaries to share:
/// the app, the database URL, the data folder and the SMTP URL.
async fn stopped_app() -> (TestApp, String, std::path::PathBuf, String) {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let url = app.data.database_url.clone();
    let dir = app.data.dir.path().to_owned();
    let smtp = app.smtp.url();
    (app, url, dir, smtp)
}

#[tokio::test]
async fn two_instances_one_killed_mid_delivery_the_survivor_retries_or_marks_unknown_by_phase() {
    let (app, url, dir, smtp) = stopped_app().await;
    // The lease is the reply timeout (2 s here, set by `start_with`) plus 5 s.
    let paused_at = |step: &str| {
        ["serve", "--fault-pause-outbox-at", step]
            .map(String::from)
            .to_vec()
    };
    let args = vec!["serve".to_owned()];

    // Killed after claiming, before the handing-over mark, while another instance runs.
    let (mut claimed, _) = start_with(&url, &dir, &smtp, &paused_at("claimed")).await;
    let never_handed = queue_invitation(&url, &app, "first@example.com").await;
    eventually("the first claim", || async {
        state_of(&app, never_handed).await == "sending"
    })
    .await;
    let (mut survivor, _) = start_with(&url, &dir, &smtp, &args).await;
    kill_hard(&mut claimed);
    until_state(&app, never_handed, "sent", 60).await;
    assert_eq!(
        app.smtp.messages_to("first@example.com").len(),
        1,
        "retried, delivered once"
    );
    kill_hard(&mut survivor);

    // Killed after the mark, while another instance runs.
    let (mut handing, _) = start_with(&url, &dir, &smtp, &paused_at("handed_over")).await;
    let handed = queue_invitation(&url, &app, "second@example.com").await;
    eventually("the handing-over mark", || async {
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE id = {handed} AND handed_over_at IS NOT NULL"
            ),
        )
        .await
            == 1
    })
    .await;
    let (mut survivor, _) = start_with(&url, &dir, &smtp, &args).await;
    kill_hard(&mut handing);
    until_state(&app, handed, "unknown", 60).await;
    assert!(
        app.smtp.messages_to("second@example.com").is_empty(),
        "never sent again by itself"
    );
    kill_hard(&mut survivor);
}

#[tokio::test]
async fn after_a_postgresql_restart_a_queued_message_wakes_the_worker_through_listen_at_once() {
    if std::env::var_os("ACCORD_TEST_POSTGRES_URL").is_none() {
        return; // a PostgreSQL-only behaviour, run in the PostgreSQL pass
    }
    let server = crate::helpers::PrivatePostgres::start();
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let url = server.url();
    // The worker polls once a minute: only LISTEN/NOTIFY can deliver within the test.
    let args = ["serve", "--outbox-poll-ms", "60000"].map(String::from);
    let (mut worker, _) = start_with(&url, app.data.dir.path(), &app.smtp.url(), &args).await;
    server.restart();
    eventually("the LISTEN connection to be back", || async {
        let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await else {
            return false;
        };
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%accord_outbox%'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
        sqlx::Connection::close(conn).await.ok();
        listening == 1
    })
    .await;
    queue_invitation(&url, &app, "after-restart@example.com").await;
    app.smtp.wait_for_to("after-restart@example.com", 1).await;
    kill_hard(&mut worker);
}

#[tokio::test]
async fn a_delivery_slower_than_its_lease_keeps_the_claim_and_is_sent_once() {
    let (app, url, dir, smtp) = stopped_app().await;
    // The lease is the 2 s reply timeout plus 5 s; EHLO, MAIL, RCPT and DATA at 2.5 s each take
    // 10 s. Only renewing the lease keeps the claim (an expired one would be claimed again).
    app.smtp.set_delay(std::time::Duration::from_millis(2500));
    app.smtp.set_mode(crate::smtp::Mode::SlowCommands);
    let id = queue_invitation(&url, &app, "patient@example.com").await;
    let args = ["serve", "--smtp-command-timeout-secs", "10"].map(String::from);
    let (mut worker, _) = start_with(&url, &dir, &smtp, &args).await;
    until_state(&app, id, "sent", 40).await;
    assert_eq!(
        count(
            &app,
            &format!("SELECT attempts FROM outbox WHERE id = {id}")
        )
        .await,
        1,
        "claimed once"
    );
    assert_eq!(app.smtp.messages_to("patient@example.com").len(), 1);
    kill_hard(&mut worker);
}
