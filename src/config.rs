//! Configuration: flags and `ACCORD_*` variables parsed once into a validated [`Config`].
//!
//! A bad value becomes a [`ConfigError`] naming the variable; `main` prints it on one line and
//! exits with code 2. Secrets (the SMTP password) never appear in `Debug` output.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use lettre::message::Mailbox;
use url::Url;

use crate::accounts::oidc_config::{self, OidcConfig};
use crate::db::Backend;
use crate::inbound::config::{self as inbound, InboundConfig};
use crate::web::time::Zone;

/// Accord coordinates customer escalations so the customer hears one voice.
#[derive(Parser, Debug)]
#[command(name = "accord", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Serve the web application (the default when no command is given).
    Serve,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Load the demo story (Northwind Logistics) and print the demo accounts' credentials.
    Demo,
    /// File one email from standard input (for a mail server's pipe, e.g. Postfix): exit 0 filed,
    /// 65 not a mail message or too large, 75 try again later.
    Inbound,
    /// Rebuild every question's similarity terms (Accord also does this at start whenever the
    /// similarity rules changed).
    Reindex,
}

#[derive(Subcommand, Debug, Clone)]
pub enum UserCommand {
    /// Create a user and print a one-time link to set their password.
    Add {
        /// The user's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// The user's display name.
        #[arg(long)]
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
}

/// Every setting, as given on the command line or in the environment (not yet validated).
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Folder for Accord's data: the SQLite database and locally written mail.
    #[arg(
        long,
        env = "ACCORD_DATA_DIR",
        default_value = "accord-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite in the data dir]
    #[arg(
        long,
        env = "ACCORD_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "ACCORD_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Public URL of this Accord, used in links in emails [default: http://BIND]
    #[arg(long, env = "ACCORD_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// SMTP server: smtp://[USER:PASSWORD@]HOST[:PORT][?tls=required] or smtps://… [default: write .eml files to DATA_DIR/mail]
    #[arg(long, env = "ACCORD_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender address of every email Accord sends.
    #[arg(
        long,
        env = "ACCORD_MAIL_FROM",
        default_value = "Accord <accord@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Minutes of inactivity after which a session ends.
    #[arg(
        long,
        env = "ACCORD_SESSION_IDLE_MINUTES",
        default_value = "720",
        global = true
    )]
    pub session_idle_minutes: String,

    /// Hours after sign-in after which a session ends regardless of activity.
    #[arg(
        long,
        env = "ACCORD_SESSION_MAX_HOURS",
        default_value = "168",
        global = true
    )]
    pub session_max_hours: String,

    /// Seconds to wait for the mail server's reply after the whole message was handed over;
    /// after that its delivery is unknown.
    #[arg(
        long,
        env = "ACCORD_SMTP_TIMEOUT_SECS",
        default_value = "30",
        global = true
    )]
    pub smtp_timeout_secs: String,

    /// Seconds to wait for a connection to the mail server.
    #[arg(
        long,
        env = "ACCORD_SMTP_CONNECT_TIMEOUT_SECS",
        default_value = "10",
        global = true
    )]
    pub smtp_connect_timeout_secs: String,

    /// Seconds to wait for the reply to each SMTP command, and for the server to take the
    /// message data (a message not yet handed over is retried).
    #[arg(
        long,
        env = "ACCORD_SMTP_COMMAND_TIMEOUT_SECS",
        default_value = "30",
        global = true
    )]
    pub smtp_command_timeout_secs: String,

    /// PEM file of a private certificate authority whose mail server certificates Accord trusts
    /// (besides the public ones), for a company's internal relay.
    #[arg(long, env = "ACCORD_SMTP_CA_FILE", global = true)]
    pub smtp_ca_file: Option<PathBuf>,

    /// Touches of one customer contact in 7 days above which Accord warns.
    #[arg(
        long,
        env = "ACCORD_CONTACT_TOUCH_LIMIT",
        default_value = "3",
        global = true
    )]
    pub contact_touch_limit: String,

    /// IANA time zone for people who have not chosen theirs, e.g. Europe/Berlin.
    #[arg(
        long,
        env = "ACCORD_DEFAULT_TIME_ZONE",
        default_value = "UTC",
        global = true
    )]
    pub default_time_zone: String,

    /// Hours a revision may wait for a PM before they are reminded (S1 rooms: 1); after twice
    /// that, the room's lead is told who is holding it.
    #[arg(
        long,
        env = "ACCORD_NUDGE_AFTER_HOURS",
        default_value = "4",
        global = true
    )]
    pub nudge_after_hours: String,

    /// Hours within which a second call or meeting with the same contact is a collision: it is
    /// not cleared, and joining the first is offered instead.
    #[arg(
        long,
        env = "ACCORD_ENGAGEMENT_WINDOW_HOURS",
        default_value = "48",
        global = true
    )]
    pub engagement_window_hours: String,

    /// Hours the one-time "align" link in an alignment email stays valid.
    #[arg(
        long,
        env = "ACCORD_ALIGN_LINK_HOURS",
        default_value = "72",
        global = true
    )]
    pub align_link_hours: String,

    /// Address customers reply to, e.g. escalations@example.com: each room's emails then carry
    /// Reply-To escalations+TOKEN@example.com, and replies come back into the room.
    #[arg(long, env = "ACCORD_INBOUND_ADDRESS", global = true)]
    pub inbound_address: Option<String>,

    /// Shared secret of POST /inbound/messages (Authorization: Bearer SECRET); unset, it is off.
    #[arg(
        long,
        env = "ACCORD_INBOUND_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub inbound_secret: Option<String>,

    /// Largest inbound message accepted, in bytes.
    #[arg(
        long,
        env = "ACCORD_INBOUND_MAX_BYTES",
        default_value = "26214400",
        global = true
    )]
    pub inbound_max_bytes: String,

    /// Single sign-on: the OpenID Provider's issuer URL (discovered at start).
    #[arg(long, env = "ACCORD_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Single sign-on: Accord's client id at the provider.
    #[arg(long, env = "ACCORD_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// Single sign-on: Accord's client secret at the provider.
    #[arg(
        long,
        env = "ACCORD_OIDC_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,

    /// Single sign-on: the ID token claim holding the email.
    #[arg(
        long,
        env = "ACCORD_OIDC_EMAIL_CLAIM",
        default_value = "email",
        global = true
    )]
    pub oidc_email_claim: String,

    /// Single sign-on: email domains (comma-separated) whose people get an account at their
    /// first sign-in; anyone else must have been invited.
    #[arg(long, env = "ACCORD_OIDC_ALLOWED_DOMAINS", global = true)]
    pub oidc_allowed_domains: Option<String>,

    /// Single sign-on: the provider's name on the sign-in button (default: the issuer's host).
    #[arg(long, env = "ACCORD_OIDC_NAME", global = true)]
    pub oidc_name: Option<String>,

    /// Whether people may sign in with a password (false: single sign-on only).
    #[arg(
        long,
        env = "ACCORD_PASSWORD_SIGN_IN",
        default_value = "true",
        global = true
    )]
    pub password_sign_in: String,

    /// Mailbox to watch for replies: imaps://USER:PASSWORD@HOST[:PORT]/MAILBOX or imap://… (STARTTLS)
    #[arg(long, env = "ACCORD_IMAP_URL", global = true, hide_env_values = true)]
    pub imap_url: Option<String>,

    /// PEM file of a private certificate authority the IMAP server's certificate is signed by.
    #[arg(long, env = "ACCORD_IMAP_CA_FILE", global = true)]
    pub imap_ca_file: Option<PathBuf>,

    /// Log filter (tracing's EnvFilter syntax), e.g. info or accord=debug.
    #[arg(long, env = "ACCORD_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Test hook, hidden from `--help` and read from no environment variable: the outbox worker
    /// stops for good at this step, so a crash test can kill the process exactly there.
    #[arg(long, hide = true, global = true, value_enum)]
    pub fault_pause_outbox_at: Option<OutboxStep>,

    /// Test hook, hidden from `--help` and read from no environment variable: how often (in
    /// milliseconds) the outbox worker looks for due messages without being woken, so a test can
    /// tell a wake-up by LISTEN/NOTIFY from a poll.
    #[arg(long, hide = true, global = true)]
    pub outbox_poll_ms: Option<u64>,

    /// Benchmark hook, hidden from `--help` and read from no environment variable: serve
    /// `GET /bench/ceiling`, a fixed page of this many bytes, through the same middleware.
    #[arg(long, hide = true, global = true)]
    pub bench_ceiling_bytes: Option<usize>,

    /// Test hook, hidden from `--help` and read from no environment variable: how often (in
    /// milliseconds) the reminder sweep runs (a minute otherwise).
    #[arg(long, hide = true, global = true)]
    pub nudge_poll_ms: Option<u64>,
}

