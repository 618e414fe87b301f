//! `/admin/inbound`: the messages no room took — a stranger's email, an unknown reply address,
//! an unreadable message. An admin files each into a room (with a timeline entry there, and the
//! same notifications as a matched reply) or discards it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::Row;
use tower_sessions::Session;

use super::file::{self, Said};
use super::model::{self, AttachmentInfo, InboundState, Received};
use crate::AppState;
use crate::accounts::AdminUser;
use crate::error::AppError;
use crate::rooms::change::RoomTx;
use crate::timeline;
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::page::{Page, flash};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/inbound", get(index))
        .route("/admin/inbound/{id}/filing", post(file_into_room))
        .route("/admin/inbound/{id}/discarding", post(discard))
        .route("/admin/inbound/{id}/attachments/{n}", get(download))
}

/// How many unmatched messages the page lists (oldest first).
const SHOWN: i64 = 50;

/// A room an unmatched message might belong to: the sender's customer's open rooms.
pub struct RoomChoice {
    pub id: i64,
    pub title: String,
}

pub struct Waiting {
    pub message: Received,
    pub attachments: Vec<AttachmentInfo>,
    pub rooms: Vec<RoomChoice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/inbound.html")]
struct InboundPage {
    page: Page,
    waiting: Vec<Waiting>,
    total: i64,
    address: Option<String>,
    http_on: bool,
    imap: Option<String>,
}

/// Open rooms of the customer whose contact or email domain the sender is.
async fn likely_rooms(conn: &mut sqlx::AnyConnection, from: &str) -> sqlx::Result<Vec<RoomChoice>> {
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if from.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT r.id, r.title FROM rooms r JOIN customers c ON c.id = r.customer_id \
         WHERE r.status <> 'closed' AND ((c.email_domain <> '' AND c.email_domain = $1) \
         OR r.customer_id IN (SELECT customer_id FROM contacts WHERE email = $2)) \
         ORDER BY r.updated_at DESC LIMIT 10",
    )
    .bind(domain)
    .bind(from)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(RoomChoice {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
            })
        })
        .collect()
}

async fn index(
    State(state): State<AppState>,
    _admin: AdminUser,
    page: Page,
) -> Result<InboundPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let mut waiting = Vec::new();
    for message in model::unmatched(&mut conn, SHOWN).await? {
        waiting.push(Waiting {
            attachments: model::attachments(&mut conn, message.id).await?,
            rooms: likely_rooms(&mut conn, &message.from_address).await?,
            message,
        });
    }
    let inbound = &state.config.inbound;
    Ok(InboundPage {
        total: model::count_unmatched(&mut conn).await?,
        waiting,
        address: inbound.address.as_ref().map(|a| a.with_token("TOKEN")),
        http_on: inbound.secret.is_some(),
        imap: inbound
            .imap
            .as_ref()
            .map(|i| format!("{} on {}", i.mailbox, i.address())),
        page,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FilingForm {
    room: String,
}

async fn file_into_room(
    State(state): State<AppState>,
    admin: AdminUser,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<FilingForm>,
) -> Result<Response, AppError> {
    let room_id: i64 = form
        .room
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| AppError::Conflict("Give the number of the room to file it in.".into()))?;
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [room_id], now).await?;
    if !tx.is_locked(room_id) {
        return Err(AppError::Conflict(format!("There is no room {room_id}.")));
    }
    let message = model::find(&mut tx, id)
        .await?
        .filter(|m| m.state == InboundState::Unmatched)
        .ok_or_else(|| AppError::Conflict("This message was already filed or discarded.".into()))?;
    let contact_id: Option<i64> = sqlx::query_scalar(
        "SELECT c.id FROM contacts c JOIN rooms r ON r.customer_id = c.customer_id \
         WHERE r.id = $1 AND c.email = $2",
    )
    .bind(room_id)
    .bind(&message.from_address)
    .fetch_optional(&mut *tx)
    .await?;
    model::file_into_room(&mut tx, id, room_id, contact_id, admin.0.id, now).await?;
    let said = Said {
        sender: &message.from_name,
        address: &message.from_address,
        subject: &message.subject,
    };
    file::announce(
        &state,
        &mut tx,
        room_id,
        id,
        contact_id,
        &said,
        (message.kind, message.source),
        now,
    )
    .await?;
    let summary = format!(
        "{} filed {}'s email into this room from the unmatched queue.",
        admin.0.name,
        message.sender()
    );
    let link = format!("/rooms/{room_id}/messages/{id}");
    timeline::record(
        &mut tx,
        room_id,
        Some(admin.0.id),
        "drafts.filed",
        &summary,
        &link,
        now,
    )
    .await?;
    tx.commit().await?;
    state.outbox.wake();
    flash(&session, format!("Filed into room {room_id}.")).await?;
    Ok(Redirect::to("/admin/inbound").into_response())
}

async fn discard(
    State(state): State<AppState>,
    admin: AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut tx = RoomTx::begin(&state.db, [], now).await?;
    if !model::discard(&mut tx, id, admin.0.id, now).await? {
        return Err(AppError::Conflict(
            "This message was already filed or discarded.".into(),
        ));
    }
    tx.commit().await?;
    flash(&session, "Discarded. It stays stored, out of the queue.").await?;
    Ok(Redirect::to("/admin/inbound").into_response())
}

async fn download(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path((id, position)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    model::find(&mut conn, id)
        .await?
        .filter(|m| m.state == InboundState::Unmatched)
        .ok_or(AppError::NotFound)?;
    let (filename, content) = model::attachment_content(&mut conn, id, position)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(super::show::attachment_response(&filename, content))
}
