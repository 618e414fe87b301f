//! Opening an escalation, the room page, and who may see it.

mod access;
mod content;
mod dashboard;
mod lifecycle;
mod live;
mod picker;

use reqwest::StatusCode;

use crate::helpers::{TestApp, count, location};

#[tokio::test]
async fn a_partner_opens_an_escalation_and_the_room_answers_who_owns_decides_and_speaks() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;

    let (status, html) = team.lee.0.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Capacity monitoring does not say when to order"));
    // Read as a browser does: runs of white space are one space.
    let flat = html.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Owns this</h2> <p class=\"glance-value\">Dana Whitfield"));
    assert!(flat.contains("Speaks to the customer</h2> <p class=\"glance-value\">Sam Okafor"));
    for (kind, owner) in [
        ("Product scope", "Dana Whitfield"),
        ("Technical approach", "Dana Whitfield"),
        ("Customer communication", "Sam Okafor"),
        ("Commercial", "Dana Whitfield"),
        ("Timeline", "Dana Whitfield"),
    ] {
        assert!(
            html.contains(&format!("<span>{kind}</span> <strong>{owner}</strong>")),
            "{kind}"
        );
    }
    assert!(html.contains(
        "Lee Park opened the room for Northwind Logistics (S2 high), escalated by Jordan Reyes."
    ));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM members").await, 5);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contacts WHERE email = 'jordan@northwind.example'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_invalid_escalation_form_keeps_every_value_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let fields = [
        ("customer", "new"),
        ("new_customer_name", "Northwind Logistics"),
        ("title", ""),
        ("problem", "Jordan cannot tell when to order hardware."),
        ("severity", "S2"),
        ("escalated_by", "new"),
        ("new_contact_name", "Jordan Reyes"),
        ("new_contact_email", "not-an-email"),
        ("my_kind", "partner"),
    ];
    let response = team.lee.0.post_form("/rooms/new", &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("Give the escalation a short title."));
    assert!(html.contains("Enter an email address like name@example.com."));
    assert!(html.contains("Name at least one product manager: the room needs a lead."));
    assert!(html.contains("value=\"Northwind Logistics\""));
    assert!(html.contains("Jordan cannot tell when to order hardware."));
    assert!(html.contains("value=\"not-an-email\""));
    for table in [
        "rooms",
        "customers",
        "contacts",
        "members",
        "timeline_events",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

#[tokio::test]
async fn a_contact_email_that_exists_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await.to_string();
    let response = team
        .lee
        .0
        .post_form(
            &format!("/customers/{customer}/contacts"),
            &[
                ("name", "Jordan again"),
                ("email", "JORDAN@northwind.example"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("A contact with this email already exists.")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM contacts").await, 1);
}

#[tokio::test]
async fn a_pm_opener_leads_and_communicates_by_default() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let fields = [
        ("customer", "new"),
        ("new_customer_name", "Contoso"),
        ("title", "Dashboards are slow"),
        ("problem", "Every page takes 20 seconds."),
        ("severity", "S3"),
        ("my_kind", "pm"),
    ];
    let response = team.dana.0.post_form("/rooms/new", &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let dana = team.dana.1;
    let sql = format!(
        "SELECT COUNT(*) FROM rooms WHERE lead_user_id = {dana} AND communicator_user_id = {dana}"
    );
    assert_eq!(count(&app, &sql).await, 1);
}

#[tokio::test]
async fn a_non_member_learns_nothing_about_a_room_by_any_url() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let outsider = &team.outsider.0;
    for path in [
        format!("/rooms/{room}"),
        format!("/rooms/{room}/live?version=1"),
        format!("/rooms/{room}/members"),
        format!("/rooms/{room}/workstreams/new"),
        format!("/rooms/{room}/workstreams/1/edit"),
        format!("/rooms/{room}/decisions/new"),
        format!("/rooms/{room}/decision-types"),
        format!("/rooms/{room}/questions/new"),
        format!("/rooms/{room}/questions/1"),
        format!("/rooms/{room}/touches/new"),
        format!("/rooms/{room}/edit"),
        "/rooms/999999".to_owned(),
    ] {
        let (status, html) = outsider.page(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("Northwind"), "{path}");
    }
    let write = outsider
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[("title", "Sneaky"), ("status", "active")],
        )
        .await;
    assert_eq!(write.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM workstreams").await, 0);

    let (dashboard_status, dashboard) = outsider.page("/").await;
    assert_eq!(dashboard_status, StatusCode::OK);
    assert!(!dashboard.contains("Capacity monitoring"));
}

#[tokio::test]
async fn an_admin_sees_every_room_and_a_member_sees_theirs_on_the_dashboard() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (admin, _) = app
        .signed_in("morgan@example.com", "Morgan Blake", true)
        .await;
    assert_eq!(
        admin.page(&format!("/rooms/{room}")).await.0,
        StatusCode::OK
    );
    let (_, dashboard) = admin.page("/").await;
    assert!(dashboard.contains("Other rooms"));
    assert!(dashboard.contains("Capacity monitoring does not say when to order"));

    let (_, mine) = team.ravi.0.page("/").await;
    assert!(mine.contains("Your rooms"));
    assert!(mine.contains("Capacity monitoring does not say when to order"));
    let (_, searched) = team.ravi.0.page("/?q=northwind").await;
    assert!(searched.contains("Capacity monitoring"));
    let (_, missed) = team.ravi.0.page("/?q=contoso").await;
    assert!(!missed.contains("Capacity monitoring"));
    let (_, closed_only) = team.ravi.0.page("/?status=closed").await;
    assert!(!closed_only.contains("Capacity monitoring"));

    // Every filter at once, on the member's list and on the admin's other rooms.
    let customer = count(
        &app,
        &format!("SELECT customer_id FROM rooms WHERE id = {room}"),
    )
    .await;
    let all_set = format!("/?status=open&severity=S2&customer={customer}&q=capacity");
    assert!(
        team.ravi
            .0
            .page(&all_set)
            .await
            .1
            .contains("Capacity monitoring")
    );
    let (_, others) = admin.page(&all_set).await;
    assert!(others.contains("Capacity monitoring"));
    let one_off = format!("/?status=open&severity=S1&customer={customer}&q=capacity");
    assert!(
        !team
            .ravi
            .0
            .page(&one_off)
            .await
            .1
            .contains("Capacity monitoring")
    );
    assert!(!admin.page(&one_off).await.1.contains("Capacity monitoring"));
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = TestApp::spawn().await;
    let response = app.client().get("/rooms/1").await;
    assert_eq!(location(&response), "/sign-in");
}

#[tokio::test]
async fn the_dashboard_shows_a_change_to_ones_rooms_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let other_instance = app.another_instance().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    // Sam reads the dashboard through a second instance, which remembers his rooms.
    let sam = team.sam.0.through(&other_instance);
    let (_, before) = sam.page("/").await;
    assert!(before.contains("Capacity monitoring does not say when to order"));
    assert!(!before.contains("Another escalation"));
    assert!(!before.contains("status-closed"));

    let customer = count(
        &app,
        &format!("SELECT customer_id FROM rooms WHERE id = {room}"),
    )
    .await;
    team.open_another_for(customer).await;
    let (_, joined) = sam.page("/").await;
    assert!(
        joined.contains("Another escalation"),
        "a room Sam was added to"
    );

    let closed = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/closure"),
            &[("summary", "Forecast shipped; Jordan confirmed.")],
        )
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    let (_, after) = sam.page("/").await;
    assert!(after.contains("status-closed"), "the room Dana closed");
}
