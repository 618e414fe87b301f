//! `RoomChange`: the one way to change a room. It opens the write transaction, locks the room
//! (bumping its version for live pages), reloads it and the viewer's membership, and checks the
//! action — so every rule is checked inside the transaction that writes. Dropping it without
//! `commit` rolls everything back, the version bump included.
//!
//! `RoomTx` carries the version rule in the types: every function that writes something a room
//! page shows takes `&mut RoomTx`, and the only ways to get one bump the version of each room
//! written to (a `RoomChange`, opening a room, or locking rooms named up front). A write that
//! skipped the bump does not compile; a test lists the tables and checks every writer.

use std::collections::BTreeSet;
use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};

use super::access::{Action, Refusal, Viewer, check};
use super::in_view;
use super::model::{self, Room};
use super::parts::{Part, Writes};
use super::write_queue::Turn;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::db::OnDemand;
use crate::db::{Backend, Db};
use crate::error::AppError;
use crate::{needs, timeline};

/// A write transaction that has bumped the version of every room it writes to.
pub struct RoomTx {
    tx: Transaction<'static, Any>,
    /// This instance's turn at the rooms named up front, held until the transaction ends
    /// (declared after `tx`, so it is released after it).
    turn: Option<Turn>,
    db: Db,
    locked: BTreeSet<i64>,
    /// People who left a room in this transaction: their *Needs you* changes too.
    left: BTreeSet<i64>,
    now: Millis,
}

impl RoomTx {
    /// Begins a write transaction on `db` and locks `rooms`, bumping each one's version. Rooms
    /// that do not exist are skipped (see [`RoomTx::is_locked`]). Writers to the same rooms on
    /// this instance wait their turn first, holding no connection while they wait.
    pub async fn begin(
        db: &Db,
        rooms: impl IntoIterator<Item = i64>,
        now: Millis,
    ) -> sqlx::Result<RoomTx> {
        RoomTx::begin_writing(db, rooms, now, Writes::Everything).await
    }

    /// [`RoomTx::begin`] for a change that `writes` only some parts of those rooms.
    async fn begin_writing(
        db: &Db,
        rooms: impl IntoIterator<Item = i64>,
        now: Millis,
        writes: Writes,
    ) -> sqlx::Result<RoomTx> {
        let rooms: BTreeSet<i64> = rooms.into_iter().collect();
        let turn = db.write_queues().turn(&rooms).await;
        let mut room_tx = RoomTx {
            tx: db.begin_write().await?,
            turn: Some(turn),
            db: db.clone(),
            locked: BTreeSet::new(),
            left: BTreeSet::new(),
            now,
        };
        room_tx.lock(rooms, writes).await?;
        Ok(room_tx)
    }

    /// Locks more rooms, found while writing (an outbox claim learns its rooms from the rows it
    /// claims). Each call locks in room id order, so two transactions never wait on each other
    /// in a cycle.
    pub async fn lock_more(&mut self, rooms: impl IntoIterator<Item = i64>) -> sqlx::Result<()> {
        self.lock(rooms, Writes::Everything).await
    }

    async fn lock(
        &mut self,
        rooms: impl IntoIterator<Item = i64>,
        writes: Writes,
    ) -> sqlx::Result<()> {
        let new: BTreeSet<i64> = rooms
            .into_iter()
            .filter(|id| !self.locked.contains(id))
            .collect();
        for room_id in new {
            if model::lock_for_change(&mut self.tx, room_id, self.now, writes).await? {
                self.locked.insert(room_id);
            }
        }
        Ok(())
    }

    /// Opens a new room (its version starts at 1) in `tx`, a write transaction begun on `db`, and
    /// begins writing to it.
    pub async fn open(
        db: &Db,
        mut tx: Transaction<'static, Any>,
        room: &model::NewRoom<'_>,
        now: Millis,
    ) -> sqlx::Result<(RoomTx, i64)> {
        let id = model::insert(&mut tx, room, now).await?;
        let room_tx = RoomTx {
            tx,
            turn: None,
            db: db.clone(),
            locked: BTreeSet::from([id]),
            left: BTreeSet::new(),
            now,
        };
        Ok((room_tx, id))
    }

    /// Opens one more room in this transaction (the demo writes a room's history with it).
    pub async fn open_another(
        &mut self,
        room: &model::NewRoom<'_>,
        now: Millis,
    ) -> sqlx::Result<i64> {
        let id = model::insert(&mut self.tx, room, now).await?;
        self.locked.insert(id);
        Ok(id)
    }

    pub fn is_locked(&self, room_id: i64) -> bool {
        self.locked.contains(&room_id)
    }

    /// The connection, for a write to `room_id`. Writing to a room this transaction did not lock
    /// is a bug that tests catch here.
    pub fn room(&mut self, room_id: i64) -> &mut AnyConnection {
        debug_assert!(
            self.is_locked(room_id),
            "room {room_id} is written without its version bump"
        );
        &mut self.tx
    }

    /// Notes that `user_id` left a room written here, so their *Needs you* is counted afresh.
    pub fn left(&mut self, user_id: i64) {
        self.left.insert(user_id);
    }

