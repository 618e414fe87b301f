//! Everyone reads and types times in their own zone; storage stays UTC. And the cadence moves the
//! next update when one goes out.

use accord::web::time::Zone;
use reqwest::StatusCode;

use crate::helpers::{Client, PASSWORD, TestApp, count};

const HOUR: i64 = 3_600_000;

async fn choose_zone(client: &Client, zone: &str) -> reqwest::Response {
    client.post_form("/settings", &[("time_zone", zone)]).await
}

async fn stored_zone(app: &TestApp, user: i64) -> Option<String> {
    let db = app.db().await;
    let zone = sqlx::query_scalar("SELECT time_zone FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    zone
}

#[tokio::test]
async fn a_time_typed_in_chicago_is_stored_as_utc_and_read_in_berlin() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    assert_eq!(
        choose_zone(&team.ravi.0, "America/Chicago").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        choose_zone(&team.dana.0, "Europe/Berlin").await.status(),
        StatusCode::SEE_OTHER
    );

    let (_, form) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}/workstreams/new"))
        .await;
    assert!(
        form.contains("Due (America/Chicago, optional)"),
        "the form says which zone"
    );
    let created = team
        .ravi
        .0
        .start_workstream(room, "Forecast prototype", team.ravi.1, "2026-12-01T02:51")
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let due = count(&app, "SELECT due_at FROM workstreams").await;
    let utc = Zone::UTC.parse_input("2026-12-01T08:51").unwrap().unwrap();
    assert_eq!(due, utc, "02:51 in Chicago is 08:51 UTC");

    let (_, berlin) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(
        berlin.contains("Tue 1 Dec, 09:51 CET"),
        "Dana reads it in Berlin"
    );
    let (_, chicago) = team.ravi.0.page(&format!("/rooms/{room}")).await;
    assert!(
        chicago.contains("Tue 1 Dec, 02:51 CST"),
        "Ravi reads what he typed"
    );
    let (_, utc) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(
        utc.contains("Tue 1 Dec, 08:51 UTC"),
        "Sam has chosen nothing: the default, UTC"
    );
}

#[tokio::test]
async fn a_wall_clock_time_that_does_not_exist_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    choose_zone(&team.ravi.0, "Europe/Berlin").await;
    let refused = team
        .ravi
        .0
        .start_workstream(room, "Forecast prototype", team.ravi.1, "2026-03-29T02:30")
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("does not exist in Europe/Berlin"), "{page}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM workstreams").await, 0);
}

#[tokio::test]
async fn settings_accept_only_real_zones_and_sign_in_adopts_the_browser_zone_once() {
    let app = TestApp::spawn().await;
    let (client, id) = app.signed_in("kim@example.com", "Kim Lee", false).await;
    let (status, page) = client.page("/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your time zone"));
    let refused = choose_zone(&client, "Mars/Olympus").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Choose a time zone from the list")
    );
    assert_eq!(stored_zone(&app, id).await, None);

    // A first sign-in from a browser in Kolkata adopts its zone, and says so.
    let password = PASSWORD;
    let user = app.create_user("ana@example.com", "Ana Ruiz", false).await;
    let browser = app.client();
    let signed_in = browser
        .post_form(
            "/sign-in",
            &[
                ("email", "ana@example.com"),
                ("password", password),
                ("browser_time_zone", "Asia/Kolkata"),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored_zone(&app, user).await.as_deref(),
        Some("Asia/Kolkata")
    );
    let (_, home) = browser.page("/").await;
    assert!(
        home.contains("Times are shown in Asia/Kolkata, your browser"),
        "{home}"
    );
    // Later sign-ins from elsewhere do not overwrite a zone already set.
    let again = app.client();
    again
        .post_form(
            "/sign-in",
            &[
                ("email", "ana@example.com"),
                ("password", password),
                ("browser_time_zone", "America/Chicago"),
            ],
        )
        .await;
    assert_eq!(
        stored_zone(&app, user).await.as_deref(),
        Some("Asia/Kolkata")
    );
}

#[tokio::test]
async fn the_draft_page_shows_each_contacts_local_time_and_warns_outside_their_hours() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let chicago = Zone::parse("America/Chicago").unwrap();
    for _ in 0..2 {
        let now = app.clock.now();
        let (_, page) = team
            .sam
            .0
            .page(&format!("/rooms/{room}/drafts/{draft}"))
            .await;
        assert!(
            page.contains(&format!("{}, America/Chicago", chicago.clock(now))),
            "Priya's local time is shown"
        );
        assert_eq!(
            page.contains("Outside working hours"),
            !chicago.is_working_hours(now),
            "the warning follows Priya's working hours"
        );
        assert!(
            !page.contains("disabled aria-disabled"),
            "a warning never blocks"
        );
        app.clock.advance(std::time::Duration::from_secs(11 * 3600));
    }
    app.outbox_settled().await;
}

#[tokio::test]
async fn sending_moves_the_next_customer_update_by_the_rooms_cadence() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let now = app.clock.now();
    let sent = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let due = count(&app, "SELECT next_customer_update_due FROM rooms").await;
    assert_eq!(due, now + 72 * HOUR, "S2: every 3 days");

    // The lead sets a faster cadence; the next send moves it by that.
    let edited = team
        .dana
        .0
        .edit_northwind(
            room,
            &[("customer_cadence", "8"), ("leadership_cadence", "")],
        )
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let bad = team
        .dana
        .0
        .edit_northwind(room, &[("customer_cadence", "5")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(&app, "SELECT customer_cadence_hours FROM rooms").await,
        8
    );
    app.smtp.wait_for_to(crate::helpers::JORDAN, 1).await;
    app.outbox_settled().await;

    let second = app.another_aligned_draft(&team, room, "Friday demo").await;
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{second}"))
        .await;
    assert!(
        page.contains("(every 8 hours)"),
        "the send form says where the due moves"
    );
    app.clock.advance(std::time::Duration::from_secs(3600));
    let later = app.clock.now();
    team.sam.0.send_draft(room, second, 1).await;
    let due = count(&app, "SELECT next_customer_update_due FROM rooms").await;
    assert_eq!(due, later + 8 * HOUR);
    app.smtp.wait_for_to(crate::helpers::JORDAN, 2).await;
    app.outbox_settled().await;
}

#[tokio::test]
async fn publishing_a_pre_read_moves_the_next_leadership_update() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (_, form) = team
        .dana
        .0
        .page(&format!("/rooms/{room}/updates/new"))
        .await;
    let expected = Zone::UTC.to_input(app.clock.now() + 72 * HOUR);
    assert!(
        form.contains(&expected),
        "the form starts one cadence ahead: {expected}"
    );
    choose_zone(&team.elena.0, "Europe/Berlin").await;
    app.published_update(&team, room, "Forecast on track").await;
    let due = count(&app, "SELECT next_leadership_update_due FROM rooms").await;
    assert_eq!(
        due,
        Zone::UTC.parse_input("2030-01-10T09:00").unwrap().unwrap()
    );
    // Elena's email names the date in her zone.
    let mail = app.smtp.wait_for_to("elena@example.com", 1).await;
    let text = mail[0].text();
    assert!(
        text.contains("The next leadership update is due Thu 10 Jan, 10:00 CET."),
        "{text}"
    );
    app.outbox_settled().await;
}
