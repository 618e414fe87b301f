//! RFC 9457 problem details: every error of `/api/v1` is a JSON object with a `type`, a `title`,
//! the `status` and a `detail` in words — and, for a refused send, each blocker as the draft page
//! words it. Never an HTML page, never a redirect to sign in.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, InternalError};

/// A problem detail (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every reason a send or publication was refused, in the order the page lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    #[serde(skip)]
    internal: Option<InternalError>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://accord.example/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            blockers: Vec::new(),
            internal: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "There is nothing here, or the token's owner cannot read it.",
        )
    }

    /// A gate's refusal: 409 with every blocker.
    pub fn blocked(detail: impl Into<String>, blockers: Vec<String>) -> Problem {
        Problem {
            blockers,
            ..Problem::new(StatusCode::CONFLICT, "blocked", detail)
        }
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        match error {
            AppError::NotFound => Problem::not_found(),
            AppError::Forbidden(why) => Problem::forbidden(why),
            AppError::Conflict(why) => Problem::new(StatusCode::CONFLICT, "conflict", why),
            AppError::SignInRequired => Problem::unauthorized("Send a valid API token."),
            AppError::Gone(why) => Problem::new(StatusCode::GONE, "gone", why),
            AppError::Internal(error) => Problem {
                internal: Some(InternalError(std::sync::Arc::new(error))),
                ..Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Accord could not complete this request. Try again in a moment.",
                )
            },
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Problem {
        Problem::from(AppError::from(error))
    }
}

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let internal = self.internal.take();
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"accord\""),
            );
        }
        if let Some(internal) = internal {
            response.extensions_mut().insert(internal);
        }
        response
    }
}
