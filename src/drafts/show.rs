//! Reading a draft: the current revision with its send checklist and each PM's alignment, any
//! earlier revision, and the difference between two revisions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::DraftState;
use super::gate::Blocker;
use super::model::{self, Revision};
use super::render::{DiffLine, diff};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::outbox::model::OutboxState;
use crate::rooms::access::{Abilities, Viewer};
use crate::rooms::change::read_room;
use crate::rooms::model::Room;
use crate::web::page::Page;
use crate::web::time::{self, Int};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/drafts/{draft}", get(show))
        .route(
            "/rooms/{id}/drafts/{draft}/revisions/{number}",
            get(revision),
        )
        .route("/rooms/{id}/drafts/{draft}/diff", get(compare))
}

#[derive(Template, WebTemplate)]
#[template(path = "drafts/show.html")]
struct ShowPage {
    page: Page,
    room: Room,
    viewer: Viewer,
    can: Abilities,
    state: DraftState,
    revisions: Vec<Revision>,
    blockers: Vec<Blocker>,
    communicator: String,
}

impl ShowPage {
    fn recipient_names(&self, ids: &[i64]) -> String {
        let names: Vec<String> = ids
            .iter()
            .map(|id| match self.state.contact(*id) {
                Some(c) => format!("{} <{}>", c.name, c.email),
                None => format!("contact #{id} (not this customer's)"),
            })
            .collect();
        names.join(", ")
    }

    fn when(&self, at: impl Int) -> String {
        time::when(at)
    }

    /// Where this draft's alignment forms post.
    fn path(&self) -> String {
        format!("/rooms/{}/drafts/{}", self.room.id, self.state.draft.id)
    }

    fn delivery_unknown(&self) -> bool {
        self.state
            .delivery
            .as_ref()
            .is_some_and(|d| d.state == OutboxState::Unknown)
    }

    fn is_communicator(&self) -> bool {
        self.viewer.user_id == self.room.communicator_user_id || self.viewer.is_admin
    }

    fn editable(&self) -> bool {
        self.can.contribute
            && self
                .state
                .delivery
                .as_ref()
                .is_none_or(|d| d.state == OutboxState::Failed)
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
    let draft = DraftState::load(&mut conn, &room, draft_id, state.clock.now()).await?;
    let recipients = draft.recipients(&mut conn).await?;
    let blockers = draft
        .readiness(&room, user.id, draft.draft.current_revision, &recipients)
        .err()
        .unwrap_or_default();
    let communicator = draft
        .members
        .iter()
        .find(|m| m.user_id == room.communicator_user_id)
        .map_or(String::new(), |m| m.name.clone());
    Ok(ShowPage {
        page,
        can: Abilities::of(&viewer, &room),
        revisions: model::revisions(&mut conn, draft_id).await?,
        state: draft,
        blockers,
        communicator,
        viewer,
        room,
    })
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
