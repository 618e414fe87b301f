//! Administration of accounts: list, invite (emailing a one-time set-password link), send a new
//! link, deactivate (ending the user's sessions at once) and re-activate.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::AdminUser;
use super::token;
use super::user::{self, EmailAddress, NewUser, PersonName, User};
use crate::AppState;
use crate::error::AppError;
use crate::mail;
use crate::outbox::{
    self,
    model::{MessageKind, Outgoing},
};
use crate::web::forms::{FieldErrors, Form, invalid, optional_text};
use crate::web::page::{Page, flash};
use crate::web::session_store::delete_sessions_of;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(index))
        .route("/admin/invitations", post(invite))
        .route("/admin/users/{id}/invitation", post(reinvite))
        .route("/admin/users/{id}/deactivation", post(deactivate))
        .route("/admin/users/{id}/activation", post(activate))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    users: Vec<User>,
    form: InviteForm,
    errors: FieldErrors,
    mail_mode: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    email: String,
    name: String,
    title: String,
    admin: Option<String>,
}

async fn users_page(
    state: &AppState,
    page: Page,
    form: InviteForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    Ok(UsersPage {
        page,
        users: user::list(state.db.reader()).await?,
        form,
        errors,
        mail_mode: state.mailer.describe(),
    })
}

async fn index(
    State(state): State<AppState>,
    _admin: AdminUser,
    page: Page,
) -> Result<UsersPage, AppError> {
    users_page(&state, page, InviteForm::default(), FieldErrors::default()).await
}

/// An invitation, checked.
struct Invitee {
    email: EmailAddress,
    name: PersonName,
    title: String,
}

impl InviteForm {
    fn parse(&self) -> Result<Invitee, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = errors.check("email", EmailAddress::parse(&self.email));
        let name = errors.check("name", PersonName::parse(&self.name));
        let title = errors.check("title", optional_text(&self.title, 100));
        errors.finish(|| {
            Some(Invitee {
                email: email?,
                name: name?,
                title: title?,
            })
        })
    }
}

async fn invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    session: Session,
    page: Page,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let invitee = match form.parse() {
        Ok(invitee) => invitee,
        Err(errors) => return invalid(users_page(&state, page, form, errors).await?),
    };
    let (now, (email, name)) = (state.clock.now(), (&invitee.email, &invitee.name));
    let mut tx = state.db.begin_write().await?;
    let new_user = NewUser {
        email,
        name,
        title: &invitee.title,
        password_hash: None,
        is_admin: form.admin.is_some(),
    };
    let Some(user_id) = user::insert(&mut tx, new_user, now).await? else {
        let errors = FieldErrors::single("email", "There is already an account with this email.");
        return invalid(users_page(&state, page, form, errors).await?);
    };
    let link = token::password_link(&mut tx, &state.config, user_id, now).await?;
    queue_link(&state, &mut tx, &admin, email, name, &link).await?;
    tx.commit().await?;
    state.outbox.wake();
    tracing::info!(user.id = user_id, "user invited");
    let invited = format!("Invitation to {} is on its way.", name.as_str());
    flash(&session, invited).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

async fn reinvite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    let mut tx = state.db.begin_write().await?;
    let user = user::find(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let link = token::password_link(&mut tx, &state.config, id, state.clock.now()).await?;
    let email = EmailAddress::parse(&user.email).map_err(|e| anyhow::anyhow!(e))?;
    let name = PersonName::parse(&user.name).map_err(|e| anyhow::anyhow!(e))?;
    queue_link(&state, &mut tx, &admin, &email, &name, &link).await?;
    tx.commit().await?;
    state.outbox.wake();
    flash(
        &session,
        format!("A new link is on its way to {}.", name.as_str()),
    )
    .await?;
    Ok(Redirect::to("/admin/users"))
}

/// Queues the email with a set-password link (in the caller's transaction).
async fn queue_link(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    admin: &super::CurrentUser,
    email: &EmailAddress,
    name: &PersonName,
    link: &str,
) -> Result<(), AppError> {
    let message = mail::invitation(&state.config, email, name, &admin.name, link)?;
    let outgoing = Outgoing {
        kind: MessageKind::Invitation,
        room_id: None,
        draft_id: None,
        sender_id: Some(admin.id),
        contact_ids: Vec::new(),
        message,
    };
    outbox::model::enqueue(tx, state.db.backend(), &outgoing, state.clock.now()).await?;
    Ok(())
}

async fn deactivate(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    if id == admin.id {
        return Err(AppError::Forbidden(
            "You cannot deactivate your own account; ask another administrator.".into(),
        ));
    }
    let mut tx = state.db.begin_write().await?;
    if !user::set_active(&mut tx, id, false).await? {
        return Err(AppError::NotFound);
    }
    delete_sessions_of(&mut *tx, id).await?;
    tx.commit().await?;
    tracing::info!(user.id = id, "user deactivated");
    flash(&session, "Deactivated. Their sessions have ended.").await?;
    Ok(Redirect::to("/admin/users"))
}

async fn activate(
    State(state): State<AppState>,
    _admin: AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    let mut tx = state.db.begin_write().await?;
    if !user::set_active(&mut tx, id, true).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    flash(&session, "Re-activated. They can sign in again.").await?;
    Ok(Redirect::to("/admin/users"))
}
