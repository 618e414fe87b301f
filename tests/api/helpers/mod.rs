//! Spawning the real application and talking to it like a browser.

mod actions;
pub mod dovecot;
pub mod oidc;

pub use actions::{JORDAN, PRIYA};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use accord::Application;
use accord::accounts::password::Password;
use accord::accounts::user::{self, EmailAddress, NewUser, PersonName};
use accord::clock::Clock;
use accord::config::{Cli, Config};
use accord::db::Db;
use clap::Parser;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use sqlx::Connection;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::smtp::SmtpSink;

pub const PASSWORD: &str = "correct horse battery";

/// Where a test's data lives: a temporary folder, and a fresh database in it or on PostgreSQL.
/// Shared by every instance a test starts; when the last one goes, [`DataGuard`] checks the
/// outbox and drops the PostgreSQL database.
#[derive(Clone)]
pub struct TestData {
    /// First, so that it drops (and checks the database) before the folder is deleted.
    guard: Arc<DataGuard>,
    pub dir: Arc<TempDir>,
    pub database_url: String,
}

impl TestData {
    pub async fn new() -> TestData {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, postgres_server) = match std::env::var("ACCORD_TEST_POSTGRES_URL") {
            Ok(server) => (fresh_postgres_database(&server).await, Some(server)),
            Err(_) => {
                let path = dir.path().join("accord.db");
                (format!("sqlite://{}?mode=rwc", path.display()), None)
            }
        };
        let guard = Arc::new(DataGuard {
            database_url: database_url.clone(),
            postgres_server,
            undelivered_expected: AtomicBool::new(false),
        });
        TestData {
            guard,
            dir: Arc::new(dir),
            database_url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// On PostgreSQL, the server's URL and this test's database name on it.
    pub fn postgres_database(&self) -> Option<(String, String)> {
        let server = std::env::var("ACCORD_TEST_POSTGRES_URL").ok()?;
        let url = url::Url::parse(&self.database_url).ok()?;
        self.is_postgres()
            .then(|| (server, url.path()[1..].to_owned()))
    }
}

/// The end of a test's data: a test that leaves mail undelivered (queued, sending or retrying)
/// fails, unless it said it means to; a PostgreSQL test database is dropped.
struct DataGuard {
    database_url: String,
    postgres_server: Option<String>,
    undelivered_expected: AtomicBool,
}

impl Drop for DataGuard {
    fn drop(&mut self) {
        let check = !std::thread::panicking() && !self.undelivered_expected.load(Ordering::SeqCst);
        let (url, server) = (self.database_url.clone(), self.postgres_server.clone());
        // The test's runtime is finishing; a thread with its own runtime does the async work.
        let undelivered = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let undelivered = match check {
                    true => undelivered_count(&url).await,
                    false => 0,
                };
                if let Some(server) = server {
                    drop_postgres_database(&server, &url).await;
                }
                undelivered
            })
        })
        .join()
        .expect("the end-of-test check ran");
        assert_eq!(
            undelivered, 0,
            "the test left mail undelivered: await app.outbox_settled(), or call app.expect_undelivered_mail() if that is the point"
        );
    }
}

async fn undelivered_count(database_url: &str) -> i64 {
    let db = Db::connect(database_url).await.unwrap();
    let count = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending', 'retrying')",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    db.close().await;
    count
}

async fn fresh_postgres_database(server: &str) -> String {
    let name = format!("accord_test_{}", &accord::secrets::random_token()[..16]);
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&name);
    url.to_string()
}

