//! The room page's content is shared between viewers per room version (`rooms::content`). These
//! prove that sharing changes nothing a viewer sees: what is per viewer stays per viewer, and what
//! changes without a new room version is still shown as it is now.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count, version_in};

#[tokio::test]
async fn viewers_of_the_same_version_each_see_what_they_may_do() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, sams) = team.sam.0.page(&format!("/rooms/{room}")).await;
    let (_, elenas) = team.elena.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(version_in(&sams), version_in(&elenas));
    // Sam communicates and may pause outreach; Elena (leadership) may only read.
    assert!(sams.contains("Pause outreach"));
    assert!(!elenas.contains("Pause outreach"));
    let (_, sams_again) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(sams_again.contains("Pause outreach"));
}

#[tokio::test]
async fn a_pause_that_runs_out_leaves_the_page_though_the_room_did_not_change() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let until = chrono::DateTime::from_timestamp_millis(app.clock.now() + 3_600_000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let paused = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Quiet hour"), ("until", &until)],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let (_, during) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(during.contains("Outreach is paused"));

    app.clock.advance(std::time::Duration::from_secs(2 * 3600));
    let (_, after) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(version_in(&after), version_in(&during));
    assert!(!after.contains("Outreach is paused"));
    assert!(after.contains("Pause outreach"));
}

#[tokio::test]
async fn a_touch_in_another_room_of_the_customer_shows_at_once() {
    let app = TestApp::spawn().await;
    let other_instance = app.another_instance().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, before) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(before.contains("0 touches in 7 days"));
    // A second instance remembers the activity it read too.
    let sam_there = team.sam.0.through(&other_instance);
    let (_, there) = sam_there.page(&format!("/rooms/{room}")).await;
    assert!(there.contains("0 touches in 7 days"));

    let customer = count(
        &app,
        &format!("SELECT customer_id FROM rooms WHERE id = {room}"),
    )
    .await;
    let other = team.open_another_for(customer).await;
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    let logged = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{other}/touches"),
            &[
                ("contact", jordan.as_str()),
                ("channel", "call"),
                ("summary", "Checked in"),
            ],
        )
        .await;
    assert_eq!(logged.status(), StatusCode::SEE_OTHER);

    let (_, after) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(
        version_in(&after),
        version_in(&before),
        "this room did not change"
    );
    assert!(after.contains("1 touch in 7 days"));
    assert!(after.contains("Last: call by Sam Okafor"));
    let (_, there) = sam_there.page(&format!("/rooms/{room}")).await;
    assert!(there.contains("1 touch in 7 days"), "the other instance");

    // A contact added to the customer is listed at once too, on either instance.
    let added = team
        .lee
        .0
        .post_form(
            &format!("/customers/{customer}/contacts"),
            &[("name", "Priya Shah"), ("email", "priya@northwind.example")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let (_, there) = sam_there.page(&format!("/rooms/{room}")).await;
    assert!(there.contains("Priya Shah"));
}
