//! Static files compiled into the binary, served with an ETag and caching headers so Accord runs
//! from any folder and browsers revalidate cheaply.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::AppError;

struct Asset {
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

macro_rules! asset {
    ($path:literal, $content_type:literal) => {
        (
            $path,
            include_bytes!(concat!("../../static/", $path)).as_slice(),
            $content_type,
        )
    };
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        asset!("style.css", "text/css; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
        asset!("accord.js", "text/javascript; charset=utf-8"),
        asset!(
            "vendor/htmx-2.0.11.min.js",
            "text/javascript; charset=utf-8"
        ),
    ]
    .into_iter()
    .map(|(path, body, content_type)| Asset {
        path,
        body,
        content_type,
        etag: HeaderValue::try_from(format!("\"{}\"", &crate::secrets::digest_bytes(body)[..16]))
            .expect("a hex digest is a valid header value"),
    })
    .collect()
});

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve))
}

async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.path == path)
        .ok_or(AppError::NotFound)?;
    let cache = HeaderValue::from_static("public, max-age=3600, must-revalidate");
    if headers.get(header::IF_NONE_MATCH) == Some(&asset.etag) {
        let headers = [
            (header::ETAG, asset.etag.clone()),
            (header::CACHE_CONTROL, cache),
        ];
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (header::ETAG, asset.etag.clone()),
        (header::CACHE_CONTROL, cache),
    ];
    Ok((headers, asset.body).into_response())
}
