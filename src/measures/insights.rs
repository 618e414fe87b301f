//! `/insights`: the coordination measures across the escalations a reader may see (admins: all;
//! leadership members: the rooms they are in), over a chosen period, by decision type, owner,
//! severity and customer — each chart a server-rendered SVG with its numbers in a table beside
//! it — and the patterns worth fixing, flagged in words.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use sqlx::AnyConnection;

use super::cache::Key;
use super::formulas::{DAY, DecisionRecord, median, velocity, words};
use super::{RoomMeasures, Scope};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::error::AppError;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new().route("/insights", get(show))
}

/// The periods offered, in days (0: every escalation).
const PERIODS: &[i64] = &[30, 90, 365, 0];
/// Customers listed one by one (those with the most escalations); the measures cover them all.
const CUSTOMERS_LISTED: usize = 50;
/// Rooms listed one by one (the most recently escalated); the measures cover them all.
const ROOMS_LISTED: usize = 100;
/// The chart of decision velocity by type.
const VELOCITY: &str = "decision-velocity";
/// A decision type slower than this in a room is flagged.
const SLOW: i64 = 3 * DAY;

/// One bar of a chart: its label, its length in percent of the longest, and its value in words.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub percent: i64,
    pub value: String,
}

/// A chart: a title, its bars, and the same numbers as table rows.
#[derive(Clone)]
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub bars: Vec<Bar>,
}

impl Chart {
    fn new(id: &'static str, title: &'static str, rows: Vec<(String, f64, String)>) -> Chart {
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        let bars = rows
            .into_iter()
            .map(|(label, n, value)| Bar {
                label,
                percent: match max > 0.0 {
                    true => (n / max * 100.0).round() as i64,
                    false => 0,
                },
                value,
            })
            .collect();
        Chart { id, title, bars }
    }

