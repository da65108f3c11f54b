//! The relay's database: SQLite in the data folder (the default) or PostgreSQL
//! (`--database postgres://…`), behind one small SQL interface that `storage` and `members`
//! are written against once. Schemas and their migrations live here too.
//!
//! Written by hand because no library gives one query API over rusqlite (kept for SQLite's
//! online backup and its bundled build) and the PostgreSQL client: sqlx's `Any` driver
//! would bring a second SQLite into the process. The interface is only what the two
//! callers need: statements with `$1`-style parameters, rows of plain values, and
//! transactions.

use crate::storage::StorageError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError(e.to_string())
    }
}

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        // The server's own message (a constraint, a lost connection) says more than the
        // client's summary of it.
        match e.as_db_error() {
            Some(db) => StorageError(format!("PostgreSQL: {}", db.message())),
            None => StorageError(format!("PostgreSQL: {e}")),
        }
    }
}

/// A statement parameter either database takes: integers, text and bytes.
pub trait Param: Sync {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// One value of a row, as both databases return it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A row of a query's result, read by column index.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StorageError> {
        self.0.get(i).ok_or_else(|| StorageError(format!("a query returned no column {i}")))
    }
    pub fn int(&self, i: usize) -> Result<i64, StorageError> {
        match self.at(i)? {
            Value::Int(n) => Ok(*n),
            other => Err(StorageError(format!("column {i} holds {other:?}, not a number"))),
        }
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StorageError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub fn flag(&self, i: usize) -> Result<bool, StorageError> {
        Ok(self.int(i)? != 0)
    }
    pub fn text(&self, i: usize) -> Result<String, StorageError> {
        match self.at(i)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(StorageError(format!("column {i} holds {other:?}, not text"))),
        }
    }
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StorageError> {
        match self.at(i)? {
            Value::Bytes(b) => Ok(b.clone()),
            other => Err(StorageError(format!("column {i} holds {other:?}, not bytes"))),
        }
    }
}

/// Statements inside one transaction.
pub trait Tx {
    /// Rows changed.
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StorageError>;
    fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, StorageError>;
    fn query_opt(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    fn query_one(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Row, StorageError> {
        self.query_opt(sql, params)?.ok_or_else(|| StorageError("a query that always answers returned nothing".into()))
    }
    /// Which database this is, for the few statements that differ.
    fn is_postgres(&self) -> bool;
}

/// SQLite numbers its parameters `?1`; the statements are written with PostgreSQL's `$1`.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

impl Tx for rusqlite::Transaction<'_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StorageError> {
        let params: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
        let mut statement = self.prepare_cached(&sqlite_sql(sql))?;
        Ok(statement.execute(params.as_slice())? as u64)
    }
    fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, StorageError> {
        let params: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.sqlite()).collect();
        let mut statement = self.prepare_cached(&sqlite_sql(sql))?;
        let columns = statement.column_count();
        let rows = statement.query_map(params.as_slice(), |row| {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Real(f) => Value::Int(f as i64),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    rusqlite::types::ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            Ok(Row(values))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
    fn is_postgres(&self) -> bool {
        false
    }
}

/// A PostgreSQL connection and the statements it has prepared: the server parses each
/// statement once per connection, not on every call (a round trip saved each time).
pub struct PgConnection {
    client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
}

impl PgConnection {
    fn open(url: &str) -> Result<PgConnection, StorageError> {
        Ok(PgConnection { client: connect(url)?, prepared: HashMap::new() })
    }
}

/// Statements on a PostgreSQL connection or in one of its transactions.
struct Pg<'a, C: postgres::GenericClient> {
    client: &'a mut C,
    prepared: &'a mut HashMap<String, postgres::Statement>,
}

impl<C: postgres::GenericClient> Pg<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StorageError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl<C: postgres::GenericClient> Tx for Pg<'_, C> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StorageError> {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.postgres()).collect();
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, &params)?)
    }
    fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, StorageError> {
        use postgres::types::Type;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.postgres()).collect();
        let statement = self.statement(sql)?;
        let mut out = Vec::new();
        for row in self.client.query(&statement, &params)? {
            let mut values = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let value = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)?.map(|n| Value::Int(n.into()))
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)?.map(|b| Value::Int(b.into()))
                } else if *ty == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes)
                } else {
                    row.try_get::<_, Option<String>>(i)?.map(Value::Text)
                };
                values.push(value.unwrap_or(Value::Null));
            }
            out.push(Row(values));
        }
        Ok(out)
    }
    fn is_postgres(&self) -> bool {
        true
    }
}

