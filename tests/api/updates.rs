//! Leadership updates aligned before they are shared, and the frozen pre-reads.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

fn article(html: &str) -> String {
    let start = html.find("<article").expect("a pre-read article");
    let end = html.find("</article>").unwrap();
    html[start..end].to_owned()
}

#[tokio::test]
async fn publishing_is_refused_until_every_pm_aligned_and_then_tells_leadership() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    team.dana
        .0
        .write_update(room, "at_risk", "Forecast needed before January")
        .await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;

    let refused = team.dana.0.publish_update(room, update).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Sam Okafor has not aligned on the current revision")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM pre_reads").await, 0);
    let (_, timeline) = team
        .dana
        .0
        .page(&format!("/rooms/{room}?category=updates"))
        .await;
    assert!(timeline.contains("Publish blocked: Dana Whitfield tried to publish"));

    team.sam.0.align_update(room, update, 1).await;
    let done = team.dana.0.publish_update(room, update).await;
    assert_eq!(
        crate::helpers::location(&done),
        format!("/rooms/{room}/pre-reads/1")
    );
    let (status, page) = team.elena.0.page(&format!("/rooms/{room}/pre-read")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Forecast needed before January"));
    assert!(page.contains("At risk"));
    let mail = app.smtp.wait_for_to("elena@example.com", 1).await;
    app.outbox_settled().await;
    assert!(
        mail[0]
            .text()
            .contains("Subject: Pre-read: Forecast needed before January")
    );
    assert!(
        mail[0]
            .text()
            .contains(&format!("/rooms/{room}/pre-reads/1"))
    );
    assert!(
        app.smtp.messages_to("ravi@example.com").is_empty(),
        "only leadership members are told"
    );
    let sql = format!(
        "SELECT COUNT(*) FROM rooms WHERE id = {room} AND next_leadership_update_due IS NOT NULL"
    );
    assert_eq!(count(&app, &sql).await, 1);
}

