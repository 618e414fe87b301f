//! The room sync: an agenda built from open state only, minutes that update the record through
//! the ordinary rules in one submit (or refuse it whole), and what was not discussed carrying
//! over to the next sync.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{JORDAN, Options, Team, TestApp, count};
use crate::smtp::SmtpSink;

/// The Northwind room with: a proposed *Product scope* decision (Dana owns the type), a decided
/// one, a blocked workstream, an active one on time, and a question to Jordan asked four days
/// before the sync. Returns (room, proposed decision, blocked workstream, on-time workstream).
async fn seeded(app: &TestApp, team: &Team) -> (i64, i64, i64, i64) {
    let room = team.open_northwind().await;
    let scope = count(
        app,
        "SELECT id FROM decision_types WHERE name = 'Product scope'",
    )
    .await;
    let jordan = app.contact_id(JORDAN).await;
    let asked = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/questions"),
            &[
                (
                    "body",
                    "Which cluster grows fastest, and by how much a month?",
                ),
                ("stakeholder", &format!("contact:{jordan}")),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    app.clock.advance(Duration::from_secs(4 * 24 * 3600));
    for title in [
        "Forecast per cluster, 90 days ahead",
        "Ship a CSV export first",
    ] {
        let proposed = team
            .ravi
            .0
            .post_form(
                &format!("/rooms/{room}/decisions"),
                &[
                    ("decision_type", &scope.to_string()),
                    ("title", title),
                    ("rationale", "Because"),
                ],
            )
            .await;
        assert_eq!(proposed.status(), StatusCode::SEE_OTHER);
    }
    let decided = count(app, "SELECT MAX(id) FROM decisions").await;
    let settled = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{decided}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(settled.status(), StatusCode::SEE_OTHER);
    let proposed = decided - 1;
    let dana = team.dana.1.to_string();
    for (title, status) in [
        ("Telemetry access", "blocked"),
        ("Forecast prototype", "active"),
    ] {
        let started = team
            .dana
            .0
            .post_form(
                &format!("/rooms/{room}/workstreams"),
                &[
                    ("title", title),
                    ("driver", dana.as_str()),
                    ("status", status),
                ],
            )
            .await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
    }
    let on_time = count(app, "SELECT MAX(id) FROM workstreams").await;
    (room, proposed, on_time - 1, on_time)
}

#[tokio::test]
async fn the_agenda_lists_exactly_the_open_items() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, proposed, blocked, on_time) = seeded(&app, &team).await;
    let (status, agenda) = team.elena.0.page(&format!("/rooms/{room}/sync")).await;
    assert_eq!(status, StatusCode::OK, "leadership reads the agenda");
    assert!(
        agenda.contains(&format!("value=\"decision:{proposed}\""))
            || agenda.contains("Forecast per cluster, 90 days ahead")
    );
    assert!(
        agenda.contains(
            "“Forecast per cluster, 90 days ahead” (Product scope), proposed by Ravi Menon"
        )
    );
    assert!(
        !agenda.contains("Ship a CSV export first"),
        "a decided decision is not on the agenda"
    );
    assert!(agenda.contains("“Telemetry access” (blocked, driven by Dana Whitfield): blocked"));
    assert!(
        !agenda.contains("“Forecast prototype”"),
        "an active workstream on time is not"
    );
    assert!(
        agenda.contains("“Which cluster grows fastest, and by how much a month?” for Jordan Reyes")
    );
    assert!(
        agenda.contains("Twice a week"),
        "S2 syncs twice a week by default"
    );
    assert!(
        !agenda.contains("Record the minutes"),
        "leadership does not take minutes"
    );
    let _ = (blocked, on_time);
    assert_eq!(
        team.outsider.0.page(&format!("/rooms/{room}/sync")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn minutes_update_the_record_through_the_ordinary_rules_in_one_submit() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, proposed, blocked, _) = seeded(&app, &team).await;
    let jordan = app.contact_id(JORDAN).await;
    let minutes = format!("/rooms/{room}/sync/minutes");
    let decision_key = format!("decision:{proposed}");
    let settle = format!("{proposed}:decided");
    let unblock = format!("{blocked}:active");
    let by_non_owner = team
        .sam
        .0
        .post_form(
            &minutes,
            &[
                ("discussed", decision_key.as_str()),
                ("settle", settle.as_str()),
                ("workstream_status", unblock.as_str()),
                ("notes", "Sam tries to decide Dana's call"),
            ],
        )
        .await;
    assert_eq!(by_non_owner.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM syncs").await,
        0,
        "refused whole"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM workstreams WHERE id = {blocked} AND status = 'blocked'"
            )
        )
        .await,
        1,
        "nothing of the refused minutes was recorded"
    );
    let by_leadership = team.elena.0.post_form(&minutes, &[("notes", "x")]).await;
    assert_eq!(by_leadership.status(), StatusCode::FORBIDDEN);

    let jordan = jordan.to_string();
    let recorded = team
        .dana
        .0
        .post_form(
            &minutes,
            &[
                ("discussed", decision_key.as_str()),
                ("settle", settle.as_str()),
                ("workstream_status", unblock.as_str()),
                ("question_body", "Who approves hardware orders above 50k?"),
                ("question_for", jordan.as_str()),
                (
                    "propose_type",
                    &count(
                        &app,
                        "SELECT id FROM decision_types WHERE name = 'Timeline'",
                    )
                    .await
                    .to_string(),
                ),
                ("propose_title", "Show the prototype on Friday"),
                ("next_steps", "Dana books the demo"),
                ("notes", "Good sync"),
            ],
        )
        .await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM decisions WHERE id = {proposed} AND status = 'decided'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM workstreams WHERE id = {blocked} AND status = 'active'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM questions WHERE body = 'Who approves hardware orders above 50k?'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM decisions WHERE title = 'Show the prototype on Friday' AND status = 'proposed'").await,
        1
    );
    for (kind, said) in [
        (
            "decisions.decided",
            "Dana Whitfield decided “Forecast per cluster, 90 days ahead” (Product scope).",
        ),
        (
            "workstreams.updated",
            "Dana Whitfield updated “Telemetry access”: active.",
        ),
        (
            "questions.asked",
            "Dana Whitfield recorded a question: “Who approves hardware orders above 50k?”",
        ),
        (
            "decisions.proposed",
            "Dana Whitfield proposed a Timeline decision: “Show the prototype on Friday”",
        ),
        (
            "room.synced",
            "Dana Whitfield took the minutes of the sync: 1 of",
        ),
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM timeline_events WHERE room_id = {room} AND kind = '{kind}' \
             AND summary LIKE '{said}%'"
        );
        assert_eq!(
            count(&app, &sql).await,
            1,
            "the ordinary timeline entry: {said}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM rooms WHERE next_sync_at IS NOT NULL"
        )
        .await,
        1,
        "the next sync is set from the cadence"
    );

    // The same question again, in the next minutes: the ledger's check refuses the whole submit
    // and keeps that a duplicate was avoided.
    let again = team
        .dana
        .0
        .post_form(
            &minutes,
            &[
                ("question_body", "Who approves hardware orders above 50k?"),
                ("question_for", jordan.as_str()),
                ("notes", "Second sync"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Already asked?"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM syncs").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM similar_question_checks WHERE asked_question_id IS NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn what_was_not_discussed_carries_over_to_the_next_sync() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, proposed, blocked, _) = seeded(&app, &team).await;
    let discussed = format!("workstream:{blocked}");
    let held = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/sync/minutes"),
            &[("discussed", discussed.as_str())],
        )
        .await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    let (_, agenda) = team.sam.0.page(&format!("/rooms/{room}/sync")).await;
    let decision = agenda
        .split("agenda-item")
        .find(|item| item.contains(&format!("decision:{proposed}")))
        .expect("the decision is still on the agenda");
    assert!(decision.contains("Carried over"), "not discussed last time");
    let workstream = agenda
        .split("agenda-item")
        .find(|item| item.contains(&format!("workstream:{blocked}")))
        .expect("the blocked workstream is still open");
    assert!(!workstream.contains("Carried over"), "it was discussed");
    assert!(agenda.contains("Past syncs"));
    assert!(agenda.contains("minutes by Dana Whitfield"));
}

