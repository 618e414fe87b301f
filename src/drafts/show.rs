//! Reading a draft: the current revision with its send checklist and each PM's alignment, any
//! earlier revision, and the difference between two revisions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::AnyConnection;

use super::DraftState;
use super::model::{self, Revision};
use super::panel::SendPanel;
use super::render::{DiffLine, diff};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::SubjectKind;
use crate::approvals::panel::Panel;
use crate::clock::Millis;
use crate::db::OnDemand;
use crate::error::AppError;
use crate::outbox::model::OutboxState;
use crate::rooms::access::{Abilities, Viewer};
use crate::rooms::change::{read_room, viewed_room};
use crate::rooms::model::{Audience, Room, cadence_words};
use crate::web::filters;
use crate::web::live::Seen;
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/{draft}", get(show))
        .route("/rooms/{id}/drafts/{draft}/live", get(live))
        .route(
            "/rooms/{id}/drafts/{draft}/revisions/{number}",
            get(revision),
        )
        .route("/rooms/{id}/drafts/{draft}/diff", get(compare))
        .route_layer(axum::middleware::from_fn(crate::rooms::in_view::scope))
}

/// The draft page for one viewer: everything its live part shows.
struct DraftView {
    room: Room,
    viewer: Viewer,
    can: Abilities,
    state: DraftState,
    revisions: Vec<Revision>,
    panel: SendPanel,
    communicator: String,
    now: Millis,
    /// Why the viewer's last action was refused, shown at the top (a stale alignment).
    alert: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "drafts/show.html")]
struct ShowPage {
    page: Page,
    view: DraftView,
}

/// What `…/live` sends when the room changed: the page's live part alone.
#[derive(Template, WebTemplate)]
#[template(path = "drafts/show.html", block = "live")]
struct LiveFragment {
    page: Page,
    view: DraftView,
}

/// A recipient as the page shows them, with their local time when their zone is known.
pub struct Recipient {
    pub label: String,
    /// "09:10 Tue, America/Chicago", and whether that is inside their working hours.
    pub local: Option<(String, bool)>,
}

impl DraftView {
    async fn load(
        conn: &mut AnyConnection,
        room: Room,
        viewer: Viewer,
        draft_id: i64,
        zone: Zone,
        now: Millis,
    ) -> Result<DraftView, AppError> {
        let draft = DraftState::load(conn, &room, draft_id, now).await?;
        let recipients = draft.recipients(conn).await?;
        let blockers = draft
            .readiness(
                &room,
                viewer.user_id,
                draft.draft.current_revision,
                &recipients,
                zone,
            )
            .err()
            .unwrap_or_default();
        let communicator = draft
            .members
            .iter()
            .find(|m| m.user_id == room.communicator_user_id)
            .map_or(String::new(), |m| m.name.clone());
        Ok(DraftView {
            can: Abilities::of(&viewer, &room),
            revisions: model::revisions(conn, draft_id).await?,
            panel: SendPanel::of(draft.delivery.as_ref(), blockers),
            state: draft,
            communicator,
            viewer,
            room,
            now,
            alert: None,
        })
    }

    fn recipients(&self, ids: &[i64]) -> Vec<Recipient> {
        ids.iter()
            .map(|id| match self.state.contact(*id) {
                Some(c) => Recipient {
                    label: format!("{} <{}>", c.name, c.email),
                    local: c.zone().map(|zone| {
                        (
                            format!("{}, {}", zone.clock(self.now), zone),
                            zone.is_working_hours(self.now),
                        )
                    }),
                },
                None => Recipient {
                    label: format!("contact #{id} (not this customer's)"),
                    local: None,
                },
            })
            .collect()
    }

    /// Recipients for whom it is outside working hours now: "Jordan Reyes (19:40 Tue,
    /// America/Chicago)". A warning only; it never blocks sending.
    fn after_hours(&self) -> Vec<String> {
        self.state
            .current
            .recipient_ids()
            .iter()
            .filter_map(|id| self.state.contact(*id))
            .filter_map(|c| {
                let zone = c.zone()?;
                (!zone.is_working_hours(self.now))
                    .then(|| format!("{} ({}, {})", c.name, zone.clock(self.now), zone))
            })
            .collect()
    }

