//! The retrospective (`/rooms/{id}/retrospective`): when a room closes, its milestones and its
//! coordination measures are frozen; the lead writes what went well and what to change, and the
//! PMs align on that exact revision, as on a leadership update. Read-only and printable for
//! everyone who can read the room.

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::error::AppError;
use crate::measures::{self, Scope};
use crate::members::model::{self as members, Member, MemberKind};
use crate::rooms::access::Action;
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::forms::{Form, optional_text};
use crate::web::page::Page;
use model::Retrospective;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/retrospective", get(show).post(write))
        .route("/rooms/{id}/retrospective/alignment", post(align))
}

/// Freezes the room's retrospective as it closes, inside the closing transaction.
pub async fn freeze(change: &mut RoomChange) -> Result<(), AppError> {
    let (room_id, now) = (change.room.id, change.now);
    let milestones = model::milestones(change.conn(), room_id).await?;
    let reading = measures::read(change.conn(), Scope::Room(room_id), now).await?;
    let lines = reading
        .rooms
        .first()
        .map(measures::RoomMeasures::lines)
        .unwrap_or_default();
    model::freeze(change.conn(), room_id, &milestones, &lines, now).await?;
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "retrospectives/show.html")]
struct ShowPage {
    page: Page,
    room: Room,
    retro: Retrospective,
    /// Each PM and whether they aligned on the current revision (or which one they did).
    pms: Vec<(Member, Option<i64>)>,
    may_write: bool,
    may_align: bool,
}

impl ShowPage {
    fn all_aligned(&self) -> bool {
        self.retro.revision > 0
            && self
                .pms
                .iter()
                .all(|(_, r)| *r == Some(self.retro.revision))
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let retro = model::latest(&mut conn, room_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let aligned = model::alignments(&mut conn, retro.id).await?;
    let pms = members::list(&mut conn, room_id)
        .await?
        .into_iter()
        .filter(|m| m.kind == MemberKind::Pm)
        .map(|m| {
            let revision = aligned
                .iter()
                .find(|(u, _)| *u == m.user_id)
                .map(|(_, r)| *r);
            (m, revision)
        })
        .collect();
    let closed = room.is_closed();
    Ok(ShowPage {
        may_write: closed && (user.id == room.lead_user_id || viewer.is_admin),
        may_align: closed && viewer.is_pm() && retro.revision > 0,
        page,
        room,
        retro,
        pms,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WriteForm {
    went_well: String,
    to_change: String,
}

/// The lead (or an admin) writes the two fields: a new revision the PMs align on again.
async fn write(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<WriteForm>,
) -> Result<Redirect, AppError> {
    let went_well = optional_text(&form.went_well, 4000).map_err(AppError::Conflict)?;
    let to_change = optional_text(&form.to_change, 4000).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Retrospect).await?;
    if !(change.room.lead_user_id == user.id || user.is_admin) {
        return Err(AppError::Forbidden(
            "The lead writes the retrospective; the PMs align on it.".into(),
        ));
    }
    let retro = closed_retro(&mut change).await?;
    let now = change.now;
    model::write(
        change.conn(),
        room_id,
        retro.id,
        (&went_well, &to_change),
        user.id,
        now,
    )
    .await?;
    let summary = format!(
        "{} wrote revision {} of the retrospective; the PMs align on it.",
        user.name,
        retro.revision + 1
    );
    let link = format!("/rooms/{room_id}/retrospective");
    change.record("room.retrospective", &summary, &link).await?;
    change.commit().await?;
    Ok(Redirect::to(&link))
}

/// The retrospective of a closed room, read in the change.
async fn closed_retro(change: &mut RoomChange) -> Result<Retrospective, AppError> {
    if !change.room.is_closed() {
        return Err(AppError::Conflict(
            "The room was reopened: its retrospective is written when it closes again.".into(),
        ));
    }
    let room_id = change.room.id;
    model::latest(change.conn(), room_id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AlignForm {
    revision: i64,
}

async fn align(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<AlignForm>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Retrospect).await?;
    if !change.viewer.is_pm() {
        return Err(AppError::Forbidden(
            "Only the room's product managers align on its retrospective.".into(),
        ));
    }
    let retro = closed_retro(&mut change).await?;
    if retro.revision == 0 || form.revision != retro.revision {
        return Err(AppError::Conflict(format!(
            "Revision {} is not the current one{}: read the retrospective again.",
            form.revision,
            match retro.revision {
                0 => " (the lead has not written it yet)".to_owned(),
                r => format!(" (it is revision {r})"),
            }
        )));
    }
    let now: Millis = change.now;
    model::align(
        change.conn(),
        room_id,
        retro.id,
        user.id,
        retro.revision,
        now,
    )
    .await?;
    let summary = format!(
        "{} aligned on revision {} of the retrospective.",
        user.name, retro.revision
    );
    let link = format!("/rooms/{room_id}/retrospective");
    change
        .record("room.retrospective_aligned", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&link))
}
