//! The black-box suite: the real server on port 0, a fresh database per test (SQLite, or
//! PostgreSQL when `ACCORD_TEST_POSTGRES_URL` is set), a real SMTP listener.

mod accounts;
mod admin;
mod cli;
mod contact_log;
mod decisions;
mod disagreement;
mod drafts;
mod engagements;
mod harness;
mod helpers;
mod inbound;
mod insights;
mod json_api;
mod members;
mod migrations;
mod needs;
mod openapi;
mod outbox;
mod outbox_crash;
mod outreach;
mod parts;
mod questions;
mod retrospectives;
mod rooms;
mod security;
mod send_panel;
mod smtp;
mod smtp_tls;
mod sso;
mod syncs;
mod time_zones;
mod timeline;
mod updates;
mod webhooks;
mod workstreams;
