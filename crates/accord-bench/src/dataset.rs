//! A realistic dataset, written in bulk: N rooms with members, workstreams, decision types and
//! decisions, questions, contacts and touches, drafts with revisions and approvals, about ten
//! timeline events each, published pre-reads — plus one room with 5,000 events and the rooms the
//! benchmark's own member works in.

use accord::accounts::password::Password;
use accord::accounts::user::{self, EmailAddress, NewUser, PersonName};
use accord::db::{Backend, Db};
use accord::questions::similarity;

use crate::bulk::{Table, V, t};

/// What the load needs to know about the data.
pub struct Fixture {
    pub email: String,
    pub password: String,
    /// A typical room the benchmark member is in.
    pub room: i64,
    /// The room with 5,000 timeline events.
    pub big_room: i64,
    /// A room of the member's with 1,000 received customer messages.
    pub inbox_room: i64,
    /// Rooms whose drafts the write mix edits, and rooms whose drafts it approves.
    pub edit_drafts: Vec<(i64, i64)>,
    pub approve_drafts: Vec<(i64, i64)>,
    /// A contact per room for logging touches and addressing drafts.
    pub contact_of_room: Vec<(i64, i64)>,
    /// Proposed decisions the member owns, for "decide" requests.
    pub decisions: Vec<(i64, i64)>,
    /// A room where the member is the only PM and the communicator, with an aligned draft.
    pub send_room: (i64, i64),
}

impl Fixture {
    /// The customer a contact belongs to (each customer has three, numbered in order).
    pub fn customer_of_contact(&self, contact: i64) -> i64 {
        (contact - 1) / 3 + 1
    }
}

const USERS: i64 = 40;
/// The administrator's sign-in.
pub const ADMIN: &str = "admin@accord.bench";
pub const OWN_ROOMS: i64 = 50;
const BIG_ROOM_EVENTS: i64 = 5_000;
/// The room with many received messages, and how many.
const INBOX_ROOM: i64 = 4;
pub const INBOX_MESSAGES: i64 = 1_000;
const DECISION_POOL: i64 = 5_000;
const HOUR: i64 = 3_600_000;

