//! The unmatched queue: an admin files a held message into a room (with a timeline entry and the
//! same notifications as a match) or discards it; nobody else can.

use reqwest::StatusCode;

use super::{Mail, filed, notifications, room_of, sent_to_jordan, spawn_inbound};
use crate::helpers::count;

#[tokio::test]
async fn an_admin_files_or_discards_what_matched_no_room() {
    let app = spawn_inbound(&[]).await;
    let (team, room, _email) = sent_to_jordan(&app).await;
    let lost = Mail {
        message_id: "<lost@mail.northwind.example>",
        subject: "Where should this go?",
        body: "We found the old invoices.",
        ..Mail::default()
    };
    let held = filed(&app, lost.raw(), "unmatched").await;
    let spam = Mail {
        from: "Spammer <spam@evil.example>",
        message_id: "<spam@evil.example>",
        subject: "Cheap watches",
        ..Mail::default()
    };
    let junk = filed(&app, spam.raw(), "unmatched").await;
    let (admin, _) = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let (status, page) = admin.page("/admin/inbound").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Where should this go?") && page.contains("Cheap watches"));
    assert!(page.contains("names no room"), "it says why it was held");
    assert!(
        page.contains(&format!("<option value=\"{room}\">")),
        "the sender's customer's room is suggested"
    );

    let path = format!("/admin/inbound/{held}/filing");
    let by_pm = team
        .dana
        .0
        .post_form(&path, &[("room", &room.to_string())])
        .await;
    assert_eq!(by_pm.status(), StatusCode::FORBIDDEN);
    let no_room = admin.post_form(&path, &[("room", "999")]).await;
    assert_eq!(no_room.status(), StatusCode::CONFLICT);
    let before = notifications(&app).await;
    let filed_in = admin.post_form(&path, &[("room", &room.to_string())]).await;
    assert_eq!(filed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(room_of(&app, held).await, Some(room));
    assert_eq!(notifications(&app).await, before + 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE kind = 'drafts.filed'"
        )
        .await,
        1
    );
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("We found the old invoices."));
    let again = admin.post_form(&path, &[("room", &room.to_string())]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "filed once");

    let discarded = admin
        .post_form(&format!("/admin/inbound/{junk}/discarding"), &[])
        .await;
    assert_eq!(discarded.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page("/admin/inbound").await;
    assert!(!page.contains("Cheap watches"));
    assert!(page.contains("Nothing waiting"));
    app.outbox_settled().await;
}
