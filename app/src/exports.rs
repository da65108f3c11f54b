//! Downloads (CSV, XLSX, JSON, iCalendar), made in the register worker from the register it
//! already holds: the writers (the XLSX zip and deflate code above all) stay out of the
//! page's wasm, and nothing is saved, copied and read again to make a file.

use serde::{Deserialize, Serialize};
use shared::{Date, Register};

/// What to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// The workbook, a sheet per section.
    Workbook,
    /// The whole register as JSON.
    Json,
    /// One section's table as CSV, by its section name.
    Section(String),
    /// Every due and overdue obligation as an iCalendar file.
    Calendar,
}

/// A file ready to offer as a download.
#[derive(Debug, Serialize, Deserialize)]
pub struct File {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Makes the file `kind` asks for from `register` on `today`; `generated` (seconds since the
/// Unix epoch) is stamped into the workbook and the calendar.
pub fn make(register: &Register, kind: &Kind, today: Date, generated: i64) -> Result<File, String> {
    use shared::calendar::{ics, obligations};
    use shared::export::{csv_section, json, xlsx};
    let generated = chrono::DateTime::from_timestamp(generated, 0).unwrap_or_default();
    let (name, mime, bytes) = match kind {
        Kind::Workbook => (
            "continuity-register.xlsx".to_string(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(register, today, generated).map_err(|e| e.to_string())?,
        ),
        Kind::Json => {
            ("continuity-register.json".to_string(), "application/json", json(register).map_err(|e| e.to_string())?)
        }
        Kind::Section(section) => (
            format!("{}.csv", file_stem(section)),
            "text/csv",
            csv_section(register, today, section).map_err(|e| e.to_string())?,
        ),
        Kind::Calendar => (
            "review-calendar.ics".to_string(),
            "text/calendar",
            ics(&register.name, &obligations(register, today), today, generated).into_bytes(),
        ),
    };
    Ok(File { name, mime: mime.to_string(), bytes })
}

/// A section's name as a file name: "Supplier reviews" becomes "supplier-reviews".
pub fn file_stem(section: &str) -> String {
    section.to_lowercase().replace(' ', "-")
}
