//! Who is signed in: the session keys, the `CurrentUser` and `AdminUser` extractors, and the
//! session lifetime rules (idle timeout from the store's expiry, absolute lifetime checked here,
//! deactivated users rejected on their very next request).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::user::{self, User};
use crate::AppState;
use crate::clock::Millis;
use crate::error::AppError;
use crate::web::{csrf, page::session_of};

/// Session key holding the signed-in user's id (also copied to `sessions.user_id`).
pub const SESSION_USER_ID: &str = "user_id";
/// Session key under which the store puts the user row it read in the same query as the session
/// (`DbSessionStore::load`): one round trip per request instead of two. Never written back.
pub const SESSION_USER_AT_LOAD: &str = "_user_at_load";
const SIGNED_IN_AT: &str = "signed_in_at";
const SEEN_AT: &str = "seen_at";
/// Activity refreshes the idle timeout at most this often (each refresh is a session write).
const SEEN_REFRESH_MS: Millis = 60_000;

#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    /// The IANA zone they chose (`None`: the instance default).
    pub time_zone: Option<String>,
    /// Their *Needs you* stamp as read with the session (`None`: signed in during this request).
    pub needs_stamp: Option<i64>,
}

/// The session user's row as it was when the session was read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserAtLoad {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub is_active: bool,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub needs_stamp: Option<i64>,
}

impl From<&User> for UserAtLoad {
    fn from(user: &User) -> Self {
        UserAtLoad {
            id: user.id,
            name: user.name.clone(),
            email: user.email.clone(),
            is_admin: user.is_admin(),
            is_active: user.is_active(),
            time_zone: user.time_zone.clone(),
            needs_stamp: None,
        }
    }
}

impl From<UserAtLoad> for CurrentUser {
    fn from(user: UserAtLoad) -> Self {
        CurrentUser {
            id: user.id,
            name: user.name,
            email: user.email,
            is_admin: user.is_admin,
            time_zone: user.time_zone,
            needs_stamp: user.needs_stamp,
        }
    }
}

impl CurrentUser {
    /// The signed-in user, if any; remembered in the request so it is loaded once.
    pub async fn optional(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<CurrentUser>, AppError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(Some(user.clone()));
        }
        let session = session_of(parts)?;
        let user = signed_in_user(&session, state).await?;
        if let Some(user) = &user {
            parts.extensions.insert(user.clone());
        }
        Ok(user)
    }
}

async fn signed_in_user(
    session: &Session,
    state: &AppState,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(user_id) = session.get::<i64>(SESSION_USER_ID).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let signed_in_at = session.get::<Millis>(SIGNED_IN_AT).await?.unwrap_or(0);
    let too_old = now - signed_in_at > state.config.session_max.as_millis() as i64;
    let user = match too_old {
        true => None,
        false => match session.get::<UserAtLoad>(SESSION_USER_AT_LOAD).await? {
            Some(read) if read.id == user_id => Some(read),
            // Signed in during this request: the session was read before it had a user.
            _ => user::find(state.db.reader(), user_id)
                .await?
                .map(|user| UserAtLoad::from(&user)),
        },
    };
    let Some(user) = user.filter(|user| user.is_active) else {
        session.flush().await?;
        return Ok(None);
    };
    let seen_at = session.get::<Millis>(SEEN_AT).await?.unwrap_or(0);
    if now - seen_at > SEEN_REFRESH_MS {
        session.insert(SEEN_AT, now).await?;
    }
    Ok(Some(CurrentUser::from(user)))
}

/// Signs `user` in: a new session id (no fixation), a new CSRF token, and the lifetime clock.
pub async fn start_session(session: &Session, user: &User, now: Millis) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(SESSION_USER_ID, user.id).await?;
    session.insert(SIGNED_IN_AT, now).await?;
    session.insert(SEEN_AT, now).await?;
    csrf::rotate(session).await?;
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        CurrentUser::optional(parts, state)
            .await?
            .ok_or(AppError::SignInRequired)
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        CurrentUser::optional(parts, state).await
    }
}

/// A signed-in administrator; anyone else gets 403.
#[derive(Clone, Debug)]
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user =
            <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(AppError::Forbidden(
                "Only administrators can open this page.".into(),
            ));
        }
        Ok(AdminUser(user))
    }
}
