//! The IMAP door against a real server (Dovecot): new messages are filed once, marked seen only
//! after they are stored, and several instances watching one mailbox never file one twice.

use super::{Mail, filed, sent_to_jordan, spawn_inbound};
use crate::helpers::dovecot::Dovecot;
use crate::helpers::{count, eventually};

async fn inbound_count(app: &crate::helpers::TestApp) -> i64 {
    count(app, "SELECT COUNT(*) FROM inbound_messages").await
}

#[tokio::test]
async fn a_reply_in_the_mailbox_is_filed_once_then_marked_seen() {
    let dovecot = Dovecot::start().await;
    let ca = dovecot.ca_file.display().to_string();
    let app = spawn_inbound(&["--imap-url", &dovecot.url(), "--imap-ca-file", &ca]).await;
    let (team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    let reply = Mail {
        in_reply_to: Some(&sent_id),
        message_id: "<imap-1@mail.northwind.example>",
        ..Mail::default()
    }
    .raw();
    dovecot.append(reply.as_bytes()).await;
    eventually("the IMAP reply to be filed", || async {
        inbound_count(&app).await == 1
    })
    .await;
    eventually("the message to be marked seen", || async {
        dovecot.unseen().await == 0
    })
    .await;
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM inbound_messages WHERE room_id = {room} AND source = 'imap'"
            )
        )
        .await,
        1
    );
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Friday works for us."));
    // The same message through the HTTP door is already filed.
    filed(&app, reply, "already_filed").await;
    // Something unreadable in the mailbox is kept for an admin, and the mailbox moves on.
    dovecot.append(b"\x00\x01\x02 not mail\r\n").await;
    eventually("the unreadable message to be kept", || async {
        inbound_count(&app).await == 2
    })
    .await;
    eventually("it to be marked seen", || async {
        dovecot.unseen().await == 0
    })
    .await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inbound_messages WHERE kind = 'unparsable' AND state = 'unmatched'").await,
        1
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn two_instances_watching_one_mailbox_file_each_message_once() {
    let dovecot = Dovecot::start().await;
    let ca = dovecot.ca_file.display().to_string();
    let app = spawn_inbound(&["--imap-url", &dovecot.imaps_url(), "--imap-ca-file", &ca]).await;
    let second = app.another_instance().await;
    let (_team, room, email) = sent_to_jordan(&app).await;
    let sent_id = email.header("Message-ID").unwrap();
    for n in 0..6 {
        let id = format!("<race-{n}@mail.northwind.example>");
        let reply = Mail {
            in_reply_to: Some(&sent_id),
            message_id: &id,
            ..Mail::default()
        };
        dovecot.append(reply.raw().as_bytes()).await;
    }
    eventually("all six to be filed", || async {
        inbound_count(&app).await == 6
    })
    .await;
    eventually("all six to be seen", || async {
        dovecot.unseen().await == 0
    })
    .await;
    // Both instances had their chance; still one row and one timeline entry per message.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(inbound_count(&app).await, 6);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM timeline_events WHERE room_id = {room} AND kind = 'drafts.received'")).await,
        6
    );
    drop(second);
    app.outbox_settled().await;
}
