//! One voice outward: drafts, alignment on the exact revision, the send gate, the outreach pause
//! and the outbox, checked against the real server and a real SMTP listener.

use reqwest::StatusCode;

use crate::helpers::{Client, Team, TestApp, count};
use crate::smtp::Mode;

const JORDAN: &str = "jordan@northwind.example";
const PRIYA: &str = "priya@northwind.example";

/// A room with two customer contacts and a first draft by Sam (a PM and the communicator) to
/// Jordan, cc Priya. Returns (room, draft).
async fn room_with_draft(app: &TestApp, team: &Team) -> (i64, i64) {
    let room = team.open_northwind().await;
    let customer = count(app, "SELECT id FROM customers").await;
    team.lee
        .0
        .post_form(
            &format!("/customers/{customer}/contacts"),
            &[
                ("name", "Priya Shah"),
                ("email", PRIYA),
                ("title", "Infrastructure lead"),
            ],
        )
        .await;
    let jordan = count(
        app,
        &format!("SELECT id FROM contacts WHERE email = '{JORDAN}'"),
    )
    .await
    .to_string();
    let priya = count(
        app,
        &format!("SELECT id FROM contacts WHERE email = '{PRIYA}'"),
    )
    .await
    .to_string();
    let fields = [
        ("to", jordan.as_str()),
        ("cc", priya.as_str()),
        ("subject", "Your capacity forecast: next steps"),
        (
            "body",
            "Hello Jordan,\n\nWe will show you the 90-day forecast on Friday.\n\nSam",
        ),
    ];
    let created = team
        .sam
        .0
        .post_form(&format!("/rooms/{room}/drafts"), &fields)
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    (room, count(app, "SELECT MAX(id) FROM drafts").await)
}

async fn align(client: &Client, room: i64, draft: i64, revision: i64) -> reqwest::Response {
    client
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/approval"),
            &[("revision", &revision.to_string())],
        )
        .await
}

async fn send(client: &Client, room: i64, draft: i64, revision: i64) -> reqwest::Response {
    client
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/delivery"),
            &[("revision", &revision.to_string())],
        )
        .await
}

async fn edit(client: &Client, room: i64, draft: i64, body: &str) -> reqwest::Response {
    let jordan = "1".to_owned();
    client
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/revisions"),
            &[
                ("to", jordan.as_str()),
                ("subject", "Your capacity forecast: next steps"),
                ("body", body),
            ],
        )
        .await
}

