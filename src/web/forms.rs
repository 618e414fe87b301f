//! Form input: the extractor every form handler uses, and the messages shown next to fields.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Like `axum::Form`, but repeated fields fill a `Vec`, and a body that cannot be read renders
/// Accord's 400 page instead of plain text.
/// Form structs give every field `#[serde(default)]`, so a missing field becomes a message next to
/// that field, not a rejection here.
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = axum::response::Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // serde_html_form reads repeated keys (checkbox lists) into a Vec.
        serde_html_form::from_bytes(&bytes)
            .map(Form)
            .map_err(|_| axum::http::StatusCode::BAD_REQUEST.into_response())
    }
}

/// Messages for the fields of one form, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// The message for `field`, if any (templates show it under the input).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
