//! `/pre-reads`: the page a director opens before the weekly review — every room the viewer can
//! read with its latest pre-read, what needs attention first: overdue updates, then off track,
//! at risk, rooms leadership has not heard about yet, then on track.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sqlx::{AnyConnection, Row};

use super::model::OverallStatus;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::db::Backend;
use crate::error::AppError;
use crate::rooms::model::Severity;
use crate::web::filters;
use crate::web::page::Page;
use crate::web::time::{self, Int};

pub fn router() -> Router<AppState> {
    Router::new().route("/pre-reads", get(index))
}

/// One room on the index.
#[derive(Clone, Debug)]
pub struct Line {
    pub room_id: i64,
    pub title: String,
    pub customer: String,
    pub severity: Severity,
    pub status: Option<OverallStatus>,
    pub headline: String,
    pub version: Option<i64>,
    pub published_at: Option<Millis>,
    pub next_due: Option<Millis>,
}

impl Line {
    pub fn is_overdue(&self, now: impl Int) -> bool {
        self.next_due.is_some_and(|due| due < now.int())
    }
}

/// Sort key: lower needs attention sooner.
pub fn attention(line: &Line, now: Millis) -> (u8, Millis) {
    let rank = match (line.is_overdue(now), line.status) {
        (true, _) => 0,
        (false, Some(OverallStatus::OffTrack)) => 1,
        (false, Some(OverallStatus::AtRisk)) => 2,
        (false, None) => 3,
        (false, Some(OverallStatus::OnTrack)) => 4,
    };
    (rank, line.next_due.unwrap_or(Millis::MAX))
}

/// Rooms shown at most (the ones needing attention first).
const SHOWN: i64 = 500;

#[derive(Template, WebTemplate)]
#[template(path = "updates/index.html")]
struct IndexPage {
    page: Page,
    lines: Vec<Line>,
    now: Millis,
}

impl IndexPage {
    fn due(&self, at: impl Int) -> String {
        time::due(at.int(), self.now)
    }
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
) -> Result<IndexPage, AppError> {
    let now = state.clock.now();
    let mut conn = state.db.reader().acquire().await?;
    let mut lines = lines_for(&mut conn, state.db.backend(), &user).await?;
    lines.sort_by_key(|line| attention(line, now));
    Ok(IndexPage { page, lines, now })
}

/// A viewer in at least this many rooms has the index walked in due order (see `lines_for`).
const WALK_FROM: i64 = 5_000;

/// The order the index picks rooms in: soonest leadership update due first (so overdue ones
/// lead), rooms without a cadence last, then by id. The migration `0024` indexes the open rooms
/// in this order.
const DUE_FIRST: &str = "COALESCE(r.next_leadership_update_due, 9223372036854775807), r.id";

/// The same order written so that no index serves it. Not knowing how many rooms the viewer is
/// in, PostgreSQL's generic plan for [`Pick::Sort`] ordered by [`DUE_FIRST`] walked the whole
/// index (136 ms for a member of 50 of 100,000 rooms) instead of reading the viewer's rooms and
/// sorting them (under 1 ms).
const DUE_FIRST_SORTED: &str = "CASE WHEN r.next_leadership_update_due IS NULL THEN 1 ELSE 0 END, \
     r.next_leadership_update_due, r.id";

/// How the rooms shown are picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    /// Every open room, read through their index in order: an administrator's index.
    AllOpen,
    /// Every room the viewer is in, sorted: for a viewer in a few rooms of many.
    Sort,
    /// The open rooms walked in due order through their index, keeping the viewer's until
    /// [`SHOWN`] are found: for a viewer in many rooms, whose sort would read them all (a
    /// director in each of 100,000 rooms: 32 ms on SQLite, 85 ms of PostgreSQL's CPU per view).
    /// A viewer in `n` of `N` open rooms has about `SHOWN × N / n` rooms read, so only a viewer
    /// in [`WALK_FROM`] rooms or more walks.
    Walk,
}

/// The open rooms `user` may see (all for an admin), each with its latest pre-read; the first
/// [`SHOWN`] in due order.
async fn lines_for(
    conn: &mut AnyConnection,
    backend: Backend,
    user: &CurrentUser,
) -> sqlx::Result<Vec<Line>> {
    let pick = match user.is_admin {
        true => Pick::AllOpen,
        false if rooms_of(conn, user.id, WALK_FROM).await? >= WALK_FROM => Pick::Walk,
        false => Pick::Sort,
    };
    lines(conn, backend, user.id, pick).await
}