/// A step of the outbox worker where the crash tests stop it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum OutboxStep {
    /// Before the worker claims anything.
    BeforeClaim,
    /// A message is claimed (leased) but not yet marked as being handed over.
    Claimed,
    /// The handing-over mark is durable; the message data is not yet sent.
    HandedOver,
    /// The mail server replied, but the outcome is not yet recorded.
    Replied,
}

/// Hooks that only tests and the benchmark set, through hidden flags (never the environment).
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    pub outbox_pause: Option<OutboxStep>,
    pub outbox_poll: Option<Duration>,
    pub bench_ceiling_bytes: Option<usize>,
    pub nudge_poll: Option<Duration>,
}

/// A setting that could not be used: which variable, and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// The validated configuration every part of Accord reads.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// Whether `ACCORD_DATABASE_URL` was given (otherwise the database is in the data dir).
    pub explicit_database_url: bool,
    pub bind: SocketAddr,
    pub base_url: Url,
    pub smtp: Option<SmtpServer>,
    pub mail_from: Mailbox,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub contact_touch_limit: i64,
    pub smtp_timeouts: SmtpTimeouts,
    /// The zone of people who have not chosen theirs.
    pub default_zone: Zone,
    /// Replies coming back: reply addresses, the HTTP door, the IMAP mailbox.
    pub inbound: InboundConfig,
    /// Single sign-on with an OpenID Provider, when configured.
    pub oidc: Option<OidcConfig>,
    /// Whether the password form is offered (and accepted).
    pub password_sign_in: bool,
    /// How long a revision waits for a PM before a reminder (S1 rooms wait an hour).
    pub nudge_after: Duration,
    /// How long an alignment email's one-time link stays valid.
    pub align_link_valid: Duration,
    /// How close two engagements with the same contact may be before the second is refused.
    pub engagement_window: Duration,
    pub hooks: Hooks,
}

