//! Signing in and out. A wrong password, an unknown email and a deactivated account all get the
//! same answer; repeated failures wait longer and longer (see `throttle`).

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::{auth, password, settings, throttle, user};
use crate::AppState;
use crate::error::AppError;
use crate::web::forms::Form;
use crate::web::page::{Page, flash};
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(show).post(submit))
        .route("/sign-out", post(sign_out))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/sign_in.html")]
struct SignInPage {
    page: Page,
    email: String,
    error: Option<String>,
    /// "Sign in with <provider>", when single sign-on is on.
    sso: Option<String>,
    /// Whether the password form is offered.
    passwords: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    /// The browser's IANA zone (filled by `static/accord.js`), adopted when the person has not
    /// chosen one yet.
    browser_time_zone: String,
}

async fn show(State(state): State<AppState>, page: Page) -> Response {
    if page.user.is_some() {
        return Redirect::to("/").into_response();
    }
    SignInPage {
        page,
        email: String::new(),
        error: None,
        sso: super::oidc::button(&state),
        passwords: state.config.password_sign_in,
    }
    .into_response()
}

async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    page: Page,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    if !state.config.password_sign_in {
        let error = "Password sign-in is off here: use single sign-on.".to_owned();
        return Ok(refused(
            &state,
            StatusCode::FORBIDDEN,
            page,
            form.email,
            error,
        ));
    }
    let now = state.clock.now();
    let keys = throttle::Keys::new(&form.email, peer.ip());
    if let Some(wait) = throttle::current_wait(&state.db, &keys, now).await? {
        return Ok(throttled(&state, wait, page, form.email));
    }
    let account = user::find_by_email(state.db.reader(), &form.email).await?;
    let hash = account
        .as_ref()
        .filter(|account| account.is_active())
        .and_then(|account| account.password_hash.clone());
    // Always run the full argon2 check, so an unknown email takes as long as a wrong password.
    let verified = password::verify(form.password, hash).await;
    match account.filter(|_| verified) {
        Some(account) => {
            throttle::forget_account(&state.db, &keys).await?;
            auth::start_session(&session, &account, now).await?;
            tracing::info!(user.id = account.id, "signed in");
            let browser_zone = Zone::parse(&form.browser_time_zone);
            if let (None, Some(zone)) = (&account.time_zone, browser_zone) {
                settings::set_time_zone(state.db.writer(), account.id, zone).await?;
                flash(
                    &session,
                    format!(
                        "Times are shown in {zone}, your browser's time zone. Change it in Your settings."
                    ),
                )
                .await?;
            }
            // Back to the one-time alignment link that sent them here, if any.
            let back: Option<String> = session
                .remove(crate::approvals::link::RETURN_TO)
                .await?
                .filter(|path: &String| path.starts_with("/align/"));
            Ok(Redirect::to(back.as_deref().unwrap_or("/")).into_response())
        }
        None => {
            throttle::record_failure(&state.db, &keys, now).await?;
            let error = "That email and password do not match an active account.".to_owned();
            Ok(refused(
                &state,
                StatusCode::UNAUTHORIZED,
                page,
                form.email,
                error,
            ))
        }
    }
}

/// 429 with `Retry-After`: the account or the address must wait.
fn throttled(state: &AppState, wait: std::time::Duration, page: Page, email: String) -> Response {
    let error = format!(
        "Too many failed sign-in attempts. Wait {} and try again.",
        throttle::in_words(wait)
    );
    let mut response = refused(state, StatusCode::TOO_MANY_REQUESTS, page, email, error);
    let retry_after = HeaderValue::from(wait.as_secs().max(1));
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after);
    response
}

fn refused(
    state: &AppState,
    status: StatusCode,
    page: Page,
    email: String,
    error: String,
) -> Response {
    let form = SignInPage {
        page,
        email,
        error: Some(error),
        sso: super::oidc::button(state),
        passwords: state.config.password_sign_in,
    };
    (status, form).into_response()
}

async fn sign_out(session: Session) -> Result<Redirect, AppError> {
    session.flush().await?;
    Ok(Redirect::to("/sign-in"))
}