    /// The SVG's height for its bars.
    pub fn height(&self) -> usize {
        self.bars.len() * 30 + 8
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Period {
    days: Option<i64>,
}

/// Everything `/insights` shows for one reader and period, as computed (and cached).
#[derive(Clone)]
pub struct Insights {
    /// How many rooms the measures cover.
    covered: usize,
    /// The rooms listed one by one.
    rooms: Vec<RoomMeasures>,
    charts: Vec<Chart>,
    by_owner: Vec<(String, Millis, usize)>,
    by_customer: Vec<CustomerRow>,
    /// How many customers the rooms covered belong to (the table lists the first ones).
    customers_total: usize,
    flags: Vec<String>,
    /// Sums over every room covered.
    pub totals: Totals,
    /// When it was computed.
    pub computed_at: Millis,
}

/// Sums over every room a reading covers (the weekly digest shares them).
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    /// Rooms where a contact heard more than one voice.
    pub crowded: usize,
    pub uncoordinated: usize,
    pub parallel: usize,
}

impl Insights {
    /// "Commercial: 4.5 days (2 decided)": decision velocity by type, as the chart words it.
    pub fn velocity_lines(&self) -> Vec<String> {
        self.charts
            .iter()
            .filter(|chart| chart.id == VELOCITY)
            .flat_map(|chart| &chart.bars)
            .map(|bar| format!("{}: {}", bar.label, bar.value))
            .collect()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/insights.html")]
pub struct InsightsPage {
    page: Page,
    days: i64,
    periods: &'static [i64],
    insights: Arc<Insights>,
    now: Millis,
}

/// A customer's escalations, summed.
#[derive(Clone)]
pub struct CustomerRow {
    pub name: String,
    pub rooms: usize,
    pub first_email: Option<Millis>,
    pub max_voices: usize,
    pub uncoordinated: usize,
}

impl InsightsPage {
    fn words(&self, duration: &Option<Millis>) -> String {
        duration.map_or_else(|| "—".to_owned(), words)
    }

    fn span(&self, duration: &Millis) -> String {
        words(*duration)
    }

    /// "as of 14:02" when the figures were computed earlier than this view.
    fn as_of(&self) -> String {
        let at = self.insights.computed_at;
        match self.now - at {
            d if d < 1_000 => String::new(),
            _ => format!("Figures as of {}.", self.page.zone.when(at)),
        }
    }

    fn period_label(&self, days: &i64) -> String {
        match days {
            0 => "All time".to_owned(),
            d => format!("Last {d} days"),
        }
    }
}

/// "1 send", "3 sends".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The patterns the team should look at, in words.
pub fn flags(rooms: &[RoomMeasures], decisions: &[DecisionRecord]) -> Vec<String> {
    let mut flags = Vec::new();
    let mut slow: BTreeMap<&str, HashSet<i64>> = BTreeMap::new();
    let mut per_room: HashMap<(&str, i64), Vec<Millis>> = HashMap::new();
    for d in decisions {
        if let Some(at) = d.decided_at {
            per_room
                .entry((d.type_name.as_ref(), d.room_id))
                .or_default()
                .push(at - d.proposed_at);
        }
    }
    for ((kind, room), waits) in &per_room {
        if median(waits).is_some_and(|m| m > SLOW) {
            slow.entry(kind).or_default().insert(*room);
        }
    }
    for (kind, rooms) in &slow {
        if rooms.len() >= 2 {
            flags.push(format!(
                "“{kind}” decisions took over 3 days in {} rooms",
                rooms.len()
            ));
        }
    }
    let mut contested: BTreeMap<&str, HashSet<i64>> = BTreeMap::new();
    for d in decisions.iter().filter(|d| d.contested) {
        contested
            .entry(d.type_name.as_ref())
            .or_default()
            .insert(d.room_id);
    }
    for (kind, rooms) in &contested {
        if rooms.len() >= 3 {
            flags.push(format!(
                "“{kind}” decisions were contested in {} rooms: fix the structure, not the decisions",
                rooms.len()
            ));
        }
    }
    let crowded = rooms.iter().filter(|r| r.max_voices >= 3).count();
    if crowded > 0 {
        flags.push(format!(
            "{crowded} room{} had three or more voices to one contact",
            if crowded == 1 { "" } else { "s" }
        ));
    }
    let parallel: usize = rooms.iter().map(|r| r.parallel).sum();
    if parallel > 0 {
        flags.push(format!(
            "{parallel} time{} two members reached the same contact within a day",
            if parallel == 1 { "" } else { "s" }
        ));
    }
    flags
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Query(period): Query<Period>,
) -> Result<InsightsPage, AppError> {
    let now = state.clock.now();
    let days = period.days.filter(|d| PERIODS.contains(d)).unwrap_or(90);
    let mut conn = state.db.reader().acquire().await?;
    if !user.is_admin {
        let leads: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM members WHERE user_id = $1 AND kind = 'leadership' LIMIT 1",
        )
        .bind(user.id)
        .fetch_optional(&mut *conn)
        .await?;
        if leads.is_none() {
            return Err(AppError::Forbidden(
                "Insights are for leadership members and administrators.".into(),
            ));
        }
    }
    let key = Key {
        user_id: user.id,
        is_admin: user.is_admin,
        days,
    };
    drop(conn);
    let insights = state.insights.get(state.db.reader(), key, now).await?;
    Ok(InsightsPage {
        page,
        days,
        periods: PERIODS,
        insights,
        now,
    })
}

/// Reads the rooms `key` covers and computes everything the page shows.
pub async fn compute(conn: &mut AnyConnection, key: Key, now: Millis) -> sqlx::Result<Insights> {
    let Key {
        user_id,
        is_admin,
        days,
    } = key;
    let scope = Scope::Readable {
        user_id,
        is_admin,
        since: match days {
            0 => i64::MIN,
            d => now - d * DAY,
        },
    };
    let reading = super::read(conn, scope, now).await?;
    let by_type = velocity(&reading.decisions, |d| d.type_name.as_ref());
    let by_owner = velocity(&reading.decisions, |d| d.owner.as_ref());
    let mut severities: BTreeMap<String, Vec<Millis>> = BTreeMap::new();
    for r in &reading.rooms {
        let entry = severities.entry(r.severity.label().to_owned()).or_default();
        entry.extend(r.first_email);
    }
    let voice_rows = [(1, "one voice"), (2, "two voices"), (3, "three or more")]
        .into_iter()
        .map(|(n, label)| {
            let contacts = reading
                .voices
                .iter()
                .filter(|v| if n == 3 { **v >= 3 } else { **v == n })
                .count();
            (
                label.to_owned(),
                contacts as f64,
                count(contacts, "contact"),
            )
        })
        .collect();
    let mut charts = vec![
        Chart::new(
            VELOCITY,
            "Median time to decide, by decision type",
            by_type
                .iter()
                .map(|(kind, m, n)| {
                    (
                        kind.clone(),
                        *m as f64,
                        format!("{} ({n} decided)", words(*m)),
                    )
                })
                .collect(),
        ),
        Chart::new(
            "voices",
            "Voices to each contact (the goal is one)",
            voice_rows,
        ),
        Chart::new(
            "first-email",
            "Median time to the first customer email, by severity",
            severities
                .iter()
                .filter_map(|(label, waits)| {
                    let m = median(waits)?;
                    Some((label.clone(), m as f64, words(m)))
                })
                .collect(),
        ),
    ];
    let mut blocked: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in &reading.rooms {
        for (kind, n) in &r.blocked_by_reason {
            *blocked.entry(kind.label()).or_default() += n;
        }
    }
    let mut blocked: Vec<(&str, usize)> = blocked.into_iter().collect();
    blocked.sort_by_key(|b| std::cmp::Reverse(b.1));
    let total = |f: fn(&RoomMeasures) -> usize| reading.rooms.iter().map(f).sum::<usize>();
    let asked = [
        ("Asked", total(|r| r.asked)),
        ("Answered", total(|r| r.answered)),
        ("Duplicates avoided", total(|r| r.duplicates_avoided)),
        (
            "Asked anyway, after seeing similar",
            total(|r| r.asked_anyway),
        ),
    ];
    charts.push(Chart::new(
        "blocked",
        "Sends blocked, by reason",
        blocked
            .into_iter()
            .map(|(label, n)| (label.to_owned(), n as f64, count(n, "send")))
            .collect(),
    ));
    charts.push(Chart::new(
        "questions",
        "Questions to the customer",
        match asked[0].1 + asked[2].1 {
            0 => Vec::new(),
            _ => asked
                .into_iter()
                .map(|(label, n)| (label.to_owned(), n as f64, count(n, "question")))
                .collect(),
        },
    ));
    let mut customers: BTreeMap<&str, Vec<&RoomMeasures>> = BTreeMap::new();
    for r in &reading.rooms {
        customers.entry(&r.customer).or_default().push(r);
    }
    let customers_total = customers.len();
    let mut by_customer: Vec<CustomerRow> = customers
        .into_iter()
        .map(|(name, rooms)| {
            let firsts: Vec<Millis> = rooms.iter().filter_map(|r| r.first_email).collect();
            CustomerRow {
                name: name.to_owned(),
                rooms: rooms.len(),
                first_email: median(&firsts),
                max_voices: rooms.iter().map(|r| r.max_voices).max().unwrap_or(0),
                uncoordinated: rooms.iter().map(|r| r.uncoordinated).sum(),
            }
        })
        .collect();
    // The customers with the most escalations first; the page lists a readable number of them.
    by_customer.sort_by(|a, b| b.rooms.cmp(&a.rooms).then_with(|| a.name.cmp(&b.name)));
    by_customer.truncate(CUSTOMERS_LISTED);
    let totals = Totals {
        crowded: reading.rooms.iter().filter(|r| r.max_voices > 1).count(),
        uncoordinated: reading.rooms.iter().map(|r| r.uncoordinated).sum(),
        parallel: reading.rooms.iter().map(|r| r.parallel).sum(),
    };
    Ok(Insights {
        totals,
        flags: flags(&reading.rooms, &reading.decisions),
        computed_at: now,
        covered: reading.rooms.len(),
        rooms: reading.rooms.into_iter().rev().take(ROOMS_LISTED).collect(),
        charts,
        by_owner,
        by_customer,
        customers_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::model::Severity;

    fn room(id: i64, max_voices: usize) -> RoomMeasures {
        RoomMeasures {
            id,
            title: format!("Room {id}"),
            customer: "Northwind".into(),
            severity: Severity::S2,
            first_email: None,
            cadence: None,
            sends: 0,
            align_median: None,
            revisions_per_send: None,
            blocked_sends: 0,
            blocked_by_reason: Vec::new(),
            decided: 0,
            decision_median: None,
            superseded: 0,
            on_escalation: 0,
            max_voices,
            parallel: 0,
            uncoordinated: 0,
            asked: 0,
            asked_anyway: 0,
            duplicates_avoided: 0,
            answered: 0,
            answer_median: None,
            paused: 0,
        }
    }

    fn commercial(room_id: i64, days: i64, contested: bool) -> DecisionRecord {
        DecisionRecord {
            room_id,
            type_name: "Commercial".into(),
            owner: "Lee".into(),
            proposed_at: 0,
            decided_at: Some(days * DAY),
            superseded: false,
            contested,
            on_escalation: false,
        }
    }

    #[test]
    fn the_patterns_are_flagged_in_words() {
        let rooms = [room(1, 3), room(2, 3), room(3, 1)];
        let decisions = [
            commercial(1, 4, true),
            commercial(2, 5, true),
            commercial(3, 1, true),
        ];
        assert_eq!(
            flags(&rooms, &decisions),
            [
                "“Commercial” decisions took over 3 days in 2 rooms",
                "“Commercial” decisions were contested in 3 rooms: fix the structure, not the decisions",
                "2 rooms had three or more voices to one contact",
            ]
        );
        assert!(flags(&rooms[2..], &decisions[2..]).is_empty());
    }

    #[test]
    fn bars_are_scaled_to_the_longest() {
        let chart = Chart::new(
            "x",
            "X",
            vec![("a".into(), 2.0, "2".into()), ("b".into(), 4.0, "4".into())],
        );
        assert_eq!(chart.bars[0].percent, 50);
        assert_eq!(chart.bars[1].percent, 100);
        assert_eq!(chart.height(), 68);
    }
}
