//! `/api/v1`: the JSON API, for a CRM, a helpdesk or a script. A personal token in
//! `Authorization: Bearer` speaks for its owner with exactly their rights in the UI (members
//! only, leadership read-only, only the communicator sends), narrowed by the token's scope. No
//! cookie is read and no CSRF token is asked on this path, and no token is accepted anywhere
//! else. Every write goes through the same functions as the web form (the same rules, checked in
//! the transaction that writes, and the same timeline entry); every error is an RFC 9457 problem.
//! The OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from these handlers.

pub mod problem;
pub mod tokens;
pub mod tokens_page;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::Stance;
use crate::approvals::position::PositionForm;
use crate::clock::Millis;
use crate::drafts::DraftState;
use crate::drafts::compose::{self, Revision};
use crate::drafts::send::{self, Sent};
use crate::rooms::access::Action;
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::open::{self, OpenForm};
use crate::web::forms::{FieldErrors, required_text};
use crate::web::time::Zone;
use problem::Problem;
use tokens::Scope;

/// The largest JSON body accepted.
pub const BODY_LIMIT: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/rooms", get(list_rooms).post(open_room))
        .route("/api/v1/rooms/{id}", get(read_room_api))
        .route("/api/v1/rooms/{id}/notes", post(add_note))
        .route(
            "/api/v1/rooms/{id}/drafts",
            get(list_drafts).post(create_draft),
        )
        .route("/api/v1/rooms/{id}/drafts/{draft}", get(read_draft))
        .route(
            "/api/v1/rooms/{id}/drafts/{draft}/revisions",
            post(revise_draft),
        )
        .route("/api/v1/rooms/{id}/drafts/{draft}/alignment", post(align))
        .route("/api/v1/rooms/{id}/drafts/{draft}/send", post(request_send))
        .route("/api/v1/rooms/{id}/pre-reads", get(list_pre_reads))
        .route("/api/v1/rooms/{id}/pre-reads/{version}", get(read_pre_read))
        // Anything else under the API's path is a problem, never an HTML page.
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { Problem::not_found() }),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

type ApiResult<T> = Result<T, Problem>;

/// The token's owner, and what the token allows.
pub struct ApiUser {
    pub user: CurrentUser,
    pub scope: Scope,
}

impl ApiUser {
    /// Refuses a read-only token before anything is written.
    fn writes(&self) -> ApiResult<&CurrentUser> {
        match self.scope {
            Scope::Write => Ok(&self.user),
            Scope::Read => Err(Problem::forbidden(
                "This token is read-only: create a read and write token on Your settings.",
            )),
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<ApiUser> {
        let Some(given) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return Err(Problem::unauthorized(
                "Send Authorization: Bearer <token>; create a token on Your settings.",
            ));
        };
        let mut conn = state.db.writer().acquire().await?;
        match tokens::authenticate(&mut conn, given.trim(), state.clock.now()).await? {
            Some((user, scope)) => Ok(ApiUser { user, scope }),
            None => Err(Problem::unauthorized(
                "This token is unknown, revoked or expired, or its owner was deactivated.",
            )),
        }
    }
}

/// A JSON body, refused as a problem (never a 5xx) when it is not JSON, has the wrong types or
/// unknown fields, or is too large.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Body<T>> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(body_problem(&rejection)),
        }
    }
}

fn body_problem(rejection: &JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(e) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            format!("The JSON does not fit this request: {}", e.body_text()),
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Problem::bad_request(format!("The body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            "Send the body as JSON, with Content-Type: application/json.",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("The body is larger than {} KiB.", BODY_LIMIT / 1024),
        ),
        other => Problem::bad_request(other.body_text()),
    }
}

/// Path parameters, refused as a 404 problem when they are not ids.
pub struct Ids<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Ids<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Ids<T>> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(ids)| Ids(ids))
            .map_err(|_: PathRejection| Problem::not_found())
    }
}

/// Query parameters, refused as a 400 problem.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Params<T>> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Params(params))
            .map_err(|e: QueryRejection| Problem::bad_request(e.body_text()))
    }
}

/// Fields refused by a form's own checks: 422 with each field's message.
fn invalid(errors: &FieldErrors) -> Problem {
    let detail: Vec<String> = errors
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect();
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
        detail.join(" "),
    )
}

