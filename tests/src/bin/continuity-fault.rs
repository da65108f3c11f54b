//! Fault injection for the end-to-end tests: `continuity-fault lock <data dir>` holds the
//! relay's SQLite database locked for writing (an exclusive transaction from another
//! process) until its standard input closes, so every write the running relay tries fails
//! after its busy timeout, as on a failing disk. Prints `locked` once the lock is held.

use anyhow::{Context, bail};
use std::io::{BufRead, Write};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, data] = args.as_slice() else { bail!("usage: continuity-fault lock <data dir>") };
    if mode != "lock" {
        bail!("unknown fault {mode:?}: the one there is is lock");
    }
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
