//! The outreach pause: nothing goes to the customer while it holds, and it ends by itself.

use reqwest::StatusCode;

use crate::helpers::{JORDAN, TestApp, count};

#[tokio::test]
async fn nothing_goes_out_while_outreach_is_paused() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let by_partner = team
        .ravi
        .0
        .post_form(&format!("/rooms/{room}/pause"), &[("reason", "x")])
        .await;
    assert_eq!(by_partner.status(), StatusCode::FORBIDDEN);
    let paused = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Wait until the fix is deployed")],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let (_, banner) = team.elena.0.page(&format!("/rooms/{room}")).await;
    assert!(
        banner.contains(
            "Outreach is paused</strong> by Dana Whitfield: Wait until the fix is deployed"
        )
    );

    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Outreach is paused by Dana Whitfield: Wait until the fix is deployed")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );

    team.sam
        .0
        .post_form(&format!("/rooms/{room}/pause/end"), &[])
        .await;
    assert_eq!(
        team.sam.0.send_draft(room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_pause_with_an_end_time_ends_by_itself() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let until = chrono::DateTime::from_timestamp_millis(app.clock.now() + 3_600_000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Quiet hour"), ("until", &until)],
        )
        .await;
    assert_eq!(
        team.sam.0.send_draft(room, draft, 1).await.status(),
        StatusCode::CONFLICT
    );
    app.clock.advance(std::time::Duration::from_secs(2 * 3600));
    assert_eq!(
        team.sam.0.send_draft(room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.outbox_settled().await;
}
