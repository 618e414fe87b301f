//! Accounts: users, passwords, one-time links, sign-in with its throttle, and the admin pages.

mod admin;
mod auth;
pub mod oidc;
pub mod oidc_config;
pub mod password;
mod set_password;
pub mod settings;
mod setup;
mod sign_in;
pub mod throttle;
pub mod token;
pub mod user;

use axum::Router;

use crate::AppState;

pub use auth::{AdminUser, CurrentUser, SESSION_USER_AT_LOAD, SESSION_USER_ID, UserAtLoad};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(sign_in::router())
        .merge(oidc::router())
        .merge(setup::router())
        .merge(set_password::router())
        .merge(admin::router())
        .merge(settings::router())
}
