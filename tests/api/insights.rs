//! `/insights`: the coordination measures across the rooms a reader may read, and only those.

use reqwest::StatusCode;

use crate::helpers::{JORDAN, TestApp, count};

#[tokio::test]
async fn insights_show_only_readable_rooms_with_numbers_that_trace_to_them() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let customer = count(&app, "SELECT MAX(id) FROM customers")
        .await
        .to_string();
    let sam = team.sam.1.to_string();
    let hidden = team
        .dana
        .0
        .post_form(
            "/rooms/new",
            &[
                ("customer", customer.as_str()),
                ("title", "A room without leadership"),
                ("problem", "Only PMs here."),
                ("severity", "S3"),
                ("my_kind", "pm"),
                ("pms", sam.as_str()),
                ("communicator", sam.as_str()),
            ],
        )
        .await;
    assert_eq!(hidden.status(), StatusCode::SEE_OTHER);
    let jordan = count(
        &app,
        &format!("SELECT id FROM contacts WHERE email = '{JORDAN}'"),
    )
    .await;
    for (who, channel) in [(&team.sam.0, "email"), (&team.lee.0, "chat")] {
        let logged = who
            .post_form(
                &format!("/rooms/{room}/touches"),
                &[
                    ("contact", &jordan.to_string()),
                    ("channel", channel),
                    ("summary", "Wrote to Jordan"),
                ],
            )
            .await;
        assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    }

    let (status, page) = team.elena.0.page("/insights").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Capacity monitoring does not say when to order"));
    assert!(
        !page.contains("A room without leadership"),
        "only rooms Elena can read"
    );
    assert!(
        page.contains("<th scope=\"row\">two voices</th><td>1 contact</td>"),
        "Sam and Lee both wrote to Jordan"
    );
    assert!(page.contains("1 time two members reached the same contact within a day"));

    let (_, everything) = team.elena.0.page("/insights?days=0").await;
    assert!(everything.contains("All time"));
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let (_, all) = admin.0.page("/insights").await;
    assert!(
        all.contains("A room without leadership"),
        "admins read every room"
    );
    assert_eq!(team.dana.0.page("/insights").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        team.outsider.0.page("/insights").await.0,
        StatusCode::FORBIDDEN
    );
}
