//! The room itself: its row, its states, and the queries over the `rooms` table.

use sqlx::{Any, AnyConnection, Executor, FromRow, Row};

use super::change::RoomTx;
use super::parts::{PartVersions, Writes};
use crate::clock::Millis;
use crate::text_enum::text_enum;

text_enum! {
    /// How bad it is for the customer.
    pub enum Severity {
        S1 = "S1" => "S1 critical",
        S2 = "S2" => "S2 high",
        S3 = "S3" => "S3 normal",
    }
}

impl Severity {
    /// What the level means, shown on the form.
    pub fn explanation(self) -> &'static str {
        match self {
            Severity::S1 => "Production is down or the customer is about to leave. Daily updates.",
            Severity::S2 => {
                "A key workflow is blocked or trust is at risk. Updates every few days."
            }
            Severity::S3 => "A real problem with a workaround. Weekly updates.",
        }
    }

    /// How often the customer and leadership hear from the room unless it says otherwise.
    pub fn cadence_hours(self) -> i64 {
        match self {
            Severity::S1 => 24,
            Severity::S2 => 3 * 24,
            Severity::S3 => 7 * 24,
        }
    }
}

/// Which update a cadence paces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Leadership,
}

/// The cadences a room can choose, in hours (besides following its severity).
pub const CADENCE_CHOICES: &[i64] = &[4, 8, 12, 24, 2 * 24, 3 * 24, 7 * 24, 14 * 24];

/// "every 24 hours", "every 3 days", "every week".
pub fn cadence_words(hours: i64) -> String {
    match hours {
        168 => "every week".to_owned(),
        336 => "every 2 weeks".to_owned(),
        h if h > 24 && h % 24 == 0 => format!("every {} days", h / 24),
        1 => "every hour".to_owned(),
        h => format!("every {h} hours"),
    }
}

text_enum! {
    /// Open → resolved → closed; reopening goes back to open.
    pub enum RoomStatus {
        Open = "open" => "Open",
        Resolved = "resolved" => "Resolved",
        Closed = "closed" => "Closed",
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Room {
    pub id: i64,
    pub customer_id: i64,
    pub title: String,
    pub problem: String,
    severity: String,
    pub escalated_by_contact_id: Option<i64>,
    pub escalated_at: Millis,
    status: String,
    pub resolution: String,
    pub lead_user_id: i64,
    pub communicator_user_id: i64,
    pub next_customer_update_due: Option<Millis>,
    pub next_leadership_update_due: Option<Millis>,
    pub opened_by: i64,
    pub opened_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
    /// Hours between customer updates; `None` follows the severity.
    pub customer_cadence_hours: Option<i64>,
    /// Hours between leadership updates; `None` follows the severity.
    pub leadership_cadence_hours: Option<i64>,
    /// The version of each group of the room page's parts.
    #[sqlx(flatten)]
    pub parts: PartVersions,
}

impl Room {
    /// Hours between two updates to `audience`: the room's own cadence, else its severity's.
    pub fn cadence_hours(&self, audience: Audience) -> i64 {
        let own = match audience {
            Audience::Customer => self.customer_cadence_hours,
            Audience::Leadership => self.leadership_cadence_hours,
        };
        own.unwrap_or_else(|| self.severity().cadence_hours())
    }

    /// When the next update to `audience` falls due if one goes out at `now`.
    pub fn next_due_after(&self, audience: Audience, now: Millis) -> Millis {
        now + self.cadence_hours(audience) * 3_600_000
    }

    /// Who holds `role` in this room.
    pub fn holder(&self, role: crate::members::model::Role) -> i64 {
        match role {
            crate::members::model::Role::Lead => self.lead_user_id,
            crate::members::model::Role::Communicator => self.communicator_user_id,
        }
    }

    pub fn severity(&self) -> Severity {
        Severity::parse(&self.severity).unwrap_or(Severity::S3)
    }

    pub fn status(&self) -> RoomStatus {
        RoomStatus::parse(&self.status).unwrap_or(RoomStatus::Open)
    }

    pub fn is_closed(&self) -> bool {
        self.status() == RoomStatus::Closed
    }
}

/// The columns a [`Room`] is read from.
pub(crate) const COLUMNS: &str = "id, customer_id, title, problem, severity, escalated_by_contact_id, \
     escalated_at, status, resolution, lead_user_id, communicator_user_id, \
     next_customer_update_due, next_leadership_update_due, opened_by, opened_at, updated_at, \
     version, customer_cadence_hours, leadership_cadence_hours, decisions_version, \
     touches_version, email_version, rest_version";

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<Room>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM rooms WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The room, and the kind of member `user_id` is in it (`None` for a non-member), in one query.
pub async fn find_with_membership(
    conn: &mut AnyConnection,
    id: i64,
    user_id: i64,
) -> sqlx::Result<Option<(Room, Option<String>)>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, (SELECT kind FROM members m WHERE m.room_id = rooms.id AND m.user_id = $2) \
         AS viewer_kind FROM rooms WHERE id = $1"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((Room::from_row(&row)?, row.try_get("viewer_kind")?)))
        .transpose()
}

/// The text a search for customer or title matches against.
pub fn search_key(customer_name: &str, title: &str) -> String {
    format!("{} {}", customer_name, title).to_lowercase()
}

pub struct NewRoom<'a> {
    pub customer_id: i64,
    pub customer_name: &'a str,
    pub title: &'a str,
    pub problem: &'a str,
    pub severity: Severity,
    pub escalated_by_contact_id: Option<i64>,
    pub escalated_at: Millis,
    pub lead_user_id: i64,
    pub communicator_user_id: i64,
    pub next_customer_update_due: Option<Millis>,
    pub next_leadership_update_due: Option<Millis>,
    pub opened_by: i64,
}