/// An instant as RFC 3339 in UTC.
fn instant(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Rooms

/// A room as a list shows it.
#[derive(Serialize, ToSchema)]
pub struct RoomSummary {
    pub id: i64,
    pub title: String,
    pub customer: String,
    /// S1, S2 or S3.
    pub severity: String,
    /// open, resolved or closed.
    pub status: String,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Rooms after this id (from `next_after`).
    after: Option<i64>,
    /// At most this many (1–200, default 50).
    limit: Option<i64>,
}

/// Lists the rooms the token's owner can read (their rooms; every room for an administrator).
#[utoipa::path(get, path = "/api/v1/rooms", params(Page), security(("token" = [])),
    responses((status = 200, body = RoomList), (status = 401, body = Problem)))]
async fn list_rooms(
    State(state): State<AppState>,
    api: ApiUser,
    Params(page): Params<Page>,
) -> ApiResult<Json<RoomList>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let rows = sqlx::query(
        "SELECT r.id, r.title, c.name, r.severity, r.status, r.updated_at FROM rooms r \
         JOIN customers c ON c.id = r.customer_id WHERE r.id > $1 AND ($2 = 1 OR EXISTS \
         (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = $3)) \
         ORDER BY r.id LIMIT $4",
    )
    .bind(page.after.unwrap_or(0))
    .bind(i64::from(api.user.is_admin))
    .bind(api.user.id)
    .bind(limit + 1)
    .fetch_all(state.db.reader())
    .await?;
    let mut rooms = rows
        .iter()
        .map(|row| {
            Ok(RoomSummary {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                customer: row.try_get(2)?,
                severity: row.try_get(3)?,
                status: row.try_get(4)?,
                updated_at: instant(row.try_get(5)?),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let more = rooms.len() as i64 > limit;
    rooms.truncate(limit as usize);
    let next_after = more.then(|| rooms.last().map(|r| r.id)).flatten();
    Ok(Json(RoomList { rooms, next_after }))
}

/// A person in a room.
#[derive(Serialize, ToSchema)]
pub struct RoomMember {
    pub user_id: i64,
    pub name: String,
    /// pm, partner or leadership.
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct RoomDetail {
    pub id: i64,
    pub title: String,
    pub problem: String,
    pub customer: String,
    pub severity: String,
    pub status: String,
    pub lead_user_id: i64,
    pub communicator_user_id: i64,
    pub members: Vec<RoomMember>,
    /// Whether customer outreach is paused now.
    pub outreach_paused: bool,
    pub escalated_at: String,
    pub updated_at: String,
    /// Grows with every change to the room.
    pub version: i64,
}

/// Reads one room.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", security(("token" = [])),
    responses((status = 200, body = RoomDetail), (status = 404, body = Problem)))]
async fn read_room_api(
    State(state): State<AppState>,
    api: ApiUser,
    Ids(room_id): Ids<i64>,
) -> ApiResult<Json<RoomDetail>> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &api.user).await?;
    let customer = crate::customers::model::find(&mut *conn, room.customer_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let members = crate::members::model::list(&mut conn, room.id)
        .await?
        .into_iter()
        .map(|m| RoomMember {
            user_id: m.user_id,
            name: m.name,
            kind: m.kind.as_str().to_owned(),
        })
        .collect();
    let pause = crate::outreach::model::active(&mut conn, room.id, state.clock.now()).await?;
    Ok(Json(RoomDetail {
        id: room.id,
        title: room.title.clone(),
        problem: room.problem.clone(),
        customer,
        severity: room.severity().as_str().to_owned(),
        status: room.status().as_str().to_owned(),
        lead_user_id: room.lead_user_id,
        communicator_user_id: room.communicator_user_id,
        members,
        outreach_paused: pause.is_some(),
        escalated_at: instant(room.escalated_at),
        updated_at: instant(room.updated_at),
        version: room.version,
    }))
}

/// What opening a room takes: what the web form asks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub customer_id: i64,
    pub title: String,
    pub problem: String,
    /// S1, S2 or S3.
    pub severity: String,
    /// The customer's contact who escalated, if any.
    #[serde(default)]
    pub escalated_by_contact_id: Option<i64>,
    /// The opener's own place in the room: pm, partner or leadership.
    pub my_kind: String,
    #[serde(default)]
    pub pms: Vec<i64>,
    #[serde(default)]
    pub partners: Vec<i64>,
    #[serde(default)]
    pub leadership: Vec<i64>,
    /// A PM (the opener when absent and a PM).
    #[serde(default)]
    pub lead_user_id: Option<i64>,
    /// A PM (the lead when absent).
    #[serde(default)]
    pub communicator_user_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Opens a room, as the web form does (for a CRM or helpdesk integration).
#[utoipa::path(post, path = "/api/v1/rooms", request_body = NewRoom, security(("token" = [])),
    responses((status = 201, body = Created), (status = 422, body = Problem)))]
