//! The rules inside a room, checked against the real server: permissions by kind of member,
//! single holders, decisions, the question ledger, the contact log, the lifecycle, live updates.

use reqwest::StatusCode;

use crate::helpers::{Client, Team, TestApp, count};

/// Each action a member might take, as a request that changes something when allowed.
async fn attempt(action: &str, client: &Client, room: i64, team: &Team) -> StatusCode {
    let path = |p: &str| format!("/rooms/{room}{p}");
    let ravi = team.ravi.1.to_string();
    let response = match action {
        "add a workstream" => {
            client
                .post_form(
                    &path("/workstreams"),
                    &[
                        ("title", "Pilot"),
                        ("driver", &team.dana.1.to_string()),
                        ("status", "active"),
                    ],
                )
                .await
        }
        "add a decision type" => {
            client
                .post_form(
                    &path("/decision-types"),
                    &[("name", "Security"), ("owner", &ravi)],
                )
                .await
        }
        "add a member" => {
            let outsider = team.outsider.1.to_string();
            client
                .post_form(
                    &path("/members"),
                    &[("user", outsider.as_str()), ("kind", "partner")],
                )
                .await
        }
        "hand over the lead" => {
            let sam = team.sam.1.to_string();
            client
                .post_form(
                    &path("/handovers"),
                    &[
                        ("role", "lead"),
                        ("to", sam.as_str()),
                        ("reason", "Sam takes over"),
                    ],
                )
                .await
        }
        "resolve the room" => client.post_form(&path("/resolution"), &[]).await,
        other => panic!("unknown action {other}"),
    };
    response.status()
}

#[tokio::test]
async fn the_permission_table_holds_against_the_server() {
    // (who, action, allowed): each row runs on a fresh room so allowed changes do not interfere.
    let rows = [
        ("dana", "add a workstream", true),
        ("ravi", "add a workstream", true),
        ("elena", "add a workstream", false),
        ("dana", "add a decision type", true),
        ("ravi", "add a decision type", false),
        ("elena", "add a decision type", false),
        ("sam", "add a member", true),
        ("ravi", "add a member", false),
        ("elena", "add a member", false),
        ("dana", "hand over the lead", true),
        ("sam", "hand over the lead", false),
        ("ravi", "hand over the lead", false),
        ("sam", "resolve the room", true),
        ("ravi", "resolve the room", false),
        ("elena", "resolve the room", false),
    ];
    let app = TestApp::spawn().await;
    let team = app.team().await;
    team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    for (who, action, allowed) in rows {
        let room = team.open_another_for(customer).await;
        let client = match who {
            "dana" => &team.dana.0,
            "sam" => &team.sam.0,
            "ravi" => &team.ravi.0,
            _ => &team.elena.0,
        };
        let events_before = count(
            &app,
            &format!("SELECT COUNT(*) FROM timeline_events WHERE room_id = {room}"),
        )
        .await;
        let status = attempt(action, client, room, &team).await;
        let events_after = count(
            &app,
            &format!("SELECT COUNT(*) FROM timeline_events WHERE room_id = {room}"),
        )
        .await;
        if allowed {
            assert_eq!(
                status,
                StatusCode::SEE_OTHER,
                "{who} should be able to {action}"
            );
            assert!(
                events_after > events_before,
                "{who} {action}: no timeline entry"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{who} should not be able to {action}"
            );
            assert_eq!(
                events_after, events_before,
                "{who} {action}: a refusal changed something"
            );
        }
    }
}

