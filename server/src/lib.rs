//! The relay's HTTP surface: the built app as static files, a health check, and the
//! automerge-repo sync protocol over WebSocket at `/sync`.

pub mod members;
pub mod relay;
pub mod storage;
mod ws;

use axum::Router;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use members::Directory;
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
    members: Arc<Directory>,
    limits: Limits,
    next_connection: Arc<AtomicU64>,
}

/// Serves `dist` and the sync endpoint. Trunk's hashed files may be cached; `index.html`
/// (and anything unknown, which falls back to it so deep links work) is always fetched afresh.
pub fn router(dist: &Path, relay: Arc<Relay>, members: Arc<Directory>, limits: Limits) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist).fallback(index);
    let state = AppState { relay, members, limits, next_connection: Arc::new(AtomicU64::new(1)) };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/sync", get(sync))
        .with_state(state)
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}

#[derive(serde::Deserialize)]
struct SyncQuery {
    token: Option<String>,
}

/// The sync endpoint. The member's token comes as `?token=` or, since browsers cannot set
/// headers on a WebSocket, as a subprotocol; without a valid one there is no upgrade.
async fn sync(
    upgrade: WebSocketUpgrade,
    Query(query): Query<SyncQuery>,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let subprotocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').map(str::trim).find(|p| p.starts_with("cr_")))
        .map(str::to_string);
    let Some(token) = query.token.or(subprotocol.clone()) else {
        return (StatusCode::UNAUTHORIZED, "a member token is required").into_response();
    };
    let members = state.members.clone();
    let member = match tokio::task::spawn_blocking(move || members.authenticate(&token)).await {
        Ok(Ok(Some(member))) => member,
        Ok(Ok(None)) => {
            return (StatusCode::UNAUTHORIZED, "this token is not valid or has been revoked").into_response();
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "member lookup failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "the relay cannot check tokens just now").into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "member lookup did not run");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let connection = state.next_connection.fetch_add(1, Ordering::Relaxed);
    let upgrade = match subprotocol {
        // The browser expects the subprotocol it offered to be selected.
        Some(protocol) => upgrade.protocols([protocol]),
        None => upgrade,
    };
    upgrade
        .max_message_size(state.limits.max_message_bytes)
        .max_frame_size(state.limits.max_message_bytes)
        .on_upgrade(move |socket| ws::serve(socket, state.relay, state.members, member, connection))
}
