//! Writing a draft and saving new revisions. A save by a PM counts as their alignment on the
//! revision it creates; everyone else's alignment on an earlier revision becomes stale.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, Body, Content, Subject};
use super::{DraftState, notify};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::{self, SubjectKind};
use crate::customers::model::{self as customers, Contact};
use crate::error::AppError;
use crate::inbound::model::{self as inbound, Received};
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::rooms::parts::Part;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/new", get(new))
        .route("/rooms/{id}/drafts", post(create))
        .route("/rooms/{id}/drafts/{draft}/edit", get(edit))
        .route("/rooms/{id}/drafts/{draft}/revisions", post(revise))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DraftForm {
    to: Vec<i64>,
    cc: Vec<i64>,
    subject: String,
    body: String,
    base_revision: Option<i64>,
    /// The received message a first revision answers ("Reply" on it).
    replies_to: Option<i64>,
}

/// `?reply_to=M` on the new-draft page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewDraftQuery {
    reply_to: Option<i64>,
}

/// A first revision answering a received message: to its sender, "Re:" its subject, its text
/// quoted under an attribution line.
fn reply_form(message: &Received, zone: Zone) -> DraftForm {
    let subject = match message.subject.trim() {
        s if s.to_lowercase().starts_with("re:") => s.to_owned(),
        "" => "Re: your message".to_owned(),
        s => format!("Re: {s}"),
    };
    let when = zone.when(message.written_at.unwrap_or(message.received_at));
    let quoted: String = message
        .fresh()
        .lines()
        .map(|line| format!("> {line}\n"))
        .collect();
    DraftForm {
        to: message.contact_id.into_iter().collect(),
        subject: subject.chars().take(200).collect(),
        body: format!("\n\nOn {when}, {} wrote:\n{quoted}", message.sender()),
        replies_to: Some(message.id),
        ..DraftForm::default()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "drafts/form.html")]
struct FormPage {
    page: Page,
    room: Room,
    draft_id: Option<i64>,
    contacts: Vec<Contact>,
    form: DraftForm,
    errors: FieldErrors,
    /// The received message this draft replies to.
    answering: Option<Received>,
}

impl FormPage {
    fn is_to(&self, id: &i64) -> bool {
        self.form.to.contains(id)
    }

