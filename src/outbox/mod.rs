//! The outbox: the durable queue of every message Accord sends (customer emails, notifications,
//! invitations), written in the same transaction as the action that sends it, delivered at most
//! once automatically by a background worker, and never silently lost: an ambiguous outcome is
//! `unknown` until a person decides.

pub mod effects;
pub mod model;
pub mod resolution;
pub mod worker;

pub use worker::Wakeup;
