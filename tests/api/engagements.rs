//! Coordinating before engaging (rule 11): a call is planned, the topic's voice clears it, a
//! second call to the same person the same week is refused with "join it instead", a pause stops
//! calls and email alike, holds are asked for and granted, and the outcome answers the ledger and
//! writes the contact-log touch once. Invitations reach a real SMTP listener as `.ics`.

use std::time::Duration;

use icalendar::{Calendar, Component};
use mail_parser::MimeHeaders;
use reqwest::StatusCode;

use crate::helpers::{Client, JORDAN, Team, TestApp, count, location};

const HOUR: i64 = 3_600_000;

/// A time as the form's `datetime-local` input types it (the test users' zone is UTC).
fn typed(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The Northwind room with Dana driving (and so speaking on) "Forecast from telemetry" and one
/// open question of Dana's to Jordan. Returns (room, workstream, Jordan's contact id, question).
async fn northwind(app: &TestApp, team: &Team) -> (i64, i64, i64, i64) {
    let room = team.open_northwind().await;
    let started = team
        .dana
        .0
        .start_workstream(room, "Forecast from telemetry", team.dana.1, "")
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let workstream = count(app, "SELECT MAX(id) FROM workstreams").await;
    let jordan = app.contact_id(JORDAN).await;
    let asked = team
        .dana
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
    let question = count(app, "SELECT MAX(id) FROM questions").await;
    (room, workstream, jordan, question)
}

/// `who` plans a call with Jordan on the workstream at `at`, bundling `questions`. Returns the
/// response (a redirect to the engagement's page when planned).
async fn plan(
    who: &Client,
    room: i64,
    workstream: i64,
    jordan: i64,
    at: i64,
    questions: &[i64],
) -> reqwest::Response {
    let (workstream, jordan, at) = (workstream.to_string(), jordan.to_string(), typed(at));
    let questions: Vec<String> = questions.iter().map(i64::to_string).collect();
    let mut fields = vec![
        ("kind", "call"),
        ("workstream", workstream.as_str()),
        ("contacts", jordan.as_str()),
        ("starts_at", at.as_str()),
        ("minutes", "30"),
        ("purpose", "Walk Jordan through the forecast"),
    ];
    fields.extend(questions.iter().map(|q| ("questions", q.as_str())));
    who.post_form(&format!("/rooms/{room}/engagements"), &fields)
        .await
}

fn engagement_from(response: &reqwest::Response) -> i64 {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "planned");
    location(response)
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn clear(who: &Client, room: i64, engagement: i64, reason: &str) -> reqwest::Response {
    who.post_form(
        &format!("/rooms/{room}/engagements/{engagement}/clearance"),
        &[("override_reason", reason)],
    )
    .await
}

#[tokio::test]
async fn a_partner_plans_with_the_ledger_questions_and_only_the_voice_clears() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, jordan, question) = northwind(&app, &team).await;
    let (_, form) = team
        .lee
        .0
        .page(&format!("/rooms/{room}/engagements/new?contact={jordan}"))
        .await;
    assert!(
        form.contains(&format!("name=\"questions\" value=\"{question}\" checked")),
        "the open question to Jordan is pre-filled"
    );
    let tomorrow = app.clock.now() + 24 * HOUR;
    let planned = plan(&team.lee.0, room, workstream, jordan, tomorrow, &[question]).await;
    let engagement = engagement_from(&planned);
    let page = format!("/rooms/{room}/engagements/{engagement}");
    let (_, shown) = team.lee.0.page(&page).await;
    assert!(shown.contains("Which cluster grows fastest"));
    assert!(shown.contains("added by Dana Whitfield") || shown.contains("added by Lee Park"));
    assert!(shown.contains(
        "Only the topic&#39;s voice, Dana Whitfield, or the communicator, Sam Okafor, can clear it"
    ));

    let by_planner = clear(&team.lee.0, room, engagement, "").await;
    assert_eq!(by_planner.status(), StatusCode::CONFLICT);
    let refused = by_planner.text().await.unwrap();
    assert!(refused.contains("This engagement cannot be cleared yet"));
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM engagements WHERE id = {engagement} AND state = 'planned'"
            )
        )
        .await,
        1,
        "a refused clearing changes nothing"
    );
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(
        dashboard.contains("Clear or refuse a planned call about “Forecast from telemetry”"),
        "the voice sees it waiting"
    );
    assert_eq!(
        clear(&team.dana.0, room, engagement, "").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, room_page) = team.elena.0.page(&format!("/rooms/{room}")).await;
    assert!(room_page.contains("Call with Jordan Reyes"));
    assert!(room_page.contains("status-cleared"));
    assert!(room_page.contains("Lee Park planned a call with Jordan Reyes"));
    assert!(room_page.contains("Dana Whitfield cleared"));
    assert!(room_page.contains("On “Forecast from telemetry”: <strong>Dana Whitfield</strong>"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn leadership_reads_engagements_and_outsiders_do_not_see_them() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, jordan, _) = northwind(&app, &team).await;
    let at = app.clock.now() + 24 * HOUR;
    let by_leadership = plan(&team.elena.0, room, workstream, jordan, at, &[]).await;
    assert_eq!(by_leadership.status(), StatusCode::FORBIDDEN);
    let engagement = engagement_from(&plan(&team.ravi.0, room, workstream, jordan, at, &[]).await);
    let page = format!("/rooms/{room}/engagements/{engagement}");
    assert_eq!(team.elena.0.page(&page).await.0, StatusCode::OK);
    assert_eq!(team.outsider.0.page(&page).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        team.outsider
            .0
            .page(&format!("/rooms/{room}/engagements/new"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let questions = format!("{page}/questions");
    let added = team
        .elena
        .0
        .post_form(
            &questions,
            &[("body", "Anything?"), ("stakeholder", &jordan.to_string())],
        )
        .await;
    assert_eq!(added.status(), StatusCode::FORBIDDEN);
    let outsider = team
        .outsider
        .0
        .post_form(&format!("{page}/clearance"), &[])
        .await;
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    let nothing = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/engagements"),
            &[("kind", "séance"), ("minutes", "-3")],
        )
        .await;
    assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM engagements").await, 1);
}

#[tokio::test]
async fn a_second_call_to_the_same_contact_inside_the_window_is_refused_and_joins_the_first() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, jordan, question) = northwind(&app, &team).await;
    let tuesday = app.clock.now() + 48 * HOUR;
    let first =
        engagement_from(&plan(&team.dana.0, room, workstream, jordan, tuesday, &[question]).await);
    assert_eq!(
        clear(&team.dana.0, room, first, "").await.status(),
        StatusCode::SEE_OTHER
    );

    // Ravi plans his own call a day later, with his own question.
    let second = engagement_from(
        &plan(
            &team.ravi.0,
            room,
            workstream,
            jordan,
            tuesday + 24 * HOUR,
            &[],
        )
        .await,
    );
    let his_question = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/engagements/{second}/questions"),
            &[
                ("body", "Which sites renew their contract first?"),
                ("stakeholder", &jordan.to_string()),
            ],
        )
        .await;
    assert_eq!(his_question.status(), StatusCode::SEE_OTHER);
    let refused = clear(&team.dana.0, room, second, "").await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let said = refused.text().await.unwrap();
    assert!(
        said.contains("Dana Whitfield&#39;s call with Jordan Reyes on")
            && said.contains("within 48 hours: join it instead"),
        "{said}"
    );
    let (_, page) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}/engagements/{second}"))
        .await;
    assert!(
        page.contains("Join Dana Whitfield&#39;s call on"),
        "the page offers to join"
    );
    assert!(page.contains(&format!("/engagements/{first}/participation")));

    let joined = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/engagements/{first}/participation"),
            &[("from", &second.to_string())],
        )
        .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM engagement_questions WHERE engagement_id = {first}")
        )
        .await,
        2,
        "Ravi's question moved onto Dana's call"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM engagements WHERE id = {second} AND state = 'cancelled'"
            )
        )
        .await,
        1
    );
    let (_, first_page) = team
        .ravi
        .0
        .page(&format!("/rooms/{room}/engagements/{first}"))
        .await;
    assert!(first_page.contains("Which sites renew their contract first?"));
    assert!(first_page.contains("added by Ravi Menon"));

    // Outside the window, a third call is fine.
    let later = engagement_from(
        &plan(
            &team.dana.0,
            room,
            workstream,
            jordan,
            tuesday + 49 * HOUR,
            &[],
        )
        .await,
    );
    assert_eq!(
        clear(&team.dana.0, room, later, "").await.status(),
        StatusCode::SEE_OTHER
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn a_pause_blocks_clearing_and_sending_alike() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let started = team
        .dana
        .0
        .start_workstream(room, "Forecast from telemetry", team.dana.1, "")
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let workstream = count(&app, "SELECT MAX(id) FROM workstreams").await;
    let jordan = app.contact_id(JORDAN).await;
    let at = app.clock.now() + 24 * HOUR;
    let engagement = engagement_from(&plan(&team.dana.0, room, workstream, jordan, at, &[]).await);
    let paused = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Wait for the prototype")],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let blocked = clear(&team.dana.0, room, engagement, "The customer asked for it").await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    let clearing = blocked.text().await.unwrap();
    let sending = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(sending.status(), StatusCode::CONFLICT);
    let sending = sending.text().await.unwrap();
    let reason =
        "Outreach is paused by Sam Okafor: Wait for the prototype (until someone resumes it)";
    assert!(clearing.contains(reason), "{clearing}");
    assert!(sending.contains(reason), "the same words on both gates");
    let (_, timeline) = team
        .dana
        .0
        .page(&format!("/rooms/{room}?category=engagements"))
        .await;
    assert!(timeline.contains("Clearing blocked: Dana Whitfield tried to clear"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM engagements WHERE state = 'cleared'"
        )
        .await
            + count(&app, "SELECT COUNT(*) FROM outbox WHERE kind = 'customer'").await,
        0
    );
}