    /// Commits, and bumps the *Needs you* stamp of everyone in the rooms written (and of those
    /// who left one). On SQLite, whose one writer is exclusive anyway, the bump is part of the
    /// transaction. On PostgreSQL it follows the commit (see `needs::stamp_after_commit`): inside, every
    /// change to rooms sharing a person (a director in every room) would hold that person's row
    /// until its commit, and the writes would queue behind each other. Either way no list older
    /// than the change is kept under the new stamp.
    pub async fn commit(mut self) -> sqlx::Result<()> {
        match self.db.backend() {
            Backend::Sqlite => {
                needs::stamp_in_transaction(&mut self.tx, &self.locked, &self.left).await?;
                self.tx.commit().await
            }
            Backend::Postgres => {
                self.tx.commit().await?;
                drop(self.turn.take());
                let mut conn = self.db.writer().acquire().await?;
                needs::stamp_after_commit(&mut conn, &self.locked, &self.left).await
            }
        }
    }
}

impl Deref for RoomTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for RoomTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

pub struct RoomChange {
    pub tx: RoomTx,
    pub room: Room,
    pub viewer: Viewer,
    pub now: Millis,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotVisible => AppError::NotFound,
            Refusal::Forbidden(why) => AppError::Forbidden(why.to_owned()),
            Refusal::Closed => AppError::Conflict(
                "This room is closed, so it is read-only. Reopen it to make changes.".to_owned(),
            ),
        }
    }
}

impl RoomChange {
    pub async fn begin(
        state: &AppState,
        room_id: i64,
        user: &CurrentUser,
        action: Action,
    ) -> Result<RoomChange, AppError> {
        RoomChange::begin_writing(state, room_id, user, action, Writes::Everything).await
    }

    /// [`RoomChange::begin`] for a change that writes only `part` of the room: the room page's
    /// next read re-reads that part (and the timeline) and keeps the rest. Everything the change
    /// writes must be in `part` (`rooms::parts` says which tables that is).
    pub async fn begin_writing_only(
        state: &AppState,
        room_id: i64,
        user: &CurrentUser,
        action: Action,
        part: Part,
    ) -> Result<RoomChange, AppError> {
        RoomChange::begin_writing(state, room_id, user, action, Writes::Only(part)).await
    }

    async fn begin_writing(
        state: &AppState,
        room_id: i64,
        user: &CurrentUser,
        action: Action,
        writes: Writes,
    ) -> Result<RoomChange, AppError> {
        let now = state.clock.now();
        let mut tx = RoomTx::begin_writing(&state.db, [room_id], now, writes).await?;
        if !tx.is_locked(room_id) {
            return Err(AppError::NotFound);
        }
        let (room, viewer) = room_for(&mut tx, room_id, user, action).await?;
        Ok(RoomChange {
            tx,
            room,
            viewer,
            now,
        })
    }

    /// The open transaction, for the module's own queries and writes.
    pub fn conn(&mut self) -> &mut RoomTx {
        &mut self.tx
    }

    /// The transaction, the locked room and the time of the change, borrowed together.
    pub fn parts(&mut self) -> (&mut RoomTx, &Room, Millis) {
        (&mut self.tx, &self.room, self.now)
    }

