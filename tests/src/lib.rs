//! Cross-crate test tooling: a sync client playing a device (`client`), a lean one for the
//! load generator (`lean`), and the generator itself (`src/bin/continuity-load.rs`).
//! Whole-register scenarios live in `tests/`.

pub mod client;
pub mod lean;
pub mod postgres;