pub(super) async fn insert(
    tx: &mut AnyConnection,
    room: &NewRoom<'_>,
    now: Millis,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO rooms (customer_id, title, search_key, problem, severity, \
         escalated_by_contact_id, escalated_at, status, lead_user_id, communicator_user_id, \
         next_customer_update_due, next_leadership_update_due, opened_by, opened_at, updated_at, \
         reply_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12, $13, $13, $14) RETURNING id",
    )
    .bind(room.customer_id)
    .bind(room.title)
    .bind(search_key(room.customer_name, room.title))
    .bind(room.problem)
    .bind(room.severity.as_str())
    .bind(room.escalated_by_contact_id)
    .bind(room.escalated_at)
    .bind(room.lead_user_id)
    .bind(room.communicator_user_id)
    .bind(room.next_customer_update_due)
    .bind(room.next_leadership_update_due)
    .bind(room.opened_by)
    .bind(now)
    // Every room has its reply address from the start (rooms older than inbound mail get one
    // at their next customer email).
    .bind(crate::inbound::config::new_token())
    .fetch_one(tx)
    .await
}

/// A room's editable details, checked.
pub struct Details {
    pub title: String,
    pub problem: String,
    pub severity: Severity,
    pub next_customer_update_due: Option<Millis>,
    pub next_leadership_update_due: Option<Millis>,
    pub customer_cadence_hours: Option<i64>,
    pub leadership_cadence_hours: Option<i64>,
}

pub async fn update_details(
    tx: &mut RoomTx,
    id: i64,
    customer_name: &str,
    details: &Details,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rooms SET title = $1, search_key = $2, problem = $3, severity = $4, \
         next_customer_update_due = $5, next_leadership_update_due = $6, \
         customer_cadence_hours = $7, leadership_cadence_hours = $8 WHERE id = $9",
    )
    .bind(&details.title)
    .bind(search_key(customer_name, &details.title))
    .bind(&details.problem)
    .bind(details.severity.as_str())
    .bind(details.next_customer_update_due)
    .bind(details.next_leadership_update_due)
    .bind(details.customer_cadence_hours)
    .bind(details.leadership_cadence_hours)
    .bind(id)
    .execute(tx.room(id))
    .await?;
    Ok(())
}

/// Moves the room to `status`, keeping the earlier resolution unless a new one is given.
pub async fn set_status(
    tx: &mut RoomTx,
    id: i64,
    status: RoomStatus,
    resolution: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rooms SET status = $1, resolution = COALESCE($2, resolution) WHERE id = $3",
    )
    .bind(status.as_str())
    .bind(resolution)
    .bind(id)
    .execute(tx.room(id))
    .await?;
    Ok(())
}

