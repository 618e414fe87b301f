//! The black-box suite: the real server on port 0, a fresh database per test (SQLite, or
//! PostgreSQL when `ACCORD_TEST_POSTGRES_URL` is set), a real SMTP listener.

mod accounts;
mod admin;
mod cli;
mod harness;
mod helpers;
mod live;
mod migrations;
mod outbound;
mod outbox_crash;
mod room_content;
mod room_rules;
mod rooms;
mod security;
mod smtp;
mod updates;
