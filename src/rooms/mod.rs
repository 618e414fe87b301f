//! Escalation rooms: opening one, the room page with its live updates, the lifecycle, and the
//! dashboard. The rules of who may do what live in `access`; every change goes through `change`.

pub mod access;
pub mod change;
pub mod content;
pub mod dashboard;
pub mod in_view;
pub mod lifecycle;
pub mod live_parts;
pub mod model;
pub mod open;
pub mod parts;
pub mod picker;
pub mod roles;
pub mod show;
pub mod write_queue;

use axum::Router;

use crate::AppState;

/// Every page about rooms and what is in them.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(dashboard::router())
        .merge(open::router())
        .merge(show::router())
        .merge(lifecycle::router())
        .merge(crate::members::router())
        .merge(crate::workstreams::router())
        .merge(crate::decisions::router())
        .merge(crate::questions::router())
        .merge(crate::contact_log::router())
        .merge(crate::drafts::router())
        .merge(crate::outreach::router())
        .merge(crate::engagements::router())
        .merge(crate::syncs::router())
        .merge(crate::retrospectives::router())
        .merge(crate::updates::router())
}
