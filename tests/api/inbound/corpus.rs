//! Hostile mail: every message of `tests/inbound_corpus/` (empty, garbage, MIME bombs, deep
//! nesting, invalid encodings, scripts in HTML, traversal in file names, floods of headers and
//! references) gets a clear answer from the door — filed, held, 400 or 413 — never a 5xx, and
//! no page shows a script from it.

use std::path::Path;

use reqwest::StatusCode;

use super::{post_message, spawn_inbound};
use crate::helpers::count;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inbound_corpus");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn hostile_messages_get_a_clear_outcome_and_never_a_5xx() {
    let app = spawn_inbound(&[]).await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let messages = corpus();
    assert!(
        messages.len() >= 20,
        "the corpus keeps at least 20 messages"
    );
    let mut refused = 0;
    for (name, raw) in &messages {
        let response = post_message(&app, raw.clone()).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            matches!(
                status,
                StatusCode::ACCEPTED | StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
            ),
            "{name}: {status} {body}"
        );
        assert!(body.starts_with('{'), "{name}: a JSON answer, got {body}");
        if status != StatusCode::ACCEPTED {
            refused += 1;
        }
    }
    assert!(refused >= 3, "the unreadable ones are refused, not stored");
    let kept = count(&app, "SELECT COUNT(*) FROM inbound_messages").await;
    assert!(
        kept >= 15,
        "the readable ones are kept for an admin ({kept})"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM inbound_messages WHERE room_id IS NOT NULL"
        )
        .await,
        0,
        "none of them matched a room"
    );
    let (status, page) = team.lee.0.page("/admin/inbound").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    let (admin, _) = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let (status, page) = admin.page("/admin/inbound").await;
    assert_eq!(status, StatusCode::OK);
    for script in [
        "<script>alert",
        "onerror=alert",
        "javascript:alert",
        "onload=\"alert",
    ] {
        assert!(!page.contains(script), "the admin page shows {script}");
    }
    assert!(
        page.contains("Visible text"),
        "the HTML message reads as text"
    );
    assert!(!page.contains("../"), "attachment names lose their paths");
    let (status, _) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK);
    app.outbox_settled().await;
}