/// A few connections, each used by one caller at a time: the group commit, loads and the
/// members' checks need not queue behind each other. (A pool crate would bring its own
/// threads and timeouts for what is a handful of mutexes here.)
pub struct Pool<C> {
    connections: Vec<Mutex<C>>,
    next: std::sync::atomic::AtomicUsize,
}

impl<C> Pool<C> {
    fn get(&self) -> MutexGuard<'_, C> {
        for c in &self.connections {
            if let Ok(guard) = c.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.connections.len();
        // A panic while holding a connection cannot leave a transaction half-done (it
        // rolls back when dropped), so a poisoned lock is still safe to use.
        self.connections[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Connections kept open to the database.
const CONNECTIONS: usize = 4;

pub enum Db {
    Sqlite(Pool<rusqlite::Connection>),
    Postgres { pool: Pool<PgConnection>, url: String },
}

/// Runs a call of the blocking PostgreSQL client, which drives its connection on a runtime
/// of its own: from inside a tokio worker that would panic, so the worker is handed over
/// for the call's length first.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(_) => std::thread::scope(|s| s.spawn(f).join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        Err(_) => f(),
    }
}

/// Where the relay's database is: `--database` if given, else SQLite in the data folder.
pub fn open(data: &Path, database: Option<&str>) -> Result<Db, StorageError> {
    match database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Db::postgres(url),
        Some(other) => Err(StorageError(format!(
            "--database {other:?} is not a PostgreSQL address (postgres://user@host:port/database); leave it out to use SQLite in {}",
            data.display()
        ))),
        None => Db::sqlite(data),
    }
}

/// Opens one SQLite connection to the relay's database in `dir`, creating both: WAL with
/// `synchronous = FULL`, so a committed transaction survives a crash of the relay or of the
/// machine.
pub fn sqlite_connection(dir: &Path) -> Result<rusqlite::Connection, StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
    let connection = rusqlite::Connection::open(dir.join("registers.sqlite3"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

/// PostgreSQL's schema, one migration a step. A migration is never edited once released:
/// a new one is added after it. Each runs in its own transaction and is recorded in
/// `schema_migrations`.
pub(crate) const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1: registers, the audit and the members, as SQLite holds them.
    "CREATE TABLE snapshots (doc TEXT PRIMARY KEY, data BYTEA NOT NULL, version BIGINT NOT NULL DEFAULT 1);
     CREATE TABLE chunks (id BIGSERIAL PRIMARY KEY, doc TEXT NOT NULL, data BYTEA NOT NULL);
     CREATE INDEX chunks_by_doc ON chunks (doc, id);
     CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, member TEXT NOT NULL, doc TEXT NOT NULL,
         change TEXT NOT NULL);
     CREATE INDEX audit_by_change ON audit (doc, change);
     CREATE TABLE quarantine (id BIGSERIAL PRIMARY KEY, doc TEXT NOT NULL, part TEXT NOT NULL, data BYTEA NOT NULL,
         reason TEXT NOT NULL);
     CREATE TABLE members (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
         secret_hash BYTEA NOT NULL, revoked BIGINT NOT NULL DEFAULT 0, epoch BIGINT NOT NULL DEFAULT 0,
         added_at BIGINT NOT NULL DEFAULT 0, last_seen BIGINT);
     CREATE TABLE grants (member BIGINT NOT NULL, register TEXT NOT NULL, PRIMARY KEY (member, register));
     CREATE TABLE member_changes (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, by TEXT NOT NULL,
         register TEXT NOT NULL, action TEXT NOT NULL, member TEXT NOT NULL);",
    // 2: files the browsers publish (the review calendar) and members' calendar addresses.
    "CREATE TABLE published (register TEXT NOT NULL, name TEXT NOT NULL, body BYTEA NOT NULL,
         content_type TEXT NOT NULL, at BIGINT NOT NULL, by TEXT NOT NULL, PRIMARY KEY (register, name));
     CREATE TABLE calendar_feeds (secret_hash BYTEA PRIMARY KEY, member BIGINT NOT NULL, register TEXT NOT NULL,
         created_at BIGINT NOT NULL);
     CREATE INDEX calendar_feeds_by_member ON calendar_feeds (member, register);",
];

