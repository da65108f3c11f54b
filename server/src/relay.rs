//! The sync relay: each register held in memory is run by one task of its own (its actor),
//! backed by `Storage`. The protocol itself lives in `shared::protocol`; this module adds the
//! durability rule: changes a peer sends are stored before anything is sent that shows the
//! relay has them, and a storage failure is reported and acknowledged to nobody.
//!
//! Under load the messages that arrive for a register while its last write is in flight are
//! taken together (a batch): their changes become one chunk, the chunks of every register
//! with a batch ready go to storage in one transaction (`Committer`, a group commit), and
//! each peer of a register is sent one sync message per batch, not one per incoming message.
//! A register with no peers for `Options::idle` is dropped from memory and loaded again when
//! next asked for.
//! The relay never looks inside a record: it holds and forwards Automerge changes, and reads
//! only the keys of a document's root, to refuse a change that would replace a collection.

use crate::members::{Member, Role};
use crate::metrics::Metrics;
pub use crate::outbox::Outbox;
use crate::storage::{Append, Audit, AuditRow, Compacted, Part, Storage, StorageError, Stored};
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use shared::doc::load_strictly;
use shared::protocol::{DocumentId, Message, ProtocolError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Chunks appended before the relay folds them into a new snapshot.
const COMPACT_AFTER: usize = 64;
/// Messages of one register taken into one batch at most, so one busy register cannot hold
/// its peers' answers back for long.
const MAX_BATCH: usize = 256;

/// A connection's id within this relay process.
pub type ConnectionId = u64;

/// Why a message could not be handled; the connection gets `error` and is closed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("{0}; the changes were not accepted")]
    Storage(String),
    #[error("{0} may read this register but not change it")]
    ReadOnly(String),
    #[error(
        "the changes sent would replace the register's {0}, hiding everything in it from every member; nothing was accepted"
    )]
    Replaces(String),
}

impl From<StorageError> for RelayError {
    fn from(e: StorageError) -> Self {
        RelayError::Storage(e.to_string())
    }
}

/// The keys of the document root that hold an object (the collections and the actors map).
fn root_objects(doc: &AutoCommit) -> Vec<String> {
    use automerge::ReadDoc;
    doc.map_range(automerge::ROOT, ..)
        .filter(|item| matches!(item.value, automerge::ValueRef::Object(_)))
        .map(|item| item.key.to_string())
        .collect()
}

/// The first of `collections` that `changes` overwrite or delete at the root. An editor's
/// app never does this (it makes a collection only where none exists), and one that did
/// would hide every record in it from everyone: the relay looks at the root's keys only,
/// never inside a record.
fn replaced_collection(changes: &[automerge::Change], collections: &[String]) -> Option<String> {
    use automerge::legacy::{Key, ObjectId, OpType};
    for change in changes {
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
#[derive(Clone)]
pub struct Session {
    pub connection: ConnectionId,
    pub member: Member,
    /// The peer id the connection joined with.
    pub peer: String,
    pub outbox: Outbox,
}

/// How the relay runs registers.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How long a register with no peers stays in memory.
    pub idle: Duration,
    /// How long a register gathers messages into a batch after the first arrives, beyond
    /// what queued while the last write was in flight (the batching that matters under load).
    /// A short window still takes in a burst (every peer's answer to one broadcast) as one;
    /// a quiet register pays it once per edit. 1 ms measured best: docs/BENCHMARKS.md.
    pub gather: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { idle: Duration::from_secs(60), gather: Duration::from_millis(1) }
    }
}

/// What a register's actor is asked to do. Commands live briefly in a queue; their size
/// does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    Sync {
        session: Session,
        message: sync::Message,
        request: bool,
        done: oneshot::Sender<Result<(), RelayError>>,
    },
    Disconnect(ConnectionId),
    /// Another relay sharing the database stored this chunk of the register.
    Stored(i64),
    /// Notices from the other relays may have been missed: load what is stored again.
    Reload,
}

/// The peers of a register as the connections see them: for ephemeral messages, which are
/// passed on at once and never wait behind the register's writes.
type Peers = Arc<Mutex<HashMap<ConnectionId, (String, Outbox)>>>;

/// A register held in memory: how to reach its actor.
struct Handle {
    commands: mpsc::UnboundedSender<Command>,
    peers: Peers,
}

/// One chunk waiting for the group commit, and who to tell when it is on disk.
struct Job {
    append: Append,
    done: oneshot::Sender<Result<i64, StorageError>>,
}

