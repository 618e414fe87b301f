//! `/api/v1`: personal tokens, the same authorization as the pages, the same gate on sending,
//! and problem details for every bad request.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, JORDAN, TestApp, count};

/// Creates a token on *Your settings* as this person and returns its secret (shown once).
async fn token(client: &Client, scope: &str) -> String {
    let created = client
        .post_form(
            "/settings/tokens",
            &[
                ("name", "CRM integration"),
                ("scope", scope),
                ("expires_in_days", "90"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let html = created.text().await.unwrap();
    let start = html
        .find("value=\"accord_")
        .expect("the token is shown once")
        + 7;
    html[start..].split('"').next().unwrap().to_owned()
}

/// An API caller: a bearer token and no cookies.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(app: &TestApp, token: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: app.address.clone(),
            token: token.to_owned(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(body)).await
    }
}

#[tokio::test]
async fn each_role_can_do_through_the_api_exactly_what_it_can_do_on_the_pages() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (dana, sam, elena, ravi, outsider) = (
        Api::new(&app, &token(&team.dana.0, "write").await),
        Api::new(&app, &token(&team.sam.0, "write").await),
        Api::new(&app, &token(&team.elena.0, "write").await),
        Api::new(&app, &token(&team.ravi.0, "write").await),
        Api::new(&app, &token(&team.outsider.0, "write").await),
    );
    let jordan = app.contact_id(JORDAN).await;
    let rooms = format!("/api/v1/rooms/{room}");
    let note = json!({"text": "Jordan called the support line."});
    let revision = json!({"to": [jordan], "subject": "Forecast", "body": "Hello Jordan,\n\nThe forecast is on its way.\n\nSam"});

    // Reading: every member, nobody else (the room does not exist for an outsider).
    for (who, api) in [
        ("Dana", &dana),
        ("Sam", &sam),
        ("Elena", &elena),
        ("Ravi", &ravi),
    ] {
        let (status, body) = api.get(&rooms).await;
        assert_eq!(status, StatusCode::OK, "{who} reads the room");
        assert_eq!(
            body["title"],
            "Capacity monitoring does not say when to order"
        );
        let (_, list) = api.get("/api/v1/rooms").await;
        assert_eq!(list["rooms"].as_array().unwrap().len(), 1, "{who} lists it");
    }
    let (status, problem) = outsider.get(&rooms).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404);
    let (_, list) = outsider.get("/api/v1/rooms").await;
    assert_eq!(list["rooms"], json!([]), "no leak in the list");
    assert_eq!(
        outsider
            .post(&format!("{rooms}/notes"), note.clone())
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Leadership reads and writes nothing.
    let (status, problem) = elena.post(&format!("{rooms}/notes"), note.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(
        elena
            .post(&format!("{rooms}/drafts"), revision.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // A note leaves the same kind of timeline entry as the pages do.
    assert_eq!(
        ravi.post(&format!("{rooms}/notes"), note).await.0,
        StatusCode::NO_CONTENT
    );
    let sql = format!(
        "SELECT COUNT(*) FROM timeline_events WHERE room_id = {room} AND kind = 'room.noted' \
         AND summary = 'Ravi Menon noted: Jordan called the support line.'"
    );
    assert_eq!(count(&app, &sql).await, 1);

    // Sam (a PM, the communicator) drafts; Dana has not aligned: the send is refused with the
    // blockers, and nothing is queued.
    let (status, saved) = sam.post(&format!("{rooms}/drafts"), revision).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let draft = saved["draft_id"].as_i64().unwrap();
    let drafts = format!("{rooms}/drafts/{draft}");
    let (_, read) = dana.get(&drafts).await;
    let states: Vec<&str> = read["alignment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["missing", "aligned"], "Dana, then Sam");
    let (status, refused) = sam
        .post(&format!("{drafts}/send"), json!({"revision": 1}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        refused["blockers"],
        json!(["Dana Whitfield has not aligned on the current revision"])
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
    let sql = "SELECT COUNT(*) FROM timeline_events WHERE kind = 'drafts.send_blocked'";
    assert_eq!(count(&app, sql).await, 1, "the refusal is on the timeline");

    // Partners and leadership do not align; Dana does, on the exact revision.
    let position = json!({"revision": 1});
    assert_eq!(
        ravi.post(&format!("{drafts}/alignment"), position.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, stale) = dana
        .post(&format!("{drafts}/alignment"), json!({"revision": 2}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(
        dana.post(&format!("{drafts}/alignment"), position).await.0,
        StatusCode::NO_CONTENT
    );

    // Only the communicator sends; then it is queued once.
    let (status, refused) = dana
        .post(&format!("{drafts}/send"), json!({"revision": 1}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        refused["blockers"],
        json!(["Only the communicator, Sam Okafor, can send customer email"])
    );
    let (status, queued) = sam
        .post(&format!("{drafts}/send"), json!({"revision": 1}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert!(queued["outbox_id"].as_i64().is_some());
    let (status, again) = sam
        .post(&format!("{drafts}/send"), json!({"revision": 1}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        1
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_room_opened_through_the_api_is_the_room_the_form_would_open() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    let dana = Api::new(&app, &token(&team.dana.0, "write").await);
    let (status, created) = dana
        .post(
            "/api/v1/rooms",
            json!({
                "customer_id": customer,
                "title": "Exports time out",
                "problem": "The weekly export fails for large clusters.",
                "severity": "S1",
                "my_kind": "pm",
                "pms": [team.sam.1],
                "communicator_user_id": team.sam.1,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let room = created["id"].as_i64().unwrap();
    let (_, page) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Exports time out"));
    let sql = format!(
        "SELECT COUNT(*) FROM timeline_events WHERE room_id = {room} AND kind = 'room.opened'"
    );
    assert_eq!(count(&app, &sql).await, 1);

    // The form's own checks, as a problem naming the fields.
    let (status, problem) = dana
        .post(
            "/api/v1/rooms",
            json!({"customer_id": customer, "title": "", "problem": "x", "severity": "S9", "my_kind": "pm"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("title:") && detail.contains("severity:"),
        "{detail}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM rooms").await, 2);
}

#[tokio::test]
async fn bad_requests_get_problem_details_and_change_nothing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let secret = token(&team.dana.0, "write").await;
    let notes = format!("{}/api/v1/rooms/{room}/notes", app.address);
    let http = reqwest::Client::new();
    let events = "SELECT COUNT(*) FROM timeline_events";
    let before = count(&app, events).await;
    let post = |body: String, content_type: &'static str, auth: Option<String>| {
        let mut request = http
            .post(&notes)
            .header("content-type", content_type)
            .body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    let bearer = Some(format!("Bearer {secret}"));
    for (body, content_type, auth, expected) in [
        (
            "{\"text\": ".to_owned(),
            "application/json",
            bearer.clone(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"text\": 5}".to_owned(),
            "application/json",
            bearer.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "{\"text\": \"x\", \"pin\": true}".to_owned(),
            "application/json",
            bearer.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "{\"text\": \"   \"}".to_owned(),
            "application/json",
            bearer.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "text=x".to_owned(),
            "application/x-www-form-urlencoded",
            bearer.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            format!("{{\"text\": \"{}\"}}", "x".repeat(300 * 1024)),
            "application/json",
            bearer.clone(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "{\"text\": \"x\"}".to_owned(),
            "application/json",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "{\"text\": \"x\"}".to_owned(),
            "application/json",
            Some("Bearer accord_nope".to_owned()),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let response = post(body, content_type, auth).await.unwrap();
        assert_eq!(response.status(), expected);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{expected}"
        );
        let problem: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(problem["status"], expected.as_u16());
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let (status, _) = Api::new(&app, &secret)
        .get("/api/v1/rooms/not-a-number")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, events).await, before, "nothing was written");

    // A session cookie opens nothing on the API, and a token opens nothing on the pages.
    assert_eq!(
        team.dana.0.get("/api/v1/rooms").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = http
        .get(format!("{}/rooms/{room}", app.address))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.url().path(),
        "/sign-in",
        "a token is no sign-in on the pages"
    );
}

#[tokio::test]
async fn a_revoked_or_read_only_token_stops_at_once_and_admins_see_every_token() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let reader = Api::new(&app, &token(&team.dana.0, "read").await);
    let writer = Api::new(&app, &token(&team.dana.0, "write").await);
    assert_eq!(reader.get("/api/v1/rooms").await.0, StatusCode::OK);
    let (status, problem) = reader
        .post(&format!("/api/v1/rooms/{room}/notes"), json!({"text": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(problem["detail"].as_str().unwrap().contains("read-only"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL"
        )
        .await,
        1,
        "last used is kept"
    );
    let stored = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM api_tokens WHERE digest = '{}' OR hint = '{}'",
            writer.token, writer.token
        ),
    )
    .await;
    assert_eq!(stored, 0, "only a digest is stored");

    // Dana revokes her reader on her settings; an admin revokes her writer on theirs.
    let (_, mine) = team.dana.0.page("/settings/tokens").await;
    assert!(mine.contains("CRM integration"));
    let reader_id = count(&app, "SELECT MIN(id) FROM api_tokens").await;
    let others = team
        .sam
        .0
        .post_form(&format!("/settings/tokens/{reader_id}/revocation"), &[])
        .await;
    assert_eq!(others.status(), StatusCode::NOT_FOUND, "not Sam's token");
    let revoked = team
        .dana
        .0
        .post_form(&format!("/settings/tokens/{reader_id}/revocation"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        reader.get("/api/v1/rooms").await.0,
        StatusCode::UNAUTHORIZED
    );

    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    assert_eq!(
        team.dana.0.page("/admin/tokens").await.0,
        StatusCode::FORBIDDEN
    );
    let (_, all) = admin.0.page("/admin/tokens").await;
    assert!(all.contains("Dana Whitfield") && all.contains("Revoked"));
    let writer_id = count(&app, "SELECT MAX(id) FROM api_tokens").await;
    let revoked = admin
        .0
        .post_form(&format!("/admin/tokens/{writer_id}/revocation"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        writer.get("/api/v1/rooms").await.0,
        StatusCode::UNAUTHORIZED
    );

    // Deactivating the owner stops every token of theirs.
    let sam = Api::new(&app, &token(&team.sam.0, "read").await);
    assert_eq!(sam.get("/api/v1/rooms").await.0, StatusCode::OK);
    let deactivated = admin
        .0
        .post_form(&format!("/admin/users/{}/deactivation", team.sam.1), &[])
        .await;
    assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
    assert_eq!(sam.get("/api/v1/rooms").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_is_valid() {
    let app = TestApp::spawn().await;
    let document = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .unwrap();
    assert_eq!(document.status(), StatusCode::OK);
    let document: Value = serde_json::from_str(&document.text().await.unwrap()).unwrap();
    crate::openapi::assert_valid(&document);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/rooms",
        "/api/v1/rooms/{id}",
        "/api/v1/rooms/{id}/notes",
        "/api/v1/rooms/{id}/drafts",
        "/api/v1/rooms/{id}/drafts/{draft}",
        "/api/v1/rooms/{id}/drafts/{draft}/revisions",
        "/api/v1/rooms/{id}/drafts/{draft}/alignment",
        "/api/v1/rooms/{id}/drafts/{draft}/send",
        "/api/v1/rooms/{id}/pre-reads",
        "/api/v1/rooms/{id}/pre-reads/{version}",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
}
