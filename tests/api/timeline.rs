//! The room timeline: newest first, paginated.

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn the_timeline_is_paginated_newest_first() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    for n in 0..25 {
        let summary = format!("Touch number {n:02}");
        team.sam
            .0
            .post_form(
                &format!("/rooms/{room}/touches"),
                &[
                    ("contact", jordan.as_str()),
                    ("channel", "call"),
                    ("summary", &summary),
                ],
            )
            .await;
    }
    let timeline = |html: String| {
        html.split("id=\"timeline\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap()
            .to_owned()
    };
    let (_, first_page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}?category=contacts"))
        .await;
    let first_page = timeline(first_page);
    assert!(first_page.contains("Touch number 24"));
    assert!(!first_page.contains("Touch number 04"));
    let older = first_page
        .split("href=\"")
        .find(|s| s.contains("before="))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let (_, second_page) = team.sam.0.page(&older).await;
    let second_page = timeline(second_page);
    assert!(second_page.contains("Touch number 04"));
    assert!(!second_page.contains("Touch number 24"));
}