async fn open_room(
    State(state): State<AppState>,
    api: ApiUser,
    Body(new): Body<NewRoom>,
) -> ApiResult<Response> {
    let user = api.writes()?;
    let id_text = |id: Option<i64>| id.map(|id| id.to_string()).unwrap_or_default();
    let form = OpenForm {
        customer: new.customer_id.to_string(),
        title: new.title,
        problem: new.problem,
        severity: new.severity,
        escalated_by: id_text(new.escalated_by_contact_id),
        my_kind: new.my_kind,
        pms: new.pms,
        partners: new.partners,
        leadership: new.leadership,
        lead: id_text(new.lead_user_id),
        communicator: id_text(new.communicator_user_id),
        ..OpenForm::default()
    };
    match open::open(&state, user, &form, Zone::UTC).await? {
        Ok(id) => Ok(created(format!("/api/v1/rooms/{id}"), Created { id })),
        Err(errors) => Err(invalid(&errors)),
    }
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub text: String,
}

/// Adds a note to the room's timeline, in the owner's name.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/notes", request_body = NewNote,
    security(("token" = [])), responses((status = 204), (status = 409, body = Problem)))]
async fn add_note(
    State(state): State<AppState>,
    api: ApiUser,
    Ids(room_id): Ids<i64>,
    Body(note): Body<NewNote>,
) -> ApiResult<StatusCode> {
    let user = api.writes()?;
    let text = required_text(&note.text, 2000, "Write the note.")
        .map_err(|why| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field", why))?;
    let mut change = RoomChange::begin(&state, room_id, user, Action::Contribute).await?;
    let summary = format!("{} noted: {text}", user.name);
    change.record("room.noted", &summary, "").await?;
    change.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Drafts

/// A PM's position on the current revision.
#[derive(Serialize, ToSchema)]
pub struct PmAlignment {
    pub user_id: i64,
    pub name: String,
    /// aligned, objects, stale, missing.
    pub state: String,
    /// Counts as aligned on the current revision (themselves, their stand-in, or a ruling).
    pub aligned: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DraftDetail {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub to: Vec<i64>,
    pub cc: Vec<i64>,
    pub revision: i64,
    pub alignment: Vec<PmAlignment>,
    /// Where its message stands: absent until queued; queued, sending, sent, retrying, failed, unknown.
    pub delivery: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DraftList {
    pub drafts: Vec<DraftDetail>,
}

fn draft_detail(draft: &DraftState) -> DraftDetail {
    DraftDetail {
        id: draft.draft.id,
        subject: draft.current.subject.clone(),
        body: draft.current.body.clone(),
        to: draft.current.to_ids.clone(),
        cc: draft.current.cc_ids.clone(),
        revision: draft.draft.current_revision,
        alignment: draft
            .alignment
            .iter()
            .map(|(pm, state)| PmAlignment {
                user_id: pm.user_id,
                name: pm.name.clone(),
                state: state.class().to_owned(),
                aligned: state.is_current(),
            })
            .collect(),
        delivery: draft.delivery.as_ref().map(|d| d.state.as_str().to_owned()),
    }
}

/// Lists the room's drafts with each PM's alignment on the current revision.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/drafts", security(("token" = [])),
    responses((status = 200, body = DraftList), (status = 404, body = Problem)))]
async fn list_drafts(
    State(state): State<AppState>,
    api: ApiUser,
    Ids(room_id): Ids<i64>,
) -> ApiResult<Json<DraftList>> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &api.user).await?;
    let now = state.clock.now();
    let mut drafts = Vec::new();
    for summary in crate::drafts::model::for_room(&mut conn, room.id).await? {
        let draft = DraftState::load(&mut conn, &room, summary.id, now).await?;
        drafts.push(draft_detail(&draft));
    }
    Ok(Json(DraftList { drafts }))
}

