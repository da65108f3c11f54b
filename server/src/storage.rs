//! Durable storage of documents: each is a snapshot plus the chunks of changes that arrived
//! since. A chunk is on disk before `append` returns; compaction writes a new snapshot and
//! removes only the chunks that snapshot already holds, in one transaction.

use rusqlite::{Connection, OptionalExtension, params};
use shared::protocol::DocumentId;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageError(pub String);

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError(e.to_string())
    }
}

/// Everything stored for one document, oldest first.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stored {
    pub snapshot: Option<Vec<u8>>,
    /// (chunk id, bytes); ids only grow.
    pub chunks: Vec<(i64, Vec<u8>)>,
}

/// Who sent a chunk of changes and when: recorded with the chunk, in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub member: String,
    /// Seconds since the Unix epoch, by the relay's clock.
    pub at: i64,
    /// Hashes of the changes in the chunk, hex.
    pub changes: Vec<String>,
}

/// One register's chunk in a group commit, with who sent the changes in it (one `Audit` per
/// sender).
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    pub doc: DocumentId,
    pub chunk: Vec<u8>,
    pub audits: Vec<Audit>,
}

/// One accepted change, as the audit export lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub at: i64,
    pub member: String,
    pub register: String,
    pub change: String,
}

/// A stored part of a document: its snapshot or one chunk (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Snapshot,
    Chunk(i64),
}

/// Where documents live. Calls block; the relay makes them on tokio's blocking threads.
pub trait Storage: Send + Sync + 'static {
    /// `None` when the document has never been stored.
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError>;
    /// Stores every chunk and its audit records durably in one transaction (a group commit:
    /// one fsync for all of them) and returns the chunks' ids in order. All or none.
    fn append_all(&self, appends: &[Append]) -> Result<Vec<i64>, StorageError>;
    /// Stores one chunk of changes and its audit record durably and returns the chunk's id.
    fn append(&self, doc: &DocumentId, chunk: &[u8], audit: &Audit) -> Result<i64, StorageError> {
        let one = Append { doc: *doc, chunk: chunk.to_vec(), audits: vec![audit.clone()] };
        Ok(self.append_all(std::slice::from_ref(&one))?[0])
    }
    /// Every accepted change, oldest first.
    fn audit(&self) -> Result<Vec<AuditRow>, StorageError>;
    /// The audit's record of each of these changes (hashes, hex) in one document: who sent
    /// it first and when. Changes the relay never accepted are left out.
    fn uploads(&self, doc: &DocumentId, changes: &[String]) -> Result<Vec<AuditRow>, StorageError>;
    /// Makes `snapshot` the document's base and removes its chunks up to and including `through`.
    fn compact(&self, doc: &DocumentId, snapshot: &[u8], through: i64) -> Result<(), StorageError>;
    /// Moves a part that cannot be read out of the document, with the reason, into a table
    /// of its own: kept, never deleted (compaction would otherwise remove a bad chunk), and
    /// no longer loaded.
    fn quarantine(&self, doc: &DocumentId, part: Part, reason: &str) -> Result<(), StorageError>;
    /// How many parts have been kept aside as unreadable.
    fn quarantined(&self) -> Result<u64, StorageError>;
}

/// Opens the relay's database in `dir`, creating both: WAL with `synchronous = FULL`, so a
/// committed transaction survives a crash of the relay or of the machine. Registers and
/// members share the file, so a writer on one connection may briefly wait for the other.
pub fn open_database(dir: &Path) -> Result<Connection, StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
    let connection = Connection::open(dir.join("registers.sqlite3"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

/// Copies the relay's database in `dir` to `to` while the relay runs, with SQLite's online
/// backup API in one step: the copy is the database as it stood at one moment (a write that
/// commits meanwhile is in it whole or not at all; readers do not block writers in WAL mode).
/// The copy is then checked with `PRAGMA integrity_check`. Returns the copy's size in bytes.
pub fn backup(dir: &Path, to: &Path) -> Result<u64, StorageError> {
    if to.exists() {
        return Err(StorageError(format!("{} exists already: choose a new file for the backup", to.display())));
    }
    if !dir.join("registers.sqlite3").is_file() {
        return Err(StorageError(format!("{} holds no relay database to back up", dir.display())));
    }
    let source = open_database(dir)?;
    let mut copy = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        // -1: every page in one step, so the copy is of one moment and never restarts
        // because a write landed between steps.
        backup.step(-1)?;
    }
    let verdict: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StorageError(format!("the backup failed its integrity check: {verdict}")));
    }
    drop(copy);
    std::fs::metadata(to).map(|m| m.len()).map_err(|e| StorageError(format!("cannot read {}: {e}", to.display())))
}

