//! The room as leadership sees it in a pre-read, frozen at the moment of publishing, and what
//! changed between two published versions.

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::decisions::model::{self as decisions, DecisionStatus};
use crate::error::AppError;
use crate::members::model as members;
use crate::outreach::model as outreach;
use crate::questions::model::{self as questions, QuestionStatus};
use crate::rooms::model::Room;
use crate::web::time::Zone;
use crate::workstreams::model as workstreams;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkstreamLine {
    pub title: String,
    pub driver: String,
    pub status: String,
    pub next_step: String,
    pub due: Option<Millis>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionLine {
    pub title: String,
    pub kind: String,
    pub status: String,
    pub by: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub taken_at: Millis,
    pub room_title: String,
    pub customer: String,
    pub severity: String,
    pub room_status: String,
    pub lead: String,
    pub communicator: String,
    pub owners: Vec<(String, String)>,
    pub workstreams: Vec<WorkstreamLine>,
    /// Decisions made or rejected since the previous published update.
    pub decisions: Vec<DecisionLine>,
    pub open_questions: Vec<(String, String)>,
    /// Contacts touched since the previous published update, with how many times.
    pub contacts_touched: Vec<(String, i64)>,
    pub outreach: String,
    pub last_email: Option<(String, Millis)>,
    /// The customer emails sent since the previous published update, oldest first, with the
    /// text the customer read. Absent from pre-reads published before it existed.
    #[serde(default)]
    pub emails: Vec<SentEmail>,
}

/// A customer email as it went out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentEmail {
    pub subject: String,
    pub to: String,
    pub sent_at: Millis,
    pub body: String,
}

impl SentEmail {
    /// The first few lines, for the folded view.
    pub fn opening(&self) -> String {
        let lines: Vec<&str> = self.body.lines().take(FOLDED_LINES).collect();
        lines.join("\n")
    }

    /// Whether the folded view hides part of the text.
    pub fn is_folded(&self) -> bool {
        self.body.lines().count() > FOLDED_LINES
    }
}

/// Lines of an email shown before "Read the whole email".
const FOLDED_LINES: usize = 4;

impl Snapshot {
    /// Reads the room now; "since" is the previous publication (or the room's opening).
    pub async fn take(
        conn: &mut AnyConnection,
        room: &Room,
        customer: &str,
        since: Millis,
        now: Millis,
    ) -> Result<Snapshot, AppError> {
        let people = members::list(conn, room.id).await?;
        let name = |id: i64| {
            people
                .iter()
                .find(|m| m.user_id == id)
                .map_or(String::new(), |m| m.name.clone())
        };
        let owners = decisions::types(conn, room.id)
            .await?
            .into_iter()
            .map(|t| (t.name, t.owner_name))
            .collect();
        let workstreams = workstreams::list(conn, room.id)
            .await?
            .into_iter()
            .map(|w| WorkstreamLine {
                title: w.title,
                driver: w.driver_name,
                status: w.status.label().to_owned(),
                next_step: w.next_step,
                due: w.due_at,
            })
            .collect();
        let decisions = decisions::list(conn, room.id, None)
            .await?
            .into_iter()
            .filter(|d| {
                d.status != DecisionStatus::Proposed && d.decided_at.is_some_and(|at| at > since)
            })
            .map(|d| DecisionLine {
                title: d.title,
                kind: d.type_name,
                status: d.status.label().to_owned(),
                by: d.decided_by.unwrap_or_default(),
            })
            .collect();
        let open_questions = questions::list(conn, room.id)
            .await?
            .into_iter()
            .filter(|q| q.status == QuestionStatus::Open)
            .map(|q| (q.body, q.stakeholder))
            .collect();
        let outreach = match outreach::active(conn, room.id, now).await? {
            Some(p) => format!("Paused by {}: {}", p.set_by, p.reason),
            None => "Open: the communicator may write to the customer".to_owned(),
        };
        Ok(Snapshot {
            taken_at: now,
            room_title: room.title.clone(),
            customer: customer.to_owned(),
            severity: room.severity().label().to_owned(),
            room_status: room.status().label().to_owned(),
            lead: name(room.lead_user_id),
            communicator: name(room.communicator_user_id),
            owners,
            workstreams,
            decisions,
            open_questions,
            contacts_touched: touched_since(conn, room.id, since).await?,
            outreach,
            last_email: last_email(conn, room.id).await?,
            emails: sent_since(conn, room.id, since).await?,
        })
    }

    /// The pulled-in text a new update starts from, ready to edit: (what changed, decisions,
    /// risks), as Markdown lists; times are worded in `zone`, the writer's.
    pub fn starting_text(&self, zone: Zone) -> (String, String, String) {
        let mut changed: Vec<String> = self
            .workstreams
            .iter()
            .map(|w| {
                let line = format!(
                    "- {} ({}, driven by {})",
                    w.title,
                    w.status.to_lowercase(),
                    w.driver
                );
                match w.next_step.trim() {
                    "" => line,
                    next => format!("{line}: {next}"),
                }
            })
            .collect();
        if !self.contacts_touched.is_empty() {
            let touched: Vec<String> = self
                .contacts_touched
                .iter()
                .map(|(c, n)| format!("{c} ({n})"))
                .collect();
            changed.push(format!(
                "- Customer contacts touched: {}",
                touched.join(", ")
            ));
        }
        if let Some((subject, at)) = &self.last_email {
            changed.push(format!(
                "- Last email to the customer: “{subject}”, {}",
                zone.when(*at)
            ));
        }
        changed.push(format!("- Outreach: {}", self.outreach));
        let decisions: Vec<String> = self
            .decisions
            .iter()
            .map(|d| {
                format!(
                    "- {} ({}): {} by {}",
                    d.title,
                    d.kind,
                    d.status.to_lowercase(),
                    d.by
                )
            })
            .collect();
        let mut risks: Vec<String> = self
            .workstreams
            .iter()
            .filter(|w| w.status == "Blocked")
            .map(|w| format!("- {} is blocked", w.title))
            .collect();
        risks.extend(
            self.open_questions
                .iter()
                .map(|(q, who)| format!("- Open question for {who}: {q}")),
        );
        (changed.join("\n"), decisions.join("\n"), risks.join("\n"))
    }
}

