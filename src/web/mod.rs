//! The web shell around every page: layout context, CSRF, security headers, static assets,
//! error pages, health checks and the session store.

pub mod assets;
pub mod csrf;
pub mod errors;
pub mod filters;
pub mod forms;
pub mod headers;
pub mod health;
pub mod live;
pub mod markdown;
pub mod page;
pub mod session_store;
pub mod time;
