//! The sync relay: documents in memory backed by `Storage`, and the peers syncing each.
//! The protocol itself lives in `shared::protocol`; this module adds the locking and the
//! durability rule: changes a peer sends are stored before anything is sent that shows the
//! relay has them, and a storage failure is reported and acknowledged to nobody.
//! The relay never looks inside a record: it holds and forwards Automerge changes, and reads
//! only the keys of a document's root, to refuse a change that would replace a collection.

use crate::members::{Member, Role};
use crate::metrics::Metrics;
use crate::storage::{Audit, AuditRow, Part, Storage, StorageError};
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use shared::doc::load_strictly;
use shared::protocol::{DocumentId, Message, ProtocolError};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

/// Chunks appended before the relay folds them into a new snapshot.
const COMPACT_AFTER: usize = 64;

/// A connection's id within this relay process.
pub type ConnectionId = u64;

/// Where a connection's outgoing messages go (its socket writer drains it).
pub type Outbox = mpsc::UnboundedSender<Message>;

/// Why a message could not be handled; the connection gets `error` and is closed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("{0}; the changes were not accepted")]
    Storage(#[from] StorageError),
    #[error("{0} may read this register but not change it")]
    ReadOnly(String),
    #[error(
        "the changes sent would replace the register's {0}, hiding everything in it from every member; nothing was accepted"
    )]
    Replaces(String),
}

/// The keys of the document root that hold an object (the collections and the actors map).
fn root_objects(doc: &AutoCommit) -> Vec<String> {
    use automerge::ReadDoc;
    doc.map_range(automerge::ROOT, ..)
        .filter(|item| matches!(item.value, automerge::ValueRef::Object(_)))
        .map(|item| item.key.to_string())
        .collect()
}

/// The first of `collections` that the changes since `before` overwrite or delete at the root.
/// An editor's app never does this (it makes a collection only where none exists), and one
/// that did would hide every record in it from everyone: the relay looks at the root's keys
/// only, never inside a record.
fn replaced_collection(
    doc: &mut AutoCommit,
    before: &[automerge::ChangeHash],
    collections: &[String],
) -> Option<String> {
    use automerge::legacy::{Key, ObjectId, OpType};
    for change in doc.get_changes(before) {
        for op in change.decode().operations {
            let (ObjectId::Root, Key::Map(key)) = (&op.obj, &op.key) else { continue };
            let replaces = matches!(op.action, OpType::Put(_) | OpType::Make(_) | OpType::Delete);
            if replaces && collections.iter().any(|c| c == key.as_str()) {
                return Some(key.to_string());
            }
        }
    }
    None
}

/// Who is on a joined connection and where its replies go: what the relay needs to handle
/// one of its messages.
pub struct Session {
    pub connection: ConnectionId,
    pub member: Member,
    /// The peer id the connection joined with.
    pub peer: String,
    pub outbox: Outbox,
}

struct Peer {
    peer_id: String,
    state: sync::State,
    outbox: Outbox,
}

struct Entry {
    doc: AutoCommit,
    /// Whether anything has been stored for this document.
    stored: bool,
    chunks_since_snapshot: usize,
    last_chunk: i64,
    peers: HashMap<ConnectionId, Peer>,
    /// Set when a write failed: this copy may hold changes that are not on disk, so nobody
    /// may use it again. Its peers are disconnected and the document reloaded.
    poisoned: bool,
}

pub struct Relay {
    pub peer_id: String,
    pub metrics: Arc<Metrics>,
    storage: Arc<dyn Storage>,
    docs: std::sync::Mutex<HashMap<DocumentId, Arc<Mutex<Entry>>>>,
}

impl Relay {
    pub fn new(storage: Arc<dyn Storage>, peer_id: String) -> Relay {
        Relay { peer_id, metrics: Arc::default(), storage, docs: std::sync::Mutex::new(HashMap::new()) }
    }

