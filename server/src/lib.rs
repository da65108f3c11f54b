//! The relay's HTTP surface: the built app as static files, a health check, the
//! automerge-repo sync protocol over WebSocket at `/sync`, the audit's record of changes
//! (`/uploads`) and, for a register's owners, its members (`/members/...`).

pub mod db;
pub mod follow;
pub mod members;
pub mod metrics;
pub mod migrate;
pub mod outbox;
pub mod published;
pub mod relay;
pub mod storage;
mod ws;

use axum::Router;
use axum::extract::{Query, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use members::Directory;
use metrics::Metrics;
use relay::Relay;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::services::{ServeDir, ServeFile};

/// Limits on what one connection may send. Going over any of them gets an `error` and
/// closes that connection only.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest WebSocket message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Registers one connection may sync.
    pub max_documents_per_connection: usize,
    /// Messages one connection may send in any one second.
    pub max_messages_per_second: u32,
    /// How often an open connection is pinged; one that sends nothing back (not even a pong)
    /// for two of these is dead and closed.
    pub ping_interval: std::time::Duration,
    /// How often the relay checks for members revoked by `member revoke`, so their open
    /// connections close within this.
    pub revocation_check: std::time::Duration,
    /// What may wait to be sent to one connection before it is closed for not reading.
    pub outbox: outbox::Bound,
    /// Open sync connections the relay takes; one more is refused, to try again later.
    pub max_connections: usize,
    /// Largest ephemeral message (presence) passed on; a larger one closes the connection.
    pub max_ephemeral_bytes: usize,
    /// Ephemeral messages one connection may send in any one second; more are dropped.
    pub max_ephemeral_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024 * 1024,
            max_documents_per_connection: 64,
            max_messages_per_second: 500,
            ping_interval: std::time::Duration::from_secs(20),
            revocation_check: std::time::Duration::from_millis(250),
            outbox: outbox::Bound::default(),
            max_connections: 20_000,
            max_ephemeral_bytes: 64 * 1024,
            max_ephemeral_per_second: 20,
        }
    }
}

#[derive(Clone)]
struct AppState {
    relay: Arc<Relay>,
    metrics: Arc<Metrics>,
    members: Arc<Directory>,
    files: Arc<published::Files>,
    limits: Limits,
    next_connection: Arc<AtomicU64>,
    access: tokio::sync::watch::Receiver<Option<members::AccessMap>>,
}

/// Serves `dist` and the sync endpoint (call within a tokio runtime: it starts the
/// revocation watcher). Trunk's hashed files may be cached; `index.html`
/// (and anything unknown, which falls back to it so deep links work) is always fetched afresh.
pub fn router(dist: &Path, relay: Arc<Relay>, members: Arc<Directory>, limits: Limits, with_metrics: bool) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist).fallback(index);
    let metrics = relay.metrics.clone();
    let policy = HeaderValue::from_str(&content_security_policy(&dist.join("index.html")))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    let access = members::watch_access(members.clone(), limits.revocation_check);
    let published = Arc::new(published::Files::new(members.db().clone()));
    let state = AppState {
        relay,
        metrics,
        members,
        files: published,
        limits,
        next_connection: Arc::new(AtomicU64::new(1)),
        access,
    };
    let routes = Router::new()
        .route("/healthz", get(health))
        .route("/sync", get(sync))
        .route("/uploads", post(uploads))
        .route("/members/{action}", post(manage_members))
        .route("/calendar/publish", post(publish_calendar))
        .route("/calendar/address", post(calendar_address))
        .route("/calendar/{file}", get(calendar_feed))
        .route("/trust/publish", post(publish_summary))
        .route("/trust/{register}", get(trust_page))
        .route("/trust/{register}/summary.json", get(trust_json));
    // Metrics may be served on an address of their own (`metrics_router`), not beside the app.
    let routes = if with_metrics { routes.route("/metrics", get(render_metrics)) } else { routes };
    routes
        .with_state(state)
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
        .layer(middleware::from_fn(move |request, next| security_headers(policy.clone(), request, next)))
}

