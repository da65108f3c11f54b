//! One device's copy of a register, without any IO (the `protocol::peer` pattern): the
//! document, what local storage holds, what the relay has confirmed and the other tabs'
//! chunks folded in. Events go in (an edit, a write that finished, another tab's chunk, a
//! message from the relay, a timer) and effects come out (write these bytes, send this,
//! show this patch); the browser's register worker and the native test client are thin
//! shells that carry the effects out and feed the results back.

use crate::Id;
pub use crate::date::Now;
use crate::doc::{Changed, Conflict, DocError, HistoryEntry, RegisterDoc};
use crate::edit::{Edit, RegisterPatch};
use crate::model::{ForKind, Kind, Record, Register};
use crate::protocol::{ClientConnection, DocumentId, Incoming, decode, encode};
use crate::{Date, Invalid};
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

/// Chunks in storage before this replica folds the ones it wrote or read into one snapshot,
/// once storage has been quiet for `COMPACT_QUIET_MS`: a snapshot of a large register takes
/// hundreds of milliseconds to build, which an edit arriving then would wait for.
pub const COMPACT_AFTER: usize = 64;
/// How long no write may have happened before the chunks are folded into a snapshot.
pub const COMPACT_QUIET_MS: u32 = 2_000;
/// Chunks after which the fold happens with the next write even if storage is never quiet
/// (a tab that is edited or synced without pause must still keep its storage small).
pub const COMPACT_AT_THE_LATEST: usize = 4 * COMPACT_AFTER;
/// How long after a failed write to storage the write is tried again.
pub const RETRY_SAVE_MS: u32 = 3_000;
/// Longest wait between two attempts to reach the relay, in seconds.
pub const MAX_BACKOFF_S: u32 = 30;

/// A chunk's key in local storage; keys only grow (IndexedDB's auto-increment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChunkKey(pub u64);

/// One stored piece of the register: a whole-document snapshot or the changes of some edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub key: ChunkKey,
    pub bytes: Vec<u8>,
}

/// The register as read at some heads, kept in storage beside the chunks so that opening can
/// show it before the document is loaded and hydrated (seconds at 10,000 records). It is only
/// a cache: the document is read anyway, and whatever changed since `heads` corrects it.
#[derive(Serialize, Deserialize)]
struct View<R> {
    heads: Vec<[u8; 32]>,
    register: R,
}

/// Why local storage did not do what was asked, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StorageError {
    /// The browser's storage quota is used up; `what` is what could not be done.
    #[error(
        "Could not {what}: this browser's storage for the register is full. Your edits are kept in this tab and saved as soon as there is room; free some space or close the tab only once it says saved."
    )]
    Full { what: String },
    #[error("Could not {what} in this browser's storage: {detail}")]
    Failed { what: String, detail: String },
    /// Storage could not be opened at all: edits live only in memory.
    #[error("{0}. Edits are kept only while this tab stays open.")]
    Unavailable(Box<StorageError>),
}

/// Where the copy on this device stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Saved {
    /// Reading the register from storage.
    Loading,
    /// Every edit is in storage, the last at this time.
    Saved(Option<i64>),
    /// A write is under way.
    Saving,
    /// The last write failed; the edits are still in memory and the write is tried again.
    Failed(StorageError),
}

/// What the interface says about the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    /// No relay configured: the register lives on this device only.
    Local,
    Connecting,
    Connected,
    /// The relay cannot be reached; the next attempt is this many seconds after the last.
    Offline {
        retry_in: u32,
    },
    /// The relay ended the connection for a passing reason (it could not store a change,
    /// say); the next attempt is this many seconds after the last.
    Interrupted {
        reason: String,
        retry_in: u32,
    },
    /// The relay turned this device away; retrying would not help.
    Refused(String),
    /// The relay has no such register for this member.
    Unavailable,
}

impl SyncStatus {
    pub fn describe(&self) -> String {
        match self {
            SyncStatus::Local => "Working in this browser only: no server to share with".into(),
            SyncStatus::Connecting => "Connecting to the server…".into(),
            SyncStatus::Connected => "Connected".into(),
            SyncStatus::Offline { retry_in } => format!("Offline: retrying in {retry_in} s"),
            SyncStatus::Interrupted { reason, retry_in } => {
                format!("The server stopped this connection ({reason}): retrying in {retry_in} s")
            }
            SyncStatus::Refused(reason) => format!("The server refused this browser: {reason}"),
            SyncStatus::Unavailable => "The server does not have this register, or this invite does not open it".into(),
        }
    }
}

