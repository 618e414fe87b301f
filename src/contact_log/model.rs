//! The queries over `contact_touches`: each contact's week of touches (for the warnings, remembered
//! per customer), a room's recent touches, and writing one.

use std::sync::Arc;

use sqlx::{AnyConnection, Row};

use super::rules::{self, Channel, ContactActivity, WEEK};
use crate::clock::Millis;
use crate::customers::model::Contact;
use crate::db::OnDemand;
use crate::rooms::change::RoomTx;
use crate::stamped::StampedCache;

/// Each contact of a customer with its touches of the last week.
pub type Activity = Vec<(Contact, ContactActivity)>;

/// Customers whose activity is remembered at most; past it, the cache starts over.
const CACHED_CUSTOMERS: usize = 10_000;

/// Each customer's [`Activity`], remembered by the customer's stamp (bumped in the transaction
/// that records a touch or adds a contact) and the minute (touches leave the week as time passes).
/// The room page reads the stamp with its session, so a touch logged in any room of the customer,
/// on any instance, shows on the next view.
#[derive(Clone)]
pub struct ActivityCache {
    customers: StampedCache<Activity>,
}

impl Default for ActivityCache {
    fn default() -> Self {
        ActivityCache {
            customers: StampedCache::new(CACHED_CUSTOMERS),
        }
    }
}

impl ActivityCache {
    /// The activity of `customer_id`, whose stamp read with the session is `stamp`: remembered
    /// while it is unchanged, else read afresh (and always read when no stamp was read).
    pub async fn get(
        &self,
        conn: &mut OnDemand<'_>,
        customer_id: i64,
        stamp: Option<i64>,
        now: Millis,
    ) -> sqlx::Result<Arc<Activity>> {
        let read = async { activity(conn.get().await?, customer_id, now).await };
        self.customers
            .get_or_read(customer_id, stamp, now, read)
            .await
    }
}

/// How each contact of the customer has been touched lately, across all rooms.
pub async fn activity(
    conn: &mut AnyConnection,
    customer_id: i64,
    now: Millis,
) -> sqlx::Result<Activity> {
    // One round trip: each contact, with its touches of the last week (none: one row of NULLs).
    let rows = sqlx::query(
        "SELECT c.id, c.customer_id, c.name, c.email, c.title, \
         t.touched_at, t.by_user_id, u.name, t.channel, c.time_zone FROM contacts c \
         LEFT JOIN contact_touches t ON t.contact_id = c.id AND t.touched_at >= $2 \
         AND t.direction = 'outbound' \
         LEFT JOIN users u ON u.id = t.by_user_id \
         WHERE c.customer_id = $1 ORDER BY c.name, c.id, t.touched_at DESC",
    )
    .bind(customer_id)
    .bind(now - WEEK)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(Contact, ContactActivity)> = Vec::new();
    for row in &rows {
        let contact_id: i64 = row.try_get(0)?;
        if out.last().is_none_or(|(c, _)| c.id != contact_id) {
            let contact = Contact {
                id: contact_id,
                customer_id: row.try_get(1)?,
                name: row.try_get(2)?,
                email: row.try_get(3)?,
                title: row.try_get(4)?,
                time_zone: row.try_get(9)?,
            };
            out.push((
                contact,
                ContactActivity {
                    touches: Vec::new(),
                },
            ));
        }
        let Some(at) = row.try_get::<Option<Millis>, _>(5)? else {
            continue;
        };
        let channel: String = row.try_get(8)?;
        if let Some((_, activity)) = out.last_mut() {
            activity.touches.push(rules::Touch {
                at,
                by_user_id: row.try_get(6)?,
                by_name: row.try_get(7)?,
                channel: Channel::parse(&channel).unwrap_or(Channel::Email),
            });
        }
    }
    Ok(out)
}

/// A recent touch of this room's customer, for the room page.
#[derive(Clone, Debug)]
pub struct LoggedTouch {
    /// The customer wrote to us (a received email), rather than one of us reaching them.
    pub inbound: bool,
    /// Logged by hand, or from an engagement nobody cleared: not coordinated.
    pub uncoordinated: bool,
    /// The engagement it was the outcome of.
    pub engagement_id: Option<i64>,
    pub contact: String,
    pub channel: Channel,
    pub summary: String,
    pub by: String,
    pub at: Millis,
}

pub async fn recent_in_room(
    conn: &mut AnyConnection,
    room_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<LoggedTouch>> {
    let rows = sqlx::query(
        "SELECT c.name, t.channel, t.summary, u.name, t.touched_at, t.direction, t.uncoordinated, \
         t.engagement_id FROM contact_touches t \
         JOIN contacts c ON c.id = t.contact_id JOIN users u ON u.id = t.by_user_id \
         WHERE t.room_id = $1 ORDER BY t.touched_at DESC, t.id DESC LIMIT $2",
    )
    .bind(room_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let channel: String = row.try_get(1)?;
            let direction: String = row.try_get(5)?;
            Ok(LoggedTouch {
                inbound: direction == "inbound",
                uncoordinated: row.try_get::<i64, _>(6)? != 0,
                engagement_id: row.try_get(7)?,
                contact: row.try_get(0)?,
                channel: Channel::parse(&channel).unwrap_or(Channel::Email),
                summary: row.try_get(2)?,
                by: row.try_get(3)?,
                at: row.try_get(4)?,
            })
        })
        .collect()
}

/// Where a touch comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A customer email Accord sent through the gate: coordinated by construction.
    Sent,
    /// The customer wrote to us: never counted against the touch limit.
    Received,
    /// Logged by hand after the fact: it was not coordinated, and the record says so.
    LoggedByHand,
    /// An engagement's outcome; `coordinated` when its topic's voice had cleared it.
    Engagement { id: i64, coordinated: bool },
}

impl Origin {
    fn is_uncoordinated(self) -> bool {
        matches!(
            self,
            Origin::LoggedByHand
                | Origin::Engagement {
                    coordinated: false,
                    ..
                }
        )
    }
}

/// A touch to write (also used when a sent email logs itself, when the customer's email comes
/// in, and when an engagement's outcome is recorded).
pub struct NewTouch<'a> {
    pub origin: Origin,
    pub room_id: i64,
    pub contact_id: i64,
    pub channel: Channel,
    pub summary: &'a str,
    pub touched_at: Millis,
    pub by: i64,
}

pub async fn insert(tx: &mut RoomTx, touch: &NewTouch<'_>, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO contact_touches (room_id, contact_id, channel, summary, touched_at, by_user_id, \
         created_at, direction, engagement_id, uncoordinated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(touch.room_id)
    .bind(touch.contact_id)
    .bind(touch.channel.as_str())
    .bind(touch.summary)
    .bind(touch.touched_at)
    .bind(touch.by)
    .bind(now)
    .bind(match touch.origin {
        Origin::Received => "inbound",
        _ => "outbound",
    })
    .bind(match touch.origin {
        Origin::Engagement { id, .. } => Some(id),
        _ => None,
    })
    .bind(i64::from(touch.origin.is_uncoordinated()))
    .execute(tx.room(touch.room_id))
    .await?;
    // Every room of this customer shows the touch: their remembered activity is stale now.
    sqlx::query(
        "UPDATE customers SET activity_stamp = activity_stamp + 1 \
         WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)",
    )
    .bind(touch.contact_id)
    .execute(tx.room(touch.room_id))
    .await?;
    Ok(())
}
