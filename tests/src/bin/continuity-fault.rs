//! Faults and awkward files for the end-to-end tests. `continuity-fault lock <data dir>`
//! holds the relay's SQLite database locked for writing (an exclusive transaction from
//! another process) until its standard input closes, so every write the running relay tries
//! fails after its busy timeout, as on a failing disk; it prints `locked` once the lock is
//! held. `continuity-fault spreadsheet <file.xlsx>` writes a risk register shaped as firms
//! keep theirs (a merged title row, a heading the import does not know, real dates, a bad row).

use anyhow::{Context, bail};
use std::io::{BufRead, Write};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, target] = args.as_slice() else {
        bail!("usage: continuity-fault lock <data dir> | continuity-fault spreadsheet <file.xlsx>")
    };
    match mode.as_str() {
        "lock" => lock(target),
        "spreadsheet" => spreadsheet(target),
        other => bail!("unknown fault {other:?}: there are lock and spreadsheet"),
    }
}

fn spreadsheet(file: &str) -> anyhow::Result<()> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Risk register")?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.merge_range(0, 0, 0, 5, "Our risk register, reviewed each quarter", &bold)?;
    for (c, heading) in ["Risk", "Owner", "Chance", "Impact", "Review date", "Notes"].iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *heading, &bold)?;
    }
    let rows = [
        ("Supplier portal breach", "Ana Lima", 3.0, 4.0, (2026, 11, 22), "Pen test booked"),
        ("Server room fire", "Ana Lima", 9.0, 5.0, (2026, 2, 1), ""),
        ("Lost laptop", "Ben Ode", 2.0, 2.0, (2026, 3, 15), "Disks encrypted"),
    ];
    for (i, (risk, owner, chance, impact, (y, m, d), notes)) in rows.into_iter().enumerate() {
        let r = 3 + i as u32;
        sheet.write_string(r, 0, risk)?;
        sheet.write_string(r, 1, owner)?;
        sheet.write_number(r, 2, chance)?;
        sheet.write_number(r, 3, impact)?;
        sheet.write_datetime_with_format(r, 4, ExcelDateTime::from_ymd(y, m, d)?, &date)?;
        sheet.write_string(r, 5, notes)?;
    }
    book.save(file)?;
    Ok(())
}

fn lock(data: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new(data).join("registers.sqlite3");
    let connection = rusqlite::Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    connection.execute_batch("BEGIN EXCLUSIVE")?;
    println!("locked");
    std::io::stdout().flush()?;
    // Held until whoever started this closes our input (or it ends); then let go.
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    connection.execute_batch("ROLLBACK")?;
    Ok(())
}
