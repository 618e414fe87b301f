//! CSRF, security headers, the body limit, error pages, static assets and health checks.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use sqlx::Connection;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let token = admin.csrf_token().await;
    let response = admin
        .http
        .post(admin.url("/admin/invitations"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("<html"));
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let without = admin
        .http
        .post(admin.url("/admin/invitations"))
        .form(&[("name", "Eve"), ("email", "eve@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert!(
        without
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    let wrong = admin
        .http
        .post(admin.url("/admin/invitations"))
        .form(&[
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("csrf_token", &"0".repeat(64)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 1);
    assert!(
        admin.is_signed_in().await,
        "a refused POST does not sign anyone out"
    );
}

#[tokio::test]
async fn an_htmx_request_may_carry_the_token_in_a_header() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let token = admin.csrf_token().await;
    let response = admin
        .http
        .post(admin.url("/admin/invitations"))
        .header("hx-request", "true")
        .header("x-csrf-token", token)
        .form(&[("name", "Sam"), ("email", "sam@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.user_count().await, 2);
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_five_mebibyte_body_gets_a_413_page() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let token = client.csrf_token().await;
    let big = "a".repeat(5 * 1024 * 1024);
    let response = client
        .http
        .post(client.url("/sign-in"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-csrf-token", token)
        .body(format!("email={big}&password=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = response.text().await.unwrap();
    assert!(html.contains("too large"));
    assert!(html.contains("<html"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in ["/sign-in", "/no-such-page", "/static/style.css", "/healthz"] {
        let response = client.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_404_through_the_layout() {
    let app = TestApp::spawn().await;
    let (status, html) = app.client().page("/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Not found"));
    assert!(html.contains("/static/style.css"));
}

#[tokio::test]
async fn static_assets_are_served_with_caching_headers_and_revalidate() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let htmx = client.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status(), StatusCode::OK);
    assert!(
        htmx.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let etag = htmx.headers()[ETAG].clone();
    assert!(htmx.text().await.unwrap().contains("htmx"));
    let again = client
        .http
        .get(client.url("/static/vendor/htmx-2.0.11.min.js"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        client.get("/static/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let client = app.client();
    assert_eq!(client.page("/healthz").await, (StatusCode::OK, "ok".into()));
    assert_eq!(
        client.page("/readyz").await,
        (StatusCode::OK, "ready".into())
    );
}

/// PostgreSQL only: the database is taken away (connections killed, database renamed) and
/// brought back; `/readyz` says 503 meanwhile and Accord serves again without a restart.
#[tokio::test]
async fn readiness_follows_the_database_going_away_and_coming_back() {
    let app = TestApp::spawn().await;
    assert_eq!(app.client().page("/readyz").await.0, StatusCode::OK);
    let Some((server, name)) = app.data.postgres_database() else {
        return; // an embedded SQLite file cannot go away like a server
    };
    let (client, _) = app.signed_in("dana@example.com", "Dana", false).await;
    let hidden = format!("{name}_away");
    crate::helpers::rename_database(&server, &name, &hidden).await;
    assert_eq!(
        client.page("/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        client.get("/").await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    crate::helpers::rename_database(&server, &hidden, &name).await;
    assert_eq!(client.page("/readyz").await.0, StatusCode::OK);
    assert!(client.is_signed_in().await);
}

#[tokio::test]
async fn a_page_asked_for_right_after_the_database_cut_every_connection_is_served() {
    let app = TestApp::spawn().await;
    let Some((server, name)) = app.data.postgres_database() else {
        return; // an embedded SQLite file has no server to restart
    };
    let team = app.team().await;
    let room = team.open_northwind().await;
    let path = format!("/rooms/{room}");
    for _ in 0..8 {
        assert_eq!(team.dana.0.page(&path).await.0, StatusCode::OK);
    }
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    crate::helpers::cut_connections(&mut admin, &name).await;
    // Every connection the instance held is dead now; the first page must not be an error.
    let (status, page) = team.dana.0.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Northwind"),
        "the room itself, not a sign-in page"
    );
}

#[tokio::test]
async fn every_authenticated_page_says_no_store_and_static_files_keep_their_caching() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    for path in [
        "/".to_owned(),
        format!("/rooms/{room}"),
        "/customers".to_owned(),
        "/no-such-page".to_owned(),
    ] {
        let response = team.dana.0.get(&path).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    let asset = team.dana.0.get("/static/style.css").await;
    assert_ne!(asset.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_customers_contacts_are_only_for_admins_and_members_of_its_rooms() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    let path = format!("/customers/{customer}");

    let (status, page) = team.outsider.0.page(&path).await;
    assert_eq!(status, StatusCode::OK, "the name is for everyone");
    assert!(page.contains("Northwind Logistics"));
    assert!(!page.contains("jordan@northwind.example") && !page.contains("Jordan Reyes"));
    let (_, new_room) = team.outsider.0.page("/rooms/new").await;
    assert!(
        new_room.contains("Northwind Logistics"),
        "anyone may pick the customer"
    );
    assert!(!new_room.contains("jordan@northwind.example"));
    let added = team
        .outsider
        .0
        .post_form(
            &format!("{path}/contacts"),
            &[("name", "Pat Sneaky"), ("email", "pat@northwind.example")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM contacts").await, 1);

    // Picking a contact by id in the escalation form is refused too.
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    let outsider_id = team.outsider.1.to_string();
    let customer_id = customer.to_string();
    let fields = [
        ("customer", customer_id.as_str()),
        ("title", "Mine"),
        ("problem", "Something."),
        ("severity", "S3"),
        ("escalated_by", jordan.as_str()),
        ("my_kind", "pm"),
        ("communicator", outsider_id.as_str()),
    ];
    let refused = team.outsider.0.post_form("/rooms/new", &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.text().await.unwrap().contains("Jordan Reyes"));

    let (_, member_view) = team.elena.0.page(&path).await;
    assert!(member_view.contains("jordan@northwind.example"));
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    let (_, admin_view) = admin.page(&path).await;
    assert!(admin_view.contains("jordan@northwind.example"));
    let by_member = team
        .dana
        .0
        .post_form(
            &format!("{path}/contacts"),
            &[("name", "Casey Ops"), ("email", "casey@northwind.example")],
        )
        .await;
    assert_eq!(by_member.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn another_rooms_item_under_this_rooms_url_is_not_found_everywhere() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (here, draft) = app.room_with_draft(&team).await;
    let customer = count(&app, "SELECT id FROM customers").await;
    let there = team.open_another_for(customer).await;
    let update = team
        .dana
        .0
        .write_update(there, "on_track", "Elsewhere")
        .await;
    assert_eq!(update.status(), StatusCode::SEE_OTHER);
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    assert_eq!(
        team.sam.0.align_update(there, update, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    let approvals = "SELECT COUNT(*) FROM approvals";
    let before = count(&app, approvals).await;
    for path in [
        format!("/rooms/{here}/updates/{update}/approval/withdrawal"),
        format!("/rooms/{here}/updates/{update}/approval"),
        format!("/rooms/{here}/updates/{update}/publication"),
        format!("/rooms/{there}/drafts/{draft}/approval/withdrawal"),
        format!("/rooms/{there}/drafts/{draft}/approval"),
        format!("/rooms/{there}/drafts/{draft}/delivery"),
    ] {
        let response = team.sam.0.post_form(&path, &[("revision", "1")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        count(&app, approvals).await,
        before,
        "the alignments in the other room are untouched"
    );
}