    /// Writes a timeline event for this change, by this viewer.
    pub async fn record(&mut self, kind: &str, summary: &str, link: &str) -> Result<(), AppError> {
        let (room_id, actor, now) = (self.room.id, self.viewer.user_id, self.now);
        timeline::record(&mut self.tx, room_id, Some(actor), kind, summary, link, now).await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A room opened for reading: the room and the viewer, or 404 when they may not see it.
pub async fn read_room(
    conn: &mut AnyConnection,
    room_id: i64,
    user: &CurrentUser,
) -> Result<(Room, Viewer), AppError> {
    viewed_room(&mut OnDemand::from(conn), room_id, user).await
}

/// [`read_room`] for a handler that may need no connection at all (a live check that answers
/// `204`, a page served from what this instance remembers): `conn` is taken only when the room
/// was not read with the session.
pub async fn viewed_room(
    conn: &mut OnDemand<'_>,
    room_id: i64,
    user: &CurrentUser,
) -> Result<(Room, Viewer), AppError> {
    match read_with_session(room_id, user) {
        Some(read) => read,
        None => room_for(conn.get().await?, room_id, user, Action::Read).await,
    }
}

/// The room and viewer as read with the session, on the pages that read one room (`in_view`).
fn read_with_session(room_id: i64, user: &CurrentUser) -> Option<Result<(Room, Viewer), AppError>> {
    let (room, kind) = match in_view::take(room_id, user.id)? {
        Some(read) => read,
        None => return Some(Err(AppError::NotFound)),
    };
    let viewer = Viewer::new(user, kind.as_deref());
    Some(match check(&viewer, &room, Action::Read) {
        Ok(()) => Ok((room, viewer)),
        Err(refusal) => Err(refusal.into()),
    })
}

/// The room and the viewer, when the viewer may do `action` there (404 or 403 otherwise).
async fn room_for(
    conn: &mut AnyConnection,
    room_id: i64,
    user: &CurrentUser,
    action: Action,
) -> Result<(Room, Viewer), AppError> {
    let (room, kind) = model::find_with_membership(conn, room_id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let viewer = Viewer::new(user, kind.as_deref());
    check(&viewer, &room, action)?;
    Ok((room, viewer))
}

#[cfg(test)]
mod tests {
    //! Reads the crate's own source: every function that writes a table the room page shows must
    //! take a `RoomTx`.

    use std::path::{Path, PathBuf};

    use crate::rooms::content::{CONTENT_TABLES, NOT_CONTENT_TABLES};

    /// The functions allowed to write room content without a `RoomTx`, and why.
    const EXEMPT: &[(&str, &str, &str)] = &[
        ("rooms/model.rs", "insert", "called only by RoomTx::open"),
        (
            "rooms/model.rs",
            "lock_for_change",
            "the version bump itself",
        ),
        (
            "outbox/model.rs",
            "insert_row",
            "private; enqueue (no room) or enqueue_in_room (RoomTx)",
        ),
    ];

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Each function of a file: its name, its signature and its body.
    fn functions(source: &str) -> Vec<(String, String, String)> {
        let lines: Vec<&str> = source.lines().collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let starts = ["fn ", "pub ", "async ", "pub(super) ", "pub(crate) "];
            let is_fn = starts.iter().any(|s| line.trim_start().starts_with(s));
            let Some(at) = line.find("fn ").filter(|_| is_fn) else {
                i += 1;
                continue;
            };
            let name: String = line[at + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let indent = &line[..line.len() - line.trim_start().len()];
            let mut end = i;
            let mut signature = String::new();
            while end < lines.len() {
                signature.push_str(lines[end]);
                if lines[end].trim_end().ends_with('{') || lines[end].trim_end().ends_with(';') {
                    break;
                }
                end += 1;
            }
            let mut close = end + 1;
            while close < lines.len() && lines[close] != format!("{indent}}}") {
                close += 1;
            }
            let body = lines[end.min(lines.len())..close.min(lines.len())].join("\n");
            found.push((name, signature, body));
            i = close + 1;
        }
        found
    }

    /// The tables a piece of SQL writes.
    fn written_tables(body: &str) -> Vec<String> {
        let words: Vec<&str> = body
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut tables = Vec::new();
        for pair in words.windows(3) {
            match pair {
                ["INSERT", "INTO", table] | ["DELETE", "FROM", table] => {
                    tables.push((*table).to_owned())
                }
                ["UPDATE", table, "SET"] => tables.push((*table).to_owned()),
                _ => {}
            }
        }
        tables
    }

    #[test]
    fn every_table_is_classified_as_room_content_or_not() {
        let mut tables = Vec::new();
        for file in std::fs::read_dir(root().join("migrations/sqlite")).unwrap() {
            let sql = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for part in sql.split("CREATE TABLE ").skip(1) {
                tables.push(part.split_whitespace().next().unwrap().to_owned());
            }
        }
        assert!(tables.len() > 20, "the migrations were not read");
        for table in &tables {
            let content = CONTENT_TABLES.contains(&table.as_str());
            let not_content = NOT_CONTENT_TABLES.contains(&table.as_str());
            assert!(
                content != not_content,
                "{table}: list it in exactly one of rooms::content's CONTENT_TABLES and NOT_CONTENT_TABLES"
            );
        }
    }

    #[test]
    fn every_write_to_room_content_goes_through_a_room_tx() {
        let mut files = Vec::new();
        rust_files(&root().join("src"), &mut files);
        let mut writers = 0;
        for file in files {
            let relative = file.strip_prefix(root().join("src")).unwrap();
            let relative = relative.to_string_lossy().replace('\\', "/");
            let source = std::fs::read_to_string(&file).unwrap();
            // Test modules come last in every file; their fixtures are not the app's writers.
            let source = source.split("#[cfg(test)]").next().unwrap_or_default();
            for (name, signature, body) in functions(source) {
                let tables = written_tables(&body);
                let Some(table) = tables.iter().find(|t| CONTENT_TABLES.contains(&t.as_str()))
                else {
                    continue;
                };
                writers += 1;
                let exempt = EXEMPT.iter().any(|(f, n, _)| *f == relative && *n == name);
                assert!(
                    exempt || signature.contains("RoomTx"),
                    "{relative}: fn {name} writes {table} but does not take a RoomTx"
                );
            }
        }
        assert!(
            writers > 30,
            "only {writers} writers found: the scan is broken"
        );
    }

    #[test]
    fn the_scan_sees_a_write_and_its_table() {
        let source = "pub async fn sneaky(tx: &mut AnyConnection) -> sqlx::Result<()> {\n    sqlx::query(\"UPDATE decisions SET title = $1\").execute(tx).await?;\n}\n";
        let found = functions(source);
        assert_eq!(found.len(), 1);
        assert_eq!(written_tables(&found[0].2), ["decisions"]);
        assert!(!found[0].1.contains("RoomTx"));
        assert!(written_tables("ON CONFLICT (a) DO UPDATE SET b = excluded.b").is_empty());
    }
}
