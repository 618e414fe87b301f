//! Values remembered per id — a person's *Needs you*, a customer's contact activity — while the
//! stamp the database keeps for that id, and the minute, are unchanged. Every write that changes
//! such a value bumps its stamp, and a page reads the stamp with its session, so no instance
//! serves a value older than the record; the minute bounds what depends on the time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Millis;

/// What a remembered value depends on: its stamp and the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    stamp: i64,
    minute: i64,
}

impl Fingerprint {
    pub fn new(stamp: i64, now: Millis) -> Fingerprint {
        Fingerprint {
            stamp,
            minute: now / 60_000,
        }
    }
}

impl Fingerprint {
    /// Whether a value read at `self` is newer than one read at `other` in every respect: a
    /// later stamp, and not an earlier minute.
    fn supersedes(&self, other: &Fingerprint) -> bool {
        self.stamp > other.stamp && self.minute >= other.minute
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.stamp, self.minute)
    }
}

type Entries<V> = HashMap<i64, (Fingerprint, Arc<V>)>;

/// The ids being read now, each with the lock its readers take turns on.
type Reads = HashMap<i64, Arc<tokio::sync::Mutex<()>>>;

/// One value per id, each with the fingerprint it was read at. Past `capacity` ids it starts
/// over: a bound, not an eviction policy, since reading a value again costs one statement.
pub struct StampedCache<V> {
    entries: Arc<Mutex<Entries<V>>>,
    reads: Arc<Mutex<Reads>>,
    capacity: usize,
}

impl<V> Clone for StampedCache<V> {
    fn clone(&self) -> Self {
        StampedCache {
            entries: Arc::clone(&self.entries),
            reads: Arc::clone(&self.reads),
            capacity: self.capacity,
        }
    }
}

impl<V> StampedCache<V> {
    pub fn new(capacity: usize) -> StampedCache<V> {
        StampedCache {
            entries: Arc::default(),
            reads: Arc::default(),
            capacity,
        }
    }

    /// The value for `id` whose stamp, read with the request, is `stamp`: remembered while the
    /// stamp and the minute are unchanged, else `read` afresh and remembered. With no stamp (one
    /// was not read with this request) it is read and not remembered.
    ///
    /// Requests that miss the same id at once read it one at a time, and each looks again before
    /// it reads: when the minute turns, a person's open pages read their list once, not once
    /// each. Different ids are read side by side.
    pub async fn get_or_read<E>(
        &self,
        id: i64,
        stamp: Option<i64>,
        now: Millis,
        read: impl Future<Output = Result<V, E>>,
    ) -> Result<Arc<V>, E> {
        let Some(stamp) = stamp else {
            return Ok(Arc::new(read.await?));
        };
        if let Some(known) = self.get(id, stamp, now) {
            return Ok(known);
        }
        let turn = Turn::take(&self.reads, id);
        let _reading = turn.lock.lock().await;
        if let Some(known) = self.get(id, stamp, now) {
            return Ok(known);
        }
        Ok(self.put(id, stamp, now, read.await?))
    }

    /// The value remembered for `id` at exactly this stamp and minute.
    pub fn get(&self, id: i64, stamp: i64, now: Millis) -> Option<Arc<V>> {
        let seen = Fingerprint::new(stamp, now);
        match self.lock().get(&id) {
            Some((at, value)) if *at == seen => Some(Arc::clone(value)),
            _ => None,
        }
    }

    /// Remembers `value`, read at `stamp` and `now`, for `id`, unless a newer one is already
    /// remembered: a request that read its stamp before a change may finish its read after a
    /// request that read after it, and must not put the older list back. It is returned either
    /// way (its request shows what its stamp named).
    pub fn put(&self, id: i64, stamp: i64, now: Millis, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let read_at = Fingerprint::new(stamp, now);
        let mut entries = self.lock();
        if entries
            .get(&id)
            .is_some_and(|(kept, _)| kept.supersedes(&read_at))
        {
            return value;
        }
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(id, (read_at, Arc::clone(&value)));
        value
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        locked(&self.entries)
    }
}

