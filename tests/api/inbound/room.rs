//! What a reply does in its room: matched by its headers or the room's address (never its
//! subject), shown in the conversation, answering the ledger, replied to through the gate.

use reqwest::StatusCode;

use super::{Mail, filed, notifications, room_of, sent_to_jordan, spawn_inbound};
use crate::helpers::{JORDAN, count};

#[tokio::test]
async fn a_reply_lands_in_its_room_and_nowhere_else() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let customer = count(&app, "SELECT customer_id FROM rooms").await;
    let other = team.open_another_for(customer).await;
    let before = notifications(&app).await;
    let version_before = count(
        &app,
        &format!("SELECT version FROM rooms WHERE id = {room}"),
    )
    .await;
    let sent_id = email.header("Message-ID").unwrap();
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        references: Some(&sent_id),
        ..Mail::default()
    };
    let id = filed(&app, reply.raw(), "filed").await;
    assert_eq!(room_of(&app, id).await, Some(room));
    assert!(
        count(
            &app,
            &format!("SELECT version FROM rooms WHERE id = {room}")
        )
        .await
            > version_before,
        "live pages see the change"
    );

    let (status, page) = team.ravi.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("From Jordan Reyes"),
        "the conversation shows it"
    );
    assert!(page.contains("Friday works for us."));
    assert!(
        page.contains("Sent by us"),
        "both directions, in one conversation"
    );
    assert!(
        page.contains("Jordan Reyes → us"),
        "an inbound touch in the contact log"
    );
    let (_, elsewhere) = team.dana.0.page(&format!("/rooms/{other}")).await;
    assert!(!elsewhere.contains("Friday works for us."));

    let (status, message) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}/messages/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(message.contains("Friday works for us."));
    assert!(
        message.contains("<details class=\"quoted\">"),
        "quoted history is folded"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contact_touches WHERE direction = 'inbound'"
        )
        .await,
        1
    );
    // One notification each for the PMs (Dana, Sam; Sam is also the communicator).
    assert_eq!(notifications(&app).await, before + 2);
    let notice = app.smtp.wait_for_to("dana@example.com", 2).await.remove(1);
    assert!(
        notice
            .text()
            .contains(&format!("/rooms/{room}/messages/{id}"))
    );
    assert!(
        !notice.text().contains("Friday works"),
        "the customer's words stay in Accord"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_reply_with_only_the_room_address_lands_and_the_subject_never_moves_one() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let reply_to = email.header("Reply-To").unwrap();
    let address = reply_to
        .trim_end_matches('>')
        .rsplit('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(address.starts_with("escalations+"), "{reply_to}");
    let by_address = Mail {
        to: &address,
        message_id: "<fresh-thread@mail.northwind.example>",
        subject: "A new question from us",
        ..Mail::default()
    };
    let id = filed(&app, by_address.raw(), "filed").await;
    assert_eq!(room_of(&app, id).await, Some(room));
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM inbound_messages WHERE id = {id} AND matched_by = 'reply_address'")).await,
        1
    );

    // Naming a room in the subject matches nothing.
    let title_subject = Mail {
        message_id: "<subject-only@mail.northwind.example>",
        subject: "Re: Capacity monitoring does not say when to order",
        ..Mail::default()
    };
    let id = filed(&app, title_subject.raw(), "unmatched").await;
    assert_eq!(room_of(&app, id).await, None);
    // A reply to this room whose subject names another room stays here.
    let customer = count(&app, "SELECT customer_id FROM rooms").await;
    let other = team.open_another_for(customer).await;
    let sent_id = email.header("Message-ID").unwrap();
    let other_subject = Mail {
        message_id: "<other-subject@mail.northwind.example>",
        subject: "Re: Another escalation",
        in_reply_to: Some(&sent_id),
        ..Mail::default()
    };
    let id = filed(&app, other_subject.raw(), "filed").await;
    assert_eq!(room_of(&app, id).await, Some(room));
    assert_ne!(room, other);

    // A rotated address stops filing; replies to sent mail still find the room by their headers.
    let rotated = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/reply-address"), &[])
        .await;
    assert_eq!(rotated.status(), StatusCode::SEE_OTHER);
    let stale = Mail {
        to: &address,
        message_id: "<stale-address@mail.northwind.example>",
        ..Mail::default()
    };
    filed(&app, stale.raw(), "unmatched").await;
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(!page.contains(&address), "the page shows the new address");
    assert!(page.contains("escalations+"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_strangers_reply_is_held_even_with_the_right_headers() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let stranger = Mail {
        from: "Mallory <mallory@evil.example>",
        in_reply_to: Some(&sent_id),
        message_id: "<m@evil.example>",
        body: "Please wire the money.",
        ..Mail::default()
    };
    let id = filed(&app, stranger.raw(), "unmatched").await;
    assert_eq!(room_of(&app, id).await, None);
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(!page.contains("wire the money"));
    // Someone new at the customer's domain is accepted, and becomes a contact.
    let colleague = Mail {
        from: "Kim Park <kim@northwind.example>",
        in_reply_to: Some(&sent_id),
        message_id: "<kim@mail.northwind.example>",
        ..Mail::default()
    };
    let id = filed(&app, colleague.raw(), "filed").await;
    assert_eq!(room_of(&app, id).await, Some(room));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contacts WHERE email = 'kim@northwind.example'"
        )
        .await,
        1
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_auto_reply_is_filed_but_notifies_nobody() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let before = notifications(&app).await;
    let away = Mail {
        in_reply_to: Some(&sent_id),
        subject: "Out of office",
        extra_headers: "Auto-Submitted: auto-replied\r\n",
        body: "I am away until Monday.",
        ..Mail::default()
    };
    let id = filed(&app, away.raw(), "filed").await;
    assert_eq!(room_of(&app, id).await, Some(room));
    assert_eq!(notifications(&app).await, before, "nobody is notified");
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Automatic reply"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_bounce_marks_the_delivery_failed_for_the_communicator() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    app.outbox_settled().await;
    let sent_id = email.header("Message-ID").unwrap();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.northwind.example>\r\n\
To: {}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.northwind.example>\r\n\
Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"RPT\"\r\n\r\n\
--RPT\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
--RPT\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.northwind.example\r\n\r\n\
Final-Recipient: rfc822; {JORDAN}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\r\n\
--RPT\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent_id}\r\nSubject: Your capacity forecast\r\n\r\n\
--RPT--\r\n",
        super::INBOUND
    );
    filed(&app, dsn, "filed").await;
    assert_eq!(app.customer_outbox_state().await, "failed");
    let (_, page) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(
        page.contains("550 5.1.1 mailbox unavailable"),
        "the reason shows"
    );
    assert!(page.contains("status-failed"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_message_answers_a_ledger_question() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let jordan = count(
        &app,
        &format!("SELECT id FROM contacts WHERE email = '{JORDAN}'"),
    )
    .await;
    let asked = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/questions"),
            &[
                ("body", "How many depots are affected?"),
                ("stakeholder", &format!("contact:{jordan}")),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let question = count(&app, "SELECT MAX(id) FROM questions").await;
    let sent_id = email.header("Message-ID").unwrap();
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        body: "Thanks.\r\n\r\nAbout 40 depots are affected, all in the north.\r\n\r\nJordan",
        ..Mail::default()
    };
    let id = filed(&app, reply.raw(), "filed").await;
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/messages/{id}"))
        .await;
    assert!(
        page.contains("Suggested"),
        "the ledger suggests the question"
    );
    assert!(page.contains("About 40 depots are affected"));
    // Ravi (a partner) may read but does not record answers from the customer.
    let refused = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/messages/{id}/answers"),
            &[("question", &question.to_string()), ("passage", "40")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let answered = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/messages/{id}/answers"),
            &[
                ("question", &question.to_string()),
                ("passage", "About 40 depots are affected, all in the north."),
            ],
        )
        .await;
    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM questions WHERE id = {question} AND status = 'answered' AND answered_in_message = {id}")).await,
        1
    );
    let (_, page) = team
        .dana
        .0
        .page(&format!("/rooms/{room}/messages/{id}"))
        .await;
    assert!(page.contains("How many depots are affected?"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_reply_from_the_room_threads_and_still_needs_every_pm() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        references: Some(&sent_id),
        ..Mail::default()
    };
    let id = filed(&app, reply.raw(), "filed").await;
    let (status, form) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/new?reply_to={id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Re: Your capacity forecast: next steps"));
    assert!(form.contains("Jordan Reyes wrote:"), "the text is quoted");
    assert!(form.contains("Friday works for us."));
    assert!(form.contains(&format!("name=\"replies_to\" value=\"{id}\"")));
    let created = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/drafts"),
            &[
                ("to", "1"),
                ("subject", "Re: Your capacity forecast: next steps"),
                ("body", "Great, see you Friday.\n\n> Friday works for us."),
                ("replies_to", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let draft = count(&app, "SELECT MAX(id) FROM drafts").await;
    let early = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(early.status(), StatusCode::CONFLICT, "Dana has not aligned");
    team.dana.0.align_draft(room, draft, 1).await;
    let sent = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let answer = app.smtp.wait_for_to(JORDAN, 2).await.remove(1);
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<reply-1@mail.northwind.example>")
    );
    let references = answer.header("References").unwrap();
    assert!(references.starts_with(&sent_id), "{references}");
    assert!(references.ends_with("<reply-1@mail.northwind.example>"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn only_members_see_a_message_and_its_attachments() {
    let app = spawn_inbound(&[]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let raw = format!(
        "From: Jordan Reyes <{JORDAN}>\r\nTo: {}\r\nSubject: The logs\r\nMessage-ID: <logs@mail.northwind.example>\r\n\
In-Reply-To: {sent_id}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n\
--B\r\nContent-Type: text/html; name=\"report.html\"\r\nContent-Disposition: attachment; filename=\"report.html\"\r\n\r\n\
<script>alert(1)</script>\r\n--B--\r\n",
        super::INBOUND
    );
    let id = filed(&app, raw, "filed").await;
    let path = format!("/rooms/{room}/messages/{id}");
    let (status, page) = team.outsider.0.page(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    let attachment = format!("{path}/attachments/1");
    assert_eq!(
        team.outsider.0.get(&attachment).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, page) = team.ravi.0.page(&path).await;
    assert!(page.contains("report.html"));
    let download = team.ravi.0.get(&attachment).await;
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(download.text().await.unwrap(), "<script>alert(1)</script>");
    // Another room's id in the path does not reach it either.
    let other = team
        .open_another_for(count(&app, "SELECT customer_id FROM rooms").await)
        .await;
    assert_eq!(
        team.dana
            .0
            .get(&format!("/rooms/{other}/messages/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    app.outbox_settled().await;
}