/// What the register actors share.
struct Shared {
    peer_id: String,
    metrics: Arc<Metrics>,
    storage: Arc<dyn Storage>,
    options: Options,
    /// Every register held in memory. Commands are sent while this is locked, so an actor
    /// that retires (removing itself under the same lock, with nothing queued) loses none.
    registers: Mutex<HashMap<DocumentId, Handle>>,
    commits: mpsc::UnboundedSender<Job>,
}

pub struct Relay {
    pub peer_id: String,
    pub metrics: Arc<Metrics>,
    shared: Arc<Shared>,
}

/// The group commit: takes every chunk waiting, from any register, into one transaction,
/// while the previous one is being written. Runs until the relay is dropped.
async fn committer(storage: Arc<dyn Storage>, metrics: Arc<Metrics>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = jobs.try_recv() {
            batch.push(more);
        }
        let (appends, dones): (Vec<Append>, Vec<_>) = batch.into_iter().map(|j| (j.append, j.done)).unzip();
        let storage = storage.clone();
        let chunks = appends.len();
        let started = Instant::now();
        let written = tokio::task::spawn_blocking(move || storage.append_all(&appends))
            .await
            .map_err(|e| StorageError(e.to_string()))
            .and_then(|r| r);
        metrics.storage_write_seconds.observe(started.elapsed().as_secs_f64());
        metrics.chunks_per_commit.observe(chunks as f64);
        match written {
            Ok(ids) => {
                for (done, id) in dones.into_iter().zip(ids) {
                    // A register that stopped waiting has nobody left to tell.
                    let _ = done.send(Ok(id));
                }
            }
            Err(e) => {
                for done in dones {
                    let _ = done.send(Err(StorageError(e.0.clone())));
                }
            }
        }
    }
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl Relay {
    /// Starts the relay's group commit on the current tokio runtime.
    pub fn new(storage: Arc<dyn Storage>, peer_id: String) -> Relay {
        Relay::with_options(storage, peer_id, Options::default())
    }

    pub fn with_options(storage: Arc<dyn Storage>, peer_id: String, options: Options) -> Relay {
        let metrics = Arc::<Metrics>::default();
        let (commits, jobs) = mpsc::unbounded_channel();
        tokio::spawn(committer(storage.clone(), metrics.clone(), jobs));
        let shared = Arc::new(Shared {
            peer_id: peer_id.clone(),
            metrics: metrics.clone(),
            storage,
            options,
            registers: Mutex::new(HashMap::new()),
            commits,
        });
        Relay { peer_id, metrics, shared }
    }

    /// Handles a `sync` or `request` from a joined connection. Replies (and messages to other
    /// peers of the document) go to their outboxes; this returns once the message's changes
    /// are stored and its register's peers have been sent what is new.
    pub async fn sync(
        &self,
        session: &Session,
        document_id: &str,
        data: &[u8],
        request: bool,
    ) -> Result<(), RelayError> {
        let id: DocumentId = document_id.parse()?;
        let message = sync::Message::decode(data)
            .map_err(|e| ProtocolError::BadSync { document: id.to_string(), reason: e.to_string() })?;
        // A register the member may not open looks exactly like one that does not exist.
        if !session.member.may_open(&id) {
            session.outbox.send(Message::DocUnavailable {
                document_id: id.to_string(),
                sender_id: self.peer_id.clone(),
                target_id: session.peer.clone(),
            });
            return Ok(());
        }
        if session.member.role == Role::Viewer && !message.changes.is_empty() {
            return Err(RelayError::ReadOnly(session.member.name.clone()));
        }
        let (done, answer) = oneshot::channel();
        self.shared.send(id, Command::Sync { session: session.clone(), message, request, done });
        answer.await.unwrap_or_else(|_| Err(RelayError::Storage("the register stopped unexpectedly".into())))
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
        let peers = match self.shared.registers.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            Some(handle) => handle.peers.clone(),
            None => return Ok(()),
        };
        let peers = peers.lock().unwrap_or_else(|e| e.into_inner());
        if !peers.contains_key(&connection) {
            return Ok(());
        }
        for (other, (peer_id, outbox)) in peers.iter() {
            if *other != connection {
                outbox.send(Message::Ephemeral {
                    sender_id: sender_id.clone(),
                    target_id: peer_id.clone(),
                    count,
                    session_id: session_id.clone(),
                    document_id: document_id.clone(),
                    data: data.clone(),
                });
            }
        }
        Ok(())
    }

    /// Forgets a closed connection's sync state in every document it touched.
    pub async fn disconnect(&self, connection: ConnectionId, documents: impl IntoIterator<Item = DocumentId>) {
        let registers = self.shared.registers.lock().unwrap_or_else(|e| e.into_inner());
        for id in documents {
            if let Some(handle) = registers.get(&id) {
                handle.peers.lock().unwrap_or_else(|e| e.into_inner()).remove(&connection);
                // An actor that is gone has forgotten the connection already.
                let _ = handle.commands.send(Command::Disconnect(connection));
            }
        }
    }

    /// `Ok` when every stored part of every register could be read; otherwise how many were
    /// kept aside, for `/healthz` to report the relay degraded.
    pub async fn health(&self) -> Result<(), String> {
        let storage = self.shared.storage.clone();
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
        let storage = self.shared.storage.clone();
        tokio::task::spawn_blocking(move || storage.uploads(&id, &changes))
            .await
            .map_err(|e| StorageError(e.to_string()))?
    }

    /// Follows what other relays sharing the database store (`follow::listen`): each notice
    /// goes to the register's actor if the register is in memory (one loaded later reads
    /// what is stored then anyway).
    pub fn follow(&self, mut notices: mpsc::UnboundedReceiver<crate::follow::Notice>) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            while let Some(notice) = notices.recv().await {
                let registers = shared.registers.lock().unwrap_or_else(|e| e.into_inner());
                match notice {
                    crate::follow::Notice::Stored(id, chunk) => {
                        if let Some(handle) = registers.get(&id) {
                            let _ = handle.commands.send(Command::Stored(chunk));
                        }
                    }
                    crate::follow::Notice::Missed => {
                        for handle in registers.values() {
                            let _ = handle.commands.send(Command::Reload);
                        }
                    }
                }
            }
        });
    }

    /// Number of documents held in memory, for `/metrics`.
    pub fn documents_in_memory(&self) -> usize {
        self.shared.registers.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Shared {
    /// Hands a command to the register's actor, starting one (which loads the register) if
    /// the register is not in memory.
    fn send(self: &Arc<Self>, id: DocumentId, command: Command) {
        let mut registers = self.registers.lock().unwrap_or_else(|e| e.into_inner());
        let handle = registers.entry(id).or_insert_with(|| {
            let (commands, inbox) = mpsc::unbounded_channel();
            let peers = Peers::default();
            tokio::spawn(run(self.clone(), id, inbox, peers.clone()));
            Handle { commands, peers }
        });
        // The actor removes its handle before it stops, under this lock: it is still there.
        let _ = handle.commands.send(command);
    }

    /// Removes the register's handle if nothing is waiting for it; `true` when removed (the
    /// actor then stops, and the next command starts a new one).
    fn retire(&self, id: &DocumentId, inbox: &mpsc::UnboundedReceiver<Command>) -> bool {
        let mut registers = self.registers.lock().unwrap_or_else(|e| e.into_inner());
        if !inbox.is_empty() {
            return false;
        }
        registers.remove(id);
        true
    }
}

struct Peer {
    peer_id: String,
    state: sync::State,
    outbox: Outbox,
}

/// A register in memory, owned by its actor.
struct Register {
    id: DocumentId,
    doc: AutoCommit,
    /// Whether anything has been stored for this document.
    stored: bool,
    chunks_since_snapshot: usize,
    /// The stored chunks the document holds: what a compaction may delete, and which
    /// notices of another relay's chunks are news.
    folded: BTreeSet<i64>,
    /// The version of the stored snapshot the document was built on.
    snapshot_version: i64,
    peers: HashMap<ConnectionId, Peer>,
    /// When compaction may next be tried, and how long to wait after the next failure.
    compaction: (Instant, Duration),
}

/// Loads a register, keeping aside what cannot be read. Blocking: run off the async threads.
fn open(storage: &dyn Storage, metrics: &Metrics, id: DocumentId) -> Result<Register, StorageError> {
    let mut register = Register {
        id,
        doc: AutoCommit::new(),
        stored: false,
        chunks_since_snapshot: 0,
        folded: BTreeSet::new(),
        snapshot_version: 0,
        peers: HashMap::new(),
        compaction: (Instant::now(), Duration::from_secs(1)),
    };
    if let Some(stored) = storage.load(&id)? {
        let unreadable = register.fold(stored);
        quarantine(storage, metrics, id, unreadable);
    }
    Ok(register)
}

impl Register {
    /// Loads what is stored for the register into its document (all of it: what the
    /// document has already is no change) and returns the parts that cannot be read.
    fn fold(&mut self, stored: Stored) -> Vec<(Part, String)> {
        self.stored = true;
        // What can be read is loaded; a part that cannot is kept aside and reported. The
        // changes it held come back from any browser that has them, by syncing.
        let mut unreadable = Vec::new();
        if let Some(snapshot) = &stored.snapshot
            && let Err(e) = load_strictly(&mut self.doc, snapshot)
        {
            unreadable.push((Part::Snapshot, e.to_string()));
        }
        self.snapshot_version = stored.version;
        for (chunk_id, chunk) in &stored.chunks {
            match load_strictly(&mut self.doc, chunk) {
                Ok(()) => {
                    self.folded.insert(*chunk_id);
                }
                Err(e) => unreadable.push((Part::Chunk(*chunk_id), e.to_string())),
            }
        }
        self.chunks_since_snapshot = stored.chunks.len();
        unreadable
    }

    /// Takes in what another relay sharing the database stored: the chunks named (those not
    /// in the document yet), or everything stored when notices may have been missed or a
    /// chunk was compacted away before it was read. `true` when the document changed.
    async fn absorb(&mut self, shared: &Shared, chunks: Vec<i64>, reload: bool) -> bool {
        let news: Vec<i64> = chunks.into_iter().filter(|c| !self.folded.contains(c)).collect();
        if news.is_empty() && !reload {
            return false;
        }
        tracing::debug!(document = %self.id, ?news, reload, "another relay stored changes");
        let before = self.doc.get_heads();
        let (storage, id) = (shared.storage.clone(), self.id);
        let fetched = tokio::task::spawn_blocking(move || -> Result<Fetched, StorageError> {
            if !reload {
                let found = storage.chunks(&id, &news)?;
                // One folded into a snapshot already: read what is stored now instead.
                if found.len() < news.len() {
                    return Ok(Fetched::Everything(storage.load(&id)?));
                }
                return Ok(Fetched::Chunks(found));
            }
            Ok(Fetched::Everything(storage.load(&id)?))
        })
        .await
        .map_err(|e| StorageError(e.to_string()))
        .and_then(|r| r);
        match fetched {
            Ok(Fetched::Chunks(found)) => {
                for (chunk, bytes) in found {
                    match load_strictly(&mut self.doc, &bytes) {
                        Ok(()) => {
                            self.folded.insert(chunk);
                            self.chunks_since_snapshot += 1;
                        }
                        Err(e) => {
                            tracing::error!(document = %id, chunk, error = %e, "another relay stored a chunk that cannot be read")
                        }
                    }
                }
            }
            Ok(Fetched::Everything(Some(stored))) => {
                let unreadable = self.fold(stored);
                if !unreadable.is_empty() {
                    let (storage, metrics) = (shared.storage.clone(), shared.metrics.clone());
                    let _ = tokio::task::spawn_blocking(move || quarantine(&*storage, &metrics, id, unreadable)).await;
                }
            }
            Ok(Fetched::Everything(None)) => {}
            Err(e) => {
                tracing::warn!(document = %id, error = %e, "cannot read what another relay stored; the next notice or reconnect brings it")
            }
        }
        self.doc.get_heads() != before
    }
}

/// Keeps unreadable stored parts aside, reporting each.
fn quarantine(storage: &dyn Storage, metrics: &Metrics, id: DocumentId, unreadable: Vec<(Part, String)>) {
    for (part, reason) in unreadable {
        tracing::error!(document = %id, ?part, %reason, "a stored part of this register cannot be read; kept aside, loading the rest");
        // If it cannot be moved it stays where it is, and is reported again next load.
        if let Err(e) = storage.quarantine(&id, part, &reason) {
            tracing::error!(document = %id, ?part, error = %e, "could not keep the unreadable part aside");
        }
        metrics.unreadable_parts.inc();
    }
}

/// A register's actor: loads it, then handles its commands a batch at a time until it has
/// had no peers for `Options::idle`.
async fn run(shared: Arc<Shared>, id: DocumentId, mut inbox: mpsc::UnboundedReceiver<Command>, peers: Peers) {
    let (storage, metrics) = (shared.storage.clone(), shared.metrics.clone());
    let opened = tokio::task::spawn_blocking(move || open(&*storage, &metrics, id))
        .await
        .map_err(|e| StorageError(e.to_string()))
        .and_then(|r| r);
    let mut register = match opened {
        Ok(register) => register,
        Err(e) => {
            tracing::error!(document = %id, error = %e, "cannot load a register");
            // Everyone waiting is told; the next command tries loading again.
            loop {
                while let Ok(command) = inbox.try_recv() {
                    if let Command::Sync { done, .. } = command {
                        let _ = done.send(Err(RelayError::from(StorageError(e.0.clone()))));
                    }
                }
                if shared.retire(&id, &inbox) {
                    return;
                }
            }
        }
    };
    // Since when nobody has synced the register: notices of other relays' chunks do not
    // keep it in memory.
    let mut idle_since = None;
    loop {
        let first = if register.peers.is_empty() {
            let since = *idle_since.get_or_insert_with(tokio::time::Instant::now);
            match tokio::time::timeout_at(since + shared.options.idle, inbox.recv()).await {
                Ok(Some(command)) => command,
                Ok(None) => return,
                Err(_) if shared.retire(&id, &inbox) => {
                    tracing::debug!(document = %id, "dropped an idle register from memory");
                    return;
                }
                Err(_) => continue,
            }
        } else {
            idle_since = None;
            match inbox.recv().await {
                Some(command) => command,
                None => return,
            }
        };
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + shared.options.gather;
        while batch.len() < MAX_BATCH {
            if let Ok(more) = inbox.try_recv() {
                batch.push(more);
                continue;
            }
            match tokio::time::timeout_at(until, inbox.recv()).await {
                Ok(Some(more)) => batch.push(more),
                _ => break,
            }
        }
        register.handle(&shared, batch, &peers).await;
        if register.compact_if_due(&shared).await {
            register.tell_peers(&shared, None);
        }
    }
}

/// What `Register::absorb` read of another relay's writes.
enum Fetched {
    /// The chunks named, by id.
    Chunks(Vec<(i64, Vec<u8>)>),
    /// All that is stored for the register.
    Everything(Option<Stored>),
}

/// A sync message of the batch that went in: who to answer once the batch is stored.
struct Waiting {
    connection: ConnectionId,
    peer: String,
    outbox: Outbox,
    request: bool,
    done: oneshot::Sender<Result<(), RelayError>>,
}

impl Register {
    /// Takes a batch of commands: every message's changes into the document (refusing any
    /// that would replace a collection, or fail part-way, without the rest of the batch),
    /// the new changes stored as one chunk, then each peer sent one sync message.
    async fn handle(&mut self, shared: &Shared, batch: Vec<Command>, peers: &Peers) {
        let (mut moved, mut reload) = (Vec::new(), false);
        let batch: Vec<Command> = batch
            .into_iter()
            .filter(|command| match command {
                Command::Stored(chunk) => {
                    moved.push(*chunk);
                    false
                }
                Command::Reload => {
                    reload = true;
                    false
                }
                _ => true,
            })
            .collect();
        // Another relay's changes are on disk already: they go to this relay's peers with
        // the batch, and are not stored again.
        let absorbed = self.absorb(shared, moved, reload).await;
        let before = self.doc.get_heads();
        let mut waiting = Vec::new();
        let mut audits: Vec<Audit> = Vec::new();
        for command in batch {
            let (session, message, request, done) = match command {
                Command::Disconnect(connection) => {
                    self.peers.remove(&connection);
                    continue;
                }
                Command::Sync { session, message, request, done } => (session, message, request, done),
                Command::Stored(_) | Command::Reload => continue,
            };
            let connection = session.connection;
            peers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(connection, (session.peer.clone(), session.outbox.clone()));
            let peer = self.peers.entry(connection).or_insert_with(|| Peer {
                peer_id: session.peer.clone(),
                state: sync::State::new(),
                outbox: session.outbox.clone(),
            });
            let pre = self.doc.get_heads();
            // Only a message that carries changes can replace a collection.
            let collections = if message.changes.is_empty() { Vec::new() } else { root_objects(&self.doc) };
            let received = self.doc.sync().receive_sync_message(&mut peer.state, message);
            let post = self.doc.get_heads();
            let new = if post != pre { self.doc.get_changes(&pre) } else { Vec::new() };
            let refused = match received {
                Err(err) => Some(RelayError::from(ProtocolError::BadSync { document: self.id.to_string(), reason: err.to_string() })),
                Ok(()) if post != pre => replaced_collection(&new, &collections).map(|collection| {
                    tracing::warn!(document = %self.id, member = %session.member.name, collection, "refused a change that replaces a collection");
                    RelayError::Replaces(collection)
                }),
                Ok(()) => None,
            };
            if let Some(refused) = refused {
                if post != pre {
                    // Part of the message went in: take it out again, so that nothing of a
                    // refused message is stored or forwarded.
                    self.rewind(&pre);
                }
                self.peers.remove(&connection);
                peers.lock().unwrap_or_else(|e| e.into_inner()).remove(&connection);
                let _ = done.send(Err(refused));
                continue;
            }
            if post != pre {
                let changes = new.iter().map(|c| c.hash().to_string()).collect();
                audits.push(Audit { member: session.member.name.clone(), at: now_seconds(), changes });
            }
            waiting.push(Waiting { connection, peer: session.peer, outbox: session.outbox, request, done });
        }
        let changed = self.doc.get_heads() != before;
        if changed {
            let chunk = self.doc.save_after(&before);
            let (done, stored) = oneshot::channel();
            let job = Job { append: Append { doc: self.id, chunk, audits }, done };
            let written = match shared.commits.send(job) {
                Ok(()) => stored.await.unwrap_or_else(|_| Err(StorageError("the storage writer stopped".into()))),
                Err(_) => Err(StorageError("the storage writer stopped".into())),
            };
            match written {
                Ok(chunk_id) => {
                    self.stored = true;
                    self.folded.insert(chunk_id);
                    self.chunks_since_snapshot += 1;
                }
                Err(err) => {
                    tracing::error!(document = %self.id, error = %err, "storing changes failed; nothing acknowledged");
                    // The document goes back to what is on disk. Every peer's sync state
                    // describes the copy that is gone: each is told to reconnect.
                    self.rewind(&before);
                    let senders: Vec<ConnectionId> = waiting.iter().map(|w| w.connection).collect();
                    for waiting in waiting {
                        let _ = waiting.done.send(Err(RelayError::from(StorageError(err.0.clone()))));
                    }
                    for (connection, peer) in self.peers.drain() {
                        // The senders hear it as the answer to their message.
                        if !senders.contains(&connection) {
                            peer.outbox.send(Message::error("the relay could not store the latest changes; reconnect"));
                        }
                        peers.lock().unwrap_or_else(|e| e.into_inner()).remove(&connection);
                    }
                    return;
                }
            }
        }
        for w in &waiting {
            if w.request && !self.stored && self.doc.get_heads().is_empty() {
                self.peers.remove(&w.connection);
                peers.lock().unwrap_or_else(|e| e.into_inner()).remove(&w.connection);
                w.outbox.send(Message::DocUnavailable {
                    document_id: self.id.to_string(),
                    sender_id: shared.peer_id.clone(),
                    target_id: w.peer.clone(),
                });
            }
        }
        // Everyone syncing this document hears what is new, the senders included: once per
        // batch, however many messages it held. A batch that brought nothing new is answered
        // to its senders only (a peer acknowledging what it was sent needs no reply from the
        // others' states), so acknowledgements do not cost a round of every peer.
        let senders: Vec<ConnectionId> = waiting.iter().map(|w| w.connection).collect();
        self.tell_peers(shared, (!changed && !absorbed).then_some(&senders));
        for w in waiting {
            let _ = w.done.send(Ok(()));
        }
    }

    /// Sends each peer (or only those in `only`) what it has not seen yet.
    fn tell_peers(&mut self, shared: &Shared, only: Option<&[ConnectionId]>) {
        for (connection, peer) in self.peers.iter_mut() {
            if only.is_some_and(|only| !only.contains(connection)) {
                continue;
            }
            if let Some(reply) = self.doc.sync().generate_sync_message(&mut peer.state) {
                peer.outbox.send(Message::Sync {
                    document_id: self.id.to_string(),
                    sender_id: shared.peer_id.clone(),
                    target_id: peer.peer_id.clone(),
                    data: reply.encode(),
                });
            }
        }
    }

    /// Puts the document back to `heads`, all of which are stored: the changes after them
    /// were never stored nor forwarded.
    fn rewind(&mut self, heads: &[automerge::ChangeHash]) {
        match self.doc.fork_at(heads) {
            Ok(doc) => self.doc = doc,
            // Heads the document itself just reported are always there; if not, start over
            // from storage by forgetting everything (the peers resync).
            Err(e) => {
                tracing::error!(document = %self.id, error = %e, "cannot rewind the register; dropping its peers");
                self.peers.clear();
            }
        }
    }

    /// Folds the chunks into a snapshot once enough have piled up. The snapshot is made off
    /// the async threads; a failure loses nothing (the chunks stay) and is tried again after
    /// a wait that doubles each time, not on every write. Only the chunks the document holds
    /// are deleted, and only if no other relay sharing the database compacted meanwhile (if
    /// one did, its snapshot is folded in first); so a chunk another relay stored and this
    /// one has not read yet is never lost. `true` when the document changed (another relay's
    /// snapshot brought changes the peers should hear).
    async fn compact_if_due(&mut self, shared: &Shared) -> bool {
        if self.chunks_since_snapshot < COMPACT_AFTER || Instant::now() < self.compaction.0 {
            return false;
        }
        // Changes waiting for ones that were in an unreadable part are in no snapshot: their
        // chunks stay until a browser brings what they build on.
        if !self.doc.get_missing_deps(&[]).is_empty() {
            return false;
        }
        let mut changed = false;
        // Twice at most: a second try follows folding in another relay's newer snapshot.
        for _ in 0..2 {
            let mut doc = std::mem::take(&mut self.doc);
            let (id, version, storage) = (self.id, self.snapshot_version, shared.storage.clone());
            let folded: Vec<i64> = self.folded.iter().copied().collect();
            let done = tokio::task::spawn_blocking(move || {
                let snapshot = doc.save();
                let result = storage.compact(&id, &snapshot, version, &folded);
                (doc, result)
            })
            .await;
            let result = match done {
                Ok((doc, result)) => {
                    self.doc = doc;
                    result
                }
                Err(e) => {
                    // The document went with the task that panicked: load it again.
                    match open(&*shared.storage, &shared.metrics, id) {
                        Ok(fresh) => {
                            self.doc = fresh.doc;
                            self.folded = fresh.folded;
                            self.snapshot_version = fresh.snapshot_version;
                        }
                        Err(e) => tracing::error!(document = %id, error = %e, "cannot reload a register"),
                    }
                    self.peers.clear();
                    Err(StorageError(e.to_string()))
                }
            };
            match result {
                Ok(Compacted::Done(version)) => {
                    self.snapshot_version = version;
                    self.folded.clear();
                    self.chunks_since_snapshot = 0;
                    self.compaction = (Instant::now(), Duration::from_secs(1));
                    return changed;
                }
                Ok(Compacted::Moved) => {
                    tracing::debug!(document = %id, "another relay compacted this register; folding its snapshot in");
                    changed |= self.absorb(shared, Vec::new(), true).await;
                }
                Err(err) => {
                    let wait = self.compaction.1;
                    tracing::warn!(document = %id, error = %err, retry_in = ?wait, "compaction failed; chunks kept");
                    self.compaction = (Instant::now() + wait, (wait * 2).min(Duration::from_secs(600)));
                    return changed;
                }
            }
        }
        changed
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
        let (outbox, mut sent) = crate::outbox::outbox(Default::default());
        let data = message_with_a_change();
        let session =
            |connection| Session { connection, member: editor(id), peer: "peer".into(), outbox: outbox.clone() };

        let err = relay.sync(&session(1), &id.to_string(), &data, false).await.unwrap_err();
        assert!(err.to_string().contains("disk is full"), "{err}");
        assert!(sent.try_recv().is_none(), "no sync reply: nothing was acknowledged");
        assert_eq!(storage.load(&id).unwrap(), None);
        // The copy in memory went back to what is on disk: the same changes sent again are
        // new to it, so they are stored this time.

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
        let (outbox, mut sent) = crate::outbox::outbox(Default::default());
        let session =
            |connection| Session { connection, member: editor(id), peer: "peer".into(), outbox: outbox.clone() };
        let mut doc = AutoCommit::new();
        doc.set_actor(automerge::ActorId::from(&[1u8; 16][..]));
        doc.put(automerge::ROOT, "name", "Register").unwrap();
        let first = doc.save();
        relay.sync(&session(1), &id.to_string(), &message_carrying(first.clone()), false).await.unwrap();
        while sent.try_recv().is_some() {}

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
        while sent.try_recv().is_some() {}
        let err = relay.sync(&session(1), &id.to_string(), &message_carrying(forged.save_after(&base)), false).await;
        assert!(err.is_err(), "a forged change is refused");
        assert_eq!(storage.load(&id).unwrap().unwrap().chunks.len(), chunks_before);
        assert!(sent.try_recv().is_none(), "nothing was forwarded");
        relay.sync(&session(2), &id.to_string(), &message_with_a_change(), false).await.unwrap();
    }

    #[tokio::test]
    async fn messages_that_arrive_while_a_write_is_in_flight_share_the_next_transaction() {
        let storage = Arc::new(Memory::default());
        *storage.write_delay.lock().unwrap() = std::time::Duration::from_millis(300);
        let relay = Arc::new(Relay::new(storage.clone(), "relay".into()));
        let (a, b, c) = (DocumentId([7; 16]), DocumentId([8; 16]), DocumentId([9; 16]));
        let member = Member { registers: vec![a, b, c], ..editor(a) };
        let mut replies = Vec::new();
        let mut tasks = Vec::new();
        for (connection, id) in [(1, c), (2, a), (3, a), (4, b), (5, b)] {
            let (outbox, sent) = crate::outbox::outbox(Default::default());
            replies.push(sent);
            let session = Session { connection, member: member.clone(), peer: format!("peer-{connection}"), outbox };
            let relay = relay.clone();
            tasks.push(tokio::spawn(async move {
                relay.sync(&session, &id.to_string(), &message_with_a_change(), false).await
            }));
            if connection == 1 {
                // The first write is in flight before the others arrive.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                assert!(storage.load(&c).unwrap().is_none(), "not stored yet");
                assert!(replies[0].try_recv().is_none(), "nothing is answered before the change is on disk");
            }
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(
            storage.transactions.load(Ordering::SeqCst),
            2,
            "the first message alone, then the four that came while it was written, from two registers, in one"
        );
        assert_eq!(storage.audit().unwrap().len(), 5, "every change is in the audit");
        for id in [a, b] {
            assert_eq!(storage.load(&id).unwrap().unwrap().chunks.len(), 1, "one chunk per register per transaction");
        }
        for mut sent in replies {
            assert!(matches!(sent.try_recv(), Some(Message::Sync { .. })), "each peer hears once it is stored");
        }
    }

    /// Two relays sharing one storage (as two processes share PostgreSQL, without the
    /// notices): one compacts while the other has stored a chunk the first never read; that
    /// chunk survives, and the second's later compaction folds in the first's snapshot
    /// instead of overwriting it.
    #[tokio::test]
    async fn compaction_keeps_what_another_relay_stored_and_never_overwrites_its_snapshot() {
        let storage = Arc::new(Memory::default());
        let (one, two) = (Relay::new(storage.clone(), "one".into()), Relay::new(storage.clone(), "two".into()));
        let id = DocumentId([5; 16]);
        let session = |connection| {
            let (outbox, sent) = crate::outbox::outbox(Default::default());
            (Session { connection, member: editor(id), peer: format!("peer-{connection}"), outbox }, sent)
        };
        let ((on_one, _one_sent), (on_two, _two_sent)) = (session(1), session(2));
        let send = |doc: &mut AutoCommit| message_carrying(doc.get_last_local_change().unwrap().raw_bytes().to_vec());
        let mut first = AutoCommit::new();
        first.put(automerge::ROOT, "name", "Register").unwrap();
        one.sync(&on_one, &id.to_string(), &send(&mut first), false).await.unwrap();
        // The second relay stores a change the first never hears of.
        let mut second = first.fork();
        second.put(automerge::ROOT, "from-two", 0).unwrap();
        two.sync(&on_two, &id.to_string(), &send(&mut second), false).await.unwrap();
        let unseen = storage.load(&id).unwrap().unwrap().chunks.last().unwrap().0;
        for n in 0..COMPACT_AFTER as i64 + 2 {
            first.put(automerge::ROOT, format!("one-{n}"), n).unwrap();
            one.sync(&on_one, &id.to_string(), &send(&mut first), false).await.unwrap();
        }
        let stored = storage.load(&id).unwrap().unwrap();
        assert_eq!(stored.version, 1, "the first relay compacted");
        assert!(stored.chunks.iter().any(|(c, _)| *c == unseen), "the chunk it never read is kept");
        // The second relay compacts in its turn, on top of a snapshot it did not make.
        for n in 0..COMPACT_AFTER as i64 {
            second.put(automerge::ROOT, format!("two-{n}"), n).unwrap();
            two.sync(&on_two, &id.to_string(), &send(&mut second), false).await.unwrap();
        }
        let stored = storage.load(&id).unwrap().unwrap();
        assert_eq!(stored.version, 2, "the second relay compacted after folding the first's snapshot in");
        let mut all = AutoCommit::new();
        for part in stored.snapshot.iter().chain(stored.chunks.iter().map(|(_, b)| b)) {
            load_strictly(&mut all, part).unwrap();
        }
        use automerge::ReadDoc;
        for key in ["from-two", "one-0", "one-65", "two-0", "two-63"] {
            assert!(all.get(automerge::ROOT, key).unwrap().is_some(), "{key} survived both compactions");
        }
    }
}