#[tokio::test]
async fn removing_someone_who_holds_roles_says_exactly_what_to_hand_over() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let (dana, sam) = (&team.dana, &team.sam);
    dana.0
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "Forecast"),
                ("driver", &sam.1.to_string()),
                ("status", "active"),
            ],
        )
        .await;
    let refused = dana
        .0
        .post_form(&format!("/rooms/{room}/members/{}/removal", sam.1), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Sam Okafor cannot be removed yet. First hand over the communicator role; reassign the driver of the workstream “Forecast”; reassign the owner of the decision type “Customer communication”."),
        "{html}"
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM members WHERE room_id = {room}")
        )
        .await,
        5
    );

    let ravi = team.ravi.1.to_string();
    let dana_id = dana.1.to_string();
    sam.0
        .post_form(
            &format!("/rooms/{room}/handovers"),
            &[
                ("role", "communicator"),
                ("to", &ravi),
                ("reason", "Ravi owns the relationship now"),
            ],
        )
        .await;
    let ws = count(&app, "SELECT id FROM workstreams").await;
    dana.0
        .post_form(
            &format!("/rooms/{room}/workstreams/{ws}"),
            &[
                ("title", "Forecast"),
                ("driver", &dana_id),
                ("status", "active"),
            ],
        )
        .await;
    let comms = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Customer communication'",
    )
    .await;
    dana.0
        .post_form(
            &format!("/rooms/{room}/decision-types/{comms}"),
            &[("name", "Customer communication"), ("owner", &ravi)],
        )
        .await;
    let removed = dana
        .0
        .post_form(&format!("/rooms/{room}/members/{}/removal", sam.1), &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sam.0.page(&format!("/rooms/{room}")).await.0,
        StatusCode::NOT_FOUND
    );

    let (_, members) = dana.0.page(&format!("/rooms/{room}/members")).await;
    assert!(members.contains("Ravi owns the relationship now"));
    let (_, page) = dana
        .0
        .page(&format!("/rooms/{room}?category=members"))
        .await;
    assert!(page.contains("handed the communicator role from Sam Okafor to Ravi Menon"));
    assert!(page.contains("removed Sam Okafor from the room"));
}

#[tokio::test]
async fn the_lead_goes_only_to_a_product_manager_of_the_room() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let ravi = team.ravi.1.to_string();
    let response = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/handovers"),
            &[("role", "lead"), ("to", &ravi), ("reason", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The lead must be a product manager of this room.")
    );
    let sql = format!(
        "SELECT COUNT(*) FROM rooms WHERE lead_user_id = {}",
        team.dana.1
    );
    assert_eq!(count(&app, &sql).await, 1);
}

#[tokio::test]
async fn a_partner_who_is_not_the_driver_cannot_reassign_the_driver() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let dana = team.dana.1.to_string();
    let ravi = team.ravi.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "Forecast"),
                ("driver", &dana),
                ("status", "active"),
            ],
        )
        .await;
    let ws = count(&app, "SELECT id FROM workstreams").await;
    let path = format!("/rooms/{room}/workstreams/{ws}");
    let refused = team
        .ravi
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &ravi),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let edited = team
        .ravi
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &dana),
                ("status", "blocked"),
                ("next_step", "Waiting for telemetry access"),
            ],
        )
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let moved = team
        .dana
        .0
        .post_form(
            &path,
            &[
                ("title", "Forecast"),
                ("driver", &ravi),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let (_, page) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}?category=workstreams"))
        .await;
    assert!(
        page.contains(
            "Dana Whitfield made Ravi Menon the driver of “Forecast” (was Dana Whitfield)."
        )
    );
    assert!(page.contains("Waiting for telemetry access"));
}

#[tokio::test]
async fn only_the_owner_of_a_decision_type_decides_and_superseding_links_both_ways() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let scope = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Product scope'",
    )
    .await
    .to_string();
    let propose = |title: &'static str, supersedes: String| {
        let scope = scope.clone();
        let client = &team.ravi.0;
        async move {
            client
                .post_form(
                    &format!("/rooms/{room}/decisions"),
                    &[
                        ("decision_type", &scope),
                        ("title", title),
                        ("rationale", "Because"),
                        ("supersedes", &supersedes),
                    ],
                )
                .await
        }
    };
    assert_eq!(
        propose("Forecast 90 days ahead", String::new())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let first = count(&app, "SELECT MAX(id) FROM decisions").await;
    let by_sam = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{first}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(by_sam.status(), StatusCode::FORBIDDEN);
    assert!(
        by_sam
            .text()
            .await
            .unwrap()
            .contains("Only the owner of “Product scope” decisions")
    );
    let by_dana = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{first}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(by_dana.status(), StatusCode::SEE_OTHER);

    propose("Forecast 120 days ahead", first.to_string()).await;
    let second = count(&app, "SELECT MAX(id) FROM decisions").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{second}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    let sql = format!(
        "SELECT COUNT(*) FROM decisions WHERE id = {first} AND status = 'superseded' AND superseded_by_id = {second}"
    );
    assert_eq!(count(&app, &sql).await, 1);
    let sql =
        format!("SELECT COUNT(*) FROM decisions WHERE id = {second} AND supersedes_id = {first}");
    assert_eq!(count(&app, &sql).await, 1);

    let (_, scoped) = team
        .elena
        .0
        .page(&format!("/rooms/{room}?decision_type={scope}"))
        .await;
    assert!(
        scoped.contains("Forecast 120 days ahead")
            && scoped.contains(&format!("superseded by <a href=\"#decision-{second}\">"))
    );
    let commercial = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Commercial'",
    )
    .await;
    let (_, other) = team
        .elena
        .0
        .page(&format!("/rooms/{room}?decision_type={commercial}"))
        .await;
    let decisions = other
        .split("id=\"decisions\"")
        .nth(1)
        .unwrap()
        .split("id=\"questions\"")
        .next()
        .unwrap();
    assert!(!decisions.contains("Forecast 120 days ahead"));
    assert!(decisions.contains("No decisions recorded of this type."));
}

