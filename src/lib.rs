//! Accord coordinates a customer escalation the way a good incident response is coordinated:
//! one room, clear owners, one voice to the customer.
//!
//! The library builds the whole application ([`Application`]); `main.rs` is a thin CLI over it.

pub mod accounts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod home;
pub mod mail;
pub mod secrets;
pub mod startup;
pub mod web;

pub use startup::{AppState, Application};
