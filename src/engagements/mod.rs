//! Engagements (rule 11): calls, meetings, visits and chats with the customer's contacts,
//! coordinated *before* they happen. Any member but leadership plans one on a topic (a
//! workstream) with the questions to ask, bundled from the ledger and from teammates; the topic's
//! voice (or the communicator) clears it — refused while outreach is paused or when another
//! engagement with the same contact is close (joining it is offered), warned past the touch limit;
//! the cleared engagement's invitation goes to its participants; afterwards its outcome answers
//! the questions and writes the contact-log touch.

pub mod clear;
pub mod invite;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod rules;
pub mod show;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/engagements/new", get(plan::new))
        .route("/rooms/{id}/engagements", post(plan::create))
        .route("/rooms/{id}/engagements/{e}", get(show::show))
        .route(
            "/rooms/{id}/engagements/{e}/questions",
            post(show::add_question),
        )
        .route(
            "/rooms/{id}/engagements/{e}/participation",
            post(show::join),
        )
        .route(
            "/rooms/{id}/engagements/{e}/cancellation",
            post(show::cancel),
        )
        .route("/rooms/{id}/engagements/{e}/clearance", post(clear::clear))
        .route(
            "/rooms/{id}/engagements/{e}/schedule",
            post(clear::reschedule),
        )
        .route("/rooms/{id}/engagements/{e}/outcome", post(outcome::record))
}
