//! The room sync (`/rooms/{id}/sync`): a cadence (by severity unless the room names one) and the
//! next sync's time; an agenda built from open state the moment the page opens; and minutes taken
//! in one form — items ticked as discussed, decisions settled or proposed, a question, workstream
//! statuses, notes and next steps — each recorded through the ordinary rules with its own
//! timeline entry, in one transaction: a step a rule refuses refuses the whole minutes. What was
//! not discussed carries over to the next sync. Members get the agenda by email an hour before
//! (`reminder`).

pub mod agenda;
pub mod model;
pub mod reminder;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::AnyConnection;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::{self, Alignment, SubjectKind};
use crate::clock::Millis;
use crate::contact_log;
use crate::customers::model::{self as customers, Contact};
use crate::db::OnDemand;
use crate::decisions::model::{DecisionStatus, DecisionType};
use crate::decisions::{Proposal, record_proposal, settle_in};
use crate::engagements::model as engagements;
use crate::error::AppError;
use crate::members::model::MemberKind;
use crate::questions::model as questions;
use crate::questions::{Asked, needs_confirmation};
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::content::RoomContent;
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{Form, optional_text};
use crate::web::page::Page;
use crate::web::time::Zone;
use crate::workstreams::model::{Workstream, WorkstreamStatus};
use agenda::{Item, Open, Waiting};
use model::{Held, Minuted, Schedule};

/// Past syncs listed on the page.
const PAST_SHOWN: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/sync", get(show))
        .route("/rooms/{id}/sync/minutes", post(minutes))
        .route("/rooms/{id}/sync/schedule", post(reschedule))
}

