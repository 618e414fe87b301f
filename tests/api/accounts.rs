//! Setup link, sign-in and sign-out, the throttle, and session lifetime.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::helpers::{Options, PASSWORD, TestApp, location};

fn path_of(link: &str) -> &str {
    &link[link
        .find("/setup/")
        .or_else(|| link.find("/password/"))
        .unwrap()..]
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::spawn().await;
    let link = app
        .setup_link
        .clone()
        .expect("an empty database prints a setup link");
    let path = path_of(&link);
    let client = app.client();
    assert_eq!(client.page(path).await.0, StatusCode::OK);

    let fields = [
        ("name", "Morgan Blake"),
        ("email", "morgan@example.com"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ];
    let created = client.post_form(path, &fields).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&created), "/sign-in");
    let signed_in = client.sign_in("morgan@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(client.page("/admin/users").await.0, StatusCode::OK);

    let again = app.client();
    assert_eq!(again.page(path).await.0, StatusCode::GONE);
    let second = [
        ("email", "other@example.com"),
        ("name", "Other"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ];
    assert_eq!(
        again.post_form(path, &second).await.status(),
        StatusCode::GONE
    );
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn no_setup_link_is_printed_once_an_account_exists() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", true).await;
    let app = app.restart().await;
    assert!(app.setup_link.is_none());
}

#[tokio::test]
async fn an_invalid_setup_form_keeps_the_values_and_creates_nobody() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().unwrap();
    let fields = [
        ("name", "Morgan Blake"),
        ("email", "not-an-email"),
        ("password", "short"),
        ("password_confirmation", "short"),
    ];
    let response = app.client().post_form(path_of(&link), &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"Morgan Blake\""));
    assert!(html.contains("Enter an email address like name@example.com."));
    assert!(html.contains("Use at least 12 characters"));
    assert_eq!(app.user_count().await, 0);
    // The link was not used up by the failed attempt.
    assert_eq!(app.client().page(path_of(&link)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_user_signs_in_and_out() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana Whitfield", false)
        .await;
    let client = app.client();
    assert_eq!(location(&client.get("/").await), "/sign-in");

    let response = client.sign_in("Dana@Example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, home) = client.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Dana Whitfield"));

    let out = client.post_form("/sign-out", &[]).await;
    assert_eq!(location(&out), "/sign-in");
    assert!(!client.is_signed_in().await);
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    let response = client.sign_in("dana@example.com", "not the password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("That email and password do not match an active account."));
    assert!(!client.is_signed_in().await);
}

#[tokio::test]
async fn an_unknown_email_is_answered_exactly_like_a_wrong_password() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    let known = client.sign_in("dana@example.com", "wrong password").await;
    let unknown = client.sign_in("nobody@example.com", "wrong password").await;
    assert_eq!(known.status(), unknown.status());
    let known = known
        .text()
        .await
        .unwrap()
        .replace("dana@example.com", "EMAIL");
    let unknown = unknown
        .text()
        .await
        .unwrap()
        .replace("nobody@example.com", "EMAIL");
    assert_eq!(known, unknown);
}

