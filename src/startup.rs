//! Building and running the server: state, routes, the middleware stack, graceful shutdown.
//!
//! [`Application::build`] takes a bound listener so tests run the real server on port 0;
//! [`Application::run`] serves until the shutdown future completes, letting in-flight requests
//! finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use crate::accounts::{self, throttle, token};
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::db::{self, Backend, Db};
use crate::error::AppError;
use crate::mail::{self, Mailer};
use crate::outbox::{self, Wakeup};
use crate::questions::reindex;
use crate::rooms::content::ContentCache;
use crate::web::session_store::DbSessionStore;
use crate::web::{assets, csrf, errors, headers, health};

/// Request bodies larger than this are refused with a 413 page.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Everything a handler may need, behind one `Arc`: axum clones the state for each extractor
/// and middleware of every request, and one reference count is cheaper to move than a dozen
/// (cloning and dropping the fields one by one was 1.8% of a room view).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Services {
    pub db: Db,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    pub clock: Clock,
    /// Wakes this instance's outbox worker after a message is queued.
    pub outbox: Wakeup,
    /// Room page content by room version, shared by everyone viewing a room.
    pub room_content: ContentCache,
    /// Pre-read pages, shared per room version like the room content.
    pub pre_reads: crate::updates::pre_read::PreReadCache,
    /// Each person's *Needs you* list, by their stamp and the minute.
    pub needs: crate::needs::NeedsCache,
    /// Each viewer's own rooms on the dashboard, by their *Needs you* stamp and the minute.
    pub own_rooms: crate::rooms::dashboard::OwnRoomsCache,
    /// Each customer's contact activity, by its stamp and the minute.
    pub contact_activity: crate::contact_log::model::ActivityCache,
    /// Each reader's `/insights`, until the record changes.
    pub insights: crate::measures::cache::InsightsCache,
    /// The OpenID Provider, discovered at start, when single sign-on is configured.
    pub oidc: Option<Arc<crate::accounts::oidc::Provider>>,
}

impl AppState {
    pub fn new(db: Db, config: Config, mailer: Mailer, clock: Clock) -> AppState {
        AppState::with_provider(db, config, mailer, clock, None)
    }

    /// The state of an instance that signs people in through `oidc` when there is one.
    pub fn with_provider(
        db: Db,
        config: Config,
        mailer: Mailer,
        clock: Clock,
        oidc: Option<Arc<crate::accounts::oidc::Provider>>,
    ) -> AppState {
        AppState(Arc::new(Services {
            db,
            config: Arc::new(config),
            mailer,
            clock,
            outbox: Wakeup::default(),
            room_content: ContentCache::default(),
            pre_reads: Default::default(),
            needs: crate::needs::NeedsCache::default(),
            contact_activity: Default::default(),
            own_rooms: crate::stamped::StampedCache::new(crate::rooms::dashboard::CACHED_VIEWERS),
            insights: crate::measures::cache::InsightsCache::default(),
            oidc,
        }))
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    setup_link: Option<String>,
}

/// Opens the configured database, creating the data folder for SQLite. Failures name the setting.
pub async fn open_database(config: &Config) -> Result<Db, ConfigError> {
    let variable = match config.explicit_database_url {
        true => "ACCORD_DATABASE_URL",
        false => "ACCORD_DATA_DIR",
    };
    if config.database_url.backend() == Backend::Sqlite {
        check_data_dir(&config.data_dir)?;
        if let Some(file) = config.database_url.sqlite_file() {
            check_sqlite_file(variable, &file)?;
        }
    }
    Db::connect(config.database_url.as_str())
        .await
        .map_err(|e| ConfigError {
            variable,
            message: format!("cannot open the database: {}", db::reason(&e)),
        })
}

/// The data directory exists (or is created) and Accord can write in it: one clear line
/// otherwise, before any database error could blame something else.
fn check_data_dir(dir: &std::path::Path) -> Result<(), ConfigError> {
    let problem = |message: String| ConfigError {
        variable: "ACCORD_DATA_DIR",
        message,
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| problem(format!("cannot create {} ({e})", dir.display())))?;
    let probe = dir.join(".accord-write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| problem(format!("{} is not writable ({e})", dir.display())))
}

/// An existing SQLite file must be writable (a copy restored read-only fails here, clearly).
fn check_sqlite_file(variable: &'static str, file: &std::path::Path) -> Result<(), ConfigError> {
    match std::fs::OpenOptions::new().write(true).open(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ConfigError {
            variable,
            message: format!("the database file {} is not writable ({e})", file.display()),
        }),
        _ => Ok(()),
    }
}

impl Application {
    pub async fn build(
        config: Config,
        clock: Clock,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        // The provider first: a wrong issuer is one line, before anything else happens.
        let oidc = crate::accounts::oidc::discover(&config).await?;
        let db = open_database(&config).await?;
        let mailer = Mailer::from_config(&config)?;
        let setup_link = token::setup_link_if_no_users(&db, &config, &clock).await?;
        if let Some(rebuilt) = reindex::reindex_if_changed(&db, clock.now()).await? {
            tracing::info!(
                questions = rebuilt,
                "rebuilt question terms for the current similarity rules"
            );
        }
        let state = AppState::with_provider(db, config, mailer, clock, oidc);
        Ok(Application {
            listener,
            state,
            setup_link,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The one-time link that creates the first admin, when the database has no user yet.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener, state, ..
        } = self;
        let housekeeping = tokio::spawn(housekeeping(state.clone()));
        if state.db.backend() == Backend::Sqlite {
            // One process owns a SQLite file: whatever it left in `sending` was interrupted.
            if let Err(error) = outbox::effects::recover_interrupted(&state).await {
                tracing::error!(error = %error, "outbox: could not recover interrupted deliveries");
            }
        }
        let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(outbox::worker::run(
            state.clone(),
            state.outbox.clone(),
            worker_stop,
        ));
        let imap = tokio::spawn(crate::inbound::imap::run(
            state.clone(),
            stop_worker.subscribe(),
        ));
        let nudges = tokio::spawn(crate::approvals::nudge::run(
            state.clone(),
            stop_worker.subscribe(),
        ));
        let agendas = tokio::spawn(crate::syncs::reminder::run(
            state.clone(),
            stop_worker.subscribe(),
        ));
        let digests = tokio::spawn(crate::measures::digest::run(
            state.clone(),
            stop_worker.subscribe(),
        ));
        let webhooks = tokio::spawn(crate::webhooks::deliver::run(
            state.clone(),
            stop_worker.subscribe(),
        ));
        let app = router(state.clone());
        // Without TCP_NODELAY small responses wait on Nagle's algorithm (measured: 20x slower).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        housekeeping.abort();
        // Let deliveries in flight finish (bounded by the SMTP timeout) so none is left ambiguous.
        let _ = stop_worker.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), imap).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), nudges).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), agendas).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), digests).await;
        let _ = tokio::time::timeout(crate::webhooks::deliver::TIMEOUT, webhooks).await;
        let _ = tokio::time::timeout(
            state.config.smtp_timeouts.reply + Duration::from_secs(5),
            worker,
        )
        .await;
        state.db.close().await;
        served
    }
}