impl Config {
    /// Whether cookies must carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link to `path` on this Accord (`path` starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }

    /// Where the local mail transport writes `.eml` files.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

/// A database URL whose scheme Accord supports. Its `Debug` hides any password.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, ConfigError> {
        let variable = "ACCORD_DATABASE_URL";
        let backend = Backend::from_url(url).ok_or_else(|| {
            invalid(
                variable,
                "expected a URL starting with sqlite:// or postgres://",
            )
        })?;
        let url = match backend {
            Backend::Postgres => {
                Url::parse(url).map_err(|e| invalid(variable, format!("not a valid URL ({e})")))?;
                url.to_owned()
            }
            // Create the SQLite file on first start unless the URL says otherwise.
            Backend::Sqlite if url.contains("mode=") => url.to_owned(),
            Backend::Sqlite if url.contains('?') => format!("{url}&mode=rwc"),
            Backend::Sqlite => format!("{url}?mode=rwc"),
        };
        Ok(DatabaseUrl { url, backend })
    }

    /// The SQLite database in `data_dir`, created on first start.
    pub fn default_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl {
            url: format!("sqlite://{}?mode=rwc", data_dir.join("accord.db").display()),
            backend: Backend::Sqlite,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The SQLite file this URL opens (`None` for PostgreSQL or an in-memory database).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let in_memory = path.is_empty()
            || path == ":memory:"
            || query.split('&').any(|pair| pair == "mode=memory");
        (!in_memory).then(|| PathBuf::from(path))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.url) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("REDACTED"));
                write!(f, "{url}")
            }
            _ => write!(f, "{}", self.url),
        }
    }
}

/// The SMTP server from `ACCORD_SMTP_URL` (and `ACCORD_SMTP_CA_FILE`). Its `Debug` hides the
/// password.
#[derive(Clone)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password for SMTP AUTH, only ever sent over an encrypted connection.
    pub credentials: Option<(String, String)>,
    /// PEM certificates of a private certificate authority to trust besides the public ones.
    pub ca_pem: Option<Vec<u8>>,
}

