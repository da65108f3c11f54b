//! `continuity-relay migrate`: copies a relay's SQLite database (registers, members, their
//! tokens and both audits) into an empty PostgreSQL database, keeping every id (a member's
//! token names their id), then checks the copy: every register loads with the same heads.

use crate::db::Db;
use crate::storage::{Sql, Storage, StorageError};
use std::sync::Arc;

/// What was copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub registers: usize,
    pub chunks: usize,
    pub members: usize,
    pub changes_audited: usize,
}

/// Tables in the order they are copied, with their columns; the first column of those with
/// a serial id is `id`.
const TABLES: &[(&str, &[&str], bool)] = &[
    ("snapshots", &["doc", "data", "version"], false),
    ("chunks", &["id", "doc", "data"], true),
    ("audit", &["id", "at", "member", "doc", "change"], true),
    ("quarantine", &["id", "doc", "part", "data", "reason"], true),
    ("members", &["id", "name", "role", "secret_hash", "revoked", "epoch", "added_at", "last_seen"], true),
    ("grants", &["member", "register"], false),
    ("member_changes", &["id", "at", "by", "register", "action", "member"], true),
    ("published", &["register", "name", "body", "content_type", "at", "by"], false),
    ("calendar_feeds", &["secret_hash", "member", "register", "created_at"], false),
];

/// One value carried across, typed as both databases take it.
#[derive(Debug)]
enum Cell {
    Int(Option<i64>),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn param(&self) -> &dyn crate::db::Param {
        match self {
            Cell::Int(n) => n,
            Cell::Text(s) => s,
            Cell::Bytes(b) => b,
        }
    }
}

pub fn copy(from: &Arc<Db>, to: &Arc<Db>) -> Result<Copied, StorageError> {
    if from.is_postgres() || !to.is_postgres() {
        return Err(StorageError("migrate copies a relay's SQLite data folder into PostgreSQL".into()));
    }
    let held: i64 = to.transaction(|t| {
        let mut n = 0;
        for table in ["snapshots", "chunks", "members", "audit"] {
            n += t.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?.int(0)?;
        }
        Ok(n)
    })?;
    if held > 0 {
        return Err(StorageError(
            "the PostgreSQL database already holds registers or members: migrate into an empty one".into(),
        ));
    }
    let mut copied = Copied::default();
    // Read everything first (one consistent read of SQLite), then write it in one
    // transaction: a copy that fails part-way leaves PostgreSQL empty.
    let mut tables = Vec::new();
    for (table, columns, _) in TABLES {
        let rows = from.transaction(|t| t.query(&format!("SELECT {} FROM {table}", columns.join(", ")), &[]))?;
        let mut cells = Vec::with_capacity(rows.len());
        for row in rows {
            let mut out = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                out.push(match *column {
                    "data" | "secret_hash" | "body" => Cell::Bytes(row.bytes(i)?),
                    // A member's id in the tables that point at members; their name elsewhere.
                    "member" if matches!(*table, "grants" | "calendar_feeds") => Cell::Int(row.opt_int(i)?),
                    "doc" | "member" | "register" | "name" | "role" | "change" | "part" | "reason" | "by"
                    | "action" | "content_type" => Cell::Text(row.text(i)?),
                    _ => Cell::Int(row.opt_int(i)?),
                });
            }
            cells.push(out);
        }
        match *table {
            "chunks" => copied.chunks = cells.len(),
            "members" => copied.members = cells.len(),
            "audit" => copied.changes_audited = cells.len(),
            _ => {}
        }
        tables.push(cells);
    }
    to.transaction(|t| {
        for ((table, columns, serial), rows) in TABLES.iter().zip(&tables) {
            let places: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let sql = format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), places.join(", "));
            for row in rows {
                let params: Vec<&dyn crate::db::Param> = row.iter().map(Cell::param).collect();
                t.execute(&sql, &params)?;
            }
            if *serial {
                // New rows are numbered after the copied ones.
                t.execute(
                    &format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"),
                    &[],
                )?;
            }
        }
        Ok(())
    })?;
    // The check: every register the SQLite database holds loads from PostgreSQL with the
    // same heads.
    let (source, copy) = (Sql::new(from.clone()), Sql::new(to.clone()));
    for (id, _) in source.registers()? {
        let heads = |storage: &Sql| -> Result<Vec<automerge::ChangeHash>, StorageError> {
            let mut doc = automerge::AutoCommit::new();
            if let Some(stored) = storage.load(&id)? {
                for part in stored.snapshot.iter().chain(stored.chunks.iter().map(|(_, b)| b)) {
                    // An unreadable part is copied as it is and stays unreadable on both.
                    let _ = shared::doc::load_strictly(&mut doc, part);
                }
            }
            let mut heads = doc.get_heads();
            heads.sort();
            Ok(heads)
        };
        if heads(&source)? != heads(&copy)? {
            return Err(StorageError(format!(
                "register {} does not load with the same heads from PostgreSQL",
                id.url()
            )));
        }
        copied.registers += 1;
    }
    Ok(copied)
}