#[tokio::test]
async fn a_hold_asked_for_by_a_partner_pauses_nothing_until_granted() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, draft) = app.draft_dana_aligned_on(&team).await;
    let directly = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/pause"),
            &[("reason", "Sales says stop")],
        )
        .await;
    assert_eq!(
        directly.status(),
        StatusCode::FORBIDDEN,
        "a partner cannot pause alone"
    );
    let asked = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/holds"),
            &[(
                "reason",
                "Sales paused PM access until there is something concrete",
            )],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let (_, room_page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(room_page.contains("Ravi Menon asks to hold outreach"));
    assert!(
        !room_page.contains("Outreach is paused</strong>"),
        "asking pauses nothing"
    );
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(dashboard.contains("Ravi Menon asks to hold outreach"));
    let hold = count(&app, "SELECT MAX(id) FROM outreach_pauses").await;
    let by_partner = team
        .ravi
        .0
        .post_form(&format!("/rooms/{room}/holds/{hold}/grant"), &[])
        .await;
    assert_eq!(by_partner.status(), StatusCode::FORBIDDEN);
    let granted = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/holds/{hold}/grant"), &[])
        .await;
    assert_eq!(granted.status(), StatusCode::SEE_OTHER);
    let refused = team.sam.0.send_draft(room, draft, 1).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Outreach is paused by Ravi Menon")
    );
    let again = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/holds/{hold}/grant"), &[])
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "granted once");

    let second = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/holds"),
            &[("reason", "Another one")],
        )
        .await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let second = count(&app, "SELECT MAX(id) FROM outreach_pauses").await;
    let declined = team
        .sam
        .0
        .post_form(
            &format!("/rooms/{room}/holds/{second}/decline"),
            &[("reason", "Already paused")],
        )
        .await;
    assert_eq!(declined.status(), StatusCode::SEE_OTHER);
    let (_, room_page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(room_page.contains("Sam Okafor declined Ravi Menon&#39;s hold"));
    assert!(room_page.contains("by Ravi Menon (granted by Dana Whitfield)"));
}