/// How the connection to the mail server is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: plain text.
    Plain,
    /// `smtp://…?tls=required` (must upgrade) or `?tls=opportunistic` (upgrades when offered).
    StartTls { required: bool },
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

/// How long each phase of an SMTP exchange may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmtpTimeouts {
    /// Opening the TCP connection.
    pub connect: Duration,
    /// The reply to each command, and writing the message data.
    pub command: Duration,
    /// The reply to the end of the message data; after it runs out, delivery is unknown.
    pub reply: Duration,
}

impl SmtpServer {
    pub fn parse(raw: &str) -> Result<SmtpServer, ConfigError> {
        let variable = "ACCORD_SMTP_URL";
        let url =
            Url::parse(raw).map_err(|e| invalid(variable, format!("not a valid URL ({e})")))?;
        let expected =
            "expected smtp://[USER:PASSWORD@]HOST[:PORT][?tls=required|opportunistic] or smtps://…";
        let mut security = match url.scheme() {
            "smtp" => Security::Plain,
            "smtps" => Security::Implicit,
            _ => return Err(invalid(variable, expected)),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid(variable, "the URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        for (key, value) in url.query_pairs() {
            security = match (key.as_ref(), value.as_ref(), security) {
                ("tls", "required", Security::Plain) => Security::StartTls { required: true },
                ("tls", "opportunistic", Security::Plain) => Security::StartTls { required: false },
                ("tls", "none", Security::Plain) => Security::Plain,
                ("tls", _, Security::Implicit) => {
                    return Err(invalid(
                        variable,
                        "smtps:// is always encrypted; ?tls= only applies to smtp://",
                    ));
                }
                _ => {
                    return Err(invalid(
                        variable,
                        format!("unknown option {key}={value}; {expected}"),
                    ));
                }
            };
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) => Some((decode(user), decode(password))),
            (_, None) => {
                return Err(invalid(
                    variable,
                    "a user name needs a password (USER:PASSWORD@HOST)",
                ));
            }
        };
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            _ => 25,
        });
        Ok(SmtpServer {
            host,
            port,
            security,
            credentials,
            ca_pem: None,
        })
    }

    /// Host and port, for messages (no credentials).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("address", &self.address())
            .field("security", &self.security)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(user, _)| (user, "REDACTED")),
            )
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .finish()
    }
}

/// Reads the private CA file `variable` names, if one is named.
pub fn read_ca_file(
    variable: &'static str,
    path: Option<&Path>,
) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(None);
    };
    let pem = std::fs::read(path)
        .map_err(|e| invalid(variable, format!("cannot read {} ({e})", path.display())))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid(
            variable,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    Ok(Some(pem))
}

