//! Customer email drafts.
pub mod gate;
