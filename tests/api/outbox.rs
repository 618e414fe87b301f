//! The outbox against a real SMTP listener that is down, refuses, or never answers.

use reqwest::StatusCode;

use std::time::Duration;

use crate::helpers::{JORDAN, Options, TestApp, count};
use crate::smtp::{Mode, SmtpSink};

#[tokio::test]
async fn when_the_smtp_server_is_down_delivery_is_retried_and_succeeds_when_it_is_back() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Down).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "retrying");
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("Retrying"));
    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(std::time::Duration::from_secs(10));
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_and_shows_the_server_reply_in_the_room() {
    let app = TestApp::spawn().await;
    let (team, room, _) = app.send_while(Mode::Reject).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "failed");
    assert_eq!(
        count(&app, "SELECT attempts FROM outbox WHERE kind = 'customer'").await,
        1
    );
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}?category=drafts"))
        .await;
    assert!(page.contains("could not be delivered: 550"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM contact_touches").await, 0);
}

#[tokio::test]
async fn a_server_that_takes_the_data_and_never_replies_makes_delivery_unknown_and_nothing_is_resent()
 {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::Silent).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "unknown");
    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(std::time::Duration::from_secs(3600));
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("Delivery unknown"));
    assert!(page.contains("Mark delivered") && page.contains("Send again"));
    assert_eq!(
        app.smtp.messages_to(JORDAN).len(),
        1,
        "an unknown delivery is never resent automatically"
    );

    let outbox = count(&app, "SELECT id FROM outbox WHERE kind = 'customer'").await;
    let by_dana = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/outbox/{outbox}/resolution"),
            &[("decision", "delivered")],
        )
        .await;
    assert_eq!(by_dana.status(), StatusCode::FORBIDDEN);
    let marked = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/outbox/{outbox}/resolution"),
            &[("decision", "delivered")],
        )
        .await;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.customer_outbox_state().await, "sent");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contact_touches WHERE channel = 'email'"
        )
        .await,
        2
    );
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn the_communicator_can_send_an_unknown_delivery_again() {
    let app = TestApp::spawn().await;
    let (team, room, _) = app.send_while(Mode::Silent).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "unknown");
    app.smtp.set_mode(Mode::Accept);
    let outbox = count(&app, "SELECT id FROM outbox WHERE kind = 'customer'").await;
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/outbox/{outbox}/resolution"),
            &[("decision", "resend")],
        )
        .await;
    let mail = app.smtp.wait_for_to(JORDAN, 2).await;
    assert_eq!(
        mail[0].header("Message-ID"),
        mail[1].header("Message-ID"),
        "a resend is the same message"
    );
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "sent");
}

#[tokio::test]
async fn a_reset_after_the_data_makes_delivery_unknown_with_one_copy_that_is_never_resent() {
    let app = TestApp::spawn().await;
    let (team, room, draft) = app.send_while(Mode::ResetAfterData).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "unknown");
    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(Duration::from_secs(3600));
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "unknown");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1, "never resent");
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("Handed over, no answer"), "{page}");
}

/// A server whose replies before DATA come later than the command timeout.
async fn app_with_one_second_commands() -> TestApp {
    let smtp = SmtpSink::start().await;
    let options = Options {
        args: vec!["--smtp-command-timeout-secs".into(), "1".into()],
        ..Options::default()
    };
    TestApp::spawn_with_smtp(smtp, options).await
}

#[tokio::test]
async fn replies_slower_than_the_command_timeout_before_data_are_retried_and_delivered_once() {
    let app = app_with_one_second_commands().await;
    app.smtp.set_delay(Duration::from_millis(1500));
    let (team, room, draft) = app.send_while(Mode::SlowCommands).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "retrying");
    assert!(app.smtp.messages_to(JORDAN).is_empty());
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("not handed over"), "{page}");

    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(Duration::from_secs(10));
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn a_final_reply_slower_than_its_timeout_makes_delivery_unknown_and_nothing_is_resent() {
    let app = app_with_one_second_commands().await;
    // Commands answer at once; only the reply to the data is late (the test app waits 2 s).
    app.smtp.set_delay(Duration::from_secs(3));
    app.send_while(Mode::SlowFinalReply).await;
    app.outbox_settled().await;
    assert_eq!(app.customer_outbox_state().await, "unknown");
    app.clock.advance(Duration::from_secs(3600));
    app.outbox_settled().await;
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn a_notification_handed_over_without_an_answer_is_sent_again_automatically() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    app.smtp.set_mode(Mode::Silent);
    let (_room, _draft) = app.draft_dana_aligned_on(&team).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.outbox_settled().await;
    let notifications = "SELECT COUNT(*) FROM outbox WHERE kind = 'notification'";
    let retrying = format!("{notifications} AND state = 'retrying'");
    assert!(count(&app, &retrying).await >= 1);
    assert_eq!(
        count(&app, &format!("{notifications} AND state = 'unknown'")).await,
        0
    );
    app.smtp.set_mode(Mode::Accept);
    app.clock.advance(Duration::from_secs(10));
    app.smtp.wait_for_to("dana@example.com", 2).await;
    app.outbox_settled().await;
    assert_eq!(
        count(&app, &format!("{notifications} AND state = 'sent'")).await,
        count(&app, notifications).await
    );
}
