//! `/align/{token}`: the one-time link in an alignment email, bound to one person, one draft or
//! update and one exact revision. Opening it (a GET, which mail scanners also do) only shows the
//! revision and what changed since the person last aligned; aligning is the POST of its confirm
//! button. It works only for that person signed in — a forwarded email authorises nobody — and
//! sends someone not signed in to sign in first, then back. A link for a revision that is no
//! longer current says so and points at the current one; it expires after
//! `ACCORD_ALIGN_LINK_HOURS` and works once.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sqlx::{AnyConnection, Row};
use tower_sessions::Session;

use super::position::{self, PositionForm};
use super::{Stance, SubjectKind};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::drafts::model as drafts;
use crate::drafts::render::{DiffLine, diff};
use crate::error::AppError;
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::secrets;
use crate::updates::model as updates;
use crate::web::page::{Page, flash};

/// Where sign-in sends someone back to after following a link.
pub const RETURN_TO: &str = "return_to";

pub fn router() -> Router<AppState> {
    Router::new().route("/align/{token}", get(open).post(confirm))
}

/// Makes a link for `user_id` to align on `revision`; returns its absolute URL.
pub async fn issue(
    tx: &mut AnyConnection,
    state: &AppState,
    (room_id, kind, subject_id): (i64, SubjectKind, i64),
    user_id: i64,
    revision: i64,
    now: Millis,
) -> sqlx::Result<String> {
    let token = secrets::random_token();
    let expires = now + state.config.align_link_valid.as_millis() as i64;
    sqlx::query(
        "INSERT INTO align_links (token_digest, user_id, room_id, subject_kind, subject_id, revision, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(secrets::digest(&token))
    .bind(user_id)
    .bind(room_id)
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(revision)
    .bind(expires)
    .execute(tx)
    .await?;
    Ok(state.config.link(&format!("/align/{token}")))
}

/// Forgets links that expired more than a week ago (housekeeping; a used or expired link is
/// refused either way).
pub async fn delete_expired(db: &crate::db::Db, now: Millis) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM align_links WHERE expires_at < $1")
        .bind(now - 7 * 24 * 3_600_000)
        .execute(db.writer())
        .await?;
    Ok(())
}

struct Link {
    user_id: i64,
    room_id: i64,
    kind: SubjectKind,
    subject_id: i64,
    revision: i64,
    expires_at: Millis,
    used: bool,
}

async fn find(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<Link>> {
    let row = sqlx::query(
        "SELECT user_id, room_id, subject_kind, subject_id, revision, expires_at, used_at \
         FROM align_links WHERE token_digest = $1",
    )
    .bind(secrets::digest(token))
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let kind: String = row.try_get(2)?;
        let used: Option<Millis> = row.try_get(6)?;
        Ok(Link {
            user_id: row.try_get(0)?,
            room_id: row.try_get(1)?,
            kind: SubjectKind::parse(&kind).unwrap_or(SubjectKind::Draft),
            subject_id: row.try_get(3)?,
            revision: row.try_get(4)?,
            expires_at: row.try_get(5)?,
            used: used.is_some(),
        })
    })
    .transpose()
}

/// The link for this person, or why it does not work (as an error page).
fn usable(link: Option<Link>, user: &CurrentUser, now: Millis) -> Result<Link, AppError> {
    let link = link.ok_or(AppError::NotFound)?;
    if link.user_id != user.id {
        return Err(AppError::Forbidden(
            "This link was sent to someone else: it aligns only its recipient. Open the draft or update from the room instead.".into(),
        ));
    }
    if link.used {
        return Err(AppError::Gone(
            "This link was already used. Open the draft or update from the room to see where it stands.".into(),
        ));
    }
    if link.expires_at <= now {
        return Err(AppError::Gone(
            "This link has expired. Open the draft or update from the room to align.".into(),
        ));
    }
    Ok(link)
}

/// What the link is about, as it stands.
struct Subject {
    title: String,
    text: String,
    current: i64,
    path: String,
    /// What changed since the revision this person last aligned on (drafts).
    changes: Vec<DiffLine>,
    since: Option<i64>,
}

