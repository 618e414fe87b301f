//! Error pages rendered through the layout, and the middleware that turns any bare error response
//! (a 404 from routing, a 413 from the body limit, a 403 from the cross-site check) into one.
//! It is also the one place internal errors are logged.

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::InternalError;
use crate::web::page::Page;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    page: Page,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A full HTML page for `status`, with a title and a sentence saying what to do.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let template = ErrorTemplate {
        page: Page::anonymous(),
        status: status.as_u16(),
        title,
        message,
    };
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}

/// The words shown for an error response that came without a page of its own.
fn default_words(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => (
            "Not found",
            "There is nothing here, or you do not have access to it.",
        ),
        StatusCode::FORBIDDEN => (
            "Not allowed",
            "This request was refused. If you submitted a form, reload the page and try again.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "Too large",
            "What you sent is too large for Accord (the limit is 1 MiB). Nothing was saved.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Not allowed",
            "This address does not accept that kind of request.",
        ),
        status if status.is_server_error() => (
            "Something went wrong",
            "Accord could not complete this request. Please try again in a moment.",
        ),
        _ => (
            "Request not understood",
            "Accord could not read this request. Go back, check the form and try again.",
        ),
    }
}

pub async fn render_error_pages(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(InternalError(error)) = response.extensions().get::<InternalError>() {
        tracing::error!(error = format!("{error:#}"), "request failed");
    }
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let (title, message) = default_words(status);
    let mut page = error_page(status, title, message);
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}

/// The 500 page for a handler that panicked (the panic itself is logged by the panic hook).
pub fn panic_page(_panic: Box<dyn std::any::Any + Send>) -> Response {
    tracing::error!("request handler panicked");
    let (title, message) = default_words(StatusCode::INTERNAL_SERVER_ERROR);
    error_page(StatusCode::INTERNAL_SERVER_ERROR, title, message)
}
