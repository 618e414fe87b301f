//! Live updates: an open room page asks `/rooms/{id}/live?version=N` every two seconds.

use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, count, version_in};

#[tokio::test]
async fn an_unchanged_room_answers_204_and_a_change_sends_the_new_content() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, page) = team.elena.0.page(&format!("/rooms/{room}")).await;
    let version = version_in(&page);
    let poll = format!("/rooms/{room}/live?version={version}");
    let unchanged = team.elena.0.get(&poll).await;
    assert_eq!(unchanged.status(), StatusCode::NO_CONTENT);
    assert!(unchanged.text().await.unwrap().is_empty());

    let dana = team.dana.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "Forecast from telemetry"),
                ("driver", &dana),
                ("status", "active"),
            ],
        )
        .await;
    let changed = team.elena.0.get(&poll).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let fragment = changed.text().await.unwrap();
    assert!(fragment.contains("Forecast from telemetry"));
    assert!(
        fragment.starts_with("\n<div id=\"room-live\"")
            || fragment.trim_start().starts_with("<div id=\"room-live\"")
    );
    assert!(!fragment.contains("<html"), "only the live part is sent");
    assert!(version_in(&fragment) > version);
}

#[tokio::test]
async fn a_change_through_one_instance_appears_on_a_page_served_by_another() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    // Elena reads through the second instance with the same session cookie.
    let elena = Client {
        http: team.elena.0.http.clone(),
        base: other.address.clone(),
    };
    let (status, page) = elena.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK);
    let version = version_in(&page);

    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/touches"),
            &[
                ("contact", jordan.as_str()),
                ("channel", "call"),
                ("summary", "Agreed the next update date"),
            ],
        )
        .await;
    let changed = elena
        .get(&format!("/rooms/{room}/live?version={version}"))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(
        changed
            .text()
            .await
            .unwrap()
            .contains("Agreed the next update date")
    );
}

#[tokio::test]
async fn a_removed_member_stops_receiving_updates_at_once() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, page) = team.ravi.0.page(&format!("/rooms/{room}")).await;
    let version = version_in(&page);
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/members/{}/removal", team.ravi.1),
            &[],
        )
        .await;
    let poll = team
        .ravi
        .0
        .get(&format!("/rooms/{room}/live?version={version}"))
        .await;
    assert_eq!(poll.status(), StatusCode::NOT_FOUND);
}
