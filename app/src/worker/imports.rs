//! Spreadsheets to import, read in the register worker (calamine's zip and XML code stays
//! out of the page's wasm) against the register it holds: the page shows the preview, and a
//! confirmation comes back as an ordinary edit.

use crate::bridge::ImportView;
use shared::Register;
use shared::import::{Mapping, Target, guess, mapping_for, preview, read};

/// Rows shown under each heading while the person checks the mapping.
const EXAMPLES: usize = 3;

pub fn import(
    register: &Register,
    file_name: &str,
    bytes: &[u8],
    sheet: Option<usize>,
    target: Option<Target>,
    mapping: Option<Mapping>,
) -> Result<Box<ImportView>, String> {
    let sheets = read(file_name, bytes).map_err(|e| format!("Nothing was imported: {e}."))?;
    let index = sheet.unwrap_or(0).min(sheets.len() - 1);
    let chosen = &sheets[index];
    let mapping = match (mapping, target) {
        // A mapping made for another sheet (of another width) is not this sheet's.
        (Some(m), _) if m.columns.len() == chosen.headings.len() => m,
        (_, Some(target)) => mapping_for(chosen, target),
        _ => guess(chosen),
    };
    let examples =
        chosen.rows.iter().take(EXAMPLES).map(|(_, cells)| cells.iter().map(|c| c.text()).collect()).collect();
    let preview = preview(chosen, &mapping, register, &mut || uuid::Uuid::new_v4().to_string());
    Ok(Box::new(ImportView {
        sheets: sheets.iter().map(|s| s.name.clone()).collect(),
        sheet: index,
        headings: chosen.headings.clone(),
        examples,
        mapping,
        preview,
    }))
}