/// A place in the line of requests reading one id; the last to leave removes the line.
struct Turn<'c> {
    reads: &'c Mutex<Reads>,
    id: i64,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'c> Turn<'c> {
    fn take(reads: &'c Mutex<Reads>, id: i64) -> Turn<'c> {
        let lock = Arc::clone(locked(reads).entry(id).or_default());
        Turn { reads, id, lock }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut reads = locked(self.reads);
        // Turns are taken and left under this lock: two references are the line's and ours.
        if Arc::strong_count(&self.lock) == 2 {
            reads.remove(&self.id);
        }
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold no invariant a panicking holder could break half-way.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Millis = 60_000;

    #[test]
    fn a_value_is_served_only_at_its_stamp_and_within_its_minute() {
        let cache = StampedCache::new(10);
        cache.put(7, 3, 5 * MINUTE, "read at stamp 3");
        assert_eq!(
            cache.get(7, 3, 5 * MINUTE + 59_999).as_deref(),
            Some(&"read at stamp 3")
        );
        assert_eq!(
            cache.get(7, 4, 5 * MINUTE),
            None,
            "a write bumped the stamp"
        );
        assert_eq!(cache.get(7, 3, 6 * MINUTE), None, "the minute turned");
        assert_eq!(cache.get(8, 3, 5 * MINUTE), None, "another id");
    }

    #[test]
    fn a_read_that_finishes_late_does_not_replace_a_newer_value() {
        let cache = StampedCache::new(10);
        cache.put(7, 5, 5 * MINUTE, "read after the change");
        let late = cache.put(7, 4, 5 * MINUTE, "read before it");
        assert_eq!(*late, "read before it", "its own request still shows it");
        assert_eq!(
            cache.get(7, 5, 5 * MINUTE).as_deref(),
            Some(&"read after the change")
        );
        assert_eq!(cache.get(7, 4, 5 * MINUTE), None);
        // A newer value from a minute that has passed is no use to anyone: a later minute's
        // value replaces it, whatever its stamp.
        cache.put(7, 4, 6 * MINUTE, "read in the next minute");
        assert_eq!(
            cache.get(7, 4, 6 * MINUTE).as_deref(),
            Some(&"read in the next minute")
        );
        // The same stamp read again within its minute replaces it as before.
        cache.put(7, 4, 6 * MINUTE, "read again");
        assert_eq!(cache.get(7, 4, 6 * MINUTE).as_deref(), Some(&"read again"));
    }

    #[tokio::test]
    async fn a_value_is_read_once_per_stamp_and_never_remembered_without_one() {
        let cache = StampedCache::new(10);
        let reads = std::cell::Cell::new(0);
        let read = || async {
            reads.set(reads.get() + 1);
            Ok::<_, ()>(reads.get())
        };
        assert_eq!(*cache.get_or_read(1, Some(3), 0, read()).await.unwrap(), 1);
        assert_eq!(*cache.get_or_read(1, Some(3), 0, read()).await.unwrap(), 1);
        assert_eq!(*cache.get_or_read(1, Some(4), 0, read()).await.unwrap(), 2);
        assert_eq!(*cache.get_or_read(1, None, 0, read()).await.unwrap(), 3);
        assert_eq!(*cache.get_or_read(1, None, 0, read()).await.unwrap(), 4);
        assert_eq!(*cache.get_or_read(1, Some(4), 0, read()).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn requests_that_miss_one_id_together_read_it_once() {
        let cache = StampedCache::new(10);
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // No read finishes until the test lets them all.
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let (cache, reads, release) = (cache.clone(), reads.clone(), release.clone());
                tokio::spawn(async move {
                    let read = async {
                        reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = release.acquire().await;
                        Ok::<_, ()>("the list")
                    };
                    cache.get_or_read(1, Some(3), 0, read).await
                })
            })
            .collect();
        // Every request has missed and all but the first wait for its read.
        while reads.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        release.add_permits(8);
        for request in requests {
            assert_eq!(*request.await.unwrap().unwrap(), "the list");
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(locked(&cache.reads).is_empty(), "the line is gone");
    }

    #[tokio::test]
    async fn different_ids_are_read_side_by_side() {
        let cache = StampedCache::new(10);
        // Each read waits for the other to start: read one at a time, they would never finish.
        let both = Arc::new(tokio::sync::Barrier::new(2));
        let read = |id: i64| {
            let (cache, both) = (cache.clone(), both.clone());
            tokio::spawn(async move {
                let read = async {
                    both.wait().await;
                    Ok::<_, ()>(id)
                };
                cache.get_or_read(id, Some(1), 0, read).await
            })
        };
        let (one, two) = (read(1), read(2));
        let finished = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            (*one.await.unwrap().unwrap(), *two.await.unwrap().unwrap())
        });
        assert_eq!(finished.await.expect("both read at once"), (1, 2));
    }

    #[tokio::test]
    async fn a_read_that_fails_leaves_the_next_request_to_read_again() {
        let cache = StampedCache::<i64>::new(10);
        let failed = cache
            .get_or_read(1, Some(1), 0, async { Err("down") })
            .await;
        assert_eq!(failed.err(), Some("down"));
        let read = cache
            .get_or_read(1, Some(1), 0, async { Ok::<_, &str>(5) })
            .await;
        assert_eq!(*read.unwrap(), 5);
        assert!(locked(&cache.reads).is_empty());
    }

    #[test]
    fn past_its_capacity_the_cache_starts_over() {
        let cache = StampedCache::new(2);
        cache.put(1, 0, 0, 'a');
        cache.put(2, 0, 0, 'b');
        cache.put(3, 0, 0, 'c');
        assert_eq!(cache.get(1, 0, 0), None);
        assert_eq!(cache.get(3, 0, 0).as_deref(), Some(&'c'));
    }
}
