//! The contact log: every touch of a customer contact (email, call, meeting, chat) — who, when,
//! what — with per-contact counts across all rooms and warnings (never blocks) when a contact is
//! being touched too often, by several people, in writing by someone other than the
//! communicator, or while outreach is paused. A touch logged here by hand was not coordinated
//! (calls and meetings are planned and cleared as engagements), and the record says so.

pub mod model;
pub mod rules;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::customers::model::Contact;
use crate::error::AppError;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::rooms::parts::Part;
use crate::web::forms::{FieldErrors, Form, invalid, required_text};
use crate::web::page::{Page, flash};
use crate::web::time::Zone;
use model::{NewTouch, activity, insert};
use rules::{Channel, ContactActivity};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/touches/new", get(new))
        .route("/rooms/{id}/touches", axum::routing::post(create))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TouchForm {
    contact: String,
    channel: String,
    summary: String,
    touched_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "contact_log/new.html")]
struct NewPage {
    page: Page,
    room: Room,
    activity: Vec<(Contact, ContactActivity)>,
    now: Millis,
    limit: i64,
    form: TouchForm,
    errors: FieldErrors,
    channels: &'static [Channel],
}

async fn new_page(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: Option<TouchForm>,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let form = form.unwrap_or_else(|| TouchForm {
        touched_at: page.zone.to_input(now),
        ..TouchForm::default()
    });
    Ok(NewPage {
        page,
        activity: activity(&mut conn, room.customer_id, now).await?,
        room,
        now,
        limit: state.config.contact_touch_limit,
        form,
        errors,
        channels: Channel::ALL,
    })
}

async fn new(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<NewPage, AppError> {
    new_page(&state, &user, page, room_id, None, FieldErrors::default()).await
}

/// A touch as logged, checked.
struct Logged<'a> {
    contact: &'a (Contact, ContactActivity),
    channel: Channel,
    summary: String,
    touched_at: Option<Millis>,
}

impl TouchForm {
    /// Checks the form; the contact must be one of the customer's (`activity`), and the time is
    /// read in `zone`.
    fn parse<'a>(
        &self,
        activity: &'a [(Contact, ContactActivity)],
        zone: Zone,
    ) -> Result<Logged<'a>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let contact = activity
            .iter()
            .find(|(c, _)| self.contact.parse() == Ok(c.id));
        let contact = errors.require("contact", contact, "Choose a contact of this customer.");
        let channel = errors.require(
            "channel",
            Channel::parse(&self.channel),
            "Choose how you were in touch.",
        );
        let summary = errors.check(
            "summary",
            required_text(&self.summary, 2000, "Say what was discussed."),
        );
        let touched_at = errors.check("touched_at", zone.parse_input(&self.touched_at));
        errors.finish(|| {
            Some(Logged {
                contact: contact?,
                channel: channel?,
                summary: summary?,
                touched_at: touched_at?,
            })
        })
    }
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<TouchForm>,
) -> Result<Response, AppError> {
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Touches)
            .await?;
    let (customer_id, now) = (change.room.customer_id, change.now);
    let activity = activity(change.conn(), customer_id, now).await?;
    let logged = match form.parse(&activity, page.zone) {
        Ok(logged) => logged,
        Err(errors) => {
            drop(change);
            return invalid(new_page(&state, &user, page, room_id, Some(form), errors).await?);
        }
    };
    let warnings = log(&mut change, &logged, state.config.contact_touch_limit).await?;
    change.commit().await?;
    if !warnings.is_empty() {
        let warned = format!("Logged, with a warning: {}", warnings.join(" "));
        flash(&session, warned).await?;
    }
    Ok(Redirect::to(&format!("/rooms/{room_id}#contacts")).into_response())
}

/// Writes the touch and its timeline entry; returns the warnings it deserves (it is logged
/// regardless: the log warns, never blocks).
async fn log(
    change: &mut RoomChange,
    logged: &Logged<'_>,
    limit: i64,
) -> Result<Vec<String>, AppError> {
    let (contact, recent) = logged.contact;
    let (room_id, now, viewer) = (change.room.id, change.now, change.viewer.clone());
    let at = logged.touched_at.unwrap_or(now);
    let is_communicator = change.room.communicator_user_id == viewer.user_id;
    let channel = logged.channel;
    let mut warnings = rules::warnings(
        &contact.name,
        recent,
        viewer.user_id,
        is_communicator,
        channel,
        limit,
        at,
        now,
    );
    if let Some(pause) = crate::outreach::model::active(change.conn(), room_id, now).await? {
        warnings.push(format!(
            "Outreach is paused by {} ({}): every channel waits until it is resumed.",
            pause.set_by, pause.reason
        ));
    }
    let touch = NewTouch {
        origin: model::Origin::LoggedByHand,
        room_id,
        contact_id: contact.id,
        channel,
        summary: &logged.summary,
        touched_at: at,
        by: viewer.user_id,
    };
    insert(change.conn(), &touch, now).await?;
    let said = format!(
        "{} logged {} with {} — not coordinated (nobody planned and cleared it first): {}",
        viewer.name,
        channel.with_article(),
        contact.name,
        logged.summary
    );
    let link = format!("/rooms/{room_id}#contacts");
    change.record("contacts.touched", &said, &link).await?;
    Ok(warnings)
}
