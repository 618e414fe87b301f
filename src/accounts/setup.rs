//! The setup link printed on first start: it creates the first administrator, once.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_sessions::Session;

use super::password::Password;
use super::token::{self, Purpose};
use super::user::{self, EmailAddress, NewUser, PersonName};
use crate::AppState;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::{Page, flash};

pub fn router() -> Router<AppState> {
    Router::new().route("/setup/{token}", get(show).post(submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/setup.html")]
struct SetupPage {
    page: Page,
    token: String,
    form: SetupForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SetupForm {
    name: String,
    email: String,
    password: String,
    password_confirmation: String,
}

pub(super) fn link_used() -> AppError {
    AppError::Gone(
        "This link was already used or has expired. Ask an administrator for a new one.".into(),
    )
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    page: Page,
) -> Result<SetupPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    token::find_usable(&mut conn, Purpose::Setup, &token, state.clock.now())
        .await?
        .ok_or_else(link_used)?;
    // The link makes the first account only: once anyone has one (`accord user add`, the
    // demo), it is dead.
    if user::count(&mut conn).await? > 0 {
        return Err(link_used());
    }
    Ok(SetupPage {
        page,
        token,
        form: SetupForm::default(),
        errors: FieldErrors::default(),
    })
}

/// The first administrator, checked.
struct FirstAdmin {
    name: PersonName,
    email: EmailAddress,
    password: Password,
}

impl SetupForm {
    fn parse(&self) -> Result<FirstAdmin, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", PersonName::parse(&self.name));
        let email = errors.check("email", EmailAddress::parse(&self.email));
        let password = errors.check(
            "password",
            Password::parse(self.password.clone(), &self.password_confirmation),
        );
        errors.finish(|| {
            Some(FirstAdmin {
                name: name?,
                email: email?,
                password: password?,
            })
        })
    }
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    page: Page,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let created = match form.parse() {
        Ok(admin) => create_first_admin(&state, &token, admin).await?,
        Err(errors) => Err(errors),
    };
    if let Err(errors) = created {
        return invalid(SetupPage {
            page,
            token,
            form,
            errors,
        });
    }
    let ready = "Your administrator account is ready. Sign in to continue.";
    flash(&session, ready).await?;
    Ok(Redirect::to("/sign-in").into_response())
}

/// Uses the setup link and creates the administrator, in one transaction.
async fn create_first_admin(
    state: &AppState,
    token: &str,
    admin: FirstAdmin,
) -> Result<Result<(), FieldErrors>, AppError> {
    let hash = admin.password.hash().await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    token::consume(&mut tx, Purpose::Setup, token, now)
        .await?
        .ok_or_else(link_used)?;
    if user::count(&mut tx).await? > 0 {
        return Err(link_used());
    }
    let new_admin = NewUser {
        email: &admin.email,
        name: &admin.name,
        title: "Administrator",
        password_hash: Some(&hash),
        is_admin: true,
    };
    if user::insert(&mut tx, new_admin, now).await?.is_none() {
        let taken = "An account with this email already exists.";
        return Ok(Err(FieldErrors::single("email", taken)));
    }
    tx.commit().await?;
    Ok(Ok(()))
}
