//! Members and roles: removing someone who holds a role, and who may lead.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn removing_someone_who_holds_roles_says_exactly_what_to_hand_over() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (dana, sam) = (&team.dana, &team.sam);
    dana.0
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "Forecast"),
                ("driver", &sam.1.to_string()),
                ("status", "active"),
            ],
        )
        .await;
    let refused = dana
        .0
        .post_form(&format!("/rooms/{room}/members/{}/removal", sam.1), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Sam Okafor cannot be removed yet. First hand over the communicator role; reassign the driver of the workstream “Forecast”; reassign the owner of the decision type “Customer communication”."),
        "{html}"
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM members WHERE room_id = {room}")
        )
        .await,
        5
    );

    let ravi = team.ravi.1.to_string();
    let dana_id = dana.1.to_string();
    sam.0
        .post_form(
            &format!("/rooms/{room}/handovers"),
            &[
                ("role", "communicator"),
                ("to", &ravi),
                ("reason", "Ravi owns the relationship now"),
            ],
        )
        .await;
    let ws = count(&app, "SELECT id FROM workstreams").await;
    dana.0
        .post_form(
            &format!("/rooms/{room}/workstreams/{ws}"),
            &[
                ("title", "Forecast"),
                ("driver", &dana_id),
                ("status", "active"),
            ],
        )
        .await;
    let comms = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Customer communication'",
    )
    .await;
    dana.0
        .post_form(
            &format!("/rooms/{room}/decision-types/{comms}"),
            &[("name", "Customer communication"), ("owner", &ravi)],
        )
        .await;
    let removed = dana
        .0
        .post_form(&format!("/rooms/{room}/members/{}/removal", sam.1), &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sam.0.page(&format!("/rooms/{room}")).await.0,
        StatusCode::NOT_FOUND
    );

    let (_, members) = dana.0.page(&format!("/rooms/{room}/members")).await;
    assert!(members.contains("Ravi owns the relationship now"));
    let (_, page) = dana
        .0
        .page(&format!("/rooms/{room}?category=members"))
        .await;
    assert!(page.contains("handed the communicator role from Sam Okafor to Ravi Menon"));
    assert!(page.contains("removed Sam Okafor from the room"));
}

#[tokio::test]
async fn the_lead_goes_only_to_a_product_manager_of_the_room() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let ravi = team.ravi.1.to_string();
    let response = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/handovers"),
            &[("role", "lead"), ("to", &ravi), ("reason", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The lead must be a product manager of this room.")
    );
    let sql = format!(
        "SELECT COUNT(*) FROM rooms WHERE lead_user_id = {}",
        team.dana.1
    );
    assert_eq!(count(&app, &sql).await, 1);
}