/// The channel on which relays sharing a PostgreSQL database say which register moved.
pub const MOVED_CHANNEL: &str = "continuity_moved";

impl Db {
    pub fn sqlite(dir: &Path) -> Result<Db, StorageError> {
        let first = sqlite_connection(dir)?;
        first.execute_batch(
            "CREATE TABLE IF NOT EXISTS snapshots (doc TEXT PRIMARY KEY, data BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, data BLOB NOT NULL);
             CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (doc, id);
             CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
                 member TEXT NOT NULL, doc TEXT NOT NULL, change TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS audit_by_change ON audit (doc, change);
             CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL,
                 part TEXT NOT NULL, data BLOB NOT NULL, reason TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS members (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                 secret_hash BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS grants (member INTEGER NOT NULL, register TEXT NOT NULL,
                 PRIMARY KEY (member, register));
             CREATE TABLE IF NOT EXISTS member_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
                 by TEXT NOT NULL, register TEXT NOT NULL, action TEXT NOT NULL, member TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS published (register TEXT NOT NULL, name TEXT NOT NULL, body BLOB NOT NULL,
                 content_type TEXT NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL, PRIMARY KEY (register, name));
             CREATE TABLE IF NOT EXISTS calendar_feeds (secret_hash BLOB PRIMARY KEY, member INTEGER NOT NULL,
                 register TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS calendar_feeds_by_member ON calendar_feeds (member, register);",
        )?;
        // Databases made before tokens could be rotated, members were listed in the app, or
        // several relays shared one database lack these columns. (SQLite's databases predate
        // versioned migrations: each column is checked for instead.)
        for (table, column, definition) in [
            ("members", "epoch", "INTEGER NOT NULL DEFAULT 0"),
            ("members", "added_at", "INTEGER NOT NULL DEFAULT 0"),
            ("members", "last_seen", "INTEGER"),
            ("snapshots", "version", "INTEGER NOT NULL DEFAULT 1"),
        ] {
            let has = first
                .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?
                .exists([column])?;
            if !has {
                first.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"))?;
            }
        }
        let mut connections = vec![Mutex::new(first)];
        for _ in 1..CONNECTIONS {
            connections.push(Mutex::new(sqlite_connection(dir)?));
        }
        Ok(Db::Sqlite(Pool { connections, next: Default::default() }))
    }

    pub fn postgres(url: &str) -> Result<Db, StorageError> {
        blocking(|| {
            let mut first = PgConnection::open(url)?;
            migrate(&mut first.client)?;
            let mut connections = vec![Mutex::new(first)];
            for _ in 1..CONNECTIONS {
                connections.push(Mutex::new(PgConnection::open(url)?));
            }
            Ok(Db::Postgres { pool: Pool { connections, next: Default::default() }, url: url.to_string() })
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres { .. })
    }

    /// The PostgreSQL address, for a connection of its own (the listener).
    pub fn postgres_url(&self) -> Option<&str> {
        match self {
            Db::Postgres { url, .. } => Some(url),
            Db::Sqlite(_) => None,
        }
    }

    /// Runs `f` in one transaction, committed when it returns `Ok` and rolled back otherwise.
    pub fn transaction<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        match self {
            // SQLite: BEGIN IMMEDIATE. A deferred transaction that reads and then writes
            // cannot wait for the write lock: if another connection committed since its read,
            // the write fails at once with "database is locked" whatever the busy timeout (a
            // compaction beside the committer did, under load). Immediate waits its turn.
            Db::Sqlite(pool) => sqlite_transaction(pool, rusqlite::TransactionBehavior::Immediate, f),
            Db::Postgres { pool, url } => blocking(|| {
                let mut c = open_in(pool, url)?;
                let PgConnection { client, prepared } = &mut *c;
                let mut t = client.transaction()?;
                let out = f(&mut Pg { client: &mut t, prepared })?;
                t.commit()?;
                Ok(out)
            }),
        }
    }

    /// Runs `f` to read, outside any transaction where the database allows (PostgreSQL:
    /// no BEGIN and COMMIT round trips for a single query). Each statement sees what was
    /// committed when it ran: for reads that must agree with each other, use `transaction`.
    pub fn read<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        match self {
            // Deferred: one snapshot of what was committed, without taking the write lock.
            Db::Sqlite(pool) => sqlite_transaction(pool, rusqlite::TransactionBehavior::Deferred, f),
            Db::Postgres { pool, url } => blocking(|| {
                let mut c = open_in(pool, url)?;
                let PgConnection { client, prepared } = &mut *c;
                f(&mut Pg { client, prepared })
            }),
        }
    }

    /// One SQLite connection, for what only SQLite has (its online backup, pragmas).
    pub fn sqlite_only(&self) -> Option<MutexGuard<'_, rusqlite::Connection>> {
        match self {
            Db::Sqlite(pool) => Some(pool.get()),
            Db::Postgres { .. } => None,
        }
    }
}