    fn is_cc(&self, id: &i64) -> bool {
        self.form.cc.contains(id)
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    draft_id: Option<i64>,
    form: Option<DraftForm>,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let form = match (form, draft_id) {
        (Some(form), _) => form,
        (None, Some(id)) => {
            let draft = DraftState::load(&mut conn, &room, id, state.clock.now()).await?;
            DraftForm {
                to: draft.current.to_ids.clone(),
                cc: draft.current.cc_ids.clone(),
                subject: draft.current.subject.clone(),
                body: draft.current.body.clone(),
                base_revision: Some(draft.draft.current_revision),
                replies_to: draft.draft.replies_to_message,
            }
        }
        (None, None) => DraftForm::default(),
    };
    let answering = match form.replies_to {
        Some(id) => Some(
            inbound::find(&mut conn, id)
                .await?
                .filter(|m| m.room_id == Some(room.id))
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    Ok(FormPage {
        page,
        contacts: customers::contacts_of(&mut *conn, room.customer_id).await?,
        room,
        draft_id,
        form,
        errors,
        answering,
    })
}

async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Query(query): Query<NewDraftQuery>,
) -> Result<FormPage, AppError> {
    let form = match query.reply_to {
        Some(id) => {
            let mut conn = state.db.reader().acquire().await?;
            let (room, _) = read_room(&mut conn, room_id, &user).await?;
            let message = inbound::find(&mut conn, id)
                .await?
                .filter(|m| m.room_id == Some(room.id))
                .ok_or(AppError::NotFound)?;
            Some(reply_form(&message, page.zone))
        }
        None => None,
    };
    form_page(
        &state,
        &user,
        page,
        room_id,
        None,
        form,
        FieldErrors::default(),
    )
    .await
}

async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
) -> Result<FormPage, AppError> {
    form_page(
        &state,
        &user,
        page,
        room_id,
        Some(draft_id),
        None,
        FieldErrors::default(),
    )
    .await
}

impl DraftForm {
    fn parse(&self) -> Result<(Subject, Body), FieldErrors> {
        let mut errors = FieldErrors::default();
        let subject = errors.check("subject", Subject::parse(&self.subject));
        let body = errors.check("body", Body::parse(&self.body));
        errors.finish(|| subject.zip(body))
    }
}

/// Why a new revision on top of `base` is refused: the draft already went out (only a failed
/// delivery reopens it), or someone saved a newer revision meanwhile.
fn revision_refusal(current: &DraftState, base: Option<i64>) -> Option<String> {
    let delivery = current.delivery.as_ref();
    if delivery.is_some_and(|d| d.state != crate::outbox::model::OutboxState::Failed) {
        return Some("This draft was already queued or sent; it can no longer change.".into());
    }
    let now_at = current.draft.current_revision;
    base.filter(|base| *base != now_at).map(|base| {
        format!(
            "Someone saved revision {now_at} while you were editing revision {base}. Open the draft again and make your change on the current revision."
        )
    })
}

/// Saves a revision (the first when `draft_id` is `None`), with the author's alignment when they
/// are a PM, the timeline entry, and notifications to the PMs still to align; returns the draft
/// and the revision's number.
async fn save(
    state: &AppState,
    change: &mut RoomChange,
    draft_id: Option<i64>,
    form: &DraftForm,
    (subject, body): &(Subject, Body),
) -> Result<(i64, i64), AppError> {
    let (subject, body) = (subject.as_str(), body.as_str());
    let (room_id, now, author) = (change.room.id, change.now, change.viewer.user_id);
    let draft_id = match draft_id {
        Some(id) => id,
        None => {
            let answering = match form.replies_to {
                Some(id) => Some(
                    inbound::find(change.conn(), id)
                        .await?
                        .filter(|m| m.room_id == Some(room_id))
                        .ok_or(AppError::NotFound)?
                        .id,
                ),
                None => None,
            };
            model::create(change.conn(), room_id, author, answering, now).await?
        }
    };
    let content = Content {
        to_ids: &form.to,
        cc_ids: &form.cc,
        subject,
        body,
    };
    let number = model::add_revision(change.conn(), draft_id, &content, author, now).await?;
    if change.viewer.is_pm() {
        approvals::approve(
            change.conn(),
            SubjectKind::Draft,
            draft_id,
            author,
            number,
            now,
        )
        .await?;
    }
    let room = change.room.clone();
    let draft = DraftState::load(change.conn(), &room, draft_id, now).await?;
    let path = format!("/rooms/{room_id}/drafts/{draft_id}");
    let what = format!("The customer email “{subject}” (revision {number})");
    let waiting = notify::Waiting {
        room_id,
        kind: SubjectKind::Draft,
        subject_id: draft_id,
        revision: number,
        what: &what,
        path: &path,
    };
    notify::pms_to_align(
        state,
        change.conn(),
        &draft.alignment,
        author,
        &waiting,
        now,
    )
    .await?;
    let summary = match number {
        1 => format!(
            "{} drafted the customer email “{subject}”.",
            change.viewer.name
        ),
        n => format!(
            "{} saved revision {n} of “{subject}”; alignment on earlier revisions is now stale.",
            change.viewer.name
        ),
    };
    let kind = if number == 1 {
        "drafts.created"
    } else {
        "drafts.revised"
    };
    change.record(kind, &summary, &path).await?;
    Ok((draft_id, number))
}

/// A revision as a door other than the form sends it (the API).
pub struct Revision {
    pub to: Vec<i64>,
    pub cc: Vec<i64>,
    pub subject: String,
    pub body: String,
    /// The revision it was written on top of; refused if someone saved a newer one meanwhile.
    pub base_revision: Option<i64>,
}

/// Saves a revision by `user` (a new draft when `draft_id` is `None`) exactly as the form does:
/// the same checks, refusals, alignment of a PM author, notifications and timeline entry.
/// Returns the draft and the revision's number, or the fields' problems.
pub async fn save_revision(
    state: &AppState,
    user: &CurrentUser,
    room_id: i64,
    draft_id: Option<i64>,
    revision: Revision,
) -> Result<Result<(i64, i64), FieldErrors>, AppError> {
    let form = DraftForm {
        to: revision.to,
        cc: revision.cc,
        subject: revision.subject,
        body: revision.body,
        base_revision: revision.base_revision,
        replies_to: None,
    };
    let content = match form.parse() {
        Ok(content) => content,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut change =
        RoomChange::begin_writing_only(state, room_id, user, Action::Contribute, Part::Email)
            .await?;
    if let Some(id) = draft_id {
        let (conn, room, now) = change.parts();
        let current = DraftState::load(conn, room, id, now).await?;
        if let Some(why) = revision_refusal(&current, form.base_revision) {
            return Err(AppError::Conflict(why));
        }
    }
    let saved = save(state, &mut change, draft_id, &form, &content).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Ok(saved))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<DraftForm>,
) -> Result<Response, AppError> {
    let content = match form.parse() {
        Ok(content) => content,
        Err(errors) => {
            return invalid(
                form_page(&state, &user, page, room_id, None, Some(form), errors).await?,
            );
        }
    };
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Email)
            .await?;
    let (draft_id, _) = save(&state, &mut change, None, &form, &content).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}/drafts/{draft_id}")).into_response())
}

async fn revise(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Form(form): Form<DraftForm>,
) -> Result<Response, AppError> {
    let content = match form.parse() {
        Ok(content) => content,
        Err(errors) => {
            let draft = Some(draft_id);
            return invalid(
                form_page(&state, &user, page, room_id, draft, Some(form), errors).await?,
            );
        }
    };
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Email)
            .await?;
    let (conn, room, now) = change.parts();
    let current = DraftState::load(conn, room, draft_id, now).await?;
    if let Some(why) = revision_refusal(&current, form.base_revision) {
        return Err(AppError::Conflict(why));
    }
    save(&state, &mut change, Some(draft_id), &form, &content).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}/drafts/{draft_id}")).into_response())
}
