//! Asks the relay's audit who sent which changes (`POST /uploads`), with the member's token
//! in the Authorization header, for History's verified authorship.

use crate::bridge::RelayAddress;
use shared::authorship::Upload;
use shared::protocol::DocumentId;
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A relay that does not answer within this is taken as unreachable.
const TIMEOUT_MS: u32 = 10_000;

/// The HTTP address of the relay's audit, beside its sync address (`ws://host/sync`).
fn address(relay: &RelayAddress) -> String {
    let http = relay.url.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
    match http.strip_suffix("/sync") {
        Some(base) => format!("{base}/uploads"),
        None => format!("{}/uploads", http.trim_end_matches('/')),
    }
}

fn words(e: JsValue) -> String {
    e.as_string()
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `fetch` in the worker, or in the page when the shell runs there (the browser tests).
fn fetch(request: &web_sys::Request) -> Result<js_sys::Promise, String> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return Ok(window.fetch_with_request(request));
    }
    global
        .dyn_ref::<web_sys::WorkerGlobalScope>()
        .map(|scope| scope.fetch_with_request(request))
        .ok_or_else(|| "this browser cannot make requests here".to_string())
}

/// The relay's record of each change it has; changes it never accepted are not in the map.
pub async fn ask(
    relay: &RelayAddress,
    register: DocumentId,
    changes: Vec<String>,
) -> Result<BTreeMap<String, Upload>, String> {
    let unreachable = |why: String| format!("The server could not be asked who sent these changes: {why}");
    let body = serde_json::json!({ "register": register.to_string(), "changes": changes }).to_string();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let headers = web_sys::Headers::new().map_err(|e| unreachable(words(e)))?;
    headers.set("Content-Type", "application/json").map_err(|e| unreachable(words(e)))?;
    headers.set("Authorization", &format!("Bearer {}", relay.token)).map_err(|e| unreachable(words(e)))?;
    init.set_headers(&headers);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let request = web_sys::Request::new_with_str_and_init(&address(relay), &init).map_err(|e| unreachable(words(e)))?;
    let response: web_sys::Response = JsFuture::from(fetch(&request).map_err(unreachable)?)
        .await
        .map_err(|e| unreachable(words(e)))?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(|e| unreachable(words(e)))?)
        .await
        .map_err(|e| unreachable(words(e)))?
        .as_string()
        .unwrap_or_default();
    if !response.ok() {
        return Err(format!("The server did not say who sent these changes ({}): {text}", response.status()));
    }
    serde_json::from_str(&text).map_err(|e| format!("The server's record of who sent these changes is unreadable: {e}"))
}