/// Reads one draft with its alignment.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/drafts/{draft}", security(("token" = [])),
    responses((status = 200, body = DraftDetail), (status = 404, body = Problem)))]
async fn read_draft(
    State(state): State<AppState>,
    api: ApiUser,
    Ids((room_id, draft_id)): Ids<(i64, i64)>,
) -> ApiResult<Json<DraftDetail>> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &api.user).await?;
    let draft = DraftState::load(&mut conn, &room, draft_id, state.clock.now()).await?;
    Ok(Json(draft_detail(&draft)))
}

/// A revision of a customer email.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRevision {
    /// Contact ids.
    pub to: Vec<i64>,
    #[serde(default)]
    pub cc: Vec<i64>,
    pub subject: String,
    pub body: String,
    /// The revision this one is written on top of (refused with 409 if another was saved since).
    #[serde(default)]
    pub base_revision: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SavedRevision {
    pub draft_id: i64,
    pub revision: i64,
}

impl From<NewRevision> for Revision {
    fn from(new: NewRevision) -> Revision {
        Revision {
            to: new.to,
            cc: new.cc,
            subject: new.subject,
            body: new.body,
            base_revision: new.base_revision,
        }
    }
}

async fn save(
    state: &AppState,
    api: &ApiUser,
    (room_id, draft_id): (i64, Option<i64>),
    new: NewRevision,
) -> ApiResult<Response> {
    let user = api.writes()?;
    match compose::save_revision(state, user, room_id, draft_id, new.into()).await? {
        Ok((draft_id, revision)) => Ok(created(
            format!("/api/v1/rooms/{room_id}/drafts/{draft_id}"),
            SavedRevision { draft_id, revision },
        )),
        Err(errors) => Err(invalid(&errors)),
    }
}

/// Starts a customer email (its first revision); a PM author is aligned on it.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/drafts", request_body = NewRevision,
    security(("token" = [])), responses((status = 201, body = SavedRevision), (status = 422, body = Problem)))]
async fn create_draft(
    State(state): State<AppState>,
    api: ApiUser,
    Ids(room_id): Ids<i64>,
    Body(new): Body<NewRevision>,
) -> ApiResult<Response> {
    save(&state, &api, (room_id, None), new).await
}

/// Saves a new revision of a draft: every alignment on an earlier revision becomes stale.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/drafts/{draft}/revisions", request_body = NewRevision,
    security(("token" = [])), responses((status = 201, body = SavedRevision), (status = 409, body = Problem)))]
async fn revise_draft(
    State(state): State<AppState>,
    api: ApiUser,
    Ids((room_id, draft_id)): Ids<(i64, i64)>,
    Body(new): Body<NewRevision>,
) -> ApiResult<Response> {
    save(&state, &api, (room_id, Some(draft_id)), new).await
}

/// A position on one exact revision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPosition {
    pub revision: i64,
    /// Absent or false to align; true to object (with a reason).
    #[serde(default)]
    pub object: bool,
    #[serde(default)]
    pub reason: String,
    /// As the named stand-in of this absent PM.
    #[serde(default)]
    pub for_user_id: Option<i64>,
}

