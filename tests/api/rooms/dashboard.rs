//! The dashboard: what needs me first.

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn the_dashboard_lists_what_needs_me() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let commercial = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Commercial'",
    )
    .await
    .to_string();
    team.ravi
        .0
        .post_form(
            &format!("/rooms/{room}/decisions"),
            &[
                ("decision_type", &commercial),
                ("title", "Extend the trial"),
            ],
        )
        .await;
    let (_, dana) = team.dana.0.page("/").await;
    assert!(dana.contains("Needs you"));
    assert!(dana.contains("Decide “Extend the trial” (Commercial is yours)"));
    let (_, sam) = team.sam.0.page("/").await;
    assert!(!sam.contains("Extend the trial"));
}
