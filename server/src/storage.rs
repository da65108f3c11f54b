//! Durable storage of documents: each is a snapshot plus the chunks of changes that arrived
//! since. A chunk is on disk before `append` returns; compaction writes a new snapshot and
//! removes only the chunks that snapshot already holds, in one transaction.

use crate::db::{Db, MOVED_CHANNEL, Tx};
use shared::protocol::DocumentId;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageError(pub String);

/// Everything stored for one document, oldest first.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stored {
    pub snapshot: Option<Vec<u8>>,
    /// Goes up with every compaction (0: no snapshot yet), so that a relay compacting a
    /// register can tell whether another relay sharing the database compacted it meanwhile.
    pub version: i64,
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

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compacted {
    /// The snapshot is stored, at this version.
    Done(i64),
    /// Another writer compacted since the snapshot was built; nothing was changed.
    Moved,
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
    /// The chunks named, by id, oldest first; one that compaction has folded into the
    /// snapshot already is left out.
    fn chunks(&self, doc: &DocumentId, ids: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, StorageError>;
    /// Makes `snapshot` the document's base and removes the chunks `folded` (those it holds),
    /// leaving any other. `version` is the stored snapshot's version the new one was built
    /// on; if the snapshot has moved on since (another relay compacted), nothing is changed
    /// and `Compacted::Moved` says so, for the caller to fold that snapshot in and try again.
    fn compact(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        version: i64,
        folded: &[i64],
    ) -> Result<Compacted, StorageError>;
    /// Moves a part that cannot be read out of the document, with the reason, into a table
    /// of its own: kept, never deleted (compaction would otherwise remove a bad chunk), and
    /// no longer loaded.
    fn quarantine(&self, doc: &DocumentId, part: Part, reason: &str) -> Result<(), StorageError>;
    /// How many parts have been kept aside as unreadable.
    fn quarantined(&self) -> Result<u64, StorageError>;
}

/// Copies the relay's SQLite database in `dir` to `to` while the relay runs, with SQLite's
/// online backup API in one step: the copy is the database as it stood at one moment (a
/// write that commits meanwhile is in it whole or not at all; readers do not block writers
/// in WAL mode). The copy is then checked with `PRAGMA integrity_check`. Returns the copy's
/// size in bytes. (PostgreSQL is backed up with its own tools.)
pub fn backup(dir: &Path, to: &Path) -> Result<u64, StorageError> {
    if to.exists() {
        return Err(StorageError(format!("{} exists already: choose a new file for the backup", to.display())));
    }
    if !dir.join("registers.sqlite3").is_file() {
        return Err(StorageError(format!("{} holds no relay database to back up", dir.display())));
    }
    let source = crate::db::sqlite_connection(dir)?;
    let mut copy = rusqlite::Connection::open(to)?;
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

/// Registers in the relay's database, SQLite or PostgreSQL (`db`). Every write is one
/// transaction, committed durably before it returns (SQLite: WAL with `synchronous = FULL`;
/// PostgreSQL: as its `synchronous_commit` says, `on` by default).
pub struct Sql {
    db: Arc<Db>,
}

impl Sql {
    pub fn new(db: Arc<Db>) -> Sql {
        Sql { db }
    }

    /// SQLite in `dir`, the default.
    pub fn open(dir: &Path) -> Result<Sql, StorageError> {
        Ok(Sql::new(Arc::new(Db::sqlite(dir)?)))
    }

    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// Every register stored, with the relay's time of its last accepted change (0 if none
    /// is in the audit), oldest register first.
    pub fn registers(&self) -> Result<Vec<(DocumentId, i64)>, StorageError> {
        let rows = self.db.transaction(|t| {
            t.query(
                "SELECT d.doc, COALESCE((SELECT MAX(at) FROM audit WHERE audit.doc = d.doc), 0)
                 FROM (SELECT doc FROM snapshots UNION SELECT doc FROM chunks) AS d
                 ORDER BY (SELECT MIN(id) FROM audit WHERE audit.doc = d.doc), d.doc",
                &[],
            )
        })?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(id) = row.text(0)?.parse() {
                out.push((id, row.int(1)?));
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

fn load_in(t: &mut dyn Tx, key: &str) -> Result<Option<Stored>, StorageError> {
    if t.is_postgres() {
        // The snapshot and the chunks as of one moment: under PostgreSQL's default each
        // statement sees its own, and a compaction committing between the two would leave
        // out the chunks it folded into a snapshot this read did not see.
        t.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[])?;
    }
    let snapshot = t.query_opt("SELECT data, version FROM snapshots WHERE doc = $1", &[&key])?;
    let (snapshot, version) = match snapshot {
        Some(row) => (Some(row.bytes(0)?), row.int(1)?),
        None => (None, 0),
    };
    let chunks = t
        .query("SELECT id, data FROM chunks WHERE doc = $1 ORDER BY id", &[&key])?
        .iter()
        .map(|r| Ok((r.int(0)?, r.bytes(1)?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok((snapshot.is_some() || !chunks.is_empty()).then_some(Stored { snapshot, version, chunks }))
}

impl Storage for Sql {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let key = doc.to_string();
        self.db.transaction(|t| load_in(t, &key))
    }

    fn chunks(&self, doc: &DocumentId, ids: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
        let (Some(low), Some(high)) = (ids.iter().min().copied(), ids.iter().max().copied()) else {
            return Ok(Vec::new());
        };
        let key = doc.to_string();
        // One query for the span (the index on doc and id keeps it to this register's rows),
        // the ids not asked for dropped here: SQLite has no array parameters.
        let rows = self.db.read(|t| {
            t.query(
                "SELECT id, data FROM chunks WHERE doc = $1 AND id >= $2 AND id <= $3 ORDER BY id",
                &[&key, &low, &high],
            )
        })?;
        let mut out = Vec::new();
        for row in rows {
            let id = row.int(0)?;
            if ids.contains(&id) {
                out.push((id, row.bytes(1)?));
            }
        }
        Ok(out)
    }

    fn append_all(&self, appends: &[Append]) -> Result<Vec<i64>, StorageError> {
        self.db.transaction(|t| {
            let mut ids = Vec::with_capacity(appends.len());
            for append in appends {
                let key = append.doc.to_string();
                let id = t
                    .query_one("INSERT INTO chunks (doc, data) VALUES ($1, $2) RETURNING id", &[&key, &append.chunk])?
                    .int(0)?;
                ids.push(id);
                for audit in &append.audits {
                    for change in &audit.changes {
                        t.execute(
                            "INSERT INTO audit (at, member, doc, change) VALUES ($1, $2, $3, $4)",
                            &[&audit.at, &audit.member, &key, change],
                        )?;
                    }
                }
                if t.is_postgres() {
                    // Delivered to the other relays when (and only if) this commits.
                    t.execute("SELECT pg_notify($1, $2)", &[&MOVED_CHANNEL, &format!("{key}:{id}")])?;
                }
            }
            Ok(ids)
        })
    }

    fn audit(&self) -> Result<Vec<AuditRow>, StorageError> {
        let rows = self.db.transaction(|t| t.query("SELECT at, member, doc, change FROM audit ORDER BY id", &[]))?;
        rows.iter()
            .map(|r| Ok(AuditRow { at: r.int(0)?, member: r.text(1)?, register: r.text(2)?, change: r.text(3)? }))
            .collect()
    }

    fn uploads(&self, doc: &DocumentId, changes: &[String]) -> Result<Vec<AuditRow>, StorageError> {
        let key = doc.to_string();
        self.db.transaction(|t| {
            let mut rows = Vec::new();
            for change in changes {
                let found = t.query_opt(
                    "SELECT at, member FROM audit WHERE doc = $1 AND change = $2 ORDER BY id LIMIT 1",
                    &[&key, change],
                )?;
                if let Some(r) = found {
                    rows.push(AuditRow {
                        at: r.int(0)?,
                        member: r.text(1)?,
                        register: key.clone(),
                        change: change.clone(),
                    });
                }
            }
            Ok(rows)
        })
    }

    fn compact(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        version: i64,
        folded: &[i64],
    ) -> Result<Compacted, StorageError> {
        let key = doc.to_string();
        self.db.transaction(|t| {
            let lock = if t.is_postgres() { " FOR UPDATE" } else { "" };
            let stored = t.query_opt(&format!("SELECT version FROM snapshots WHERE doc = $1{lock}"), &[&key])?;
            let stored = stored.map(|r| r.int(0)).transpose()?.unwrap_or(0);
            if stored != version {
                return Ok(Compacted::Moved);
            }
            let next = version + 1;
            if version == 0 {
                // Two relays making a register's first snapshot at once: one insert wins,
                // the other finds the snapshot moved.
                let made = t.execute(
                    "INSERT INTO snapshots (doc, data, version) VALUES ($1, $2, $3) ON CONFLICT (doc) DO NOTHING",
                    &[&key, &snapshot, &next],
                )?;
                if made == 0 {
                    return Ok(Compacted::Moved);
                }
            } else {
                t.execute("UPDATE snapshots SET data = $2, version = $3 WHERE doc = $1", &[&key, &snapshot, &next])?;
            }
            for id in folded {
                t.execute("DELETE FROM chunks WHERE doc = $1 AND id = $2", &[&key, id])?;
            }
            Ok(Compacted::Done(next))
        })
    }

    fn quarantine(&self, doc: &DocumentId, part: Part, reason: &str) -> Result<(), StorageError> {
        let key = doc.to_string();
        self.db.transaction(|t| {
            match part {
                Part::Snapshot => {
                    t.execute(
                        "INSERT INTO quarantine (doc, part, data, reason) SELECT doc, 'snapshot', data, $2 FROM snapshots WHERE doc = $1",
                        &[&key, &reason],
                    )?;
                    t.execute("DELETE FROM snapshots WHERE doc = $1", &[&key])?;
                }
                Part::Chunk(id) => {
                    t.execute(
                        "INSERT INTO quarantine (doc, part, data, reason) SELECT doc, 'chunk ' || id, data, $3 FROM chunks WHERE doc = $1 AND id = $2",
                        &[&key, &id, &reason],
                    )?;
                    t.execute("DELETE FROM chunks WHERE doc = $1 AND id = $2", &[&key, &id])?;
                }
            }
            Ok(())
        })
    }

    fn quarantined(&self) -> Result<u64, StorageError> {
        let n = self.db.transaction(|t| t.query_one("SELECT COUNT(*) FROM quarantine", &[])?.int(0))?;
        Ok(n as u64)
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

    fn chunks(&self, doc: &DocumentId, ids: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let stored = docs.get(doc);
        Ok(stored.map(|s| s.chunks.iter().filter(|(c, _)| ids.contains(c)).cloned().collect()).unwrap_or_default())
    }

    fn compact(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        version: i64,
        folded: &[i64],
    ) -> Result<Compacted, StorageError> {
        self.check()?;
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let stored = docs.entry(*doc).or_default();
        if stored.version != version {
            return Ok(Compacted::Moved);
        }
        stored.snapshot = Some(snapshot.to_vec());
        stored.version += 1;
        stored.chunks.retain(|(id, _)| !folded.contains(id));
        Ok(Compacted::Done(stored.version))
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

    /// What every `Storage` must do, run on each of them.
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
        assert_eq!(storage.compact(&doc, b"one+two", 0, &[a, b]).unwrap(), Compacted::Done(1));
        // A relay whose snapshot is out of date changes nothing.
        assert_eq!(storage.compact(&doc, b"stale", 0, &[c]).unwrap(), Compacted::Moved);
        assert_eq!(storage.chunks(&doc, &[a, c]).unwrap(), vec![(c, b"three".to_vec())], "a is in the snapshot now");
        assert_eq!(storage.chunks(&other, &[c]).unwrap(), vec![], "c is another register's");
        let stored = storage.load(&doc).unwrap().unwrap();
        assert_eq!(stored.snapshot.as_deref(), Some(&b"one+two"[..]));
        assert_eq!(stored.version, 1);
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
        check_contract(&Sql::open(dir.path()).unwrap());
        let reopened = Sql::open(dir.path()).unwrap();
        assert_eq!(reopened.load(&DocumentId([4; 16])).unwrap().unwrap().chunks.len(), 1);
        assert_eq!(reopened.quarantined().unwrap(), 2);
        let c = reopened.db().sqlite_only().unwrap();
        let kept: Vec<u8> =
            c.query_row("SELECT data FROM quarantine WHERE part = 'snapshot'", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, b"one+two");
        let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn sqlite_compacts_while_another_connection_commits() {
        // Compaction reads the snapshot's version and then writes: beside the group commit
        // on another connection, that must wait its turn, not fail as "database is locked".
        let dir = tempfile::tempdir().unwrap();
        let storage = Sql::open(dir.path()).unwrap();
        let doc = DocumentId([5; 16]);
        std::thread::scope(|s| {
            let writer = s.spawn(|| {
                for i in 0..300 {
                    storage.append(&doc, format!("chunk {i}").as_bytes(), &audit(&format!("c{i}"))).unwrap();
                }
            });
            let mut compacted = 0;
            while !writer.is_finished() {
                let stored = storage.load(&doc).unwrap().unwrap_or_default();
                let folded: Vec<i64> = stored.chunks.iter().map(|(id, _)| *id).collect();
                if let Compacted::Done(_) = storage.compact(&doc, b"snapshot", stored.version, &folded).unwrap() {
                    compacted += 1;
                }
            }
            assert!(compacted > 1, "compacted {compacted} times while the writer ran");
        });
        let left = storage.load(&doc).unwrap().unwrap();
        assert!(left.snapshot.is_some());
    }

    #[test]
    fn postgres_keeps_the_contract_and_survives_reconnecting() {
        let Some(database) = continuity_tests::postgres::Database::fresh() else { return };
        check_contract(&Sql::new(Arc::new(Db::postgres(database.url()).unwrap())));
        let reopened = Sql::new(Arc::new(Db::postgres(database.url()).unwrap()));
        assert_eq!(reopened.load(&DocumentId([4; 16])).unwrap().unwrap().chunks.len(), 1);
        assert_eq!(reopened.quarantined().unwrap(), 2);
        let mut c = crate::db::connect(database.url()).unwrap();
        let kept: Vec<u8> = c.query_one("SELECT data FROM quarantine WHERE part = 'snapshot'", &[]).unwrap().get(0);
        assert_eq!(kept, b"one+two");
        let version: i64 = c.query_one("SELECT MAX(version) FROM schema_migrations", &[]).unwrap().get(0);
        let known = crate::db::POSTGRES_MIGRATIONS.len() as i64;
        assert_eq!(version, known, "migrations applied once, however often the relay opens the database");
    }

    #[test]
    fn memory_keeps_the_contract() {
        check_contract(&Memory::default());
    }
}
