//! Writing a leadership update: a first revision starts from the room's facts since the last
//! published pre-read; every save is a new revision, counted as the author's alignment.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, Body, OverallStatus};
use super::require_pm;
use super::snapshot::Snapshot;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::{self, SubjectKind};
use crate::customers::model as customers;
use crate::drafts::notify;
use crate::error::AppError;
use crate::members::model as members;
use crate::rooms::access::Action;
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Audience;
use crate::rooms::model::Room;
use crate::web::forms::{FieldErrors, Form, invalid, optional_text, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/updates/new", get(new))
        .route("/rooms/{id}/updates", post(create))
        .route("/rooms/{id}/updates/{update}/edit", get(edit))
        .route("/rooms/{id}/updates/{update}/revisions", post(revise))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UpdateForm {
    status: String,
    headline: String,
    what_changed: String,
    decisions: String,
    risks: String,
    asks: String,
    next_due: String,
    base_revision: Option<i64>,
}

impl UpdateForm {
    fn from_body(body: &Body, base: Option<i64>, zone: Zone) -> UpdateForm {
        UpdateForm {
            status: body.status.clone(),
            headline: body.headline.clone(),
            what_changed: body.what_changed.clone(),
            decisions: body.decisions.clone(),
            risks: body.risks.clone(),
            asks: body.asks.clone(),
            next_due: body
                .next_due
                .map(|at| zone.to_input(at))
                .unwrap_or_default(),
            base_revision: base,
        }
    }

    /// Checks the form; the next due time is read in `zone`.
    fn parse(&self, zone: Zone) -> Result<Body, FieldErrors> {
        let mut errors = FieldErrors::default();
        let status = errors.require(
            "status",
            OverallStatus::parse(&self.status),
            "Choose the overall status.",
        );
        let headline = errors.check(
            "headline",
            required_text(&self.headline, 200, "Write a one-line headline."),
        );
        let mut text = |field, raw: &str| errors.check(field, optional_text(raw, 10_000));
        let what_changed = text("what_changed", &self.what_changed);
        let decisions = text("decisions", &self.decisions);
        let risks = text("risks", &self.risks);
        let asks = text("asks", &self.asks);
        let next_due = errors.check("next_due", zone.parse_input(&self.next_due));
        errors.finish(|| {
            Some(Body {
                status: status?.as_str().to_owned(),
                headline: headline?,
                what_changed: what_changed?,
                decisions: decisions?,
                risks: risks?,
                asks: asks?,
                next_due: next_due?,
            })
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "updates/form.html")]
struct FormPage {
    page: Page,
    room: Room,
    update_id: Option<i64>,
    form: UpdateForm,
    errors: FieldErrors,
    statuses: &'static [OverallStatus],
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    update_id: Option<i64>,
    form: Option<UpdateForm>,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    require_pm(&viewer)?;
    let form = match (form, update_id) {
        (Some(form), _) => form,
        (None, Some(id)) => {
            let update = model::find(&mut conn, room_id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let current = model::revision(&mut conn, id, update.current_revision)
                .await?
                .ok_or(AppError::NotFound)?;
            UpdateForm::from_body(&current.body, Some(update.current_revision), page.zone)
        }
        (None, None) => {
            if let Some(open) = model::in_progress(&mut conn, room_id).await? {
                return Ok(
                    Redirect::to(&format!("/rooms/{room_id}/updates/{}/edit", open.id))
                        .into_response(),
                );
            }
            let since = model::pre_read(&mut conn, room_id, None)
                .await?
                .map_or(room.opened_at, |p| p.published_at);
            let customer = customers::find(&mut *conn, room.customer_id)
                .await?
                .map_or(String::new(), |c| c.name);
            let facts = Snapshot::take(&mut conn, &room, &customer, since, now).await?;
            let (what_changed, decisions, risks) = facts.starting_text(page.zone);
            UpdateForm {
                status: OverallStatus::OnTrack.as_str().to_owned(),
                what_changed,
                decisions,
                risks,
                next_due: page
                    .zone
                    .to_input(room.next_due_after(Audience::Leadership, now)),
                ..UpdateForm::default()
            }
        }
    };
    let page = FormPage {
        page,
        room,
        update_id,
        form,
        errors,
        statuses: OverallStatus::ALL,
    };
    match page.errors.is_empty() {
        true => Ok(page.into_response()),
        false => invalid(page),
    }
}

async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<Response, AppError> {
    form_page(
        &state,
        &user,
        page,
        room_id,
        None,
        None,
        FieldErrors::default(),
    )
    .await
}

async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    form_page(
        &state,
        &user,
        page,
        room_id,
        Some(update_id),
        None,
        FieldErrors::default(),
    )
    .await
}

/// Saves a revision (the first when `update_id` is `None`), counts it as the author's alignment,
/// notifies the other PMs and records it on the timeline.
async fn save(
    state: &AppState,
    change: &mut RoomChange,
    update_id: Option<i64>,
    body: &Body,
) -> Result<i64, AppError> {
    let (room_id, now, author) = (change.room.id, change.now, change.viewer.user_id);
    let update_id = match update_id {
        Some(id) => id,
        None => model::create(change.conn(), room_id, author, now).await?,
    };
    let number = model::add_revision(change.conn(), update_id, body, author, now).await?;
    approvals::approve(
        change.conn(),
        SubjectKind::Update,
        update_id,
        author,
        number,
        now,
    )
    .await?;
    let people = members::list(change.conn(), room_id).await?;
    let (alignment, _) = approvals::standing(
        change.conn(),
        SubjectKind::Update,
        update_id,
        (room_id, &people),
        number,
        now,
    )
    .await?;
    let path = format!("/rooms/{room_id}/updates/{update_id}");
    let what = format!(
        "The leadership update “{}” (revision {number})",
        body.headline
    );
    let waiting = notify::Waiting {
        room_id,
        kind: SubjectKind::Update,
        subject_id: update_id,
        revision: number,
        what: &what,
        path: &path,
    };
    notify::pms_to_align(state, change.conn(), &alignment, author, &waiting, now).await?;
    let summary = match number {
        1 => format!(
            "{} drafted a leadership update: “{}”.",
            change.viewer.name, body.headline
        ),
        n => format!(
            "{} saved revision {n} of the leadership update; earlier alignment is now stale.",
            change.viewer.name
        ),
    };
    change
        .record(
            if number == 1 {
                "updates.created"
            } else {
                "updates.revised"
            },
            &summary,
            &path,
        )
        .await?;
    Ok(update_id)
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, AppError> {
    let body = match form.parse(page.zone) {
        Ok(body) => body,
        Err(errors) => {
            return form_page(&state, &user, page, room_id, None, Some(form), errors).await;
        }
    };
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    require_pm(&change.viewer)?;
    if let Some(open) = model::in_progress(change.conn(), room_id).await? {
        return Err(AppError::Conflict(format!(
            "This room already has a leadership update in preparation; edit it at /rooms/{room_id}/updates/{}.",
            open.id
        )));
    }
    let update_id = save(&state, &mut change, None, &body).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}/updates/{update_id}")).into_response())
}

/// Why a new revision on top of `base` is refused: the update is published (frozen), or someone
/// saved a newer revision meanwhile.
fn revision_refusal(update: &model::Update, base: Option<i64>) -> Option<String> {
    if let Some(version) = update.published_version {
        return Some(format!(
            "This update was published as version {version} and is frozen. Start the next update instead."
        ));
    }
    let now_at = update.current_revision;
    base.filter(|base| *base != now_at).map(|base| {
        format!("Someone saved revision {now_at} while you were editing revision {base}. Open the update again.")
    })
}

async fn revise(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, AppError> {
    let body = match form.parse(page.zone) {
        Ok(body) => body,
        Err(errors) => {
            let update = Some(update_id);
            return form_page(&state, &user, page, room_id, update, Some(form), errors).await;
        }
    };
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    require_pm(&change.viewer)?;
    let update = model::find(change.conn(), room_id, update_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(why) = revision_refusal(&update, form.base_revision) {
        return Err(AppError::Conflict(why));
    }
    save(&state, &mut change, Some(update_id), &body).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}/updates/{update_id}")).into_response())
}