/// The policy the app runs under: everything from this origin only, no inline script except
/// the loader Trunk writes into `index.html` (allowed by its hash, read from the built page
/// when the relay starts), WebAssembly compiled, never framed.
fn content_security_policy(index: &Path) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let page = std::fs::read_to_string(index).unwrap_or_default();
    let mut hashes = String::new();
    let mut rest = page.as_str();
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>') else { break };
        let tag = &rest[start..start + open_end];
        let body_start = start + open_end + 1;
        let Some(body_len) = rest[body_start..].find("</script>") else { break };
        if !tag.contains("src=") {
            let digest = Sha256::digest(&rest.as_bytes()[body_start..body_start + body_len]);
            hashes.push_str(&format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        rest = &rest[body_start + body_len..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// On every response: the content security policy, no MIME sniffing, no referrer, no framing.
async fn security_headers(policy: HeaderValue, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A page with a policy of its own (the published trust centre summary) keeps it.
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(policy);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Trunk names built files with a content hash (`app-15cdc80121826cc0.css`): such a name
/// never changes meaning, so browsers may keep it for a year. Everything else, `index.html`
/// and the service worker above all, must be checked every time or a new version is missed.
async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let value =
        if hashed && response.status().is_success() { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    // The wasm file carries a `_bg` suffix after the hash; the hash is a 64-bit number in hex.
    let hash = stem.rsplit('-').next().unwrap_or_default().trim_end_matches("_bg");
    stem.contains('-') && hash.len() >= 12 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

/// `ok`, or `degraded:` and why (stored parts that could not be read). Still 200: the relay
/// serves and syncs everything readable, and a load balancer must not take it out.
async fn health(State(state): State<AppState>) -> String {
    match state.relay.health().await {
        Ok(()) => "ok".into(),
        Err(why) => format!("degraded: {why}"),
    }
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics_text(&state.relay)
}

fn metrics_text(relay: &Relay) -> impl IntoResponse + use<> {
    relay.metrics.documents.set(relay.documents_in_memory() as i64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], relay.metrics.render())
}

/// `/metrics` alone, for a listen address of its own (loopback, say), so the figures are
/// not public beside the app.
pub fn metrics_router(relay: Arc<Relay>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let relay = relay.clone();
            async move { metrics_text(&relay) }
        }),
    )
}

/// A page from another site may not use this relay with a visitor's browser: refused when
/// the Origin names another host than the one asked. Peers that are not browsers send no Origin.
fn foreign_origin(headers: &HeaderMap) -> Option<Response> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    if origin_host == host {
        return None;
    }
    tracing::warn!(origin, host, "refused a request from another site");
    Some((StatusCode::FORBIDDEN, "only this relay's own pages may use it").into_response())
}

/// Why a token is refused, on `/sync` and `/uploads` alike.
const NOT_VALID: &str = "this invite is not valid or has been revoked: ask for a new one";