/// SQLite in the data directory: WAL with `synchronous = FULL`, so a committed chunk
/// survives a crash of the relay or of the machine.
pub struct Sqlite {
    connection: Mutex<Connection>,
}

impl Sqlite {
    pub fn open(dir: &Path) -> Result<Sqlite, StorageError> {
        let connection = open_database(dir)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS snapshots (doc TEXT PRIMARY KEY, data BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, data BLOB NOT NULL);
             CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (doc, id);
             CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
                 member TEXT NOT NULL, doc TEXT NOT NULL, change TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS audit_by_change ON audit (doc, change);
             CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL,
                 part TEXT NOT NULL, data BLOB NOT NULL, reason TEXT NOT NULL);",
        )?;
        Ok(Sqlite { connection: Mutex::new(connection) })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (it has its own
        // transactions), so a poisoned lock is still safe to use.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every register stored, with the relay's time of its last accepted change (0 if none
    /// is in the audit), oldest register first.
    pub fn registers(&self) -> Result<Vec<(DocumentId, i64)>, StorageError> {
        let c = self.connection();
        let mut statement = c.prepare(
            "SELECT d.doc, COALESCE((SELECT MAX(at) FROM audit WHERE audit.doc = d.doc), 0)
             FROM (SELECT doc FROM snapshots UNION SELECT doc FROM chunks) AS d
             ORDER BY (SELECT MIN(id) FROM audit WHERE audit.doc = d.doc)",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (doc, at) = row?;
            if let Ok(id) = doc.parse() {
                out.push((id, at));
            }
        }
        Ok(out)
    }
}

impl Stored {
    /// The register's name, read from the root of the document (the one thing the relay
    /// reads of what a register holds, for `register list`); `None` when it cannot be read.
    pub fn name(&self) -> Option<String> {
        use automerge::ReadDoc;
        let mut doc = automerge::AutoCommit::new();
        for part in self.snapshot.iter().chain(self.chunks.iter().map(|(_, bytes)| bytes)) {
            shared::doc::load_strictly(&mut doc, part).ok()?;
        }
        match doc.get(automerge::ROOT, "name").ok()?? {
            (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_string),
            (automerge::Value::Object(automerge::ObjType::Text), id) => doc.text(&id).ok(),
            _ => None,
        }
    }
}

impl Storage for Sqlite {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let c = self.connection();
        let key = doc.to_string();
        let snapshot: Option<Vec<u8>> =
            c.query_row("SELECT data FROM snapshots WHERE doc = ?1", [&key], |r| r.get(0)).optional()?;
        let mut statement = c.prepare_cached("SELECT id, data FROM chunks WHERE doc = ?1 ORDER BY id")?;
        let chunks = statement.query_map([&key], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok((snapshot.is_some() || !chunks.is_empty()).then_some(Stored { snapshot, chunks }))
    }

    fn append_all(&self, appends: &[Append]) -> Result<Vec<i64>, StorageError> {
        let mut c = self.connection();
        let t = c.transaction()?;
        let mut ids = Vec::with_capacity(appends.len());
        {
            let mut chunk = t.prepare_cached("INSERT INTO chunks (doc, data) VALUES (?1, ?2)")?;
            let mut row = t.prepare_cached("INSERT INTO audit (at, member, doc, change) VALUES (?1, ?2, ?3, ?4)")?;
            for append in appends {
                let key = append.doc.to_string();
                chunk.execute(params![key, append.chunk])?;
                ids.push(t.last_insert_rowid());
                for audit in &append.audits {
                    for change in &audit.changes {
                        row.execute(params![audit.at, audit.member, key, change])?;
                    }
                }
            }
        }
        t.commit()?;
        Ok(ids)
    }