async fn state_of_outbox(app: &TestApp) -> String {
    let db = app.db().await;
    let state: String = sqlx::query_scalar(
        "SELECT state FROM outbox WHERE kind = 'customer' ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.reader())
    .await
    .unwrap()
    .unwrap_or_default();
    db.close().await;
    state
}

#[tokio::test]
async fn an_aligned_draft_sent_by_the_communicator_arrives_exactly_once_with_the_right_headers() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    // Dana was told her alignment is awaited.
    let notice = app.smtp.wait_for_to("dana@example.com", 1).await;
    assert!(
        notice[0]
            .text()
            .contains(&format!("/rooms/{room}/drafts/{draft}"))
    );

    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("Dana Whitfield has not aligned on the current revision"));
    assert!(page.contains("disabled"));
    assert_eq!(
        align(&team.dana.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, ready) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(ready.contains("Every PM aligned on this revision"));

    assert_eq!(
        send(&team.sam.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    let mail = app.smtp.wait_for_to(JORDAN, 1).await;
    let email = &mail[0];
    assert_eq!(email.to, [format!("<{JORDAN}>"), format!("<{PRIYA}>")]);
    assert_eq!(
        email.header("From").unwrap(),
        "\"Sam Okafor\" <accord@localhost>"
    );
    assert_eq!(
        email.header("Reply-To").unwrap(),
        "\"Sam Okafor\" <sam@example.com>"
    );
    assert_eq!(
        email.header("To").unwrap(),
        format!("\"Jordan Reyes\" <{JORDAN}>")
    );
    assert_eq!(
        email.header("Cc").unwrap(),
        format!("\"Priya Shah\" <{PRIYA}>")
    );
    assert_eq!(
        email.header("Subject").unwrap(),
        "Your capacity forecast: next steps"
    );
    let db = app.db().await;
    let message_id: String =
        sqlx::query_scalar("SELECT message_id FROM outbox WHERE kind = 'customer'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    db.close().await;
    assert_eq!(email.header("Message-ID").unwrap(), message_id);
    assert!(email.text().contains("text/plain") && email.text().contains("text/html"));
    assert!(
        email
            .text()
            .contains("We will show you the 90-day forecast on Friday.")
    );

    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "sent");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contact_touches WHERE channel = 'email'"
        )
        .await,
        2
    );
    let (_, room_page) = team
        .elena
        .0
        .page(&format!("/rooms/{room}?category=drafts"))
        .await;
    assert!(
        room_page.contains("was delivered to the customer&#39;s mail server")
            || room_page.contains("was delivered to the customer's mail server")
    );
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn a_double_submitted_send_queues_one_message() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let (first, second) = tokio::join!(
        send(&team.sam.0, room, draft, 1),
        send(&team.sam.0, room, draft, 1)
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        1
    );
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn someone_other_than_the_communicator_is_refused_and_the_refusal_is_on_the_timeline() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let refused = send(&team.dana.0, room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Only the communicator, Sam Okafor, can send customer email")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}?category=drafts"))
        .await;
    assert!(page.contains("Send blocked: Dana Whitfield tried to send"));
    let leadership = send(&team.elena.0, room, draft, 1).await;
    assert_eq!(leadership.status(), StatusCode::CONFLICT);
    let outsider = send(&team.outsider.0, room, draft, 1).await;
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
}

