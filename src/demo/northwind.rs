//! The Northwind Logistics escalation of the demo story: the IT director says capacity monitoring
//! does not tell him when to order more hardware. Written through the same queries the
//! application uses, with timeline entries, so the room looks lived in.

use sqlx::{Any, Transaction};

use crate::AppState;
use crate::accounts::user::EmailAddress;
use crate::approvals::absence;
use crate::approvals::{self, Position, Stance, SubjectKind, Via};
use crate::clock::Millis;
use crate::contact_log;
use crate::contact_log::model::{NewTouch, Origin};
use crate::contact_log::rules::Channel;
use crate::customers::model::{self as customers, NewContact};
use crate::db::Db;
use crate::decisions::model::{self as decisions, DecisionStatus, NewDecision};
use crate::drafts::model::{self as drafts, Content};
use crate::engagements::model::{self as engagements, NewEngagement};
use crate::engagements::rules::EngagementKind;
use crate::members::model as members;
use crate::members::model::MemberKind;
use crate::outreach::model::{self as outreach, NewHold, Resume};
use crate::questions::model::{self as questions, AnsweredIn, NewQuestion};
use crate::rooms::change::RoomTx;
use crate::rooms::model::{NewRoom, Severity};
use crate::syncs::model::{self as syncs, Minuted, Schedule};
use crate::timeline;
use crate::updates::model::{self as updates, OverallStatus};
use crate::updates::snapshot::Snapshot;
use crate::web::time::Zone;
use crate::workstreams::model::{self as workstreams, WorkstreamFields, WorkstreamStatus};

const HOUR: Millis = 3600 * 1000;
const DAY: Millis = 24 * HOUR;

/// The demo accounts that take part.
pub struct People {
    pub dana: i64,
    pub sam: i64,
    pub lee: i64,
    pub ravi: i64,
    pub elena: i64,
}

/// Loads the room once and returns its id (the existing one when already loaded).
pub async fn load(db: &Db, people: &People, now: Millis) -> anyhow::Result<i64> {
    let mut tx = db.begin_write().await?;
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT r.id FROM rooms r JOIN customers c ON c.id = r.customer_id \
         WHERE c.name_key = 'northwind logistics' ORDER BY r.id LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(room) = existing {
        return Ok(room);
    }
    let (tx, room) = write_room(db, tx, people, now).await?;
    tx.commit().await?;
    Ok(room)
}

fn contact(name: &str, email: &str, title: &str) -> anyhow::Result<NewContact> {
    Ok(NewContact {
        name: name.to_owned(),
        email: EmailAddress::parse(email).map_err(|e| anyhow::anyhow!(e))?,
        title: title.to_owned(),
        // Northwind Logistics works from Chicago.
        time_zone: Zone::parse("America/Chicago"),
    })
}