#[tokio::test]
async fn the_cadence_follows_severity_until_the_room_names_its_own() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let set = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/sync/schedule"),
            &[("every_hours", "24"), ("next_at", "")],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let (_, page) = team.sam.0.page(&format!("/rooms/{room}/sync")).await;
    assert!(page.contains("Sync · daily"));
    let odd = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/sync/schedule"),
            &[("every_hours", "7")],
        )
        .await;
    assert_eq!(odd.status(), StatusCode::CONFLICT);
    let by_partner = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/sync/schedule"),
            &[("every_hours", "24")],
        )
        .await;
    assert_eq!(by_partner.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn members_get_the_agenda_an_hour_before_once_across_two_instances() {
    let options = Options {
        args: vec!["--nudge-poll-ms".into(), "50".into()],
        ..Options::default()
    };
    let app = TestApp::spawn_with_smtp(SmtpSink::start().await, options).await;
    let second = app.another_instance().await;
    let team = app.team().await;
    let (room, _, _, _) = seeded(&app, &team).await;
    let soon = chrono::DateTime::from_timestamp_millis(app.clock.now() + 30 * 60_000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let set = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/sync/schedule"),
            &[("every_hours", "84"), ("next_at", soon.as_str())],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let agenda = app.smtp.wait_for_to("sam@example.com", 1).await;
    let agenda = agenda
        .iter()
        .find(|m| m.text().contains("The sync on"))
        .expect("the agenda email");
    assert!(
        agenda
            .text()
            .contains("Forecast per cluster, 90 days ahead")
    );
    assert!(agenda.text().contains(&format!("/rooms/{room}/sync")));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let agendas = app
        .smtp
        .messages_to("sam@example.com")
        .into_iter()
        .filter(|m| m.text().contains("The sync on"))
        .count();
    assert_eq!(agendas, 1, "once, however many instances sweep");
    assert!(
        app.smtp.messages_to("olga@example.com").is_empty(),
        "only members"
    );
    drop(second);
    app.outbox_settled().await;
}
