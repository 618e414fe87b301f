//! A few connections kept out of the pool for the statement every signed-in view runs (the
//! session's, with its user and the room in view), so that statement costs one round trip.
//!
//! Through the pool it costs three on PostgreSQL and two on SQLite: sqlx pings a connection when
//! it hands one out (PostgreSQL only; SQLite's pool skips it) and always pings it again when it
//! goes back. Measured on the room page, those pings were most of the server's context switches.
//! A lane runs one statement at a time and is never pinged: a connection that fails is dropped,
//! the statement runs again through the pool (which pings, so a database that restarted is
//! found at once), and the lane takes a fresh connection from the pool next time.

use std::sync::Mutex;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::Semaphore;

/// A query that owns what it binds, so it can be built again for a second attempt.
pub type OwnedQuery = Query<'static, Any, AnyArguments<'static>>;

#[derive(Debug)]
pub struct Lanes {
    pool: AnyPool,
    /// One permit per lane: a statement waits for a lane rather than open a connection.
    free: Semaphore,
    /// The lanes' connections while no statement runs on them (fewer while one is replaced).
    idle: Mutex<Vec<AnyConnection>>,
}

impl Lanes {
    /// `count` lanes whose connections come from `pool` (detached from it, so the pool may open
    /// replacements: an instance holds up to `count` connections more than the pool's maximum).
    pub fn new(pool: AnyPool, count: usize) -> Lanes {
        Lanes {
            pool,
            free: Semaphore::new(count),
            idle: Mutex::new(Vec::with_capacity(count)),
        }
    }

    /// Runs the query on a lane; if the lane's connection fails, drops it and runs the query
    /// again through the pool. `build` makes the query (twice when the first attempt fails).
    pub async fn fetch_optional(
        &self,
        build: impl Fn() -> OwnedQuery,
    ) -> sqlx::Result<Option<AnyRow>> {
        let Ok(_permit) = self.free.acquire().await else {
            return build().fetch_optional(&self.pool).await;
        };
        // Taken out of the lane while it runs: if this future is dropped mid-statement, so is
        // the connection, whose state is then unknown.
        let mut conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.pool.acquire().await?.detach(),
        };
        match build().fetch_optional(&mut conn).await {
            Ok(row) => {
                self.put_back(conn);
                Ok(row)
            }
            Err(_) => {
                drop(conn);
                build().fetch_optional(&self.pool).await
            }
        }
    }

    /// Closes every lane (the instance is shutting down).
    pub fn close(&self) {
        self.free.close();
        self.idle_lanes().clear();
    }

    fn take_idle(&self) -> Option<AnyConnection> {
        self.idle_lanes().pop()
    }

    fn put_back(&self, conn: AnyConnection) {
        if !self.free.is_closed() {
            self.idle_lanes().push(conn);
        }
    }

    fn idle_lanes(&self) -> std::sync::MutexGuard<'_, Vec<AnyConnection>> {
        // A panic cannot leave the list half-changed (push, pop and clear are whole), so a
        // poisoned lock still guards a valid list.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    async fn pool() -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect("sqlite::memory:").await.expect("a pool")
    }

    fn connection_id() -> OwnedQuery {
        // A temporary table exists on one connection only: it tells connections apart.
        sqlx::query("SELECT COUNT(*) FROM temp.sqlite_master WHERE name = 'marked'")
    }

    /// One lane whose connection is marked with a temporary table.
    async fn one_marked_lane() -> Lanes {
        let lanes = Lanes::new(pool().await, 1);
        lanes
            .fetch_optional(|| sqlx::query("CREATE TEMP TABLE marked (x BIGINT)"))
            .await
            .expect("created");
        lanes
    }

    #[tokio::test]
    async fn a_lane_keeps_its_connection_between_statements() {
        let lanes = one_marked_lane().await;
        let row = lanes.fetch_optional(connection_id).await.expect("read");
        let marked: i64 = row.expect("one row").get(0);
        assert_eq!(
            marked, 1,
            "the second statement ran on the lane's connection"
        );
    }

    #[tokio::test]
    async fn a_failing_statement_runs_again_through_the_pool_and_the_lane_is_replaced() {
        let lanes = one_marked_lane().await;
        let failed = lanes
            .fetch_optional(|| sqlx::query("SELECT * FROM no_such_table"))
            .await;
        assert!(failed.is_err(), "the pool's attempt fails the same way");
        let row = lanes.fetch_optional(connection_id).await.expect("read");
        let marked: i64 = row.expect("one row").get(0);
        assert_eq!(marked, 0, "the failed connection was dropped, not reused");
    }

    #[tokio::test]
    async fn closed_lanes_still_answer_through_the_pool() {
        let lanes = Lanes::new(pool().await, 2);
        lanes.close();
        let row = lanes
            .fetch_optional(|| sqlx::query("SELECT 7"))
            .await
            .expect("answered");
        assert_eq!(row.expect("one row").get::<i64, _>(0), 7);
    }
}
