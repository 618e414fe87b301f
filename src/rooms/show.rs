//! `/rooms/{id}`: the room page, and `/rooms/{id}/live`, which the page polls every two seconds:
//! `204 No Content` after one version compare when nothing changed, and when something did (on
//! any instance: the version lives in the database), only the parts of the page that now read
//! differently from what the page says it shows ([`super::live_parts`]).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::access::{Abilities, Viewer};
use super::change::viewed_room;
use super::content::{RoomContent, Selection};
use super::live_parts::{self, Fingerprint, Part};
use super::model::Room;
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::approvals::absence::Absence;
use crate::clock::Millis;
use crate::contact_log::model::Activity;
use crate::db::OnDemand;
use crate::decisions::model::{Decision, DecisionStatus};
use crate::engagements::model::Engagement;
use crate::engagements::rules::{self, EngagementState};
use crate::error::AppError;
use crate::members::model::{Member, MemberKind};
use crate::outreach::model::Pause;
use crate::timeline::Category;
use crate::web::filters;
use crate::web::page::Page;
use crate::web::time::{self, Int, OptionalInt};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}", get(show))
        .route("/rooms/{id}/live", get(live))
        .route_layer(axum::middleware::from_fn(crate::rooms::in_view::scope))
}

/// The filters of the room page, carried in its query string.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub decision_type: Option<i64>,
    pub category: Option<String>,
    pub before: Option<i64>,
    pub version: Option<i64>,
    /// What the polling page shows of each part ([`live_parts::encode`]).
    pub parts: Option<String>,
}

impl Filters {
    fn category(&self) -> Option<Category> {
        self.category.as_deref().and_then(Category::parse)
    }

    fn selection(&self) -> Selection {
        Selection {
            decision_type: self.decision_type,
            category: self.category(),
            before: self.before,
        }
    }

    /// The query string that keeps these filters (without the version).
    pub fn query(&self) -> String {
        query_of(self.decision_type, self.category(), self.before)
    }
}

/// The query string of the room page's filters. Every value is a number or a category's name
/// (lower-case letters), so nothing needs percent-encoding; the page links to every category
/// and decision type, and each link's query was once 0.2% of a view.
fn query_of(decision_type: Option<i64>, category: Option<Category>, before: Option<i64>) -> String {
    let mut query = String::new();
    let mut pair = |name: &str, value: &dyn std::fmt::Display| {
        let sep = if query.is_empty() { "" } else { "&" };
        let _ = write!(query, "{sep}{name}={value}");
    };
    if let Some(id) = decision_type {
        pair("decision_type", &id);
    }
    if let Some(category) = category {
        pair("category", &category.as_str());
    }
    if let Some(before) = before {
        pair("before", &before);
    }
    query
}

/// The room page for one viewer: the shared content at the room's current version, plus what
/// is read fresh on every view.
pub struct RoomView {
    pub room: Room,
    pub content: Arc<RoomContent>,
    pub viewer: Viewer,
    pub can: Abilities,
    /// The customer's contacts and who touched them lately, in any room of this customer.
    pub activity: Arc<Activity>,
    pub filters: Filters,
    pub categories: &'static [Category],
    pub touch_limit: i64,
    /// Where the customer's replies go: the room's own address when inbound mail is set up.
    pub reply_address: Option<String>,
    pub now: Millis,
}

impl RoomView {
    async fn load(
        conn: &mut OnDemand<'_>,
        state: &AppState,
        room: Room,
        viewer: Viewer,
        filters: Filters,
    ) -> Result<RoomView, AppError> {
        let now = state.clock.now();
        let content = state
            .room_content
            .get(conn, &room, filters.selection())
            .await?;
        let reply_address = state
            .config
            .inbound
            .address
            .as_ref()
            .zip(content.email.reply_token.as_deref())
            .map(|(address, token)| address.with_token(token));
        Ok(RoomView {
            can: Abilities::of(&viewer, &room),
            reply_address,
            activity: (state.contact_activity)
                .get(
                    conn,
                    room.customer_id,
                    super::in_view::activity_stamp(room.id),
                    now,
                )
                .await?,
            content,
            categories: Category::ALL,
            touch_limit: state.config.contact_touch_limit,
            filters,
            viewer,
            room,
            now,
        })
    }

    /// The outreach pause in force now (one that ran out ends by itself).
    pub fn pause(&self) -> Option<&Pause> {
        self.content
            .rest
            .unended_pause
            .as_ref()
            .filter(|pause| pause.is_active(self.now))
    }

    pub fn name_of(&self, user_id: i64) -> &str {
        self.content
            .rest
            .members
            .iter()
            .find(|m| m.user_id == user_id)
            .map_or("someone no longer in the room", |m| m.name.as_str())
    }