    /// The in-memory entry for a document, loading it from storage on first use.
    async fn entry(&self, id: DocumentId) -> Result<Arc<Mutex<Entry>>, RelayError> {
        if let Some(entry) = self.docs.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(entry.clone());
        }
        let storage = self.storage.clone();
        let stored =
            tokio::task::spawn_blocking(move || storage.load(&id)).await.map_err(|e| StorageError(e.to_string()))??;
        let mut entry = Entry {
            doc: AutoCommit::new(),
            stored: false,
            chunks_since_snapshot: 0,
            last_chunk: 0,
            peers: HashMap::new(),
            poisoned: false,
        };
        if let Some(stored) = stored {
            // What can be read is loaded; a part that cannot is kept aside and reported. The
            // changes it held come back from any browser that has them, by syncing.
            let mut unreadable = Vec::new();
            if let Some(snapshot) = &stored.snapshot
                && let Err(e) = load_strictly(&mut entry.doc, snapshot)
            {
                unreadable.push((Part::Snapshot, e.to_string()));
            }
            for (chunk_id, chunk) in &stored.chunks {
                if let Err(e) = load_strictly(&mut entry.doc, chunk) {
                    unreadable.push((Part::Chunk(*chunk_id), e.to_string()));
                }
                entry.last_chunk = *chunk_id;
            }
            for (part, reason) in unreadable {
                tracing::error!(document = %id, ?part, %reason, "a stored part of this register cannot be read; kept aside, loading the rest");
                let storage = self.storage.clone();
                let moved = tokio::task::spawn_blocking(move || storage.quarantine(&id, part, &reason))
                    .await
                    .map_err(|e| StorageError(e.to_string()))?;
                // If it cannot be moved it stays where it is, and is reported again next load.
                if let Err(e) = moved {
                    tracing::error!(document = %id, ?part, error = %e, "could not keep the unreadable part aside");
                }
                self.metrics.unreadable_parts.inc();
            }
            entry.stored = true;
            entry.chunks_since_snapshot = stored.chunks.len();
        }
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        // Another connection may have loaded it meanwhile: keep the first.
        Ok(docs.entry(id).or_insert_with(|| Arc::new(Mutex::new(entry))).clone())
    }

    /// Drops a document from memory so the next use reloads what is on disk: after a
    /// storage failure, the copy in memory may hold changes that were never stored.
    fn evict(&self, id: &DocumentId) {
        self.docs.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Handles a `sync` or `request` from a joined connection. Replies (and messages to other
    /// peers of the document) go to their outboxes.
    pub async fn sync(
        &self,
        session: &Session,
        document_id: &str,
        data: &[u8],
        request: bool,
    ) -> Result<(), RelayError> {
        let Session { connection, member, peer: peer_id, outbox } = session;
        let connection = *connection;
        let id: DocumentId = document_id.parse()?;
        let message = sync::Message::decode(data)
            .map_err(|e| ProtocolError::BadSync { document: id.to_string(), reason: e.to_string() })?;
        // A register the member may not open looks exactly like one that does not exist.
        if !member.may_open(&id) {
            let _ = outbox.send(Message::DocUnavailable {
                document_id: id.to_string(),
                sender_id: self.peer_id.clone(),
                target_id: peer_id.to_string(),
            });
            return Ok(());
        }
        if member.role == Role::Viewer && !message.changes.is_empty() {
            return Err(RelayError::ReadOnly(member.name.clone()));
        }
        let mut guard = loop {
            let guard = self.entry(id).await?.lock_owned().await;
            if !guard.poisoned {
                break guard;
            }
        };
        let e = &mut *guard;
        let peer = e.peers.entry(connection).or_insert_with(|| Peer {
            peer_id: peer_id.to_string(),
            state: sync::State::new(),
            outbox: outbox.clone(),
        });
        let before = e.doc.get_heads();
        // Only a message that carries changes can replace a collection.
        let collections = if message.changes.is_empty() { Vec::new() } else { root_objects(&e.doc) };
        let received = e.doc.sync().receive_sync_message(&mut peer.state, message);
        let after = e.doc.get_heads();
        if received.is_ok()
            && after != before
            && let Some(collection) = replaced_collection(&mut e.doc, &before, &collections)
        {
            tracing::warn!(document = %id, member = %member.name, collection, "refused a change that replaces a collection");
            self.drop_copy(id, guard, connection);
            return Err(RelayError::Replaces(collection));
        }
        if let Err(err) = received {
            let refused = ProtocolError::BadSync { document: id.to_string(), reason: err.to_string() };
            if after != before {
                // Part of the message went in before the error: those changes are not stored,
                // so this copy must not forward them. Drop it, as after a storage failure.
                tracing::warn!(document = %id, error = %err, "a sync message failed part-way; reloading the document");
                self.drop_copy(id, guard, connection);
            }
            return Err(refused.into());
        }
        if after != before {
            let chunk = e.doc.save_after(&before);
            let audit = Audit {
                member: member.name.clone(),
                at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default(),
                changes: e.doc.get_changes(&before).iter().map(|c| c.hash().to_string()).collect(),
            };
            let storage = self.storage.clone();
            let started = std::time::Instant::now();
            let stored = tokio::task::spawn_blocking(move || storage.append(&id, &chunk, &audit))
                .await
                .map_err(|err| StorageError(err.to_string()))
                .and_then(|r| r);
            self.metrics.storage_write_seconds.observe(started.elapsed().as_secs_f64());
            match stored {
                Ok(chunk_id) => {
                    e.stored = true;
                    e.last_chunk = chunk_id;
                    e.chunks_since_snapshot += 1;
                }
                Err(err) => {
                    tracing::error!(document = %id, error = %err, "storing changes failed; nothing acknowledged");
                    self.drop_copy(id, guard, connection);
                    return Err(err.into());
                }
            }
            if e.chunks_since_snapshot >= COMPACT_AFTER {
                self.compact(id, e).await;
            }
        }
        if request && !e.stored && e.doc.get_heads().is_empty() {
            e.peers.remove(&connection);
            let _ = outbox.send(Message::DocUnavailable {
                document_id: id.to_string(),
                sender_id: self.peer_id.clone(),
                target_id: peer_id.to_string(),
            });
            return Ok(());
        }
        // Everyone syncing this document hears what is new, the sender included.
        for peer in e.peers.values_mut() {
            if let Some(reply) = e.doc.sync().generate_sync_message(&mut peer.state) {
                let _ = peer.outbox.send(Message::Sync {
                    document_id: id.to_string(),
                    sender_id: self.peer_id.clone(),
                    target_id: peer.peer_id.clone(),
                    data: reply.encode(),
                });
            }
        }
        Ok(())
    }

    /// Gives up the copy in memory, which may hold changes that are not stored: nobody may use
    /// it again, the other peers of the document are told to reconnect (their sync states
    /// describe a copy that is gone) and the next use reloads what is on disk.
    fn drop_copy(&self, id: DocumentId, mut guard: tokio::sync::OwnedMutexGuard<Entry>, connection: ConnectionId) {
        guard.poisoned = true;
        for (other, peer) in guard.peers.drain() {
            if other != connection {
                let _ =
                    peer.outbox.send(Message::error("the relay must reload this document from its storage; reconnect"));
            }
        }
        drop(guard);
        self.evict(&id);
    }

    /// Passes an `ephemeral` message (presence, cursors: never stored) to every other peer
    /// syncing the same document, as an automerge-repo peer would rebroadcast it. Nothing is
    /// loaded for it and nothing is said when the member may not open the document or nobody
    /// else is there: ephemeral messages are best-effort by design.
    pub fn ephemeral(&self, session: &Session, message: Message) -> Result<(), RelayError> {
        let (connection, member) = (session.connection, &session.member);
        let Message::Ephemeral { sender_id, count, session_id, document_id, data, .. } = message else {
            return Err(ProtocolError::Unexpected(format!("{} is not an ephemeral message", message.kind())).into());
        };
        let id: DocumentId = document_id.parse()?;
        if !member.may_open(&id) {
            return Ok(());
        }
        let Some(entry) = self.docs.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned() else {
            return Ok(());
        };
        // Presence must not wait behind a storage write: skip it if the document is busy.
        let Ok(e) = entry.try_lock() else { return Ok(()) };
        if !e.peers.contains_key(&connection) {
            return Ok(());
        }
        for (other, peer) in &e.peers {
            if *other != connection {
                let _ = peer.outbox.send(Message::Ephemeral {
                    sender_id: sender_id.clone(),
                    target_id: peer.peer_id.clone(),
                    count,
                    session_id: session_id.clone(),
                    document_id: document_id.clone(),
                    data: data.clone(),
                });
            }
        }
        Ok(())
    }

    /// Folds the chunks into a snapshot. A failure here loses nothing (the chunks stay), so
    /// it is logged and the relay carries on.
    async fn compact(&self, id: DocumentId, e: &mut Entry) {
        // Changes waiting for ones that were in an unreadable part are in no snapshot: their
        // chunks stay until a browser brings what they build on.
        if !e.doc.get_missing_deps(&[]).is_empty() {
            return;
        }
        let snapshot = e.doc.save();
        let through = e.last_chunk;
        let storage = self.storage.clone();
        match tokio::task::spawn_blocking(move || storage.compact(&id, &snapshot, through)).await {
            Ok(Ok(())) => e.chunks_since_snapshot = 0,
            Ok(Err(err)) => tracing::warn!(document = %id, error = %err, "compaction failed; chunks kept"),
            Err(err) => tracing::warn!(document = %id, error = %err, "compaction did not run; chunks kept"),
        }
    }

    /// Forgets a closed connection's sync state in every document it touched.
    pub async fn disconnect(&self, connection: ConnectionId, documents: impl IntoIterator<Item = DocumentId>) {
        for id in documents {
            let entry = self.docs.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
            if let Some(entry) = entry {
                entry.lock().await.peers.remove(&connection);
            }
        }
    }

    /// `Ok` when every stored part of every register could be read; otherwise how many were
    /// kept aside, for `/healthz` to report the relay degraded.
    pub async fn health(&self) -> Result<(), String> {
        let storage = self.storage.clone();
        match tokio::task::spawn_blocking(move || storage.quarantined()).await {
            Ok(Ok(0)) => Ok(()),
            Ok(Ok(n)) => Err(format!(
                "{n} stored part(s) of registers could not be read and are kept aside in the quarantine table; browsers holding those changes restore them by syncing"
            )),
            Ok(Err(e)) => Err(format!("storage cannot be read: {e}")),
            Err(e) => Err(format!("storage check did not run: {e}")),
        }
    }

    /// Who first sent each of these changes to one register, and when, from the audit.
    pub async fn uploads(&self, id: DocumentId, changes: Vec<String>) -> Result<Vec<AuditRow>, StorageError> {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || storage.uploads(&id, &changes))
            .await
            .map_err(|e| StorageError(e.to_string()))?
    }

    /// Number of documents held in memory, for `/metrics`.
    pub fn documents_in_memory(&self) -> usize {
        self.docs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Memory;
    use automerge::transaction::Transactable;
    use std::sync::atomic::Ordering;

    fn editor(id: DocumentId) -> Member {
        Member { id: 1, name: "Amara".into(), role: Role::Editor, registers: vec![id], revoked: false, epoch: 0 }
    }

    /// A sync message carrying one change: a peer sends its heads, the relay side answers
    /// with what it has, and the peer's next message holds the change.
    fn message_with_a_change() -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "name", "Register").unwrap();
        let (mut state, mut other, mut other_state) = (sync::State::new(), AutoCommit::new(), sync::State::new());
        let heads = doc.sync().generate_sync_message(&mut state).unwrap();
        other.sync().receive_sync_message(&mut other_state, heads).unwrap();
        let answer = other.sync().generate_sync_message(&mut other_state).unwrap();
        doc.sync().receive_sync_message(&mut state, answer).unwrap();
        let with_changes = doc.sync().generate_sync_message(&mut state).unwrap();
        assert!(!with_changes.changes.is_empty());
        with_changes.encode()
    }

    #[tokio::test]
    async fn a_storage_failure_is_reported_and_nothing_is_acknowledged() {
        let storage = Arc::new(Memory::default());
        storage.fail_writes.store(true, Ordering::SeqCst);
        let relay = Relay::new(storage.clone(), "relay".into());
        let id = DocumentId([5; 16]);
        let (outbox, mut sent) = mpsc::unbounded_channel();
        let data = message_with_a_change();
        let session =
            |connection| Session { connection, member: editor(id), peer: "peer".into(), outbox: outbox.clone() };

        let err = relay.sync(&session(1), &id.to_string(), &data, false).await.unwrap_err();
        assert!(err.to_string().contains("disk is full"), "{err}");
        assert!(sent.try_recv().is_err(), "no sync reply: nothing was acknowledged");
        assert_eq!(storage.load(&id).unwrap(), None);
        assert_eq!(relay.documents_in_memory(), 0, "the copy holding unstored changes is gone");

        // Once the disk works again the same changes are taken and acknowledged.
        storage.fail_writes.store(false, Ordering::SeqCst);
        relay.sync(&session(2), &id.to_string(), &data, false).await.unwrap();
        assert!(matches!(sent.try_recv().unwrap(), Message::Sync { .. }));
        assert_eq!(storage.load(&id).unwrap().unwrap().chunks.len(), 1);
        assert_eq!(storage.audit().unwrap().len(), 1);
    }

    /// A sync message carrying exactly `changes` (the bytes of change chunks, one after another).
    fn message_carrying(changes: Vec<u8>) -> Vec<u8> {
        sync::Message {
            heads: Vec::new(),
            need: Vec::new(),
            have: Vec::new(),
            changes: vec![changes].into(),
            flags: None,
            version: sync::MessageVersion::V1,
        }
        .encode()
    }

    #[tokio::test]
    async fn a_message_that_fails_part_way_leaves_nothing_unstored_to_forward() {
        let storage = Arc::new(Memory::default());
        let relay = Relay::new(storage.clone(), "relay".into());
        let id = DocumentId([6; 16]);
        let (outbox, mut sent) = mpsc::unbounded_channel();
        let session =
            |connection| Session { connection, member: editor(id), peer: "peer".into(), outbox: outbox.clone() };
        let mut doc = AutoCommit::new();
        doc.set_actor(automerge::ActorId::from(&[1u8; 16][..]));
        doc.put(automerge::ROOT, "name", "Register").unwrap();
        let first = doc.save();
        relay.sync(&session(1), &id.to_string(), &message_carrying(first.clone()), false).await.unwrap();
        while sent.try_recv().is_ok() {}

        // A good change followed by junk: what could be read went in, and it is on disk
        // before anyone is told of it.
        let heads = doc.get_heads();
        doc.put(automerge::ROOT, "owner", "Amara").unwrap();
        let mut good_then_junk = doc.save_after(&heads);
        good_then_junk.extend_from_slice(b"\x85\x6f\x4a\x83junk");
        relay.sync(&session(1), &id.to_string(), &message_carrying(good_then_junk), false).await.unwrap();
        let stored = storage.load(&id).unwrap().unwrap();
        let mut on_disk = AutoCommit::new();
        for (_, chunk) in &stored.chunks {
            on_disk.load_incremental(chunk).unwrap();
        }
        assert_eq!(on_disk.get_heads(), doc.get_heads(), "everything the relay holds is stored");

        // The same actor and sequence number with other contents: refused whole, nothing
        // stored, nothing forwarded, and the relay still works afterwards.
        let mut forged = AutoCommit::load(&first).unwrap();
        forged.set_actor(automerge::ActorId::from(&[1u8; 16][..]));
        let base = forged.get_heads();
        forged.put(automerge::ROOT, "owner", "Mallory").unwrap();
        let chunks_before = storage.load(&id).unwrap().unwrap().chunks.len();
        while sent.try_recv().is_ok() {}
        let err = relay.sync(&session(1), &id.to_string(), &message_carrying(forged.save_after(&base)), false).await;
        assert!(err.is_err(), "a forged change is refused");
        assert_eq!(storage.load(&id).unwrap().unwrap().chunks.len(), chunks_before);
        assert!(sent.try_recv().is_err(), "nothing was forwarded");
        relay.sync(&session(2), &id.to_string(), &message_with_a_change(), false).await.unwrap();
    }
}
