//! The insights each reader sees, computed once and served until the record changes. A reading
//! covers every room in the reader's scope (all of them for a director), so computing it grows
//! with the rooms; serving it again must not. An entry is kept with the fingerprint of the
//! record it read and is served only while that fingerprint is unchanged, which a statement on
//! two indexes answers whatever the number of rooms:
//!
//! - every change to a room's record goes through a `RoomTx`, which sets `rooms.updated_at`
//!   (`rooms_recent` index), so `MAX(updated_at)` moves with any change to any room — unless two
//!   land in the same millisecond, which `MAX(timeline_events.id)` catches for every change that
//!   leaves a timeline entry (nearly all);
//! - the one measure written outside a room change, a similar question shown, moves
//!   `MAX(similar_question_checks.id)`.
//!
//! What the fingerprint cannot see — time passing (cadences promised, a pause running), a rename
//! of a person or a decision type, two writers committing out of order in the same millisecond —
//! is bounded by [`FRESH_FOR`]: after a minute an entry is computed again. The page says when
//! its figures are from. One computation runs at a time per instance; others wait for it and
//! take its result rather than reading the whole record again in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::{AnyConnection, AnyPool};

use super::insights::{self, Insights};
use crate::clock::Millis;

/// How long an entry is served, at most, whatever the fingerprint says.
pub const FRESH_FOR: Millis = 60_000;
/// Entries kept (one per reader and period): the oldest computed goes first.
const CAPACITY: usize = 256;

/// Whose insights, over which period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub user_id: i64,
    /// An administrator reads every room; kept in the key so a change of role is seen at once.
    pub is_admin: bool,
    /// The period in days (0: all time).
    pub days: i64,
}

/// What the record looked like: the latest room change, timeline entry and similar question shown.
type Fingerprint = (i64, i64, i64);

struct Entry {
    fingerprint: Fingerprint,
    insights: Arc<Insights>,
}

/// The per-instance cache of computed insights.
#[derive(Clone, Default)]
pub struct InsightsCache {
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
    computing: Arc<tokio::sync::Mutex<()>>,
}

async fn fingerprint(conn: &mut AnyConnection) -> sqlx::Result<Fingerprint> {
    sqlx::query_as(
        "SELECT CAST(COALESCE((SELECT MAX(updated_at) FROM rooms), 0) AS BIGINT), \
         CAST(COALESCE((SELECT MAX(id) FROM timeline_events), 0) AS BIGINT), \
         CAST(COALESCE((SELECT MAX(id) FROM similar_question_checks), 0) AS BIGINT)",
    )
    .fetch_one(conn)
    .await
}

/// Whether an entry computed at `computed_at` from `was` may still be served at `now`.
fn is_fresh(was: Fingerprint, is: Fingerprint, computed_at: Millis, now: Millis) -> bool {
    was == is && (0..FRESH_FOR).contains(&(now - computed_at))
}

impl InsightsCache {
    /// The insights for `key`, from the cache while the record is unchanged, else computed. A
    /// request waiting for another's computation holds no connection meanwhile.
    pub async fn get(&self, pool: &AnyPool, key: Key, now: Millis) -> sqlx::Result<Arc<Insights>> {
        let current = fingerprint(&mut *pool.acquire().await?).await?;
        if let Some(hit) = self.lookup(key, current, now) {
            return Ok(hit);
        }
        let _turn = self.computing.lock().await;
        let mut conn = pool.acquire().await?;
        // Someone may have computed it while this request waited.
        let current = fingerprint(&mut conn).await?;
        if let Some(hit) = self.lookup(key, current, now) {
            return Ok(hit);
        }
        let insights = Arc::new(insights::compute(&mut conn, key, now).await?);
        let mut entries = self.entries.lock().expect("insights cache lock");
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.insights.computed_at)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key,
            Entry {
                fingerprint: current,
                insights: insights.clone(),
            },
        );
        Ok(insights)
    }

    fn lookup(&self, key: Key, current: Fingerprint, now: Millis) -> Option<Arc<Insights>> {
        let entries = self.entries.lock().expect("insights cache lock");
        let entry = entries.get(&key)?;
        is_fresh(entry.fingerprint, current, entry.insights.computed_at, now)
            .then(|| entry.insights.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_only_while_the_record_is_unchanged_and_for_a_minute_at_most() {
        let at = 1_000_000;
        let seen = (5, 9, 2);
        assert!(is_fresh(seen, seen, at, at));
        assert!(is_fresh(seen, seen, at, at + FRESH_FOR - 1));
        assert!(!is_fresh(seen, seen, at, at + FRESH_FOR), "too old");
        assert!(!is_fresh(seen, (6, 9, 2), at, at), "a room changed");
        assert!(
            !is_fresh(seen, (5, 10, 2), at, at),
            "in the same millisecond"
        );
        assert!(
            !is_fresh(seen, (5, 9, 3), at, at),
            "a similar question shown"
        );
        assert!(!is_fresh(seen, seen, at, at - 1), "a clock that went back");
    }
}