/// The problem on show: why the last thing failed, for the person who tried it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Storage(StorageError),
    /// A stored chunk that cannot be read; the rest of the register was loaded.
    #[error("Part of the register stored in this browser is unreadable: {0}")]
    Unreadable(String),
    #[error("Another tab wrote something this one cannot read: {0}")]
    OtherTab(String),
    #[error("The server sent something unreadable: {0}")]
    Relay(String),
    /// An edit that was not written; says what was wrong.
    #[error("{0}")]
    Refused(String),
    #[error("You can read this register but not change it.")]
    ReadOnly,
    #[error("The register cannot be shown: {0}")]
    Unshowable(String),
    #[error("The sample register could not be built: {0}")]
    Sample(String),
    /// An edit before the register has arrived: it would make the register's collections a
    /// second time, and two sets of collections hide each other's records.
    #[error("The register has not arrived from the server yet: nothing can be changed until it has.")]
    NoRegisterYet,
}

/// Everything the interface shows about this copy besides the register itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub saved: Saved,
    pub sync: SyncStatus,
    /// Changes this device has that the relay has not confirmed.
    pub unsent: usize,
    /// When the relay last sent something.
    pub last_sync: Option<i64>,
    pub problem: Option<Problem>,
    /// No register here and no server to bring one: the person chooses to start an empty
    /// register or to explore the sample (`Event::Start`).
    pub blank: bool,
}

/// Timers a shell sets for the replica (`Effect::After`) and reports when they fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    RetrySave,
    Reconnect,
    /// Storage may have been quiet long enough to fold its chunks into a snapshot.
    Compact,
}

/// Something that happened, for the replica to take in.
#[derive(Debug)]
pub enum Event {
    /// The view stored by `Effect::SaveView`, read before the chunks (`Opened`).
    View(Vec<u8>),
    /// Local storage was opened: every chunk, oldest first; or why it could not be.
    Opened(Result<Vec<Chunk>, StorageError>),
    /// A person's edit.
    Edit(Edit),
    /// The write `Effect::Write { write, .. }` finished.
    Written {
        write: u64,
        result: Result<ChunkKey, StorageError>,
    },
    /// Another tab says it stored this chunk.
    Announced(ChunkKey),
    /// The chunk asked for with `Effect::Read`: none when its tab already folded it away.
    Read {
        key: ChunkKey,
        result: Result<Option<Vec<u8>>, StorageError>,
    },
    /// The connection to the relay is open.
    RelayOpened,
    /// One message from the relay, as it came.
    RelayMessage(Vec<u8>),
    /// The connection to the relay closed (or never opened), with the WebSocket close code
    /// if one came (`protocol::CLOSE_REFUSED`, `CLOSE_RETRY`).
    RelayClosed(Option<u16>),
    /// The relay cannot be used at all (its address is not one); retrying would not help.
    RelayBroken(String),
    /// The network is back: the moment to try the relay, not whenever the backoff ends.
    Online,
    /// Whom this device's edits come from (a person in the register), as the person said.
    Identity(Option<Id>),
    /// The person's choice on a blank device (`Status::blank`): an empty register with the
    /// firm's name, or (`None`) the sample register.
    Start(Option<String>),
    Fired(Timer),
}

/// Something the shell is to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Store `bytes` as a new chunk and, in the same transaction, delete `replaces`; then
    /// report `Event::Written` with the new chunk's key.
    Write {
        write: u64,
        bytes: Vec<u8>,
        replaces: Vec<ChunkKey>,
    },
    /// Tell the other tabs this chunk is stored.
    Announce(ChunkKey),
    /// Store these bytes as the register's view (replacing the last), for `Event::View` at
    /// the next opening.
    SaveView(Vec<u8>),
    /// Read this chunk and report `Event::Read`.
    Read(ChunkKey),
    /// Open a connection to the relay; report `RelayOpened`, then each message, then `RelayClosed`.
    Connect,
    /// Send these bytes to the relay.
    Send(Vec<u8>),
    /// Bring the interface's copy of the register up to date.
    Patch(RegisterPatch),
    Status(Status),
    /// Every edit up to this one (counted from 1 as `Event::Edit`s are written) is in storage.
    Stored {
        through_edit: u64,
    },
    /// Report `Event::Fired(timer)` after this many milliseconds.
    After {
        timer: Timer,
        ms: u32,
    },
}

/// How a replica starts.
#[derive(Clone, Debug)]
pub struct Config {
    pub register: DocumentId,
    /// Whether there is a relay to sync with (the shell knows its address).
    pub relay: bool,
    pub viewer: bool,
    /// This device's peer id on the sync protocol.
    pub peer: String,
    /// Whether a device with no stored copy and no relay starts from the sample register.
    pub sample: bool,
}

