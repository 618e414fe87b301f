//! The mail server over TLS and with a login: STARTTLS and implicit TLS under a throwaway
//! certificate authority trusted through `--smtp-ca-file`, AUTH PLAIN and LOGIN, and a
//! certificate that does not verify (a permanent, explained failure, never a retry loop).

use reqwest::StatusCode;

use crate::helpers::{Options, TestApp, count};
use crate::smtp::{Encryption, Mode, Setup, SmtpSink, TestCertificate};

/// A listener with `tls` and a login, and an app that trusts its CA (when `trust` is set).
async fn app_with(tls: Encryption, mechanisms: &'static str, trust: bool) -> TestApp {
    let certificate = TestCertificate::new();
    let smtp = SmtpSink::start_with(Setup {
        tls,
        certificate: Some(certificate.clone()),
        auth: Some(("relay-user".into(), "s3cret:pass".into(), mechanisms)),
    })
    .await;
    let ca_dir = tempfile::tempdir().unwrap().keep();
    let mut args = Vec::new();
    if trust {
        let ca = certificate.write_ca(&ca_dir);
        args = vec!["--smtp-ca-file".into(), ca.display().to_string()];
    }
    TestApp::spawn_with_smtp(
        smtp,
        Options {
            args,
            ..Options::default()
        },
    )
    .await
}

/// An admin invites someone; returns the admin's client after the invitation settled.
async fn invite(app: &TestApp) -> crate::helpers::Client {
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let invited = admin
        .post_form(
            "/admin/invitations",
            &[("name", "Sam Okafor"), ("email", "sam@example.com")],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::SEE_OTHER);
    app.outbox_settled().await;
    admin
}

#[tokio::test]
async fn starttls_with_a_private_ca_and_auth_plain_delivers() {
    let app = app_with(Encryption::StartTls, "PLAIN LOGIN", true).await;
    invite(&app).await;
    let mail = app.smtp.wait_for_to("sam@example.com", 1).await;
    assert!(
        mail[0]
            .text()
            .contains("Subject: You are invited to Accord")
    );
    assert_eq!(app.smtp.logins(), ["PLAIN"]);
}

#[tokio::test]
async fn implicit_tls_with_a_private_ca_and_auth_login_delivers() {
    let app = app_with(Encryption::Implicit, "LOGIN", true).await;
    invite(&app).await;
    app.smtp.wait_for_to("sam@example.com", 1).await;
    assert_eq!(app.smtp.logins(), ["LOGIN"]);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_once_with_the_reason_on_the_admin_mail_page() {
    let app = app_with(Encryption::StartTls, "PLAIN", false).await;
    let admin = invite(&app).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND attempts = 1"
        )
        .await,
        1,
        "one attempt, then failed: no silent retry loop"
    );
    assert!(app.smtp.messages().is_empty());
    let (_, page) = admin.page("/admin/mail").await;
    assert!(page.contains("does not verify"), "{page}");
    assert!(page.contains("ACCORD_SMTP_CA_FILE"));
}

#[tokio::test]
async fn a_password_is_never_sent_over_a_plain_connection() {
    let smtp = SmtpSink::start_with(Setup {
        tls: Encryption::None,
        certificate: None,
        auth: Some(("relay-user".into(), "secret".into(), "PLAIN")),
    })
    .await;
    let app = TestApp::spawn_with_smtp(smtp, Options::default()).await;
    let admin = invite(&app).await;
    assert!(app.smtp.logins().is_empty());
    let (_, page) = admin.page("/admin/mail").await;
    assert!(page.contains("not encrypted"), "{page}");
}

#[tokio::test]
async fn an_admin_resolves_an_invitation_whose_delivery_is_unknown() {
    let app = TestApp::spawn().await;
    app.smtp.set_mode(Mode::Silent);
    let admin = invite(&app).await;
    let invitation = "SELECT id FROM outbox WHERE kind = 'invitation'";
    let id = count(&app, invitation).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND state = 'unknown'"
        )
        .await,
        1,
        "an invitation carries a sign-in link: a person decides, not a retry"
    );
    let (_, page) = admin.page("/admin/mail").await;
    assert!(page.contains("Handed over, no answer") && page.contains("Send again"));

    let (member, _) = app.signed_in("pat@example.com", "Pat", false).await;
    let path = format!("/admin/mail/outbox/{id}/resolution");
    let refused = member.post_form(&path, &[("decision", "resend")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    app.smtp.set_mode(Mode::Accept);
    let resent = admin.post_form(&path, &[("decision", "resend")]).await;
    assert_eq!(resent.status(), StatusCode::SEE_OTHER);
    app.smtp.wait_for_to("sam@example.com", 2).await;
    app.outbox_settled().await;
    let (_, page) = admin.page("/admin/mail").await;
    assert!(page.contains("Decided by Morgan"), "{page}");
    let again = admin.post_form(&path, &[("decision", "delivered")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "no longer unknown");
}
