//! Who may do what in a room, held against the server for every role.

use reqwest::StatusCode;

use crate::helpers::{Client, Team, TestApp, count};

/// Each action a member might take, as a request that changes something when allowed.
async fn attempt(action: &str, client: &Client, room: i64, team: &Team) -> StatusCode {
    let path = |p: &str| format!("/rooms/{room}{p}");
    let ravi = team.ravi.1.to_string();
    let response = match action {
        "add a workstream" => {
            client
                .post_form(
                    &path("/workstreams"),
                    &[
                        ("title", "Pilot"),
                        ("driver", &team.dana.1.to_string()),
                        ("status", "active"),
                    ],
                )
                .await
        }
        "add a decision type" => {
            client
                .post_form(
                    &path("/decision-types"),
                    &[("name", "Security"), ("owner", &ravi)],
                )
                .await
        }
        "add a member" => {
            let outsider = team.outsider.1.to_string();
            client
                .post_form(
                    &path("/members"),
                    &[("user", outsider.as_str()), ("kind", "partner")],
                )
                .await
        }
        "hand over the lead" => {
            let sam = team.sam.1.to_string();
            client
                .post_form(
                    &path("/handovers"),
                    &[
                        ("role", "lead"),
                        ("to", sam.as_str()),
                        ("reason", "Sam takes over"),
                    ],
                )
                .await
        }
        "resolve the room" => client.post_form(&path("/resolution"), &[]).await,
        other => panic!("unknown action {other}"),
    };
    response.status()
}

#[tokio::test]
async fn the_permission_table_holds_against_the_server() {
    // (who, action, allowed): each row runs on a fresh room so allowed changes do not interfere.
    let rows = [
        ("dana", "add a workstream", true),
        ("ravi", "add a workstream", true),
        ("elena", "add a workstream", false),
        ("dana", "add a decision type", true),
        ("ravi", "add a decision type", false),
        ("elena", "add a decision type", false),
        ("sam", "add a member", true),
        ("ravi", "add a member", false),
        ("elena", "add a member", false),
        ("dana", "hand over the lead", true),
        ("sam", "hand over the lead", false),
        ("ravi", "hand over the lead", false),
        ("sam", "resolve the room", true),
        ("ravi", "resolve the room", false),
        ("elena", "resolve the room", false),
    ];
    let app = TestApp::spawn().await;
    let team = app.team().await;
    team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    for (who, action, allowed) in rows {
        let room = team.open_another_for(customer).await;
        let client = match who {
            "dana" => &team.dana.0,
            "sam" => &team.sam.0,
            "ravi" => &team.ravi.0,
            _ => &team.elena.0,
        };
        let events_before = count(
            &app,
            &format!("SELECT COUNT(*) FROM timeline_events WHERE room_id = {room}"),
        )
        .await;
        let status = attempt(action, client, room, &team).await;
        let events_after = count(
            &app,
            &format!("SELECT COUNT(*) FROM timeline_events WHERE room_id = {room}"),
        )
        .await;
        if allowed {
            assert_eq!(
                status,
                StatusCode::SEE_OTHER,
                "{who} should be able to {action}"
            );
            assert!(
                events_after > events_before,
                "{who} {action}: no timeline entry"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{who} should not be able to {action}"
            );
            assert_eq!(
                events_after, events_before,
                "{who} {action}: a refusal changed something"
            );
        }
    }
}
