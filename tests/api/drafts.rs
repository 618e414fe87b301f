//! Customer email drafts and the send gate: alignment on the exact revision, only the
//! communicator sends, only the customer's contacts receive, exactly once.

use reqwest::StatusCode;

use crate::helpers::{JORDAN, PRIYA, TestApp, count};

#[tokio::test]
async fn an_aligned_draft_sent_by_the_communicator_arrives_exactly_once_with_the_right_headers() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
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
        team.dana.0.align_draft(room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, ready) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(ready.contains("Every PM aligned on this revision"));

    assert_eq!(
        team.sam.0.send_draft(room, draft, 1).await.status(),
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
    assert_eq!(app.customer_outbox_state().await, "sent");
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
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let (first, second) = tokio::join!(
        team.sam.0.send_draft(room, draft, 1),
        team.sam.0.send_draft(room, draft, 1)
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
    assert_eq!(app.customer_outbox_state().await, "sent");
    assert_eq!(app.smtp.messages_to(JORDAN).len(), 1);
}

#[tokio::test]
async fn someone_other_than_the_communicator_is_refused_and_the_refusal_is_on_the_timeline() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let refused = team.dana.0.send_draft(room, draft, 1).await;
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
    let leadership = team.elena.0.send_draft(room, draft, 1).await;
    assert_eq!(leadership.status(), StatusCode::CONFLICT);
    let outsider = team.outsider.0.send_draft(room, draft, 1).await;
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
}

#[tokio::test]
async fn a_pm_added_after_everyone_aligned_blocks_the_send_until_they_align() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let olga = team.outsider.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/members"),
            &[("user", olga.as_str()), ("kind", "pm")],
        )
        .await;
    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Olga Outsider has not aligned on the current revision")
    );
    team.outsider.0.align_draft(room, draft, 1).await;
    assert_eq!(
        team.sam.0.send_draft(room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_edit_after_alignment_makes_the_draft_unsendable_until_everyone_aligns_again() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let edited = team
        .sam
        .0
        .edit_draft(
            room,
            draft,
            "Hello Jordan,\n\nWe will show you the forecast on Monday.\n\nSam",
        )
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);

    let refused = team.sam.0.send_draft(room, draft, 2).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Dana Whitfield aligned on revision 1, which has since been edited")
    );
    let old = team.dana.0.align_draft(room, draft, 1).await;
    assert_eq!(old.status(), StatusCode::CONFLICT);
    let old = old.text().await.unwrap();
    assert!(old.contains("Revision 1 is no longer current: the current revision is 2."));
    assert!(
        old.contains("Align on revision 2") && old.contains("id=\"draft-live\""),
        "a stale alignment returns to the draft, ready to align on the current revision"
    );
    let stale_view = team.sam.0.send_draft(room, draft, 1).await;
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

    team.dana.0.align_draft(room, draft, 2).await;
    assert_eq!(
        team.sam.0.send_draft(room, draft, 2).await.status(),
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
    let (room, draft) = app.room_with_draft(&team).await;
    for revision in 1..=15 {
        let body = format!("Hello Jordan,\n\nVersion {}.\n\nSam", revision + 1);
        let (_, _) = tokio::join!(
            team.dana.0.align_draft(room, draft, revision),
            team.sam.0.edit_draft(room, draft, &body)
        );
        let current = revision + 1;
        let sql = format!(
            "SELECT COUNT(*) FROM drafts WHERE id = {draft} AND current_revision = {current}"
        );
        assert_eq!(count(&app, &sql).await, 1);
        let attempt = team.sam.0.send_draft(room, draft, current).await;
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
async fn a_recipient_who_is_not_a_contact_of_the_customer_blocks_the_send() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    team.lee
        .0
        .post_form(
            "/customers",
            &[("name", "Contoso"), ("email_domain", "contoso.example")],
        )
        .await;
    let contoso = count(&app, "SELECT id FROM customers WHERE name = 'Contoso'").await;
    // Only an admin (or a member of a Contoso room) may add Contoso's contacts.
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    admin
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
    team.dana.0.align_draft(room, draft, 2).await;
    let refused = team.sam.0.send_draft(room, draft, 2).await;
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

#[tokio::test]
async fn the_customer_sees_one_thread_per_room() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, first) = app.draft_dana_aligned_on(&team).await;
    team.sam.0.send_draft(room, first, 1).await;
    let opening = app.smtp.wait_for_to(JORDAN, 1).await.remove(0);
    assert_eq!(
        opening.header("In-Reply-To"),
        None,
        "the first email starts the thread"
    );
    let opening_id = opening.header("Message-ID").unwrap();

    let second = app.another_aligned_draft(&team, room, "Friday demo").await;
    let sent = team.sam.0.send_draft(room, second, 1).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let follow_up = app.smtp.wait_for_to(JORDAN, 2).await.remove(1);
    assert_eq!(
        follow_up.header("In-Reply-To").as_deref(),
        Some(opening_id.as_str())
    );
    assert_eq!(
        follow_up.header("References").as_deref(),
        Some(opening_id.as_str())
    );
    assert_ne!(follow_up.header("Message-ID").unwrap(), opening_id);

    // Another room's first email starts its own thread.
    let customer = count(&app, "SELECT customer_id FROM rooms").await;
    let other = team.open_another_for(customer).await;
    let third = app
        .another_aligned_draft(&team, other, "Another topic")
        .await;
    team.sam.0.send_draft(other, third, 1).await;
    let separate = app.smtp.wait_for_to(JORDAN, 3).await.remove(2);
    assert_eq!(separate.header("In-Reply-To"), None);
    app.outbox_settled().await;
}
