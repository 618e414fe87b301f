//! Set-password links (from an invitation or `accord user add`): valid once, until they expire.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_sessions::Session;

use super::password::Password;
use super::setup::link_used;
use super::token::{self, Purpose};
use super::user;
use crate::AppState;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::{Page, flash};

pub fn router() -> Router<AppState> {
    Router::new().route("/password/{token}", get(show).post(submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/set_password.html")]
struct SetPasswordPage {
    page: Page,
    token: String,
    name: String,
    email: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SetPasswordForm {
    password: String,
    password_confirmation: String,
}

async fn page_for(
    state: &AppState,
    page: Page,
    token: String,
    errors: FieldErrors,
) -> Result<SetPasswordPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let user_id = token::find_usable(&mut conn, Purpose::Password, &token, state.clock.now())
        .await?
        .flatten()
        .ok_or_else(link_used)?;
    let user = user::find(&mut *conn, user_id)
        .await?
        .ok_or_else(link_used)?;
    Ok(SetPasswordPage {
        page,
        token,
        name: user.name,
        email: user.email,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    page: Page,
) -> Result<SetPasswordPage, AppError> {
    page_for(&state, page, token, FieldErrors::default()).await
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    page: Page,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, AppError> {
    let password = match Password::parse(form.password, &form.password_confirmation) {
        Ok(password) => password,
        Err(message) => {
            let errors = FieldErrors::single("password", message);
            return invalid(page_for(&state, page, token, errors).await?);
        }
    };
    let hash = password.hash().await?;
    let mut tx = state.db.begin_write().await?;
    let user_id = token::consume(&mut tx, Purpose::Password, &token, state.clock.now())
        .await?
        .flatten()
        .ok_or_else(link_used)?;
    user::set_password(&mut tx, user_id, &hash).await?;
    tx.commit().await?;
    flash(&session, "Your password is set. Sign in with it now.").await?;
    Ok(Redirect::to("/sign-in").into_response())
}
