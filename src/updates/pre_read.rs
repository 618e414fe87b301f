//! Pre-read pages: the latest published version of a room's leadership update, or any version,
//! read-only and print-friendly, with what changed since the previous version. Members (leadership
//! included) and admins only.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use sqlx::AnyConnection;

use super::model::{self, PreRead};
use super::snapshot::{Snapshot, changes};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::db::OnDemand;
use crate::error::AppError;
use crate::rooms::change::viewed_room;
use crate::rooms::content::VersionCache;
use crate::rooms::model::Room;
use crate::web::filters;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/pre-read", get(latest))
        .route("/rooms/{id}/pre-reads/{version}", get(version))
        .route_layer(axum::middleware::from_fn(crate::rooms::in_view::scope))
}

#[derive(Template, WebTemplate)]
#[template(path = "updates/pre_read.html")]
struct PreReadPage {
    page: Page,
    room: Room,
    content: Arc<PreReadContent>,
}

/// What a pre-read page shows of the room, the same for every reader at one room version (a
/// publication is a change to the room): shared per version like the room page's content.
pub struct PreReadContent {
    pre_read: Option<PreRead>,
    snapshot: Snapshot,
    changes: Vec<String>,
    latest: i64,
}

/// The pre-reads of each room version, by the version number asked for (`None`: the latest).
pub type PreReadCache = VersionCache<Option<i64>, PreReadContent>;

impl PreReadContent {
    async fn read(
        conn: &mut AnyConnection,
        room_id: i64,
        version: Option<i64>,
    ) -> Result<PreReadContent, AppError> {
        let pre_read = model::pre_read(&mut *conn, room_id, version).await?;
        let latest = model::pre_read(&mut *conn, room_id, None)
            .await?
            .map_or(0, |p| p.version);
        let (snapshot, changes) = match &pre_read {
            Some(current) => {
                let snapshot: Snapshot =
                    serde_json::from_str(&current.snapshot).map_err(anyhow::Error::from)?;
                let changes =
                    match model::pre_read(&mut *conn, room_id, Some(current.version - 1)).await? {
                        Some(previous) => {
                            let before: Snapshot = serde_json::from_str(&previous.snapshot)
                                .map_err(anyhow::Error::from)?;
                            changes(
                                &before,
                                &snapshot,
                                previous.body.status().label(),
                                current.body.status().label(),
                            )
                        }
                        None => Vec::new(),
                    };
                (snapshot, changes)
            }
            None => (Snapshot::default(), Vec::new()),
        };
        Ok(PreReadContent {
            pre_read,
            snapshot,
            changes,
            latest,
        })
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    version: Option<i64>,
) -> Result<PreReadPage, AppError> {
    let mut conn = OnDemand::new(state.db.reader());
    let (room, _) = viewed_room(&mut conn, room_id, user).await?;
    let content = match state.pre_reads.get(&room, version) {
        Some(content) => content,
        None => {
            let content = PreReadContent::read(conn.get().await?, room_id, version).await?;
            state.pre_reads.keep(&room, version, content)
        }
    };
    if version.is_some() && content.pre_read.is_none() {
        return Err(AppError::NotFound);
    }
    Ok(PreReadPage {
        page,
        room,
        content,
    })
}

async fn latest(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<PreReadPage, AppError> {
    render(&state, &user, page, room_id, None).await
}

async fn version(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, version)): Path<(i64, i64)>,
) -> Result<PreReadPage, AppError> {
    render(&state, &user, page, room_id, Some(version)).await
}
