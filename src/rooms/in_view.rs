//! The room a page is about, read in the same statement as the session: a signed-in view of a
//! room, a draft or a pre-read — and each of their live checks — proves session, user,
//! membership and room version in one round trip.
//!
//! [`scope`] wraps the pages that read one room (a layer on their routers, `GET` only). It names
//! the room for the request; the session store, when it loads the session inside that scope,
//! joins the room and the viewer's membership ([`select`]) and leaves what it read here
//! ([`remember`]); [`take`] hands it to the handler's `read_room` once. A request outside a scope,
//! or one whose session was loaded before it, reads the room itself as before — the same rule,
//! one statement more. Nothing read here outlives the request, so deactivation and removal take
//! effect on the very next request on every instance.

use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::model::{self, Room};

/// The room of this request and, once the session is loaded, what was read of it.
struct InView {
    room_id: i64,
    read: Mutex<Option<Read>>,
    /// The stamp of the room's customer's contact activity (`contact_log::model::ActivityCache`).
    activity_stamp: OnceLock<i64>,
}

/// What the session's statement read: for this user, the room (`None`: no such room) and their
/// membership kind (`None`: not a member).
struct Read {
    user_id: i64,
    room: Option<(Room, Option<String>)>,
}

tokio::task_local! {
    static IN_VIEW: Arc<InView>;
}

/// The layer: runs a `GET` of `/rooms/{id}/…` with its room named, so the session is read with it.
pub async fn scope(request: Request, next: Next) -> Response {
    let room_id = match *request.method() {
        Method::GET | Method::HEAD => room_in_path(request.uri().path()),
        _ => None,
    };
    match room_id {
        Some(room_id) => {
            let in_view = Arc::new(InView {
                room_id,
                read: Mutex::new(None),
                activity_stamp: OnceLock::new(),
            });
            IN_VIEW.scope(in_view, next.run(request)).await
        }
        None => next.run(request).await,
    }
}

/// The room id of a path under `/rooms/{id}`.
fn room_in_path(path: &str) -> Option<i64> {
    let rest = path.strip_prefix("/rooms/")?;
    rest.split('/').next()?.parse().ok()
}

/// The room this request is about, if it runs in a scope that has not read it yet.
pub fn requested() -> Option<i64> {
    IN_VIEW
        .try_with(|in_view| {
            let unread = lock(&in_view.read).is_none();
            unread.then_some(in_view.room_id)
        })
        .ok()
        .flatten()
}

/// The columns and joins the session's statement adds (built once, by the session store): the room
/// as `rooms::model` reads it, the viewer's membership, and the stamp of the customer's contact
/// activity. `$3` is the room, `s.user_id` the session's user.
pub fn select() -> (String, &'static str) {
    let columns = model::COLUMNS
        .split(',')
        .map(|column| {
            let column = column.trim();
            format!("r.{column} AS {column}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        format!(
            "r.id AS room_found, {columns}, m.kind AS viewer_kind, \
             cu.activity_stamp AS customer_activity_stamp"
        ),
        "LEFT JOIN rooms r ON r.id = $3 \
         LEFT JOIN members m ON m.room_id = r.id AND m.user_id = s.user_id \
         LEFT JOIN customers cu ON cu.id = r.customer_id",
    )
}

/// Keeps what the session's statement read of the room for `user_id` (`None`: nobody signed in).
pub fn remember(user_id: Option<i64>, row: &AnyRow) -> sqlx::Result<()> {
    let Some(user_id) = user_id else {
        return Ok(());
    };
    let room = match row.try_get::<Option<i64>, _>("room_found")? {
        Some(_) => Some((Room::from_row(row)?, row.try_get("viewer_kind")?)),
        None => None,
    };
    let activity_stamp: Option<i64> = row.try_get("customer_activity_stamp")?;
    // Outside a scope there is nothing to keep it for.
    let _ = IN_VIEW.try_with(|in_view| {
        *lock(&in_view.read) = Some(Read { user_id, room });
        if let Some(stamp) = activity_stamp {
            let _ = in_view.activity_stamp.set(stamp);
        }
    });
    Ok(())
}

/// The stamp of `room_id`'s customer's contact activity, as read with the session (`None`: it
/// was not read with it).
pub fn activity_stamp(room_id: i64) -> Option<i64> {
    IN_VIEW
        .try_with(|in_view| {
            (in_view.room_id == room_id)
                .then(|| in_view.activity_stamp.get().copied())
                .flatten()
        })
        .ok()
        .flatten()
}

/// What the session's statement read of `room_id` for `user_id`, once: `Some(None)` when the room
/// does not exist, `None` when it was not read with the session (the caller reads it itself).
pub fn take(room_id: i64, user_id: i64) -> Option<Option<(Room, Option<String>)>> {
    IN_VIEW
        .try_with(|in_view| {
            if in_view.room_id != room_id {
                return None;
            }
            let mut read = lock(&in_view.read);
            match read.as_ref() {
                Some(r) if r.user_id == user_id => read.take().map(|r| r.room),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

fn lock(read: &Mutex<Option<Read>>) -> std::sync::MutexGuard<'_, Option<Read>> {
    // The slot holds no invariant a panicking holder could break half-way.
    read.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_is_named_by_the_first_segment_after_rooms() {
        assert_eq!(room_in_path("/rooms/42"), Some(42));
        assert_eq!(room_in_path("/rooms/42/live"), Some(42));
        assert_eq!(room_in_path("/rooms/7/drafts/3/live"), Some(7));
        assert_eq!(room_in_path("/rooms/new"), None);
        assert_eq!(room_in_path("/rooms/"), None);
        assert_eq!(room_in_path("/pre-reads"), None);
        assert_eq!(room_in_path("/rooms/-1x"), None);
    }

    #[test]
    fn every_room_column_is_read_from_the_room() {
        let (columns, _) = select();
        for column in model::COLUMNS.split(',').map(str::trim) {
            assert!(
                columns.contains(&format!("r.{column} AS {column}")),
                "{column}"
            );
        }
    }

    #[tokio::test]
    async fn what_was_read_is_handed_over_once_to_the_same_person_for_the_same_room() {
        let in_view = Arc::new(InView {
            room_id: 5,
            read: Mutex::new(None),
            activity_stamp: OnceLock::new(),
        });
        IN_VIEW
            .scope(in_view, async {
                assert_eq!(requested(), Some(5));
                *lock(&IN_VIEW.with(Arc::clone).read) = Some(Read {
                    user_id: 9,
                    room: None,
                });
                assert_eq!(requested(), None, "read already");
                assert!(take(6, 9).is_none(), "another room");
                assert!(take(5, 8).is_none(), "another person");
                assert!(matches!(take(5, 9), Some(None)));
                assert!(take(5, 9).is_none(), "only once");
            })
            .await;
        assert_eq!(requested(), None, "outside a scope");
        assert!(take(5, 9).is_none());
    }
}