/// A write handed to the shell and not yet reported.
struct InFlight {
    write: u64,
    heads: Vec<ChangeHash>,
    compacting: bool,
    through_edit: u64,
}

struct Relay {
    connection: ClientConnection,
    /// A connection is open or being opened.
    socket: bool,
    /// The reason in the relay's last `error` on this connection; whether it is final is
    /// said by the close code that follows.
    error: Option<String>,
    /// Seconds to wait before the next attempt.
    backoff: u32,
}

pub struct Replica {
    config: Config,
    doc: RegisterDoc,
    register: Register,
    /// Storage has been read (or failed to open); edits before that wait in `queued`.
    opened: bool,
    /// The heads of the view shown before opening, if one was.
    view: Option<Vec<ChangeHash>>,
    queued: Vec<(Edit, Now)>,
    /// Storage that opened; without it edits live only in memory.
    storage: bool,
    /// Why storage failed last, shown until a write goes through.
    storage_failure: Option<StorageError>,
    /// Keys of the stored chunks already in `doc`: compaction deletes only these.
    folded: Vec<ChunkKey>,
    /// Everything up to these heads is in storage.
    stored: Vec<ChangeHash>,
    writing: Option<InFlight>,
    /// Something changed while a write was in flight: write again when it ends.
    again: bool,
    next_write: u64,
    retrying: bool,
    /// The compaction timer is set, and `next_write` was this when it was: a write since
    /// means storage was not quiet, and the timer is set again.
    compact_timer: Option<u64>,
    /// Storage was quiet: the next write folds the chunks (even with nothing new to write).
    compact_now: bool,
    /// Edits written to the document so far.
    edits: u64,
    relay: Option<Relay>,
    status: Status,
    shown: Option<Status>,
    out: Vec<Effect>,
    /// The person this device's edits are from, written beside this device's actor with
    /// its first edit (not on opening: a session that only reads writes nothing).
    identity: Option<Id>,
}

impl Replica {
    /// A replica that has read nothing yet; the shell opens storage and reports `Opened`.
    pub fn new(config: Config) -> Replica {
        let relay = config.relay.then(|| Relay {
            connection: ClientConnection::new(config.peer.clone()),
            socket: false,
            error: None,
            backoff: 1,
        });
        let sync = if config.relay { SyncStatus::Connecting } else { SyncStatus::Local };
        Replica {
            config,
            doc: RegisterDoc::empty(),
            register: Register::default(),
            opened: false,
            identity: None,
            view: None,
            queued: Vec::new(),
            storage: false,
            storage_failure: None,
            folded: Vec::new(),
            stored: Vec::new(),
            writing: None,
            again: false,
            next_write: 0,
            retrying: false,
            compact_timer: None,
            compact_now: false,
            edits: 0,
            relay,
            status: Status { saved: Saved::Loading, sync, unsent: 0, last_sync: None, problem: None, blank: false },
            shown: None,
            out: Vec::new(),
        }
    }

    /// A replica over a document the caller already holds (a test device, the load
    /// generator), taken as already stored; its storage starts with no chunks.
    pub fn with_doc(config: Config, doc: RegisterDoc, now: Now) -> Replica {
        let mut replica = Replica::new(config);
        replica.doc = doc;
        replica.take(now, Event::Opened(Ok(Vec::new())));
        replica
    }

    /// Takes in one event and returns what the shell is to do, in order.
    pub fn handle(&mut self, now: Now, event: Event) -> Vec<Effect> {
        self.take(now, event);
        self.effects()
    }

    /// The effects queued by the calls since the last `handle` or `effects`.
    pub fn effects(&mut self) -> Vec<Effect> {
        if self.shown.as_ref() != Some(&self.status) {
            self.shown = Some(self.status.clone());
            self.out.push(Effect::Status(self.status.clone()));
        }
        std::mem::take(&mut self.out)
    }

