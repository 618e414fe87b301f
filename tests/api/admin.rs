//! Administration: invitations by email, deactivation, and who may open admin pages.

use reqwest::StatusCode;

use crate::helpers::{Options, PASSWORD, TestApp, location};

#[tokio::test]
async fn an_invitation_reaches_the_smtp_listener_with_a_link_that_works_once() {
    let app = TestApp::spawn().await;
    let (admin, _) = app
        .signed_in("morgan@example.com", "Morgan Blake", true)
        .await;
    let invite = [
        ("name", "Sam Okafor"),
        ("email", "sam@example.com"),
        ("title", "Product manager, customer experience"),
    ];
    let response = admin.post_form("/admin/invitations", &invite).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, users) = admin.page("/admin/users").await;
    assert!(users.contains("Invitation to Sam Okafor is on its way."));
    assert!(users.contains("Invited"));

    let mail = app.smtp.wait_for(1).await;
    app.outbox_settled().await;
    assert_eq!(mail[0].to, ["<sam@example.com>"]);
    let (_, outbox) = admin.page("/admin/mail").await;
    assert!(outbox.contains("You are invited to Accord"));
    assert!(
        mail[0]
            .text()
            .contains("Subject: You are invited to Accord")
    );
    assert!(mail[0].text().contains("Morgan Blake invited you"));
    let link = mail[0]
        .link_starting(&format!("{}/password/", app.address))
        .expect("the email has a set-password link");

    let invited = app.client();
    let (status, form) = invited.page(&link[app.address.len()..]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("sam@example.com"));
    let fields = [("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let set = invited.post_form(&link[app.address.len()..], &fields).await;
    assert_eq!(location(&set), "/sign-in");
    let signed_in = invited.sign_in("sam@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);

    let reuse = app
        .client()
        .post_form(&link[app.address.len()..], &fields)
        .await;
    assert_eq!(reuse.status(), StatusCode::GONE);
}

#[tokio::test]
async fn an_invalid_or_duplicate_invitation_changes_nothing() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let bad = admin
        .post_form("/admin/invitations", &[("name", ""), ("email", "sam@")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("Enter a name."));
    assert!(html.contains("value=\"sam@\""));

    let duplicate = admin
        .post_form(
            "/admin/invitations",
            &[("name", "Morgan again"), ("email", "MORGAN@example.com")],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate
            .text()
            .await
            .unwrap()
            .contains("There is already an account with this email.")
    );
    assert_eq!(app.user_count().await, 1);
    assert!(app.smtp.messages().is_empty());
}

#[tokio::test]
async fn an_invitation_link_expires() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    admin
        .post_form(
            "/admin/invitations",
            &[("name", "Sam"), ("email", "sam@example.com")],
        )
        .await;
    let link = app.smtp.wait_for(1).await[0]
        .link_starting(&format!("{}/password/", app.address))
        .unwrap();
    app.outbox_settled().await;
    app.clock
        .advance(std::time::Duration::from_secs(8 * 24 * 3600));
    let (status, _) = app.client().page(&link[app.address.len()..]).await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_at_once_and_can_be_reactivated() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let (dana, dana_id) = app.signed_in("dana@example.com", "Dana", false).await;
    assert!(dana.is_signed_in().await);

    let response = admin
        .post_form(&format!("/admin/users/{dana_id}/deactivation"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!dana.is_signed_in().await);
    let again = dana.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    admin
        .post_form(&format!("/admin/users/{dana_id}/activation"), &[])
        .await;
    let back = dana.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_admin_cannot_deactivate_themselves() {
    let app = TestApp::spawn().await;
    let (admin, admin_id) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let response = admin
        .post_form(&format!("/admin/users/{admin_id}/deactivation"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(admin.is_signed_in().await);
}

#[tokio::test]
async fn a_non_admin_gets_403_on_every_admin_page_and_action() {
    let app = TestApp::spawn().await;
    let (_, admin_id) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let (dana, _) = app.signed_in("dana@example.com", "Dana", false).await;
    for page in ["/admin/users", "/admin/mail"] {
        assert_eq!(dana.page(page).await.0, StatusCode::FORBIDDEN, "{page}");
    }
    let invite = dana
        .post_form(
            "/admin/invitations",
            &[("name", "Eve"), ("email", "eve@example.com")],
        )
        .await;
    assert_eq!(invite.status(), StatusCode::FORBIDDEN);
    let deactivate = dana
        .post_form(&format!("/admin/users/{admin_id}/deactivation"), &[])
        .await;
    assert_eq!(deactivate.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 2);

    let anonymous = app.client().get("/admin/users").await;
    assert_eq!(location(&anonymous), "/sign-in");
}

#[tokio::test]
async fn without_smtp_mail_is_written_locally_and_shown_to_admins() {
    let app = TestApp::spawn_with(Options::default()).await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    admin
        .post_form(
            "/admin/invitations",
            &[("name", "Sam"), ("email", "sam@example.com")],
        )
        .await;
    app.outbox_settled().await;
    let sent = "SELECT COUNT(*) FROM outbox WHERE state = 'sent'";
    assert_eq!(crate::helpers::count(&app, sent).await, 1);
    let (_, mail) = admin.page("/admin/mail").await;
    assert!(mail.contains("written as .eml files"));
    assert!(mail.contains("You are invited to Accord"));
    let file = mail
        .split("/admin/mail/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let (status, raw) = admin.page(&format!("/admin/mail/{file}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(raw.contains("/password/"));
    let files = std::fs::read_dir(app.data.dir.path().join("mail"))
        .unwrap()
        .count();
    assert!(files >= 1);
}
