//! The relay's HTTP surface: the built app as static files, a health check, and the
//! automerge-repo sync protocol over WebSocket at `/sync`.

pub mod relay;
pub mod storage;
mod ws;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use relay::Relay;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Limits on what one connection may send.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest WebSocket message accepted, in bytes.
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_message_bytes: 16 * 1024 * 1024 }
    }
}

#[derive(Clone)]
struct AppState {
    relay: Arc<Relay>,
    limits: Limits,
    next_connection: Arc<AtomicU64>,
}

/// Serves `dist` and the sync endpoint. Trunk's hashed files may be cached; `index.html`
/// (and anything unknown, which falls back to it so deep links work) is always fetched afresh.
pub fn router(dist: &Path, relay: Arc<Relay>, limits: Limits) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist).fallback(index);
    let state = AppState { relay, limits, next_connection: Arc::new(AtomicU64::new(1)) };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/sync", get(sync))
        .with_state(state)
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}

async fn sync(upgrade: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let connection = state.next_connection.fetch_add(1, Ordering::Relaxed);
    upgrade
        .max_message_size(state.limits.max_message_bytes)
        .max_frame_size(state.limits.max_message_bytes)
        .on_upgrade(move |socket| ws::serve(socket, state.relay, connection))
}