/// Aligns on (or objects to) one exact revision, as a PM or an absent PM's stand-in.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/drafts/{draft}/alignment", request_body = NewPosition,
    security(("token" = [])), responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn align(
    State(state): State<AppState>,
    api: ApiUser,
    Ids((room_id, draft_id)): Ids<(i64, i64)>,
    Body(position): Body<NewPosition>,
) -> ApiResult<StatusCode> {
    let user = api.writes()?;
    let form = PositionForm {
        revision: position.revision,
        reason: position.reason,
        for_user: position.for_user_id,
    };
    let stance = match position.object {
        true => Stance::Objected,
        false => Stance::Aligned,
    };
    match crate::drafts::align::position_on(&state, user, (room_id, draft_id), &form, stance)
        .await?
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(why) => Err(Problem::new(StatusCode::CONFLICT, "stale-revision", why)),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The revision the sender read: refused if the draft changed since.
    pub revision: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Queued {
    /// The outbox message (its delivery shows on the draft).
    pub outbox_id: i64,
}

/// Asks for the draft to be sent. Re-checked in the transaction that queues it: refused with
/// 409 and every blocker (the same as the draft page) unless the sender is the communicator,
/// every PM aligned on this exact revision, and outreach is not paused.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/drafts/{draft}/send", request_body = SendRequest,
    security(("token" = [])), responses((status = 202, body = Queued), (status = 409, body = Problem)))]
async fn request_send(
    State(state): State<AppState>,
    api: ApiUser,
    Ids((room_id, draft_id)): Ids<(i64, i64)>,
    Body(send): Body<SendRequest>,
) -> ApiResult<Response> {
    let user = api.writes()?;
    let zone = Zone::or(user.time_zone.as_deref(), state.config.default_zone);
    match send::request(&state, user, (room_id, draft_id), send.revision, zone).await? {
        Sent::Queued { outbox_id } => {
            Ok((StatusCode::ACCEPTED, Json(Queued { outbox_id })).into_response())
        }
        Sent::Refused(refusal) => Err(Problem::blocked(
            "This email cannot go to the customer yet. Nothing was queued.",
            refusal.blockers,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Pre-reads

#[derive(Serialize, ToSchema)]
pub struct PreRead {
    pub version: i64,
    /// on_track, at_risk or off_track.
    pub status: String,
    pub headline: String,
    pub what_changed: String,
    pub decisions: String,
    pub risks: String,
    pub asks: String,
    pub published_by: String,
    pub published_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreReadList {
    pub pre_reads: Vec<PreRead>,
}

fn pre_read_of(p: crate::updates::model::PreRead) -> PreRead {
    PreRead {
        version: p.version,
        status: p.body.status,
        headline: p.body.headline,
        what_changed: p.body.what_changed,
        decisions: p.body.decisions,
        risks: p.body.risks,
        asks: p.body.asks,
        published_by: p.published_by,
        published_at: instant(p.published_at),
    }
}

/// Lists the room's published pre-reads, newest first.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/pre-reads", security(("token" = [])),
    responses((status = 200, body = PreReadList), (status = 404, body = Problem)))]
async fn list_pre_reads(
    State(state): State<AppState>,
    api: ApiUser,
    Ids(room_id): Ids<i64>,
) -> ApiResult<Json<PreReadList>> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &api.user).await?;
    let mut pre_reads = Vec::new();
    let mut version = None;
    while let Some(p) = crate::updates::model::pre_read(&mut conn, room.id, version).await? {
        version = (p.version > 1).then_some(p.version - 1);
        pre_reads.push(pre_read_of(p));
        if version.is_none() || pre_reads.len() >= 50 {
            break;
        }
    }
    Ok(Json(PreReadList { pre_reads }))
}

/// Reads one published pre-read.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/pre-reads/{version}", security(("token" = [])),
    responses((status = 200, body = PreRead), (status = 404, body = Problem)))]
async fn read_pre_read(
    State(state): State<AppState>,
    api: ApiUser,
    Ids((room_id, version)): Ids<(i64, i64)>,
) -> ApiResult<Json<PreRead>> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &api.user).await?;
    crate::updates::model::pre_read(&mut conn, room.id, Some(version))
        .await?
        .map(|p| Json(pre_read_of(p)))
        .ok_or_else(Problem::not_found)
}

// ---------------------------------------------------------------------------------------------
// The document

struct TokenSecurity;

impl utoipa::Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token from Your settings."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Accord API", version = "1",
        description = "Escalation rooms, customer email drafts and their alignment, and pre-reads. Every rule of the web pages applies."),
    paths(list_rooms, open_room, read_room_api, add_note, list_drafts, create_draft, read_draft,
        revise_draft, align, request_send, list_pre_reads, read_pre_read),
    modifiers(&TokenSecurity)
)]
pub struct ApiDoc;

/// The OpenAPI 3.1 document, generated from the handlers above.
async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
