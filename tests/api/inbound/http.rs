//! The HTTP door and the pipe: who may post, what they get back, and idempotence.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use super::{INBOUND, Mail, SECRET, filed, post_message, room_of, sent_to_jordan, spawn_inbound};
use crate::helpers::{TestApp, count};

#[tokio::test]
async fn the_door_answers_each_kind_of_request_clearly() {
    let app = spawn_inbound(&["--inbound-max-bytes", "4096"]).await;
    let url = format!("{}/inbound/messages", app.address);
    let http = reqwest::Client::new();
    let raw = Mail::default().raw();
    let missing = http.post(&url).body(raw.clone()).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let wrong = http
        .post(&url)
        .bearer_auth("not-the-secret-at-all")
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let garbage = post_message(&app, "this is not an email").await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert!(garbage.text().await.unwrap().contains("not a mail message"));
    let big = Mail {
        body: &"x".repeat(5000),
        ..Mail::default()
    };
    let too_large = post_message(&app, big.raw()).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inbound_messages").await,
        0,
        "nothing refused is stored"
    );
    // No session, no CSRF token: the door needs neither (and any content type is fine).
    let ok = http
        .post(&url)
        .bearer_auth(SECRET)
        .header("Content-Type", "application/octet-stream")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    app.outbox_settled().await;
}

#[tokio::test]
async fn without_a_secret_the_door_is_closed() {
    let app = TestApp::spawn().await;
    let response = post_message(&app, Mail::default().raw()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("ACCORD_INBOUND_SECRET")
    );
}

#[tokio::test]
async fn the_same_message_delivered_twice_is_filed_once() {
    let app = spawn_inbound(&[]).await;
    let (_team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        ..Mail::default()
    }
    .raw();
    let first = filed(&app, reply.clone(), "filed").await;
    let again = filed(&app, reply, "already_filed").await;
    assert_eq!(first, again);
    assert_eq!(room_of(&app, first).await, Some(room));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inbound_messages").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE kind = 'drafts.received'"
        )
        .await,
        1
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_pipe_files_a_message_with_sysexits_codes() {
    let app = spawn_inbound(&[]).await;
    let (_team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    // The pipe waits off this runtime's thread: the test's server runs on it, and a change it
    // has in flight (the outbox marking the first email sent) holds the room's lock until it is
    // polled again. Blocking here while the pipe waits for that lock would wait forever.
    let (data_dir, database_url) = (
        app.data.dir.path().to_path_buf(),
        app.data.database_url.clone(),
    );
    let pipe = |input: Vec<u8>| {
        let (data_dir, database_url) = (data_dir.clone(), database_url.clone());
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
                .arg("inbound")
                .env("ACCORD_DATA_DIR", data_dir)
                .env("ACCORD_DATABASE_URL", database_url)
                .env("ACCORD_INBOUND_ADDRESS", INBOUND)
                .env_remove("ACCORD_SMTP_URL")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&input).unwrap();
            child.wait_with_output().unwrap()
        })
    };
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        message_id: "<piped@mail.northwind.example>",
        ..Mail::default()
    }
    .raw();
    let output = pipe(reply.clone().into_bytes()).await.unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains(&format!("in room {room}")), "{said}");
    let again = pipe(reply.into_bytes()).await.unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("Already filed"));
    let unreadable = pipe(b"\r\n\r\n".to_vec()).await.unwrap();
    assert_eq!(unreadable.status.code(), Some(65), "{unreadable:?}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM inbound_messages WHERE source = 'pipe'"
        )
        .await,
        1
    );
    // The running server's outbox sends what the pipe queued (the PMs' notifications), stamped
    // by the pipe's real clock, a little after this test's manual one.
    app.clock.advance(std::time::Duration::from_secs(60));
    app.smtp.wait_for_to("dana@example.com", 2).await;
    app.outbox_settled().await;
}