    fn take(&mut self, now: Now, event: Event) {
        match event {
            Event::View(bytes) => self.viewed(&bytes),
            Event::Opened(chunks) => self.opened(now, chunks),
            Event::Edit(edit) if !self.opened => self.queued.push((edit, now)),
            Event::Edit(edit) => self.edit(now, edit),
            Event::Written { write, result } => self.written(now, write, result),
            Event::Announced(key) => {
                if self.storage && !self.folded.contains(&key) {
                    self.out.push(Effect::Read(key));
                }
            }
            Event::Read { key, result } => match result {
                Ok(Some(bytes)) => self.take_in_chunk(key, &bytes),
                // Already folded into a snapshot by the tab that wrote it: it arrives by sync.
                Ok(None) => {}
                Err(e) => self.status.problem = Some(Problem::Storage(e)),
            },
            Event::RelayOpened => self.relay_opened(),
            Event::RelayMessage(bytes) => self.relay_message(now, &bytes),
            Event::RelayClosed(code) => self.relay_closed(code),
            Event::RelayBroken(reason) => {
                if let Some(relay) = &mut self.relay {
                    relay.socket = false;
                }
                self.status.sync = SyncStatus::Refused(reason);
            }
            Event::Identity(person) => self.identity = person,
            Event::Start(name) => self.start(now, name),
            Event::Online => {
                if let Some(relay) = &mut self.relay
                    && !relay.socket
                {
                    relay.backoff = 1;
                    self.connect();
                }
            }
            Event::Fired(Timer::RetrySave) => {
                self.retrying = false;
                self.persist();
            }
            Event::Fired(Timer::Compact) => self.compact_if_quiet(),
            Event::Fired(Timer::Reconnect) => {
                if self.relay.as_ref().is_some_and(|r| !r.socket) {
                    self.connect();
                }
            }
        }
    }

    /// The register as this replica reads it now.
    pub fn register(&self) -> &Register {
        &self.register
    }

    /// The register for a download: refused with the reason while it cannot be read (not yet
    /// arrived, written by a newer version, not a register), so that no export is ever an
    /// empty file that looks real.
    pub fn register_to_export(&mut self) -> Result<&Register, String> {
        if let Some(problem @ Problem::Unshowable(_)) = &self.status.problem {
            return Err(format!("Nothing was exported. {problem}"));
        }
        if self.doc.heads().is_empty() {
            return Err("Nothing was exported: the register has not been read yet (it has not arrived from the server, or it cannot be opened).".into());
        }
        Ok(&self.register)
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.heads()
    }

    /// The heads the relay last said it holds.
    pub fn relay_heads(&self) -> Option<Vec<ChangeHash>> {
        self.relay.as_ref()?.connection.their_heads(&self.config.register)
    }

    /// Whether the handshake with the relay is done on the current connection.
    pub fn joined(&self) -> bool {
        self.relay.as_ref().is_some_and(|r| r.connection.connected())
    }

    /// How many edits have been written to the document (`Effect::Stored` counts the same way).
    pub fn edits(&self) -> u64 {
        self.edits
    }

    /// Keys of the stored chunks this replica has folded in.
    pub fn folded(&self) -> &[ChunkKey] {
        &self.folded
    }

    /// Makes a change with the document's own methods (tests, the load generator and the
    /// restore of a backup), then stores, shows and sends it as any edit.
    pub fn change<T>(
        &mut self,
        now: Now,
        change: impl FnOnce(&mut RegisterDoc, i64) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        if self.config.viewer {
            self.status.problem = Some(Problem::ReadOnly);
            return Err(Invalid(Problem::ReadOnly.to_string()).into());
        }
        let before = self.doc.heads();
        let made = change(&mut self.doc, now.seconds)?;
        if self.doc.heads() != before {
            let changed = self.doc.changed_since(&before);
            self.made(changed);
        }
        Ok(made)
    }

    /// Takes in a register document downloaded earlier: whatever it holds that this copy
    /// lacks is merged in and stored; nothing here is lost. Returns how many changes were new.
    pub fn restore_backup(&mut self, now: Now, bytes: &[u8]) -> Result<usize, Problem> {
        self.change(now, |doc, now| doc.restore_backup(bytes, now)).map_err(|e| match e {
            _ if self.config.viewer => Problem::ReadOnly,
            e => Problem::Refused(e.to_string()),
        })
    }

