//! `/`: the dashboard. What needs me, the rooms I am in, then (for admins) every other room —
//! filtered by status, severity and customer, searchable, paginated. Every list is one indexed
//! query with a LIMIT; nothing loads all rooms. The unfiltered first page of the viewer's own
//! rooms is remembered by their *Needs you* stamp, like the list above it.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::{AnyConnection, AnyPool, Row};

use super::model::{RoomStatus, Severity};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::customers::model::{self as customers, Customer};
use crate::db::OnDemand;
use crate::error::AppError;
use crate::needs::Need;
use crate::stamped::{self, StampedCache};
use crate::web::page::Page;
use crate::web::time::{self, Int, OptionalInt};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show))
        .route("/dashboard/live", get(live))
}

pub const PER_PAGE: i64 = 25;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DashboardQuery {
    pub status: String,
    pub severity: String,
    pub customer: String,
    pub q: String,
    pub page: Option<i64>,
    /// What the polling page last saw ([`fingerprint`]); only `/dashboard/live` reads it.
    pub seen: String,
}

impl DashboardQuery {
    fn status(&self) -> Option<RoomStatus> {
        RoomStatus::parse(&self.status)
    }

    fn severity(&self) -> Option<Severity> {
        Severity::parse(&self.severity)
    }

    fn customer(&self) -> Option<i64> {
        self.customer.parse().ok()
    }

    fn page(&self) -> i64 {
        self.page.unwrap_or(1).clamp(1, 10_000)
    }

    fn is_filtered(&self) -> bool {
        self.status().is_some()
            || self.severity().is_some()
            || self.customer().is_some()
            || !self.q.trim().is_empty()
    }

    /// The query string for another page of the same filters.
    pub fn page_url(&self, page: i64) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &self.status)
            .append_pair("severity", &self.severity)
            .append_pair("customer", &self.customer)
            .append_pair("q", &self.q)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/?{query}")
    }
}

/// One room in a list.
#[derive(Clone, Debug)]
pub struct RoomRow {
    pub id: i64,
    pub title: String,
    pub customer: String,
    pub severity: Severity,
    pub status: RoomStatus,
    pub lead: String,
    pub updated_at: Millis,
    pub customer_due: Option<Millis>,
    pub leadership_due: Option<Millis>,
}

const ROW_SELECT: &str = "SELECT r.id, r.title, c.name, r.severity, r.status, u.name, r.updated_at, \
     r.next_customer_update_due, r.next_leadership_update_due FROM rooms r \
     JOIN customers c ON c.id = r.customer_id JOIN users u ON u.id = r.lead_user_id";

/// A value a set filter binds.
enum Bound {
    Text(String),
    Int(i64),
}

/// The filters that are set, as conditions numbered after the viewer's `$1`. A filter that is
/// not set is left out of the statement rather than written `($2 = '' OR r.status = $2)`:
/// PostgreSQL's generic plan for that form estimates one matching room, walks every room and
/// took 7.5 ms for the benchmark member's 51 rooms, against 0.26 ms for the plain form (pgbench,
/// 1k rooms).
fn set_filters(filter: &DashboardQuery) -> (String, Vec<Bound>) {
    let mut sql = String::new();
    let mut bound = Vec::new();
    let mut condition = |column: &str, operator: &str, value: Bound| {
        bound.push(value);
        sql.push_str(&format!(" AND r.{column} {operator} ${}", bound.len() + 1));
    };
    if let Some(status) = filter.status() {
        condition("status", "=", Bound::Text(status.as_str().to_owned()));
    }
    if let Some(severity) = filter.severity() {
        condition("severity", "=", Bound::Text(severity.as_str().to_owned()));
    }
    if let Some(customer) = filter.customer() {
        condition("customer_id", "=", Bound::Int(customer));
    }
    let search = filter.q.trim().to_lowercase().replace(['%', '_'], "");
    if !search.is_empty() {
        condition("search_key", "LIKE", Bound::Text(format!("%{search}%")));
    }
    (sql, bound)
}

