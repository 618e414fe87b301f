//! The contact log: every touch of a customer contact (email, call, meeting, chat) — who, when,
//! what — with per-contact counts across all rooms and warnings (never blocks) when a contact is
//! being touched too often, by several people, or in writing by someone other than the
//! communicator.

pub mod rules;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::customers::model::{Contact, required_text};
use crate::error::AppError;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::web::forms::{FieldErrors, Form};
use crate::web::page::{Page, flash};
use crate::web::time;
use rules::{Channel, ContactActivity, WEEK};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/touches/new", get(new))
        .route("/rooms/{id}/touches", axum::routing::post(create))
}

/// How each contact of the customer has been touched lately, across all rooms.
pub async fn activity(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> sqlx::Result<Vec<(Contact, ContactActivity)>> {
    // One round trip: each contact, with its touches of the last week (none: one row of NULLs).
    let rows = sqlx::query(
        "SELECT c.id, c.customer_id, c.name, c.email, c.title, \
         t.touched_at, t.by_user_id, u.name, t.channel FROM contacts c \
         LEFT JOIN contact_touches t ON t.contact_id = c.id AND t.touched_at >= $2 \
         LEFT JOIN users u ON u.id = t.by_user_id \
         WHERE c.customer_id = $1 ORDER BY c.name, c.id, t.touched_at DESC",
    )
    .bind(customer_id)
    .bind(now - WEEK)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(Contact, ContactActivity)> = Vec::new();
    for row in &rows {
        let contact_id: i64 = row.try_get(0)?;
        if out.last().is_none_or(|(c, _)| c.id != contact_id) {
            let contact = Contact {
                id: contact_id,
                customer_id: row.try_get(1)?,
                name: row.try_get(2)?,
                email: row.try_get(3)?,
                title: row.try_get(4)?,
            };
            out.push((
                contact,
                ContactActivity {
                    touches: Vec::new(),
                },
            ));
        }
        let Some(at) = row.try_get::<Option<Millis>, _>(5)? else {
            continue;
        };
        let channel: String = row.try_get(8)?;
        if let Some((_, activity)) = out.last_mut() {
            activity.touches.push(rules::Touch {
                at,
                by_user_id: row.try_get(6)?,
                by_name: row.try_get(7)?,
                channel: Channel::parse(&channel).unwrap_or(Channel::Email),
            });
        }
    }
    Ok(out)
}

/// A recent touch of this room's customer, for the room page.
#[derive(Clone, Debug)]
pub struct LoggedTouch {
    pub contact: String,
    pub channel: Channel,
    pub summary: String,
    pub by: String,
    pub at: Millis,
}

pub async fn recent_in_room(
    conn: &mut AnyConnection,
    room_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<LoggedTouch>> {
    let rows = sqlx::query(
        "SELECT c.name, t.channel, t.summary, u.name, t.touched_at FROM contact_touches t \
         JOIN contacts c ON c.id = t.contact_id JOIN users u ON u.id = t.by_user_id \
         WHERE t.room_id = $1 ORDER BY t.touched_at DESC, t.id DESC LIMIT $2",
    )
    .bind(room_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let channel: String = row.try_get(1)?;
            Ok(LoggedTouch {
                contact: row.try_get(0)?,
                channel: Channel::parse(&channel).unwrap_or(Channel::Email),
                summary: row.try_get(2)?,
                by: row.try_get(3)?,
                at: row.try_get(4)?,
            })
        })
        .collect()
}

/// A touch to write (also used when a sent email logs itself).
pub struct NewTouch<'a> {
    pub room_id: i64,
    pub contact_id: i64,
    pub channel: Channel,
    pub summary: &'a str,
    pub touched_at: Millis,
    pub by: i64,
}

pub async fn insert(tx: &mut AnyConnection, touch: &NewTouch<'_>, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO contact_touches (room_id, contact_id, channel, summary, touched_at, by_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(touch.room_id)
    .bind(touch.contact_id)
    .bind(touch.channel.as_str())
    .bind(touch.summary)
    .bind(touch.touched_at)
    .bind(touch.by)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
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
        touched_at: time::to_input(now),
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

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<TouchForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let channel = Channel::parse(&form.channel);
    if channel.is_none() {
        errors.add("channel", "Choose how you were in touch.");
    }
    let summary = required_text(&form.summary, 2000, "Say what was discussed.")
        .map_err(|e| errors.add("summary", e))
        .ok();
    let touched_at = time::parse_input(&form.touched_at)
        .map_err(|e| errors.add("touched_at", e))
        .ok();
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let now = change.now;
    let customer_id = change.room.customer_id;
    let activity = activity(change.conn(), customer_id, now).await?;
    let found = activity
        .iter()
        .find(|(c, _)| form.contact.parse() == Ok(c.id));
    if found.is_none() {
        errors.add("contact", "Choose a contact of this customer.");
    }
    let (Some((contact, recent)), Some(channel), Some(summary), Some(touched_at)) =
        (found, channel, summary, touched_at)
    else {
        drop(change);
        let page = new_page(&state, &user, page, room_id, Some(form), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let at = touched_at.unwrap_or(now);
    let is_communicator = change.room.communicator_user_id == user.id;
    let warnings = rules::warnings(
        &contact.name,
        recent,
        user.id,
        is_communicator,
        channel,
        state.config.contact_touch_limit,
        at,
        now,
    );
    let touch = NewTouch {
        room_id,
        contact_id: contact.id,
        channel,
        summary: &summary,
        touched_at: at,
        by: user.id,
    };
    insert(change.conn(), &touch, now).await?;
    let said = format!(
        "{} logged {} with {}: {summary}",
        user.name,
        channel.with_article(),
        contact.name
    );
    change
        .record(
            "contacts.touched",
            &said,
            &format!("/rooms/{room_id}#contacts"),
        )
        .await?;
    change.commit().await?;
    if !warnings.is_empty() {
        flash(
            &session,
            format!("Logged, with a warning: {}", warnings.join(" ")),
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/rooms/{room_id}#contacts")).into_response())
}
