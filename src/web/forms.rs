//! Form input: the extractor every form handler uses, the messages shown next to fields, and the
//! one 422 answer. Every form parses once into typed values with the same shape:
//! `fn parse(&self, …) -> Result<Typed, FieldErrors>`, collecting each field's message with
//! [`FieldErrors::check`] and ending with [`FieldErrors::finish`]; a handler that gets
//! `Err(errors)` re-renders its page with them through [`invalid`].

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::AppError;

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
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // serde_html_form reads repeated keys (checkbox lists) into a Vec.
        serde_html_form::from_bytes(&bytes)
            .map(Form)
            .map_err(|_| axum::http::StatusCode::BAD_REQUEST.into_response())
    }
}

/// Trimmed text of 1 to `max` characters.
pub fn required_text(raw: &str, max: usize, empty: &'static str) -> Result<String, String> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(empty.to_owned()),
        n if n > max => Err(format!("Use at most {max} characters.")),
        _ => Ok(text.to_owned()),
    }
}

/// Trimmed text of at most `max` characters (may be empty).
pub fn optional_text(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    match text.chars().count() > max {
        true => Err(format!("Use at most {max} characters.")),
        false => Ok(text.to_owned()),
    }
}

/// Messages for the fields of one form, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// `result`'s value, or `None` with its message recorded under `field`.
    pub fn check<T, M: Into<String>>(
        &mut self,
        field: &'static str,
        result: Result<T, M>,
    ) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    /// `value`, or `None` with `message` recorded under `field` when there is none.
    pub fn require<T>(
        &mut self,
        field: &'static str,
        value: Option<T>,
        message: &str,
    ) -> Option<T> {
        if value.is_none() {
            self.add(field, message);
        }
        value
    }

    /// The typed form when no message was recorded (`build` runs only then, so it may unwrap
    /// each checked field with `?`).
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        match self.is_empty() {
            true => build().ok_or(self),
            false => Err(self),
        }
    }

    /// Errors with one message.
    pub fn single(field: &'static str, message: impl Into<String>) -> FieldErrors {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }

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

    /// Each field with its message, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }
}

/// The one answer to a form that did not parse: its page, re-rendered with the messages and the
/// values as typed, with status 422. Nothing was changed.
pub fn invalid(page: impl IntoResponse) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &str, b: &str) -> Result<(i64, i64), FieldErrors> {
        let mut errors = FieldErrors::default();
        let a = errors.check("a", a.parse().map_err(|_| "Enter a number.".to_owned()));
        let b = errors.require("b", b.parse().ok(), "Enter another number.");
        errors.finish(|| Some((a?, b?)))
    }

    #[test]
    fn text_fields_are_trimmed_and_bounded() {
        assert_eq!(required_text("  x ", 5, "empty").unwrap(), "x");
        assert_eq!(required_text(" ", 5, "empty").unwrap_err(), "empty");
        assert!(required_text("abcdef", 5, "empty").is_err());
        assert_eq!(optional_text("", 5).unwrap(), "");
    }

    #[test]
    fn every_field_is_checked_and_each_message_kept() {
        assert_eq!(parse("1", "2").unwrap(), (1, 2));
        let errors = parse("x", "y").unwrap_err();
        assert_eq!(errors.get("a"), Some("Enter a number."));
        assert_eq!(errors.get("b"), Some("Enter another number."));
        let errors = parse("1", "y").unwrap_err();
        assert_eq!((errors.get("a"), errors.get("b").is_some()), (None, true));
    }
}
