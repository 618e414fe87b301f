//! The pages for API tokens: `/settings/tokens`, where each person creates (the secret shown
//! once, on the answer to the form) and revokes their own, and `/admin/tokens`, where
//! administrators see and revoke everyone's.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::tokens::{self, EXPIRY_DAYS, NewToken, Scope, Token};
use crate::AppState;
use crate::accounts::{AdminUser, CurrentUser};
use crate::clock::Millis;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::{Page, flash};
use crate::web::time;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/tokens", get(mine).post(create))
        .route("/settings/tokens/{id}/revocation", post(revoke_mine))
        .route("/admin/tokens", get(everyone))
        .route("/admin/tokens/{id}/revocation", post(revoke_any))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
    scope: String,
    expires_in_days: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/tokens.html")]
struct TokensPage {
    page: Page,
    /// The person's tokens, or everyone's on the admin page.
    tokens: Vec<Token>,
    /// The admin page (every token, with owners) rather than one's own.
    admin: bool,
    form: TokenForm,
    errors: FieldErrors,
    /// The secret just created, shown this once.
    created: Option<String>,
    now: Millis,
}

impl TokensPage {
    fn scopes(&self) -> &'static [Scope] {
        Scope::ALL
    }

    fn expiries(&self) -> &'static [i64] {
        EXPIRY_DAYS
    }

    fn expiry_label(&self, days: &i64) -> String {
        match days {
            0 => "Never".to_owned(),
            d => format!("In {d} days"),
        }
    }

    fn when(&self, at: &Option<Millis>) -> String {
        at.map_or_else(|| "never".to_owned(), |at| self.page.zone.when_dated(at))
    }

    fn dead(&self, token: &Token) -> bool {
        token.is_dead(self.now)
    }

    fn ago(&self, at: &Option<Millis>) -> String {
        at.map_or_else(|| "never".to_owned(), |at| time::relative(at, self.now))
    }
}

async fn page_of(
    state: &AppState,
    page: Page,
    owner: Option<i64>,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<String>,
) -> Result<TokensPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(TokensPage {
        tokens: tokens::list(&mut conn, owner).await?,
        admin: owner.is_none(),
        page,
        form: TokenForm {
            scope: match form.scope.is_empty() {
                true => Scope::Read.as_str().to_owned(),
                false => form.scope,
            },
            expires_in_days: match form.expires_in_days.is_empty() {
                true => "90".to_owned(),
                false => form.expires_in_days,
            },
            ..form
        },
        errors,
        created,
        now: state.clock.now(),
    })
}

async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
) -> Result<TokensPage, AppError> {
    page_of(
        &state,
        page,
        Some(user.id),
        TokenForm::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let new = match NewToken::parse(&form.name, &form.scope, &form.expires_in_days) {
        Ok(new) => new,
        Err(why) => {
            let errors = FieldErrors::single("name", why);
            return invalid(page_of(&state, page, Some(user.id), form, errors, None).await?);
        }
    };
    let mut conn = state.db.writer().acquire().await?;
    let (id, secret) = tokens::create(&mut conn, user.id, &new, state.clock.now()).await?;
    drop(conn);
    tracing::info!(token.id = id, "API token created");
    let page = page_of(
        &state,
        page,
        Some(user.id),
        TokenForm::default(),
        FieldErrors::default(),
        Some(secret),
    )
    .await?;
    Ok((StatusCode::CREATED, page).into_response())
}

async fn revoke(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
) -> Result<(), AppError> {
    let mut conn = state.db.writer().acquire().await?;
    if !tokens::revoke(&mut conn, id, user, state.clock.now()).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(token.id = id, "API token revoked");
    flash(session, "Revoked. The token stopped working at once.").await?;
    Ok(())
}

async fn revoke_mine(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    revoke(&state, &session, &user, id).await?;
    Ok(Redirect::to("/settings/tokens"))
}

async fn everyone(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    page: Page,
) -> Result<TokensPage, AppError> {
    page_of(
        &state,
        page,
        None,
        TokenForm::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

async fn revoke_any(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    revoke(&state, &session, &admin, id).await?;
    Ok(Redirect::to("/admin/tokens"))
}
