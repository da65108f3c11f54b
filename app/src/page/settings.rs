//! Which register this browser works on and how it reaches the relay: read from an invite
//! link (`#join?register=automerge:…&token=…&role=viewer`) when one is opened, and kept in
//! the browser's localStorage after that.

use crate::bridge::RelayAddress;
use shared::protocol::DocumentId;

/// Which register this browser works on and how it reaches the relay, as stored in the
/// browser (set by opening an invite link).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub register: DocumentId,
    /// The relay and the token, or none to work locally only.
    pub relay: Option<RelayAddress>,
    pub viewer: bool,
    /// The invite made this browser's person an owner: they manage the register's members.
    pub owner: bool,
}

/// Why an invite link was not taken, or the settings could not be kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("The invite link is malformed.")]
    Malformed,
    #[error("The invite link names no register.")]
    NoRegister,
    #[error("The invite link's register is not valid: {0}")]
    BadRegister(String),
    #[error("The invite link carries no token.")]
    NoToken,
    #[error("The invite link's token is not one this server issues.")]
    NotOurToken,
    #[error("The invite was not taken: this browser stays on the register it had.")]
    NotSwitched,
    #[error("This browser does not let the app keep settings.")]
    NoStorage,
    #[error("This browser refused to keep the invite.")]
    Refused,
    /// The id of a register of this browser's own could not be kept: after a reload the
    /// browser would open a different one.
    #[error(
        "This browser did not keep the register's id, so after a reload it would not find this register: allow this site to store data."
    )]
    NotKept,
}

const REGISTER: &str = "continuity.register";
const TOKEN: &str = "continuity.token";
const ROLE: &str = "continuity.role";
const PERSON: &str = "continuity.person";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The settings, taking in an invite link if the page was opened with one. An invite that
/// cannot be read is reported and ignored; the register stored before stays.
pub fn load() -> (Settings, Option<SettingsError>) {
    let mut problem = None;
    if let Some(invite) = invite_in_location() {
        // Out of the address bar whether or not it is taken: a token, even one from a broken
        // link, must not stay in the history or a bookmark.
        forget_the_invite_in_the_address();
        if let Err(e) = accept(&invite) {
            problem = Some(e);
        }
    }
    let store = storage();
    let get = |key: &str| store.as_ref().and_then(|s| s.get_item(key).ok().flatten());
    let register = match get(REGISTER).and_then(|r| r.parse::<DocumentId>().ok()) {
        Some(id) => id,
        None => {
            // A register of this browser's own, until an invite says otherwise.
            let id = DocumentId(*uuid::Uuid::new_v4().as_bytes());
            let kept = store.as_ref().is_some_and(|s| s.set_item(REGISTER, &id.url()).is_ok());
            if !kept {
                problem.get_or_insert(SettingsError::NotKept);
            }
            id
        }
    };
    let relay = get(TOKEN).and_then(|token| relay_url(&token));
    let viewer = get(ROLE).as_deref() == Some("viewer");
    let owner = get(ROLE).as_deref() == Some("owner");
    (Settings { register, relay, viewer, owner }, problem)
}

const SAMPLE: &str = "continuity.sample";

/// Remembers that `register` is the sample this browser chose to explore.
pub fn mark_sample(register: &DocumentId) {
    if let Some(store) = storage() {
        let _ = store.set_item(&format!("{SAMPLE}.{register}"), "yes");
    }
}

pub fn is_sample(register: &DocumentId) -> bool {
    storage().and_then(|s| s.get_item(&format!("{SAMPLE}.{register}")).ok().flatten()).is_some()
}

/// Leaves the sample for a register of this browser's own: a new register id, kept, so the
/// next opening is blank and asks for the firm's name. The sample stays in the browser, apart.
pub fn leave_the_sample() -> Result<(), SettingsError> {
    let store = storage().ok_or(SettingsError::NoStorage)?;
    if store.get_item(TOKEN).ok().flatten().is_some() {
        // A register shared through a server is never swapped from here.
        return Err(SettingsError::NotSwitched);
    }
    let id = DocumentId(*uuid::Uuid::new_v4().as_bytes());
    store.set_item(REGISTER, &id.url()).map_err(|_| SettingsError::NotKept)
}

/// Who uses this browser for `register`, as they said (a person's id in the register).
pub fn person(register: &DocumentId) -> Option<shared::Id> {
    storage()?.get_item(&format!("{PERSON}.{register}")).ok().flatten().filter(|p| !p.is_empty())
}

/// Keeps who uses this browser for `register`; false when the browser refused to keep it.
pub fn set_person(register: &DocumentId, person: Option<&str>) -> bool {
    let Some(store) = storage() else { return false };
    let key = format!("{PERSON}.{register}");
    match person {
        Some(person) => store.set_item(&key, person).is_ok(),
        None => store.remove_item(&key).is_ok(),
    }
}

fn invite_in_location() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#join?").map(str::to_string)
}

fn accept(query: &str) -> Result<(), SettingsError> {
    let params = web_sys::UrlSearchParams::new_with_str(query).map_err(|_| SettingsError::Malformed)?;
    let register = params.get("register").ok_or(SettingsError::NoRegister)?;
    let id: DocumentId = register.parse().map_err(|e| SettingsError::BadRegister(format!("{e}")))?;
    let token = params.get("token").ok_or(SettingsError::NoToken)?;
    if !token.starts_with("cr_") {
        return Err(SettingsError::NotOurToken);
    }
    let role = params.get("role").unwrap_or_else(|| "editor".into());
    let store = storage().ok_or(SettingsError::NoStorage)?;
    // Another member's (or another register's) invite while this browser works on a relay's
    // register: switching is the person's choice, not the link's.
    let held = |key: &str| store.get_item(key).ok().flatten();
    if let (Some(current), Some(old)) = (held(REGISTER), held(TOKEN))
        && (current != id.url() || old != token)
    {
        let question = format!(
            "This browser works on register {current} with another invite. Switch to the register in this link ({})? Edits already made here stay in this browser and on the server.",
            id.url()
        );
        let yes = web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false);
        if !yes {
            return Err(SettingsError::NotSwitched);
        }
    }
    for (key, value) in [(REGISTER, id.url()), (TOKEN, token), (ROLE, role)] {
        store.set_item(key, &value).map_err(|_| SettingsError::Refused)?;
    }
    Ok(())
}

/// The token should not stay in the address bar, the history or a bookmark.
fn forget_the_invite_in_the_address() {
    if let Some(window) = web_sys::window()
        && let Ok(history) = window.history()
    {
        let path = window.location().pathname().unwrap_or_else(|_| "/".into());
        if let Err(e) = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path)) {
            web_sys::console::error_2(&"could not take the invite out of the address bar".into(), &e);
        }
    }
}

/// The relay's sync address on the host that served the app, with the member's token.
fn relay_url(token: &str) -> Option<RelayAddress> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(RelayAddress { url: format!("{scheme}://{}/sync", location.host().ok()?), token: token.to_string() })
}
