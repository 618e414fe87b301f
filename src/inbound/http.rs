//! `POST /inbound/messages`: one raw RFC 5322 message as the body, for a mail provider's inbound
//! webhook or a relay, authorised by `Authorization: Bearer ACCORD_INBOUND_SECRET`. It sits
//! outside the session and CSRF layers (no cookie is ever read here) and has its own size limit.
//! Answers are JSON: 202 filed or already filed, 401, 400 unreadable, 413 too large, 404 when
//! the door is not configured, 503 when the database is unavailable (the sender retries).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::file::{self, Outcome, Refused, Unreadable};
use super::model::Source;
use crate::AppState;
use crate::secrets::constant_time_eq;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbound/messages", post(receive))
        .layer(DefaultBodyLimit::disable())
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn authorised(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(secret) = &state.config.inbound.secret else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim(), &secret.0))
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if state.config.inbound.secret.is_none() {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"error": "Inbound mail over HTTP is off: set ACCORD_INBOUND_SECRET to turn it on."}),
        );
    }
    if !authorised(&state, &headers) {
        let mut response = answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Send Authorization: Bearer <ACCORD_INBOUND_SECRET>."}),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        return response;
    }
    let limit = state.config.inbound.max_bytes;
    let too_large = || {
        answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": Refused::TooLarge { limit }.to_string()}),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let raw = match axum::body::to_bytes(body, limit).await {
        Ok(raw) => raw,
        Err(_) => return too_large(),
    };
    match file::file(&state, &raw, Source::Http, Unreadable::Refuse).await {
        Ok(Ok(outcome)) => {
            let (word, id) = match outcome {
                Outcome::Filed { id, .. } => ("filed", id),
                Outcome::Unmatched { id } => ("unmatched", id),
                Outcome::AlreadyFiled { id } => ("already_filed", id),
            };
            answer(StatusCode::ACCEPTED, json!({"outcome": word, "id": id}))
        }
        Ok(Err(refused @ Refused::TooLarge { .. })) => answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": refused.to_string()}),
        ),
        Ok(Err(refused)) => answer(
            StatusCode::BAD_REQUEST,
            json!({"error": refused.to_string()}),
        ),
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "inbound message could not be filed"
            );
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "Accord could not store the message now; send it again later."}),
            )
        }
    }
}