/// Timeline entries, written in time order once the room is complete.
#[derive(Default)]
struct Story(Vec<(Millis, i64, &'static str, String)>);

impl Story {
    fn add(&mut self, actor: i64, kind: &'static str, summary: impl Into<String>, at: Millis) {
        self.0.push((at, actor, kind, summary.into()));
    }

    async fn write(mut self, tx: &mut RoomTx, room: i64) -> anyhow::Result<()> {
        self.0.sort_by_key(|(at, ..)| *at);
        for (at, actor, kind, summary) in self.0 {
            timeline::record(tx, room, Some(actor), kind, &summary, "", at).await?;
        }
        Ok(())
    }
}

async fn write_room(
    db: &Db,
    mut customer_tx: Transaction<'static, Any>,
    p: &People,
    now: Millis,
) -> anyhow::Result<(RoomTx, i64)> {
    let opened = now - 3 * DAY;
    let tx = &mut customer_tx;
    let customer = customers::insert(tx, "Northwind Logistics", "northwind.example", opened)
        .await?
        .ok_or_else(|| anyhow::anyhow!("Northwind Logistics exists without its room"))?;
    let jordan = customers::insert_contact(
        tx,
        customer,
        &contact(
            "Jordan Reyes",
            "jordan.reyes@northwind.example",
            "IT director",
        )?,
        opened,
    )
    .await?;
    let priya = customers::insert_contact(
        tx,
        customer,
        &contact(
            "Priya Shah",
            "priya.shah@northwind.example",
            "Infrastructure lead",
        )?,
        opened,
    )
    .await?;
    let tom = customers::insert_contact(
        tx,
        customer,
        &contact(
            "Tom Becker",
            "tom.becker@northwind.example",
            "Procurement manager",
        )?,
        opened,
    )
    .await?;
    let (Some(jordan), Some(priya), Some(tom)) = (jordan, priya, tom) else {
        anyhow::bail!("the Northwind contacts already exist");
    };
    let new_room = NewRoom {
        customer_id: customer,
        customer_name: "Northwind Logistics",
        title: "Capacity monitoring does not say when to order hardware",
        problem: "Jordan Reyes (IT director) says our capacity monitoring shows today's usage but not when \
                  Northwind will run out. Procurement orders hardware once a quarter, and twice this year \
                  they ordered too late. He wants to know, per cluster, when to place the next order — and \
                  he is evaluating a competitor that promises exactly that.",
        severity: Severity::S2,
        escalated_by_contact_id: Some(jordan),
        escalated_at: opened - 2 * HOUR,
        lead_user_id: p.dana,
        communicator_user_id: p.sam,
        next_customer_update_due: Some(now + DAY),
        next_leadership_update_due: Some(now + 2 * DAY),
        opened_by: p.lee,
    };
    let (mut room_tx, room) = RoomTx::open(db, customer_tx, &new_room, opened).await?;
    let tx = &mut room_tx;
    let mut story = Story::default();
    for (user, kind) in [
        (p.dana, MemberKind::Pm),
        (p.sam, MemberKind::Pm),
        (p.lee, MemberKind::Partner),
        (p.ravi, MemberKind::Partner),
        (p.elena, MemberKind::Leadership),
    ] {
        members::insert(tx, room, user, kind, p.lee, opened).await?;
    }
    decisions::insert_default_types(tx, room, p.dana, p.sam).await?;
    let commercial: i64 = sqlx::query_scalar(
        "SELECT id FROM decision_types WHERE room_id = $1 AND name = 'Commercial'",
    )
    .bind(room)
    .fetch_one(&mut **tx)
    .await?;
    decisions::update_type(tx, commercial, "Commercial", p.lee).await?;
    story.add(p.lee, "room.opened", "Lee Park opened the room for Northwind Logistics (S2 high), escalated by Jordan Reyes. Lead: Dana Whitfield; communicator: Sam Okafor.", opened);
    story.add(
        p.dana,
        "decisions.type_changed",
        "Dana Whitfield gave “Commercial” decisions to Lee Park (was Dana Whitfield).",
        opened + HOUR,
    );

    let forecast = WorkstreamFields {
        title: "Forecast from telemetry",
        driver_user_id: p.dana,
        status: WorkstreamStatus::Active,
        next_step: "Prototype a 90-day storage forecast per cluster on Northwind's telemetry",
        due_at: Some(now + 4 * DAY),
        navigators: &[p.ravi],
        voice_user_id: None,
    };
    let forecast_id = workstreams::insert(tx, room, &forecast, opened + 2 * HOUR).await?;
    story.add(p.dana, "workstreams.created", "Dana Whitfield started the workstream “Forecast from telemetry”, driven by Dana Whitfield.", opened + 2 * HOUR);
    let experience = WorkstreamFields {
        title: "Customer experience and communication",
        driver_user_id: p.sam,
        status: WorkstreamStatus::Active,
        next_step: "Walk Jordan through the interim capacity report",
        due_at: Some(now + DAY),
        navigators: &[p.lee],
        voice_user_id: None,
    };
    let experience_id = workstreams::insert(tx, room, &experience, opened + 2 * HOUR).await?;
    story.add(p.sam, "workstreams.created", "Sam Okafor started the workstream “Customer experience and communication”, driven by Sam Okafor.", opened + 2 * HOUR);

    let types = decisions::types(tx, room).await?;
    let type_id = |name: &str| types.iter().find(|t| t.name == name).map_or(0, |t| t.id);
    let scope = NewDecision {
        room_id: room,
        decision_type_id: type_id("Product scope"),
        title: "Forecast storage per cluster, 90 days ahead",
        rationale: "Procurement works in quarters; per-cluster is how Northwind orders hardware.",
        supersedes_id: None,
        proposed_by: p.dana,
    };
    let decided = decisions::insert(tx, &scope, opened + DAY).await?;
    let decided = decisions::find(tx, room, decided)
        .await?
        .ok_or_else(|| anyhow::anyhow!("decision vanished"))?;
    decisions::settle(
        tx,
        &decided,
        DecisionStatus::Decided,
        p.dana,
        opened + DAY + HOUR,
    )
    .await?;
    story.add(
        p.dana,
        "decisions.decided",
        "Dana Whitfield decided “Forecast storage per cluster, 90 days ahead” (Product scope).",
        opened + DAY + HOUR,
    );
    let trial = NewDecision {
        room_id: room,
        decision_type_id: type_id("Commercial"),
        title: "Extend Northwind's premium support trial by 60 days",
        rationale: "Buys time for the forecast to prove itself before their renewal.",
        supersedes_id: None,
        proposed_by: p.sam,
    };
    let trial_id = decisions::insert(tx, &trial, now - 6 * HOUR).await?;
    story.add(p.sam, "decisions.proposed", "Sam Okafor proposed a Commercial decision: “Extend Northwind's premium support trial by 60 days” (for Lee Park to decide).", now - 6 * HOUR);

    let question = NewQuestion {
        room_id: room,
        customer_id: customer,
        body: "When do you plan to buy more capacity?",
        stakeholder_contact_id: Some(jordan),
        stakeholder_name: "",
        asked_by: p.dana,
        asked_despite: "",
    };
    let asked = questions::insert(tx, &question, now - 2 * DAY).await?;
    questions::answer(
        tx,
        asked,
        "Procurement orders hardware once a quarter; the next order window closes on 15 January.",
        p.sam,
        now - 2 * DAY + 5 * HOUR,
    )
    .await?;
    story.add(
        p.dana,
        "questions.asked",
        "Dana Whitfield recorded a question: “When do you plan to buy more capacity?”",
        now - 2 * DAY,
    );
    story.add(
        p.sam,
        "questions.answered",
        "Sam Okafor recorded the answer to “When do you plan to buy more capacity?”.",
        now - 2 * DAY + 5 * HOUR,
    );

    let open = NewQuestion {
        room_id: room,
        customer_id: customer,
        body: "Which cluster grows fastest, and by how much a month?",
        stakeholder_contact_id: Some(jordan),
        stakeholder_name: "",
        asked_by: p.dana,
        asked_despite: "",
    };
    questions::insert(tx, &open, now - 6 * HOUR).await?;
    story.add(
        p.dana,
        "questions.asked",
        "Dana Whitfield recorded a question: “Which cluster grows fastest, and by how much a month?”",
        now - 6 * HOUR,
    );

    let touches = [
        (
            jordan,
            Channel::Call,
            "Heard the escalation first-hand; agreed Sam is our single point of contact.",
            now - 2 * DAY,
            p.sam,
        ),
        (
            tom,
            Channel::Meeting,
            "Procurement calendar: quarterly order windows, next one closes 15 January.",
            now - DAY,
            p.lee,
        ),
        (
            priya,
            Channel::Chat,
            "Asked for read access to cluster telemetry exports.",
            now - 20 * HOUR,
            p.sam,
        ),
        (
            jordan,
            Channel::Email,
            "Sent the interim plan and the date of our next update.",
            now - 5 * HOUR,
            p.sam,
        ),
    ];
    for (contact_id, channel, summary, at, by) in touches {
        let touch = NewTouch {
            origin: match channel {
                Channel::Email => Origin::Sent,
                _ => Origin::LoggedByHand,
            },
            room_id: room,
            contact_id,
            channel,
            summary,
            touched_at: at,
            by,
        };
        contact_log::model::insert(tx, &touch, at).await?;
        let who = if by == p.sam {
            "Sam Okafor"
        } else {
            "Lee Park"
        };
        story.add(
            by,
            "contacts.touched",
            format!("{who} logged {}: {summary}", channel.with_article()),
            at,
        );
    }
    emails(tx, p, room, jordan, now, &mut story).await?;
    leadership(tx, p, room, now, &mut story).await?;
    let topics = Topics {
        forecast: forecast_id,
        experience: experience_id,
        jordan,
        tom,
    };
    coordination(tx, p, (room, customer), &topics, now, &mut story).await?;
    sync(tx, p, room, trial_id, now, &mut story).await?;
    history(tx, p, (customer, jordan), now).await?;
    story.write(tx, room).await?;
    Ok((room_tx, room))
}

/// What the engagements of the demo refer to.
struct Topics {
    forecast: i64,
    experience: i64,
    jordan: i64,
    tom: i64,
}

/// Coordinating before engaging: Dana's cleared call with Jordan on the forecast (two questions
/// bundled from two people), Lee's meeting with Tom waiting for Sam to clear it, and a hold Lee
/// asked for, waiting for the lead.
async fn coordination(
    tx: &mut RoomTx,
    p: &People,
    (room, customer): (i64, i64),
    t: &Topics,
    now: Millis,
    story: &mut Story,
) -> anyhow::Result<()> {
    let planned_at = now - 3 * HOUR;
    let call = NewEngagement {
        room_id: room,
        workstream_id: t.forecast,
        kind: EngagementKind::Call,
        starts_at: now + DAY + 2 * HOUR,
        minutes: 45,
        purpose: "Walk Jordan through the first per-cluster forecast and agree what the January order needs",
        planned_by: p.dana,
        contacts: &[t.jordan],
    };
    let call_id = engagements::insert(tx, &call, planned_at).await?;
    let danas = NewQuestion {
        room_id: room,
        customer_id: customer,
        body: "How many months of telemetry history can Northwind export per cluster?",
        stakeholder_contact_id: Some(t.jordan),
        stakeholder_name: "",
        asked_by: p.dana,
        asked_despite: "",
    };
    let danas_question = questions::insert(tx, &danas, planned_at).await?;
    engagements::add_question(tx, room, call_id, danas_question, p.dana, planned_at).await?;
    let lees = NewQuestion {
        room_id: room,
        customer_id: customer,
        body: "Which sites should the forecast cover first for the renewal?",
        stakeholder_contact_id: Some(t.jordan),
        stakeholder_name: "",
        asked_by: p.lee,
        asked_despite: "",
    };
    let lees_at = now - 2 * HOUR;
    let lees_question = questions::insert(tx, &lees, lees_at).await?;
    engagements::add_question(tx, room, call_id, lees_question, p.lee, lees_at).await?;
    engagements::add_participant(tx, room, call_id, p.lee).await?;
    engagements::clear(tx, room, call_id, p.dana, "", now - HOUR).await?;
    story.add(p.dana, "questions.asked", "Dana Whitfield recorded a question: “How many months of telemetry history can Northwind export per cluster?”", planned_at);
    story.add(p.dana, "engagements.planned", "Dana Whitfield planned a call with Jordan Reyes about “Forecast from telemetry” (1 question bundled), for Dana Whitfield to clear.", planned_at);
    story.add(p.lee, "questions.asked", "Lee Park recorded a question: “Which sites should the forecast cover first for the renewal?”", lees_at);
    story.add(p.lee, "engagements.question_added", "Lee Park added a question to Dana Whitfield's call with Jordan Reyes about “Forecast from telemetry”: “Which sites should the forecast cover first for the renewal?”", lees_at);
    story.add(p.dana, "engagements.cleared", "Dana Whitfield cleared Dana Whitfield's call with Jordan Reyes about “Forecast from telemetry”: it is coordinated.", now - HOUR);

    let meeting = NewEngagement {
        room_id: room,
        workstream_id: t.experience,
        kind: EngagementKind::Meeting,
        starts_at: now + 4 * DAY,
        minutes: 30,
        purpose: "Go through the quarterly order windows with procurement",
        planned_by: p.lee,
        contacts: &[t.tom],
    };
    let meeting_at = now - 40 * 60_000;
    let meeting_id = engagements::insert(tx, &meeting, meeting_at).await?;
    let toms = NewQuestion {
        room_id: room,
        customer_id: customer,
        body: "Can the January order window move if the forecast lands late?",
        stakeholder_contact_id: Some(t.tom),
        stakeholder_name: "",
        asked_by: p.lee,
        asked_despite: "",
    };
    let toms_question = questions::insert(tx, &toms, meeting_at).await?;
    engagements::add_question(tx, room, meeting_id, toms_question, p.lee, meeting_at).await?;
    story.add(p.lee, "engagements.planned", "Lee Park planned a meeting with Tom Becker about “Customer experience and communication” (1 question bundled), for Sam Okafor to clear.", meeting_at);

    let resume = Resume::Workstream {
        id: t.forecast,
        title: "Forecast from telemetry".into(),
        status: WorkstreamStatus::Done,
    };
    let hold = NewHold {
        reason: "Sales paused PM access until there is something concrete: no more calls to Jordan until the forecast prototype works",
        until: None,
        resume: Some(&resume),
    };
    let asked_at = now - 20 * 60_000;
    outreach::request(tx, room, &hold, p.lee, asked_at).await?;
    story.add(p.lee, "outreach.hold_requested", "Lee Park asked to hold customer outreach until resumed (ready to resume when “Forecast from telemetry” is done): Sales paused PM access until there is something concrete: no more calls to Jordan until the forecast prototype works", asked_at);
    Ok(())
}

/// An earlier Northwind escalation, closed three weeks ago with its retrospective written and
/// aligned: history for `/insights` (a slow *Commercial* decision, two voices to Jordan).
async fn history(
    tx: &mut RoomTx,
    p: &People,
    (customer, jordan): (i64, i64),
    now: Millis,
) -> anyhow::Result<()> {
    let opened = now - 40 * DAY;
    let new_room = NewRoom {
        customer_id: customer,
        customer_name: "Northwind Logistics",
        title: "The weekly capacity report times out for large clusters",
        problem: "Jordan's weekly capacity export fails for the three largest clusters.",
        severity: Severity::S3,
        escalated_by_contact_id: Some(jordan),
        escalated_at: opened - HOUR,
        lead_user_id: p.dana,
        communicator_user_id: p.sam,
        next_customer_update_due: None,
        next_leadership_update_due: None,
        opened_by: p.sam,
    };
    let room = tx.open_another(&new_room, opened).await?;
    let mut story = Story::default();
    for (user, kind) in [
        (p.dana, MemberKind::Pm),
        (p.sam, MemberKind::Pm),
        (p.lee, MemberKind::Partner),
        (p.elena, MemberKind::Leadership),
    ] {
        members::insert(tx, room, user, kind, p.sam, opened).await?;
    }
    decisions::insert_default_types(tx, room, p.dana, p.sam).await?;
    story.add(p.sam, "room.opened", "Sam Okafor opened the room for Northwind Logistics (S3 normal), escalated by Jordan Reyes.", opened);
    let types = decisions::types(tx, room).await?;
    let type_id = |name: &str| types.iter().find(|t| t.name == name).map_or(0, |t| t.id);
    for (name, title, proposed, days) in [
        (
            "Technical approach",
            "Stream the export instead of building it in memory",
            opened + HOUR,
            1,
        ),
        (
            "Commercial",
            "Credit Northwind one month of support",
            opened + DAY,
            5,
        ),
    ] {
        let new = NewDecision {
            room_id: room,
            decision_type_id: type_id(name),
            title,
            rationale: "",
            supersedes_id: None,
            proposed_by: p.sam,
        };
        let id = decisions::insert(tx, &new, proposed).await?;
        let decision = decisions::find(tx, room, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("decision vanished"))?;
        let at = proposed + days * DAY;
        decisions::settle(tx, &decision, DecisionStatus::Decided, p.dana, at).await?;
        story.add(
            p.dana,
            "decisions.decided",
            format!("Dana Whitfield decided “{title}” ({name})."),
            at,
        );
    }
    for (channel, by, at, summary) in [
        (
            Channel::Email,
            p.sam,
            opened + 2 * HOUR,
            "Confirmed we reproduced the timeout.",
        ),
        (
            Channel::Chat,
            p.lee,
            opened + 5 * HOUR,
            "Told Jordan a fix is coming.",
        ),
        (
            Channel::Email,
            p.sam,
            opened + 6 * DAY,
            "The streamed export is live.",
        ),
    ] {
        let touch = NewTouch {
            origin: Origin::LoggedByHand,
            room_id: room,
            contact_id: jordan,
            channel,
            summary,
            touched_at: at,
            by,
        };
        contact_log::model::insert(tx, &touch, at).await?;
    }
    let closed_at = opened + 19 * DAY;
    crate::rooms::model::set_status(
        tx,
        room,
        crate::rooms::model::RoomStatus::Closed,
        Some("The export streams; Jordan confirmed three weekly reports in a row."),
    )
    .await?;
    story.add(p.dana, "room.closed", "Dana Whitfield closed the room: The export streams; Jordan confirmed three weekly reports in a row.", closed_at);
    story.write(tx, room).await?;
    let milestones = crate::retrospectives::model::milestones(tx, room).await?;
    let reading = crate::measures::read(tx, crate::measures::Scope::Room(room), closed_at).await?;
    let lines = reading
        .rooms
        .first()
        .map(crate::measures::RoomMeasures::lines)
        .unwrap_or_default();
    crate::retrospectives::model::freeze(tx, room, &milestones, &lines, closed_at).await?;
    let retro = crate::retrospectives::model::latest(tx, room)
        .await?
        .ok_or_else(|| anyhow::anyhow!("retrospective vanished"))?;
    let written = (
        "The fix shipped in six days and Jordan heard the plan from Sam.",
        "Lee wrote to Jordan the same day as Sam: two voices. Plan calls in Accord and let the communicator write.",
    );
    crate::retrospectives::model::write(tx, room, retro.id, written, p.dana, closed_at + HOUR)
        .await?;
    for pm in [p.dana, p.sam] {
        crate::retrospectives::model::align(tx, room, retro.id, pm, 1, closed_at + 2 * HOUR)
            .await?;
    }
    Ok(())
}

/// This morning's sync, with minutes (the trial extension left for next time), and the next one
/// tomorrow, whose agenda builds itself.
async fn sync(
    tx: &mut RoomTx,
    p: &People,
    room: i64,
    trial: i64,
    now: Millis,
    story: &mut Story,
) -> anyhow::Result<()> {
    let held_at = now - 3 * HOUR;
    let trial_key = format!("decision:{trial}");
    let items = [
        Minuted {
            key: &trial_key,
            label: "“Extend Northwind's premium support trial by 60 days” (Commercial), proposed by Sam Okafor",
            discussed: false,
        },
        Minuted {
            key: "customer_update",
            label: "The customer update is due in 21 hours",
            discussed: true,
        },
    ];
    let notes =
        "Jordan is re-engaged; the forecast prototype is the only thing he wants to see next.";
    let next_steps =
        "Dana walks Jordan through the forecast on the call; Lee holds sales questions until then.";
    syncs::insert(tx, room, p.dana, (notes, next_steps), &items, held_at).await?;
    let schedule = Schedule {
        every_hours: None,
        next_at: Some(now + 22 * HOUR),
    };
    syncs::set_schedule(tx, room, schedule).await?;
    story.add(p.dana, "room.synced", format!("Dana Whitfield took the minutes of the sync: 1 of 2 agenda items discussed; next steps: {next_steps}. Notes: {notes}"), held_at);
    Ok(())
}

/// A published pre-read (both PMs aligned) and a newer update waiting for Sam's alignment.
async fn leadership(
    tx: &mut RoomTx,
    p: &People,
    room: i64,
    now: Millis,
    story: &mut Story,
) -> anyhow::Result<()> {
    let published_at = now - 4 * HOUR;
    let first = updates::Body {
        status: OverallStatus::AtRisk.as_str().to_owned(),
        headline: "Northwind needs a per-cluster forecast before its January order window".to_owned(),
        what_changed: "- Jordan Reyes (IT director) escalated: monitoring shows usage, not when to order.\n\
                       - Two workstreams: forecast from telemetry (Dana) and customer experience (Sam).\n\
                       - Sam is the single point of contact; the plan went to Jordan this morning."
            .to_owned(),
        decisions: "- Forecast storage per cluster, 90 days ahead (Product scope, Dana).".to_owned(),
        risks: "- Northwind is evaluating a competitor that promises forecasts today.\n\
                - The January order window closes on 15 January."
            .to_owned(),
        asks: "- Approve a 60-day extension of premium support if Lee recommends it.".to_owned(),
        next_due: Some(now + 2 * DAY),
    };
    let update = updates::create(tx, room, p.dana, published_at - HOUR).await?;
    updates::add_revision(tx, update, &first, p.dana, published_at - HOUR).await?;
    approvals::approve(
        tx,
        SubjectKind::Update,
        update,
        p.dana,
        1,
        published_at - HOUR,
    )
    .await?;
    approvals::approve(
        tx,
        SubjectKind::Update,
        update,
        p.sam,
        1,
        published_at - 30 * 60_000,
    )
    .await?;
    let the_room = crate::rooms::model::find(&mut **tx, room)
        .await?
        .ok_or_else(|| anyhow::anyhow!("room vanished"))?;
    let snapshot = Snapshot::take(
        tx,
        &the_room,
        "Northwind Logistics",
        the_room.opened_at,
        published_at,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let new = updates::NewPreRead {
        room_id: room,
        update_id: update,
        revision: 1,
        body: &first,
        snapshot: &serde_json::to_string(&snapshot)?,
        published_by: p.dana,
    };
    let version = updates::publish(tx, &new, published_at).await?;
    updates::mark_published(tx, update, version).await?;
    story.add(p.dana, "updates.published", "Dana Whitfield published pre-read version 1: “Northwind needs a per-cluster forecast before its January order window” (at risk).", published_at);

    let newer = updates::Body {
        status: OverallStatus::OnTrack.as_str().to_owned(),
        headline: "First forecast shows EU-2 needs the January order; Jordan is re-engaged".to_owned(),
        what_changed: "- The first forecast covers Northwind's two largest clusters.\n- Jordan joined a call and agreed the next update date.".to_owned(),
        decisions: "- Forecast storage per cluster, 90 days ahead (Product scope, Dana).".to_owned(),
        risks: "- Forecast accuracy for smaller clusters is still unproven.".to_owned(),
        asks: String::new(),
        next_due: Some(now + 2 * DAY),
    };
    let waiting = updates::create(tx, room, p.dana, now - HOUR).await?;
    updates::add_revision(tx, waiting, &newer, p.dana, now - HOUR).await?;
    approvals::approve(tx, SubjectKind::Update, waiting, p.dana, 1, now - HOUR).await?;
    story.add(p.dana, "updates.created", "Dana Whitfield drafted a leadership update: “First forecast shows EU-2 needs the January order; Jordan is re-engaged”.", now - HOUR);
    Ok(())
}

/// One email already sent (aligned by both PMs) and a newer draft waiting for Dana's alignment.
async fn emails(
    tx: &mut RoomTx,
    p: &People,
    room: i64,
    jordan: i64,
    now: Millis,
    story: &mut Story,
) -> anyhow::Result<()> {
    let sent_at = now - 5 * HOUR;
    let first = Content {
        to_ids: &[jordan],
        cc_ids: &[],
        subject: "Your capacity escalation: our plan",
        body: "Hello Jordan,\n\nThank you for walking us through how Northwind orders hardware. Dana's team is \
               building a 90-day storage forecast per cluster from your telemetry, and I will be your single \
               point of contact while we do.\n\nYou will hear from me again tomorrow with a first look.\n\nSam Okafor",
    };
    let sent = drafts::create(tx, room, p.sam, None, sent_at - HOUR).await?;
    drafts::add_revision(tx, sent, &first, p.sam, sent_at - HOUR).await?;
    approvals::approve(tx, SubjectKind::Draft, sent, p.sam, 1, sent_at - HOUR).await?;
    approvals::approve(
        tx,
        SubjectKind::Draft,
        sent,
        p.dana,
        1,
        sent_at - 30 * 60_000,
    )
    .await?;
    let outbox_id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (kind, room_id, draft_id, sender_id, contact_ids, message_id, envelope_from, envelope_to, \
         subject, raw, state, attempts, next_attempt_at, created_at, sent_at) \
         VALUES ('customer', $1, $2, $3, $4, '<demo-plan@accord.example>', 'accord@localhost', \
         'jordan.reyes@northwind.example', $5, '(demo: delivered before this copy of Accord existed)', 'sent', 1, $6, $6, $6) RETURNING id",
    )
    .bind(room)
    .bind(sent)
    .bind(p.sam)
    .bind(jordan.to_string())
    .bind(first.subject)
    .bind(sent_at)
    .fetch_one(tx.room(room))
    .await?;
    drafts::set_outbox(tx, sent, outbox_id).await?;
    story.add(
        p.sam,
        "drafts.created",
        "Sam Okafor drafted the customer email “Your capacity escalation: our plan”.",
        sent_at - HOUR,
    );
    story.add(
        p.dana,
        "drafts.approved",
        "Dana Whitfield aligned on revision 1 of “Your capacity escalation: our plan”.",
        sent_at - 30 * 60_000,
    );
    story.add(p.sam, "drafts.queued", "Sam Okafor sent revision 1 of “Your capacity escalation: our plan” (aligned by every PM); it is queued for delivery.", sent_at - 60_000);
    story.add(p.sam, "drafts.sent", "The email “Your capacity escalation: our plan” was delivered to the customer's mail server.", sent_at);

    let waiting = drafts::create(tx, room, p.sam, None, now - 3 * HOUR).await?;
    let mut update = Content {
        to_ids: &[jordan],
        cc_ids: &[],
        subject: "A first look at your capacity forecast",
        body: "Hello Jordan,\n\nAttached is a first look at the forecast for your two largest clusters. \
               At today's growth, cluster EU-2 runs out of storage in about 70 days.\n\nSam Okafor",
    };
    drafts::add_revision(tx, waiting, &update, p.sam, now - 3 * HOUR).await?;
    approvals::approve(tx, SubjectKind::Draft, waiting, p.sam, 1, now - 3 * HOUR).await?;
    approvals::approve(tx, SubjectKind::Draft, waiting, p.dana, 1, now - 2 * HOUR).await?;
    update.body = "Hello Jordan,\n\nHere is a first look at the forecast for your two largest clusters. \
                   At today's growth, cluster EU-2 runs out of storage in about 70 days, so the order would \
                   need to go into the January window.\n\nSam Okafor";
    drafts::add_revision(tx, waiting, &update, p.sam, now - HOUR).await?;
    approvals::approve(tx, SubjectKind::Draft, waiting, p.sam, 2, now - HOUR).await?;
    story.add(
        p.sam,
        "drafts.created",
        "Sam Okafor drafted the customer email “A first look at your capacity forecast”.",
        now - 3 * HOUR,
    );
    story.add(
        p.dana,
        "drafts.approved",
        "Dana Whitfield aligned on revision 1 of “A first look at your capacity forecast”.",
        now - 2 * HOUR,
    );
    story.add(p.sam, "drafts.revised", "Sam Okafor saved revision 2 of “A first look at your capacity forecast”; alignment on earlier revisions is now stale.", now - HOUR);
    let objection = "Two clusters are not the whole estate: say the 70 days are for EU-2 and US-1 only, or Jordan will plan the whole order around them.";
    let position = Position {
        kind: SubjectKind::Draft,
        subject_id: waiting,
        user_id: p.dana,
        revision: 2,
        stance: Stance::Objected,
        reason: objection,
        via: Via::Own,
        acted_by: None,
    };
    approvals::record(tx, &position, now - 30 * 60_000).await?;
    story.add(
        p.dana,
        "drafts.objected",
        format!("Dana Whitfield objects to revision 2 of “A first look at your capacity forecast”: {objection}"),
        now - 30 * 60_000,
    );
    // Sam is on site with another customer until Thursday; Elena aligns for him meanwhile.
    absence::set(tx, room, p.sam, p.elena, now + 3 * DAY, now - 20 * 60_000).await?;
    story.add(
        p.sam,
        "members.away",
        "Sam Okafor is away for three days; Elena Vasquez aligns or objects for them meanwhile.",
        now - 20 * 60_000,
    );
    Ok(())
}

/// Jordan's reply to the email already sent, filed through the same pipeline as real mail, and
/// the open question it answers marked answered by Sam. Loading the demo again changes nothing.
pub async fn reply_from_jordan(state: &AppState, room: i64, sam: i64) -> anyhow::Result<()> {
    let raw = "From: Jordan Reyes <jordan.reyes@northwind.example>\r\n\
To: Sam Okafor <accord@localhost>\r\n\
Subject: Re: Your capacity escalation: our plan\r\n\
Message-ID: <demo-jordan-reply@mail.northwind.example>\r\n\
In-Reply-To: <demo-plan@accord.example>\r\n\
References: <demo-plan@accord.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Thanks Sam, that plan works for us, and one contact is exactly what we needed.\r\n\
\r\n\
To your team's question: EU-2 grows fastest, about 6 TB a month; the other clusters grow about 2 TB a month.\r\n\
\r\n\
Jordan\r\n\
\r\n\
On Mon, Sam Okafor wrote:\r\n\
> Hello Jordan,\r\n\
> Thank you for walking us through how Northwind orders hardware.\r\n";
    let outcome = crate::inbound::file::file(
        state,
        raw.as_bytes(),
        crate::inbound::model::Source::Demo,
        crate::inbound::file::Unreadable::Refuse,
    )
    .await?
    .map_err(|refused| anyhow::anyhow!("the demo reply was refused: {refused}"))?;
    let crate::inbound::file::Outcome::Filed { id, .. } = outcome else {
        return Ok(());
    };
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [room], now).await?;
    let question: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM questions WHERE room_id = $1 AND status = 'open' \
         AND body = 'Which cluster grows fastest, and by how much a month?'",
    )
    .bind(room)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(question) = question {
        let passage =
            "EU-2 grows fastest, about 6 TB a month; the other clusters grow about 2 TB a month.";
        questions::answer_from(
            &mut tx,
            question,
            passage,
            AnsweredIn::Message(id),
            sam,
            now,
        )
        .await?;
        timeline::record(
            &mut tx,
            room,
            Some(sam),
            "questions.answered",
            "Sam Okafor marked “Which cluster grows fastest, and by how much a month?” answered by Jordan Reyes's email “Re: Your capacity escalation: our plan”.",
            &format!("/rooms/{room}/messages/{id}"),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
