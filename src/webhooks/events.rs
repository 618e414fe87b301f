//! Which timeline entries are webhook events, and the deliveries they queue. Every door records
//! its change through `timeline::record`, in the transaction that writes it, so an event is
//! queued for each subscribed endpoint exactly when the change commits — never for a change that
//! rolled back, and through every door alike.

use serde_json::{Value, json};
use sqlx::Row;

use super::sign;
use crate::clock::Millis;
use crate::rooms::change::RoomTx;

/// Every event an endpoint can subscribe to, with what it means.
pub const EVENTS: &[(&str, &str)] = &[
    ("room.opened", "An escalation room was opened"),
    (
        "alignment.requested",
        "A revision of a customer email or leadership update awaits the PMs' alignment",
    ),
    (
        "draft.aligned",
        "A PM aligned on a revision of a customer email",
    ),
    ("objection.raised", "A PM objected to a revision"),
    (
        "send.blocked",
        "A customer email was refused by the send gate",
    ),
    (
        "email.delivered",
        "A customer email was accepted by the mail server",
    ),
    (
        "email.delivery_unknown",
        "A customer email may or may not have been delivered",
    ),
    (
        "inbound.received",
        "The customer's reply was filed in the room",
    ),
    (
        "update.published",
        "A leadership update was published as a pre-read",
    ),
    (
        "engagement.cleared",
        "A call or meeting with the customer was cleared",
    ),
];

/// The webhook event a timeline entry of `kind` is, if any.
pub fn event_for(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "room.opened" => "room.opened",
        "drafts.created" | "drafts.revised" | "updates.created" | "updates.revised" => {
            "alignment.requested"
        }
        "drafts.approved" => "draft.aligned",
        "drafts.objected" | "updates.objected" => "objection.raised",
        "drafts.send_blocked" => "send.blocked",
        "drafts.sent" => "email.delivered",
        "drafts.delivery_unknown" => "email.delivery_unknown",
        "drafts.received" => "inbound.received",
        "updates.published" => "update.published",
        "engagements.cleared" => "engagement.cleared",
        _ => return None,
    })
}

/// What one event says, whatever the endpoint.
pub struct Event<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub room_id: i64,
    pub room_title: &'a str,
    pub summary: &'a str,
    /// The absolute address of what it is about.
    pub url: &'a str,
    pub at: Millis,
    /// The customer email's text, for endpoints that opted in (when the event has one).
    pub body: Option<&'a str>,
}

