//! Downloads (CSV, XLSX, JSON, iCalendar), made in the register worker from the register it
//! already holds: the writers (the XLSX zip and deflate code above all) stay out of the
//! page's wasm, and nothing is saved, copied and read again to make a file.

use crate::bridge::{Download, File, file_stem};
use shared::{Date, Register};

/// Makes the file `kind` asks for from `register` on `today`; `generated` (seconds since the
/// Unix epoch) is stamped into the workbook and the calendar.
pub fn make(register: &Register, kind: &Download, today: Date, generated: i64) -> Result<File, String> {
    use shared::calendar::{ics, obligations};
    use shared::export::{csv_section, json, xlsx};
    let generated = chrono::DateTime::from_timestamp(generated, 0).unwrap_or_default();
    let (name, mime, bytes) = match kind {
        Download::Workbook => (
            "continuity-register.xlsx".to_string(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(register, today, generated).map_err(|e| e.to_string())?,
        ),
        Download::Json => {
            ("continuity-register.json".to_string(), "application/json", json(register).map_err(|e| e.to_string())?)
        }
        Download::Section(section) => (
            format!("{}.csv", file_stem(section)),
            "text/csv",
            csv_section(register, today, section).map_err(|e| e.to_string())?,
        ),
        Download::Calendar => (
            "review-calendar.ics".to_string(),
            "text/calendar",
            ics(&register.name, &obligations(register, today), today, generated).into_bytes(),
        ),
    };
    Ok(File { name, mime: mime.to_string(), bytes })
}
