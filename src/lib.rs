//! Accord coordinates a customer escalation the way a good incident response is coordinated:
//! one room, clear owners, one voice to the customer.
//!
//! The library builds the whole application ([`Application`]); `main.rs` is a thin CLI over it.

pub mod accounts;
pub mod api;
pub mod approvals;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contact_log;
pub mod customers;
pub mod db;
pub mod decisions;
pub mod demo;
pub mod drafts;
pub mod emails;
pub mod engagements;
pub mod error;
pub mod escalations;
pub mod inbound;
pub mod mail;
pub mod measures;
pub mod members;
pub mod needs;
pub mod outbox;
pub mod outreach;
pub mod questions;
pub mod retrospectives;
pub mod rooms;
pub mod secrets;
pub mod stamped;
pub mod startup;
pub mod sweeps;
pub mod syncs;
mod text_enum;
pub mod timeline;
pub mod updates;
pub mod web;
pub mod webhooks;
pub mod workstreams;

pub use startup::{AppState, Application};