impl Settings {
    /// Checks every value, returning the first problem found.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("ACCORD_DATA_DIR", "must not be empty"));
        }
        let database_url = match self.database_url.as_deref().map(str::trim) {
            None | Some("") => DatabaseUrl::default_in(&self.data_dir),
            Some(url) => DatabaseUrl::parse(url)?,
        };
        let bind: SocketAddr = self.bind.trim().parse().map_err(|_| {
            invalid(
                "ACCORD_BIND",
                format!("{:?} is not an address like 127.0.0.1:8080", self.bind),
            )
        })?;
        let base_url = parse_base_url(self.base_url.as_deref(), bind)?;
        let ca_pem = read_ca_file("ACCORD_SMTP_CA_FILE", self.smtp_ca_file.as_deref())?;
        let smtp = match self.smtp_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(SmtpServer {
                ca_pem,
                ..SmtpServer::parse(raw)?
            }),
        };
        let mail_from: Mailbox = self.mail_from.parse().map_err(|e| {
            invalid(
                "ACCORD_MAIL_FROM",
                format!("not an address like \"Accord <accord@example.com>\" ({e})"),
            )
        })?;
        let session_idle = positive(
            "ACCORD_SESSION_IDLE_MINUTES",
            &self.session_idle_minutes,
            60,
        )?;
        let session_max = positive("ACCORD_SESSION_MAX_HOURS", &self.session_max_hours, 3600)?;
        let contact_touch_limit =
            positive("ACCORD_CONTACT_TOUCH_LIMIT", &self.contact_touch_limit, 1)?.as_secs() as i64;
        let smtp_timeouts = SmtpTimeouts {
            connect: positive(
                "ACCORD_SMTP_CONNECT_TIMEOUT_SECS",
                &self.smtp_connect_timeout_secs,
                1,
            )?,
            command: positive(
                "ACCORD_SMTP_COMMAND_TIMEOUT_SECS",
                &self.smtp_command_timeout_secs,
                1,
            )?,
            reply: positive("ACCORD_SMTP_TIMEOUT_SECS", &self.smtp_timeout_secs, 1)?,
        };
        let default_zone = Zone::parse(&self.default_time_zone).ok_or_else(|| {
            invalid(
                "ACCORD_DEFAULT_TIME_ZONE",
                format!(
                    "{:?} is not an IANA time zone like Europe/Berlin or America/Chicago",
                    self.default_time_zone
                ),
            )
        })?;
        let inbound = InboundConfig::validate(&inbound::Raw {
            address: self.inbound_address.as_deref(),
            secret: self.inbound_secret.as_deref(),
            max_bytes: &self.inbound_max_bytes,
            imap_url: self.imap_url.as_deref(),
            imap_ca_file: self.imap_ca_file.as_deref(),
        })?;
        let (oidc, password_sign_in) = oidc_config::validate(&oidc_config::Raw {
            issuer: self.oidc_issuer.as_deref(),
            client_id: self.oidc_client_id.as_deref(),
            client_secret: self.oidc_client_secret.as_deref(),
            email_claim: &self.oidc_email_claim,
            allowed_domains: self.oidc_allowed_domains.as_deref(),
            name: self.oidc_name.as_deref(),
            password_sign_in: &self.password_sign_in,
        })?;
        Ok(Config {
            oidc,
            password_sign_in,
            data_dir: self.data_dir.clone(),
            explicit_database_url: !matches!(
                self.database_url.as_deref().map(str::trim),
                None | Some("")
            ),
            database_url,
            bind,
            base_url,
            smtp,
            mail_from,
            session_idle,
            session_max,
            contact_touch_limit,
            smtp_timeouts,
            default_zone,
            inbound,
            nudge_after: positive("ACCORD_NUDGE_AFTER_HOURS", &self.nudge_after_hours, 3600)?,
            align_link_valid: positive("ACCORD_ALIGN_LINK_HOURS", &self.align_link_hours, 3600)?,
            engagement_window: positive(
                "ACCORD_ENGAGEMENT_WINDOW_HOURS",
                &self.engagement_window_hours,
                3600,
            )?,
            hooks: Hooks {
                outbox_pause: self.fault_pause_outbox_at,
                outbox_poll: self.outbox_poll_ms.map(Duration::from_millis),
                bench_ceiling_bytes: self.bench_ceiling_bytes,
                nudge_poll: self.nudge_poll_ms.map(Duration::from_millis),
            },
        })
    }
}

