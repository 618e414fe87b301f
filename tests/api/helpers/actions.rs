//! Typed actions: what a person does in Accord, as one call (`dana.align_draft(room, draft, 1)`),
//! and the fixtures several test modules start from.

use reqwest::{Response, StatusCode};

use super::{Client, Team, TestApp, count};
use crate::smtp::Mode;

pub const JORDAN: &str = "jordan@northwind.example";
pub const PRIYA: &str = "priya@northwind.example";

impl Client {
    pub async fn align_draft(&self, room: i64, draft: i64, revision: i64) -> Response {
        let path = format!("/rooms/{room}/drafts/{draft}/approval");
        self.post_form(&path, &[("revision", &revision.to_string())])
            .await
    }

    pub async fn send_draft(&self, room: i64, draft: i64, revision: i64) -> Response {
        let path = format!("/rooms/{room}/drafts/{draft}/delivery");
        self.post_form(&path, &[("revision", &revision.to_string())])
            .await
    }

    /// A new revision of the draft to Jordan with `body`.
    pub async fn edit_draft(&self, room: i64, draft: i64, body: &str) -> Response {
        let fields = [
            ("to", "1"),
            ("subject", "Your capacity forecast: next steps"),
            ("body", body),
        ];
        self.post_form(&format!("/rooms/{room}/drafts/{draft}/revisions"), &fields)
            .await
    }

    pub async fn write_update(&self, room: i64, status: &str, headline: &str) -> Response {
        let fields = [
            ("status", status),
            ("headline", headline),
            (
                "what_changed",
                "The forecast prototype runs on Northwind's telemetry.",
            ),
            ("decisions", "Forecast per cluster, 90 days ahead."),
            ("risks", "A competitor promises this today."),
            ("asks", "Approve the support extension."),
            ("next_due", "2030-01-10T09:00"),
        ];
        self.post_form(&format!("/rooms/{room}/updates"), &fields)
            .await
    }

    pub async fn revise_update(&self, room: i64, update: i64, headline: &str) -> Response {
        let fields = [
            ("status", "at_risk"),
            ("headline", headline),
            ("next_due", "2030-01-10T09:00"),
        ];
        let path = format!("/rooms/{room}/updates/{update}/revisions");
        self.post_form(&path, &fields).await
    }

    pub async fn align_update(&self, room: i64, update: i64, revision: i64) -> Response {
        let path = format!("/rooms/{room}/updates/{update}/approval");
        self.post_form(&path, &[("revision", &revision.to_string())])
            .await
    }

    /// Starts the active workstream `title` in `room`, driven by `driver`, due at `due_at` (as
    /// typed in the form, in the client's zone).
    pub async fn start_workstream(
        &self,
        room: i64,
        title: &str,
        driver: i64,
        due_at: &str,
    ) -> Response {
        let driver = driver.to_string();
        let fields = [
            ("title", title),
            ("driver", driver.as_str()),
            ("status", "active"),
            ("due_at", due_at),
        ];
        self.post_form(&format!("/rooms/{room}/workstreams"), &fields)
            .await
    }

    /// Saves the details of the room `open_northwind` opened, as it was opened, with `changes`
    /// (due dates, cadences).
    pub async fn edit_northwind(&self, room: i64, changes: &[(&str, &str)]) -> Response {
        let mut fields = vec![
            ("title", "Capacity monitoring does not say when to order"),
            ("problem", "Jordan cannot tell when to order hardware."),
            ("severity", "S2"),
        ];
        fields.extend_from_slice(changes);
        self.post_form(&format!("/rooms/{room}"), &fields).await
    }

    pub async fn publish_update(&self, room: i64, update: i64) -> Response {
        let path = format!("/rooms/{room}/updates/{update}/publication");
        self.post_form(&path, &[]).await
    }
}

