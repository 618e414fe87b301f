//! Live updates: an open room page asks `/rooms/{id}/live?version=N` every two seconds.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count, room_poll_in, version_in};

#[tokio::test]
async fn an_unchanged_room_answers_204_and_a_change_sends_only_the_parts_that_changed() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, page) = team.elena.0.page(&format!("/rooms/{room}")).await;
    let version = version_in(&page);
    let poll = room_poll_in(&page);
    assert!(poll.starts_with(&format!("/rooms/{room}/live?version={version}&parts=")));
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
    assert!(
        !fragment.contains("<html"),
        "only parts of the page are sent"
    );
    let sent = swapped_parts(&fragment);
    // The new workstream, its event, and its topic's voice in the header's "Speaks to the
    // customer"; nothing else reads differently.
    assert_eq!(
        sent,
        ["room-header", "workstreams", "timeline"],
        "{fragment}"
    );
    assert!(fragment.contains("Forecast from telemetry"));
    // The next poll names the new version and what the page now shows: nothing more to send.
    let next = room_poll_in(&fragment);
    assert!(version_in(&fragment) > version);
    assert_eq!(
        team.elena.0.get(&next).await.status(),
        StatusCode::NO_CONTENT
    );

    // A page that names no parts (or parts it cannot have) is sent every part.
    let blind = format!("/rooms/{room}/live?version={version}");
    let mangled = format!("{blind}&parts=not-a-fingerprint");
    for url in [blind, mangled] {
        let answer = team.elena.0.get(&url).await;
        assert_eq!(answer.status(), StatusCode::OK, "{url}");
        assert_eq!(
            swapped_parts(&answer.text().await.unwrap()).len(),
            11,
            "{url}"
        );
    }
}

/// The ids of the page elements a live check's answer swaps the inside of, in order.
fn swapped_parts(fragment: &str) -> Vec<&str> {
    fragment
        .split("<div id=\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            tag.contains("hx-swap-oob=\"innerHTML\"")
                .then(|| rest.split('"').next())
                .flatten()
        })
        .collect()
}

#[tokio::test]
async fn a_change_through_one_instance_appears_on_a_page_served_by_another() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    // Elena reads through the second instance with the same session cookie.
    let elena = team.elena.0.through(&other);
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

#[tokio::test]
async fn the_draft_page_follows_alignments_and_deliveries_without_a_reload() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    let version = version_in(&page);
    let poll = format!("/rooms/{room}/drafts/{draft}/live?version={version}");
    assert_eq!(team.sam.0.get(&poll).await.status(), StatusCode::NO_CONTENT);

    team.sam.0.align_draft(room, draft, 1).await;
    team.dana.0.align_draft(room, draft, 1).await;
    let changed = team.sam.0.get(&poll).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let fragment = changed.text().await.unwrap();
    assert!(fragment.trim_start().starts_with("<div id=\"draft-live\""));
    assert!(!fragment.contains("<html"), "only the live part is sent");
    assert!(fragment.contains("Ready to send"), "{fragment}");
    assert!(!fragment.contains("Not sendable yet"));
    // The removed or the outsider get nothing.
    let outsider = team.outsider.0.get(&poll).await;
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_leadership_update_page_follows_alignments() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let update = app.written_update(&team, room, "Forecast on track").await;
    let (_, page) = team
        .dana
        .0
        .page(&format!("/rooms/{room}/updates/{update}"))
        .await;
    let version = version_in(&page);
    let poll = format!("/rooms/{room}/updates/{update}/live?version={version}");
    assert_eq!(
        team.dana.0.get(&poll).await.status(),
        StatusCode::NO_CONTENT
    );
    team.sam.0.align_update(room, update, 1).await;
    let fragment = team.dana.0.get(&poll).await.text().await.unwrap();
    assert!(fragment.trim_start().starts_with("<div id=\"update-live\""));
    assert!(fragment.contains("it can be published"), "{fragment}");
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_dashboard_swaps_in_what_changed_and_leaves_the_filters_alone() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let (_, page) = team.dana.0.page("/").await;
    let start = page.find("/dashboard/live?").expect("the dashboard polls");
    let end = page[start..].find('"').unwrap() + start;
    let poll = page[start..end].replace("&#38;", "&");
    let first = team.dana.0.get(&poll).await;
    assert_eq!(
        first.status(),
        StatusCode::NO_CONTENT,
        "{poll} {}",
        first.text().await.unwrap()
    );

    team.dana.0.align_draft(room, draft, 1).await;
    let changed = team.dana.0.get(&poll).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let parts = changed.text().await.unwrap();
    assert!(parts.contains("id=\"needs-live\" class=\"card needs\""));
    assert!(parts.contains("hx-swap-oob=\"true\""));
    assert!(
        !parts.contains("role=\"search\""),
        "the filters form is never replaced"
    );
    assert!(!parts.contains("Align on the email"), "{parts}");
    app.outbox_settled().await;
}
