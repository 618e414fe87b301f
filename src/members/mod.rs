//! Members of a room: the members page, adding and removing people (refused while they still
//! hold a role), and handing over the lead or the communicator role with a recorded reason.

pub mod model;
pub mod rules;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;

use sqlx::AnyConnection;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::accounts::user::{self, User};
use crate::decisions::model as decisions;
use crate::error::AppError;
use crate::members::model::{MemberKind, Role};
use crate::rooms::access::{Abilities, Action};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::{self as rooms, Room};
use crate::web::filters;
use crate::web::forms::{Form, required_text};
use crate::web::page::Page;
use crate::web::time::Int;
use crate::workstreams::model as workstreams;
use model::{Handover, Member};
use rules::Holdings;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/members", get(index).post(add))
        .route("/rooms/{id}/members/{user}/removal", post(remove))
        .route("/rooms/{id}/handovers", post(hand_over))
}

#[derive(Template, WebTemplate)]
#[template(path = "members/index.html")]
struct MembersPage {
    page: Page,
    room: Room,
    members: Vec<Member>,
    candidates: Vec<User>,
    handovers: Vec<Handover>,
    can: Abilities,
    kinds: &'static [MemberKind],
}

impl MembersPage {
    fn holder_name(&self, user_id: impl Int) -> &str {
        self.members
            .iter()
            .find(|m| m.user_id == user_id.int())
            .map_or("", |m| m.name.as_str())
    }
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<MembersPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, &user).await?;
    let members = model::list(&mut conn, room_id).await?;
    let candidates = user::list_active(&mut *conn)
        .await?
        .into_iter()
        .filter(|u| !members.iter().any(|m| m.user_id == u.id))
        .collect();
    Ok(MembersPage {
        page,
        can: Abilities::of(&viewer, &room),
        handovers: model::handovers(&mut conn, room_id).await?,
        room,
        members,
        candidates,
        kinds: MemberKind::ALL,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddForm {
    user: String,
    kind: String,
}

impl AddForm {
    fn kind(&self) -> Result<MemberKind, AppError> {
        MemberKind::parse(&self.kind).ok_or_else(|| {
            AppError::Conflict("Choose how they take part: PM, partner or leadership.".into())
        })
    }
}

/// The person chosen in a form, when their account is active.
async fn active_user(conn: &mut AnyConnection, raw_id: &str) -> Result<User, AppError> {
    let found = match raw_id.parse::<i64>() {
        Ok(id) => user::find(&mut *conn, id).await?.filter(User::is_active),
        Err(_) => None,
    };
    found.ok_or_else(|| AppError::Conflict("Choose someone with an active account.".into()))
}

async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<AddForm>,
) -> Result<Redirect, AppError> {
    let kind = form.kind()?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ManageMembers).await?;
    let person = active_user(change.conn(), &form.user).await?;
    let now = change.now;
    if !model::insert(change.conn(), room_id, person.id, kind, user.id, now).await? {
        let already = format!("{} is already a member of this room.", person.name);
        return Err(AppError::Conflict(already));
    }
    let role = kind.label().to_lowercase();
    let summary = format!("{} added {} as {role}.", user.name, person.name);
    change.record("members.added", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/members")))
}

async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, user_id)): Path<(i64, i64)>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ManageMembers).await?;
    let members = model::list(change.conn(), room_id).await?;
    let member = members
        .iter()
        .find(|m| m.user_id == user_id)
        .ok_or(AppError::NotFound)?;
    let holdings = Holdings {
        driven_workstreams: workstreams::driven_by(change.conn(), room_id, user_id).await?,
        owned_decision_types: decisions::owned_by(change.conn(), room_id, user_id).await?,
    };
    let blockers = rules::removal_blockers(&change.room, user_id, &holdings);
    if !blockers.is_empty() {
        return Err(AppError::Conflict(format!(
            "{} cannot be removed yet. First {}.",
            member.name,
            blockers.join("; ")
        )));
    }
    workstreams::drop_navigator(change.conn(), room_id, user_id).await?;
    model::delete(change.conn(), room_id, user_id).await?;
    let summary = format!("{} removed {} from the room.", user.name, member.name);
    change.record("members.removed", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/members")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HandoverForm {
    role: String,
    to: String,
    reason: String,
}

impl HandoverForm {
    /// The role and the reason it changes hands (kept in the room's history).
    fn parse(&self) -> Result<(Role, String), AppError> {
        let role = Role::parse(&self.role).ok_or(AppError::NotFound)?;
        let why = "Say why the role changes hands; it is kept in the room's history.";
        let reason = required_text(&self.reason, 500, why).map_err(AppError::Conflict)?;
        Ok((role, reason))
    }
}

async fn hand_over(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<HandoverForm>,
) -> Result<Redirect, AppError> {
    let (role, reason) = form.parse()?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::HandOver(role)).await?;
    let members = model::list(change.conn(), room_id).await?;
    let to = members.iter().find(|m| form.to.parse() == Ok(m.user_id));
    if let Some(why) = rules::handover_refusal(&change.room, role, to) {
        return Err(AppError::Conflict(why));
    }
    let to = to.ok_or(AppError::NotFound)?;
    let from = members
        .iter()
        .find(|m| m.user_id == change.room.holder(role));
    rooms::set_role(change.conn(), room_id, role, to.user_id).await?;
    record_handover(&mut change, role, from, to, &reason).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/members")))
}

/// The hand-over's history row and timeline entry.
async fn record_handover(
    change: &mut RoomChange,
    role: Role,
    from: Option<&Member>,
    to: &Member,
    reason: &str,
) -> Result<(), AppError> {
    let (room_id, now, by) = (change.room.id, change.now, change.viewer.clone());
    let handover = model::NewHandover {
        room_id,
        role,
        from: change.room.holder(role),
        to: to.user_id,
        by: by.user_id,
        reason,
    };
    model::record_handover(change.conn(), &handover, now).await?;
    let (role_name, from_name) = (role.label().to_lowercase(), from.map_or("", |m| &m.name));
    let summary = format!(
        "{} handed the {role_name} role from {from_name} to {}: {reason}",
        by.name, to.name
    );
    let kind = format!("members.{}_handover", role.as_str());
    change.record(&kind, &summary, "").await?;
    Ok(())
}