#[tokio::test]
async fn nothing_goes_out_while_outreach_is_paused() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let by_partner = team
        .ravi
        .0
        .post_form(&format!("/rooms/{room}/pause"), &[("reason", "x")])
        .await;
    assert_eq!(by_partner.status(), StatusCode::FORBIDDEN);
    let paused = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Wait until the fix is deployed")],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let (_, banner) = team.elena.0.page(&format!("/rooms/{room}")).await;
    assert!(
        banner.contains(
            "Outreach is paused</strong> by Dana Whitfield: Wait until the fix is deployed"
        )
    );

    let refused = send(&team.sam.0, room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Outreach is paused by Dana Whitfield: Wait until the fix is deployed")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );

    team.sam
        .0
        .post_form(&format!("/rooms/{room}/pause/end"), &[])
        .await;
    assert_eq!(
        send(&team.sam.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_pause_with_an_end_time_ends_by_itself() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let until = chrono::DateTime::from_timestamp_millis(app.clock.now() + 3_600_000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Quiet hour"), ("until", &until)],
        )
        .await;
    assert_eq!(
        send(&team.sam.0, room, draft, 1).await.status(),
        StatusCode::CONFLICT
    );
    app.clock.advance(std::time::Duration::from_secs(2 * 3600));
    assert_eq!(
        send(&team.sam.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_pm_added_after_everyone_aligned_blocks_the_send_until_they_align() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let olga = team.outsider.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/members"),
            &[("user", olga.as_str()), ("kind", "pm")],
        )
        .await;
    let refused = send(&team.sam.0, room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Olga Outsider has not aligned on the current revision")
    );
    align(&team.outsider.0, room, draft, 1).await;
    assert_eq!(
        send(&team.sam.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_edit_after_alignment_makes_the_draft_unsendable_until_everyone_aligns_again() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    let edited = edit(
        &team.sam.0,
        room,
        draft,
        "Hello Jordan,\n\nWe will show you the forecast on Monday.\n\nSam",
    )
    .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);

    let refused = send(&team.sam.0, room, draft, 2).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Dana Whitfield aligned on revision 1, which has since been edited")
    );
    let old = align(&team.dana.0, room, draft, 1).await;
    assert_eq!(old.status(), StatusCode::CONFLICT);
    assert!(
        old.text()
            .await
            .unwrap()
            .contains("Revision 1 is no longer current: the current revision is 2.")
    );
    let stale_view = send(&team.sam.0, room, draft, 1).await;
    assert_eq!(stale_view.status(), StatusCode::CONFLICT);

    let (_, diff) = team
        .dana
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}/diff?from=1&to=2"))
        .await;
    assert!(
        diff.contains("class=\"diff-removed\"")
            && diff.contains("We will show you the 90-day forecast on Friday.")
    );
    assert!(
        diff.contains("class=\"diff-added\"")
            && diff.contains("We will show you the forecast on Monday.")
    );
    let (_, first) = team
        .dana
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}/revisions/1"))
        .await;
    assert!(first.contains("on Friday"));

    align(&team.dana.0, room, draft, 2).await;
    assert_eq!(
        send(&team.sam.0, room, draft, 2).await.status(),
        StatusCode::SEE_OTHER
    );
    let mail = app.smtp.wait_for_to(JORDAN, 1).await;
    assert!(mail[0].text().contains("on Monday"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_approval_racing_a_new_revision_never_leaves_the_draft_sendable_on_old_approvals() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    for revision in 1..=15 {
        let body = format!("Hello Jordan,\n\nVersion {}.\n\nSam", revision + 1);
        let (_, _) = tokio::join!(
            align(&team.dana.0, room, draft, revision),
            edit(&team.sam.0, room, draft, &body)
        );
        let current = revision + 1;
        let sql = format!(
            "SELECT COUNT(*) FROM drafts WHERE id = {draft} AND current_revision = {current}"
        );
        assert_eq!(count(&app, &sql).await, 1);
        let attempt = send(&team.sam.0, room, draft, current).await;
        assert_eq!(
            attempt.status(),
            StatusCode::CONFLICT,
            "sendable on revision {revision} approvals"
        );
        assert!(attempt.text().await.unwrap().contains("Dana Whitfield"));
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn when_the_smtp_server_is_down_delivery_is_retried_and_succeeds_when_it_is_back() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.smtp.set_mode(Mode::Down);
    send(&team.sam.0, room, draft, 1).await;
    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "retrying");
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
    assert_eq!(state_of_outbox(&app).await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_and_shows_the_server_reply_in_the_room() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.smtp.set_mode(Mode::Reject);
    send(&team.sam.0, room, draft, 1).await;
    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "failed");
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
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.smtp.set_mode(Mode::Silent);
    send(&team.sam.0, room, draft, 1).await;
    app.smtp.wait_for_to(JORDAN, 1).await;
    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "unknown");
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
    assert_eq!(state_of_outbox(&app).await, "sent");
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
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    align(&team.dana.0, room, draft, 1).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    app.smtp.set_mode(Mode::Silent);
    send(&team.sam.0, room, draft, 1).await;
    app.outbox_settled().await;
    assert_eq!(state_of_outbox(&app).await, "unknown");
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
    assert_eq!(state_of_outbox(&app).await, "sent");
}

#[tokio::test]
async fn a_recipient_who_is_not_a_contact_of_the_customer_blocks_the_send() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = room_with_draft(&app, &team).await;
    team.lee
        .0
        .post_form(
            "/customers",
            &[("name", "Contoso"), ("email_domain", "contoso.example")],
        )
        .await;
    let contoso = count(&app, "SELECT id FROM customers WHERE name = 'Contoso'").await;
    team.lee
        .0
        .post_form(
            &format!("/customers/{contoso}/contacts"),
            &[("name", "Eve"), ("email", "eve@contoso.example")],
        )
        .await;
    let eve = count(
        &app,
        "SELECT id FROM contacts WHERE email = 'eve@contoso.example'",
    )
    .await
    .to_string();
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/revisions"),
            &[("to", eve.as_str()), ("subject", "Hi"), ("body", "Hello")],
        )
        .await;
    align(&team.dana.0, room, draft, 2).await;
    let refused = send(&team.sam.0, room, draft, 2).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("eve@contoso.example is not a contact of this room&#39;s customer")
    );
    app.outbox_settled().await;
}