/// The JSON posted to an endpoint: the Standard Webhooks envelope (`type`, `timestamp`, `data`),
/// or Slack's and Teams' incoming-webhook `{"text": …}`. The body is only there when the
/// endpoint opted in (it was not kept otherwise).
pub fn payload(event: &Event<'_>, slack: bool) -> Value {
    if slack {
        return json!({
            "text": format!("{} — {} <{}|open in Accord>", event.room_title, event.summary, event.url)
        });
    }
    let timestamp = chrono::DateTime::from_timestamp_millis(event.at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let mut data = json!({
        "room_id": event.room_id,
        "room_title": event.room_title,
        "summary": event.summary,
        "url": event.url,
    });
    if let Some(body) = event.body {
        data["email_body"] = Value::from(body);
    }
    json!({"type": event.name, "id": event.id, "timestamp": timestamp, "data": data})
}

/// The customer email text an entry's link points at (a draft's current revision, or a filed
/// reply), for endpoints that opted in.
async fn body_behind(tx: &mut RoomTx, room_id: i64, link: &str) -> sqlx::Result<Option<String>> {
    let mut parts = link.trim_start_matches('/').split('/');
    let (Some("rooms"), Some(_), Some(kind), Some(id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let sql = match kind {
        "drafts" => {
            "SELECT r.body FROM drafts d JOIN draft_revisions r ON r.draft_id = d.id \
             AND r.number = d.current_revision WHERE d.id = $1 AND d.room_id = $2"
        }
        "messages" => "SELECT body_text FROM inbound_messages WHERE id = $1 AND room_id = $2",
        _ => return Ok(None),
    };
    sqlx::query_scalar(sql)
        .bind(id)
        .bind(room_id)
        .fetch_optional(tx.room(room_id))
        .await
}

/// Queues a delivery of the entry to every endpoint subscribed to its event (none when it is
/// not an event). Called by `timeline::record`, inside the change's transaction.
pub async fn queue(
    tx: &mut RoomTx,
    room_id: i64,
    (kind, summary, link): (&str, &str, &str),
    at: Millis,
) -> sqlx::Result<usize> {
    let Some(name) = event_for(kind) else {
        return Ok(0);
    };
    let endpoints = sqlx::query(
        "SELECT id, events, include_bodies FROM webhook_endpoints WHERE disabled_at IS NULL",
    )
    .fetch_all(tx.room(room_id))
    .await?;
    let mut subscribed = Vec::new();
    for row in &endpoints {
        let events: String = row.try_get(1)?;
        if events.split(',').any(|e| e == name || e == "*") {
            subscribed.push((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(2)? == 1));
        }
    }
    if subscribed.is_empty() {
        return Ok(0);
    }
    let title: String = sqlx::query_scalar("SELECT title FROM rooms WHERE id = $1")
        .bind(room_id)
        .fetch_one(tx.room(room_id))
        .await?;
    let body = match subscribed.iter().any(|(_, bodies)| *bodies) {
        true => body_behind(tx, room_id, link).await?,
        false => None,
    };
    let link = match link {
        "" => format!("/rooms/{room_id}"),
        link => link.to_owned(),
    };
    let id = sign::new_event_id();
    for (endpoint, bodies) in &subscribed {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event, room_id, room_title, \
             summary, link, email_body, state, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $9)",
        )
        .bind(endpoint)
        .bind(&id)
        .bind(name)
        .bind(room_id)
        .bind(&title)
        .bind(summary)
        .bind(&link)
        .bind(body.as_ref().filter(|_| *bodies))
        .bind(at)
        .execute(tx.room(room_id))
        .await?;
    }
    Ok(subscribed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_named_are_the_entries_mapped() {
        let mapped: std::collections::BTreeSet<&str> = [
            "room.opened",
            "drafts.created",
            "drafts.approved",
            "drafts.objected",
            "drafts.send_blocked",
            "drafts.sent",
            "drafts.delivery_unknown",
            "drafts.received",
            "updates.published",
            "engagements.cleared",
        ]
        .into_iter()
        .filter_map(event_for)
        .collect();
        let listed: std::collections::BTreeSet<&str> = EVENTS.iter().map(|(e, _)| *e).collect();
        assert_eq!(mapped, listed);
        assert_eq!(event_for("contact_log.touched"), None);
    }

    fn event(body: Option<&'static str>) -> Event<'static> {
        Event {
            id: "msg_1",
            name: "alignment.requested",
            room_id: 7,
            room_title: "Capacity",
            summary: "Sam drafted the customer email “Forecast”.",
            url: "https://accord.example/rooms/7/drafts/3",
            at: 0,
            body,
        }
    }

    #[test]
    fn a_kept_body_is_in_the_data_and_slack_gets_text_only() {
        let standard = payload(&event(None), false);
        assert_eq!(standard["type"], "alignment.requested");
        assert_eq!(standard["timestamp"], "1970-01-01T00:00:00.000Z");
        assert!(standard["data"].get("email_body").is_none());
        let opted = payload(&event(Some("Hello Jordan")), false);
        assert_eq!(opted["data"]["email_body"], "Hello Jordan");
        let slack = payload(&event(Some("Hello Jordan")), true);
        assert_eq!(
            slack,
            json!({"text": "Capacity — Sam drafted the customer email “Forecast”. <https://accord.example/rooms/7/drafts/3|open in Accord>"})
        );
    }
}