/// How many rooms `user_id` is a member of, counted up to `up_to`.
async fn rooms_of(conn: &mut AnyConnection, user_id: i64, up_to: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM members WHERE user_id = $1 LIMIT $2) mine",
    )
    .bind(user_id)
    .bind(up_to)
    .fetch_one(conn)
    .await
}

/// The first [`SHOWN`] open rooms `user_id` may see, picked by `pick`, with their latest
/// pre-reads.
async fn lines(
    conn: &mut AnyConnection,
    backend: Backend,
    user_id: i64,
    pick: Pick,
) -> sqlx::Result<Vec<Line>> {
    const COLUMNS: &str = "r.id, r.title, r.customer_id, r.severity, r.next_leadership_update_due";
    // The rooms shown are picked first, and only their latest pre-reads are looked up, each by
    // its index: joined before the `LIMIT`, every room the viewer is in had its pre-read looked
    // up and its customer read (SQLite: 95–128 ms for a director in each of 100,000 rooms,
    // 35 ms picked first).
    let rooms = match pick {
        Pick::AllOpen => format!(
            "(SELECT {COLUMNS} FROM rooms r WHERE r.status <> 'closed' AND $1 = $1 \
             ORDER BY {DUE_FIRST} LIMIT {SHOWN}) r"
        ),
        Pick::Sort => format!(
            "(SELECT {COLUMNS} FROM rooms r JOIN members m ON m.room_id = r.id AND m.user_id = $1 \
             WHERE r.status <> 'closed' ORDER BY {DUE_FIRST_SORTED} LIMIT {SHOWN}) r"
        ),
        // Both databases read the open rooms in the index's order, test each for the viewer's
        // membership and stop at the last one shown.
        Pick::Walk => format!(
            "(SELECT {COLUMNS} FROM rooms r WHERE r.status <> 'closed' \
               AND EXISTS (SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = $1) \
             ORDER BY {DUE_FIRST} LIMIT {SHOWN}) r"
        ),
    };
    // PostgreSQL hashes every pre-read of every room for the join SQLite uses, 1.7 times the
    // work for a member of 50 rooms and 2.1 times for a director in each of 1,000 (pgbench); it
    // looks each one up by the index through LATERAL, which SQLite lacks.
    let latest_pre_read = match backend {
        Backend::Postgres => {
            "LEFT JOIN LATERAL (SELECT status, headline, version, published_at FROM pre_reads \
             WHERE room_id = r.id ORDER BY version DESC LIMIT 1) p ON true"
        }
        Backend::Sqlite => {
            "LEFT JOIN pre_reads p ON p.room_id = r.id \
             AND p.version = (SELECT MAX(version) FROM pre_reads WHERE room_id = r.id)"
        }
    };
    let sql = format!(
        "SELECT r.id, r.title, c.name, r.severity, p.status, p.headline, p.version, \
         p.published_at, r.next_leadership_update_due \
         FROM {rooms} JOIN customers c ON c.id = r.customer_id {latest_pre_read} \
         ORDER BY {DUE_FIRST}"
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(conn).await?;
    rows.into_iter()
        .map(|row| {
            let severity: String = row.try_get(3)?;
            let status: Option<String> = row.try_get(4)?;
            Ok(Line {
                room_id: row.try_get(0)?,
                title: row.try_get(1)?,
                customer: row.try_get(2)?,
                severity: Severity::parse(&severity).unwrap_or(Severity::S3),
                status: status.as_deref().and_then(OverallStatus::parse),
                headline: row.try_get::<Option<String>, _>(5)?.unwrap_or_default(),
                version: row.try_get(6)?,
                published_at: row.try_get(7)?,
                next_due: row.try_get(8)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, status: Option<OverallStatus>, next_due: Option<Millis>) -> Line {
        Line {
            room_id: id,
            title: String::new(),
            customer: String::new(),
            severity: Severity::S2,
            status,
            headline: String::new(),
            version: status.map(|_| 1),
            published_at: None,
            next_due,
        }
    }

    #[test]
    fn overdue_first_then_off_track_at_risk_unheard_and_on_track() {
        let now = 1_000;
        let mut lines = [
            line(1, Some(OverallStatus::OnTrack), Some(5_000)),
            line(2, None, None),
            line(3, Some(OverallStatus::AtRisk), Some(5_000)),
            line(4, Some(OverallStatus::OnTrack), Some(500)),
            line(5, Some(OverallStatus::OffTrack), Some(9_000)),
            line(6, Some(OverallStatus::AtRisk), Some(2_000)),
        ];
        lines.sort_by_key(|l| attention(l, now));
        let order: Vec<i64> = lines.iter().map(|l| l.room_id).collect();
        assert_eq!(order, [4, 5, 6, 3, 2, 1]);
    }
}
