//! Questions to the relay over HTTP (`POST` of JSON with the member's token in the
//! Authorization header), from the register worker (History's `/uploads`) or the page (an
//! owner's `/members/...`). Both sides use it; it imports neither.

use crate::bridge::RelayAddress;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A relay that does not answer within this is taken as unreachable.
const TIMEOUT_MS: u32 = 10_000;

/// The HTTP address of `path` on the relay, beside its sync address (`ws://host/sync`).
pub fn address(relay: &RelayAddress, path: &str) -> String {
    let http = relay.url.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
    let base = http.strip_suffix("/sync").unwrap_or(http.trim_end_matches('/'));
    format!("{base}{path}")
}

fn words(e: JsValue) -> String {
    e.as_string()
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `fetch` in a worker or in the page, whichever this runs in.
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

/// Posts `body` to `path` on the relay as the member; the answer's status and text, or why
/// the relay could not be reached.
pub async fn post(relay: &RelayAddress, path: &str, body: &serde_json::Value) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body.to_string()));
    let headers = web_sys::Headers::new().map_err(words)?;
    headers.set("Content-Type", "application/json").map_err(words)?;
    headers.set("Authorization", &format!("Bearer {}", relay.token)).map_err(words)?;
    init.set_headers(&headers);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let request = web_sys::Request::new_with_str_and_init(&address(relay, path), &init).map_err(words)?;
    let response: web_sys::Response = JsFuture::from(fetch(&request)?).await.map_err(words)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(words)?).await.map_err(words)?.as_string().unwrap_or_default();
    Ok((response.status(), text))
}