/// The drafts and the leadership update still being aligned, and on whom they wait.
async fn waiting(
    conn: &mut AnyConnection,
    room: &Room,
    content: &RoomContent,
    now: Millis,
) -> Result<Vec<Waiting>, AppError> {
    let pms: Vec<_> = content
        .rest
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::Pm)
        .cloned()
        .collect();
    let mut subjects: Vec<(SubjectKind, i64, String, i64)> = content
        .email
        .drafts
        .iter()
        .filter(|d| d.state.is_none())
        .map(|d| (SubjectKind::Draft, d.id, d.subject.clone(), d.revision))
        .collect();
    if let Some(update) = &content.rest.update_in_progress {
        let headline: String = sqlx::query_scalar(
            "SELECT headline FROM update_revisions WHERE update_id = $1 AND number = $2",
        )
        .bind(update.id)
        .bind(update.current_revision)
        .fetch_one(&mut *conn)
        .await?;
        subjects.push((
            SubjectKind::Update,
            update.id,
            headline,
            update.current_revision,
        ));
    }
    let mut out = Vec::new();
    for (kind, id, title, revision) in subjects {
        let (alignment, _) =
            approvals::standing(conn, kind, id, (room.id, &pms), revision, now).await?;
        out.push(Waiting {
            kind: match kind {
                SubjectKind::Draft => "draft",
                SubjectKind::Update => "update",
            },
            id,
            title,
            on: alignment
                .iter()
                .filter(|(_, a)| !a.is_current())
                .map(|(pm, _)| pm.name.clone())
                .collect(),
            objections: alignment
                .iter()
                .filter_map(|(pm, a)| match a {
                    Alignment::Objects { reason } => Some((pm.name.clone(), reason.clone())),
                    _ => None,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The agenda of the room now (read on `conn`: the page's reader, or the minutes' transaction).
pub async fn build(
    conn: &mut AnyConnection,
    state: &AppState,
    room: &Room,
    zone: Zone,
    now: Millis,
) -> Result<(Vec<Item>, std::sync::Arc<RoomContent>), AppError> {
    let content = state
        .room_content
        .get(
            &mut OnDemand::from(&mut *conn),
            room,
            crate::rooms::content::Selection::default(),
        )
        .await?;
    let waiting = waiting(conn, room, &content, now).await?;
    let contacts = contact_log::model::activity(conn, room.customer_id, now).await?;
    let open_engagements = engagements::open_in_room(conn, room.id).await?;
    let carried = model::carried(conn, room.id).await?;
    let open = Open {
        room_id: room.id,
        now,
        zone,
        decisions: &content.decisions,
        waiting: &waiting,
        workstreams: &content.rest.workstreams,
        questions: &content.rest.questions,
        engagements: &open_engagements,
        contacts: &contacts,
        touch_limit: state.config.contact_touch_limit,
        customer_update_due: room.next_customer_update_due,
        leadership_update_due: room.next_leadership_update_due,
    };
    Ok((agenda::agenda(&open, &carried), content))
}

#[derive(Template, WebTemplate)]
#[template(path = "syncs/show.html")]
struct SyncPage {
    page: Page,
    room: Room,
    agenda: Vec<Item>,
    workstreams: Vec<Workstream>,
    statuses: &'static [WorkstreamStatus],
    types: Vec<DecisionType>,
    /// The proposed decisions the reader may settle (their type is theirs).
    mine_to_decide: Vec<(i64, String)>,
    contacts: Vec<Contact>,
    schedule: Schedule,
    every_hours: i64,
    past: Vec<Held>,
    can_minute: bool,
    can_schedule: bool,
}

impl SyncPage {
    /// The agenda's groups, in order, each with its items.
    fn groups(&self) -> Vec<(&'static str, Vec<&Item>)> {
        let mut groups: Vec<(&'static str, Vec<&Item>)> = Vec::new();
        for item in &self.agenda {
            match groups.iter_mut().find(|(g, _)| *g == item.group) {
                Some((_, items)) => items.push(item),
                None => groups.push((item.group, vec![item])),
            }
        }
        groups
    }

    fn decidable(&self, key: &str) -> Option<i64> {
        let id: i64 = key.strip_prefix("decision:")?.parse().ok()?;
        self.mine_to_decide
            .iter()
            .any(|(d, _)| *d == id)
            .then_some(id)
    }

    fn cadence_words(&self) -> String {
        cadence_words(self.every_hours)
    }

    fn is_cadence(&self, hours: &i64) -> bool {
        self.every_hours == *hours
    }
}

/// "daily", "twice a week", "weekly", "every 12 hours".
pub fn cadence_words(hours: i64) -> String {
    match hours {
        24 => "daily".to_owned(),
        84 => "twice a week".to_owned(),
        168 => "weekly".to_owned(),
        h if h % 24 == 0 => format!("every {} days", h / 24),
        h => format!("every {h} hours"),
    }
}

/// The cadences the schedule form offers.
pub const CADENCES: &[i64] = &[24, 48, 84, 168, 336];

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<SyncPage, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let (agenda, content) = build(&mut conn, &state, &room, page.zone, now).await?;
    let schedule = model::schedule(&mut conn, room_id).await?;
    let mine_to_decide = content
        .decisions
        .iter()
        .filter(|d| d.status == DecisionStatus::Proposed)
        .filter(|d| {
            content
                .types
                .iter()
                .any(|t| t.id == d.decision_type_id && t.owner_user_id == user.id)
        })
        .map(|d| (d.id, d.title.clone()))
        .collect();
    Ok(SyncPage {
        can_minute: check(&viewer, &room, Action::Contribute).is_ok(),
        can_schedule: check(&viewer, &room, Action::EditRoom).is_ok(),
        every_hours: schedule
            .every_hours
            .unwrap_or_else(|| model::default_every_hours(room.severity())),
        schedule,
        past: model::past(&mut conn, room_id, PAST_SHOWN).await?,
        contacts: customers::contacts_of(&mut *conn, room.customer_id).await?,
        workstreams: content.rest.workstreams.clone(),
        statuses: WorkstreamStatus::ALL,
        types: content.types.clone(),
        mine_to_decide,
        agenda,
        room,
        page,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MinutesForm {
    /// The agenda items ticked as discussed.
    discussed: Vec<String>,
    /// "ID:decided" or "ID:rejected" for decisions settled in the sync.
    settle: Vec<String>,
    propose_type: String,
    propose_title: String,
    question_body: String,
    question_for: String,
    /// Asking anyway after seeing similar questions.
    question_confirmed: String,
    /// "ID:STATUS" for each workstream (only a change is recorded).
    workstream_status: Vec<String>,
    notes: String,
    next_steps: String,
}

async fn minutes(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<MinutesForm>,
) -> Result<Response, AppError> {
    let notes = optional_text(&form.notes, 4000).map_err(AppError::Conflict)?;
    let next_steps = optional_text(&form.next_steps, 2000).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let (now, room) = (change.now, change.room.clone());
    let (agenda, content) = build(change.conn(), &state, &room, page.zone, now).await?;
    for settled in form.settle.iter().filter(|s| !s.is_empty()) {
        let (id, outcome) = settled
            .split_once(':')
            .and_then(|(id, o)| Some((id.parse::<i64>().ok()?, DecisionStatus::parse(o)?)))
            .filter(|(_, o)| matches!(o, DecisionStatus::Decided | DecisionStatus::Rejected))
            .ok_or_else(|| AppError::Conflict("Choose to decide or to reject.".into()))?;
        settle_in(&mut change, id, outcome).await?;
    }
    propose(&mut change, &content.types, &form).await?;
    if let Err(SimilarShown { body, message }) = ask(&mut change, &form).await? {
        drop(change);
        questions::note_similar_shown(&state.db, room_id, user.id, &body, now).await?;
        return Err(AppError::Conflict(message));
    }
    for choice in form.workstream_status.iter().filter(|s| !s.is_empty()) {
        let (id, status) = choice
            .split_once(':')
            .and_then(|(id, s)| Some((id.parse::<i64>().ok()?, WorkstreamStatus::parse(s)?)))
            .ok_or_else(|| AppError::Conflict("Choose a status for the workstream.".into()))?;
        let current = content
            .rest
            .workstreams
            .iter()
            .find(|w| w.id == id)
            .ok_or(AppError::NotFound)?;
        if current.status != status {
            crate::workstreams::set_status(&mut change, current, status, None).await?;
        }
    }
    let items: Vec<Minuted<'_>> = agenda
        .iter()
        .map(|item| Minuted {
            key: &item.key,
            label: &item.text,
            discussed: form.discussed.contains(&item.key),
        })
        .collect();
    model::insert(
        change.conn(),
        room_id,
        user.id,
        (&notes, &next_steps),
        &items,
        now,
    )
    .await?;
    let schedule = model::schedule(change.conn(), room_id).await?;
    let every = schedule
        .every_hours
        .unwrap_or_else(|| model::default_every_hours(room.severity()));
    let next = Schedule {
        next_at: Some(now + every * 3_600_000),
        ..schedule
    };
    model::set_schedule(change.conn(), room_id, next).await?;
    let discussed = items.iter().filter(|i| i.discussed).count();
    let summary = format!(
        "{} took the minutes of the sync: {discussed} of {} agenda items discussed{}{}",
        user.name,
        items.len(),
        match next_steps.is_empty() {
            true => String::new(),
            false => format!("; next steps: {next_steps}"),
        },
        match notes.is_empty() {
            true => ".".to_owned(),
            false => format!(". Notes: {notes}"),
        }
    );
    let link = format!("/rooms/{room_id}/sync#past");
    change.record("room.synced", &summary, &link).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/sync#past")).into_response())
}

/// A decision proposed in the minutes, through the ordinary proposal.
async fn propose(
    change: &mut RoomChange,
    types: &[DecisionType],
    form: &MinutesForm,
) -> Result<(), AppError> {
    let title = optional_text(&form.propose_title, 300).map_err(AppError::Conflict)?;
    if title.is_empty() {
        return Ok(());
    }
    let decision_type = types
        .iter()
        .find(|t| form.propose_type.parse() == Ok(t.id))
        .ok_or_else(|| AppError::Conflict("Choose the type of the decision you propose.".into()))?;
    let proposal = Proposal {
        title,
        rationale: "Proposed in the sync.".to_owned(),
        decision_type,
        supersedes: None,
    };
    record_proposal(change, &proposal).await
}

/// A question the minutes could not record because similar ones were asked before.
struct SimilarShown {
    body: String,
    /// What the refusal says, naming the similar questions.
    message: String,
}

/// A question recorded in the minutes, through the ledger's "already asked?" check (whose
/// refusal the caller keeps, after rolling the minutes back).
async fn ask(
    change: &mut RoomChange,
    form: &MinutesForm,
) -> Result<Result<(), SimilarShown>, AppError> {
    let body = optional_text(&form.question_body, 2000).map_err(AppError::Conflict)?;
    if body.is_empty() {
        return Ok(Ok(()));
    }
    let customer = change.room.customer_id;
    let contacts = customers::contacts_of(&mut **change.conn(), customer).await?;
    let contact = contacts
        .iter()
        .find(|c| form.question_for.parse() == Ok(c.id))
        .ok_or_else(|| AppError::Conflict("Choose which contact the question is for.".into()))?;
    let similar = questions::similar_to(change.conn(), customer, &body).await?;
    let seen: Vec<i64> = similar.iter().map(|s| s.question.id).collect();
    if needs_confirmation(&similar, &seen, form.question_confirmed == "yes") {
        let asked: Vec<String> = similar
            .iter()
            .map(|s| format!("“{}” (asked by {})", s.question.body, s.question.asked_by))
            .collect();
        let message = format!(
            "Already asked? {} — nothing was recorded. Tick “ask anyway” to record the question regardless.",
            asked.join("; ")
        );
        return Ok(Err(SimilarShown { body, message }));
    }
    let asked = Asked {
        body,
        contact_id: Some(contact.id),
        internal_name: String::new(),
    };
    let despite: Vec<String> = seen.iter().map(i64::to_string).collect();
    crate::questions::record(change, &asked, &despite).await?;
    Ok(Ok(()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScheduleForm {
    every_hours: String,
    next_at: String,
}

async fn reschedule(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<ScheduleForm>,
) -> Result<Redirect, AppError> {
    let every = form
        .every_hours
        .parse::<i64>()
        .ok()
        .filter(|h| CADENCES.contains(h))
        .ok_or_else(|| AppError::Conflict("Choose how often the team meets.".into()))?;
    let next_at = page
        .zone
        .parse_input(&form.next_at)
        .map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::EditRoom).await?;
    if next_at.is_some_and(|at| at < change.now) {
        return Err(AppError::Conflict("The next sync must be ahead.".into()));
    }
    let severity_default = model::default_every_hours(change.room.severity());
    let schedule = Schedule {
        every_hours: (every != severity_default).then_some(every),
        next_at,
    };
    model::set_schedule(change.conn(), room_id, schedule).await?;
    let when = next_at.map_or_else(|| "not scheduled".to_owned(), |at| page.zone.when(at));
    let summary = format!(
        "{} set the sync {}; next: {when}.",
        user.name,
        cadence_words(every)
    );
    change.record("room.sync_scheduled", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/sync")))
}
