//! Decisions: the owner of a decision type decides, and superseding links both ways.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn only_the_owner_of_a_decision_type_decides_and_superseding_links_both_ways() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let scope = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Product scope'",
    )
    .await
    .to_string();
    let propose = |title: &'static str, supersedes: String| {
        let scope = scope.clone();
        let client = &team.ravi.0;
        async move {
            client
                .post_form(
                    &format!("/rooms/{room}/decisions"),
                    &[
                        ("decision_type", &scope),
                        ("title", title),
                        ("rationale", "Because"),
                        ("supersedes", &supersedes),
                    ],
                )
                .await
        }
    };
    assert_eq!(
        propose("Forecast 90 days ahead", String::new())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let first = count(&app, "SELECT MAX(id) FROM decisions").await;
    let by_sam = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{first}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(by_sam.status(), StatusCode::FORBIDDEN);
    assert!(
        by_sam
            .text()
            .await
            .unwrap()
            .contains("Only the owner of “Product scope” decisions")
    );
    let by_dana = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{first}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(by_dana.status(), StatusCode::SEE_OTHER);

    propose("Forecast 120 days ahead", first.to_string()).await;
    let second = count(&app, "SELECT MAX(id) FROM decisions").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{second}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    let sql = format!(
        "SELECT COUNT(*) FROM decisions WHERE id = {first} AND status = 'superseded' AND superseded_by_id = {second}"
    );
    assert_eq!(count(&app, &sql).await, 1);
    let sql =
        format!("SELECT COUNT(*) FROM decisions WHERE id = {second} AND supersedes_id = {first}");
    assert_eq!(count(&app, &sql).await, 1);

    let (_, scoped) = team
        .elena
        .0
        .page(&format!("/rooms/{room}?decision_type={scope}"))
        .await;
    assert!(
        scoped.contains("Forecast 120 days ahead")
            && scoped.contains(&format!("superseded by <a href=\"#decision-{second}\">"))
    );
    let commercial = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Commercial'",
    )
    .await;
    let (_, other) = team
        .elena
        .0
        .page(&format!("/rooms/{room}?decision_type={commercial}"))
        .await;
    let decisions = other
        .split("id=\"decisions\"")
        .nth(1)
        .unwrap()
        .split("id=\"questions\"")
        .next()
        .unwrap();
    assert!(!decisions.contains("Forecast 120 days ahead"));
    assert!(decisions.contains("No decisions recorded of this type."));
}