    /// The whole document with its history, as a backup another replica can load.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// One record's changes and its concurrent edits, whatever its kind.
    pub fn history(&mut self, kind: Kind, id: &str) -> Result<(Vec<HistoryEntry>, Vec<Conflict>), DocError> {
        struct Of<'a>(&'a mut RegisterDoc, &'a str);
        impl ForKind for Of<'_> {
            type Output = Result<(Vec<HistoryEntry>, Vec<Conflict>), DocError>;
            fn run<R: Record>(self) -> Self::Output {
                Ok((self.0.history::<R>(self.1)?, self.0.conflicts::<R>(self.1)?))
            }
        }
        kind.run(Of(&mut self.doc, id))
    }

    /// Fields of one record set at the same time on two devices.
    pub fn conflicts(&self, kind: Kind, id: &str) -> Result<Vec<Conflict>, DocError> {
        conflicts_of(&self.doc, kind, id)
    }

    /// Whether storage has been read (or failed to open). Until then the document is empty
    /// even when a stored view is shown, so questions about it would get wrong answers.
    pub fn is_open(&self) -> bool {
        self.opened
    }

    /// The register as it stood at the end of `date`.
    pub fn as_of(&mut self, date: Date) -> Result<Register, DocError> {
        self.doc.as_of(date)
    }

    /// Shows the stored view at once. A view that cannot be read is ignored: it is only a
    /// cache, and the register is read from the document anyway.
    fn viewed(&mut self, bytes: &[u8]) {
        if self.opened || self.view.is_some() {
            return;
        }
        let Ok(View { heads, register }) = postcard::from_bytes::<View<Register>>(bytes) else { return };
        self.view = Some(heads.into_iter().map(ChangeHash).collect());
        self.register = register;
        self.out.push(Effect::Patch(RegisterPatch::whole(&self.register)));
    }

    /// The register and its heads as bytes for `Effect::SaveView`.
    fn save_view(&mut self) {
        if !self.storage {
            return;
        }
        let heads = self.doc.heads().into_iter().map(|h| h.0).collect();
        let view = View { heads, register: &self.register };
        if let Ok(bytes) = postcard::to_allocvec(&view) {
            self.out.push(Effect::SaveView(bytes));
        }
    }

    fn opened(&mut self, now: Now, chunks: Result<Vec<Chunk>, StorageError>) {
        if self.opened {
            return;
        }
        self.opened = true;
        let mut stored_any = false;
        match chunks {
            Ok(chunks) => {
                self.storage = true;
                stored_any = !chunks.is_empty();
                let (total, mut bad, mut bad_bytes) = (chunks.len(), 0, 0);
                for chunk in chunks {
                    // An unreadable chunk is left where it is (never folded, so never
                    // deleted) and the rest still loads; the person is told.
                    match self.doc.load_chunk(&chunk.bytes) {
                        Ok(()) => self.folded.push(chunk.key),
                        Err(_) => {
                            bad += 1;
                            bad_bytes += chunk.bytes.len();
                        }
                    }
                }
                if bad > 0 {
                    let (relay, parts) = (self.relay.is_some(), if total == 1 { "part" } else { "parts" });
                    let missing = if relay {
                        "edits saved only in it are missing here until the relay brings them back, if it has them"
                    } else {
                        "edits saved only in it are missing; a backup of the register restores them"
                    };
                    self.status.problem = Some(Problem::Unreadable(format!(
                        "{bad} of {total} stored {parts} ({bad_bytes} bytes) cannot be read and {} kept aside, untouched; {missing}. New edits are saved as usual.",
                        if bad == 1 { "is" } else { "are" }
                    )));
                }
                self.stored = self.doc.heads();
            }
            Err(e) => {
                let why = StorageError::Unavailable(Box::new(e));
                self.storage_failure = Some(why.clone());
                self.status.problem = Some(Problem::Storage(why));
            }
        }
        // Never over a register this browser holds, even one whose every chunk is unreadable:
        // new edits would then be made on the sample and mixed with it once the chunks heal.
        if self.config.sample && !stored_any && self.relay.is_none() && self.doc.heads().is_empty() {
            match crate::sample::sample(now.today, now.seconds) {
                Ok(sample) => self.doc = sample,
                Err(e) => self.status.problem = Some(Problem::Sample(e.to_string())),
            }
        }
        self.status.blank = !stored_any && self.relay.is_none() && self.doc.heads().is_empty();
        // The view shown already is right up to its heads: read again only what changed
        // since, if the document holds those heads (another tab may have compacted them away
        // only together with what came after, so holding them is enough).
        let view = self.view.take().filter(|heads| {
            !heads.is_empty() && heads.iter().all(|h| self.doc.automerge().get_change_by_hash(h).is_some())
        });
        match &view {
            Some(heads) => {
                let changed = self.doc.changed_since(heads);
                self.show(changed, false);
            }
            None => self.show(Changed::Everything, false),
        }
        if self.storage && view.as_ref() != Some(&self.doc.heads()) && !self.doc.heads().is_empty() {
            self.save_view();
        }
        self.status.saved = match &self.storage_failure {
            Some(why) => Saved::Failed(why.clone()),
            None => Saved::Saved(None),
        };
        self.persist();
        if self.relay.is_some() {
            self.connect();
        }
        for (edit, at) in std::mem::take(&mut self.queued) {
            self.edit(at, edit);
        }
    }

    /// Starts the register a blank device holds: the firm's own, empty, or the sample. Never
    /// over a register that is here or on its way from a server.
    fn start(&mut self, now: Now, name: Option<String>) {
        if !self.opened || !self.status.blank || self.relay.is_some() || !self.doc.heads().is_empty() {
            self.status.problem = Some(Problem::Refused("There is already a register here.".into()));
            return;
        }
        let made = match &name {
            Some(name) if name.trim().is_empty() => {
                self.status.problem = Some(Problem::Refused("A register needs the firm's name.".into()));
                return;
            }
            Some(name) => RegisterDoc::new(name.trim(), now.seconds),
            None => crate::sample::sample(now.today, now.seconds),
        };
        match made {
            Ok(doc) => {
                self.doc = doc;
                self.status.blank = false;
                self.status.problem = None;
                self.made(Changed::Everything);
            }
            Err(e) if name.is_none() => self.status.problem = Some(Problem::Sample(e.to_string())),
            Err(e) => self.status.problem = Some(Problem::Refused(e.to_string())),
        }
    }

    fn edit(&mut self, now: Now, edit: Edit) {
        let record = edit.record().map(|(kind, id)| (kind, id.to_string()));
        if self.config.viewer {
            self.status.problem = Some(Problem::ReadOnly);
            self.put_back(record);
            return;
        }
        let before = self.doc.heads();
        if before.is_empty() {
            self.status.problem = Some(Problem::NoRegisterYet);
            self.put_back(record);
            return;
        }
        // A failure to say who is editing must not cost the edit itself.
        let identified = match &self.identity {
            Some(person) => self.doc.identify(person, now.seconds).is_ok() && self.doc.heads() != before,
            None => false,
        };
        match self.doc.apply(edit, now.seconds) {
            Ok(()) => {
                self.status.problem = None;
                let changed = match record {
                    Some((kind, id)) => {
                        Changed::Records { header: identified, records: [(kind, id)].into_iter().collect() }
                    }
                    None => self.doc.changed_since(&before),
                };
                self.made(changed);
            }
            Err(e) => {
                self.status.problem = Some(Problem::Refused(e.to_string()));
                // The interface already shows the edit: put the record back as it is stored.
                self.put_back(record);
                if identified {
                    let changed = self.doc.changed_since(&before);
                    self.made(changed);
                }
            }
        }
    }

    /// A change made on this device: counted, stored, shown and offered to the relay.
    fn made(&mut self, changed: Changed) {
        self.edits += 1;
        self.status.unsent += 1;
        // The write to storage goes out before the interface is brought up to date.
        self.persist();
        self.show(changed, true);
        self.push();
    }

    fn put_back(&mut self, record: Option<(Kind, String)>) {
        if let Some((kind, id)) = record {
            let mut patch = RegisterPatch::of_record(&self.register, kind, &id);
            patch.conflicts = vec![(kind, id.clone(), self.conflicts(kind, &id).unwrap_or_default())];
            self.out.push(Effect::Patch(patch));
        }
    }

    /// Reads again what changed, for this replica's copy and for the interface: a patch of
    /// just those records with their concurrent values. A patch goes out even when no record
    /// changed, since a merge can change a record's history without changing its value.
    fn show(&mut self, changed: Changed, conflicts: bool) {
        let unreadable_before = self.register.unreadable.clone();
        let changed = match self.doc.refresh(&mut self.register, &changed) {
            Ok(()) => {
                if matches!(self.status.problem, Some(Problem::Unshowable(_))) {
                    self.status.problem = None;
                }
                changed
            }
            Err(e) => {
                self.status.problem = Some(Problem::Unshowable(e.to_string()));
                // A record that cannot be read alone: read the whole register again.
                if !matches!(changed, Changed::Everything)
                    && self.doc.refresh(&mut self.register, &Changed::Everything).is_ok()
                {
                    Changed::Everything
                } else {
                    return;
                }
            }
        };
        let patch = match changed {
            Changed::Everything => RegisterPatch::whole(&self.register),
            Changed::Records { header, records } => {
                let mut patch = RegisterPatch::default();
                if header {
                    let r = &self.register;
                    patch.header = Some((r.schema_version, r.name.clone(), r.actors.clone()));
                }
                for (kind, id) in records {
                    let one = RegisterPatch::of_record(&self.register, kind, &id);
                    patch.put.extend(one.put);
                    patch.removed.extend(one.removed);
                    if conflicts {
                        let found = conflicts_of(&self.doc, kind, &id).unwrap_or_default();
                        patch.conflicts.push((kind, id, found));
                    }
                }
                if self.register.unreadable != unreadable_before {
                    patch.unreadable = Some(self.register.unreadable.clone());
                }
                patch
            }
        };
        self.out.push(Effect::Patch(patch));
    }

    /// Writes whatever storage does not have yet. One write at a time; what changes during a
    /// write goes in the next, so nothing is lost and nothing is written twice.
    fn persist(&mut self) {
        if self.writing.is_some() {
            self.again = true;
            return;
        }
        let heads = self.doc.heads();
        if !self.storage {
            // No storage at all: say so after every edit, never "saved".
            if let Some(why) = self.storage_failure.clone()
                && heads != self.stored
            {
                self.status.saved = Saved::Failed(why.clone());
                self.status.problem = Some(Problem::Storage(why));
            }
            return;
        }
        let compacting =
            (self.compact_now && self.folded.len() >= COMPACT_AFTER) || self.folded.len() >= COMPACT_AT_THE_LATEST;
        if heads == self.stored && !compacting {
            return;
        }
        self.again = false;
        let bytes = if compacting { self.doc.save() } else { self.doc.save_after(&self.stored) };
        self.next_write += 1;
        let write = self.next_write;
        self.writing = Some(InFlight { write, heads, compacting, through_edit: self.edits });
        self.status.saved = Saved::Saving;
        let replaces = if compacting { self.folded.clone() } else { Vec::new() };
        self.out.push(Effect::Write { write, bytes, replaces });
    }

    fn written(&mut self, now: Now, write: u64, result: Result<ChunkKey, StorageError>) {
        let Some(done) = self.writing.take_if(|w| w.write == write) else { return };
        match result {
            Ok(key) => {
                if done.compacting {
                    self.compact_now = false;
                    self.folded.clear();
                    // Every so often the view follows, so the next opening has little to read again.
                    self.save_view();
                }
                self.folded.push(key);
                self.stored = done.heads;
                if self.folded.len() >= COMPACT_AFTER && self.compact_timer.is_none() {
                    self.compact_timer = Some(self.next_write);
                    self.out.push(Effect::After { timer: Timer::Compact, ms: COMPACT_QUIET_MS });
                }
                self.out.push(Effect::Announce(key));
                self.out.push(Effect::Stored { through_edit: done.through_edit });
                self.status.saved = Saved::Saved(Some(now.seconds));
                // A storage failure on show is over now that a write went through.
                if let Some(failure) = self.storage_failure.take()
                    && self.status.problem == Some(Problem::Storage(failure))
                {
                    self.status.problem = None;
                }
            }
            Err(e) => {
                self.status.saved = Saved::Failed(e.clone());
                self.status.problem = Some(Problem::Storage(e.clone()));
                self.storage_failure = Some(e);
                // The edits are safe in memory only: keep trying, so they reach storage as
                // soon as it has room again even if nobody edits anything else. One retry at
                // a time, however many writes fail meanwhile.
                if !self.retrying {
                    self.retrying = true;
                    self.out.push(Effect::After { timer: Timer::RetrySave, ms: RETRY_SAVE_MS });
                }
                return;
            }
        }
        if self.again {
            self.persist();
        }
    }

    /// Folds the chunks into a snapshot if nothing was written since the timer was set;
    /// otherwise waits another quiet spell.
    fn compact_if_quiet(&mut self) {
        let Some(armed) = self.compact_timer.take() else { return };
        if self.folded.len() < COMPACT_AFTER {
            return;
        }
        if armed != self.next_write || self.writing.is_some() {
            self.compact_timer = Some(self.next_write);
            self.out.push(Effect::After { timer: Timer::Compact, ms: COMPACT_QUIET_MS });
            return;
        }
        self.compact_now = true;
        self.persist();
    }

    /// Another tab's chunk: take it in, so both tabs show the same register.
    fn take_in_chunk(&mut self, key: ChunkKey, bytes: &[u8]) {
        if self.folded.contains(&key) {
            return;
        }
        let before = self.doc.heads();
        let nothing_pending = before == self.stored && self.writing.is_none();
        if let Err(e) = self.doc.load_chunk(bytes) {
            self.status.problem = Some(Problem::OtherTab(e.to_string()));
            return;
        }
        self.folded.push(key);
        if nothing_pending {
            // What the chunk brought is stored already: by the tab that wrote it.
            self.stored = self.doc.heads();
        }
        if self.doc.heads() != before {
            let changed = self.doc.changed_since(&before);
            let much = is_much(&changed);
            self.show(changed, true);
            if much {
                self.save_view();
            }
            // A change of ours merged into the other tab's is written again by the next write.
            self.persist();
            self.push();
        }
    }

    fn connect(&mut self) {
        let Some(relay) = &mut self.relay else { return };
        if matches!(self.status.sync, SyncStatus::Refused(_)) {
            return;
        }
        relay.socket = true;
        self.status.sync = SyncStatus::Connecting;
        self.out.push(Effect::Connect);
    }

    fn relay_opened(&mut self) {
        let Some(relay) = &mut self.relay else { return };
        // Automerge's sync state must not outlive the connection it was made on.
        relay.connection = ClientConnection::new(self.config.peer.clone());
        let join = relay.connection.join(None);
        self.out.push(Effect::Send(encode(&join)));
    }

    fn relay_message(&mut self, now: Now, bytes: &[u8]) {
        let Some(relay) = &mut self.relay else { return };
        let incoming = decode(bytes).and_then(|message| relay.connection.accept(message));
        match incoming {
            Ok(Incoming::Connected { .. }) => {
                relay.backoff = 1;
                self.status.sync = SyncStatus::Connected;
                self.push();
            }
            Ok(Incoming::Sync { document, data }) if document == self.config.register => {
                let before = self.doc.heads();
                let reply = relay.connection.apply(document, self.doc.automerge(), &data);
                match reply {
                    Ok(reply) => {
                        if let Some(reply) = reply {
                            self.out.push(Effect::Send(encode(&reply)));
                        }
                        if self.doc.heads() != before {
                            let changed = self.doc.changed_since(&before);
                            let much = is_much(&changed);
                            self.show(changed, true);
                            self.persist();
                            if much {
                                // The register arrived (or much of it): the next opening shows it at once.
                                self.save_view();
                            }
                        }
                        self.status.last_sync = Some(now.seconds);
                        self.count_unsent();
                    }
                    Err(e) => self.status.problem = Some(Problem::Relay(e.to_string())),
                }
            }
            Ok(Incoming::Sync { .. } | Incoming::Ignored) => {}
            Ok(Incoming::Unavailable(_)) => self.status.sync = SyncStatus::Unavailable,
            // Final or passing: the close code that follows says which.
            Ok(Incoming::Refused(reason)) => relay.error = Some(reason),
            Err(e) => self.status.problem = Some(Problem::Relay(e.to_string())),
        }
    }

    fn relay_closed(&mut self, code: Option<u16>) {
        let Some(relay) = &mut self.relay else { return };
        relay.socket = false;
        relay.connection = ClientConnection::new(self.config.peer.clone());
        let error = relay.error.take();
        if matches!(self.status.sync, SyncStatus::Refused(_)) {
            return;
        }
        if code == Some(crate::protocol::CLOSE_REFUSED) {
            let reason = error.unwrap_or_else(|| "it gave no reason".into());
            self.status.sync = SyncStatus::Refused(reason);
            return;
        }
        let wait = relay.backoff;
        relay.backoff = (wait * 2).min(MAX_BACKOFF_S);
        self.status.sync = match error {
            Some(reason) => SyncStatus::Interrupted { reason, retry_in: wait },
            None => SyncStatus::Offline { retry_in: wait },
        };
        self.out.push(Effect::After { timer: Timer::Reconnect, ms: wait * 1000 });
    }

    /// Offers local changes to the relay, if joined.
    fn push(&mut self) {
        let Some(relay) = &mut self.relay else { return };
        if let Some(message) = relay.connection.sync(self.config.register, self.doc.automerge()) {
            self.out.push(Effect::Send(encode(&message)));
        }
        self.count_unsent();
    }

    /// Counts the changes the relay has not confirmed. Until the relay has said which heads
    /// it holds (offline, or just connected) the count is the last known one plus the edits
    /// made since, which `edit` adds.
    fn count_unsent(&mut self) {
        if let Some(theirs) = self.relay_heads() {
            self.status.unsent = self.doc.changes_after(&theirs);
        }
    }
}

/// Records read again past which the stored view is renewed at once rather than at the
/// next compaction.
const MUCH: usize = 100;

fn is_much(changed: &Changed) -> bool {
    match changed {
        Changed::Everything => true,
        Changed::Records { records, .. } => records.len() >= MUCH,
    }
}

fn conflicts_of(doc: &RegisterDoc, kind: Kind, id: &str) -> Result<Vec<Conflict>, DocError> {
    struct Of<'a>(&'a RegisterDoc, &'a str);
    impl ForKind for Of<'_> {
        type Output = Result<Vec<Conflict>, DocError>;
        fn run<R: Record>(self) -> Self::Output {
            self.0.conflicts::<R>(self.1)
        }
    }
    kind.run(Of(doc, id))
}
