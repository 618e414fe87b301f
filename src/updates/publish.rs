//! The update page (current revision, each PM's alignment, the publish checklist), aligning on
//! it, and publishing: re-checked inside the publishing transaction, which freezes the revision
//! and a snapshot of the room as the next pre-read version and tells leadership.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lettre::Message;
use lettre::message::Mailbox;
use sqlx::AnyConnection;

use super::model::{self, NewPreRead, Revision, Update};
use super::snapshot::Snapshot;
use super::{publish_blockers, require_pm};
use crate::AppState;
use crate::accounts::{CurrentUser, user};
use crate::approvals::absence::Absence;
use crate::approvals::panel::Panel;
use crate::approvals::position::{self, PositionForm};
use crate::approvals::refusal::{Attempt, Refusal};
use crate::approvals::{self, Alignment, Stance, SubjectKind, approval_refusal};
use crate::clock::Millis;
use crate::customers::model as customers;
use crate::emails::{self, PreReadPublished};
use crate::error::AppError;
use crate::members::model::MemberKind;
use crate::members::model::{self as members, Member};
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::access::{Action, Viewer};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::{self as rooms, Audience, Room};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::live::Seen;
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/updates/{update}", get(show))
        .route("/rooms/{id}/updates/{update}/live", get(live))
        .route("/rooms/{id}/updates/{update}/approval", post(approve))
        .route("/rooms/{id}/updates/{update}/objection", post(object))
        .route(
            "/rooms/{id}/updates/{update}/approval/withdrawal",
            post(withdraw),
        )
        .route("/rooms/{id}/updates/{update}/publication", post(publish))
}

/// An update with its current revision and where every PM stands.
struct Loaded {
    update: Update,
    current: Revision,
    members: Vec<Member>,
    alignment: Vec<(Member, Alignment)>,
    away: Vec<Absence>,
}

async fn load(
    conn: &mut AnyConnection,
    room_id: i64,
    update_id: i64,
    now: Millis,
) -> Result<Loaded, AppError> {
    let update = model::find(conn, room_id, update_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = model::revision(conn, update_id, update.current_revision)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = members::list(conn, room_id).await?;
    let (alignment, away) = approvals::standing(
        conn,
        SubjectKind::Update,
        update_id,
        (room_id, &members),
        update.current_revision,
        now,
    )
    .await?;
    Ok(Loaded {
        alignment,
        away,
        update,
        current,
        members,
    })
}

/// The update page for one viewer: everything its live part shows.
struct UpdateView {
    room: Room,
    viewer: Viewer,
    loaded: Loaded,
    blockers: Vec<super::Blocker>,
    now: Millis,
    /// Why the viewer's last action was refused (a stale alignment), shown at the top.
    alert: Option<String>,
}

impl UpdateView {
    /// Each PM's position, and the alignment forms the viewer may use.
    fn panel(&self) -> Panel {
        Panel {
            kind: SubjectKind::Update,
            room_id: self.room.id,
            subject_id: self.loaded.update.id,
            revision: self.loaded.update.current_revision,
            rows: self.loaded.alignment.clone(),
            away: self.loaded.away.clone(),
            viewer_id: self.viewer.user_id,
            viewer_is_pm: self.viewer.is_pm(),
            can_act: !self.room.is_closed() && self.loaded.update.published_version.is_none(),
            since: self.loaded.current.created_at,
            now: self.now,
        }
    }

    async fn load(
        conn: &mut AnyConnection,
        room: Room,
        viewer: Viewer,
        update_id: i64,
        now: Millis,
    ) -> Result<UpdateView, AppError> {
        let loaded = load(conn, room.id, update_id, now).await?;
        let blockers = publish_blockers(
            &loaded.alignment,
            room.is_closed(),
            loaded.update.published_version,
            loaded.update.current_revision,
        );
        Ok(UpdateView {
            room,
            viewer,
            loaded,
            blockers,
            now,
            alert: None,
        })
    }

    /// Where this update's alignment forms post.
    fn path(&self) -> String {
        format!("/rooms/{}/updates/{}", self.room.id, self.loaded.update.id)
    }

    fn live_url(&self) -> String {
        format!("{}/live?version={}", self.path(), self.room.version)
    }

    /// When the next leadership update falls due if this one is published now.
    fn next_due(&self) -> Millis {
        next_due_on_publish(&self.room, &self.loaded.current.body, self.now)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "updates/show.html")]
struct ShowPage {
    page: Page,
    view: UpdateView,
}

/// The page's live part alone, for `…/live` when the room changed.
#[derive(Template, WebTemplate)]
#[template(path = "updates/show.html", block = "live")]
struct LiveFragment {
    page: Page,
    view: UpdateView,
}

/// When the next leadership update falls due if this one is published at `now`: the date the
/// update names, else one cadence from now.
fn next_due_on_publish(room: &Room, body: &super::model::Body, now: Millis) -> Millis {
    body.next_due
        .unwrap_or_else(|| room.next_due_after(Audience::Leadership, now))
}

/// Polled every two seconds by the page; `204` when the room has not changed.
async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
    Query(seen): Query<Seen>,
) -> Result<Response, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    if seen.is_current(&room) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let now = state.clock.now();
    let view = UpdateView::load(&mut conn, room, viewer, update_id, now).await?;
    Ok(LiveFragment { page, view }.into_response())
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
) -> Result<ShowPage, AppError> {
    show_page(&state, &user, page, room_id, update_id, None).await
}