impl TestApp {
    /// A room with two customer contacts and a first draft by Sam (a PM and the communicator) to
    /// Jordan, cc Priya. Returns (room, draft).
    pub async fn room_with_draft(&self, team: &Team) -> (i64, i64) {
        let room = team.open_northwind().await;
        let customer = count(self, "SELECT id FROM customers").await;
        team.lee
            .0
            .post_form(
                &format!("/customers/{customer}/contacts"),
                &[
                    ("name", "Priya Shah"),
                    ("email", PRIYA),
                    ("title", "Infrastructure lead"),
                    ("time_zone", "America/Chicago"),
                ],
            )
            .await;
        let jordan = count(
            self,
            &format!("SELECT id FROM contacts WHERE email = '{JORDAN}'"),
        )
        .await
        .to_string();
        let priya = count(
            self,
            &format!("SELECT id FROM contacts WHERE email = '{PRIYA}'"),
        )
        .await
        .to_string();
        let fields = [
            ("to", jordan.as_str()),
            ("cc", priya.as_str()),
            ("subject", "Your capacity forecast: next steps"),
            (
                "body",
                "Hello Jordan,\n\nWe will show you the 90-day forecast on Friday.\n\nSam",
            ),
        ];
        let created = team
            .sam
            .0
            .post_form(&format!("/rooms/{room}/drafts"), &fields)
            .await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        (room, count(self, "SELECT MAX(id) FROM drafts").await)
    }

    /// [`TestApp::room_with_draft`], with Dana (the other PM) aligned on revision 1: only Sam's
    /// own action stands between the draft and the customer.
    pub async fn draft_dana_aligned_on(&self, team: &Team) -> (i64, i64) {
        let (room, draft) = self.room_with_draft(team).await;
        let aligned = team.dana.0.align_draft(room, draft, 1).await;
        assert_eq!(aligned.status(), StatusCode::SEE_OTHER);
        (room, draft)
    }

    /// Sam drafts another email to Jordan in `room` and both PMs (Dana and Sam) align on it.
    /// Returns the draft.
    pub async fn another_aligned_draft(&self, team: &Team, room: i64, subject: &str) -> i64 {
        let fields = [("to", "1"), ("subject", subject), ("body", "Hello Jordan.")];
        let created = team
            .sam
            .0
            .post_form(&format!("/rooms/{room}/drafts"), &fields)
            .await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let draft = count(self, "SELECT MAX(id) FROM drafts").await;
        team.dana.0.align_draft(room, draft, 1).await;
        team.sam.0.align_draft(room, draft, 1).await;
        draft
    }

    /// Dana's aligned draft (its alignment mail delivered), then the mail server turns to `mode`
    /// and Sam sends. Returns the team, the room and the draft.
    pub async fn send_while(&self, mode: Mode) -> (Team, i64, i64) {
        let team = self.team().await;
        let (room, draft) = self.draft_dana_aligned_on(&team).await;
        self.smtp.wait_for_to("dana@example.com", 1).await;
        self.smtp.set_mode(mode);
        team.sam.0.send_draft(room, draft, 1).await;
        (team, room, draft)
    }

    /// The state of the newest customer email in the outbox ("" when there is none).
    pub async fn customer_outbox_state(&self) -> String {
        let db = self.db().await;
        let state: String = sqlx::query_scalar(
            "SELECT state FROM outbox WHERE kind = 'customer' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(db.reader())
        .await
        .unwrap()
        .unwrap_or_default();
        db.close().await;
        state
    }

    /// Dana writes an on-track update, which waits for Sam to align. Returns the update id.
    pub async fn written_update(&self, team: &Team, room: i64, headline: &str) -> i64 {
        let written = team.dana.0.write_update(room, "on_track", headline).await;
        assert_eq!(written.status(), StatusCode::SEE_OTHER);
        count(self, "SELECT MAX(id) FROM leadership_updates").await
    }

    /// Dana writes an update, Sam aligns, Dana publishes. Returns the update id.
    pub async fn published_update(&self, team: &Team, room: i64, headline: &str) -> i64 {
        let update = self.written_update(team, room, headline).await;
        let aligned = team.sam.0.align_update(room, update, 1).await;
        assert_eq!(aligned.status(), StatusCode::SEE_OTHER);
        let published = team.dana.0.publish_update(room, update).await;
        assert_eq!(published.status(), StatusCode::SEE_OTHER);
        update
    }
}
