//! Which register this browser works on and how it reaches the relay: read from an invite
//! link (`#join?register=automerge:…&token=…&role=viewer`) when one is opened, and kept in
//! the browser's localStorage after that.

use shared::protocol::DocumentId;

/// Which register this browser works on and how it reaches the relay, as stored in the
/// browser (set by opening an invite link).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub register: DocumentId,
    /// `ws://host/sync?token=…`, or none to work locally only.
    pub relay: Option<String>,
    pub viewer: bool,
}

const REGISTER: &str = "continuity.register";
const TOKEN: &str = "continuity.token";
const ROLE: &str = "continuity.role";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The settings, taking in an invite link if the page was opened with one. An invite that
/// cannot be read is reported and ignored; the register stored before stays.
pub fn load() -> (Settings, Option<String>) {
    let mut problem = None;
    if let Some(invite) = invite_in_location() {
        match accept(&invite) {
            Ok(()) => forget_the_invite_in_the_address(),
            Err(e) => problem = Some(e),
        }
    }
    let store = storage();
    let get = |key: &str| store.as_ref().and_then(|s| s.get_item(key).ok().flatten());
    let register = match get(REGISTER).and_then(|r| r.parse::<DocumentId>().ok()) {
        Some(id) => id,
        None => {
            // A register of this browser's own, until an invite says otherwise.
            let id = DocumentId(*uuid::Uuid::new_v4().as_bytes());
            if let Some(s) = &store {
                let _ = s.set_item(REGISTER, &id.url());
            }
            id
        }
    };
    let relay = get(TOKEN).and_then(|token| relay_url(&token));
    let viewer = get(ROLE).as_deref() == Some("viewer");
    (Settings { register, relay, viewer }, problem)
}

fn invite_in_location() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#join?").map(str::to_string)
}

fn accept(query: &str) -> Result<(), String> {
    let params = web_sys::UrlSearchParams::new_with_str(query).map_err(|_| "The invite link is malformed.")?;
    let register = params.get("register").ok_or("The invite link names no register.")?;
    let id: DocumentId = register.parse().map_err(|e| format!("The invite link's register is not valid: {e}"))?;
    let token = params.get("token").ok_or("The invite link carries no token.")?;
    if !token.starts_with("cr_") {
        return Err("The invite link's token is not one this relay issues.".into());
    }
    let role = params.get("role").unwrap_or_else(|| "editor".into());
    let store = storage().ok_or("This browser does not let the app keep settings.")?;
    for (key, value) in [(REGISTER, id.url()), (TOKEN, token), (ROLE, role)] {
        store.set_item(key, &value).map_err(|_| "This browser refused to keep the invite.")?;
    }
    Ok(())
}

/// The token should not stay in the address bar, the history or a bookmark.
fn forget_the_invite_in_the_address() {
    if let Some(window) = web_sys::window()
        && let Ok(history) = window.history()
    {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
}

/// The relay's sync address on the host that served the app.
fn relay_url(token: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    let token = js_sys::encode_uri_component(token);
    Some(format!("{scheme}://{}/sync?token={token}", location.host().ok()?))
}
