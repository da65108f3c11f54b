//! Downloads (CSV, XLSX, JSON, iCalendar), made in the register worker from the register it
//! already holds: the writers (the XLSX zip and deflate code above all) stay out of the
//! page's wasm, and nothing is saved, copied and read again to make a file.

use crate::bridge::{Download, File, file_stem};
use shared::{Date, Register};

/// The firm's name as the start of a file name: "Brightwater Software Ltd" becomes
/// "brightwater-software-ltd", so a download says whose register it is.
fn firm(register: &Register) -> String {
    let stem = register
        .name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() { "continuity".into() } else { stem }
}

/// Where the app is served from (`https://continuity.example`), read from the worker's own
/// address; empty if it cannot be read, and the calendar then carries no links.
fn origin() -> String {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &"origin".into()))
        .ok()
        .and_then(|origin| origin.as_string())
        .filter(|origin| origin.starts_with("http"))
        .unwrap_or_default()
}

/// The app's address of the record an obligation is about (`/risks/R-007`).
fn record_address(origin: &str, o: &shared::calendar::Obligation) -> Option<String> {
    let reference = o.reference.as_ref()?;
    (!origin.is_empty()).then(|| format!("{origin}/{}/{reference}", crate::Section::of_kind(o.kind).slug()))
}

/// Makes the file `kind` asks for from `register` on `today`; `generated` (seconds since the
/// Unix epoch) is stamped into the workbook and the calendar.
pub fn make(register: &Register, kind: &Download, today: Date, generated: i64) -> Result<File, String> {
    use shared::calendar::{ics, obligations};
    use shared::export::{csv_section, json, xlsx};
    let generated = chrono::DateTime::from_timestamp(generated, 0).unwrap_or_default();
    // Whose register and which day, so downloads from different days never overwrite each other.
    let (firm, day) = (firm(register), today.iso());
    let (name, mime, bytes) = match kind {
        Download::Workbook => (
            format!("{firm}-register-{day}.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(register, today, generated).map_err(|e| e.to_string())?,
        ),
        Download::Json => {
            (format!("{firm}-register-{day}.json"), "application/json", json(register).map_err(|e| e.to_string())?)
        }
        Download::Section(section) => (
            format!("{firm}-{}-{day}.csv", file_stem(section)),
            "text/csv",
            csv_section(register, today, section).map_err(|e| e.to_string())?,
        ),
        Download::TrustSummary { html } => {
            let summary = shared::trust::summary(register, today);
            if *html {
                (format!("{firm}-trust-summary-{day}.html"), "text/html", shared::trust::html(&summary).into_bytes())
            } else {
                let text = shared::trust::json(&summary).map_err(|e| e.to_string())?;
                (format!("{firm}-trust-summary-{day}.json"), "application/json", text.into_bytes())
            }
        }
        Download::Calendar => (format!("{firm}-review-calendar-{day}.ics"), "text/calendar", {
            let origin = origin();
            let link = |o: &shared::calendar::Obligation| record_address(&origin, o);
            ics(&register.name, &obligations(register, today), today, generated, &link).into_bytes()
        }),
    };
    Ok(File { name, mime: mime.to_string(), bytes })
}
