//! Workstreams: creating and editing them. Exactly one driver, chosen among the room's members;
//! reassigning the driver is recorded, and only a PM, an admin or the current driver may do it.
//! Each names its voice — who speaks to the customer on its topic in calls and meetings — the
//! driver unless someone else is chosen; a change of voice is recorded too.

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;

use crate::error::AppError;
use crate::members::model::{self as members, Member};
use crate::members::rules::can_hold_work;
use crate::rooms::access::{Action, Viewer, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::forms::{FieldErrors, Form, invalid, optional_text, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;
use model::{Workstream, WorkstreamFields, WorkstreamStatus};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/workstreams/new", get(new))
        .route("/rooms/{id}/workstreams", post(create))
        .route("/rooms/{id}/workstreams/{ws}/edit", get(edit))
        .route("/rooms/{id}/workstreams/{ws}", post(update))
}

/// Whether `viewer` may give the workstream a new driver.
pub fn may_reassign_driver(viewer: &Viewer, current_driver: i64) -> bool {
    viewer.is_admin || viewer.is_pm() || viewer.user_id == current_driver
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorkstreamForm {
    title: String,
    driver: String,
    navigators: Vec<i64>,
    /// Empty: the driver speaks.
    voice: String,
    status: String,
    next_step: String,
    due_at: String,
}

impl WorkstreamForm {
    fn from(ws: &Workstream, zone: Zone) -> WorkstreamForm {
        WorkstreamForm {
            title: ws.title.clone(),
            driver: ws.driver_user_id.to_string(),
            navigators: ws.navigators.iter().map(|(id, _)| *id).collect(),
            voice: match ws.voice_user_id == ws.driver_user_id {
                true => String::new(),
                false => ws.voice_user_id.to_string(),
            },
            status: ws.status.as_str().to_owned(),
            next_step: ws.next_step.clone(),
            due_at: ws.due_at.map(|at| zone.to_input(at)).unwrap_or_default(),
        }
    }
}

/// The form's values, checked and typed.
struct Checked {
    title: String,
    driver: Member,
    status: WorkstreamStatus,
    next_step: String,
    due_at: Option<i64>,
    navigators: Vec<i64>,
    /// `None`: the driver.
    voice: Option<Member>,
}

impl WorkstreamForm {
    /// Checks the form; the due time is read in `zone`, the zone the form names.
    fn parse(&self, members: &[Member], zone: Zone) -> Result<Checked, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(
            "title",
            required_text(&self.title, 160, "Name the workstream."),
        );
        let driver = members
            .iter()
            .find(|m| self.driver.parse() == Ok(m.user_id) && can_hold_work(m.kind))
            .cloned();
        let driver = errors.require(
            "driver",
            driver,
            "Choose one driver among the room's product managers and partners.",
        );
        let status = errors.require(
            "status",
            WorkstreamStatus::parse(&self.status),
            "Choose a status.",
        );
        let voice = match self.voice.trim() {
            "" => Some(None),
            id => members
                .iter()
                .find(|m| id.parse() == Ok(m.user_id) && can_hold_work(m.kind))
                .map(|m| Some(m.clone())),
        };
        let voice = errors.require(
            "voice",
            voice,
            "Choose who speaks on this topic among the room's product managers and partners.",
        );
        let next_step = errors.check("next_step", optional_text(&self.next_step, 500));
        let due_at = errors.check("due_at", zone.parse_input(&self.due_at));
        let navigators: Vec<i64> = self
            .navigators
            .iter()
            .copied()
            .filter(|id| Some(*id) != driver.as_ref().map(|d| d.user_id))
            .collect();
        if navigators
            .iter()
            .any(|id| !members.iter().any(|m| m.user_id == *id))
        {
            errors.add("navigators", "Navigators must be members of the room.");
        }
        let driver_id = driver.as_ref().map(|d| d.user_id);
        errors.finish(|| {
            Some(Checked {
                title: title?,
                driver: driver?,
                status: status?,
                next_step: next_step?,
                due_at: due_at?,
                navigators,
                voice: voice?.filter(|v| Some(v.user_id) != driver_id),
            })
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workstreams/form.html")]
struct FormPage {
    page: Page,
    room: Room,
    workstream_id: Option<i64>,
    members: Vec<Member>,
    form: WorkstreamForm,
    errors: FieldErrors,
    statuses: &'static [WorkstreamStatus],
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    workstream_id: Option<i64>,
    form: Option<WorkstreamForm>,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let form = match (form, workstream_id) {
        (Some(form), _) => form,
        (None, Some(id)) => {
            let all = model::list(&mut conn, room_id).await?;
            let ws = all.iter().find(|w| w.id == id).ok_or(AppError::NotFound)?;
            WorkstreamForm::from(ws, page.zone)
        }
        (None, None) => WorkstreamForm {
            driver: user.id.to_string(),
            status: WorkstreamStatus::Active.as_str().to_owned(),
            ..WorkstreamForm::default()
        },
    };
    Ok(FormPage {
        page,
        room,
        workstream_id,
        members: members::list(&mut conn, room_id).await?,
        form,
        errors,
        statuses: WorkstreamStatus::ALL,
    })
}

async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<FormPage, AppError> {
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
    Path((room_id, ws)): Path<(i64, i64)>,
) -> Result<FormPage, AppError> {
    form_page(
        &state,
        &user,
        page,
        room_id,
        Some(ws),
        None,
        FieldErrors::default(),
    )
    .await
}

fn fields(checked: &Checked) -> WorkstreamFields<'_> {
    WorkstreamFields {
        title: &checked.title,
        driver_user_id: checked.driver.user_id,
        status: checked.status,
        next_step: &checked.next_step,
        due_at: checked.due_at,
        navigators: &checked.navigators,
        voice_user_id: checked.voice.as_ref().map(|v| v.user_id),
    }
}

/// The form again with its messages (422); nothing was changed.
async fn invalid_form(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    change: RoomChange,
    workstream_id: Option<i64>,
    form: WorkstreamForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let room_id = change.room.id;
    drop(change);
    invalid(
        form_page(
            state,
            user,
            page,
            room_id,
            workstream_id,
            Some(form),
            errors,
        )
        .await?,
    )
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<WorkstreamForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let members = members::list(change.conn(), room_id).await?;
    let checked = match form.parse(&members, page.zone) {
        Ok(checked) => checked,
        Err(errors) => return invalid_form(&state, &user, page, change, None, form, errors).await,
    };
    let now = change.now;
    let id = model::insert(change.conn(), room_id, &fields(&checked), now).await?;
    let voice = match &checked.voice {
        Some(voice) => format!("; {} speaks to the customer on it", voice.name),
        None => String::new(),
    };
    let summary = format!(
        "{} started the workstream “{}”, driven by {}{voice}.",
        user.name, checked.title, checked.driver.name
    );
    let link = format!("/rooms/{room_id}#workstream-{id}");
    change
        .record("workstreams.created", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#workstreams")).into_response())
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, ws_id)): Path<(i64, i64)>,
    Form(form): Form<WorkstreamForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let current = model::list(change.conn(), room_id)
        .await?
        .into_iter()
        .find(|w| w.id == ws_id)
        .ok_or(AppError::NotFound)?;
    let members = members::list(change.conn(), room_id).await?;
    let checked = match form.parse(&members, page.zone) {
        Ok(checked) => checked,
        Err(errors) => {
            return invalid_form(&state, &user, page, change, Some(ws_id), form, errors).await;
        }
    };
    let reassigned = checked.driver.user_id != current.driver_user_id;
    if reassigned && !may_reassign_driver(&change.viewer, current.driver_user_id) {
        return Err(AppError::Forbidden(
            "Only a product manager, an admin or the current driver can change the driver.".into(),
        ));
    }
    let now = change.now;
    model::update(change.conn(), ws_id, &fields(&checked), now).await?;
    record_update(&mut change, &current, &checked).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#workstreams")).into_response())
}

/// Sets a workstream's status (and next step, when one is given), as an edit of the workstream
/// with its timeline entry (from the sync minutes).
pub async fn set_status(
    change: &mut RoomChange,
    current: &Workstream,
    status: WorkstreamStatus,
    next_step: Option<&str>,
) -> Result<(), AppError> {
    let navigators: Vec<i64> = current.navigators.iter().map(|(id, _)| *id).collect();
    let next_step = next_step.unwrap_or(&current.next_step).to_owned();
    let fields = WorkstreamFields {
        title: &current.title,
        driver_user_id: current.driver_user_id,
        status,
        next_step: &next_step,
        due_at: current.due_at,
        navigators: &navigators,
        voice_user_id: (current.voice_user_id != current.driver_user_id)
            .then_some(current.voice_user_id),
    };
    let now = change.now;
    model::update(change.conn(), current.id, &fields, now).await?;
    let next = match next_step.is_empty() {
        true => String::new(),
        false => format!("; next: {next_step}"),
    };
    let summary = format!(
        "{} updated “{}”: {}{next}.",
        change.viewer.name,
        current.title,
        status.label().to_lowercase()
    );
    let link = format!("/rooms/{}#workstream-{}", change.room.id, current.id);
    change
        .record("workstreams.updated", &summary, &link)
        .await?;
    Ok(())
}

/// The timeline entries of an update: a driver reassignment (if any), then the new state.
async fn record_update(
    change: &mut RoomChange,
    current: &Workstream,
    checked: &Checked,
) -> Result<(), AppError> {
    let who = change.viewer.name.clone();
    let link = format!("/rooms/{}#workstream-{}", change.room.id, current.id);
    if checked.driver.user_id != current.driver_user_id {
        let summary = format!(
            "{who} made {} the driver of “{}” (was {}).",
            checked.driver.name, checked.title, current.driver_name
        );
        change
            .record("workstreams.driver_reassigned", &summary, &link)
            .await?;
    }
    let voice = checked.voice.as_ref().unwrap_or(&checked.driver);
    if voice.user_id != current.voice_user_id {
        let summary = format!(
            "{who} made {} the voice of “{}” in calls and meetings (was {}).",
            voice.name, checked.title, current.voice_name
        );
        change
            .record("workstreams.voice_changed", &summary, &link)
            .await?;
    }
    let next = match checked.next_step.is_empty() {
        true => String::new(),
        false => format!("; next: {}", checked.next_step),
    };
    let status = checked.status.label().to_lowercase();
    let summary = format!("{who} updated “{}”: {status}{next}.", checked.title);
    change
        .record("workstreams.updated", &summary, &link)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::model::MemberKind;

    fn viewer(user_id: i64, kind: MemberKind) -> Viewer {
        Viewer {
            user_id,
            name: String::new(),
            is_admin: false,
            kind: Some(kind),
        }
    }

    #[test]
    fn pms_admins_and_the_driver_may_reassign_the_driver() {
        assert!(may_reassign_driver(&viewer(1, MemberKind::Pm), 2));
        assert!(may_reassign_driver(&viewer(2, MemberKind::Partner), 2));
        assert!(!may_reassign_driver(&viewer(3, MemberKind::Partner), 2));
        let admin = Viewer {
            is_admin: true,
            kind: None,
            ..viewer(9, MemberKind::Partner)
        };
        assert!(may_reassign_driver(&admin, 2));
    }

    #[test]
    fn a_workstream_is_overdue_only_while_not_done() {
        let mut ws = Workstream {
            id: 1,
            title: "Integration".into(),
            driver_user_id: 1,
            driver_name: "Dana".into(),
            voice_user_id: 1,
            voice_name: "Dana".into(),
            status: WorkstreamStatus::Active,
            next_step: String::new(),
            due_at: Some(100),
            navigators: vec![],
        };
        assert!(ws.is_overdue(101));
        assert!(!ws.is_overdue(99));
        ws.status = WorkstreamStatus::Done;
        assert!(!ws.is_overdue(101));
    }

    #[test]
    fn the_form_needs_a_driver_who_can_hold_work() {
        let members = vec![Member {
            user_id: 4,
            name: "Elena".into(),
            title: String::new(),
            kind: MemberKind::Leadership,
        }];
        let form = WorkstreamForm {
            title: "Integration".into(),
            driver: "4".into(),
            status: "active".into(),
            ..WorkstreamForm::default()
        };
        let errors = form.parse(&members, Zone::UTC).err().unwrap();
        assert!(errors.get("driver").is_some());
    }
}
