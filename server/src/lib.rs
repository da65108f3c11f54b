//! The relay's HTTP surface: the built app as static files, and a health check.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Serves `dist`: Trunk's hashed files may be cached for a year; `index.html` (and anything
/// unknown, which falls back to it so deep links work) must always be fetched afresh.
pub fn router(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist).fallback(index);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}