    /// When the next customer update falls due if this email goes out now.
    fn next_due_if_sent(&self) -> Millis {
        self.room.next_due_after(Audience::Customer, self.now)
    }

    fn cadence(&self) -> String {
        cadence_words(self.room.cadence_hours(Audience::Customer))
    }

    /// Each PM's position, and the alignment forms the viewer may use.
    fn panel(&self) -> Panel {
        Panel {
            kind: SubjectKind::Draft,
            room_id: self.room.id,
            subject_id: self.state.draft.id,
            revision: self.state.draft.current_revision,
            rows: self.state.alignment.clone(),
            away: self.state.away.clone(),
            viewer_id: self.viewer.user_id,
            viewer_is_pm: self.viewer.is_pm(),
            can_act: !self.room.is_closed() && self.sendable(),
            since: self.state.current.created_at,
            now: self.now,
        }
    }

    /// Not yet handed to the outbox (or its delivery failed and it may change again).
    fn sendable(&self) -> bool {
        self.state
            .delivery
            .as_ref()
            .is_none_or(|d| d.state == OutboxState::Failed)
    }

    /// Where this draft's alignment forms post.
    fn path(&self) -> String {
        format!("/rooms/{}/drafts/{}", self.room.id, self.state.draft.id)
    }

    fn live_url(&self) -> String {
        format!("{}/live?version={}", self.path(), self.room.version)
    }

    fn is_communicator(&self) -> bool {
        self.viewer.user_id == self.room.communicator_user_id || self.viewer.is_admin
    }

    fn editable(&self) -> bool {
        self.can.contribute && self.sendable()
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let now = state.clock.now();
    let view = DraftView::load(&mut conn, room, viewer, draft_id, page.zone, now).await?;
    Ok(ShowPage { page, view })
}

/// The draft page again, answering 409 with why the viewer's action was refused at the top: a
/// refused alignment returns to the draft it was about, not to an error page.
pub async fn refused(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    draft_id: i64,
    why: String,
) -> Result<Response, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    let now = state.clock.now();
    let mut view = DraftView::load(&mut conn, room, viewer, draft_id, page.zone, now).await?;
    view.alert = Some(why);
    Ok((StatusCode::CONFLICT, ShowPage { page, view }).into_response())
}

/// Polled every two seconds by the page: `204` after one version compare when the room has not
/// changed, the re-rendered live part when it has (an alignment, a new revision, a delivery).
async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Query(seen): Query<Seen>,
) -> Result<Response, AppError> {
    // Membership is checked on every poll: a removed member stops receiving anything at once.
    let mut conn = OnDemand::new(state.db.reader());
    let (room, viewer) = viewed_room(&mut conn, room_id, &user).await?;
    if seen.is_current(&room) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let now = state.clock.now();
    let view = DraftView::load(conn.get().await?, room, viewer, draft_id, page.zone, now).await?;
    Ok(LiveFragment { page, view }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "drafts/revision.html")]
struct RevisionPage {
    page: Page,
    room: Room,
    draft_id: i64,
    current: i64,
    revision: Revision,
}

async fn revision(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id, number)): Path<(i64, i64, i64)>,
) -> Result<RevisionPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &user).await?;
    let draft = model::find(&mut conn, room_id, draft_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let revision = model::revision(&mut conn, draft_id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(RevisionPage {
        page,
        room,
        draft_id,
        current: draft.current_revision,
        revision,
    })
}

#[derive(Deserialize)]
struct Between {
    from: i64,
    to: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "drafts/diff.html")]
struct DiffPage {
    page: Page,
    room: Room,
    draft_id: i64,
    from: Revision,
    to: Revision,
    subject: Vec<DiffLine>,
    body: Vec<DiffLine>,
}

async fn compare(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, draft_id)): Path<(i64, i64)>,
    Query(between): Query<Between>,
) -> Result<DiffPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &user).await?;
    model::find(&mut conn, room_id, draft_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = model::revision(&mut conn, draft_id, between.from)
        .await?
        .ok_or(AppError::NotFound)?;
    let to = model::revision(&mut conn, draft_id, between.to)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(DiffPage {
        page,
        room,
        draft_id,
        subject: diff(&from.subject, &to.subject),
        body: diff(&from.body, &to.body),
        from,
        to,
    })
}