async fn drop_postgres_database(server: &str, database_url: &str) {
    let name = url::Url::parse(database_url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// Extra settings for one test's server.
#[derive(Clone, Default)]
pub struct Options {
    pub smtp_url: Option<String>,
    pub base_url: Option<String>,
    /// More command-line settings, e.g. `["--smtp-command-timeout-secs", "1"]`.
    pub args: Vec<String>,
    /// Start a real OpenID Provider and configure single sign-on with it (these domains get
    /// accounts at first sign-in).
    pub oidc_domains: Option<String>,
}

pub struct TestApp {
    pub address: String,
    pub clock: Clock,
    pub data: TestData,
    pub setup_link: Option<String>,
    pub smtp: SmtpSink,
    pub config: Config,
    pub state: accord::AppState,
    options: Options,
    /// The OpenID Provider single sign-on uses, when `Options::oidc_domains` asked for one
    /// (kept here so it runs as long as the server).
    _oidc: Option<std::sync::Arc<oidc::OidcProvider>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// A server on a fresh database that sends mail to a test SMTP listener.
    pub async fn spawn() -> TestApp {
        let smtp = SmtpSink::start().await;
        let options = Options {
            smtp_url: Some(smtp.url()),
            ..Options::default()
        };
        Self::start(TestData::new().await, options, smtp, Clock::manual(now())).await
    }

    /// A server with the local `.eml` transport (no SMTP configured) or other options.
    pub async fn spawn_with(options: Options) -> TestApp {
        let smtp = SmtpSink::start().await;
        Self::start(TestData::new().await, options, smtp, Clock::manual(now())).await
    }

    /// A server sending mail to `smtp` (its URL unless `options` names one), with `options`.
    pub async fn spawn_with_smtp(smtp: SmtpSink, options: Options) -> TestApp {
        let options = Options {
            smtp_url: options.smtp_url.clone().or_else(|| Some(smtp.url())),
            ..options
        };
        Self::start(TestData::new().await, options, smtp, Clock::manual(now())).await
    }

    async fn start(data: TestData, options: Options, smtp: SmtpSink, clock: Clock) -> TestApp {
        init_test_log();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let mut options = options;
        let oidc = match &options.oidc_domains {
            Some(domains) => {
                let callback = format!("{address}/sign-in/oidc/callback");
                let provider = oidc::OidcProvider::start(&callback).await;
                options.args.extend([
                    "--oidc-issuer".into(),
                    provider.issuer.clone(),
                    "--oidc-client-id".into(),
                    oidc::CLIENT_ID.into(),
                    "--oidc-client-secret".into(),
                    oidc::CLIENT_SECRET.into(),
                    "--oidc-allowed-domains".into(),
                    domains.clone(),
                    "--oidc-name".into(),
                    "Example SSO".into(),
                ]);
                // A restart or a second instance keeps these settings and this provider.
                options.oidc_domains = None;
                Some(std::sync::Arc::new(provider))
            }
            None => None,
        };
        let config = config_for(&data, &options, &address);
        let app = Application::build(config.clone(), clock.clone(), listener)
            .await
            .expect("the application builds");
        let setup_link = app.setup_link().map(str::to_owned);
        let state = app.state().clone();
        let (shutdown, stop) = oneshot::channel();
        let server = tokio::spawn(app.run(async {
            let _ = stop.await;
        }));
        TestApp {
            address,
            clock,
            data,
            setup_link,
            smtp,
            config,
            state,
            options,
            _oidc: oidc,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Stops the server (letting requests finish) and starts a new one on the same database.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let (data, options, smtp, clock) = (
            self.data.clone(),
            self.options.clone(),
            self.smtp.clone(),
            self.clock.clone(),
        );
        Self::start(data, options, smtp, clock).await
    }

    /// A second server on the same database (as behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        let (data, options, smtp, clock) = (
            self.data.clone(),
            self.options.clone(),
            self.smtp.clone(),
            self.clock.clone(),
        );
        Self::start(data, options, smtp, clock).await
    }

    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.address)
    }

    /// A second connection to the same database, for checking what a request changed.
    pub async fn db(&self) -> Db {
        Db::connect(&self.data.database_url).await.unwrap()
    }

    /// Creates a user with [`PASSWORD`] straight in the database.
    pub async fn create_user(&self, email: &str, name: &str, admin: bool) -> i64 {
        let db = self.db().await;
        let hash = Password::parse(PASSWORD.into(), PASSWORD)
            .unwrap()
            .hash()
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let new_user = NewUser {
            email: &EmailAddress::parse(email).unwrap(),
            name: &PersonName::parse(name).unwrap(),
            title: "",
            password_hash: Some(&hash),
            is_admin: admin,
        };
        let id = user::insert(&mut tx, new_user, self.clock.now())
            .await
            .unwrap()
            .expect("the email is new");
        tx.commit().await.unwrap();
        db.close().await;
        id
    }

    /// A signed-in client for a new user.
    pub async fn signed_in(&self, email: &str, name: &str, admin: bool) -> (Client, i64) {
        let id = self.create_user(email, name, admin).await;
        let client = self.client();
        let response = client.sign_in(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        (client, id)
    }

    /// Waits, without polling, until this instance's outbox has nothing due and nothing in
    /// flight: every queued message is delivered, failed, retrying later or unknown.
    pub async fn outbox_settled(&self) {
        let mut recorded = self.state.outbox.recorded();
        let db = self.db().await;
        let settled = async {
            loop {
                recorded.borrow_and_update();
                let pending: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM outbox WHERE state = 'sending' \
                     OR (state IN ('queued', 'retrying') AND next_attempt_at <= $1)",
                )
                .bind(self.clock.now())
                .fetch_one(db.reader())
                .await
                .unwrap();
                if pending == 0 {
                    return;
                }
                self.state.outbox.wake();
                // This instance's worker signals each batch it records; another instance on the
                // same database does not, so look again after a while in any case.
                let _ = tokio::time::timeout(Duration::from_millis(500), recorded.changed()).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), settled)
            .await
            .expect("the outbox settles within 20 s");
        db.close().await;
    }

    /// This test leaves mail undelivered on purpose (a mail server that is down, a retry due
    /// later), so the end-of-test check does not fail it.
    pub fn expect_undelivered_mail(&self) {
        self.data
            .guard
            .undelivered_expected
            .store(true, Ordering::SeqCst);
    }

    pub async fn user_count(&self) -> i64 {
        let db = self.db().await;
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(db.reader())
            .await
            .unwrap();
        db.close().await;
        count
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// `TEST_LOG=1 cargo test …` shows the server's logs (at `ACCORD_LOG`'s level, default debug).
fn init_test_log() {
    static INIT: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("TEST_LOG").is_some() {
        INIT.call_once(|| {
            let filter = std::env::var("ACCORD_LOG").unwrap_or_else(|_| "accord=debug,info".into());
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        });
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn config_for(data: &TestData, options: &Options, address: &str) -> Config {
    let mut args = vec![
        "accord".to_owned(),
        "--data-dir".into(),
        data.dir.path().display().to_string(),
        "--database-url".into(),
        data.database_url.clone(),
        "--bind".into(),
        address.trim_start_matches("http://").to_owned(),
        "--base-url".into(),
        options
            .base_url
            .clone()
            .unwrap_or_else(|| address.to_owned()),
        // Short enough that a silent mail server makes delivery unknown within a test.
        "--smtp-timeout-secs".into(),
        "2".into(),
    ];
    if let Some(smtp) = &options.smtp_url {
        args.extend(["--smtp-url".into(), smtp.clone()]);
    }
    args.extend(options.args.iter().cloned());
    Cli::try_parse_from(args)
        .unwrap()
        .settings
        .validate()
        .unwrap()
}

/// A browser-like client: keeps cookies, does not follow redirects, sends the CSRF token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    fn new(base: &str) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            base: base.to_owned(),
        }
    }

    /// The same person (same cookies, same session) talking to another instance.
    pub fn through(&self, instance: &TestApp) -> Client {
        Client {
            http: self.http.clone(),
            base: instance.address.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// GETs a page and returns its status and body.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// The CSRF token of this client's session, as a page would carry it.
    pub async fn csrf_token(&self) -> String {
        let mut response = self.get("/sign-in").await;
        if response.status().is_redirection() {
            let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
            response = self.get(&location).await;
        }
        csrf_in(&response.text().await.unwrap())
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.http
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/sign-in", &[("email", email), ("password", password)])
            .await
    }

    /// Whether this client's session belongs to a signed-in user.
    pub async fn is_signed_in(&self) -> bool {
        self.get("/").await.status() == StatusCode::OK
    }
}

/// The CSRF token in a page (the layout puts it in `hx-headers`).
pub fn csrf_in(html: &str) -> String {
    let marker = "\"X-CSRF-Token\": \"";
    let start = html.find(marker).expect("the page carries a CSRF token") + marker.len();
    html[start..start + 64].to_owned()
}

pub fn location(response: &reqwest::Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

/// Ends every server process connected to the PostgreSQL database `name` (what a database
/// restart or a failover does to an instance's connections).
pub async fn cut_connections(admin: &mut sqlx::PgConnection, name: &str) {
    let cut: Vec<(i32, bool)> = sqlx::query_as(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(name)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    let cut: Vec<i32> = cut.into_iter().map(|(pid, _)| pid).collect();
    // Terminating is asynchronous: wait until those processes are gone (the instance may well
    // have opened new ones meanwhile).
    for _ in 0..250 {
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY($1)")
                .bind(&cut)
                .fetch_one(&mut *admin)
                .await
                .unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the connections to {name} did not end");
}

/// Renames a PostgreSQL database, first ending every connection to it (as a server restart
/// would). Retries while the application's pool races to reconnect.
pub async fn rename_database(server: &str, from: &str, to: &str) {
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    for _ in 0..100 {
        cut_connections(&mut admin, from).await;
        let renamed = sqlx::query(&format!("ALTER DATABASE {from} RENAME TO {to}"))
            .execute(&mut admin)
            .await;
        if renamed.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("could not rename database {from}");
}

/// The demo story's people, each signed in: two PMs, two partners, a director and an outsider.
pub struct Team {
    pub dana: (Client, i64),
    pub sam: (Client, i64),
    pub lee: (Client, i64),
    pub ravi: (Client, i64),
    pub elena: (Client, i64),
    pub outsider: (Client, i64),
}

impl TestApp {
    pub async fn team(&self) -> Team {
        Team {
            dana: self
                .signed_in("dana@example.com", "Dana Whitfield", false)
                .await,
            sam: self.signed_in("sam@example.com", "Sam Okafor", false).await,
            lee: self.signed_in("lee@example.com", "Lee Park", false).await,
            ravi: self
                .signed_in("ravi@example.com", "Ravi Menon", false)
                .await,
            elena: self
                .signed_in("elena@example.com", "Elena Vasquez", false)
                .await,
            outsider: self
                .signed_in("olga@example.com", "Olga Outsider", false)
                .await,
        }
    }
}

/// The id of the room an escalation form opened (the form's page when it did not).
async fn opened(response: reqwest::Response) -> i64 {
    if response.status() != StatusCode::SEE_OTHER {
        panic!("the room did not open: {}", response.text().await.unwrap());
    }
    room_id_from(&response)
}

/// The id at the end of a redirect to `/rooms/{id}…`.
pub fn room_id_from(response: &reqwest::Response) -> i64 {
    let location = location(response);
    let rest = location
        .strip_prefix("/rooms/")
        .expect("a redirect to a room");
    rest.split(['/', '#', '?']).next().unwrap().parse().unwrap()
}

impl Team {
    /// Lee (a partner) opens the Northwind room: Dana leads, Sam communicates, Ravi partners,
    /// Elena reads. Returns the room id.
    pub async fn open_northwind(&self) -> i64 {
        let (pms, partners, leadership) = (
            self.dana.1.to_string(),
            self.ravi.1.to_string(),
            self.elena.1.to_string(),
        );
        let (sam, dana) = (self.sam.1.to_string(), self.dana.1.to_string());
        let fields = [
            ("customer", "new"),
            ("new_customer_name", "Northwind Logistics"),
            ("new_customer_domain", "northwind.example"),
            ("title", "Capacity monitoring does not say when to order"),
            ("problem", "Jordan cannot tell when to order hardware."),
            ("severity", "S2"),
            ("escalated_by", "new"),
            ("new_contact_name", "Jordan Reyes"),
            ("new_contact_email", "jordan@northwind.example"),
            ("new_contact_title", "IT director"),
            ("escalated_at", "2026-11-20T09:00"),
            ("my_kind", "partner"),
            ("pms", pms.as_str()),
            ("pms", sam.as_str()),
            ("partners", partners.as_str()),
            ("leadership", leadership.as_str()),
            ("lead", dana.as_str()),
            ("communicator", sam.as_str()),
        ];
        opened(self.lee.0.post_form("/rooms/new", &fields).await).await
    }
}

impl Team {
    /// Dana (a PM) opens another room for an existing customer; she leads, Sam communicates.
    pub async fn open_another_for(&self, customer: i64) -> i64 {
        let customer = customer.to_string();
        let (sam, ravi, elena) = (
            self.sam.1.to_string(),
            self.ravi.1.to_string(),
            self.elena.1.to_string(),
        );
        let fields = [
            ("customer", customer.as_str()),
            ("title", "Another escalation"),
            ("problem", "Something else went wrong."),
            ("severity", "S3"),
            ("my_kind", "pm"),
            ("pms", sam.as_str()),
            ("partners", ravi.as_str()),
            ("leadership", elena.as_str()),
            ("communicator", sam.as_str()),
        ];
        opened(self.dana.0.post_form("/rooms/new", &fields).await).await
    }
}

/// The room version a page (or live fragment) polls with.
/// The URL a page (or a live check's answer) polls next, as the browser reads its `hx-get`.
pub fn room_poll_in(html: &str) -> String {
    let start = html
        .find("<div id=\"room-poll\" hx-get=\"")
        .expect("the room page polls for changes")
        + "<div id=\"room-poll\" hx-get=\"".len();
    let url = &html[start..];
    url[..url.find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

pub fn version_in(html: &str) -> i64 {
    let start = html
        .find("live?version=")
        .expect("the page polls for changes")
        + "live?version=".len();
    html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A count from the test's database (`SELECT COUNT(*) …`).
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.db().await;
    let n = sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    n
}

impl TestApp {
    /// The id of the customer contact with this email address.
    pub async fn contact_id(&self, email: &str) -> i64 {
        count(
            self,
            &format!("SELECT id FROM contacts WHERE email = '{email}'"),
        )
        .await
    }
}

/// A TCP port nobody listens on right now (for a server a test starts as another process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it returns true (at most 10 s): only for what another process does (the
/// real binary in the crash tests), which a test cannot await. In-process mail is awaited with
/// [`TestApp::outbox_settled`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A PostgreSQL server of one test's own (Debian's binaries, as CI installs them), for what a
/// shared server cannot suffer: a restart. Stopped and removed on drop.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (apt-get install postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .max()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivatePostgres { dir, bin, port };
        std::process::Command::new("chown")
            .args(["postgres"])
            .arg(server.dir.path())
            .status()
            .unwrap();
        let data = server.dir.path().join("data").display().to_string();
        server.as_postgres(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        server.pg_ctl("start");
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A fast restart: every connection is cut, as when the server is restarted for an upgrade.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.path().join("data").display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.as_postgres(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-m", "fast", "-w", "-o", &options, action,
            ],
        );
    }

    fn as_postgres(&self, program: &str, args: &[&str]) {
        let status = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{program} {args:?}");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
