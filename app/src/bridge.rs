//! The messages between the page and the register worker, and their encoding (postcard: a
//! compact binary form of the serde types both sides share, sent as a byte array). Both
//! sides are built from this one file, so they cannot disagree about the format.

use crate::doc::Saved;
use crate::exports::{File, Kind};
use crate::sync::SyncStatus;
use serde::{Deserialize, Serialize};
use shared::{Conflict, Date, Edit, HistoryEntry, Register, RegisterPatch};

/// From the page to the worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Open this register (its id as text), with this relay, as an editor or a viewer.
    Open { register: String, relay: Option<String>, viewer: bool },
    /// Write an edit a person made.
    Apply(Edit),
    /// A question; the answer comes back with the same number.
    Ask { id: u32, question: Question },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Question {
    /// Fields of one record edited at the same time on two devices.
    Conflicts { collection: String, id: String },
    /// One record's changes, and its concurrent edits.
    History { collection: String, id: String },
    /// The register as it stood at the end of a day.
    AsOf(Date),
    /// The whole document with its history (a backup, or for the exports).
    Document,
    /// Merge a backup in.
    Restore(Vec<u8>),
    /// A download, made from the register on this day at this time (seconds).
    Export { kind: Kind, today: Date, generated: i64 },
}

/// From the worker to the page.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToPage {
    /// The worker is listening; messages sent before this were lost.
    Ready,
    Patch(RegisterPatch),
    Saved(Saved),
    Sync(SyncStatus),
    Unsent(usize),
    LastSync(Option<i64>),
    Error(Option<String>),
    /// An edit reached IndexedDB this many milliseconds after it was made.
    Measured(f64),
    Answer {
        id: u32,
        answer: Answer,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    Conflicts(Vec<Conflict>),
    History(Result<(Vec<HistoryEntry>, Vec<Conflict>), String>),
    AsOf(Result<Box<Register>, String>),
    Document(Vec<u8>),
    Restored(Result<usize, String>),
    Export(Result<File, String>),
}

/// The message as bytes for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> js_sys::Uint8Array {
    let bytes = postcard::to_allocvec(message).expect("in-memory messages always encode");
    js_sys::Uint8Array::from(bytes.as_slice())
}

/// The message in a `MessageEvent`'s data; the error says what was wrong with it.
pub fn decode<T: for<'de> Deserialize<'de>>(data: &wasm_bindgen::JsValue) -> Result<T, String> {
    use wasm_bindgen::JsCast;
    let bytes = data.dyn_ref::<js_sys::Uint8Array>().ok_or("a message that is not bytes")?.to_vec();
    postcard::from_bytes(&bytes).map_err(|e| format!("an unreadable message: {e}"))
}
