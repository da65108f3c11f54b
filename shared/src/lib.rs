//! Continuity Register's shared core: the register model on Automerge, derived values,
//! findings, the review calendar and exports. Pure: no IO, no clock; builds for wasm32 and native.

pub mod authorship;
pub mod calendar;
pub mod date;
pub mod derive;
pub mod diff;
pub mod doc;
pub mod edit;
pub mod export;
pub mod findings;
pub mod import;
pub mod incident;
pub mod lenient;
pub mod model;
pub mod money;
pub mod protocol;
pub mod readiness;
pub mod recovery;
pub mod refs;
pub mod replica;
pub mod sample;
pub mod trust;

pub use date::Date;
pub use derive::Band;
pub use diff::Links;
pub use doc::{Changed, Conflict, DocError, HistoryEntry, RegisterDoc};
pub use edit::{Edit, RaisedAction, RegisterPatch};
pub use findings::{Finding, Severity, findings};
pub use model::*;
pub use money::Pence;

/// A value a person entered that the register will not store; the message says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);
