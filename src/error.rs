//! `AppError`: every way a request can fail, and the page each one renders.
//!
//! Handlers use `?` everywhere. Internal errors render a plain 500 page and carry the error in
//! the response's extensions, where the error-page middleware logs it once inside the request span.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::web::errors::error_page;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// Refused by a rule of the room (closed, a role still held, …); nothing was changed.
    #[error("{0}")]
    Conflict(String),
    #[error("sign-in required")]
    SignInRequired,
    /// A one-time link that was used, expired or never existed.
    #[error("{0}")]
    Gone(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(error: tower_sessions::session::Error) -> Self {
        AppError::Internal(error.into())
    }
}

/// The internal error behind a 500 response, for the middleware that logs it.
#[derive(Clone, Debug)]
pub struct InternalError(pub Arc<anyhow::Error>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or you do not have access to it.",
            ),
            AppError::Forbidden(why) => error_page(StatusCode::FORBIDDEN, "Not allowed", &why),
            AppError::Conflict(why) => {
                error_page(StatusCode::CONFLICT, "Not possible right now", &why)
            }
            AppError::SignInRequired => {
                let mut response = Redirect::to("/sign-in").into_response();
                // htmx follows HX-Redirect instead of swapping the sign-in page into a fragment.
                response
                    .headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/sign-in"));
                response
            }
            AppError::Gone(why) => error_page(StatusCode::GONE, "Link no longer valid", &why),
            AppError::Internal(error) => {
                let mut response = error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Accord could not complete this request. Please try again in a moment.",
                );
                response
                    .extensions_mut()
                    .insert(InternalError(Arc::new(error)));
                response
            }
        }
    }
}