/// Runs `f` in a SQLite transaction begun with `behavior`, committed when it returns `Ok`.
fn sqlite_transaction<T>(
    pool: &Pool<rusqlite::Connection>,
    behavior: rusqlite::TransactionBehavior,
    f: impl FnOnce(&mut dyn Tx) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let mut c = pool.get();
    let mut t = c.transaction_with_behavior(behavior)?;
    let out = f(&mut t)?;
    t.commit()?;
    Ok(out)
}

/// A connection of the pool, open: one the server closed (a restart, a failover) is opened
/// again rather than failing every call after it.
fn open_in<'a>(pool: &'a Pool<PgConnection>, url: &str) -> Result<MutexGuard<'a, PgConnection>, StorageError> {
    let mut c = pool.get();
    if c.client.is_closed() {
        *c = PgConnection::open(url)?;
    }
    Ok(c)
}

impl Drop for Db {
    fn drop(&mut self) {
        // The blocking client says goodbye to the server when dropped, on a runtime of its
        // own, which panics inside tokio (where the relay's last handle may be dropped): the
        // connections are closed on a thread of their own instead.
        if let Db::Postgres { pool, .. } = self {
            let connections = std::mem::take(&mut pool.connections);
            let _ = std::thread::spawn(move || drop(connections)).join();
        }
    }
}

pub fn connect(url: &str) -> Result<postgres::Client, StorageError> {
    postgres::Client::connect(url, postgres::NoTls)
        .map_err(|e| StorageError(format!("cannot connect to PostgreSQL at {}: {e}", without_password(url))))
}

/// The address as it may be logged: any password taken out.
pub fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Applies the migrations not yet applied, under a lock so that two relays starting at once
/// do not both apply one.
fn migrate(client: &mut postgres::Client) -> Result<(), StorageError> {
    let mut t = client.transaction()?;
    // Any constant will do as long as every relay uses the same one.
    t.execute("SELECT pg_advisory_xact_lock(72530101)", &[])?;
    t.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let applied: i64 = t.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0);
    let known = POSTGRES_MIGRATIONS.len() as i64;
    if applied > known {
        return Err(StorageError(format!(
            "the database is at schema version {applied}, newer than this relay knows ({known}): upgrade the relay"
        )));
    }
    for (i, sql) in POSTGRES_MIGRATIONS.iter().enumerate().skip(applied as usize) {
        t.batch_execute(sql)?;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        t.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[&(i as i64 + 1), &at])?;
    }
    t.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_for_sqlite_and_passwords_kept_out_of_logs() {
        assert_eq!(sqlite_sql("SELECT a FROM t WHERE b = $1 AND c = $12"), "SELECT a FROM t WHERE b = ?1 AND c = ?12");
        assert_eq!(
            without_password("postgres://relay:s3cret@127.0.0.1:5432/continuity"),
            "postgres://relay@127.0.0.1:5432/continuity"
        );
        assert_eq!(without_password("postgres://127.0.0.1/continuity"), "postgres://127.0.0.1/continuity");
    }
}
