//! When PMs disagree or one is away: objections with reasons, escalation to a named person,
//! stand-ins, reminders, and aligning from the email — none of it lets a revision out without
//! every PM (or their stand-in, or a ruling) on that exact revision.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{Options, TestApp, count};
use crate::smtp::SmtpSink;

const REASON: &str = "Promising Friday before QA signs off repeats the mistake of last month";

async fn object(
    client: &crate::helpers::Client,
    room: i64,
    draft: i64,
    revision: i64,
) -> reqwest::Response {
    client
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/objection"),
            &[("revision", &revision.to_string()), ("reason", REASON)],
        )
        .await
}

async fn escalate(
    client: &crate::helpers::Client,
    room: i64,
    draft: i64,
    objector: i64,
) -> reqwest::Response {
    client
        .post_form(
            &format!("/rooms/{room}/escalations"),
            &[
                ("subject", "draft"),
                ("subject_id", &draft.to_string()),
                ("objector", &objector.to_string()),
            ],
        )
        .await
}

fn escalation_from(response: &reqwest::Response) -> i64 {
    let location = crate::helpers::location(response);
    location.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_objection_blocks_the_send_says_why_and_goes_stale_with_a_new_revision() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let empty = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/drafts/{draft}/objection"),
            &[("revision", "1"), ("reason", "  ")],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::CONFLICT, "a reason is required");
    assert_eq!(
        object(&team.dana.0, room, draft, 1).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, dashboard) = team.sam.0.page("/").await;
    assert!(
        !dashboard.contains("Ready to send"),
        "an objection is not an alignment"
    );
    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.unwrap();
    let said = format!("Dana Whitfield objects to revision 1: {REASON}");
    assert!(page.contains(&said), "the 409 page names the objection");
    assert!(!page.contains("Dana Whitfield has not aligned"));
    let (_, draft_page) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(draft_page.contains(&format!("Objects: {REASON}")));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE kind = 'drafts.objected'"
        )
        .await,
        1
    );
    // A new revision makes the objection stale: Dana is asked again.
    let before = app.smtp.messages_to("dana@example.com").len();
    team.sam
        .0
        .edit_draft(
            room,
            draft,
            "Hello Jordan,\n\nFriday, once QA signs off.\n\nSam",
        )
        .await;
    let (_, draft_page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(draft_page.contains("Objected to revision 1; asked again on this one"));
    app.smtp.wait_for_to("dana@example.com", before + 1).await;
    let refused = team.sam.0.send_draft(room, draft, 2).await;
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("objected to revision 1; it has changed since")
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_ruling_unblocks_exactly_the_escalated_revision_and_no_other() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    object(&team.dana.0, room, draft, 1).await;
    let raised = escalate(&team.sam.0, room, draft, team.dana.1).await;
    assert_eq!(raised.status(), StatusCode::SEE_OTHER);
    let escalation = escalation_from(&raised);
    // Dana leads the room, so she is the escalation point — and the objector: Elena (leadership)
    // rules instead, and is emailed.
    let asked = app.smtp.wait_for_to("elena@example.com", 1).await;
    assert!(
        asked[0]
            .text()
            .contains(&format!("/rooms/{room}/escalations/{escalation}"))
    );
    let path = format!("/rooms/{room}/escalations/{escalation}");
    let (_, dashboard) = team.elena.0.page("/").await;
    assert!(
        dashboard.contains("Rule on Dana Whitfield&#39;s disagreement about a customer email")
            || dashboard.contains("Rule on Dana Whitfield's disagreement about a customer email"),
        "the ruling waits in Elena's Needs you"
    );
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(!dashboard.contains("Rule on"), "not for the objector");
    let (_, page) = team.elena.0.page(&path).await;
    assert!(page.contains(REASON) && page.contains("Go ahead with revision 1"));
    let by_objector = team
        .dana
        .0
        .post_form(&format!("{path}/ruling"), &[("ruling", "proceed")])
        .await;
    assert_eq!(
        by_objector.status(),
        StatusCode::FORBIDDEN,
        "a party does not rule alone"
    );
    let ruled = team
        .elena
        .0
        .post_form(
            &format!("{path}/ruling"),
            &[
                ("ruling", "proceed"),
                ("note", "QA signed off this morning"),
            ],
        )
        .await;
    assert_eq!(ruled.status(), StatusCode::SEE_OTHER);
    let again = team
        .elena
        .0
        .post_form(&format!("{path}/ruling"), &[("ruling", "uphold")])
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "ruled once");
    let (_, draft_page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(draft_page.contains("Settled by Elena Vasquez"));
    // The ruling aligned Dana on revision 1 only: a new revision needs her again.
    team.sam
        .0
        .edit_draft(room, draft, "Hello Jordan,\n\nA new promise.\n\nSam")
        .await;
    let refused = team.sam.0.send_draft(room, draft, 2).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Dana Whitfield aligned on revision 1")
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE kind = 'decisions.ruled'"
        )
        .await,
        1
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_ruling_racing_a_new_revision_never_lets_an_unaligned_revision_out() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    object(&team.dana.0, room, draft, 1).await;
    let escalation = escalation_from(&escalate(&team.sam.0, room, draft, team.dana.1).await);
    let path = format!("/rooms/{room}/escalations/{escalation}/ruling");
    let (ruling, edit) = tokio::join!(
        team.elena.0.post_form(&path, &[("ruling", "proceed")]),
        team.sam
            .0
            .edit_draft(room, draft, "Hello Jordan,\n\nSomething else.\n\nSam"),
    );
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    assert!(
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT].contains(&ruling.status()),
        "{}",
        ruling.status()
    );
    let sent = team.sam.0.send_draft(room, draft, 2).await;
    assert_eq!(
        sent.status(),
        StatusCode::CONFLICT,
        "revision 2 was never settled"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_stand_in_speaks_for_an_absent_pm_only_while_they_are_away() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let away = |stand_in: i64| {
        let stand_in = stand_in.to_string();
        let dana = &team.dana.0;
        async move {
            dana.post_form(
                &format!("/rooms/{room}/away"),
                &[("until", "2099-12-04T17:00"), ("stand_in", &stand_in)],
            )
            .await
        }
    };
    assert_eq!(
        away(team.ravi.1).await.status(),
        StatusCode::CONFLICT,
        "a partner cannot stand in"
    );
    assert_eq!(away(team.elena.1).await.status(), StatusCode::SEE_OTHER);
    let told = app.smtp.wait_for_to("elena@example.com", 1).await;
    let subject = told[0].header("Subject").unwrap();
    assert!(
        subject.contains("You stand in for Dana Whitfield"),
        "{subject}"
    );
    let for_dana = [("revision", "1"), ("for_user", &team.dana.1.to_string())];
    let by_sam = team
        .sam
        .0
        .post_form(&format!("/rooms/{room}/drafts/{draft}/approval"), &for_dana)
        .await;
    assert_eq!(
        by_sam.status(),
        StatusCode::FORBIDDEN,
        "only the named stand-in"
    );
    let by_elena = team
        .elena
        .0
        .post_form(&format!("/rooms/{room}/drafts/{draft}/approval"), &for_dana)
        .await;
    assert_eq!(by_elena.status(), StatusCode::SEE_OTHER);
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("Aligned by Elena Vasquez for them (away until"));
    // Dana is back: Elena's alignment no longer speaks for her.
    let back = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/away/end"), &[])
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    // Away again: it counts again, and then the send goes out.
    away(team.elena.1).await;
    let sent = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    app.outbox_settled().await;
}