    pub fn lead(&self) -> &str {
        self.name_of(self.room.lead_user_id)
    }

    pub fn communicator(&self) -> &str {
        self.name_of(self.room.communicator_user_id)
    }

    pub fn members_of(&self, kind: &crate::members::model::MemberKind) -> Vec<&Member> {
        self.content
            .rest
            .members
            .iter()
            .filter(|m| m.kind == *kind)
            .collect()
    }

    pub fn kinds(&self) -> &'static [crate::members::model::MemberKind] {
        crate::members::model::MemberKind::ALL
    }

    pub fn ago(&self, at: impl Int) -> String {
        time::relative(at.int(), self.now)
    }

    pub fn due(&self, at: impl Int) -> String {
        time::due(at.int(), self.now)
    }

    pub fn is_overdue(&self, at: impl OptionalInt) -> bool {
        at.optional_int().is_some_and(|at| at < self.now)
    }

    pub fn is_past(&self, at: impl Int) -> bool {
        at.int() < self.now
    }

    pub fn may_settle(&self, decision: &Decision) -> bool {
        self.can.contribute
            && decision.status == DecisionStatus::Proposed
            && self.content.types.iter().any(|t| {
                t.id == decision.decision_type_id && t.owner_user_id == self.viewer.user_id
            })
    }

    /// The pause's resume condition holds: the lead sees "ready to resume".
    pub fn ready_to_resume(&self) -> bool {
        self.pause()
            .is_some_and(|p| p.is_ready_to_resume(self.now, &self.content.rest.workstreams))
    }

    /// Cleared engagements still ahead while outreach is paused: they are on hold too.
    pub fn cleared_while_paused(&self) -> Vec<&Engagement> {
        match self.pause() {
            None => Vec::new(),
            Some(_) => self
                .content
                .rest
                .engagements
                .iter()
                .filter(|e| e.state == EngagementState::Cleared && e.starts_at > self.now)
                .collect(),
        }
    }

    pub fn outcome_missing(&self, engagement: &Engagement) -> bool {
        rules::outcome_missing(engagement.state, engagement.ends_at(), self.now)
    }

    /// The PMs away now (an absence past its end has ended by itself).
    pub fn away(&self) -> Vec<&Absence> {
        self.content
            .rest
            .absences
            .iter()
            .filter(|a| a.until > self.now)
            .collect()
    }

    pub fn away_of(&self, user_id: impl Int) -> Option<&Absence> {
        let user_id = user_id.int();
        self.away().into_iter().find(|a| a.user_id == user_id)
    }

    /// Whether the viewer may say they are away (a PM of an open room).
    pub fn may_go_away(&self) -> bool {
        self.viewer.is_pm() && self.can.contribute
    }

    /// Who may stand in for the viewer: the room's other PMs and its leadership members.
    pub fn stand_in_choices(&self) -> Vec<&Member> {
        self.content
            .rest
            .members
            .iter()
            .filter(|m| m.user_id != self.viewer.user_id && m.kind != MemberKind::Partner)
            .collect()
    }

    /// Whether the viewer may contest or escalate a proposed decision (a PM).
    pub fn may_contest(&self, decision: &Decision) -> bool {
        self.viewer.is_pm() && self.can.contribute && decision.status == DecisionStatus::Proposed
    }

    /// The live check's URL for a page that shows these parts.
    fn live_url(&self, shown: &[Fingerprint]) -> String {
        let query = self.filters.query();
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "/rooms/{}/live?version={}&parts={}{sep}{query}",
            self.room.id,
            self.room.version,
            live_parts::encode(shown)
        )
    }

    /// The page URL with one filter changed.
    pub fn with_category(&self, category: Option<&Category>) -> String {
        let query = query_of(self.filters.decision_type, category.copied(), None);
        format!("/rooms/{}?{query}#timeline", self.room.id)
    }

    pub fn with_decision_type(&self, type_id: Option<impl Int>) -> String {
        let filters = &self.filters;
        let query = query_of(
            type_id.map(|id| id.int()),
            filters.category(),
            filters.before,
        );
        format!("/rooms/{}?{query}#decisions", self.room.id)
    }

    pub fn older_url(&self, before: impl Int) -> String {
        let filters = &self.filters;
        let query = query_of(
            filters.decision_type,
            filters.category(),
            Some(before.int()),
        );
        format!("/rooms/{}?{query}#timeline", self.room.id)
    }

    pub fn is_decision_type(&self, type_id: impl Int) -> bool {
        self.filters.decision_type == Some(type_id.int())
    }

    pub fn is_category(&self, category: &Category) -> bool {
        self.filters.category() == Some(*category)
    }
}