#[tokio::test]
async fn a_resume_condition_becomes_ready_when_the_workstream_is_done_and_the_lead_resumes() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, _, _) = northwind(&app, &team).await;
    let asked = team
        .lee
        .0
        .post_form(
            &format!("/rooms/{room}/holds"),
            &[
                ("reason", "No calls until the prototype works"),
                ("resume_when", &format!("{workstream}:done")),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let hold = count(&app, "SELECT MAX(id) FROM outreach_pauses").await;
    team.dana
        .0
        .post_form(&format!("/rooms/{room}/holds/{hold}/grant"), &[])
        .await;
    let (_, paused) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(paused.contains("Ready to resume when “Forecast from telemetry” is done."));
    assert!(!paused.contains("ready-to-resume"));
    let done = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/workstreams/{workstream}"),
            &[
                ("title", "Forecast from telemetry"),
                ("driver", &team.dana.1.to_string()),
                ("status", "done"),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, ready) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(ready.contains(
        "Ready to resume:</strong> when “Forecast from telemetry” is done has come true"
    ));
    assert!(
        ready.contains("Outreach is paused</strong>"),
        "never resumed silently"
    );
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(dashboard.contains("Outreach is ready to resume"));
    let resumed = team
        .dana
        .0
        .post_form(&format!("/rooms/{room}/pause/end"), &[])
        .await;
    assert_eq!(resumed.status(), StatusCode::SEE_OTHER);
    let (_, after) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(!after.contains("Outreach is paused</strong>"));
}

#[tokio::test]
async fn the_outcome_answers_the_questions_and_writes_exactly_one_touch() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, jordan, question) = northwind(&app, &team).await;
    let at = app.clock.now() + 2 * HOUR;
    let engagement =
        engagement_from(&plan(&team.dana.0, room, workstream, jordan, at, &[question]).await);
    assert_eq!(
        clear(&team.dana.0, room, engagement, "").await.status(),
        StatusCode::SEE_OTHER
    );
    let outcome = format!("/rooms/{room}/engagements/{engagement}/outcome");
    let fields = [
        ("notes", "Jordan walked us through the three clusters."),
        ("question_ids", &question.to_string()),
        ("answers", "EU-2, by about 4% a month"),
        ("decision_type", ""),
        ("decision_title", ""),
    ];
    let early = team.dana.0.post_form(&outcome, &fields).await;
    assert_eq!(
        early.status(),
        StatusCode::CONFLICT,
        "not before it happened"
    );

    app.clock.advance(Duration::from_secs(27 * 3600));
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(dashboard.contains("Outcome missing: record what came out of the call"));
    let recorded = team.dana.0.post_form(&outcome, &fields).await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let again = team.dana.0.post_form(&outcome, &fields).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "recorded once");
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM contact_touches WHERE engagement_id = {engagement}")
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM contact_touches WHERE engagement_id = {engagement} AND uncoordinated = 0 AND channel = 'call'")).await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM questions WHERE id = {question} AND status = 'answered' AND answered_in_engagement = {engagement}")).await,
        1
    );
    let (_, question_page) = team
        .lee
        .0
        .page(&format!("/rooms/{room}/questions/{question}"))
        .await;
    assert!(question_page.contains("EU-2, by about 4% a month"));
    assert!(question_page.contains(&format!("/engagements/{engagement}")));
    let (_, dashboard) = team.dana.0.page("/").await;
    assert!(!dashboard.contains("Outcome missing"));
    app.outbox_settled().await;
}

