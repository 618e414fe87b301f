//! Outreach pauses.
pub mod model;
