//! `Page`: what the layout needs on every page — who is signed in, the time zone they read in,
//! the CSRF token for forms, and a one-shot flash message.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::error::AppError;
use crate::web::csrf;
use crate::web::time::Zone;

const FLASH: &str = "flash";

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub user: Option<CurrentUser>,
    /// The zone every time on the page is shown and read in: the user's, else the default.
    pub zone: Zone,
    pub csrf: String,
    pub flash: Option<String>,
    /// How many items wait for the signed-in person (the top bar's *Needs you* count). Not
    /// counted for htmx fragments, which have no top bar, nor afresh for a form's answer: a
    /// change just made makes every count in its room stale, and a form redirects unless it
    /// was refused — a refused form's page shows the count only if it is known (`None`: not
    /// shown).
    pub needs: Option<i64>,
}

impl Page {
    /// The context of a page rendered outside a session (error pages).
    pub fn anonymous() -> Page {
        Page::default()
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|user| user.is_admin)
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::optional(parts, state).await?;
        let session = session_of(parts)?;
        // Only touch the flash when there is one: `remove` marks the session modified, and a
        // modified session is written back — a database write on every page view.
        let flash = match session.get::<String>(FLASH).await? {
            Some(message) => {
                session.remove::<String>(FLASH).await?;
                Some(message)
            }
            None => None,
        };
        let zone = Zone::or(
            user.as_ref().and_then(|u| u.time_zone.as_deref()),
            state.config.default_zone,
        );
        let fragment = parts.headers.contains_key("hx-request");
        let reading = matches!(parts.method, Method::GET | Method::HEAD);
        let now = state.clock.now();
        let needs = match &user {
            Some(_) if fragment => None,
            Some(user) if reading => Some(
                (state.needs)
                    .count(state.db.reader(), user.id, user.needs_stamp, now)
                    .await?,
            ),
            Some(user) => state.needs.known_count(user.id, user.needs_stamp, now),
            None => None,
        };
        Ok(Page {
            needs,
            zone,
            user,
            csrf: csrf::token(&session).await?,
            flash,
        })
    }
}

/// Leaves a message for the next page this session renders ("Invitation sent").
pub async fn flash(session: &Session, message: impl Into<String>) -> Result<(), AppError> {
    session.insert(FLASH, message.into()).await?;
    Ok(())
}

/// The request's session (the session layer wraps every route).
pub fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session layer missing")))
}
