//! Lanes on a SQLite file: connections of their own (`rusqlite`, linked to the same SQLite as
//! sqlx) that run the statement on the request's own thread.
//!
//! sqlx's SQLite driver hands every statement to the connection's thread and every row back over
//! a channel. For the session's statement — an indexed lookup of one row, tens of microseconds
//! of SQLite's work — the hand-off cost several times the work (profiled on the room page: 30% of
//! the server's time, of which `sqlite3_step` 4.9%). In WAL mode a reader never waits for the
//! writer, so running it in place blocks the request's thread only for that work. The row comes
//! back as sqlx's `AnyRow`, so what reads it is written once, for both databases.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sqlx::any::AnyRow;
use sqlx_core::any::{AnyColumn, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

use super::{Param, lock};

#[derive(Debug)]
pub struct Lanes {
    file: PathBuf,
    /// At most this many connections are open at once (one per request running a statement,
    /// so no more than the runtime's threads are ever busy).
    count: usize,
    opened: AtomicUsize,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
    /// The columns of each statement run so far (two statements in all).
    shapes: Mutex<Vec<(&'static str, Arc<Shape>)>>,
}

/// A statement's columns, as `AnyRow` names them.
#[derive(Debug)]
struct Shape {
    names: Arc<sqlx_core::HashMap<UStr, usize>>,
    columns: Vec<AnyColumn>,
}

impl Lanes {
    pub fn new(file: PathBuf, count: usize) -> Lanes {
        Lanes {
            file,
            count,
            opened: AtomicUsize::new(0),
            idle: Mutex::new(Vec::with_capacity(count)),
            closed: AtomicBool::new(false),
            shapes: Mutex::default(),
        }
    }

    /// Runs `sql` on a lane: `None` when no lane could take it (closed, all busy, or the file
    /// would not open), else the statement's outcome; a connection that failed is dropped.
    pub fn fetch_optional(
        &self,
        sql: &'static str,
        params: &[Param],
    ) -> Option<rusqlite::Result<Option<AnyRow>>> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let taken = lock(&self.idle).pop();
        let mut conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let outcome = self.run(&mut conn, sql, params);
        if outcome.is_ok() && !self.closed.load(Ordering::Acquire) {
            lock(&self.idle).push(conn);
        } else {
            drop(conn);
            self.opened.fetch_sub(1, Ordering::AcqRel);
        }
        Some(outcome)
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let dropped = std::mem::take(&mut *lock(&self.idle));
        self.opened.fetch_sub(dropped.len(), Ordering::AcqRel);
    }

    /// A new connection, if fewer than `count` are open and the file opens.
    fn open(&self) -> Option<Connection> {
        let below = |open: usize| (open < self.count).then_some(open + 1);
        self.opened
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, below)
            .ok()?;
        // Read and write like the pool's connections (a read-only handle on a WAL file has
        // conditions of its own), but refuse writes: a lane only reads.
        let opened = Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            // A reader waits only while another connection holds the WAL index exclusively
            // (recovery, a truncating checkpoint): briefly, and on the request's thread, so it
            // gives up early and lets the pool's connection (on a thread of its own) wait.
            conn.busy_timeout(Duration::from_millis(20))?;
            conn.pragma_update(None, "query_only", true)?;
            Ok(conn)
        });
        match opened {
            Ok(conn) => Some(conn),
            Err(error) => {
                self.opened.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(%error, "a SQLite lane did not open; the pool answers instead");
                None
            }
        }
    }

    fn run(
        &self,
        conn: &mut Connection,
        sql: &'static str,
        params: &[Param],
    ) -> rusqlite::Result<Option<AnyRow>> {
        let mut statement = conn.prepare_cached(sql)?;
        for (position, param) in params.iter().enumerate() {
            let name = format!("${}", position + 1);
            let index = statement
                .parameter_index(&name)?
                .ok_or(rusqlite::Error::InvalidParameterName(name))?;
            match param {
                Param::Text(text) => statement.raw_bind_parameter(index, text.as_str())?,
                Param::Int(number) => statement.raw_bind_parameter(index, *number)?,
            }
        }
        let shape = self.shape(sql, &statement);
        // Dropping the rows resets the statement, which ends its read of the database.
        let mut rows = statement.raw_query();
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let values = (0..shape.columns.len())
            .map(|index| any_value(row.get_ref(index)?))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(AnyRow {
            column_names: Arc::clone(&shape.names),
            columns: shape.columns.clone(),
            values,
        }))
    }

    fn shape(&self, sql: &'static str, statement: &rusqlite::Statement<'_>) -> Arc<Shape> {
        let mut shapes = lock(&self.shapes);
        // By address: each statement's text is built once.
        if let Some((_, shape)) = shapes.iter().find(|(known, _)| std::ptr::eq(*known, sql)) {
            return Arc::clone(shape);
        }
        let columns: Vec<AnyColumn> = statement
            .column_names()
            .into_iter()
            .enumerate()
            .map(|(ordinal, name)| AnyColumn {
                ordinal,
                name: UStr::from(name.to_owned()),
                // Rows are decoded by each value's own type, as sqlx's SQLite driver does.
                type_info: AnyTypeInfo {
                    kind: AnyTypeInfoKind::Null,
                },
            })
            .collect();
        let names = columns
            .iter()
            .map(|column| (column.name.clone(), column.ordinal))
            .collect();
        let shape = Arc::new(Shape {
            names: Arc::new(names),
            columns,
        });
        shapes.push((sql, Arc::clone(&shape)));
        shape
    }
}

