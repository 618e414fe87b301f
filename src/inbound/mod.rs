//! The customer's side of the conversation: replies come back into the room. Three doors (an IMAP
//! mailbox, an HTTP endpoint, a pipe from the mail server) feed one pipeline (`file`) that parses
//! (`parse`), matches (`matching`) and files (`model`) each message exactly once; the room shows
//! it in its conversation (`show`), and admins file what matched no room (`admin`).

pub mod admin;
pub mod config;
pub mod conversation;
pub mod file;
pub mod http;
pub mod imap;
pub mod matching;
pub mod model;
pub mod parse;
pub mod quote;
pub mod reply_address;
pub mod show;

use axum::Router;

use crate::AppState;

/// The pages of received messages (behind sign-in, CSRF and sessions like every page).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(show::router())
        .merge(admin::router())
        .merge(reply_address::router())
}