/// One part of the room page, rendered on its own.
#[derive(Template)]
#[template(path = "rooms/room_part.html")]
struct RoomPart<'a> {
    page: &'a Page,
    view: &'a RoomView,
    part: Part,
}

/// Every part of the room page rendered, in [`Part::ALL`] order, with its fingerprint.
struct RenderedParts(Vec<(String, Fingerprint)>);

/// How long each part came out the last time it was rendered (on any room), up to
/// [`SIZE_REMEMBERED`]: the next render of that part starts with room for as much. Parts are
/// much the same size from one view to the next, and a `String` grown by doubling from
/// askama's estimate copies itself several times on the way.
static PART_SIZES: [AtomicUsize; Part::ALL.len()] =
    [const { AtomicUsize::new(0) }; Part::ALL.len()];

/// The most a render reserves ahead: one room's 5,000-event timeline must not make every view
/// of every other room reserve that much.
const SIZE_REMEMBERED: usize = 64 * 1024;

impl RenderedParts {
    fn render(page: &Page, view: &RoomView) -> Result<RenderedParts, AppError> {
        let mut parts = Vec::with_capacity(Part::ALL.len());
        for part in Part::ALL {
            let last_size = &PART_SIZES[part as usize];
            let mut html = String::with_capacity(last_size.load(Ordering::Relaxed));
            RoomPart { page, view, part }.render_into(&mut html)?;
            last_size.store(html.len().min(SIZE_REMEMBERED), Ordering::Relaxed);
            let fingerprint = Fingerprint::of(&html);
            parts.push((html, fingerprint));
        }
        Ok(RenderedParts(parts))
    }

    fn fingerprints(&self) -> Vec<Fingerprint> {
        self.0.iter().map(|(_, fingerprint)| *fingerprint).collect()
    }

    /// The length of every part together.
    fn len(&self) -> usize {
        self.0.iter().map(|(html, _)| html.len()).sum()
    }
}

#[derive(Template)]
#[template(path = "rooms/show.html")]
struct ShowPage {
    page: Page,
    view: RoomView,
    parts: RenderedParts,
    live_url: String,
}

impl ShowPage {
    fn part(&self, part: Part) -> &str {
        &self.parts.0[part as usize].0
    }

    /// The whole page, written into one buffer sized for its parts and the layout around them.
    fn into_html(self) -> Result<Html<String>, AppError> {
        let mut html = String::with_capacity(self.parts.len() + LAYOUT_SIZE);
        self.render_into(&mut html)?;
        Ok(Html(html))
    }
}

/// Room enough for the layout around the parts: the head, the top bar and the footer.
const LAYOUT_SIZE: usize = 8 * 1024;

/// The live check's answer when the room changed: the URL to poll next, and the stale parts.
#[derive(Template, WebTemplate)]
#[template(path = "rooms/room_live.html")]
struct LiveParts {
    live_url: String,
    sent: Vec<(Part, String)>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
    Query(filters): Query<Filters>,
) -> Result<Html<String>, AppError> {
    let mut conn = OnDemand::new(state.db.reader());
    let (room, viewer) = viewed_room(&mut conn, id, &user).await?;
    let view = RoomView::load(&mut conn, &state, room, viewer, filters).await?;
    let parts = RenderedParts::render(&page, &view)?;
    let live_url = view.live_url(&parts.fingerprints());
    ShowPage {
        page,
        view,
        parts,
        live_url,
    }
    .into_html()
}

async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    // Membership is checked on every poll: a removed member stops receiving anything at once.
    let mut conn = OnDemand::new(state.db.reader());
    let (room, viewer) = viewed_room(&mut conn, id, &user).await?;
    if Some(room.version) == filters.version {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let seen = live_parts::decode(filters.parts.as_deref());
    let view = RoomView::load(&mut conn, &state, room, viewer, filters).await?;
    let parts = RenderedParts::render(&page, &view)?;
    let live_url = view.live_url(&parts.fingerprints());
    let sent = Part::ALL
        .into_iter()
        .zip(parts.0)
        .filter(|(part, (_, now))| live_parts::is_stale(&seen, *part, *now))
        .map(|(part, (html, _))| (part, html))
        .collect();
    Ok(LiveParts { live_url, sent }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_their_order_and_need_no_encoding() {
        assert_eq!(query_of(None, None, None), "");
        assert_eq!(query_of(None, None, Some(1_700)), "before=1700");
        assert_eq!(
            query_of(Some(3), Some(Category::Decisions), Some(-5)),
            "decision_type=3&category=decisions&before=-5"
        );
        // Category names go into the query as they are: each must be URL-safe.
        for category in Category::ALL {
            let name = category.as_str();
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert_eq!(Category::parse(name), Some(*category));
        }
    }
}