async fn subject(conn: &mut AnyConnection, link: &Link) -> Result<Subject, AppError> {
    match link.kind {
        SubjectKind::Draft => {
            let draft = drafts::find(conn, link.room_id, link.subject_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let revisions = drafts::revisions(conn, draft.id).await?;
            let shown = revisions
                .iter()
                .find(|r| r.number == link.revision)
                .ok_or(AppError::NotFound)?;
            let approvals = super::list(conn, SubjectKind::Draft, draft.id).await?;
            let since = approvals
                .iter()
                .find(|a| a.user_id == link.user_id && a.revision < link.revision)
                .map(|a| a.revision);
            let changes = since
                .and_then(|n| revisions.iter().find(|r| r.number == n))
                .map(|old| diff(&old.body, &shown.body))
                .unwrap_or_default();
            Ok(Subject {
                title: format!("the customer email “{}”", shown.subject),
                text: shown.body.clone(),
                current: draft.current_revision,
                path: format!("/rooms/{}/drafts/{}", link.room_id, draft.id),
                changes,
                since,
            })
        }
        SubjectKind::Update => {
            let update = updates::find(conn, link.room_id, link.subject_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let shown = updates::revision(conn, update.id, link.revision)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Subject {
                title: format!("the leadership update “{}”", shown.body.headline),
                text: shown.body.what_changed.clone(),
                current: update.current_revision,
                path: format!("/rooms/{}/updates/{}", link.room_id, update.id),
                changes: Vec::new(),
                since: None,
            })
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/link.html")]
struct LinkPage {
    page: Page,
    token: String,
    revision: i64,
    subject: Subject,
}

async fn open(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
    page: Page,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(user) = user else {
        session.insert(RETURN_TO, format!("/align/{token}")).await?;
        flash(&session, "Sign in to align: the link works only for you.").await?;
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let mut conn = state.db.reader().acquire().await?;
    let link = usable(find(&mut conn, &token).await?, &user, state.clock.now())?;
    crate::rooms::change::read_room(&mut conn, link.room_id, &user).await?;
    let subject = subject(&mut conn, &link).await?;
    Ok(LinkPage {
        page,
        token,
        revision: link.revision,
        subject,
    }
    .into_response())
}

/// Aligns, as the link's recipient, on exactly the link's revision — if it is still current.
async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let link = {
        let mut conn = state.db.reader().acquire().await?;
        usable(find(&mut conn, &token).await?, &user, now)?
    };
    let mut change = RoomChange::begin(&state, link.room_id, &user, Action::Read).await?;
    let subject = subject(change.conn(), &link).await?;
    if subject.current != link.revision {
        return Err(AppError::Conflict(format!(
            "This link is for revision {}, but revision {} has been saved since: read the current one at {} and align there.",
            link.revision, subject.current, subject.path
        )));
    }
    let used = sqlx::query(
        "UPDATE align_links SET used_at = $1 WHERE token_digest = $2 AND used_at IS NULL",
    )
    .bind(change.now)
    .bind(secrets::digest(&token))
    .execute(&mut **change.conn())
    .await?;
    if used.rows_affected() != 1 {
        return Err(AppError::Gone("This link was already used.".into()));
    }
    let form = PositionForm {
        revision: link.revision,
        reason: String::new(),
        for_user: None,
    };
    let who = position::take(
        &mut change,
        (link.kind, link.subject_id),
        &form,
        Stance::Aligned,
    )
    .await?;
    let (kind, summary) = match link.kind {
        SubjectKind::Draft => (
            "drafts.approved",
            format!(
                "{who} aligned on revision {} of {} (from the email link).",
                link.revision, subject.title
            ),
        ),
        SubjectKind::Update => (
            "updates.approved",
            format!(
                "{who} aligned on revision {} of {} (from the email link).",
                link.revision, subject.title
            ),
        ),
    };
    change.record(kind, &summary, &subject.path).await?;
    change.commit().await?;
    flash(
        &session,
        format!("You aligned on revision {}.", link.revision),
    )
    .await?;
    Ok(Redirect::to(&subject.path).into_response())
}