async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    update_id: i64,
    alert: Option<String>,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    let now = state.clock.now();
    let view = UpdateView::load(&mut conn, room, viewer, update_id, now).await?;
    Ok(ShowPage {
        page,
        view: UpdateView { alert, ..view },
    })
}

/// Why aligning on `revision` is refused, if it is.
fn approval_refused(loaded: &Loaded, revision: i64) -> Option<String> {
    match loaded.update.published_version {
        Some(_) => Some("This update is already published.".into()),
        None => approval_refusal(revision, loaded.update.current_revision),
    }
}

async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
    Form(form): Form<PositionForm>,
) -> Result<Response, AppError> {
    take_position(
        &state,
        &user,
        page,
        (room_id, update_id),
        &form,
        Stance::Aligned,
    )
    .await
}

async fn object(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
    Form(form): Form<PositionForm>,
) -> Result<Response, AppError> {
    take_position(
        &state,
        &user,
        page,
        (room_id, update_id),
        &form,
        Stance::Objected,
    )
    .await
}

async fn take_position(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    (room_id, update_id): (i64, i64),
    form: &PositionForm,
    stance: Stance,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(state, room_id, user, Action::Read).await?;
    let now = change.now;
    let loaded = load(change.conn(), room_id, update_id, now).await?;
    if let Some(why) = approval_refused(&loaded, form.revision) {
        // Back to the update with the reason, answering 409; nothing changed.
        drop(change);
        let page = show_page(state, user, page, room_id, update_id, Some(why)).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let who = position::take(&mut change, (SubjectKind::Update, update_id), form, stance).await?;
    let what = format!("the leadership update “{}”", loaded.current.body.headline);
    let (kind, summary) = position::entry(
        "updates",
        (&who, stance),
        form.revision,
        &what,
        &form.reason,
    );
    let path = format!("/rooms/{room_id}/updates/{update_id}");
    change.record(&kind, &summary, &path).await?;
    change.commit().await?;
    Ok(Redirect::to(&path).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, update_id)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    require_pm(&change.viewer)?;
    // Another room's update under this room's URL is not found, like everywhere else.
    model::find(change.conn(), room_id, update_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !approvals::withdraw(change.conn(), SubjectKind::Update, update_id, user.id).await? {
        return Err(AppError::Conflict(
            "You had not aligned on this update.".into(),
        ));
    }
    change
        .record(
            "updates.approval_withdrawn",
            &format!(
                "{} withdrew their alignment on the leadership update.",
                user.name
            ),
            "",
        )
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!(
        "/rooms/{room_id}/updates/{update_id}"
    )))
}

