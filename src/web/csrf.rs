//! CSRF proof: a per-session token that every state-changing request must carry, as the
//! `csrf_token` form field or the `X-CSRF-Token` header (htmx sends it from `hx-headers`).
//!
//! This sits behind tower-http's `CsrfLayer`, which already refuses cross-site requests by
//! `Sec-Fetch-Site`/`Origin`; the token also covers clients that send neither header.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::error::AppError;
use crate::secrets::{constant_time_eq, random_token};
use crate::web::errors::error_page;

const SESSION_KEY: &str = "csrf";
pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
const BODY_LIMIT: usize = 1024 * 1024;

/// This session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(SESSION_KEY).await? {
        return Ok(token);
    }
    let token = random_token();
    session.insert(SESSION_KEY, &token).await?;
    Ok(token)
}

/// Gives the session a fresh token (at sign-in, with the new session id).
pub async fn rotate(session: &Session) -> Result<(), AppError> {
    session.insert(SESSION_KEY, random_token()).await?;
    Ok(())
}

pub async fn verify_token(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return refused();
    };
    let expected = match session.get::<String>(SESSION_KEY).await {
        Ok(Some(token)) => token,
        Ok(None) => return refused(),
        Err(error) => return AppError::from(error).into_response(),
    };
    let (parts, body) = request.into_parts();
    let header_token = parts
        .headers
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let provided = header_token.or_else(|| is_form(&parts).then(|| form_token(&bytes)).flatten());
    match provided {
        Some(token) if constant_time_eq(&token, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => refused(),
    }
}

fn is_form(parts: &axum::http::request::Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

fn form_token(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == FORM_FIELD)
        .map(|(_, value)| value.into_owned())
}

fn refused() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form has expired or did not come from Accord, so nothing was changed. \
         Reload the page and try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_an_urlencoded_body() {
        assert_eq!(
            form_token(b"email=a%40b.c&csrf_token=abc123"),
            Some("abc123".into())
        );
        assert_eq!(form_token(b"email=a%40b.c"), None);
    }
}
