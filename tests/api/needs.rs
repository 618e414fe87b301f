//! *Needs you*: exactly what waits for each person, on the dashboard and counted in the top bar.

use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, count};

/// The dashboard's *Needs you* section alone (the rest of the page names drafts too).
async fn needs_of(client: &Client) -> String {
    let (status, page) = client.page("/").await;
    assert_eq!(status, StatusCode::OK);
    let start = page
        .find("id=\"needs-live\"")
        .expect("the dashboard has Needs you");
    let end = page[start..].find("</section>").unwrap() + start;
    page[start..end].to_owned()
}

/// The count in the top bar of any page.
fn top_bar_count(page: &str) -> i64 {
    let start = page
        .find("class=\"needs-count\"")
        .expect("the top bar counts");
    let count = page[start..].find("class=\"count").unwrap() + start;
    let number = page[count..].find('>').unwrap() + count + 1;
    page[number..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn pms_see_the_drafts_waiting_for_their_alignment_and_again_when_it_goes_stale() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let dana = needs_of(&team.dana.0).await;
    assert!(
        dana.contains("Align on the email “Your capacity forecast: next steps”"),
        "{dana}"
    );
    assert!(dana.contains(&format!("/rooms/{room}/drafts/{draft}")));
    assert!(
        dana.contains("waiting"),
        "each item says how long it waits: {dana}"
    );
    // Partners and leadership do not align.
    assert!(!needs_of(&team.ravi.0).await.contains("Align on"));
    assert!(!needs_of(&team.elena.0).await.contains("Align on"));

    team.dana.0.align_draft(room, draft, 1).await;
    assert!(!needs_of(&team.dana.0).await.contains("capacity forecast"));

    let revised = team
        .sam
        .0
        .edit_draft(room, draft, "Hello Jordan, Friday at 10.")
        .await;
    assert_eq!(revised.status(), StatusCode::SEE_OTHER);
    let dana = needs_of(&team.dana.0).await;
    assert!(
        dana.contains(
            "The email “Your capacity forecast: next steps” changed since you aligned: align again"
        ),
        "{dana}"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_communicator_sees_ready_to_send_the_moment_the_last_pm_aligns() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    team.sam.0.align_draft(room, draft, 1).await;
    assert!(!needs_of(&team.sam.0).await.contains("Ready to send"));
    team.dana.0.align_draft(room, draft, 1).await;
    let sam = needs_of(&team.sam.0).await;
    assert!(
        sam.contains("Ready to send: every PM aligned on “Your capacity forecast: next steps”"),
        "{sam}"
    );
    // Only the communicator is told to send.
    assert!(!needs_of(&team.dana.0).await.contains("Ready to send"));
    // A pause takes it off the list: nothing can be sent.
    let paused = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Fix not deployed")],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    assert!(!needs_of(&team.sam.0).await.contains("Ready to send"));
    team.dana
        .0
        .post_form(&format!("/rooms/{room}/pause/end"), &[])
        .await;
    team.sam.0.send_draft(room, draft, 1).await;
    assert!(!needs_of(&team.sam.0).await.contains("Ready to send"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn leadership_updates_wait_for_the_pms_who_have_not_aligned() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    app.written_update(&team, room, "Forecast on track").await;
    let sam = needs_of(&team.sam.0).await;
    assert!(
        sam.contains("Align on the leadership update “Forecast on track”"),
        "{sam}"
    );
    assert!(!needs_of(&team.elena.0).await.contains("Forecast on track"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn drivers_and_leads_see_what_is_overdue_and_outsiders_see_nothing() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let created = team
        .ravi
        .0
        .start_workstream(room, "Forecast prototype", team.ravi.1, "2026-01-05T09:00")
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let late = team
        .dana
        .0
        .edit_northwind(
            room,
            &[
                ("next_customer_update_due", "2026-01-02T09:00"),
                ("next_leadership_update_due", "2026-01-03T09:00"),
            ],
        )
        .await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);

    let ravi = needs_of(&team.ravi.0).await;
    assert!(
        ravi.contains("You drive “Forecast prototype”, overdue by"),
        "{ravi}"
    );
    let dana = needs_of(&team.dana.0).await;
    assert!(dana.contains("the customer update is overdue by"), "{dana}");
    assert!(
        dana.contains("the leadership update is overdue by"),
        "{dana}"
    );
    assert!(
        !dana.contains("Forecast prototype"),
        "Dana does not drive it"
    );

    let outsider = needs_of(&team.outsider.0).await;
    assert!(
        outsider.contains("Nothing waits for you right now."),
        "{outsider}"
    );
    let (_, page) = team.outsider.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 0);
    // The count on any page matches the list.
    let (_, page) = team.dana.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 2);
}

#[tokio::test]
async fn a_pm_in_many_rooms_sees_each_waiting_item_once() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let customer = count(&app, "SELECT customer_id FROM rooms").await;
    for _ in 0..5 {
        team.open_another_for(customer).await;
    }
    let rooms = count(&app, "SELECT COUNT(*) FROM rooms").await;
    assert_eq!(rooms, 6);
    team.dana
        .0
        .write_update(room, "on_track", "One of six")
        .await;
    let sam = needs_of(&team.sam.0).await;
    assert_eq!(
        sam.matches("Align on the leadership update").count(),
        1,
        "{sam}"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_top_bar_count_follows_every_change_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    // Dana reads through the second instance with the same session.
    let dana = team.dana.0.through(&other);
    let (_, page) = dana.page("/customers").await;
    assert_eq!(top_bar_count(&page), 0);
    let update = app.written_update(&team, room, "Forecast on track").await;
    let (_, page) = team.sam.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 1, "Sam must align");
    team.sam.0.align_update(room, update, 1).await;
    let (_, page) = team.sam.0.page("/customers").await;
    assert_eq!(
        top_bar_count(&page),
        0,
        "counted again after the change, not remembered"
    );
    team.ravi
        .0
        .start_workstream(room, "Forecast prototype", team.ravi.1, "2026-01-05T09:00")
        .await;
    let (_, page) = team.ravi.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 1);
    // Dana's count, remembered by the second instance, changes with a change made on the first.
    let (_, page) = dana.page("/customers").await;
    assert_eq!(top_bar_count(&page), 0);
    team.sam
        .0
        .revise_update(room, update, "Forecast slips a week")
        .await;
    let (_, page) = dana.page("/customers").await;
    assert_eq!(
        top_bar_count(&page),
        1,
        "Dana must align on the new revision"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn joining_or_leaving_a_room_changes_the_count_on_the_next_page() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    app.written_update(&team, room, "Forecast on track").await;
    let olga = &team.outsider;
    let (_, page) = olga.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 0, "not in the room yet");
    let added = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/members"),
            &[("user", olga.1.to_string().as_str()), ("kind", "pm")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let (_, page) = olga.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 1, "a new PM must align on the update");
    let removed = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/members/{}/removal", olga.1), &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (_, page) = olga.0.page("/customers").await;
    assert_eq!(
        top_bar_count(&page),
        0,
        "a count remembered before leaving is not served after it"
    );
    assert_eq!(
        olga.0.page(&format!("/rooms/{room}")).await.0,
        StatusCode::NOT_FOUND,
        "removal takes effect on the very next request"
    );
}

#[tokio::test]
async fn many_writes_at_once_to_rooms_sharing_people_bump_each_of_them_once_per_write() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let first = team.open_northwind().await;
    let customer = count(&app, "SELECT customer_id FROM rooms").await;
    let mut rooms = vec![first];
    for _ in 0..3 {
        rooms.push(team.open_another_for(customer).await);
    }
    let stamp = |id: i64| format!("SELECT needs_stamp FROM users WHERE id = {id}");
    let (sam, elena) = (team.sam.1, team.elena.1);
    let before = (
        count(&app, &stamp(sam)).await,
        count(&app, &stamp(elena)).await,
    );
    // Sam and Elena are in all four rooms: every write bumps both, whichever writes commit
    // together (on PostgreSQL the bumps of concurrent writes overlap on their rows).
    const PER_ROOM: usize = 6;
    let dana = &team.dana;
    let writes = rooms.iter().flat_map(|&room| {
        (0..PER_ROOM).map(move |i| async move {
            let title = format!("Slice {i}");
            let started = dana
                .0
                .start_workstream(room, &title, dana.1, "2026-01-05T09:00");
            started.await.status()
        })
    });
    let statuses = futures_util::future::join_all(writes).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    let written = (rooms.len() * PER_ROOM) as i64;
    let after = (
        count(&app, &stamp(sam)).await,
        count(&app, &stamp(elena)).await,
    );
    assert_eq!(after.0 - before.0, written, "Sam's stamp, once per write");
    assert_eq!(after.1 - before.1, written, "Elena's stamp, once per write");
    let (_, page) = team.sam.0.page("/customers").await;
    assert_eq!(top_bar_count(&page), 0, "workstreams ask nothing of Sam");
}
