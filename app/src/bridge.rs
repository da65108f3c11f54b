//! What the page and the register worker say to each other, and its encoding (postcard: a
//! compact binary form of serde types, sent as a byte array). Both sides are built from this
//! one file and it imports neither, so they cannot disagree about the format.

use serde::{Deserialize, Serialize};
use shared::import::{Mapping, Preview, Target};
use shared::replica::{Problem, Status};
use shared::{Conflict, Date, Edit, HistoryEntry, Kind, Register, RegisterPatch};

/// From the page to the worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Open this register (its id as text), with this relay, as an editor or a viewer.
    Open { register: String, relay: Option<RelayAddress>, viewer: bool },
    /// Write an edit a person made.
    Apply(Edit),
    /// The person using this browser (a person in the register), whose name this device's
    /// edits carry from its next edit on.
    Identify(Option<shared::Id>),
    /// On a blank browser: start an empty register with this name, or (`None`) the sample.
    Start(Option<String>),
    /// A question; the answer comes back with the same number.
    Ask { id: u32, question: Question },
}

/// Where the relay is and the member's token. The token goes as a WebSocket subprotocol,
/// never in the URL, where proxies and access logs would keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayAddress {
    /// `ws://host/sync` or `wss://host/sync`.
    pub url: String,
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Question {
    /// Fields of one record edited at the same time on two devices.
    Conflicts { kind: Kind, id: String },
    /// One record's changes, and its concurrent edits.
    History { kind: Kind, id: String },
    /// The register as it stood at the end of a day.
    AsOf(Date),
    /// The whole document with its history (a backup).
    Document,
    /// Merge a backup in.
    Restore(Vec<u8>),
    /// A download, made from the register on this day at this time (seconds).
    Export { kind: Download, today: Date, generated: i64 },
    /// What the relay's audit says of these changes (hashes, hex): who sent each and when.
    Uploads(Vec<String>),
    /// What a spreadsheet would import: its sheet `sheet` (the first if none) read with
    /// `mapping`, or with the mapping its headings suggest for `target`, or guessed whole.
    Import { file_name: String, bytes: Vec<u8>, sheet: Option<usize>, target: Option<Target>, mapping: Option<Mapping> },
}

/// A spreadsheet as the import shows it: its sheets, the one on show with its headings and
/// first rows, the mapping used, and the preview of what confirming would create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportView {
    pub sheets: Vec<String>,
    pub sheet: usize,
    pub headings: Vec<String>,
    /// The first few rows, as text, beside each column's heading.
    pub examples: Vec<Vec<String>>,
    pub mapping: Mapping,
    pub preview: Preview,
}

/// From the worker to the page.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToPage {
    /// The worker is listening; messages sent before this were lost.
    Ready,
    /// The register changed: only the records that did, with their concurrent values.
    Patch(RegisterPatch),
    /// Saving, syncing and the problem on show.
    Status(Status),
    /// The worker could not do what the page asked.
    Failed(WorkerError),
    /// An edit reached IndexedDB this many milliseconds after it was made.
    Measured(f64),
    Answer {
        id: u32,
        answer: Answer,
    },
}

/// Why the worker could not take a message in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum WorkerError {
    #[error("The register worker could not read a message from the page: {0}")]
    Unreadable(String),
    #[error("{0} is not a register id")]
    NotARegister(String),
    #[error("The register is not open yet.")]
    NotOpen,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    Conflicts(Result<Vec<Conflict>, String>),
    History(Result<(Vec<HistoryEntry>, Vec<Conflict>), String>),
    AsOf(Result<Box<Register>, String>),
    Document(Vec<u8>),
    Restored(Result<usize, Problem>),
    Export(Result<File, String>),
    /// Per change hash, the relay's record; or why the relay could not be asked.
    Uploads(Result<std::collections::BTreeMap<String, shared::authorship::Upload>, String>),
    Import(Result<Box<ImportView>, String>),
    /// The register is not open yet.
    NotOpen,
}

/// A download to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Download {
    /// The workbook, a sheet per section.
    Workbook,
    /// The whole register as JSON.
    Json,
    /// One section's table as CSV, by its section name.
    Section(String),
    /// Every due and overdue obligation as an iCalendar file.
    Calendar,
    /// The trust centre summary for customers: a standalone page, or JSON.
    TrustSummary { html: bool },
}

/// A file ready to offer as a download.
#[derive(Debug, Serialize, Deserialize)]
pub struct File {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A section's name as a file name: "Supplier reviews" becomes "supplier-reviews".
pub fn file_stem(section: &str) -> String {
    section.to_lowercase().replace(' ', "-")
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