#[tokio::test]
async fn a_similar_question_is_shown_and_asking_anyway_is_recorded() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let first_room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await;
    let stakeholder = format!("contact:{jordan}");
    let ask = |client: &'static str,
               room: i64,
               body: &'static str,
               extra: Vec<(&'static str, String)>| {
        let stakeholder = stakeholder.clone();
        let client = if client == "sam" {
            &team.sam.0
        } else {
            &team.dana.0
        };
        async move {
            let mut fields = vec![("body", body.to_owned()), ("stakeholder", stakeholder)];
            fields.extend(extra);
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client
                .post_form(&format!("/rooms/{room}/questions"), &fields)
                .await
        }
    };
    let asked = ask(
        "dana",
        first_room,
        "When do you plan to buy more capacity?",
        vec![],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let first_question = count(&app, "SELECT id FROM questions").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{first_room}/questions/{first_question}/answer"),
            &[("answer", "Next order window closes 15 January.")],
        )
        .await;

    // A second room for the same customer: Sam is about to ask nearly the same thing.
    let customer = count(&app, "SELECT id FROM customers").await;
    let second_room = team.open_another_for(customer).await;
    let held = ask(
        "sam",
        second_room,
        "When are you planning to order more capacity?",
        vec![],
    )
    .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    let html = held.text().await.unwrap();
    assert!(html.contains("“When do you plan to buy more capacity?”"));
    assert!(html.contains("Asked by Dana Whitfield"));
    assert!(html.contains("Answer: Next order window closes 15 January."));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM questions").await, 1);

    let unrelated = ask(
        "sam",
        second_room,
        "Who receives the weekly status email?",
        vec![],
    )
    .await;
    assert_eq!(unrelated.status(), StatusCode::SEE_OTHER);

    let confirmed = vec![
        ("acknowledged", first_question.to_string()),
        ("confirm", "yes".to_owned()),
    ];
    let anyway = ask(
        "sam",
        second_room,
        "When are you planning to order more capacity?",
        confirmed,
    )
    .await;
    assert_eq!(anyway.status(), StatusCode::SEE_OTHER);
    let sql = format!("SELECT COUNT(*) FROM questions WHERE asked_despite = '{first_question}'");
    assert_eq!(count(&app, &sql).await, 1);
    let (_, timeline) = team
        .sam
        .0
        .page(&format!("/rooms/{second_room}?category=questions"))
        .await;
    assert!(timeline.contains(&format!(
        "asked anyway, after seeing 1 similar question (#{first_question})"
    )));

    let (_, live_check) = team
        .sam
        .0
        .page(&format!(
            "/rooms/{second_room}/questions/new?body=When+will+you+purchase+more+capacity"
        ))
        .await;
    assert!(live_check.contains("Already asked?"));
}