    fn audit(&self) -> Result<Vec<AuditRow>, StorageError> {
        let c = self.connection();
        let mut statement = c.prepare("SELECT at, member, doc, change FROM audit ORDER BY id")?;
        let rows = statement.query_map([], |r| {
            Ok(AuditRow { at: r.get(0)?, member: r.get(1)?, register: r.get(2)?, change: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn uploads(&self, doc: &DocumentId, changes: &[String]) -> Result<Vec<AuditRow>, StorageError> {
        let c = self.connection();
        let key = doc.to_string();
        let mut statement =
            c.prepare_cached("SELECT at, member FROM audit WHERE doc = ?1 AND change = ?2 ORDER BY id LIMIT 1")?;
        let mut rows = Vec::new();
        for change in changes {
            let found = statement
                .query_row(params![key, change], |r| {
                    Ok(AuditRow { at: r.get(0)?, member: r.get(1)?, register: key.clone(), change: change.clone() })
                })
                .optional()?;
            rows.extend(found);
        }
        Ok(rows)
    }

    fn compact(&self, doc: &DocumentId, snapshot: &[u8], through: i64) -> Result<(), StorageError> {
        let mut c = self.connection();
        let t = c.transaction()?;
        let key = doc.to_string();
        t.execute(
            "INSERT INTO snapshots (doc, data) VALUES (?1, ?2) ON CONFLICT (doc) DO UPDATE SET data = excluded.data",
            params![key, snapshot],
        )?;
        t.execute("DELETE FROM chunks WHERE doc = ?1 AND id <= ?2", params![key, through])?;
        t.commit()?;
        Ok(())
    }

    fn quarantine(&self, doc: &DocumentId, part: Part, reason: &str) -> Result<(), StorageError> {
        let mut c = self.connection();
        let t = c.transaction()?;
        let key = doc.to_string();
        match part {
            Part::Snapshot => {
                t.execute(
                    "INSERT INTO quarantine (doc, part, data, reason) SELECT doc, 'snapshot', data, ?2 FROM snapshots WHERE doc = ?1",
                    params![key, reason],
                )?;
                t.execute("DELETE FROM snapshots WHERE doc = ?1", [&key])?;
            }
            Part::Chunk(id) => {
                t.execute(
                    "INSERT INTO quarantine (doc, part, data, reason) SELECT doc, 'chunk ' || id, data, ?3 FROM chunks WHERE doc = ?1 AND id = ?2",
                    params![key, id, reason],
                )?;
                t.execute("DELETE FROM chunks WHERE doc = ?1 AND id = ?2", params![key, id])?;
            }
        }
        t.commit()?;
        Ok(())
    }

    fn quarantined(&self) -> Result<u64, StorageError> {
        Ok(self.connection().query_row("SELECT COUNT(*) FROM quarantine", [], |r| r.get(0))?)
    }
}

/// A part kept aside by `Memory::quarantine`: document, part, bytes, reason.
pub type KeptAside = (DocumentId, Part, Vec<u8>, String);

/// Storage in memory, for tests. `fail_writes` makes every write fail, to test that the
/// relay reports storage errors and acknowledges nothing.
#[derive(Default)]
pub struct Memory {
    docs: Mutex<HashMap<DocumentId, Stored>>,
    audit: Mutex<Vec<AuditRow>>,
    pub kept_aside: Mutex<Vec<KeptAside>>,
    next: Mutex<i64>,
    pub fail_writes: std::sync::atomic::AtomicBool,
    /// Transactions committed by `append_all`, to show a group commit carrying several.
    pub transactions: std::sync::atomic::AtomicU64,
    /// How long each write takes, to let messages pile up behind one in flight.
    pub write_delay: Mutex<std::time::Duration>,
}

impl Memory {
    fn check(&self) -> Result<(), StorageError> {
        if self.fail_writes.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StorageError("the disk is full (simulated)".into()));
        }
        Ok(())
    }
}

impl Storage for Memory {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        Ok(docs.get(doc).filter(|s| s.snapshot.is_some() || !s.chunks.is_empty()).cloned())
    }

    fn append_all(&self, appends: &[Append]) -> Result<Vec<i64>, StorageError> {
        let delay = *self.write_delay.lock().unwrap_or_else(|e| e.into_inner());
        std::thread::sleep(delay);
        self.check()?;
        self.transactions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows = self.audit.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids = Vec::new();
        for append in appends {
            *next += 1;
            ids.push(*next);
            docs.entry(append.doc).or_default().chunks.push((*next, append.chunk.clone()));
            for audit in &append.audits {
                rows.extend(audit.changes.iter().map(|change| AuditRow {
                    at: audit.at,
                    member: audit.member.clone(),
                    register: append.doc.to_string(),
                    change: change.clone(),
                }));
            }
        }
        Ok(ids)
    }

    fn audit(&self) -> Result<Vec<AuditRow>, StorageError> {
        Ok(self.audit.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn uploads(&self, doc: &DocumentId, changes: &[String]) -> Result<Vec<AuditRow>, StorageError> {
        let rows = self.audit.lock().unwrap_or_else(|e| e.into_inner());
        let key = doc.to_string();
        Ok(changes
            .iter()
            .filter_map(|change| rows.iter().find(|r| r.register == key && &r.change == change).cloned())
            .collect())
    }

    fn compact(&self, doc: &DocumentId, snapshot: &[u8], through: i64) -> Result<(), StorageError> {
        self.check()?;
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let stored = docs.entry(*doc).or_default();
        stored.snapshot = Some(snapshot.to_vec());
        stored.chunks.retain(|(id, _)| *id > through);
        Ok(())
    }

    fn quarantine(&self, doc: &DocumentId, part: Part, reason: &str) -> Result<(), StorageError> {
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let stored = docs.entry(*doc).or_default();
        let bytes = match part {
            Part::Snapshot => stored.snapshot.take(),
            Part::Chunk(id) => {
                let at = stored.chunks.iter().position(|(c, _)| *c == id);
                at.map(|at| stored.chunks.remove(at).1)
            }
        };
        if let Some(bytes) = bytes {
            self.kept_aside.lock().unwrap_or_else(|e| e.into_inner()).push((*doc, part, bytes, reason.to_string()));
        }
        Ok(())
    }

    fn quarantined(&self) -> Result<u64, StorageError> {
        Ok(self.kept_aside.lock().unwrap_or_else(|e| e.into_inner()).len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(change: &str) -> Audit {
        Audit { member: "Amara".into(), at: 1_795_000_000, changes: vec![change.into()] }
    }

    fn check_contract(storage: &dyn Storage) {
        let doc = DocumentId([3; 16]);
        assert_eq!(storage.load(&doc).unwrap(), None);
        let a = storage.append(&doc, b"one", &audit("c1")).unwrap();
        let b = storage.append(&doc, b"two", &audit("c2")).unwrap();
        assert!(b > a);
        let other = DocumentId([4; 16]);
        storage.append(&other, b"elsewhere", &audit("c3")).unwrap();
        let rows = storage.audit().unwrap();
        assert_eq!(rows.iter().map(|r| r.change.as_str()).collect::<Vec<_>>(), ["c1", "c2", "c3"]);
        assert_eq!(rows[2].register, other.to_string());
        assert_eq!(rows[0].member, "Amara");
        let stored = storage.load(&doc).unwrap().unwrap();
        assert_eq!(stored.chunks, vec![(a, b"one".to_vec()), (b, b"two".to_vec())]);
        // A chunk that arrives after the snapshot was taken is kept by compaction.
        let c = storage.append(&doc, b"three", &audit("c4")).unwrap();
        storage.compact(&doc, b"one+two", b).unwrap();
        let stored = storage.load(&doc).unwrap().unwrap();
        assert_eq!(stored.snapshot.as_deref(), Some(&b"one+two"[..]));
        assert_eq!(stored.chunks, vec![(c, b"three".to_vec())]);
        assert_eq!(storage.load(&other).unwrap().unwrap().chunks.len(), 1);
        // A part kept aside is no longer loaded, and is counted.
        storage.quarantine(&doc, Part::Chunk(c), "junk").unwrap();
        storage.quarantine(&doc, Part::Snapshot, "junk").unwrap();
        assert_eq!(storage.load(&doc).unwrap(), None);
        assert_eq!(storage.quarantined().unwrap(), 2);
        // Asked for by hash within one document: the first upload only, nothing from another.
        storage.append(&doc, b"again", &Audit { member: "Later".into(), ..audit("c1") }).unwrap();
        let asked = ["c2".to_string(), "c1".into(), "c3".into(), "never".into()];
        let found = storage.uploads(&doc, &asked).unwrap();
        assert_eq!(
            found.iter().map(|r| (r.change.as_str(), r.member.as_str())).collect::<Vec<_>>(),
            [("c2", "Amara"), ("c1", "Amara")]
        );
    }

    #[test]
    fn sqlite_keeps_the_contract_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        check_contract(&Sqlite::open(dir.path()).unwrap());
        let reopened = Sqlite::open(dir.path()).unwrap();
        assert_eq!(reopened.load(&DocumentId([4; 16])).unwrap().unwrap().chunks.len(), 1);
        assert_eq!(reopened.quarantined().unwrap(), 2);
        let kept: Vec<u8> = reopened
            .connection()
            .query_row("SELECT data FROM quarantine WHERE part = 'snapshot'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, b"one+two");
        let mode: String = reopened.connection().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = reopened.connection().query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn memory_keeps_the_contract() {
        check_contract(&Memory::default());
    }
}
