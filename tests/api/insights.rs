//! `/insights`: the coordination measures across the rooms a reader may read, and only those.

use reqwest::StatusCode;

use crate::helpers::{JORDAN, Options, TestApp, count};
use crate::smtp::SmtpSink;

#[tokio::test]
async fn insights_show_only_readable_rooms_with_numbers_that_trace_to_them() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let customer = count(&app, "SELECT MAX(id) FROM customers")
        .await
        .to_string();
    let sam = team.sam.1.to_string();
    let hidden = team
        .dana
        .0
        .post_form(
            "/rooms/new",
            &[
                ("customer", customer.as_str()),
                ("title", "A room without leadership"),
                ("problem", "Only PMs here."),
                ("severity", "S3"),
                ("my_kind", "pm"),
                ("pms", sam.as_str()),
                ("communicator", sam.as_str()),
            ],
        )
        .await;
    assert_eq!(hidden.status(), StatusCode::SEE_OTHER);
    let jordan = app.contact_id(JORDAN).await;
    for (who, channel) in [(&team.sam.0, "email"), (&team.lee.0, "chat")] {
        let logged = who
            .post_form(
                &format!("/rooms/{room}/touches"),
                &[
                    ("contact", &jordan.to_string()),
                    ("channel", channel),
                    ("summary", "Wrote to Jordan"),
                ],
            )
            .await;
        assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    }

    let (status, page) = team.elena.0.page("/insights").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Capacity monitoring does not say when to order"));
    assert!(
        !page.contains("A room without leadership"),
        "only rooms Elena can read"
    );
    assert!(
        page.contains("<th scope=\"row\">two voices</th><td>1 contact</td>"),
        "Sam and Lee both wrote to Jordan"
    );
    assert!(page.contains("1 time two members reached the same contact within a day"));

    let (_, everything) = team.elena.0.page("/insights?days=0").await;
    assert!(everything.contains("All time"));
    let admin = app.signed_in("ada@example.com", "Ada Admin", true).await;
    let (_, all) = admin.0.page("/insights").await;
    assert!(
        all.contains("A room without leadership"),
        "admins read every room"
    );
    assert_eq!(team.dana.0.page("/insights").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        team.outsider.0.page("/insights").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_weekly_digest_reaches_leadership_with_the_numbers_of_insights() {
    let options = Options {
        args: vec!["--nudge-poll-ms".into(), "50".into()],
        ..Options::default()
    };
    let app = TestApp::spawn_with_smtp(SmtpSink::start().await, options).await;
    let team = app.team().await;
    let off = team
        .elena
        .0
        .post_form("/settings/digest", &[("weekly_digest", "")])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let room = team.open_northwind().await;
    let scope = count(
        &app,
        "SELECT id FROM decision_types WHERE name = 'Product scope'",
    )
    .await;
    team.ravi
        .0
        .post_form(
            &format!("/rooms/{room}/decisions"),
            &[
                ("decision_type", &scope.to_string()),
                ("title", "Forecast per cluster"),
                ("rationale", ""),
            ],
        )
        .await;
    app.clock.advance(std::time::Duration::from_secs(26 * 3600));
    let decision = count(&app, "SELECT MAX(id) FROM decisions").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{decision}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        app.smtp
            .messages_to("elena@example.com")
            .iter()
            .all(|m| !m.text().contains("this week")),
        "opted out: no digest"
    );
    let on = team
        .elena
        .0
        .post_form("/settings/digest", &[("weekly_digest", "yes")])
        .await;
    assert_eq!(on.status(), StatusCode::SEE_OTHER);
    let digest = loop {
        let found = app
            .smtp
            .messages_to("elena@example.com")
            .into_iter()
            .find(|m| m.text().contains("Your escalations this week"));
        if let Some(found) = found {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (_, page) = team.elena.0.page("/insights").await;
    let on_page = page
        .split("<th scope=\"row\">Product scope</th><td>")
        .nth(1)
        .and_then(|rest| rest.split("</td>").next())
        .expect("Product scope's velocity on /insights")
        .to_owned();
    assert!(on_page.contains("(1 decided)"));
    let text = digest.text();
    assert!(
        text.contains(&format!("Median time to decide, Product scope: {on_page}")),
        "the same number as the page: {on_page}\n{text}"
    );
    assert!(text.contains("Capacity monitoring does not say when to order"));
    assert!(
        app.smtp
            .messages_to("ravi@example.com")
            .iter()
            .all(|m| !m.text().contains("this week")),
        "leadership only"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let digests = app
        .smtp
        .messages_to("elena@example.com")
        .into_iter()
        .filter(|m| m.text().contains("Your escalations this week"))
        .count();
    assert_eq!(digests, 1, "once a week");
    app.outbox_settled().await;
}

#[tokio::test]
async fn refused_sends_keep_their_reasons_and_a_question_not_asked_again_counts_as_avoided() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;

    // Seen before anything was refused: the figures computed now must not outlive the changes.
    let (_, before) = team.elena.0.page("/insights").await;
    assert!(!before.contains("A PM had not aligned"));

    // Dana has not aligned; Lee is not the communicator: two refusals, three reasons in all.
    let by_sam = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(by_sam.status(), StatusCode::CONFLICT);
    let by_lee = team.lee.0.send_draft(room, draft, 1).await;
    assert_eq!(by_lee.status(), StatusCode::CONFLICT);
    let sql = "SELECT COUNT(*) FROM blocked_sends WHERE reasons = 'not_aligned'";
    assert_eq!(count(&app, sql).await, 1, "Sam: only Dana's alignment");
    let sql = "SELECT COUNT(*) FROM blocked_sends WHERE reasons = 'not_aligned,not_communicator'";
    assert_eq!(count(&app, sql).await, 1, "Lee: not the communicator, too");

    // Dana asks; Sam is stopped twice by the same "already asked?" (one check), asks another
    // similar one anyway, and drops the first.
    let jordan = format!("contact:{}", app.contact_id(JORDAN).await);
    let ask = |who: &'static str, body: &'static str, anyway: Option<i64>| {
        let client = if who == "sam" {
            &team.sam.0
        } else {
            &team.dana.0
        };
        let jordan = jordan.clone();
        async move {
            let mut fields = vec![("body", body.to_owned()), ("stakeholder", jordan)];
            if let Some(id) = anyway {
                fields.push(("acknowledged", id.to_string()));
                fields.push(("confirm", "yes".to_owned()));
            }
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client
                .post_form(&format!("/rooms/{room}/questions"), &fields)
                .await
                .status()
        }
    };
    let first = "When do you plan to buy more capacity?";
    assert_eq!(ask("dana", first, None).await, StatusCode::SEE_OTHER);
    let asked = count(&app, "SELECT MAX(id) FROM questions").await;
    let similar = "When will you plan to buy more capacity?";
    assert_eq!(ask("sam", similar, None).await, StatusCode::CONFLICT);
    assert_eq!(
        ask("sam", "  WHEN will you plan to buy more  capacity?", None).await,
        StatusCode::CONFLICT
    );
    let anyway = "Do you plan to buy more capacity this quarter?";
    assert_eq!(ask("sam", anyway, None).await, StatusCode::CONFLICT);
    assert_eq!(ask("sam", anyway, Some(asked)).await, StatusCode::SEE_OTHER);
    let checks = "SELECT COUNT(*) FROM similar_question_checks";
    assert_eq!(count(&app, checks).await, 2, "one check per wording");
    let avoided = "SELECT COUNT(*) FROM similar_question_checks WHERE asked_question_id IS NULL";
    assert_eq!(count(&app, avoided).await, 1);

    let (status, page) = team.elena.0.page("/insights").await;
    assert_eq!(status, StatusCode::OK);
    for row in [
        "<th scope=\"row\">A PM had not aligned</th><td>2 sends</td>",
        "<th scope=\"row\">Not the communicator</th><td>1 send</td>",
        "<th scope=\"row\">Duplicates avoided</th><td>1 question</td>",
        "<th scope=\"row\">Asked anyway, after seeing similar</th><td>1 question</td>",
        "<th scope=\"row\">Asked</th><td>2 questions</td>",
    ] {
        assert!(page.contains(row), "{row} in {page}");
    }
    assert!(page.contains("2 (2 a pm had not aligned, 1 not the communicator)"));
}

#[tokio::test]
async fn a_reading_is_the_same_whether_its_rooms_are_read_one_at_a_time_or_all_at_once() {
    use accord::measures::{Scope, read_in_passes};

    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (drafted, draft) = app.room_with_draft(&team).await;
    let customer = count(&app, "SELECT MAX(id) FROM customers").await;
    let northwind = team.open_another_for(customer).await;
    // A refused send, a question, touches by two people in two rooms and a decision decided:
    // records of every kind a reading folds, spread over more than one room.
    let refused = team.lee.0.send_draft(drafted, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let jordan = app.contact_id(JORDAN).await.to_string();
    let asked = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{drafted}/questions"),
            &[
                ("body", "When do you plan to buy more capacity?"),
                ("stakeholder", &format!("contact:{jordan}")),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    for room in [drafted, northwind] {
        for (who, channel) in [(&team.sam.0, "email"), (&team.dana.0, "chat")] {
            let logged = who
                .post_form(
                    &format!("/rooms/{room}/touches"),
                    &[
                        ("contact", jordan.as_str()),
                        ("channel", channel),
                        ("summary", "Wrote to Jordan"),
                    ],
                )
                .await;
            assert_eq!(logged.status(), StatusCode::SEE_OTHER, "room {room}");
        }
    }
    let scope_type = count(
        &app,
        &format!(
            "SELECT id FROM decision_types WHERE name = 'Product scope' AND room_id = {northwind}"
        ),
    )
    .await;
    let proposed = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{northwind}/decisions"),
            &[
                ("decision_type", &scope_type.to_string()),
                ("title", "Forecast per cluster"),
                ("rationale", ""),
            ],
        )
        .await;
    assert_eq!(proposed.status(), StatusCode::SEE_OTHER);
    let decision = count(&app, "SELECT MAX(id) FROM decisions").await;
    let decided = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{northwind}/decisions/{decision}/outcome"),
            &[("outcome", "decided")],
        )
        .await;
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);

    let now = app.clock.now();
    let mut conn = app.state.db.reader().acquire().await.expect("a connection");
    for scope in [
        Scope::Readable {
            user_id: team.elena.1,
            is_admin: false,
            since: i64::MIN,
        },
        Scope::Readable {
            user_id: team.elena.1,
            is_admin: true,
            since: i64::MIN,
        },
        Scope::Room(northwind),
    ] {
        let mut one = read_in_passes(&mut conn, scope, now, 1)
            .await
            .expect("read one room at a time");
        let mut all = read_in_passes(&mut conn, scope, now, 1_000)
            .await
            .expect("read all rooms at once");
        assert!(!all.rooms.is_empty() && !all.decisions.is_empty() && !all.voices.is_empty());
        one.voices.sort_unstable();
        all.voices.sort_unstable();
        assert_eq!(format!("{one:?}"), format!("{all:?}"), "{scope:?}");
    }
    let everything = read_in_passes(
        &mut conn,
        Scope::Readable {
            user_id: team.elena.1,
            is_admin: true,
            since: i64::MIN,
        },
        now,
        1,
    )
    .await
    .expect("read");
    let ids: Vec<i64> = everything.rooms.iter().map(|r| r.id).collect();
    assert!(ids.contains(&drafted) && ids.contains(&northwind));
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");
    assert_eq!(everything.voices.iter().filter(|v| **v == 2).count(), 2);
}