fn parse_base_url(raw: Option<&str>, bind: SocketAddr) -> Result<Url, ConfigError> {
    let variable = "ACCORD_BASE_URL";
    let raw = match raw.map(str::trim) {
        None | Some("") => format!("http://{bind}"),
        Some(raw) => raw.to_owned(),
    };
    let url = Url::parse(&raw).map_err(|e| invalid(variable, format!("not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            variable,
            "expected http://HOST[:PORT] or https://…",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(variable, "must not have a query or fragment"));
    }
    Ok(url)
}

fn positive(variable: &'static str, raw: &str, unit_secs: u64) -> Result<Duration, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 && n < 1_000_000 => Ok(Duration::from_secs(n * unit_secs)),
        _ => Err(invalid(
            variable,
            format!("{raw:?} is not a whole number between 1 and 999999"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Cli::try_parse_from(["accord"]).unwrap().settings
    }

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_data_dir() {
        let config = settings().validate().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(config.database_url.backend(), Backend::Sqlite);
        assert!(config.database_url.as_str().contains("accord-data"));
        assert!(config.smtp.is_none());
        assert!(!config.secure_cookies());
        assert_eq!(config.default_zone, Zone::UTC);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        type Spoil = fn(&mut Settings);
        let cases: [(Spoil, &str); 7] = [
            (
                |s| s.database_url = Some("mysql://x".into()),
                "ACCORD_DATABASE_URL",
            ),
            (|s| s.bind = "localhost".into(), "ACCORD_BIND"),
            (|s| s.base_url = Some("ftp://x".into()), "ACCORD_BASE_URL"),
            (|s| s.smtp_url = Some("http://x".into()), "ACCORD_SMTP_URL"),
            (
                |s| s.mail_from = "not an address".into(),
                "ACCORD_MAIL_FROM",
            ),
            (
                |s| s.session_idle_minutes = "0".into(),
                "ACCORD_SESSION_IDLE_MINUTES",
            ),
            (
                |s| s.default_time_zone = "CET+1".into(),
                "ACCORD_DEFAULT_TIME_ZONE",
            ),
        ];
        for (spoil, variable) in cases {
            let mut s = settings();
            spoil(&mut s);
            assert_eq!(s.validate().unwrap_err().variable, variable);
        }
    }

    #[test]
    fn a_sqlite_database_is_created_unless_the_url_says_otherwise() {
        let plain = DatabaseUrl::parse("sqlite://data/a.db").unwrap();
        assert_eq!(plain.as_str(), "sqlite://data/a.db?mode=rwc");
        let read_only = DatabaseUrl::parse("sqlite://data/a.db?mode=ro").unwrap();
        assert_eq!(read_only.as_str(), "sqlite://data/a.db?mode=ro");
    }

    #[test]
    fn only_a_url_naming_a_file_has_a_sqlite_file() {
        let file = |url: &str| DatabaseUrl::parse(url).unwrap().sqlite_file();
        assert_eq!(file("sqlite://data/a.db"), Some(PathBuf::from("data/a.db")));
        assert_eq!(
            file("sqlite://data/a.db?mode=ro"),
            Some(PathBuf::from("data/a.db"))
        );
        assert_eq!(file("sqlite://:memory:"), None);
        assert_eq!(file("sqlite://shared.db?mode=memory&cache=shared"), None);
        assert_eq!(file("postgres://db/accord"), None);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let smtp = SmtpServer::parse("smtps://user:hunter2@mail.example.com").unwrap();
        assert!(!format!("{smtp:?}").contains("hunter2"));
        let db = DatabaseUrl::parse("postgres://app:hunter2@db/accord").unwrap();
        assert!(!format!("{db:?}").contains("hunter2"));
    }

    #[test]
    fn smtp_urls_name_the_encryption_port_and_credentials() {
        let implicit = SmtpServer::parse("smtps://relay.example.com").unwrap();
        assert_eq!(
            (implicit.security, implicit.port),
            (Security::Implicit, 465)
        );
        let starttls = SmtpServer::parse("smtp://a%40b:p%3Ass@relay:587?tls=required").unwrap();
        assert_eq!(starttls.security, Security::StartTls { required: true });
        assert_eq!(starttls.address(), "relay:587");
        assert_eq!(starttls.credentials, Some(("a@b".into(), "p:ss".into())));
        let opportunistic = SmtpServer::parse("smtp://relay?tls=opportunistic").unwrap();
        assert_eq!(
            opportunistic.security,
            Security::StartTls { required: false }
        );
        assert_eq!(SmtpServer::parse("smtp://relay").unwrap().port, 25);
        for bad in [
            "smtp://relay?tls=maybe",
            "smtps://relay?tls=required",
            "smtp://user@relay",
            "http://relay",
        ] {
            assert!(SmtpServer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "nothing here").unwrap();
        assert!(read_ca_file("ACCORD_SMTP_CA_FILE", Some(&empty)).is_err());
        assert!(
            read_ca_file("ACCORD_SMTP_CA_FILE", Some(&dir.path().join("missing.pem"))).is_err()
        );
        assert_eq!(read_ca_file("ACCORD_SMTP_CA_FILE", None), Ok(None));
    }

    #[test]
    fn https_base_url_makes_cookies_secure_and_links_absolute() {
        let mut s = settings();
        s.base_url = Some("https://accord.example.com/".into());
        let config = s.validate().unwrap();
        assert!(config.secure_cookies());
        assert_eq!(
            config.link("/sign-in"),
            "https://accord.example.com/sign-in"
        );
    }
}
