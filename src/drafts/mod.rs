//! Customer email drafts: composing and revising (every save a new numbered revision), reading
//! any revision and the difference between two, PM alignment on the exact current revision, and
//! sending through the gate into the outbox.

pub mod align;
pub mod compose;
pub mod gate;
pub mod model;
pub mod notify;
pub mod panel;
pub mod render;
pub mod send;
pub mod show;

use axum::Router;
use sqlx::AnyConnection;

use crate::AppState;
use crate::approvals::absence::Absence;
use crate::approvals::{self, Alignment, SubjectKind};
use crate::clock::Millis;
use crate::customers::model::{self as customers, Contact};
use crate::error::AppError;
use crate::members::model::{self as members, Member};
use crate::outbox::model::{self as outbox, OutboxState};
use crate::outreach::model::{self as outreach, Pause};
use crate::rooms::model::Room;
use crate::web::time::Zone;
use gate::{Delivery, SendAttempt};
use model::{Draft, Revision};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(compose::router())
        .merge(show::router())
        .merge(align::router())
        .merge(send::router())
}

/// A draft with everything the gate and the page look at, read on one connection.
pub struct DraftState {
    pub draft: Draft,
    pub current: Revision,
    pub members: Vec<Member>,
    pub alignment: Vec<(Member, Alignment)>,
    /// The room's PMs away now, with their stand-ins.
    pub away: Vec<Absence>,
    pub contacts: Vec<Contact>,
    pub pause: Option<Pause>,
    pub delivery: Option<outbox::Entry>,
}

impl DraftState {
    pub async fn load(
        conn: &mut AnyConnection,
        room: &Room,
        draft_id: i64,
        now: Millis,
    ) -> Result<DraftState, AppError> {
        let draft = model::find(conn, room.id, draft_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let current = model::revision(conn, draft.id, draft.current_revision)
            .await?
            .ok_or(AppError::NotFound)?;
        let members = members::list(conn, room.id).await?;
        let (alignment, away) = approvals::standing(
            conn,
            SubjectKind::Draft,
            draft.id,
            (room.id, &members),
            draft.current_revision,
            now,
        )
        .await?;
        let delivery = match draft.outbox_id {
            Some(id) => outbox::find(conn, id).await?,
            None => None,
        };
        Ok(DraftState {
            alignment,
            away,
            contacts: customers::contacts_of(&mut *conn, room.customer_id).await?,
            pause: outreach::active(conn, room.id, now).await?,
            members,
            delivery,
            current,
            draft,
        })
    }

    /// The contact with this id, if it belongs to the room's customer.
    pub fn contact(&self, id: i64) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    fn delivery(&self) -> Delivery {
        match self.delivery.as_ref().map(|d| d.state) {
            None | Some(OutboxState::Failed) => Delivery::NotQueued,
            Some(OutboxState::Sent) => Delivery::Sent,
            Some(_) => Delivery::InProgress,
        }
    }

    /// Every recipient's address, and whether it is a contact of the room's customer.
    pub async fn recipients(&self, conn: &mut AnyConnection) -> sqlx::Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for id in self.current.recipient_ids() {
            match self.contact(id) {
                Some(contact) => out.push((contact.email.clone(), true)),
                None => {
                    let other = customers::find_contact(&mut *conn, id).await?;
                    out.push((other.map_or(format!("contact #{id}"), |c| c.email), false));
                }
            }
        }
        Ok(out)
    }

    /// The gate for `sender`, who saw `seen_revision`.
    pub fn readiness(
        &self,
        room: &Room,
        sender_id: i64,
        seen_revision: i64,
        recipients: &[(String, bool)],
        zone: Zone,
    ) -> Result<(), Vec<gate::Blocker>> {
        let unknown = Member {
            user_id: room.communicator_user_id,
            name: "the communicator".to_owned(),
            title: String::new(),
            kind: crate::members::model::MemberKind::Pm,
        };
        let communicator = self
            .members
            .iter()
            .find(|m| m.user_id == room.communicator_user_id)
            .unwrap_or(&unknown);
        gate::delivery_readiness(&SendAttempt {
            sender_id,
            communicator,
            room_closed: room.is_closed(),
            pause: self.pause.as_ref(),
            alignment: &self.alignment,
            current_revision: self.draft.current_revision,
            seen_revision,
            recipients,
            delivery: self.delivery(),
            zone,
        })
    }
}