#[tokio::test]
async fn an_edit_after_alignment_makes_the_update_unpublishable() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    team.dana.0.write_update(room, "on_track", "All good").await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    team.sam.0.align_update(room, update, 1).await;
    team.dana
        .0
        .revise_update(room, update, "Not so good after all")
        .await;
    let refused = team.dana.0.publish_update(room, update).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Sam Okafor aligned on revision 1, which has since been edited")
    );
    let stale = team.sam.0.align_update(room, update, 1).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("the current revision is 2")
    );
    team.sam.0.align_update(room, update, 2).await;
    assert_eq!(
        team.dana.0.publish_update(room, update).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = team.elena.0.page(&format!("/rooms/{room}/pre-read")).await;
    assert!(page.contains("Not so good after all"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_pm_added_later_blocks_publishing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    team.dana.0.write_update(room, "on_track", "All good").await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    team.sam.0.align_update(room, update, 1).await;
    let olga = team.outsider.1.to_string();
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/members"),
            &[("user", olga.as_str()), ("kind", "pm")],
        )
        .await;
    let refused = team.dana.0.publish_update(room, update).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Olga Outsider has not aligned")
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_published_pre_read_never_changes_and_the_next_version_says_what_changed() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let dana = team.dana.1.to_string();
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
    app.published_update(&team, room, "Version one headline")
        .await;
    let (_, before) = team
        .elena
        .0
        .page(&format!("/rooms/{room}/pre-reads/1"))
        .await;
    let before = article(&before);

    // The room moves on: a workstream is blocked, the communicator changes, a new update starts.
    let ws = count(&app, "SELECT id FROM workstreams").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{room}/workstreams/{ws}"),
            &[
                ("title", "Forecast"),
                ("driver", &dana),
                ("status", "blocked"),
            ],
        )
        .await;
    let ravi = team.ravi.1.to_string();
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/handovers"),
            &[
                ("role", "communicator"),
                ("to", &ravi),
                ("reason", "Ravi knows Jordan"),
            ],
        )
        .await;
    team.dana
        .0
        .write_update(room, "off_track", "Version two headline")
        .await;
    let (_, after) = team
        .elena
        .0
        .page(&format!("/rooms/{room}/pre-reads/1"))
        .await;
    assert_eq!(article(&after), before, "a published pre-read is frozen");
    assert!(before.contains("Sam Okafor") && before.contains("Version one headline"));

    let second = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    team.sam.0.align_update(room, second, 1).await;
    team.dana.0.publish_update(room, second).await;
    let (_, latest) = team.elena.0.page(&format!("/rooms/{room}/pre-read")).await;
    assert!(latest.contains("Version two headline"));
    assert!(latest.contains("Since version 1"));
    assert!(latest.contains("Overall status: Off track (was On track)."));
    assert!(latest.contains("Ravi Menon now speaks to the customer (was Sam Okafor)."));
    assert!(latest.contains("“Forecast” is blocked (was active)."));
    let (_, first_again) = team
        .elena
        .0
        .page(&format!("/rooms/{room}/pre-reads/1"))
        .await;
    assert_eq!(
        article(&first_again).replace(" (a newer version 2 exists)", ""),
        before
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn who_may_read_write_align_and_publish() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    app.published_update(&team, room, "Published headline")
        .await;
    let (admin, _) = app
        .signed_in("morgan@example.com", "Morgan Blake", true)
        .await;
    for (who, client) in [
        ("dana", &team.dana.0),
        ("sam", &team.sam.0),
        ("ravi", &team.ravi.0),
        ("elena", &team.elena.0),
        ("admin", &admin),
    ] {
        let (status, page) = client.page(&format!("/rooms/{room}/pre-read")).await;
        assert_eq!(status, StatusCode::OK, "{who} reads the pre-read");
        assert!(page.contains("Published headline"));
    }
    for path in [
        format!("/rooms/{room}/pre-read"),
        format!("/rooms/{room}/pre-reads/1"),
        format!("/rooms/{room}/updates/1"),
    ] {
        assert_eq!(
            team.outsider.0.page(&path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for (who, client) in [("ravi", &team.ravi.0), ("elena", &team.elena.0)] {
        assert_eq!(
            client.write_update(room, "on_track", "Mine").await.status(),
            StatusCode::FORBIDDEN,
            "{who} writes"
        );
    }
    assert_eq!(
        team.outsider
            .0
            .write_update(room, "on_track", "Mine")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    team.dana.0.write_update(room, "on_track", "Next one").await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    for (who, client) in [("ravi", &team.ravi.0), ("elena", &team.elena.0)] {
        assert_eq!(
            client.align_update(room, update, 1).await.status(),
            StatusCode::FORBIDDEN,
            "{who} aligns"
        );
        assert_eq!(
            client.publish_update(room, update).await.status(),
            StatusCode::FORBIDDEN,
            "{who} publishes"
        );
    }
    assert_eq!(
        team.outsider.0.align_update(room, update, 1).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        team.sam.0.align_update(room, update, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        team.sam.0.publish_update(room, update).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM pre_reads").await, 2);
    app.outbox_settled().await;
}

#[tokio::test]
async fn pre_reads_print_without_navigation() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    app.published_update(&team, room, "Printable").await;
    let (_, page) = team.elena.0.page(&format!("/rooms/{room}/pre-read")).await;
    assert!(page.contains("class=\"no-print crumbs\""));
    let (_, css) = team.elena.0.page("/static/style.css").await;
    let print = &css[css.find("@media print").expect("a print stylesheet")..];
    assert!(
        print.contains(".topbar") && print.contains(".no-print") && print.contains("display: none")
    );
    assert!(print.contains("@page { size: A4"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_index_puts_overdue_and_troubled_rooms_first() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let on_track = team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    let at_risk = team.open_another_for(customer).await;
    let unheard = team.open_another_for(customer).await;
    app.published_update(&team, on_track, "Calm room").await;
    // Move the calm room's next update due date into the near future, then let it pass.
    let db = app.db().await;
    sqlx::query("UPDATE rooms SET next_leadership_update_due = $1 WHERE id = $2")
        .bind(app.clock.now() + 3_600_000)
        .bind(on_track)
        .execute(db.writer())
        .await
        .unwrap();
    db.close().await;
    team.dana
        .0
        .write_update(at_risk, "at_risk", "Worried room")
        .await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    team.sam.0.align_update(at_risk, update, 1).await;
    team.dana.0.publish_update(at_risk, update).await;

    let (_, before) = team.elena.0.page("/pre-reads").await;
    let position = |html: &str, needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(
        position(&before, "Worried room")
            < position(&before, &format!("/rooms/{unheard}/pre-read"))
    );
    assert!(
        position(&before, &format!("/rooms/{unheard}/pre-read")) < position(&before, "Calm room")
    );
    assert!(!before.contains("Update overdue"));

    app.clock.advance(std::time::Duration::from_secs(2 * 3600));
    let (_, after) = team.elena.0.page("/pre-reads").await;
    assert!(
        position(&after, "Calm room") < position(&after, "Worried room"),
        "overdue comes first"
    );
    assert!(after.contains("Update overdue"));
    assert!(after.contains("overdue by 60 minutes"));
    let (_, room_page) = team.elena.0.page(&format!("/rooms/{on_track}")).await;
    assert!(room_page.contains("overdue by 60 minutes"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_index_shows_each_rooms_latest_pre_read() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let customer = count(&app, "SELECT id FROM customers").await;
    let other = team.open_another_for(customer).await;
    app.published_update(&team, room, "First headline").await;
    app.published_update(&team, room, "Second headline").await;
    app.published_update(&team, other, "Another headline").await;

    let (_, index) = team.elena.0.page("/pre-reads").await;
    assert!(index.contains("Second headline"), "{index}");
    assert!(index.contains("Another headline"), "{index}");
    assert!(
        !index.contains("First headline"),
        "only the latest pre-read"
    );
    let lines_of = |id: i64| index.matches(&format!("/rooms/{id}/pre-read")).count();
    assert!(lines_of(other) > 0);
    assert_eq!(lines_of(room), lines_of(other), "one line per room");
    app.outbox_settled().await;
}

/// A director in thousands of rooms has the index walked in due order (`updates::index`): it
/// shows the 500 soonest due, overdue first, each with its latest pre-read.
#[tokio::test]
async fn a_director_in_thousands_of_rooms_sees_the_soonest_due_first() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    app.published_update(&team, room, "First headline").await;
    app.published_update(&team, room, "Second headline").await;
    let elena = team.elena.1;
    let db = app.db().await;
    let statements = [
        // 5,000 more open rooms like Northwind's, due one second apart after it.
        format!(
            "INSERT INTO rooms (customer_id, title, search_key, problem, severity, escalated_at, \
             lead_user_id, communicator_user_id, opened_by, opened_at, updated_at, \
             next_leadership_update_due) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
             SELECT customer_id, 'Copied room', search_key, problem, severity, escalated_at, \
             lead_user_id, communicator_user_id, opened_by, opened_at, updated_at, \
             2000000000000 + n.i * 1000 FROM rooms, n WHERE rooms.id = {room}"
        ),
        format!(
            "INSERT INTO members (room_id, user_id, kind, added_by, added_at) \
             SELECT id, {elena}, 'leadership', {elena}, 0 FROM rooms WHERE id <> {room}"
        ),
        // Northwind's update is overdue; a closed room is not shown however soon it is due.
        format!("UPDATE rooms SET next_leadership_update_due = 1 WHERE id = {room}"),
        "UPDATE rooms SET status = 'closed', next_leadership_update_due = 2 \
         WHERE id = (SELECT MAX(id) FROM rooms)"
            .to_owned(),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(db.writer()).await.unwrap();
    }
    db.close().await;
    // The copy due `i` seconds after the first.
    let copy = |i: i64| {
        format!(
            "SELECT id FROM rooms WHERE next_leadership_update_due = 2000000000000 + {i} * 1000"
        )
    };
    let closed = count(&app, "SELECT MAX(id) FROM rooms").await;
    let (first_copy, last_shown, first_left_out) = (
        count(&app, &copy(1)).await,
        count(&app, &copy(499)).await,
        count(&app, &copy(500)).await,
    );

    let (_, index) = team.elena.0.page("/pre-reads").await;
    let shown = |id: i64| index.contains(&format!("/rooms/{id}/pre-read\""));
    assert_eq!(index.matches("/pre-read\"").count(), 500, "the first 500");
    assert!(shown(room) && shown(first_copy) && shown(last_shown));
    assert!(!shown(closed), "closed rooms are left out");
    assert!(!shown(first_left_out), "the 501st soonest is left out");
    let overdue = index.find(&format!("/rooms/{room}/pre-read\"")).unwrap();
    assert!(
        overdue
            < index
                .find(&format!("/rooms/{first_copy}/pre-read\""))
                .unwrap()
    );
    assert!(index.contains("Second headline") && !index.contains("First headline"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_pre_read_shows_what_the_customer_was_told_since_the_previous_one() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    team.sam.0.send_draft(room, draft, 1).await;
    app.smtp.wait_for_to(crate::helpers::JORDAN, 1).await;
    app.outbox_settled().await;
    app.clock.advance(std::time::Duration::from_secs(60));
    app.published_update(&team, room, "Forecast on track").await;
    let (_, first) = team
        .elena
        .0
        .page(&format!("/rooms/{room}/pre-reads/1"))
        .await;
    assert!(first.contains("What the customer was told"), "{first}");
    assert!(first.contains("We will show you the 90-day forecast on Friday."));
    assert!(first.contains("“Your capacity forecast: next steps”"));

    // The next pre-read shows only what was sent after the first.
    app.clock.advance(std::time::Duration::from_secs(60));
    app.published_update(&team, room, "Still on track").await;
    let (_, second) = team
        .elena
        .0
        .page(&format!("/rooms/{room}/pre-reads/2"))
        .await;
    assert!(!second.contains("What the customer was told"), "{second}");
    app.outbox_settled().await;
}

#[tokio::test]
async fn update_texts_render_lists_and_never_markup() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let fields = [
        ("status", "on_track"),
        ("headline", "Lists"),
        (
            "what_changed",
            "Since Monday:\n- the prototype runs\n- <script>alert(1)</script>",
        ),
        ("next_due", "2030-01-10T09:00"),
    ];
    team.dana
        .0
        .post_form(&format!("/rooms/{room}/updates"), &fields)
        .await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/updates/{update}"))
        .await;
    assert!(page.contains("<li>the prototype runs</li>"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_stale_alignment_on_an_update_returns_to_the_update_with_the_reason() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    team.dana.0.write_update(room, "on_track", "First").await;
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    team.dana.0.revise_update(room, update, "Second").await;
    let stale = team.sam.0.align_update(room, update, 1).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let page = stale.text().await.unwrap();
    assert!(page.contains("Revision 1 is no longer current: the current revision is 2."));
    assert!(page.contains("Align on revision 2") && page.contains("id=\"update-live\""));
    let sams = format!(
        "SELECT COUNT(*) FROM approvals WHERE user_id = {}",
        team.sam.1
    );
    assert_eq!(count(&app, &sams).await, 0, "nothing changed");
    app.outbox_settled().await;
}
