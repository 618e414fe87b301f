//! The room page after a change that names the one part of the room it writes (`rooms::parts`):
//! an instance that kept the page from before the change re-reads only that part and the
//! timeline; it must show exactly what an instance reading everything afresh shows.

use reqwest::StatusCode;

use crate::helpers::{Client, JORDAN, TestApp, count};

/// The room page as `viewer` sees it on `app` (which kept it from before the change), and as a
/// new instance with an empty cache reads it.
async fn both_ways(app: &TestApp, viewer: &Client, room: i64) -> (String, String) {
    let path = format!("/rooms/{room}");
    let (status, kept) = viewer.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    let mut fresh = app.another_instance().await;
    let (status, afresh) = viewer.through(&fresh).page(&path).await;
    assert_eq!(status, StatusCode::OK);
    fresh.stop().await;
    (kept, afresh)
}

/// Checks the page both ways after `what`, and that it shows `shown`.
async fn same_both_ways(app: &TestApp, viewer: &Client, room: i64, what: &str, shown: &str) {
    let (kept, afresh) = both_ways(app, viewer, room).await;
    assert!(
        afresh.contains(shown),
        "after {what}, the page shows {shown:?}"
    );
    assert!(
        kept == afresh,
        "after {what}, the page read incrementally differs from the page read afresh"
    );
}

fn see_other(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{what}");
}

#[tokio::test]
async fn the_room_page_read_part_by_part_is_the_page_read_afresh() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    // Elena reads the room; the others write. Her page is kept at each version in between.
    let elena = &team.elena.0;
    let (kept, afresh) = both_ways(&app, elena, room).await;
    assert!(kept == afresh, "the first read");

    let scope = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Product scope'",
    )
    .await
    .to_string();
    let proposed = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/decisions"),
            &[
                ("decision_type", scope.as_str()),
                ("title", "Forecast 90 days ahead"),
                ("rationale", "Hardware takes 60 days to arrive"),
                ("supersedes", ""),
            ],
        )
        .await;
    see_other(proposed, "proposing a decision");
    same_both_ways(&app, elena, room, "a proposal", "Forecast 90 days ahead").await;

    let decision = count(&app, "SELECT MAX(id) FROM decisions").await;
    let decided = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{decision}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    see_other(decided, "deciding");
    same_both_ways(&app, elena, room, "a decision", "decided").await;

    let jordan = app.contact_id(JORDAN).await.to_string();
    let touched = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/touches"),
            &[
                ("contact", jordan.as_str()),
                ("channel", "call"),
                ("summary", "Walked Jordan through the forecast"),
            ],
        )
        .await;
    see_other(touched, "logging a touch");
    same_both_ways(
        &app,
        elena,
        room,
        "a touch",
        "Walked Jordan through the forecast",
    )
    .await;

    let revised = team
        .sam
        .0
        .edit_draft(
            room,
            draft,
            "Hello Jordan,\n\nThe forecast is ready.\n\nSam",
        )
        .await;
    see_other(revised, "saving a revision");
    same_both_ways(&app, elena, room, "a revision", "saved revision 2").await;

    see_other(
        team.dana.0.align_draft(room, draft, 2).await,
        "aligning on a draft",
    );
    same_both_ways(&app, elena, room, "an alignment", "aligned on revision 2").await;

    let withdrawn = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/approval/withdrawal"),
            &[],
        )
        .await;
    see_other(withdrawn, "withdrawing a position");
    same_both_ways(&app, elena, room, "a withdrawal", "withdrew their position").await;

    // A change that names no part (a question) moves every part; the next narrowed change
    // (a second draft) must still show it.
    let stakeholder = format!("contact:{jordan}");
    let asked = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/questions"),
            &[
                ("body", "Which sites order hardware first?"),
                ("stakeholder", stakeholder.as_str()),
            ],
        )
        .await;
    see_other(asked, "recording a question");
    let second = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/drafts"),
            &[
                ("to", jordan.as_str()),
                ("subject", "Which sites first?"),
                ("body", "Hello Jordan,\n\nWhich sites order first?\n\nSam"),
            ],
        )
        .await;
    see_other(second, "a second draft");
    same_both_ways(
        &app,
        elena,
        room,
        "a question, then a draft",
        "Which sites first?",
    )
    .await;
    let (_, page) = elena.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Which sites order hardware first?"));
}