#[tokio::test]
async fn repeated_failures_make_the_account_wait_longer_each_time() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    for _ in 0..3 {
        let response = client.sign_in("dana@example.com", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let held = client.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = held.text().await.unwrap();
    assert!(
        html.contains("Too many failed sign-in attempts. Wait 30 seconds"),
        "{html}"
    );

    app.clock.advance(Duration::from_secs(31));
    let fourth = client.sign_in("dana@example.com", "wrong password").await;
    assert_eq!(fourth.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(Duration::from_secs(31));
    let longer = client.sign_in("dana@example.com", PASSWORD).await;
    assert!(longer.text().await.unwrap().contains("Wait 29 seconds"));

    app.clock.advance(Duration::from_secs(30));
    let allowed = client.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_unknown_email_is_throttled_like_a_known_one() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for _ in 0..3 {
        client.sign_in("nobody@example.com", "guess").await;
    }
    let held = client.sign_in("nobody@example.com", "guess").await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn many_failures_from_one_address_slow_down_every_account() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    for n in 0..10 {
        let email = format!("guess{n}@example.com");
        let response = client.sign_in(&email, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let held = app.client().sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn signing_in_rotates_the_session_id_and_sets_safe_cookie_flags() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    let before = client.get("/sign-in").await;
    let anonymous = session_cookie(&before);
    let response = client.sign_in("dana@example.com", PASSWORD).await;
    let signed_in = session_cookie(&response);
    assert_ne!(cookie_value(&anonymous), cookie_value(&signed_in));
    assert!(signed_in.contains("HttpOnly"));
    assert!(signed_in.contains("SameSite=Lax"));
    assert!(!signed_in.contains("Secure"));
}

#[tokio::test]
async fn cookies_are_secure_when_the_base_url_is_https() {
    let app = TestApp::spawn_with(Options {
        base_url: Some("https://accord.example.com".into()),
        ..Options::default()
    })
    .await;
    let response = app.client().get("/sign-in").await;
    assert!(session_cookie(&response).contains("Secure"));
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("accord_session="))
        .expect("the response sets the session cookie")
}

fn cookie_value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap()
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let client = app.client();
    client.sign_in("dana@example.com", PASSWORD).await;
    let app = app.restart().await;
    let client = client.through(&app);
    assert!(client.is_signed_in().await);
}

#[tokio::test]
async fn a_session_ends_after_its_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("dana@example.com", "Dana", false).await;
    app.clock
        .advance(app.config.session_max - Duration::from_secs(60));
    assert!(client.is_signed_in().await);
    app.clock.advance(Duration::from_secs(120));
    assert!(!client.is_signed_in().await);
}

#[tokio::test]
async fn reading_pages_does_not_write_the_session() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("dana@example.com", "Dana", false).await;
    client.page("/").await;
    let snapshot = || async {
        let db = app.db().await;
        let row: (String, i64) =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE user_id IS NOT NULL")
                .fetch_one(db.reader())
                .await
                .unwrap();
        db.close().await;
        row
    };
    let before = snapshot().await;
    for path in ["/", "/pre-reads", "/customers", "/"] {
        assert_eq!(client.page(path).await.0, StatusCode::OK);
    }
    assert_eq!(
        snapshot().await,
        before,
        "a page view is not a database write"
    );
}

#[tokio::test]
async fn the_user_read_with_the_session_is_never_stored_in_it() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("dana@example.com", "Dana", false).await;
    // Past the idle-refresh interval, a page view writes the session (its last-seen time).
    app.clock.advance(std::time::Duration::from_secs(120));
    let (status, page) = client.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Dana"));
    let db = app.db().await;
    let data: String = sqlx::query_scalar("SELECT data FROM sessions WHERE user_id IS NOT NULL")
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    assert!(data.contains("seen_at"), "the refresh was written: {data}");
    assert!(!data.contains("_user_at_load"), "{data}");
    assert!(!data.contains("dana@example.com"), "{data}");
}

#[tokio::test]
async fn the_sign_in_throttle_holds_across_two_instances() {
    let app = TestApp::spawn().await;
    app.create_user("dana@example.com", "Dana", false).await;
    let other = app.another_instance().await;
    let (first, second) = (app.client(), other.client());
    for client in [&first, &second, &first] {
        let response = client.sign_in("dana@example.com", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let held = second.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_setup_link_is_dead_once_any_account_exists() {
    let app = TestApp::spawn().await;
    let link = app
        .setup_link
        .clone()
        .expect("an empty database prints a setup link");
    let path = &link[link.find("/setup/").unwrap()..];
    app.create_user("made-by-cli@example.com", "Made by the CLI", true)
        .await;
    let client = app.client();
    assert_eq!(client.page(path).await.0, StatusCode::GONE);
    let fields = [
        ("name", "Mallory"),
        ("email", "mallory@example.com"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ];
    let used = client.post_form(path, &fields).await;
    assert_eq!(used.status(), StatusCode::GONE);
    assert_eq!(app.user_count().await, 1, "no administrator was created");
}