pub async fn build(db: &Db, rooms: i64, now: i64) -> anyhow::Result<Fixture> {
    let rooms = rooms.max(OWN_ROOMS + 2);
    let password = "bench-password-1".to_owned();
    let hash = Password::parse(password.clone(), &password)
        .map_err(|e| anyhow::anyhow!(e))?
        .hash()
        .await?;
    // Few enough for the domain's own insert (the same checks as an invitation).
    let mut tx = db.begin_write().await?;
    for u in 1..=USERS {
        let email =
            EmailAddress::parse(&format!("member{u}@accord.bench")).map_err(anyhow::Error::msg)?;
        let name = PersonName::parse(&format!("Member {u}")).map_err(anyhow::Error::msg)?;
        let member = NewUser {
            email: &email,
            name: &name,
            title: "Product manager",
            password_hash: Some(&hash),
            is_admin: false,
        };
        let id = user::insert(&mut tx, member, now).await?;
        anyhow::ensure!(id == Some(u), "a fresh database numbers users from 1");
    }
    // An administrator in no room: reads every room's insights without being in them.
    let email = EmailAddress::parse(ADMIN).map_err(anyhow::Error::msg)?;
    let name = PersonName::parse("Bench Admin").map_err(anyhow::Error::msg)?;
    let admin = NewUser {
        email: &email,
        name: &name,
        title: "Director",
        password_hash: Some(&hash),
        is_admin: true,
    };
    user::insert(&mut tx, admin, now).await?;
    tx.commit().await?;

    let customers_n = (rooms / 10).max(1);
    let mut customers = Table::new("customers");
    let mut contacts = Table::new("contacts");
    for c in 1..=customers_n {
        customers.push(vec![
            V::I(c),
            t(format!("Customer {c}")),
            t(format!("customer {c}")),
            t(format!("c{c}.example")),
            V::I(now),
        ]);
        for k in 0..3 {
            let id = (c - 1) * 3 + k + 1;
            contacts.push(vec![
                V::I(id),
                V::I(c),
                t(format!("Contact {id}")),
                t(format!("contact{id}@c{c}.example")),
                t("IT director"),
                V::I(now),
            ]);
        }
    }
    customers.flush(db).await?;
    contacts.flush(db).await?;

    let mut room_rows = Table::new("rooms");
    let mut members = Table::new("members");
    let mut workstreams = Table::new("workstreams");
    let mut types = Table::new("decision_types");
    let mut decisions = Table::new("decisions");
    let mut questions = Table::new("questions");
    let mut terms = Table::new("question_terms");
    let mut touches = Table::new("contact_touches");
    let mut drafts = Table::new("drafts");
    let mut revisions = Table::new("draft_revisions");
    let mut approvals = Table::new("approvals");
    let mut events = Table::new("timeline_events");
    let mut updates = Table::new("leadership_updates");
    let mut update_revisions = Table::new("update_revisions");
    let mut pre_reads = Table::new("pre_reads");
    let (mut event_id, mut decision_id) = (0i64, 0i64);
    let mut fixture = Fixture {
        email: "member1@accord.bench".into(),
        password,
        room: 3,
        big_room: 1,
        inbox_room: INBOX_ROOM,
        edit_drafts: Vec::new(),
        approve_drafts: Vec::new(),
        contact_of_room: Vec::new(),
        decisions: Vec::new(),
        send_room: (2, 2),
    };
    let questions_text = [
        "When do you plan to buy more capacity?",
        "Which clusters run out of storage first?",
        "Who approves hardware purchases?",
        "How fast is your data growing?",
    ];
    for r in 1..=rooms {
        let customer = (r - 1) % customers_n + 1;
        let contact = (customer - 1) * 3 + 1;
        let own = r <= OWN_ROOMS;
        // Room 2 is the send room: the bench member is its only PM and communicator.
        let (pm1, pm2) = match r {
            2 => (1, 1),
            _ if own => (1, 2 + r % 19),
            _ => (2 + r % 19, 21 + r % 17),
        };
        let age = (rooms - r) * 60_000;
        room_rows.push(vec![
            V::I(r),
            V::I(customer),
            t(format!("Escalation {r}: capacity planning")),
            t(format!(
                "customer {customer} escalation {r}: capacity planning"
            )),
            t("The customer cannot tell when to order more hardware."),
            t(["S1", "S2", "S3"][(r % 3) as usize]),
            V::I(contact),
            V::I(now - age - HOUR),
            t("open"),
            t(""),
            V::I(pm1),
            V::I(pm1),
            V::I(now + 24 * HOUR),
            V::I(now + 48 * HOUR),
            V::I(pm1),
            V::I(now - age - HOUR),
            V::I(now - age),
            V::I(1),
            t(reply_token(r)),
        ]);
        members.push(vec![V::I(r), V::I(pm1), t("pm"), V::I(pm1), V::I(now)]);
        if pm2 != pm1 {
            members.push(vec![V::I(r), V::I(pm2), t("pm"), V::I(pm1), V::I(now)]);
        }
        members.push(vec![V::I(r), V::I(39), t("partner"), V::I(pm1), V::I(now)]);
        members.push(vec![
            V::I(r),
            V::I(40),
            t("leadership"),
            V::I(pm1),
            V::I(now),
        ]);
        for w in 0..2 {
            workstreams.push(vec![
                V::I(r * 2 - 1 + w),
                V::I(r),
                t(["Forecast from telemetry", "Customer communication"][w as usize]),
                V::I(if w == 0 { pm1 } else { pm2 }),
                t("active"),
                t("Prototype the forecast"),
                V::I(now + 72 * HOUR),
                V::I(now),
                V::I(now),
            ]);
        }
        for (k, name) in [
            "Product scope",
            "Technical approach",
            "Customer communication",
            "Commercial",
            "Timeline",
        ]
        .iter()
        .enumerate()
        {
            types.push(vec![
                V::I((r - 1) * 5 + k as i64 + 1),
                V::I(r),
                t(*name),
                t(name.to_lowercase()),
                V::I(pm1),
            ]);
        }
        let scope_type = (r - 1) * 5 + 1;
        for d in 0..2 {
            decision_id += 1;
            let decided = d == 0;
            decisions.push(vec![
                V::I(decision_id),
                V::I(r),
                V::I(scope_type),
                t(format!("Decision {d} of room {r}")),
                t("Because the customer orders quarterly."),
                t(if decided { "decided" } else { "proposed" }),
                V::I(pm2),
                V::I(now - HOUR),
                if decided { V::I(pm1) } else { V::N },
                if decided { V::I(now) } else { V::N },
            ]);
        }
        let body = questions_text[(r % 4) as usize];
        let question_terms = similarity::terms(body);
        questions.push(vec![
            V::I(r),
            V::I(r),
            V::I(customer),
            t(body),
            t(question_terms.join(" ")),
            V::I(contact),
            t(""),
            V::I(pm2),
            V::I(now - HOUR),
            t("answered"),
            t("Next quarter."),
        ]);
        for term in question_terms {
            terms.push(vec![V::I(customer), t(term), V::I(r)]);
        }
        for k in 0..2 {
            touches.push(vec![
                V::I(r * 2 - 1 + k),
                V::I(r),
                V::I(contact),
                t("call"),
                t("Checked in on the forecast"),
                V::I(now - (k + 1) * HOUR),
                V::I(pm1),
                V::I(now),
            ]);
        }
        drafts.push(vec![V::I(r), V::I(r), V::I(pm1), V::I(now), V::I(2)]);
        for n in 1..=2 {
            revisions.push(vec![
                V::I(r * 2 - 2 + n),
                V::I(r),
                V::I(n),
                t(contact.to_string()),
                t(""),
                t("Your capacity forecast"),
                t("Hello,\n\nHere is where we are.\n\nSam"),
                V::I(pm1),
                V::I(now),
            ]);
        }
        approvals.push(vec![t("draft"), V::I(r), V::I(pm1), V::I(2), V::I(now)]);
        if pm2 != pm1 {
            approvals.push(vec![
                t("draft"),
                V::I(r),
                V::I(pm2),
                V::I(if r % 2 == 0 { 2 } else { 1 }),
                V::I(now),
            ]);
        }
        let count = if r == 1 { BIG_ROOM_EVENTS } else { 10 };
        for e in 0..count {
            event_id += 1;
            events.push(vec![
                V::I(event_id),
                V::I(r),
                V::I(now - (count - e) * 60_000),
                V::I(pm1),
                t([
                    "room.opened",
                    "workstreams.created",
                    "decisions.proposed",
                    "questions.asked",
                    "contacts.touched",
                ][(e % 5) as usize]),
                t(format!("Member {pm1} did thing {e} in the room.")),
                t(""),
            ]);
        }
        updates.push(vec![
            V::I(r),
            V::I(r),
            V::I(pm1),
            V::I(now - 2 * HOUR),
            V::I(1),
            V::I(1),
        ]);
        update_revisions.push(vec![
            V::I(r),
            V::I(r),
            V::I(1),
            t("at_risk"),
            t("The forecast is on its way"),
            t("- Forecast prototype running"),
            t("- Forecast per cluster"),
            t("- Competitor pressure"),
            t(""),
            V::I(now + 48 * HOUR),
            V::I(pm1),
            V::I(now - 2 * HOUR),
        ]);
        pre_reads.push(vec![V::I(r), V::I(r), V::I(1), V::I(r), V::I(1), t("at_risk"), t("The forecast is on its way"), t("- Forecast prototype running"), t("- Forecast per cluster"), t("- Competitor pressure"), t(""), V::I(now + 48 * HOUR), t(r#"{"taken_at":0,"room_title":"Escalation","customer":"Customer","severity":"S2 high","room_status":"Open","lead":"Member","communicator":"Member","owners":[],"workstreams":[],"decisions":[],"open_questions":[],"contacts_touched":[],"outreach":"Open","last_email":null}"#), V::I(pm1), V::I(now - HOUR)]);
        fixture.contact_of_room.push((r, contact));
        if own && r > 2 {
            match r % 2 {
                0 => fixture.approve_drafts.push((r, r)),
                _ => fixture.edit_drafts.push((r, r)),
            }
        }
    }
    // The decide pool: proposed decisions the member owns, in a room of theirs no scenario reads.
    let pool_room = OWN_ROOMS;
    let pool_type = (pool_room - 1) * 5 + 1;
    for _ in 0..DECISION_POOL {
        decision_id += 1;
        decisions.push(vec![
            V::I(decision_id),
            V::I(pool_room),
            V::I(pool_type),
            t(format!("Pool decision {decision_id}")),
            t(""),
            t("proposed"),
            V::I(2),
            V::I(now),
            V::N,
            V::N,
        ]);
        fixture.decisions.push((pool_room, decision_id));
    }
    for table in [
        &mut room_rows,
        &mut members,
        &mut workstreams,
        &mut types,
        &mut decisions,
        &mut questions,
        &mut terms,
        &mut touches,
        &mut drafts,
        &mut revisions,
        &mut approvals,
        &mut events,
        &mut updates,
        &mut update_revisions,
        &mut pre_reads,
    ] {
        table.flush(db).await?;
    }
    disagreement(db, &fixture, now).await?;
    engagement(db, &fixture, now).await?;
    let inbox_customer = (INBOX_ROOM - 1) % customers_n + 1;
    received_messages(db, (inbox_customer - 1) * 3 + 1, inbox_customer, now).await?;
    // The question terms above were built by this binary's similarity rules: say so, or the
    // server's first start rebuilds them all (minutes at 100k rooms, before anything is measured).
    let mut conn = db.writer().acquire().await?;
    accord::questions::model::set_terms_version(&mut conn, similarity::VERSION).await?;
    drop(conn);
    if db.backend() == Backend::Postgres {
        // What autovacuum does within a minute of a bulk load; without it the planner assumes
        // every table is nearly empty.
        sqlx::query("ANALYZE").execute(db.writer()).await?;
    }
    Ok(fixture)
}

/// Room `r`'s reply token (the `+TOKEN` of its reply address), as Accord makes them: 20 hex.
pub fn reply_token(room: i64) -> String {
    format!("{room:020x}")
}

/// `INBOX_MESSAGES` received messages from the inbox room's contact, as filed by the pipeline.
async fn received_messages(db: &Db, contact: i64, customer: i64, now: i64) -> anyhow::Result<()> {
    let mut rows = Table::new("inbound_messages");
    for m in 1..=INBOX_MESSAGES {
        rows.push(vec![
            V::I(m),
            t(format!("<bench-{m}@c{customer}.example>")),
            t(format!("<bench-{m}@c{customer}.example>")),
            t("filed"),
            t("reply"),
            V::I(INBOX_ROOM),
            V::I(contact),
            t("reply_address"),
            t(format!("<bench-{m}@c{customer}.example>")),
            t(format!("contact{contact}@c{customer}.example")),
            t(format!("Contact {contact}")),
            t(format!("Re: capacity, message {m}")),
            t("Thanks for the update. The forecast looks right to us.\n\nOn Monday, you wrote:\n> Our forecast"),
            V::I(now - (INBOX_MESSAGES - m) * 60_000),
            t("imap"),
            V::I(900),
        ]);
    }
    rows.flush(db).await
}

/// A call planned in the member's typical room (id 1) on its first workstream, with the room's
/// contact, waiting to be cleared: the engagement page the benchmark opens.
async fn engagement(db: &Db, f: &Fixture, now: i64) -> anyhow::Result<()> {
    let contact = f
        .contact_of_room
        .iter()
        .find(|(room, _)| *room == f.room)
        .map_or(1, |(_, contact)| *contact);
    let mut engagements = Table::new("engagements");
    engagements.push(vec![
        V::I(1),
        V::I(f.room),
        V::I(f.room * 2 - 1),
        t("call"),
        V::I(now + 24 * HOUR),
        V::I(30),
        t("Walk the customer through the forecast"),
        t("planned"),
        V::I(1),
        V::I(now),
    ]);
    engagements.flush(db).await?;
    let mut contacts = Table::new("engagement_contacts");
    contacts.push(vec![V::I(1), V::I(contact)]);
    contacts.flush(db).await?;
    let mut participants = Table::new("engagement_participants");
    participants.push(vec![V::I(1), V::I(1)]);
    participants.flush(db).await
}

/// The one-time alignment link the benchmark opens (its digest is stored, as Accord stores them).
pub const ALIGN_TOKEN: &str = "benchmark-alignment-link-token-0123456789abcdef";

/// One escalation about the first approved-in-the-mix draft's revision 2 (id 1), and the member's
/// alignment link for that revision.
async fn disagreement(db: &Db, f: &Fixture, now: i64) -> anyhow::Result<()> {
    let (room, draft) = f.approve_drafts[0];
    let mut escalations = Table::new("escalations");
    escalations.push(vec![
        V::I(1),
        V::I(room),
        t("draft"),
        V::I(draft),
        V::I(2),
        V::I(2),
        t("The forecast covers two clusters only; say so."),
        V::I(1),
        V::I(now),
    ]);
    escalations.flush(db).await?;
    let mut links = Table::new("align_links");
    links.push(vec![
        t(accord::secrets::digest(ALIGN_TOKEN)),
        V::I(1),
        V::I(room),
        t("draft"),
        V::I(draft),
        V::I(2),
        V::I(now + 365 * 24 * HOUR),
    ]);
    links.flush(db).await
}