/// Rooms the user is a member of (`mine`), or rooms they are not a member of (admins only).
async fn rooms(
    conn: &mut AnyConnection,
    user_id: i64,
    mine: bool,
    filter: &DashboardQuery,
    offset: i64,
) -> sqlx::Result<Vec<RoomRow>> {
    // Members' rooms are found through the membership index; an admin's other rooms by walking
    // the recently-changed index and skipping their own.
    let scope = match mine {
        true => "JOIN members me ON me.room_id = r.id AND me.user_id = $1 WHERE 1 = 1",
        false => {
            "WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = $1)"
        }
    };
    let (conditions, bound) = set_filters(filter);
    let limit = bound.len() + 2;
    let sql = format!(
        "{ROW_SELECT} {scope}{conditions} \
         ORDER BY r.updated_at DESC, r.id DESC LIMIT ${limit} OFFSET ${}",
        limit + 1
    );
    let mut query = sqlx::query(&sql).bind(user_id);
    for value in bound {
        query = match value {
            Bound::Text(text) => query.bind(text),
            Bound::Int(int) => query.bind(int),
        };
    }
    let rows = query
        .bind(PER_PAGE + 1)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let severity: String = row.try_get(3)?;
            let status: String = row.try_get(4)?;
            Ok(RoomRow {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                customer: row.try_get(2)?,
                severity: Severity::parse(&severity).unwrap_or(Severity::S3),
                status: RoomStatus::parse(&status).unwrap_or(RoomStatus::Open),
                lead: row.try_get(5)?,
                updated_at: row.try_get(6)?,
                customer_due: row.try_get(7)?,
                leadership_due: row.try_get(8)?,
            })
        })
        .collect()
}

/// What the dashboard shows changes when any of the viewer's rooms changes or time passes (the
/// fingerprint *Needs you* keeps), and for an admin when any room changes.
async fn fingerprint(db: &AnyPool, user: &CurrentUser, now: Millis) -> sqlx::Result<String> {
    let stamp = match user.needs_stamp {
        Some(stamp) => stamp,
        None => {
            sqlx::query_scalar("SELECT needs_stamp FROM users WHERE id = $1")
                .bind(user.id)
                .fetch_one(db)
                .await?
        }
    };
    let mine = stamped::Fingerprint::new(stamp, now);
    let others: i64 = match user.is_admin {
        true => {
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(updated_at), 0) AS BIGINT) FROM rooms")
                .fetch_one(db)
                .await?
        }
        false => 0,
    };
    Ok(format!("{mine}.{others}"))
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/dashboard_live.html")]
struct LiveParts {
    user: CurrentUser,
    filter: DashboardQuery,
    needs: Vec<Need>,
    mine: Vec<RoomRow>,
    others: Vec<RoomRow>,
    more: bool,
    now: Millis,
}

/// Polled every two seconds: `204` while the fingerprint is unchanged, else the needs list and
/// the room tables as out-of-band swaps (the filters form, with whatever is typed in it, stays).
async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<DashboardQuery>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let seen = fingerprint(state.db.reader(), &user, now).await?;
    if seen == filter.seen {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut conn = OnDemand::new(state.db.reader());
    let own = own_rooms(&state, &mut conn, &user, now).await?;
    let (mine, others, more) = room_lists(&mut conn, &user, &own, &filter).await?;
    let filter = DashboardQuery { seen, ..filter };
    Ok(LiveParts {
        needs: (state.needs)
            .list(state.db.reader(), user.id, user.needs_stamp, now)
            .await?
            .to_vec(),
        user,
        filter,
        mine,
        others,
        more,
        now,
    }
    .into_response())
}

/// What the dashboard shows of the viewer's own rooms whatever the filters: the first page of
/// their rooms, unfiltered (`PER_PAGE + 1` rows, the last telling whether there are more), and
/// the customers of their rooms (the filter's choices).
pub struct OwnRooms {
    first_page: Vec<RoomRow>,
    customers: Vec<Customer>,
}

/// Each viewer's [`OwnRooms`], remembered by their *Needs you* stamp and the minute: every change
/// to one of their rooms, and joining or leaving one, bumps the stamp — the same fingerprint the
/// dashboard's live check answers `204` by. At 100k rooms on PostgreSQL, planning these two
/// statements afresh on every view cost more than running them.
pub type OwnRoomsCache = StampedCache<OwnRooms>;

