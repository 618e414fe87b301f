//! `RoomChange`: the one way to change a room. It opens the write transaction, locks the room
//! (bumping its version for live pages), reloads it and the viewer's membership, and checks the
//! action — so every rule is checked inside the transaction that writes. Dropping it without
//! `commit` rolls everything back, the version bump included.

use sqlx::{Any, AnyConnection, Transaction};

use super::access::{Action, Refusal, Viewer, check};
use super::model::{self, Room};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::error::AppError;
use crate::timeline;

pub struct RoomChange {
    pub tx: Transaction<'static, Any>,
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
        let now = state.clock.now();
        let mut tx = state.db.begin_write().await?;
        if !model::lock_for_change(&mut tx, room_id, now).await? {
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

    /// The open transaction, for the module's own queries.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The transaction, the locked room and the time of the change, borrowed together.
    pub fn parts(&mut self) -> (&mut AnyConnection, &Room, Millis) {
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
    room_for(conn, room_id, user, Action::Read).await
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