#[tokio::test]
async fn logging_touches_warns_without_blocking() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    let log = |client: &Client, channel: &'static str| {
        let jordan = jordan.clone();
        let client = Client {
            http: client.http.clone(),
            base: client.base.clone(),
        };
        async move {
            client
                .post_form(
                    &format!("/rooms/{room}/touches"),
                    &[
                        ("contact", jordan.as_str()),
                        ("channel", channel),
                        ("summary", "Checked in"),
                    ],
                )
                .await
        }
    };
    let first = log(&team.sam.0, "call").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let (_, quiet) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(!quiet.contains("Logged, with a warning"));

    let second = log(&team.ravi.0, "email").await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let (_, warned) = team.ravi.0.page(&format!("/rooms/{room}")).await;
    assert!(
        warned.contains("Logged, with a warning: Sam Okafor was also in touch with Jordan Reyes")
    );
    assert!(
        warned.contains("You are not this room&#39;s communicator")
            || warned.contains("You are not this room's communicator")
    );
    log(&team.sam.0, "meeting").await;
    log(&team.sam.0, "call").await;
    let (_, over) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(over.contains("Jordan Reyes has now been contacted 4 times in 7 days (more than 3)."));
    assert!(over.contains("4 touches in 7 days — more than 3"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM contact_touches").await, 4);
}

#[tokio::test]
async fn a_closed_room_is_read_only_until_reopened() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let dana = &team.dana.0;
    let without_summary = dana
        .post_form(&format!("/rooms/{room}/closure"), &[("summary", " ")])
        .await;
    assert_eq!(without_summary.status(), StatusCode::CONFLICT);
    assert!(
        without_summary
            .text()
            .await
            .unwrap()
            .contains("Write a resolution summary before closing the room.")
    );
    let closed = dana
        .post_form(
            &format!("/rooms/{room}/closure"),
            &[("summary", "Forecast shipped; Jordan confirmed.")],
        )
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);

    let write = dana
        .post_form(
            &format!("/rooms/{room}/workstreams"),
            &[
                ("title", "More"),
                ("driver", &team.dana.1.to_string()),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(write.status(), StatusCode::CONFLICT);
    assert!(
        write
            .text()
            .await
            .unwrap()
            .contains("This room is closed, so it is read-only.")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM workstreams").await, 0);
    let (_, page) = dana.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Closed — read-only."));
    assert!(!page.contains("Add workstream"));

    let no_reason = dana
        .post_form(&format!("/rooms/{room}/reopening"), &[("summary", "")])
        .await;
    assert_eq!(no_reason.status(), StatusCode::CONFLICT);
    let reopened = dana
        .post_form(
            &format!("/rooms/{room}/reopening"),
            &[("summary", "Jordan saw a new gap")],
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    let (_, page) = dana.page(&format!("/rooms/{room}?category=room")).await;
    assert!(page.contains("Dana Whitfield reopened the room: Jordan saw a new gap"));
    assert!(page.contains("Dana Whitfield closed the room: Forecast shipped; Jordan confirmed."));
}

#[tokio::test]
async fn the_timeline_is_paginated_newest_first() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await.to_string();
    for n in 0..25 {
        let summary = format!("Touch number {n:02}");
        team.sam
            .0
            .post_form(
                &format!("/rooms/{room}/touches"),
                &[
                    ("contact", jordan.as_str()),
                    ("channel", "call"),
                    ("summary", &summary),
                ],
            )
            .await;
    }
    let timeline = |html: String| {
        html.split("id=\"timeline\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap()
            .to_owned()
    };
    let (_, first_page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}?category=contacts"))
        .await;
    let first_page = timeline(first_page);
    assert!(first_page.contains("Touch number 24"));
    assert!(!first_page.contains("Touch number 04"));
    let older = first_page
        .split("href=\"")
        .find(|s| s.contains("before="))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let (_, second_page) = team.sam.0.page(&older).await;
    let second_page = timeline(second_page);
    assert!(second_page.contains("Touch number 04"));
    assert!(!second_page.contains("Touch number 24"));
}

#[tokio::test]
async fn the_dashboard_lists_what_needs_me() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let commercial = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Commercial'",
    )
    .await
    .to_string();
    team.ravi
        .0
        .post_form(
            &format!("/rooms/{room}/decisions"),
            &[
                ("decision_type", &commercial),
                ("title", "Extend the trial"),
            ],
        )
        .await;
    let (_, dana) = team.dana.0.page("/").await;
    assert!(dana.contains("Needs you"));
    assert!(dana.contains("Decide “Extend the trial” (Commercial is yours)."));
    let (_, sam) = team.sam.0.page("/").await;
    assert!(!sam.contains("Extend the trial"));
}