/// Viewers whose own rooms are remembered at most; past it, the cache starts over.
pub const CACHED_VIEWERS: usize = 10_000;

async fn own_rooms(
    state: &AppState,
    conn: &mut OnDemand<'_>,
    user: &CurrentUser,
    now: Millis,
) -> sqlx::Result<Arc<OwnRooms>> {
    let read = async {
        let conn = conn.get().await?;
        Ok(OwnRooms {
            first_page: rooms(conn, user.id, true, &DashboardQuery::default(), 0).await?,
            customers: customers::of_member(&mut *conn, user.id).await?,
        })
    };
    (state.own_rooms)
        .get_or_read(user.id, user.needs_stamp, now, read)
        .await
}

async fn room_lists(
    conn: &mut OnDemand<'_>,
    user: &CurrentUser,
    own: &OwnRooms,
    filter: &DashboardQuery,
) -> sqlx::Result<(Vec<RoomRow>, Vec<RoomRow>, bool)> {
    let offset = (filter.page() - 1) * PER_PAGE;
    let mut mine = match filter.is_filtered() || offset > 0 {
        true => rooms(conn.get().await?, user.id, true, filter, offset).await?,
        false => own.first_page.clone(),
    };
    let mut others = match user.is_admin {
        true => rooms(conn.get().await?, user.id, false, filter, offset).await?,
        false => Vec::new(),
    };
    let more = mine.len() as i64 > PER_PAGE || others.len() as i64 > PER_PAGE;
    mine.truncate(PER_PAGE as usize);
    others.truncate(PER_PAGE as usize);
    Ok((mine, others, more))
}

/// The helpers both the page and its live parts render with.
trait DashboardView {
    fn now(&self) -> Millis;
    fn filter(&self) -> &DashboardQuery;

    fn due(&self, at: impl Int) -> String {
        time::due(at.int(), self.now())
    }

    fn ago(&self, at: impl Int) -> String {
        time::relative(at.int(), self.now())
    }

    fn is_late(&self, at: impl OptionalInt) -> bool {
        at.optional_int().is_some_and(|at| at < self.now())
    }

    fn current_page(&self) -> i64 {
        self.filter().page()
    }

    fn filtered(&self) -> bool {
        self.filter().is_filtered()
    }

    fn live_url(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &self.filter().status)
            .append_pair("severity", &self.filter().severity)
            .append_pair("customer", &self.filter().customer)
            .append_pair("q", &self.filter().q)
            .append_pair("page", &self.current_page().to_string())
            .append_pair("seen", &self.filter().seen)
            .finish();
        format!("/dashboard/live?{query}")
    }
}

impl DashboardView for LiveParts {
    fn now(&self) -> Millis {
        self.now
    }

    fn filter(&self) -> &DashboardQuery {
        &self.filter
    }
}

impl DashboardView for DashboardPage {
    fn now(&self) -> Millis {
        self.now
    }

    fn filter(&self) -> &DashboardQuery {
        &self.filter
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/dashboard.html")]
struct DashboardPage {
    page: Page,
    user: CurrentUser,
    filter: DashboardQuery,
    customers: Vec<Customer>,
    needs: Vec<Need>,
    mine: Vec<RoomRow>,
    others: Vec<RoomRow>,
    more: bool,
    now: Millis,
    statuses: &'static [RoomStatus],
    severities: &'static [Severity],
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Query(filter): Query<DashboardQuery>,
) -> Result<DashboardPage, AppError> {
    let now = state.clock.now();
    let mut conn = OnDemand::new(state.db.reader());
    let own = own_rooms(&state, &mut conn, &user, now).await?;
    let (mine, others, more) = room_lists(&mut conn, &user, &own, &filter).await?;
    let filter = DashboardQuery {
        seen: fingerprint(state.db.reader(), &user, now).await?,
        ..filter
    };
    Ok(DashboardPage {
        page,
        needs: (state.needs)
            .list(state.db.reader(), user.id, user.needs_stamp, now)
            .await?
            .to_vec(),
        // Only the customers of the viewer's rooms: the list must not grow with the database.
        customers: own.customers.clone(),
        user,
        filter,
        mine,
        others,
        more,
        now,
        statuses: RoomStatus::ALL,
        severities: Severity::ALL,
    })
}
