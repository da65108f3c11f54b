//! The views, one file per section (as Leptos's hackernews example keeps one per route),
//! and what they share: the record table and editor frame (`records`), labelled controls
//! (`fields`) and the status line.

pub mod actions;
pub mod calendar;
pub mod exercises;
pub mod export;
pub mod fields;
pub mod finance;
pub mod findings;
pub mod history;
pub mod import;
pub mod incidents;
pub mod members;
pub mod people;
pub mod plans;
pub mod publication;
pub mod records;
pub mod recovery;
pub mod report;
pub mod risks;
pub mod status;
pub mod suppliers;
pub mod today;
pub mod training;
pub mod welcome;
