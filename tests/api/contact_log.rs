//! The contact log: touches warn, never block.

use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, count};

#[tokio::test]
async fn logging_touches_warns_without_blocking() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    let log = |client: &Client, channel: &'static str| {
        let jordan = jordan.clone();
        let client = Client {
            http: client.http.clone(),
            base: client.base.clone(),
        };
        async move {
            client
                .post_form(
                    &format!("/rooms/{room}/touches"),
                    &[
                        ("contact", jordan.as_str()),
                        ("channel", channel),
                        ("summary", "Checked in"),
                    ],
                )
                .await
        }
    };
    let first = log(&team.sam.0, "call").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let (_, quiet) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(!quiet.contains("Logged, with a warning"));

    let second = log(&team.ravi.0, "email").await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let (_, warned) = team.ravi.0.page(&format!("/rooms/{room}")).await;
    assert!(
        warned.contains("Logged, with a warning: Sam Okafor was also in touch with Jordan Reyes")
    );
    assert!(
        warned.contains("You are not this room&#39;s communicator")
            || warned.contains("You are not this room's communicator")
    );
    log(&team.sam.0, "meeting").await;
    log(&team.sam.0, "call").await;
    let (_, over) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(over.contains("Jordan Reyes has now been contacted 4 times in 7 days (more than 3)."));
    assert!(over.contains("4 touches in 7 days — more than 3"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM contact_touches").await, 4);
}
