//! The draft page's send panel says one true thing per state — and the communicator's *Needs
//! you* names the deliveries waiting for their decision.

use reqwest::StatusCode;

use crate::helpers::{Client, JORDAN, TestApp};
use crate::smtp::Mode;

/// The send panel of the draft page as `client` sees it.
async fn panel(client: &Client, room: i64, draft: i64) -> String {
    let (status, page) = client.page(&format!("/rooms/{room}/drafts/{draft}")).await;
    assert_eq!(status, StatusCode::OK);
    let start = page
        .find("class=\"card send-panel\"")
        .expect("a send panel");
    let end = page[start..].find("</section>").unwrap() + start;
    page[start..end].to_owned()
}

/// Every state's name; a panel shows exactly one.
const STATES: [&str; 7] = [
    "Ready to send",
    "Not sendable yet",
    "Queued",
    "Retrying",
    "Delivery unknown",
    "Failed",
    ">Sent<",
];

fn only_state(panel: &str, expected: &str) {
    for state in STATES {
        assert_eq!(
            panel.contains(state),
            state == expected,
            "{state} (expected only {expected}): {panel}"
        );
    }
}

#[tokio::test]
async fn blocked_then_ready_with_where_the_next_update_moves() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let blocked = panel(&team.sam.0, room, draft).await;
    only_state(&blocked, "Not sendable yet");
    assert!(
        blocked.contains("Dana Whitfield has not aligned"),
        "{blocked}"
    );
    assert!(blocked.contains("disabled"));
    team.dana.0.align_draft(room, draft, 1).await;
    let ready = panel(&team.sam.0, room, draft).await;
    only_state(&ready, "Ready to send");
    assert!(!ready.contains("disabled"), "{ready}");
    assert!(
        ready.contains("Sending moves the next customer update to")
            && ready.contains("every 3 days"),
        "S2 rooms hear from us every 3 days: {ready}"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn sent_says_when_and_to_whom_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Accept).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    let sent = panel(&team.sam.0, room, draft).await;
    only_state(&sent, ">Sent<");
    assert!(sent.contains(JORDAN), "{sent}");
    assert!(!sent.contains("Send to the customer"), "{sent}");
}

#[tokio::test]
async fn retrying_says_which_attempt_when_the_next_is_and_why() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Down).await;
    app.outbox_settled().await;
    let retrying = panel(&team.sam.0, room, draft).await;
    only_state(&retrying, "Retrying");
    assert!(
        retrying.contains("Attempt 1 of 6 did not go through. Next try"),
        "{retrying}"
    );
    assert!(
        retrying.contains("before the message was handed over"),
        "{retrying}"
    );
    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(std::time::Duration::from_secs(10));
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
}

#[tokio::test]
async fn unknown_asks_the_communicator_to_decide_and_tells_the_others_who_decides() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Silent).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    let sam = panel(&team.sam.0, room, draft).await;
    only_state(&sam, "Delivery unknown");
    assert!(
        sam.contains("Mark delivered") && sam.contains("Send again"),
        "{sam}"
    );
    let dana = panel(&team.dana.0, room, draft).await;
    assert!(!dana.contains("Mark delivered"), "{dana}");
    assert!(
        dana.contains("Sam Okafor, the communicator, decides"),
        "{dana}"
    );
    let (_, dashboard) = team.sam.0.page("/").await;
    assert!(
        dashboard.contains(
            "Delivery unknown for “Your capacity forecast: next steps”: decide whether it arrived"
        ),
        "{dashboard}"
    );
}

#[tokio::test]
async fn failed_gives_the_reason_in_plain_words_and_offers_to_send_again() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Reject).await;
    app.outbox_settled().await;
    let failed = panel(&team.sam.0, room, draft).await;
    only_state(&failed, "Failed");
    assert!(
        failed.contains("The mail server refused the message for good"),
        "{failed}"
    );
    assert!(failed.contains("Send again"), "{failed}");
    let (_, dashboard) = team.sam.0.page("/").await;
    assert!(
        dashboard.contains("“Your capacity forecast: next steps” could not be sent: see why"),
        "{dashboard}"
    );
}