/// The member a token belongs to, or `None` (counted as a refused connection); `Err` is the
/// answer to give when the members table cannot be read.
async fn member_of(state: &AppState, token: String) -> Result<Option<members::Member>, Response> {
    let members = state.members.clone();
    match tokio::task::spawn_blocking(move || members.authenticate(&token)).await {
        Ok(Ok(Some(member))) => Ok(Some(member)),
        Ok(Ok(None)) => {
            state.metrics.refused_connections.inc();
            Ok(None)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "member lookup failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, "the relay cannot check tokens just now").into_response())
        }
        Err(e) => {
            tracing::error!(error = %e, "member lookup did not run");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// Who stored the sample register, in the audit: the relay itself, not a member.
pub const SAMPLE_UPLOADER: &str = "relay (sample register)";

/// The most changes one `/uploads` request may ask about (a record's history is far shorter).
const MAX_UPLOADS_ASKED: usize = 5_000;

#[derive(serde::Deserialize)]
struct UploadsAsked {
    register: String,
    changes: Vec<String>,
}

/// What the relay's audit says of changes to one register: per change hash, the member who
/// first sent it and the relay's time, so History can show who really made a change. The
/// member's token comes as `Authorization: Bearer`; any member of the register may ask,
/// viewers too. A register the member may not open answers as a missing one.
async fn uploads(
    headers: HeaderMap,
    State(state): State<AppState>,
    asked: Result<axum::Json<UploadsAsked>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match bearer(&headers, &state) {
        Ok(token) => token,
        Err(refused) => return *refused,
    };
    let asked = match body(asked, "{\"register\": id, \"changes\": [hashes]}") {
        Ok(asked) => asked,
        Err(refused) => return *refused,
    };
    let register: shared::protocol::DocumentId = match asked.register.parse() {
        Ok(id) => id,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    if asked.changes.len() > MAX_UPLOADS_ASKED {
        let why = format!("at most {MAX_UPLOADS_ASKED} changes at once, not {}", asked.changes.len());
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    if let Some(bad) = asked.changes.iter().find(|c| c.len() != 64 || !c.chars().all(|ch| ch.is_ascii_hexdigit())) {
        return (StatusCode::BAD_REQUEST, format!("{bad:?} is not a change hash (64 hex digits)")).into_response();
    }
    let member = match member_of(&state, token).await {
        Ok(Some(member)) => member,
        Ok(None) => return (StatusCode::FORBIDDEN, NOT_VALID).into_response(),
        Err(unavailable) => return unavailable,
    };
    if !member.may_open(&register) {
        return (StatusCode::NOT_FOUND, "no such register").into_response();
    }
    match state.relay.uploads(register, asked.changes).await {
        Ok(rows) => {
            let found: std::collections::BTreeMap<String, shared::authorship::Upload> = rows
                .into_iter()
                .map(|row| {
                    let by_relay = row.member == SAMPLE_UPLOADER;
                    (row.change, shared::authorship::Upload { member: row.member, at: row.at, by_relay })
                })
                .collect();
            axum::Json(found).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the audit failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the relay cannot read its audit just now").into_response()
        }
    }
}

/// A request about one register.
trait AboutRegister {
    fn register(&self) -> &str;
}

/// A request's body, the member its token names and the register it asks about, or the
/// answer to give: the body's shape and the token are checked, and a register the member
/// may not open answers as missing.
async fn member_asking<T: AboutRegister>(
    headers: &HeaderMap,
    state: &AppState,
    asked: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
    expected: &str,
) -> Result<(T, members::Member, shared::protocol::DocumentId), Box<Response>> {
    let asked = body(asked, expected)?;
    let token = bearer(headers, state)?;
    let register: shared::protocol::DocumentId =
        asked.register().parse().map_err(|e: shared::protocol::ProtocolError| {
            Box::new((StatusCode::BAD_REQUEST, e.to_string()).into_response())
        })?;
    let member = match member_of(state, token).await {
        Ok(Some(member)) => member,
        Ok(None) => return Err(Box::new((StatusCode::FORBIDDEN, NOT_VALID).into_response())),
        Err(unavailable) => return Err(Box::new(unavailable)),
    };
    if !member.may_open(&register) {
        return Err(Box::new((StatusCode::NOT_FOUND, "no such register").into_response()));
    }
    Ok((asked, member, register))
}

#[derive(serde::Deserialize)]
struct CalendarPublished {
    register: String,
    ics: String,
}

impl AboutRegister for CalendarPublished {
    fn register(&self) -> &str {
        &self.register
    }
}

/// An editor's or owner's browser publishes the register's review calendar (made from the
/// register it holds) for the members' calendar addresses to serve.
async fn publish_calendar(
    headers: HeaderMap,
    State(state): State<AppState>,
    asked: Result<axum::Json<CalendarPublished>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let (asked, member, register) =
        match member_asking(&headers, &state, asked, "{\"register\": id, \"ics\": text}").await {
            Ok(found) => found,
            Err(refused) => return *refused,
        };
    let files = state.files.clone();
    let done = tokio::task::spawn_blocking(move || files.publish_calendar(&member, &register, &asked.ics)).await;
    stored_or_refused(done, "calendar", || StatusCode::NO_CONTENT.into_response())
}

/// The answer to a publication: `ok` once stored; a member not allowed to publish is
/// forbidden, a file of the wrong shape a bad request, storage failing unavailable.
fn stored_or_refused(
    done: Result<Result<(), published::Refused>, tokio::task::JoinError>,
    what: &str,
    ok: impl FnOnce() -> Response,
) -> Response {
    match done {
        Ok(Ok(())) => ok(),
        Ok(Err(published::Refused::Storage(e))) => {
            tracing::error!(error = %e, what, "storing a published file failed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("the relay cannot store the {what} just now")).into_response()
        }
        Ok(Err(refused @ (published::Refused::Viewer | published::Refused::NotOwner))) => {
            (StatusCode::FORBIDDEN, refused.to_string()).into_response()
        }
        Ok(Err(refused)) => (StatusCode::BAD_REQUEST, refused.to_string()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, what, "storing a published file did not run");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(serde::Deserialize)]
struct CalendarAsked {
    register: String,
    /// `on` (a new address, ending any old one), `off`, or `status`.
    action: String,
}

impl AboutRegister for CalendarAsked {
    fn register(&self) -> &str {
        &self.register
    }
}

/// A member turns their private calendar address for a register on (answered with its path,
/// once: only a hash is kept), off, or asks whether it is on.
async fn calendar_address(
    headers: HeaderMap,
    State(state): State<AppState>,
    asked: Result<axum::Json<CalendarAsked>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let expected = "{\"register\": id, \"action\": \"on\" | \"off\" | \"status\"}";
    let (asked, member, register) = match member_asking(&headers, &state, asked, expected).await {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let files = state.files.clone();
    let action = asked.action.clone();
    let done = tokio::task::spawn_blocking(move || -> Result<Option<serde_json::Value>, storage::StorageError> {
        Ok(match action.as_str() {
            "on" => {
                let secret = files.open_feed(&member, &register)?;
                Some(serde_json::json!({"on": true, "path": format!("/calendar/{secret}.ics")}))
            }
            "off" => {
                files.close_feed(&member, &register)?;
                Some(serde_json::json!({"on": false}))
            }
            "status" => Some(serde_json::json!({"on": files.has_feed(&member, &register)?})),
            _ => None,
        })
    })
    .await;
    match done {
        Ok(Ok(Some(answer))) => axum::Json(answer).into_response(),
        Ok(Ok(None)) => {
            let why = format!("{:?} is not something a calendar address does: on, off or status", asked.action);
            (StatusCode::BAD_REQUEST, why).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "calendar address storage failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the relay cannot change calendar addresses just now").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "calendar address change did not run");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// A private calendar address, as a calendar application fetches it: the register's latest
/// published calendar, or 404 for an address turned off, a member revoked, or nothing
/// published yet. The secret is the whole credential, so it never appears in a log.
async fn calendar_feed(
    axum::extract::Path(file): axum::extract::Path<String>,
    State(state): State<AppState>,
) -> Response {
    let not_found =
        || (StatusCode::NOT_FOUND, "no such calendar: the address was turned off, or is not one").into_response();
    let Some(secret) = file.strip_suffix(".ics").filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
    else {
        return not_found();
    };
    let (files, secret) = (state.files.clone(), secret.to_string());
    serve_published(tokio::task::spawn_blocking(move || files.feed(&secret)).await, None, "calendar")
}

#[derive(serde::Deserialize)]
struct SummaryPublished {
    register: String,
    html: String,
    json: String,
}

impl AboutRegister for SummaryPublished {
    fn register(&self) -> &str {
        &self.register
    }
}

/// An owner's browser publishes the register's trust centre summary (made from the register
/// it holds) at the register's public address, `/trust/<register id>`.
async fn publish_summary(
    headers: HeaderMap,
    State(state): State<AppState>,
    asked: Result<axum::Json<SummaryPublished>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let expected = "{\"register\": id, \"html\": page, \"json\": text}";
    let (asked, member, register) = match member_asking(&headers, &state, asked, expected).await {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let files = state.files.clone();
    let done =
        tokio::task::spawn_blocking(move || files.publish_summary(&member, &register, &asked.html, &asked.json)).await;
    stored_or_refused(done, "summary", || {
        axum::Json(serde_json::json!({"path": format!("/trust/{register}")})).into_response()
    })
}

/// The policy of the published summary page: its own inline style and nothing else.
const SUMMARY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn trust_page(
    axum::extract::Path(register): axum::extract::Path<String>,
    State(state): State<AppState>,
) -> Response {
    published_summary(&state, &register, "summary.html").await
}

async fn trust_json(
    axum::extract::Path(register): axum::extract::Path<String>,
    State(state): State<AppState>,
) -> Response {
    published_summary(&state, &register, "summary.json").await
}

/// A register's published summary, for anyone: 404 until an owner publishes one.
async fn published_summary(state: &AppState, register: &str, name: &'static str) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no summary is published at this address").into_response();
    let Ok(register) = register.parse::<shared::protocol::DocumentId>() else { return not_found() };
    let files = state.files.clone();
    serve_published(
        tokio::task::spawn_blocking(move || files.summary(&register, name)).await,
        Some(SUMMARY_POLICY),
        "summary",
    )
}

/// A published file as its reader gets it (with its own content security policy, if given),
/// or 404 when there is none.
fn serve_published(
    found: Result<Result<Option<published::Published>, storage::StorageError>, tokio::task::JoinError>,
    policy: Option<&'static str>,
    what: &str,
) -> Response {
    match found {
        Ok(Ok(Some(published))) => {
            let at = chrono::DateTime::from_timestamp(published.at, 0).unwrap_or_default();
            let mut response = (
                [
                    (header::CONTENT_TYPE, published.content_type),
                    (header::LAST_MODIFIED, at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
                ],
                published.body,
            )
                .into_response();
            if let Some(policy) = policy {
                response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
            }
            response
        }
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, format!("no such {what} at this address")).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, what, "reading a published file failed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("the relay cannot read the {what} just now")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, what, "reading a published file did not run");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// What an owner asks of `/members/<action>`: `list` (the register alone), `invite` (a name
/// and role), `role` (a name and role) or `revoke` (a name).
#[derive(serde::Deserialize)]
struct MembersAsked {
    register: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: Option<String>,
}

/// The member's token from `Authorization: Bearer`, or the answer to give without one.
fn bearer(headers: &HeaderMap, state: &AppState) -> Result<String, Box<Response>> {
    if let Some(refused) = foreign_origin(headers) {
        state.metrics.refused_connections.inc();
        return Err(Box::new(refused));
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .ok_or_else(|| {
            state.metrics.refused_connections.inc();
            Box::new((StatusCode::UNAUTHORIZED, "a member token is required (Authorization: Bearer)").into_response())
        })
}

/// A request's JSON body, or the answer saying what shape was expected and what was wrong.
fn body<T>(
    asked: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
    expected: &str,
) -> Result<T, Box<Response>> {
    asked
        .map(|axum::Json(asked)| asked)
        .map_err(|e| Box::new((StatusCode::BAD_REQUEST, format!("expected {expected}: {e}")).into_response()))
}

/// A register's owners manage its members: list them, invite someone (the answer carries
/// their token, once), change a role, revoke. Everyone else is refused, and nothing changes.
async fn manage_members(
    axum::extract::Path(action): axum::extract::Path<String>,
    headers: HeaderMap,
    State(state): State<AppState>,
    asked: Result<axum::Json<MembersAsked>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match bearer(&headers, &state) {
        Ok(token) => token,
        Err(refused) => return *refused,
    };
    let asked = match body(asked, "{\"register\": id, \"name\": ..., \"role\": ...}") {
        Ok(asked) => asked,
        Err(refused) => return *refused,
    };
    let register: shared::protocol::DocumentId = match asked.register.parse() {
        Ok(id) => id,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let role = match asked.role.as_deref().map(str::parse::<members::Role>).transpose() {
        Ok(role) => role,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let owner = match member_of(&state, token).await {
        Ok(Some(member)) => member,
        Ok(None) => return (StatusCode::FORBIDDEN, NOT_VALID).into_response(),
        Err(unavailable) => return unavailable,
    };
    let directory = state.members.clone();
    let done = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, members::Refused> {
        let need_role =
            || role.ok_or_else(|| members::Refused::Invalid("say which role: owner, editor or viewer".into()));
        match action.as_str() {
            "list" => {
                if owner.role != members::Role::Owner || !owner.may_open(&register) {
                    return Err(members::Refused::NotOwner);
                }
                Ok(serde_json::json!(directory.members_of(&register)?))
            }
            "invite" => {
                let role = need_role()?;
                let token = directory.invite(&owner, &register, &asked.name, role)?;
                Ok(serde_json::json!({ "name": asked.name.trim(), "role": role.as_str(), "token": token }))
            }
            "role" => {
                directory.change_role(&owner, &register, &asked.name, need_role()?)?;
                Ok(serde_json::json!({}))
            }
            "revoke" => {
                directory.revoke_from(&owner, &register, &asked.name)?;
                Ok(serde_json::json!({}))
            }
            other => Err(members::Refused::Invalid(format!("{other:?} is not something to do with members"))),
        }
    })
    .await;
    match done {
        Ok(Ok(answer)) => axum::Json(answer).into_response(),
        Ok(Err(refused)) => {
            let status = match &refused {
                members::Refused::NotOwner => StatusCode::FORBIDDEN,
                members::Refused::NoSuchMember(_) => StatusCode::NOT_FOUND,
                members::Refused::Yourself(_) | members::Refused::Invalid(_) => StatusCode::BAD_REQUEST,
                members::Refused::Storage(e) => {
                    tracing::error!(error = %e, "the members table could not be changed");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            (status, refused.to_string()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a members request did not run");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(serde::Deserialize)]
struct SyncQuery {
    token: Option<String>,
}

/// The sync endpoint. The member's token comes as `?token=` or, since browsers cannot set
/// headers on a WebSocket, as a subprotocol. Without one there is no upgrade; with one that
/// is not valid, the socket opens only to say so and close, finally.
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
    if let Some(refused) = foreign_origin(&headers) {
        state.metrics.refused_connections.inc();
        return refused;
    }
    let Some(token) = query.token.or(subprotocol.clone()) else {
        state.metrics.refused_connections.inc();
        return (StatusCode::UNAUTHORIZED, "a member token is required").into_response();
    };
    let upgrade = match &subprotocol {
        // The browser expects the subprotocol it offered to be selected.
        Some(protocol) => upgrade.protocols([protocol.clone()]),
        None => upgrade,
    };
    let member = match member_of(&state, token).await {
        Ok(Some(member)) => member,
        // A browser cannot read the status of a refused upgrade (it only sees the socket
        // fail, as if offline, and would retry for ever): it is told on the socket
        // instead, with the close code that says reconnecting will not help.
        Ok(None) => return upgrade.on_upgrade(|socket| ws::refuse(socket, NOT_VALID)),
        Err(unavailable) => return unavailable,
    };
    if state.metrics.connections.get() >= state.limits.max_connections as i64 {
        state.metrics.over_capacity.inc();
        let reason = format!(
            "the relay is at its limit of {} open connections; try again in a moment",
            state.limits.max_connections
        );
        return upgrade.on_upgrade(move |socket| ws::refuse_with(socket, reason, shared::protocol::CLOSE_RETRY));
    }
    let connection = state.next_connection.fetch_add(1, Ordering::Relaxed);
    // tungstenite's default buffers are 128 KiB each way per connection, most of an idle
    // connection's memory; a read buffer grows for a large message as it needs to, and the
    // writer flushes every message it sends, so small ones cost nothing in speed.
    upgrade
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0)
        .max_message_size(state.limits.max_message_bytes)
        .max_frame_size(state.limits.max_message_bytes)
        .on_upgrade(move |socket| {
            let watch = ws::Watch { access: state.access, limits: state.limits };
            ws::serve(socket, state.relay, state.members, watch, member, connection)
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_allows_the_inline_loader_by_its_hash_and_nothing_else_inline() {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let dir = tempfile::tempdir().unwrap();
        let page = "<head><script type=\"module\">\nimport init from '/app.js';\n</script><script src=\"/x.js\"></script></head>";
        std::fs::write(dir.path().join("index.html"), page).unwrap();
        let policy = super::content_security_policy(&dir.path().join("index.html"));
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest("\nimport init from '/app.js';\n"));
        assert!(policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}';")), "{policy}");
        assert_eq!(policy.matches("sha256-").count(), 1, "a script with src needs no hash");
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn only_trunk_hashed_names_are_cached() {
        assert!(super::is_hashed_asset("/continuity-app-a2190b83ce2dfb2_bg.wasm"));
        assert!(super::is_hashed_asset("/app-15cdc80121826cc0.css"));
        assert!(super::is_hashed_asset("/continuity-app-a2190b83ce2dfb2.js"));
        assert!(!super::is_hashed_asset("/continuity-app.js"));
        assert!(!super::is_hashed_asset("/export-worker_bg.wasm"));
        assert!(!super::is_hashed_asset("/export-worker_loader.js"));
        assert!(!super::is_hashed_asset("/register-worker_bg.wasm"));
        assert!(!super::is_hashed_asset("/index.html"));
        assert!(!super::is_hashed_asset("/sw.js"));
        assert!(!super::is_hashed_asset("/"));
        assert!(!super::is_hashed_asset("/risks/R-001"));
    }
}