#[tokio::test]
async fn an_unplanned_touch_is_recorded_as_uncoordinated() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, _, jordan, _) = northwind(&app, &team).await;
    let logged = team
        .ravi
        .0
        .post_form(
            &format!("/rooms/{room}/touches"),
            &[
                ("contact", &jordan.to_string()),
                ("channel", "call"),
                ("summary", "Jordan called me about pricing"),
            ],
        )
        .await;
    assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM contact_touches WHERE uncoordinated = 1"
        )
        .await,
        1
    );
    let (_, page) = team.dana.0.page(&format!("/rooms/{room}")).await;
    assert!(page.contains("Not coordinated"));
    assert!(page.contains("Ravi Menon logged a call with Jordan Reyes — not coordinated"));
}

/// The `.ics` part of a message (quoted-printable or base64, as lettre chose).
fn calendar_of(data: &str) -> Calendar {
    let parsed = mail_parser::MessageParser::default()
        .parse(data.as_bytes())
        .expect("a message");
    let part = parsed
        .attachments()
        .find(|a| {
            a.content_type()
                .is_some_and(|t| t.subtype() == Some("calendar"))
        })
        .expect("an .ics attachment");
    String::from_utf8_lossy(part.contents())
        .parse()
        .expect("a calendar")
}

#[tokio::test]
async fn the_invitation_reaches_the_participants_and_its_cancellation_keeps_the_uid() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let (room, workstream, jordan, question) = northwind(&app, &team).await;
    let at = app.clock.now() + 24 * HOUR;
    let engagement =
        engagement_from(&plan(&team.lee.0, room, workstream, jordan, at, &[question]).await);
    assert_eq!(
        clear(&team.dana.0, room, engagement, "").await.status(),
        StatusCode::SEE_OTHER
    );
    let to_lee = app.smtp.wait_for_to("lee@example.com", 1).await;
    let invite = calendar_of(&to_lee[0].data);
    assert_eq!(invite.property_value("METHOD"), Some("REQUEST"));
    let event = invite.events().next().expect("one event");
    let uid = event.get_uid().expect("a UID").to_owned();
    assert!(uid.starts_with(&format!("engagement-{engagement}@")));
    assert_eq!(event.get_sequence(), Some(0));
    let mut attendees: Vec<String> = event
        .get_attendees()
        .into_iter()
        .map(|a| a.cal_address)
        .collect();
    attendees.sort();
    assert_eq!(
        attendees,
        ["mailto:dana@example.com", "mailto:lee@example.com"]
    );
    assert!(
        event
            .get_description()
            .unwrap_or_default()
            .contains("Which cluster grows fastest"),
        "the agreed questions travel with it"
    );
    assert!(
        app.smtp.messages_to("elena@example.com").is_empty(),
        "only participants"
    );
    assert!(
        app.smtp.messages_to(JORDAN).is_empty(),
        "the customer gets no internal invitation"
    );

    let moved = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/engagements/{engagement}/schedule"),
            &[("starts_at", &typed(at + HOUR)), ("minutes", "45")],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    let cancelled = team
        .lee
        .0
        .post_form(
            &format!("/rooms/{room}/engagements/{engagement}/cancellation"),
            &[("reason", "Jordan is travelling")],
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let to_lee = app.smtp.wait_for_to("lee@example.com", 3).await;
    let update = calendar_of(&to_lee[1].data);
    let update = update.events().next().unwrap().clone();
    assert_eq!(
        (update.get_uid(), update.get_sequence()),
        (Some(uid.as_str()), Some(1))
    );
    let cancellation = calendar_of(&to_lee[2].data);
    assert_eq!(cancellation.property_value("METHOD"), Some("CANCEL"));
    let event = cancellation.events().next().unwrap();
    assert_eq!(
        (event.get_uid(), event.get_sequence()),
        (Some(uid.as_str()), Some(2))
    );
    app.outbox_settled().await;
}
