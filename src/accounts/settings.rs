//! `/settings`: *Your settings* — the time zone every page, email and form uses for the person
//! signed in (the browser's zone is offered by `static/accord.js` and adopted at first sign-in),
//! and whether a leadership member gets the weekly digest.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::{Any, Executor};
use tower_sessions::Session;

use super::CurrentUser;
use crate::AppState;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::{Page, flash};
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show).post(save))
        .route("/settings/digest", axum::routing::post(save_digest))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    time_zone: String,
}

impl SettingsForm {
    fn parse(&self) -> Result<Zone, FieldErrors> {
        Zone::parse(&self.time_zone).ok_or_else(|| {
            FieldErrors::single(
                "time_zone",
                "Choose a time zone from the list, like Europe/Berlin or America/Chicago.",
            )
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/settings.html")]
struct SettingsPage {
    page: Page,
    /// The zone chosen, or `None` while the instance default applies.
    chosen: Option<Zone>,
    default_zone: Zone,
    form: SettingsForm,
    errors: FieldErrors,
    /// Gets the weekly digest (leadership members; on unless they opted out).
    digest: bool,
}

/// Whether `user_id` gets the weekly digest.
async fn wants_digest(state: &AppState, user_id: i64) -> sqlx::Result<bool> {
    let on: i64 = sqlx::query_scalar("SELECT weekly_digest FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(state.db.reader())
        .await?;
    Ok(on == 1)
}

impl SettingsPage {
    fn zones(&self) -> impl Iterator<Item = Zone> {
        Zone::all()
    }

    fn is_selected(&self, zone: &Zone) -> bool {
        self.form.time_zone == zone.name()
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
) -> Result<SettingsPage, AppError> {
    let chosen = user.time_zone.as_deref().and_then(Zone::parse);
    Ok(SettingsPage {
        digest: wants_digest(&state, user.id).await?,
        form: SettingsForm {
            time_zone: page.zone.name().to_owned(),
        },
        page,
        chosen,
        default_zone: state.config.default_zone,
        errors: FieldErrors::default(),
    })
}

async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    page: Page,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let zone = match form.parse() {
        Ok(zone) => zone,
        Err(errors) => {
            return invalid(SettingsPage {
                digest: wants_digest(&state, user.id).await?,
                chosen: user.time_zone.as_deref().and_then(Zone::parse),
                page,
                default_zone: state.config.default_zone,
                form,
                errors,
            });
        }
    };
    set_time_zone(state.db.writer(), user.id, zone).await?;
    flash(
        &session,
        format!("Saved. Times are shown and read in {zone}."),
    )
    .await?;
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DigestForm {
    weekly_digest: String,
}

async fn save_digest(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    Form(form): Form<DigestForm>,
) -> Result<Response, AppError> {
    let on = form.weekly_digest == "yes";
    sqlx::query("UPDATE users SET weekly_digest = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(user.id)
        .execute(state.db.writer())
        .await?;
    let said = match on {
        true => "Saved. You get the weekly digest on Mondays.",
        false => "Saved. No more weekly digest.",
    };
    flash(&session, said).await?;
    Ok(Redirect::to("/settings").into_response())
}

pub async fn set_time_zone<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: i64,
    zone: Zone,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET time_zone = $1 WHERE id = $2")
        .bind(zone.name())
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_iana_zones_are_accepted() {
        let form = |raw: &str| SettingsForm {
            time_zone: raw.into(),
        };
        assert_eq!(
            form("Europe/Berlin").parse().unwrap().name(),
            "Europe/Berlin"
        );
        assert!(form("").parse().is_err());
        assert!(form("Berlin").parse().is_err());
    }
}
