//! Cross-crate scenarios live in this crate's `tests/`; the library is empty on purpose.
