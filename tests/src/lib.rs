//! Cross-crate test tooling: a sync client playing a device (`client`) and the load
//! generator built on it (`src/bin/continuity-load.rs`). Whole-register scenarios live in `tests/`.

pub mod client;
