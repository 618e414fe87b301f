//! Writers to one room take turns inside the process before they take a database connection.
//! The room's row lock (`rooms::model::lock_for_change`) is what keeps two writers apart, on any
//! number of instances; this queue only makes the ones on the same instance wait without holding
//! a pooled connection. Without it, on PostgreSQL, a burst of writes to one room held most of the
//! pool while they waited for that row, and every page view queued behind them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

/// How many rooms may be remembered before rooms nobody is writing to are forgotten.
const REMEMBERED: usize = 1024;

#[derive(Debug, Default)]
pub struct WriteQueues {
    rooms: Mutex<HashMap<i64, Weak<tokio::sync::Mutex<()>>>>,
}

/// This instance's turn at writing to some rooms; the next writer to any of them goes when it is
/// dropped.
#[derive(Debug)]
pub struct Turn {
    _held: Vec<OwnedMutexGuard<()>>,
}

impl WriteQueues {
    /// Waits for this instance's turn at every room in `rooms`, taken in id order (as the row
    /// locks are) so two writers never wait on each other in a cycle.
    pub async fn turn(&self, rooms: &BTreeSet<i64>) -> Turn {
        let mut held = Vec::with_capacity(rooms.len());
        for &room in rooms {
            let queue = self.queue(room);
            held.push(queue.lock_owned().await);
        }
        Turn { _held: held }
    }

    fn queue(&self, room: i64) -> Arc<tokio::sync::Mutex<()>> {
        // The map holds no invariant a panicking holder could break half-way.
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queue) = rooms.get(&room).and_then(Weak::upgrade) {
            return queue;
        }
        if rooms.len() >= REMEMBERED {
            rooms.retain(|_, queue| queue.strong_count() > 0);
        }
        let queue = Arc::new(tokio::sync::Mutex::new(()));
        rooms.insert(room, Arc::downgrade(&queue));
        queue
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.rooms.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_second_writer_to_a_room_waits_for_the_first_and_other_rooms_do_not() {
        let queues = Arc::new(WriteQueues::default());
        let first = queues.turn(&BTreeSet::from([1, 2])).await;
        let same = {
            let queues = Arc::clone(&queues);
            tokio::spawn(async move { queues.turn(&BTreeSet::from([2])).await })
        };
        let three = BTreeSet::from([3]);
        let other = tokio::time::timeout(Duration::from_secs(1), queues.turn(&three)).await;
        assert!(other.is_ok(), "another room goes at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!same.is_finished(), "the same room waits");
        drop(first);
        let waited = tokio::time::timeout(Duration::from_secs(1), same).await;
        assert!(waited.is_ok(), "and goes when the first is done");
    }

    #[tokio::test]
    async fn rooms_nobody_writes_to_are_forgotten() {
        let queues = WriteQueues::default();
        for room in 0..(REMEMBERED as i64 * 3) {
            drop(queues.turn(&BTreeSet::from([room])).await);
        }
        assert!(queues.remembered() <= REMEMBERED);
    }
}
