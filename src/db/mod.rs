//! The database handle: one codebase over SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Every query in Accord is written once, in the dialect both backends accept (`$1` placeholders,
//! BIGINT ids, epoch-millisecond timestamps, 0/1 flags). SQLite gets a single writer connection,
//! WAL, a busy timeout and `BEGIN IMMEDIATE` for writes; readers have their own pool, and the
//! statement every signed-in view runs has a few connections of its own (`lanes`; on a SQLite
//! file they run it on the request's own thread).

pub mod lanes;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

use crate::rooms::write_queue::WriteQueues;
use lanes::Lanes;

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend named by a database URL's scheme, if Accord supports it.
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme)?;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// Pools for reading and writing (on PostgreSQL both are the same pool), and this instance's
/// queues of writers waiting for a room.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    write_queues: Arc<WriteQueues>,
    lanes: Arc<Lanes>,
}

/// How many connections are kept out of the read pool for the statement every view runs. Each
/// runs one statement at a time in well under a millisecond, so a few serve a whole instance.
const LANES: usize = 4;

/// SQLite read connections in all, lanes included. Each holds its own page cache (up to 2 MB),
/// so the lanes come out of this number rather than on top of it: the read pool opens a
/// replacement for each connection a lane detaches from it.
const SQLITE_READERS: usize = 8;

/// How long a request waits for a connection before it gives up (the database is down).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How many prepared statements each PostgreSQL connection keeps. Every connection of the pool
/// serves every page and Accord runs a few hundred different statements, so at sqlx's default of
/// 100 a connection that has served the whole product evicts one statement for each it prepares
/// (a `Parse` and a `Close` more on a request that could have run a cached plan).
const PREPARED_STATEMENTS: usize = 1024;

/// `url` asking sqlx to keep [`PREPARED_STATEMENTS`] per connection, unless it names a number
/// of its own (`statement-cache-capacity`, sqlx's parameter).
fn with_statement_cache(url: &str) -> anyhow::Result<String> {
    const KEY: &str = "statement-cache-capacity";
    let mut url = url::Url::parse(url)?;
    if !url.query_pairs().any(|(key, _)| key == KEY) {
        url.query_pairs_mut()
            .append_pair(KEY, &PREPARED_STATEMENTS.to_string());
    }
    Ok(url.into())
}

/// Tells PostgreSQL that, for this connection, reading a page through an index costs little more
/// than reading it in sequence (`random_page_cost` 1.1 instead of 4). Accord's working set —
/// sessions, users, rooms, members — is small and hot, and with the default PostgreSQL plans the
/// statement every view runs as a sort and a hash of whole small tables rather than one index
/// probe per table: pgbench ran it 1.23–1.28 times as often with this (three runs each on the
/// benchmark's 1k dataset). PostgreSQL's documentation suggests the value for data held in
/// memory or on SSDs.
async fn plan_for_a_cached_working_set(conn: &mut AnyConnection) -> sqlx::Result<()> {
    conn.execute("SET random_page_cost = 1.1").await?;
    Ok(())
}