#[tokio::test]
async fn away_ends_by_itself_and_one_stand_in_never_covers_two() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let now = chrono::DateTime::from_timestamp_millis(app.clock.now()).unwrap();
    let until = (now + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let set = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/away"),
            &[("until", &until), ("stand_in", &team.elena.1.to_string())],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let twice = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/away"),
            &[("until", &until), ("stand_in", &team.elena.1.to_string())],
        )
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert!(
        twice
            .text()
            .await
            .unwrap()
            .contains("already stands in for Dana Whitfield")
    );
    let for_dana = [("revision", "1"), ("for_user", &team.dana.1.to_string())];
    team.elena
        .0
        .post_form(&format!("/rooms/{room}/drafts/{draft}/approval"), &for_dana)
        .await;
    app.clock.advance(Duration::from_secs(3 * 3600));
    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(
        refused.status(),
        StatusCode::CONFLICT,
        "Dana's absence ran out"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_contested_decision_is_decided_on_escalation() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let commercial = count(
        &app,
        &format!("SELECT id FROM decision_types WHERE room_id = {room} AND name = 'Commercial'"),
    )
    .await;
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/decisions"),
            &[
                ("decision_type", &commercial.to_string()),
                ("title", "Extend the trial by 60 days"),
                ("rationale", "Buys time"),
            ],
        )
        .await;
    let decision = count(&app, "SELECT MAX(id) FROM decisions").await;
    let contested = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/decisions/{decision}/contest"),
            &[("reason", "Costs a quarter's margin")],
        )
        .await;
    assert_eq!(contested.status(), StatusCode::SEE_OTHER);
    let (_, page) = team.sam.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Contested by Dana Whitfield:"));
    let raised = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/escalations"),
            &[
                ("subject", "decision"),
                ("subject_id", &decision.to_string()),
            ],
        )
        .await;
    assert_eq!(raised.status(), StatusCode::SEE_OTHER);
    let escalation = escalation_from(&raised);
    let ruled = team
        .elena
        .0
        .post_form(
            &format!("/rooms/{room}/escalations/{escalation}/ruling"),
            &[("ruling", "decided")],
        )
        .await;
    assert_eq!(ruled.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM decisions WHERE id = {decision} AND status = 'decided'")
        )
        .await,
        1
    );
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("on escalation by Elena Vasquez"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn one_reminder_per_period_across_two_instances_then_the_lead_hears() {
    let options = Options {
        args: vec!["--nudge-poll-ms".into(), "50".into()],
        ..Options::default()
    };
    let app = TestApp::spawn_with_smtp(SmtpSink::start().await, options).await;
    let second = app.another_instance().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    app.smtp.wait_for_to("dana@example.com", 1).await;
    let reminders = || async {
        app.smtp
            .messages_to("dana@example.com")
            .iter()
            .filter(|m| {
                m.header("Subject")
                    .is_some_and(|s| s.starts_with("Reminder"))
            })
            .count()
    };
    app.clock.advance(Duration::from_secs(4 * 3600 + 60));
    crate::helpers::eventually("a reminder", || async { reminders().await == 1 }).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(reminders().await, 1, "both instances swept; one reminder");
    let (_, page) = team
        .sam
        .0
        .page(&format!("/rooms/{room}/drafts/{draft}"))
        .await;
    assert!(page.contains("waiting for Dana Whitfield for 4 hours"));
    // Two periods: a second reminder, and (Dana leads) the room's leadership hears who holds it.
    app.clock.advance(Duration::from_secs(4 * 3600));
    crate::helpers::eventually("a second reminder", || async { reminders().await == 2 }).await;
    // Elena, a leadership member, also gets her weekly digest from the same sweeps.
    let holding = || {
        app.smtp
            .messages_to("elena@example.com")
            .iter()
            .filter(|m| {
                m.header("Subject")
                    .is_some_and(|s| s.contains("Dana Whitfield is holding"))
            })
            .count()
    };
    crate::helpers::eventually("the leadership hears", || async { holding() == 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(holding(), 1, "once");
    drop(second);
    app.outbox_settled().await;
}

#[tokio::test]
async fn the_alignment_link_aligns_only_its_person_on_its_revision_and_only_by_post() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.room_with_draft(&team).await;
    let mail = app.smtp.wait_for_to("dana@example.com", 1).await.remove(0);
    let link = mail
        .link_starting(&format!("{}/align/", app.address))
        .expect("a one-time link");
    let path = link.trim_start_matches(&app.address).to_owned();
    let positions_sql = format!(
        "SELECT COUNT(*) FROM approvals WHERE user_id = {}",
        team.dana.1
    );
    let dana_positions = || count(&app, &positions_sql);
    let (status, page) = team.dana.0.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Align on revision 1"));
    assert_eq!(dana_positions().await, 0, "opening the link aligns nobody");
    assert_eq!(
        team.sam.0.get(&path).await.status(),
        StatusCode::FORBIDDEN,
        "another person"
    );
    assert_eq!(
        team.sam.0.post_form(&path, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    // Signed out: sign in first, then back to the link.
    let stranger = app.client();
    let redirected = stranger.get(&path).await;
    assert_eq!(crate::helpers::location(&redirected), "/sign-in");
    let signed_in = stranger
        .sign_in("dana@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(crate::helpers::location(&signed_in), path);
    let aligned = team.dana.0.post_form(&path, &[]).await;
    assert_eq!(aligned.status(), StatusCode::SEE_OTHER);
    assert_eq!(dana_positions().await, 1);
    assert_eq!(
        team.dana.0.post_form(&path, &[]).await.status(),
        StatusCode::GONE,
        "once"
    );

    // A link for a revision that is no longer current says so and aligns nothing.
    team.sam
        .0
        .edit_draft(room, draft, "Hello Jordan,\n\nRevised.\n\nSam")
        .await;
    let second = app.smtp.wait_for_to("dana@example.com", 2).await.remove(1);
    let fresh = second
        .link_starting(&format!("{}/align/", app.address))
        .unwrap();
    let fresh_path = fresh.trim_start_matches(&app.address).to_owned();
    team.sam
        .0
        .edit_draft(room, draft, "Hello Jordan,\n\nRevised again.\n\nSam")
        .await;
    let (_, stale) = team.dana.0.page(&fresh_path).await;
    assert!(stale.contains("Revision 2 is no longer current"));
    assert_eq!(
        team.dana.0.post_form(&fresh_path, &[]).await.status(),
        StatusCode::CONFLICT
    );
    // And it expires.
    let third = app.smtp.wait_for_to("dana@example.com", 3).await.remove(2);
    let last = third
        .link_starting(&format!("{}/align/", app.address))
        .unwrap();
    app.clock.advance(Duration::from_secs(73 * 3600));
    let expired = team.dana.0.get(last.trim_start_matches(&app.address)).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_objection_to_a_leadership_update_blocks_publishing_with_its_reason() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let written = team
        .dana
        .0
        .write_update(room, "at_risk", "The forecast slips a week")
        .await;
    assert_eq!(written.status(), StatusCode::SEE_OTHER);
    let update = count(&app, "SELECT MAX(id) FROM leadership_updates").await;
    let objected = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/updates/{update}/objection"),
            &[
                ("revision", "1"),
                ("reason", "It does not say why it slips"),
            ],
        )
        .await;
    assert_eq!(objected.status(), StatusCode::SEE_OTHER);
    let refused = team.dana.0.publish_update(room, update).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Sam Okafor objects to revision 1: It does not say why it slips")
    );
    // Withdrawn, then aligned: it publishes.
    team.sam
        .0
        .post_form(
            &format!("/rooms/{room}/updates/{update}/approval/withdrawal"),
            &[],
        )
        .await;
    team.sam.0.align_update(room, update, 1).await;
    let published = team.dana.0.publish_update(room, update).await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    app.outbox_settled().await;
}