async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, update_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Read).await?;
    require_pm(&change.viewer)?;
    let now = change.now;
    let loaded = load(change.conn(), room_id, update_id, now).await?;
    let published = loaded.update.published_version;
    let current = loaded.update.current_revision;
    let blockers = publish_blockers(
        &loaded.alignment,
        change.room.is_closed(),
        published,
        current,
    );
    if !blockers.is_empty() {
        let path = format!("/rooms/{room_id}/updates/{update_id}");
        let refusal = Refusal::new(Attempt::Publish, path, &blockers);
        let summary = refusal.summary(&user.name, &loaded.current.body.headline);
        change
            .record("updates.publish_blocked", &summary, &refusal.back)
            .await?;
        change.commit().await?;
        return Ok(refusal.page(page));
    }
    let version = freeze(&mut change, &loaded).await?;
    let (room, now) = (change.room.clone(), change.now);
    tell_leadership(&state, change.conn(), &room, &loaded, version, now).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}/pre-reads/{version}")).into_response())
}

/// Publishes the current revision with a snapshot of the room as the next pre-read version,
/// moves the room's next leadership update due date, and says so on the timeline.
async fn freeze(change: &mut RoomChange, loaded: &Loaded) -> Result<i64, AppError> {
    let (room, now) = (change.room.clone(), change.now);
    let previous = model::pre_read(change.conn(), room.id, None).await?;
    let since = previous.as_ref().map_or(room.opened_at, |p| p.published_at);
    let customer = customers::find(&mut **change.conn(), room.customer_id)
        .await?
        .map_or(String::new(), |c| c.name);
    let snapshot = Snapshot::take(change.conn(), &room, &customer, since, now).await?;
    let snapshot = serde_json::to_string(&snapshot).map_err(anyhow::Error::from)?;
    let body = &loaded.current.body;
    let new = NewPreRead {
        room_id: room.id,
        update_id: loaded.update.id,
        revision: loaded.current.number,
        body,
        snapshot: &snapshot,
        published_by: change.viewer.user_id,
    };
    let version = model::publish(change.conn(), &new, now).await?;
    model::mark_published(change.conn(), loaded.update.id, version).await?;
    let next_due = next_due_on_publish(&room, body, now);
    rooms::set_next_leadership_update_due(change.conn(), room.id, Some(next_due)).await?;
    let summary = format!(
        "{} published pre-read version {version}: “{}” ({}).",
        change.viewer.name,
        body.headline,
        body.status().label().to_lowercase()
    );
    let link = format!("/rooms/{}/pre-reads/{version}", room.id);
    change.record("updates.published", &summary, &link).await?;
    Ok(version)
}

/// Queues an email with the headline and a link for every leadership member of the room.
async fn tell_leadership(
    state: &AppState,
    tx: &mut AnyConnection,
    room: &Room,
    loaded: &Loaded,
    version: i64,
    now: i64,
) -> Result<(), AppError> {
    let link = state
        .config
        .link(&format!("/rooms/{}/pre-reads/{version}", room.id));
    let body = &loaded.current.body;
    for member in loaded
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::Leadership)
    {
        let Some(account) = user::find(&mut *tx, member.user_id).await? else {
            continue;
        };
        let to = Mailbox::new(
            Some(account.name.clone()),
            account.email.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let headers = Message::builder()
            .from(state.config.mail_from.clone())
            .to(to)
            .subject(format!("Pre-read: {}", body.headline))
            .message_id(Some(crate::mail::message_id(&state.config)));
        // Each reader gets the date in their own zone.
        let zone = Zone::or(account.time_zone.as_deref(), state.config.default_zone);
        let published = PreReadPublished {
            name: &account.name,
            room_title: &room.title,
            status: body.status().label(),
            headline: &body.headline,
            link: &link,
            next_due: zone.when(next_due_on_publish(room, body, now)),
        };
        let message = emails::compose(headers, &published)?;
        let outgoing = Outgoing::notification(message);
        outbox::enqueue(tx, state.db.backend(), &outgoing, now).await?;
    }
    Ok(())
}