impl Db {
    /// Opens the pools (connecting once to prove the URL works) and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)
            .ok_or_else(|| anyhow::anyhow!("unsupported database URL scheme"))?;
        let options = match backend {
            Backend::Postgres => AnyConnectOptions::from_str(&with_statement_cache(url)?)?,
            Backend::Sqlite => AnyConnectOptions::from_str(url)?,
        };
        if backend == Backend::Postgres {
            // One direct attempt first: a pool retries a refused connection until it times out,
            // hiding the cause behind "pool timed out".
            AnyConnection::connect_with(&options).await?.close().await?;
        }
        let db = match backend {
            Backend::Sqlite => {
                let read = sqlite_pool(SQLITE_READERS - LANES)
                    .connect_with(options.clone())
                    .await?;
                // A lane opens its connection on first use, once the pools made the file.
                let lanes = match sqlite_file(url) {
                    Some(file) => Lanes::on_sqlite_file(read.clone(), file, LANES),
                    None => Lanes::detached(read.clone(), LANES),
                };
                Db {
                    write: sqlite_pool(1).connect_with(options).await?,
                    lanes: Arc::new(lanes),
                    read,
                    backend,
                    write_queues: Arc::default(),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _| Box::pin(plan_for_a_cached_working_set(conn)))
                    .connect_with(options)
                    .await?;
                Db {
                    lanes: Arc::new(Lanes::detached(pool.clone(), LANES)),
                    read: pool.clone(),
                    write: pool,
                    backend,
                    write_queues: Arc::default(),
                }
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.write).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.write)
                    .await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Connections kept for the statement every signed-in view runs (see `lanes`).
    pub fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    /// The pool for single-statement writes (autocommit).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Where writers to one room wait their turn on this instance (see `RoomTx::begin`).
    pub fn write_queues(&self) -> &WriteQueues {
        &self.write_queues
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`),
    /// so a transaction that reads and then writes never fails half-way with SQLITE_BUSY.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// Whether the database answers right now (for `/readyz`).
    pub async fn is_ready(&self) -> bool {
        let ping = sqlx::query("SELECT 1").execute(&self.read);
        matches!(tokio::time::timeout(ACQUIRE_TIMEOUT, ping).await, Ok(Ok(_)))
    }

    pub async fn close(&self) {
        self.lanes.close();
        self.read.close().await;
        self.write.close().await;
    }
}

/// A connection taken from a pool only when a statement first needs one. A page that this
/// instance can serve from what it remembers takes none: every checkout costs a round trip when
/// the connection goes back (sqlx pings it), to PostgreSQL or to a SQLite connection's thread.
pub struct OnDemand<'c> {
    source: Source<'c>,
}

enum Source<'c> {
    Pool {
        pool: &'c AnyPool,
        taken: Option<PoolConnection<Any>>,
    },
    Held(&'c mut AnyConnection),
}

impl<'c> OnDemand<'c> {
    /// Takes a connection from `pool` on first use.
    pub fn new(pool: &'c AnyPool) -> OnDemand<'c> {
        OnDemand {
            source: Source::Pool { pool, taken: None },
        }
    }

    /// The connection, taken now if it was not yet.
    pub async fn get(&mut self) -> sqlx::Result<&mut AnyConnection> {
        match &mut self.source {
            Source::Held(conn) => Ok(&mut **conn),
            Source::Pool { pool, taken } => {
                let conn = match taken.take() {
                    Some(conn) => conn,
                    None => pool.acquire().await?,
                };
                Ok(&mut **taken.insert(conn))
            }
        }
    }

    /// Whether a connection was taken so far.
    #[cfg(test)]
    fn was_taken(&self) -> bool {
        match &self.source {
            Source::Held(_) => true,
            Source::Pool { taken, .. } => taken.is_some(),
        }
    }
}

/// A connection the caller already holds (a transaction's, or one it took itself).
impl<'c> From<&'c mut AnyConnection> for OnDemand<'c> {
    fn from(conn: &'c mut AnyConnection) -> OnDemand<'c> {
        OnDemand {
            source: Source::Held(conn),
        }
    }
}

/// The cause of a database error in a few words, for the one line an operator reads.
pub fn reason(error: &anyhow::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::PermissionDenied => "permission denied".into(),
                _ => io.to_string(),
            };
        }
        source = cause.source();
    }
    format!("{error:#}")
}

/// The file a SQLite URL opens (`None` for an in-memory database, whose every connection sees a
/// database of its own).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    crate::config::DatabaseUrl::parse(url).ok()?.sqlite_file()
}

fn sqlite_pool(max_connections: usize) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections as u32)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A connection to a local file does not go stale, and the ping sqlx sends before handing
        // one out is a round trip to the connection's thread: 15% of a live check (measured).
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers proceed while the single writer commits; FULL keeps a
                // committed "sent" mark durable across power loss.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA busy_timeout = 5000",
                    "PRAGMA foreign_keys = ON",
                ] {
                    conn.execute(pragma).await?;
                }
                Ok(())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_is_taken_on_first_use_and_kept_until_dropped() {
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect("sqlite::memory:").await.expect("a pool");
        let mut conn = OnDemand::new(&pool);
        assert!(!conn.was_taken());
        // A temporary table lives on one connection only: the second use finds it.
        let first = conn.get().await.expect("a connection");
        sqlx::query("CREATE TEMP TABLE here (x BIGINT)")
            .execute(&mut *first)
            .await
            .expect("created");
        assert!(conn.was_taken());
        let second = conn.get().await.expect("the same connection");
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM here")
            .fetch_one(&mut *second)
            .await
            .expect("the table is there");
        assert_eq!(rows, 0);
    }

    #[test]
    fn postgres_connections_keep_room_for_every_statement_unless_told_otherwise() {
        let cases = [
            (
                "postgres://u@h/db",
                "postgres://u@h/db?statement-cache-capacity=1024",
            ),
            // The rest of the URL comes through as it was: a password with escapes, parameters.
            (
                "postgres://u:p%40ss@h:5432/db?sslmode=require",
                "postgres://u:p%40ss@h:5432/db?sslmode=require&statement-cache-capacity=1024",
            ),
            // A Unix socket named by the host parameter.
            (
                "postgresql:///db?host=/var/run/postgresql",
                "postgresql:///db?host=/var/run/postgresql&statement-cache-capacity=1024",
            ),
            // An operator's own number stands.
            (
                "postgres://u@h/db?statement-cache-capacity=50",
                "postgres://u@h/db?statement-cache-capacity=50",
            ),
        ];
        for (given, used) in cases {
            assert_eq!(with_statement_cache(given).expect(given), used);
        }
        assert!(with_statement_cache("not a url").is_err());
    }

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://a.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://u@h/db"), None);
        assert_eq!(Backend::from_url("accord.db"), None);
    }
}