/// Every route with the middleware stack; the last layer added is the outermost.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("accord_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            state.config.session_idle.as_secs() as i64,
        )));
    Router::new()
        .merge(bench_ceiling(&state.config))
        .merge(crate::rooms::router())
        .merge(crate::customers::router())
        .merge(crate::inbound::router())
        .merge(crate::escalations::router())
        .merge(crate::measures::insights::router())
        .merge(crate::approvals::away::router())
        .merge(crate::approvals::link::router())
        .merge(accounts::router())
        .merge(crate::api::tokens_page::router())
        .merge(crate::webhooks::router())
        .merge(mail::router())
        .merge(outbox::resolution::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn(csrf::verify_token))
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(errors::panic_page))
        .layer(middleware::from_fn(errors::render_error_pages))
        // The mail door answers JSON to a mail provider, outside sessions, CSRF and the form
        // body limit (it has its own).
        .merge(crate::inbound::http::router().layer(CatchPanicLayer::custom(errors::panic_page)))
        // The JSON API: bearer tokens only, no cookie or CSRF, problem details for every error.
        .merge(crate::api::router().layer(CatchPanicLayer::custom(errors::panic_page)))
        .layer(middleware::from_fn(headers::security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The benchmark's ceiling: with `--bench-ceiling-bytes N` (a hidden flag), `GET /bench/ceiling`
/// answers a fixed page of N bytes through the same middleware, so `accord-bench` can compare a
/// real page with the cheapest possible response of the same size. Absent otherwise.
fn bench_ceiling(config: &Config) -> Router<AppState> {
    let Some(bytes) = config.hooks.bench_ceiling_bytes else {
        return Router::new();
    };
    let body: &'static str = Box::leak("x".repeat(bytes).into_boxed_str());
    Router::new().route(
        "/bench/ceiling",
        axum::routing::get(move || async move { axum::response::Html(body) }),
    )
}

/// The span of one request: method and route template only. The raw path could hold a token.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}

/// Deletes expired sessions, stale sign-in counts and long-expired alignment links every ten
/// minutes.
async fn housekeeping(state: AppState) {
    let store = DbSessionStore::new(state.db.clone());
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let swept = store.delete_expired().await;
        let stale = throttle::delete_stale(&state.db, state.clock.now()).await;
        let links = crate::approvals::link::delete_expired(&state.db, state.clock.now()).await;
        if let Err(error) = swept.map(drop).and(stale).and(links) {
            tracing::warn!(error = %error, "housekeeping failed; will retry");
        }
    }
}
