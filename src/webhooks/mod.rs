//! Signed webhooks: administrators register endpoints on `/admin/webhooks`; each event a room
//! records (`events`) is queued for every subscribed endpoint in the transaction that records it,
//! and delivered signed, with retries, by every instance (`deliver`). Attempts are listed for
//! administrators on the same page.

pub mod deliver;
pub mod events;
pub mod sign;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::Row;
use tower_sessions::Session;

use crate::AppState;
use crate::accounts::AdminUser;
use crate::clock::Millis;
use crate::error::AppError;
use crate::web::filters;
use crate::web::forms::{FieldErrors, Form, invalid};
use crate::web::page::{Page, flash};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(index).post(create))
        .route("/admin/webhooks/{id}/disabling", post(disable))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EndpointForm {
    url: String,
    events: Vec<String>,
    format: String,
    include_bodies: String,
}

/// A registered endpoint, as the page lists it.
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub slack: bool,
    pub include_bodies: bool,
    pub disabled: bool,
}

/// A delivery with its latest outcome.
pub struct Delivery {
    pub event: String,
    pub event_id: String,
    pub endpoint: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub last_status: Option<i64>,
    pub created_at: Millis,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    page: Page,
    endpoints: Vec<Endpoint>,
    deliveries: Vec<Delivery>,
    events: &'static [(&'static str, &'static str)],
    form: EndpointForm,
    errors: FieldErrors,
    /// The secret of the endpoint just registered, shown this once.
    created: Option<String>,
}

impl WebhooksPage {
    fn checked(&self, event: &&str) -> bool {
        self.form.events.iter().any(|e| e == event)
    }
}

/// A checked endpoint.
struct NewEndpoint {
    url: String,
    events: String,
    slack: bool,
    include_bodies: bool,
}

impl EndpointForm {
    fn parse(&self) -> Result<NewEndpoint, FieldErrors> {
        let mut errors = FieldErrors::default();
        let url = match url::Url::parse(self.url.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url.to_string())
            }
            _ => {
                errors.add(
                    "url",
                    "Enter the full address the events go to, starting with https://.",
                );
                None
            }
        };
        let known: Vec<&str> = self
            .events
            .iter()
            .filter_map(|e| events::EVENTS.iter().find(|(name, _)| name == e))
            .map(|(name, _)| *name)
            .collect();
        if known.is_empty() || known.len() != self.events.len() {
            errors.add("events", "Choose at least one event from the list.");
        }
        if !matches!(self.format.as_str(), "standard" | "slack") {
            errors.add("format", "Choose the payload's format.");
        }
        errors.finish(|| {
            Some(NewEndpoint {
                url: url?,
                events: known.join(","),
                slack: self.format == "slack",
                include_bodies: self.include_bodies == "yes",
            })
        })
    }
}

async fn page_of(
    state: &AppState,
    page: Page,
    form: EndpointForm,
    errors: FieldErrors,
    created: Option<String>,
) -> Result<WebhooksPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let endpoints = sqlx::query(
        "SELECT id, url, events, format, include_bodies, disabled_at FROM webhook_endpoints ORDER BY id DESC",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Endpoint {
            id: row.try_get(0)?,
            url: row.try_get(1)?,
            events: row.try_get::<String, _>(2)?.replace(',', ", "),
            slack: row.try_get::<String, _>(3)? == "slack",
            include_bodies: row.try_get::<i64, _>(4)? == 1,
            disabled: row.try_get::<Option<Millis>, _>(5)?.is_some(),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let deliveries = sqlx::query(
        "SELECT d.event, d.event_id, e.url, d.state, d.attempts, d.last_error, \
         (SELECT a.status FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1), \
         d.created_at FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         ORDER BY d.id DESC LIMIT 50",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Delivery {
            event: row.try_get(0)?,
            event_id: row.try_get(1)?,
            endpoint: row.try_get(2)?,
            state: row.try_get(3)?,
            attempts: row.try_get(4)?,
            last_error: row.try_get(5)?,
            last_status: row.try_get(6)?,
            created_at: row.try_get(7)?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(WebhooksPage {
        page,
        endpoints,
        deliveries,
        events: events::EVENTS,
        form: EndpointForm {
            format: match form.format.is_empty() {
                true => "standard".to_owned(),
                false => form.format,
            },
            ..form
        },
        errors,
        created,
    })
}

async fn index(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    page: Page,
) -> Result<WebhooksPage, AppError> {
    page_of(
        &state,
        page,
        EndpointForm::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    page: Page,
    Form(form): Form<EndpointForm>,
) -> Result<Response, AppError> {
    let new = match form.parse() {
        Ok(new) => new,
        Err(errors) => return invalid(page_of(&state, page, form, errors, None).await?),
    };
    let secret = sign::new_secret();
    sqlx::query(
        "INSERT INTO webhook_endpoints (url, events, secret, format, include_bodies, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&new.url)
    .bind(&new.events)
    .bind(&secret)
    .bind(if new.slack { "slack" } else { "standard" })
    .bind(i64::from(new.include_bodies))
    .bind(admin.id)
    .bind(state.clock.now())
    .execute(state.db.writer())
    .await?;
    tracing::info!("webhook endpoint registered");
    let page = page_of(
        &state,
        page,
        EndpointForm::default(),
        FieldErrors::default(),
        Some(secret),
    )
    .await?;
    Ok((StatusCode::CREATED, page).into_response())
}

async fn disable(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
    )
    .bind(state.clock.now())
    .bind(id)
    .execute(state.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::NotFound);
    }
    flash(&session, "Disabled. No new event goes to that endpoint.").await?;
    Ok(Redirect::to("/admin/webhooks"))
}