/// A SQLite value as the `Any` driver holds it: integers as BIGINT, reals as DOUBLE.
fn any_value(value: ValueRef<'_>) -> rusqlite::Result<AnyValue> {
    let kind = match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(number) => AnyValueKind::BigInt(number),
        ValueRef::Real(number) => AnyValueKind::Double(number),
        ValueRef::Text(bytes) => {
            let text = std::str::from_utf8(bytes).map_err(rusqlite::Error::Utf8Error)?;
            AnyValueKind::Text(Cow::Owned(text.to_owned()))
        }
        ValueRef::Blob(bytes) => AnyValueKind::Blob(Cow::Owned(bytes.to_vec())),
    };
    Ok(AnyValue { kind })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use sqlx::{AnyPool, Row};

    /// A SQLite file in WAL mode with a table of two people, and a pool on it.
    pub async fn file_with_people() -> (tempfile::TempDir, AnyPool, PathBuf) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("lanes.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let pool = AnyPool::connect(&url).await.expect("a pool");
        for statement in [
            "PRAGMA journal_mode = WAL",
            "CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT, score REAL, photo BLOB)",
            "INSERT INTO people VALUES (1, 'Ada', 2.5, x'00ff'), (2, NULL, NULL, NULL)",
        ] {
            sqlx::query(statement).execute(&pool).await.expect("set up");
        }
        (dir, pool, file)
    }

    /// What the lane itself answered (not the pool it would fall back to).
    fn on_the_lane(lanes: &Lanes, sql: &'static str, params: &[Param]) -> Option<AnyRow> {
        lanes
            .fetch_optional(sql, params)
            .expect("a lane took it")
            .expect("the lane answered")
    }

    #[tokio::test]
    async fn a_lane_binds_by_number_and_reads_the_row_as_the_pool_does() {
        let (_dir, pool, file) = file_with_people().await;
        let lanes = Lanes::new(file, 2);
        // `$2` comes first in the text: parameters are bound by their number, not their place.
        const SQL: &str = "SELECT p.id, p.name AS who, p.score, p.photo, $1 AS asked \
                           FROM people p WHERE p.id = $2";
        for id in [1, 2] {
            let params = [Param::Text("asked".into()), Param::Int(id)];
            let lane = on_the_lane(&lanes, SQL, &params).expect("a row");
            let pooled = super::super::query(SQL, &params)
                .fetch_one(&pool)
                .await
                .expect("a row");
            assert_eq!(lane.get::<i64, _>("id"), pooled.get::<i64, _>("id"));
            assert_eq!(
                lane.get::<Option<String>, _>("who"),
                pooled.get::<Option<String>, _>("who")
            );
            assert_eq!(
                lane.get::<Option<f64>, _>("score"),
                pooled.get::<Option<f64>, _>("score")
            );
            assert_eq!(
                lane.get::<Option<Vec<u8>>, _>("photo"),
                pooled.get::<Option<Vec<u8>>, _>("photo")
            );
            assert_eq!(lane.get::<String, _>(4), "asked");
        }
        let none = on_the_lane(&lanes, SQL, &[Param::Text("x".into()), Param::Int(3)]);
        assert!(none.is_none(), "no such row");
    }

    #[tokio::test]
    async fn a_lane_sees_every_write_committed_before_its_statement() {
        let (_dir, pool, file) = file_with_people().await;
        let lanes = Lanes::new(file, 1);
        const NAME: &str = "SELECT name FROM people WHERE id = $1";
        for name in ["Grace", "Barbara", "Frances"] {
            sqlx::query("UPDATE people SET name = $1 WHERE id = 1")
                .bind(name)
                .execute(&pool)
                .await
                .expect("written");
            let row = on_the_lane(&lanes, NAME, &[Param::Int(1)]).expect("a row");
            assert_eq!(row.get::<String, _>(0), name);
        }
        assert_eq!(
            lanes.opened.load(Ordering::Acquire),
            1,
            "one connection, kept"
        );
    }

    #[tokio::test]
    async fn a_lane_refuses_writes_and_drops_the_connection_that_failed() {
        let (_dir, pool, file) = file_with_people().await;
        let lanes = Lanes::new(file, 1);
        let count = "SELECT COUNT(*) FROM people";
        assert!(on_the_lane(&lanes, count, &[]).is_some());
        assert_eq!(lanes.opened.load(Ordering::Acquire), 1);

        let write = lanes
            .fetch_optional("DELETE FROM people", &[])
            .expect("a lane took it");
        assert!(write.is_err(), "a lane only reads");
        assert_eq!(
            lanes.opened.load(Ordering::Acquire),
            0,
            "the connection was dropped"
        );
        let left: i64 = sqlx::query_scalar(count)
            .fetch_one(&pool)
            .await
            .expect("counted");
        assert_eq!(left, 2);
    }
}