async fn touched_since(
    conn: &mut AnyConnection,
    room_id: i64,
    since: Millis,
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT c.name, COUNT(*) FROM contact_touches t JOIN contacts c ON c.id = t.contact_id \
         WHERE t.room_id = $1 AND t.touched_at > $2 AND t.direction = 'outbound' \
         GROUP BY c.name ORDER BY c.name",
    )
    .bind(room_id)
    .bind(since)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The customer emails of the room sent after `since`, with the revision that went out.
async fn sent_since(
    conn: &mut AnyConnection,
    room_id: i64,
    since: Millis,
) -> sqlx::Result<Vec<SentEmail>> {
    let rows = sqlx::query(
        "SELECT o.subject, o.envelope_to, o.sent_at, v.body FROM outbox o \
         JOIN drafts d ON d.id = o.draft_id \
         JOIN draft_revisions v ON v.draft_id = d.id AND v.number = d.current_revision \
         WHERE o.room_id = $1 AND o.kind = 'customer' AND o.state = 'sent' AND o.sent_at >= $2 \
         ORDER BY o.sent_at, o.id LIMIT 50",
    )
    .bind(room_id)
    .bind(since)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SentEmail {
                subject: r.try_get(0)?,
                to: r.try_get::<String, _>(1)?.replace(',', ", "),
                sent_at: r.try_get(2)?,
                body: r.try_get(3)?,
            })
        })
        .collect()
}

async fn last_email(
    conn: &mut AnyConnection,
    room_id: i64,
) -> sqlx::Result<Option<(String, Millis)>> {
    let row = sqlx::query(
        "SELECT subject, sent_at FROM outbox WHERE room_id = $1 AND kind = 'customer' AND state = 'sent' \
         ORDER BY sent_at DESC LIMIT 1",
    )
    .bind(room_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// What changed from the previous published version to this one, in sentences.
pub fn changes(
    previous: &Snapshot,
    current: &Snapshot,
    previous_status: &str,
    current_status: &str,
) -> Vec<String> {
    let mut said = Vec::new();
    if previous_status != current_status {
        said.push(format!(
            "Overall status: {current_status} (was {previous_status})."
        ));
    }
    if previous.lead != current.lead {
        said.push(format!(
            "{} now leads (was {}).",
            current.lead, previous.lead
        ));
    }
    if previous.communicator != current.communicator {
        said.push(format!(
            "{} now speaks to the customer (was {}).",
            current.communicator, previous.communicator
        ));
    }
    if previous.severity != current.severity {
        said.push(format!(
            "Severity: {} (was {}).",
            current.severity, previous.severity
        ));
    }
    for w in &current.workstreams {
        match previous.workstreams.iter().find(|p| p.title == w.title) {
            None => said.push(format!(
                "New workstream “{}”, driven by {}.",
                w.title, w.driver
            )),
            Some(p) if p.status != w.status => said.push(format!(
                "“{}” is {} (was {}).",
                w.title,
                w.status.to_lowercase(),
                p.status.to_lowercase()
            )),
            Some(p) if p.driver != w.driver => said.push(format!(
                "“{}” is now driven by {} (was {}).",
                w.title, w.driver, p.driver
            )),
            Some(_) => {}
        }
    }
    for d in &current.decisions {
        said.push(format!("{}: “{}” ({}).", d.status, d.title, d.kind));
    }
    if previous.outreach != current.outreach {
        said.push(format!("Outreach: {}.", current.outreach));
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            lead: "Dana".into(),
            communicator: "Sam".into(),
            severity: "S2 high".into(),
            workstreams: vec![WorkstreamLine {
                title: "Forecast".into(),
                driver: "Dana".into(),
                status: "Active".into(),
                ..WorkstreamLine::default()
            }],
            outreach: "Open".into(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn nothing_changed_says_nothing() {
        assert!(changes(&snapshot(), &snapshot(), "On track", "On track").is_empty());
    }

    #[test]
    fn status_workstreams_roles_and_decisions_are_described() {
        let mut now = snapshot();
        now.workstreams[0].status = "Blocked".into();
        now.workstreams.push(WorkstreamLine {
            title: "Pricing".into(),
            driver: "Lee".into(),
            status: "Planned".into(),
            ..WorkstreamLine::default()
        });
        now.communicator = "Lee".into();
        now.decisions.push(DecisionLine {
            title: "Extend the trial".into(),
            kind: "Commercial".into(),
            status: "Decided".into(),
            by: "Lee".into(),
        });
        let said = changes(&snapshot(), &now, "On track", "At risk");
        assert_eq!(
            said,
            [
                "Overall status: At risk (was On track).",
                "Lee now speaks to the customer (was Sam).",
                "“Forecast” is blocked (was active).",
                "New workstream “Pricing”, driven by Lee.",
                "Decided: “Extend the trial” (Commercial).",
            ]
        );
    }

    #[test]
    fn a_snapshot_survives_a_round_trip_through_json() {
        let json = serde_json::to_string(&snapshot()).unwrap();
        assert_eq!(serde_json::from_str::<Snapshot>(&json).unwrap(), snapshot());
    }
}
