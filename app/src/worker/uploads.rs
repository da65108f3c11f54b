//! Asks the relay's audit who sent which changes (`POST /uploads`), with the member's token
//! in the Authorization header, for History's verified authorship.

use crate::bridge::RelayAddress;
use shared::authorship::Upload;
use shared::protocol::DocumentId;
use std::collections::BTreeMap;

/// The relay's record of each change it has; changes it never accepted are not in the map.
pub async fn ask(
    relay: &RelayAddress,
    register: DocumentId,
    changes: Vec<String>,
) -> Result<BTreeMap<String, Upload>, String> {
    let unreachable = |why: String| format!("The server could not be asked who sent these changes: {why}");
    let body = serde_json::json!({ "register": register.to_string(), "changes": changes });
    let (status, text) = crate::http::post(relay, "/uploads", &body).await.map_err(unreachable)?;
    if !(200..300).contains(&status) {
        return Err(format!("The server did not say who sent these changes ({status}): {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("The server's record of who sent these changes is unreadable: {e}"))
}
