//! Single sign-on through a real OpenID Provider (`oidc-provider` under Node), driven through
//! its real redirects and login form.

use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::helpers::oidc::{callback_url, sign_in};
use crate::helpers::{Options, TestApp, count};

async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        oidc_domains: Some("example.com".into()),
        ..Options::default()
    })
    .await
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

#[tokio::test]
async fn an_invited_person_signs_in_by_verified_email_once_then_by_identity() {
    let app = app().await;
    let (_, page) = app.client().page("/sign-in").await;
    assert!(page.contains("Sign in with Example SSO"));
    let dana = app
        .create_user("dana@example.com", "Dana Whitfield", false)
        .await;

    let browser = app.client();
    let back = sign_in(&browser, "dana@example.com").await;
    if back.status() != StatusCode::SEE_OTHER {
        panic!("{}", back.text().await.unwrap());
    }
    assert_eq!(location(&back), "/");
    assert!(browser.is_signed_in().await);
    let sql = format!("SELECT COUNT(*) FROM user_identities WHERE user_id = {dana}");
    assert_eq!(count(&app, &sql).await, 1, "linked by the verified email");

    // Later sign-ins match the identity (issuer, subject), not the email.
    let again = app.client();
    assert_eq!(
        sign_in(&again, "dana@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(again.is_signed_in().await);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_identities").await, 1);
    assert_eq!(app.user_count().await, 1, "no second account");
}

#[tokio::test]
async fn accounts_are_created_only_for_verified_emails_of_allowed_domains() {
    let app = app().await;
    let newcomer = app.client();
    assert_eq!(
        sign_in(&newcomer, "kim@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(newcomer.is_signed_in().await, "created just in time");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM users WHERE email = 'kim@example.com' AND password_hash IS NULL"
        )
        .await,
        1
    );

    for (login, why) in [
        (
            "eve@elsewhere.test",
            "There is no Accord account for eve@elsewhere.test",
        ),
        (
            "unverified:lee@example.com",
            "did not confirm your email address",
        ),
    ] {
        let browser = app.client();
        let refused = sign_in(&browser, login).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{login}");
        assert!(refused.text().await.unwrap().contains(why), "{login}");
        assert!(!browser.is_signed_in().await);
    }
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_tampered_state_a_replayed_code_and_a_wrong_nonce_are_refused() {
    let app = app().await;
    app.create_user("dana@example.com", "Dana Whitfield", false)
        .await;

    // A callback whose state is not the one this browser was given.
    let browser = app.client();
    let url = callback_url(&browser, "dana@example.com").await;
    let tampered = url.replace("state=", "state=x");
    let refused = browser.http.get(&tampered).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("was not started here")
    );
    assert!(!browser.is_signed_in().await);

    // A code used once, then presented again with a fresh state of the same browser.
    let browser = app.client();
    let first = callback_url(&browser, "dana@example.com").await;
    assert_eq!(
        browser.http.get(&first).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let attacker = app.client();
    let fresh = callback_url(&attacker, "dana@example.com").await;
    let state = |url: &str| {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    let old_code = url::Url::parse(&first)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let replay = format!(
        "{}/sign-in/oidc/callback?code={old_code}&state={}",
        app.address,
        state(&fresh)
    );
    let refused = attacker.http.get(&replay).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!attacker.is_signed_in().await);

    // The nonce Accord expects is not the one in the provider's ID token.
    let browser = app.client();
    let url = callback_url(&browser, "dana@example.com").await;
    let db = app.db().await;
    let changed = sqlx::query(
        "UPDATE sessions SET data = REPLACE(data, '\"nonce\":\"', '\"nonce\":\"tampered') \
         WHERE data LIKE '%oidc_pending%'",
    )
    .execute(db.writer())
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    let refused = browser.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("did not verify"));
    assert!(!browser.is_signed_in().await);
}

#[tokio::test]
async fn a_deactivated_sso_user_is_signed_out_at_once_and_cannot_sign_in_again() {
    let app = app().await;
    let browser = app.client();
    sign_in(&browser, "kim@example.com").await;
    assert!(browser.is_signed_in().await);
    let kim = count(&app, "SELECT id FROM users WHERE email = 'kim@example.com'").await;
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let deactivated = admin
        .0
        .post_form(&format!("/admin/users/{kim}/deactivation"), &[])
        .await;
    assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
    assert!(!browser.is_signed_in().await, "signed out at once");
    let refused = sign_in(&app.client(), "kim@example.com").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("deactivated"));
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_when_sso_is_on() {
    let app = TestApp::spawn_with(Options {
        oidc_domains: Some("example.com".into()),
        args: vec!["--password-sign-in".into(), "false".into()],
        ..Options::default()
    })
    .await;
    app.create_user("dana@example.com", "Dana Whitfield", false)
        .await;
    let (_, page) = app.client().page("/sign-in").await;
    assert!(page.contains("Sign in with Example SSO"));
    assert!(!page.contains("type=\"password\""));
    let refused = app
        .client()
        .sign_in("dana@example.com", "whatever-password")
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
