//! A room's lifecycle: a closed room is read-only until reopened.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn a_closed_room_is_read_only_until_reopened() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let dana = &team.dana.0;
    let without_summary = dana
        .post_form(&format!("/rooms/{room}/closure"), &[("summary", " ")])
        .await;
    assert_eq!(without_summary.status(), StatusCode::CONFLICT);
    assert!(
        without_summary
            .text()
            .await
            .unwrap()
            .contains("Write a resolution summary before closing the room.")
    );
    let closed = dana
        .post_form(
            &format!("/rooms/{room}/closure"),
            &[("summary", "Forecast shipped; Jordan confirmed.")],
        )
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);

    let write = dana
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "More"),
                ("driver", &team.dana.1.to_string()),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(write.status(), StatusCode::CONFLICT);
    assert!(
        write
            .text()
            .await
            .unwrap()
            .contains("This room is closed, so it is read-only.")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM workstreams").await, 0);
    let (_, page) = dana.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Closed — read-only."));
    assert!(!page.contains("Add workstream"));

    let no_reason = dana
        .post_form(&format!("/rooms/{room}/reopening"), &[("summary", "")])
        .await;
    assert_eq!(no_reason.status(), StatusCode::CONFLICT);
    let reopened = dana
        .post_form(
            &format!("/rooms/{room}/reopening"),
            &[("summary", "Jordan saw a new gap")],
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    let (_, page) = dana.page(&format!("/rooms/{room}?category=room")).await;
    assert!(page.contains("Dana Whitfield reopened the room: Jordan saw a new gap"));
    assert!(page.contains("Dana Whitfield closed the room: Forecast shipped; Jordan confirmed."));
}
