//! A few connections kept out of the pool for the statement every signed-in view runs (the
//! session's, with its user and the room in view), so that statement costs one round trip — or,
//! on a SQLite file, none.
//!
//! Through the pool it costs three on PostgreSQL and two on SQLite: sqlx pings a connection when
//! it hands one out (PostgreSQL only; SQLite's pool skips it) and always pings it again when it
//! goes back. Measured on the room page, those pings were most of the server's context switches.
//! A lane runs one statement at a time and is never pinged: a connection that fails is dropped,
//! the statement runs again through the pool (which pings, so a database that restarted is
//! found at once), and the lane takes a fresh connection next time.
//!
//! On a SQLite file even one statement through sqlx is a hand-off to the connection's own thread
//! and back (a quarter of a room page's time, profiled). There the lanes are connections of
//! their own (`sqlite`) that run the statement on the request's thread.

mod sqlite;

use std::path::PathBuf;
use std::sync::Mutex;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::Semaphore;

/// A value bound to a lane's statement, as `$1`, `$2`… in order.
#[derive(Clone, Debug)]
pub enum Param {
    Text(String),
    Int(i64),
}

#[derive(Debug)]
pub struct Lanes {
    pool: AnyPool,
    connections: Connections,
}

#[derive(Debug)]
enum Connections {
    /// Connections detached from the pool.
    Detached {
        /// One permit per lane: a statement waits for a lane rather than open a connection.
        free: Semaphore,
        /// The lanes' connections while no statement runs on them (fewer while one is replaced).
        idle: Mutex<Vec<AnyConnection>>,
    },
    /// The SQLite file's own connections.
    Sqlite(sqlite::Lanes),
}

impl Lanes {
    /// `count` lanes whose connections come from `pool` (detached from it, so the pool may open
    /// replacements: an instance holds up to `count` connections more than the pool's maximum).
    pub fn detached(pool: AnyPool, count: usize) -> Lanes {
        Lanes {
            pool,
            connections: Connections::Detached {
                free: Semaphore::new(count),
                idle: Mutex::new(Vec::with_capacity(count)),
            },
        }
    }

    /// Lanes that open the SQLite database `file` themselves, at most `count` at once, and fall
    /// back to `pool` (the same database) when one cannot answer.
    pub fn on_sqlite_file(pool: AnyPool, file: PathBuf, count: usize) -> Lanes {
        Lanes {
            pool,
            connections: Connections::Sqlite(sqlite::Lanes::new(file, count)),
        }
    }

    /// Runs `sql` with `params` on a lane; if the lane's connection fails, drops it and runs the
    /// statement again through the pool.
    pub async fn fetch_optional(
        &self,
        sql: &'static str,
        params: &[Param],
    ) -> sqlx::Result<Option<AnyRow>> {
        match &self.connections {
            Connections::Sqlite(lanes) => {
                // Otherwise the pool's attempt reports the error in sqlx's terms (or succeeds:
                // the lane's connection was at fault and is gone).
                if let Some(Ok(row)) = lanes.fetch_optional(sql, params) {
                    return Ok(row);
                }
            }
            Connections::Detached { free, idle } => {
                if let Ok(_permit) = free.acquire().await {
                    // Taken out of the lane while it runs: if this future is dropped
                    // mid-statement, so is the connection, whose state is then unknown.
                    let taken = lock(idle).pop();
                    let mut conn = match taken {
                        Some(conn) => conn,
                        None => self.pool.acquire().await?.detach(),
                    };
                    // A failed connection is dropped here, not put back.
                    if let Ok(row) = query(sql, params).fetch_optional(&mut conn).await {
                        if !free.is_closed() {
                            lock(idle).push(conn);
                        }
                        return Ok(row);
                    }
                }
            }
        }
        query(sql, params).fetch_optional(&self.pool).await
    }

    /// Closes every lane (the instance is shutting down); statements then go through the pool.
    pub fn close(&self) {
        match &self.connections {
            Connections::Detached { free, idle } => {
                free.close();
                lock(idle).clear();
            }
            Connections::Sqlite(lanes) => lanes.close(),
        }
    }
}

fn query<'q>(sql: &'q str, params: &'q [Param]) -> Query<'q, Any, AnyArguments<'q>> {
    params
        .iter()
        .fold(sqlx::query(sql), |query, param| match param {
            Param::Text(text) => query.bind(text.as_str()),
            Param::Int(number) => query.bind(*number),
        })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The lanes' lists hold no invariant a panicking holder could break half-way (push, pop and
    // clear are whole), so a poisoned lock still guards a valid list.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    async fn pool() -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect("sqlite::memory:").await.expect("a pool")
    }

    /// A temporary table exists on one connection only: it tells connections apart.
    const MARKED: &str = "SELECT COUNT(*) FROM temp.sqlite_master WHERE name = 'marked'";

    /// One lane whose connection is marked with a temporary table.
    async fn one_marked_lane() -> Lanes {
        let lanes = Lanes::detached(pool().await, 1);
        lanes
            .fetch_optional("CREATE TEMP TABLE marked (x BIGINT)", &[])
            .await
            .expect("created");
        lanes
    }

    async fn marked(lanes: &Lanes) -> i64 {
        let row = lanes.fetch_optional(MARKED, &[]).await.expect("read");
        row.expect("one row").get(0)
    }

    #[tokio::test]
    async fn a_lane_keeps_its_connection_between_statements() {
        let lanes = one_marked_lane().await;
        assert_eq!(
            marked(&lanes).await,
            1,
            "the second statement ran on the lane's connection"
        );
    }

    #[tokio::test]
    async fn a_failing_statement_runs_again_through_the_pool_and_the_lane_is_replaced() {
        let lanes = one_marked_lane().await;
        let failed = lanes
            .fetch_optional("SELECT * FROM no_such_table", &[])
            .await;
        assert!(failed.is_err(), "the pool's attempt fails the same way");
        assert_eq!(
            marked(&lanes).await,
            0,
            "the failed connection was dropped, not reused"
        );
    }

    #[tokio::test]
    async fn a_sqlite_lanes_failures_and_closing_leave_the_answer_to_the_pool() {
        let (_dir, pool, file) = sqlite::tests::file_with_people().await;
        let lanes = Lanes::on_sqlite_file(pool, file, 2);
        let failed = lanes
            .fetch_optional("SELECT * FROM no_such_table", &[])
            .await;
        assert!(failed.is_err(), "the pool's attempt fails the same way");
        lanes.close();
        let row = lanes
            .fetch_optional("SELECT COUNT(*) FROM people", &[])
            .await
            .expect("answered through the pool");
        assert_eq!(row.expect("a row").get::<i64, _>(0), 2);
    }

    #[tokio::test]
    async fn closed_lanes_still_answer_through_the_pool() {
        let lanes = Lanes::detached(pool().await, 2);
        lanes.close();
        let row = lanes
            .fetch_optional("SELECT $1 + 7", &[Param::Int(1)])
            .await
            .expect("answered");
        assert_eq!(row.expect("one row").get::<i64, _>(0), 8);
    }
}
