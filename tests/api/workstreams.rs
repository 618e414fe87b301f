//! Workstreams: one driver, and who may reassign it.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn a_partner_who_is_not_the_driver_cannot_reassign_the_driver() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let dana = team.dana.1.to_string();
    let ravi = team.ravi.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "Forecast"),
                ("driver", &dana),
                ("status", "active"),
            ],
        )
        .await;
    let ws = count(&app, "SELECT id FROM workstreams").await;
    let path = format!("/rooms/{room}/workstreams/{ws}");
    let refused = team
        .ravi
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &ravi),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let edited = team
        .ravi
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &dana),
                ("status", "blocked"),
                ("next_step", "Waiting for telemetry access"),
            ],
        )
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let moved = team
        .dana
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &ravi),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let (_, page) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}?category=workstreams"))
        .await;
    assert!(
        page.contains(
            "Dana Whitfield made Ravi Menon the driver of “Forecast” (was Dana Whitfield)."
        )
    );
    assert!(page.contains("Waiting for telemetry access"));
}
