//! What a polling page says it last saw: `…/live?version=N`. The room's version lives in the
//! database, so one compare answers "changed?" on any instance.

use serde::Deserialize;

use crate::rooms::model::Room;

#[derive(Deserialize)]
pub struct Seen {
    version: Option<i64>,
}

impl Seen {
    /// Whether the page already shows `room` as it is now (answer `204 No Content`).
    pub fn is_current(&self, room: &Room) -> bool {
        self.version == Some(room.version)
    }
}