/// Sets when the next leadership update is due (publishing a pre-read moves it).
/// Sets when the next customer update is due (sending one moves it by the cadence).
pub async fn set_next_customer_update_due(
    tx: &mut RoomTx,
    id: i64,
    due: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE rooms SET next_customer_update_due = $1 WHERE id = $2")
        .bind(due)
        .bind(id)
        .execute(tx.room(id))
        .await?;
    Ok(())
}

pub async fn set_next_leadership_update_due(
    tx: &mut RoomTx,
    id: i64,
    due: Option<Millis>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE rooms SET next_leadership_update_due = $1 WHERE id = $2")
        .bind(due)
        .bind(id)
        .execute(tx.room(id))
        .await?;
    Ok(())
}

/// Takes the room's write lock (a row lock on PostgreSQL; SQLite's writer is already exclusive)
/// and announces a change to live pages. `false` when there is no such room.
/// Locks the room for a change that `writes` some of its parts: bumps its version and moves
/// those parts' versions to it.
pub(super) async fn lock_for_change(
    tx: &mut AnyConnection,
    id: i64,
    now: Millis,
    writes: Writes,
) -> sqlx::Result<bool> {
    let parts = writes.set_clause();
    let result = sqlx::query(&format!(
        "UPDATE rooms SET version = version + 1, updated_at = $2, {parts} WHERE id = $1"
    ))
    .bind(id)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The version live pages compare against.
pub async fn version<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT version FROM rooms WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn set_role(
    tx: &mut RoomTx,
    id: i64,
    role: crate::members::model::Role,
    user_id: i64,
) -> sqlx::Result<()> {
    let column = match role {
        crate::members::model::Role::Lead => "lead_user_id",
        crate::members::model::Role::Communicator => "communicator_user_id",
    };
    sqlx::query(&format!("UPDATE rooms SET {column} = $1 WHERE id = $2"))
        .bind(user_id)
        .bind(id)
        .execute(tx.room(id))
        .await?;
    Ok(())
}

/// The room's reply token (the `+TOKEN` of its reply address), made on first use.
pub async fn reply_token(tx: &mut RoomTx, room_id: i64) -> sqlx::Result<String> {
    let token: Option<String> = sqlx::query_scalar("SELECT reply_token FROM rooms WHERE id = $1")
        .bind(room_id)
        .fetch_optional(tx.room(room_id))
        .await?
        .flatten();
    match token {
        Some(token) => Ok(token),
        None => rotate_reply_token(tx, room_id).await,
    }
}

/// Gives the room a new reply address; the old one matches nothing from now on.
pub async fn rotate_reply_token(tx: &mut RoomTx, room_id: i64) -> sqlx::Result<String> {
    let token = crate::inbound::config::new_token();
    sqlx::query("UPDATE rooms SET reply_token = $1 WHERE id = $2")
        .bind(&token)
        .bind(room_id)
        .execute(tx.room(room_id))
        .await?;
    Ok(token)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_cadence_follows_the_severity_unless_the_room_sets_one() {
        let mut room = room_with_roles(1, 2);
        assert_eq!(
            room.cadence_hours(Audience::Customer),
            72,
            "S2: every 3 days"
        );
        room.severity = "S1".into();
        assert_eq!(room.next_due_after(Audience::Leadership, 0), 24 * 3_600_000);
        room.customer_cadence_hours = Some(4);
        assert_eq!(
            room.next_due_after(Audience::Customer, 1_000),
            1_000 + 4 * 3_600_000
        );
        assert_eq!(cadence_words(24), "every 24 hours");
        assert_eq!(cadence_words(72), "every 3 days");
        assert_eq!(cadence_words(168), "every week");
    }

    /// An open room whose lead and communicator are the given users.
    pub(crate) fn room_with_roles(lead: i64, communicator: i64) -> Room {
        Room {
            id: 1,
            customer_id: 1,
            title: "Capacity planning".into(),
            problem: String::new(),
            severity: "S2".into(),
            escalated_by_contact_id: None,
            escalated_at: 0,
            status: "open".into(),
            resolution: String::new(),
            lead_user_id: lead,
            communicator_user_id: communicator,
            next_customer_update_due: None,
            next_leadership_update_due: None,
            opened_by: lead,
            opened_at: 0,
            updated_at: 0,
            version: 1,
            customer_cadence_hours: None,
            leadership_cadence_hours: None,
            parts: PartVersions::default(),
        }
    }

    pub(crate) fn closed(mut room: Room) -> Room {
        room.status = "closed".into();
        room
    }
}
