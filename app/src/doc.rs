//! The app's document module: the only code that holds and changes the register document.
//! Views read the hydrated `Register` from a signal and ask this module for changes; every
//! change is written to IndexedDB (`local`) and offered to the relay (`sync`) from here.

use crate::local::{self, Local};
use crate::sync::{Link, SyncStatus};
use automerge::ChangeHash;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::protocol::{DocumentId, Incoming};
use shared::{Changed, Date, DocError, Edit, ForKind, Record, Register, RegisterDoc, for_kind};
use std::rc::Rc;
use std::sync::Arc;

/// Today in the UK, from the browser's clock: the app reads the clock, `shared` never does.
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    // Europe/London and UTC differ by at most an hour; the browser's own zone is the user's.
    Date::ymd(now.get_full_year() as i32, now.get_month() + 1, now.get_date()).expect("the browser gives a real date")
}

/// A moment as the person's own clock shows it (British Summer Time in summer, not UTC):
/// "24 Nov 2026 14:03", or with `seconds` just "14:03:09".
pub fn local_time(at: i64, seconds: bool) -> String {
    let t = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64 * 1000.0));
    if seconds {
        return format!("{:02}:{:02}:{:02}", t.get_hours(), t.get_minutes(), t.get_seconds());
    }
    let day = Date::ymd(t.get_full_year() as i32, t.get_month() + 1, t.get_date());
    let day = day.map(|d| d.to_string()).unwrap_or_default();
    format!("{day} {:02}:{:02}", t.get_hours(), t.get_minutes())
}

/// Seconds since the Unix epoch, for the time of each edit.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Brings the views up to date with one record after an edit that touched only it.
type Reread<'a> = Box<dyn FnOnce(&Store) + 'a>;

/// Chunks in IndexedDB before this tab folds them into one snapshot.
const COMPACT_AFTER: usize = 64;

/// How long after a failed write to IndexedDB the write is tried again.
const RETRY_SAVE: std::time::Duration = std::time::Duration::from_secs(3);

/// Where the copy in this browser stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Saved {
    /// Reading the register from IndexedDB.
    Loading,
    /// Every edit is in IndexedDB, the last at this time.
    Saved(Option<i64>),
    /// An edit is being written.
    Saving,
    /// The last write failed (why, in words); the edits are still in memory and the write
    /// is tried again.
    Failed(String),
}

/// Which register this browser works on and how it reaches the relay, as stored in the
/// browser (set by opening an invite link).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub register: DocumentId,
    /// `ws://host/sync?token=…`, or none to work locally only.
    pub relay: Option<String>,
    pub viewer: bool,
}

struct Inner {
    id: DocumentId,
    doc: RegisterDoc,
    local: Option<Rc<Local>>,
    /// Keys of the IndexedDB chunks already in `doc`: compaction deletes only these.
    folded: Vec<f64>,
    /// Everything up to these heads is in IndexedDB.
    stored: Vec<ChangeHash>,
    writing: bool,
    /// An edit arrived while a write was in flight; write again when it ends.
    again: bool,
    link: Option<Rc<Link>>,
    tabs: Option<web_sys::BroadcastChannel>,
    /// The User Timing mark of the oldest edit not yet in IndexedDB, and a counter for names.
    unsaved_since: Option<String>,
    edits: u64,
    /// The storage failure on show, cleared once a write goes through again.
    storage_failure: Option<String>,
    /// A write that failed is to be tried again shortly.
    retrying: bool,
}

/// Records the time from an edit to its IndexedDB commit as a User Timing measure named
/// `edit-to-indexeddb`, which the browser's tools and `cargo xtask measure` read.
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

fn measure_saved(since: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let end = format!("{since}-saved");
        let _ = performance.mark(&end);
        let _ = performance.measure_with_start_mark_and_end_mark("edit-to-indexeddb", since, &end);
    }
}

/// The register document and the state the views render.
#[derive(Clone, Copy)]
pub struct Store {
    inner: StoredValue<Inner, LocalStorage>,
    /// Shared, so a view reading it copies a pointer, not a register of thousands of records.
    pub register: RwSignal<Arc<Register>>,
    /// Why the last action failed, in words for the person who tried it.
    pub error: RwSignal<Option<String>>,
    pub saved: RwSignal<Saved>,
    pub sync: RwSignal<SyncStatus>,
    /// Changes this browser has that the relay has not confirmed.
    pub unsent: RwSignal<usize>,
    pub last_sync: RwSignal<Option<i64>>,
    pub viewer: RwSignal<bool>,
}

impl Store {
    /// An empty store; `open` fills it from IndexedDB and the relay.
    pub fn new(settings: &Settings) -> Store {
        Store {
            inner: StoredValue::new_local(Inner {
                id: settings.register,
                doc: RegisterDoc::empty(),
                local: None,
                folded: Vec::new(),
                stored: Vec::new(),
                writing: false,
                again: false,
                link: None,
                tabs: None,
                unsaved_since: None,
                edits: 0,
                storage_failure: None,
                retrying: false,
            }),
            register: RwSignal::new(Arc::new(Register::default())),
            error: RwSignal::new(None),
            saved: RwSignal::new(Saved::Loading),
            sync: RwSignal::new(if settings.relay.is_some() { SyncStatus::Connecting } else { SyncStatus::Local }),
            unsent: RwSignal::new(0),
            last_sync: RwSignal::new(None),
            viewer: RwSignal::new(settings.viewer),
        }
    }

    /// Loads the register from IndexedDB before any network call, then connects to the relay.
    /// A register this browser has never seen, with no relay to fetch it from, starts as the
    /// sample register so there is something to work with.
    pub async fn open(self, settings: Settings) {
        let id = settings.register;
        match Local::open(&id.to_string()).await {
            Ok(db) => {
                let db = Rc::new(db);
                match db.load().await {
                    Ok(chunks) => {
                        let loaded = self.inner.try_update_value(|i| -> Result<(), String> {
                            for chunk in &chunks {
                                i.doc.automerge().load_incremental(&chunk.bytes).map_err(|e| {
                                    format!("Part of the register stored in this browser is unreadable: {e}")
                                })?;
                                i.folded.push(chunk.key);
                            }
                            i.stored = i.doc.heads();
                            i.local = Some(db.clone());
                            Ok(())
                        });
                        if let Some(Err(e)) = loaded {
                            self.error.set(Some(e));
                        }
                    }
                    Err(e) => self.error.set(Some(e)),
                }
            }
            Err(e) => {
                let why = format!("{e}. Edits are kept only while this tab stays open.");
                self.inner.update_value(|i| i.storage_failure = Some(why.clone()));
                self.error.set(Some(why));
            }
        }
        let fresh = self.inner.with_value(|i| i.folded.is_empty());
        if fresh && settings.relay.is_none() {
            match shared::sample::sample(today(), now()) {
                Ok(sample) => self.inner.update_value(|i| i.doc = sample),
                Err(e) => self.error.set(Some(format!("The sample register could not be built: {e}"))),
            }
        }
        self.refresh();
        match self.inner.with_value(|i| i.storage_failure.clone()) {
            Some(why) => self.saved.set(Saved::Failed(why)),
            None => self.saved.set(Saved::Saved(None)),
        }
        self.persist();
        self.listen_to_other_tabs(&id);
        spawn_local(async move {
            if local::ask_for_persistence().await == Some(false) {
                leptos::logging::log!("the browser may evict this register under storage pressure");
            }
        });
        if let Some(url) = settings.relay {
            let link = Link::start(url, self);
            self.inner.update_value(|i| i.link = Some(link));
        }
    }

    /// Reads the register anew from the document for the views.
    fn refresh(&self) {
        match self.inner.with_value(|i| i.doc.register()) {
            Ok(register) => self.register.set(Arc::new(register)),
            Err(e) => self.error.set(Some(format!("The register cannot be shown: {e}"))),
        }
    }

    /// Brings the views up to date with what changed since `before` (a colleague's edits, the
    /// other tab's, or a change touching several records), reading again only the records
    /// that changed: taking in an edit costs the same in a register of any size.
    fn refresh_since(&self, before: &[ChangeHash]) {
        let Some(changed) = self.inner.try_update_value(|i| i.doc.changed_since(before)) else { return };
        if matches!(&changed, Changed::Records { header: false, records } if records.is_empty()) {
            return;
        }
        let mut failed = None;
        self.register.update(|register| {
            let register = Arc::make_mut(register);
            if let Some(Err(e)) = self.inner.try_with_value(|i| i.doc.refresh(register, &changed)) {
                failed = Some(e);
            }
        });
        if failed.is_some() {
            self.refresh();
        }
    }

    /// Writes an edit a person made. An edit of one record reads back only that record for
    /// the views, so it costs the same on a register of any size. Nothing is written when the
    /// edit is refused (a bad value, say): the error says what was wrong and the register is
    /// as it was. Returns whether the edit was written.
    pub fn apply(&self, edit: Edit) -> bool {
        let reread: Option<Reread> = edit.record().map(|(collection, id)| {
            let id = id.to_string();
            Box::new(move |store: &Store| {
                struct Again<'a>(&'a Store, &'a str);
                impl ForKind for Again<'_> {
                    type Output = ();
                    fn run<R: Record>(self) {
                        self.0.reread::<R>(self.1)
                    }
                }
                for_kind(collection, Again(store, &id));
            }) as Reread
        });
        self.change(move |doc, now| doc.apply(edit, now), reread)
    }

    fn reread<R: Record>(&self, id: &str) {
        match self.inner.with_value(|i| i.doc.get::<R>(id)) {
            Ok(Some(record)) => self.register.update(|r| {
                R::collection_mut(Arc::make_mut(r)).insert(id.to_string(), record);
            }),
            Ok(None) => self.refresh(),
            Err(e) => self.error.set(Some(format!("The register cannot be shown: {e}"))),
        }
    }

    fn change<'a>(
        &self,
        change: impl FnOnce(&mut RegisterDoc, i64) -> Result<(), DocError>,
        reread: Option<Reread<'a>>,
    ) -> bool {
        if self.viewer.get_untracked() {
            self.error.set(Some("You can read this register but not change it.".into()));
            return false;
        }
        let mut before = Vec::new();
        let result = self.inner.try_update_value(|i| -> Result<(), DocError> {
            before = i.doc.heads();
            change(&mut i.doc, now())?;
            if i.unsaved_since.is_none() {
                i.edits += 1;
                let name = format!("edit-{}", i.edits);
                mark(&name);
                i.unsaved_since = Some(name);
            }
            Ok(())
        });
        match result {
            Some(Ok(())) => {
                self.error.set(None);
                self.unsent.update(|n| *n += 1);
                // The write to IndexedDB starts before the views are brought up to date.
                self.persist();
                match reread {
                    Some(reread) => reread(self),
                    None => self.refresh_since(&before),
                }
                self.push();
                true
            }
            Some(Err(e)) => {
                self.error.set(Some(e.to_string()));
                false
            }
            None => false,
        }
    }

    /// Reads something from the document itself (history, conflicts, the past).
    pub fn read<T>(&self, read: impl FnOnce(&mut RegisterDoc) -> T) -> Option<T> {
        self.inner.try_update_value(|i| read(&mut i.doc))
    }

    /// Writes whatever IndexedDB does not have yet. One write at a time; edits made during a
    /// write go in the next, so none is lost and none is written twice.
    fn persist(self) {
        let job = self.inner.try_update_value(|i| {
            if i.writing {
                i.again = true;
                return None;
            }
            let Some(local) = i.local.clone() else {
                // No storage at all: say so after every edit, never "saved".
                if let Some(why) = i.storage_failure.clone()
                    && i.doc.heads() != i.stored
                {
                    self.saved.set(Saved::Failed(why.clone()));
                    self.error.set(Some(why));
                }
                return None;
            };
            let heads = i.doc.heads();
            if heads == i.stored {
                return None;
            }
            i.writing = true;
            i.again = false;
            let compact = i.folded.len() >= COMPACT_AFTER;
            let bytes = if compact { i.doc.save() } else { i.doc.save_after(&i.stored) };
            Some((local, bytes, heads, compact.then(|| i.folded.clone()), i.unsaved_since.take()))
        });
        let Some(Some((local, bytes, heads, folded, since))) = job else { return };
        self.saved.set(Saved::Saving);
        spawn_local(async move {
            let written = match &folded {
                Some(folded) => local.compact(&bytes, folded).await,
                None => local.append(&bytes).await,
            };
            let again = self
                .inner
                .try_update_value(|i| {
                    i.writing = false;
                    if let Ok(key) = written {
                        if folded.is_some() {
                            i.folded.clear();
                        }
                        i.folded.push(key);
                        i.stored = heads;
                        if let Some(tabs) = &i.tabs {
                            let _ = tabs.post_message(&key.into());
                        }
                    }
                    i.again
                })
                .unwrap_or(false);
            match written {
                Ok(_) => {
                    if let Some(since) = &since {
                        measure_saved(since);
                    }
                    self.saved.set(Saved::Saved(Some(now())));
                    // A storage failure shown earlier is over now that the write went through.
                    let shown = self.inner.try_update_value(|i| i.storage_failure.take()).flatten();
                    if shown.is_some() && self.error.get_untracked() == shown {
                        self.error.set(None);
                    }
                }
                Err(e) => {
                    // Still unsaved: the next write's measure starts from this edit.
                    if since.is_some() {
                        self.inner.update_value(|i| i.unsaved_since = since.clone());
                    }
                    self.saved.set(Saved::Failed(e.clone()));
                    self.inner.update_value(|i| i.storage_failure = Some(e.clone()));
                    self.error.set(Some(e));
                    // The edits are safe in memory only: keep trying, so they reach storage
                    // as soon as it has room again even if nobody edits anything else. One
                    // retry at a time, however many edits fail meanwhile.
                    let first = self.inner.try_update_value(|i| !std::mem::replace(&mut i.retrying, true));
                    if first == Some(true) {
                        set_timeout(
                            move || {
                                self.inner.update_value(|i| i.retrying = false);
                                self.persist();
                            },
                            RETRY_SAVE,
                        );
                    }
                }
            }
            if again {
                self.persist();
            }
        });
    }

    /// Another tab of this browser wrote a chunk: take it in, so both show the same register.
    fn listen_to_other_tabs(self, id: &DocumentId) {
        let Ok(channel) = web_sys::BroadcastChannel::new(&format!("continuity-register:{id}")) else { return };
        let on_message = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(key) = event.data().as_f64() else { return };
                let Some(Some(local)) = self.inner.try_with_value(|i| i.local.clone()) else { return };
                spawn_local(async move {
                    match local.get(key).await {
                        Ok(Some(bytes)) => self.take_in(key, &bytes),
                        Ok(None) => {} // already folded into a snapshot by that tab: it arrives by sync
                        Err(e) => self.error.set(Some(e)),
                    }
                });
            },
        );
        channel.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(on_message.as_ref())));
        on_message.forget(); // lives as long as the page
        self.inner.update_value(|i| i.tabs = Some(channel));
    }

    fn take_in(self, key: f64, bytes: &[u8]) {
        let taken = self.inner.try_update_value(|i| {
            let before = i.doc.heads();
            let nothing_pending = before == i.stored;
            i.doc.automerge().load_incremental(bytes)?;
            i.folded.push(key);
            if nothing_pending {
                i.stored = i.doc.heads();
            }
            Ok::<_, automerge::AutomergeError>(before)
        });
        match taken {
            Some(Ok(before)) => self.refresh_since(&before),
            Some(Err(e)) => self.error.set(Some(format!("Another tab wrote something this one cannot read: {e}"))),
            None => {}
        }
        self.push();
    }

    /// Offers local changes to the relay, if connected.
    fn push(&self) {
        let Some(Some(link)) = self.inner.try_with_value(|i| i.link.clone()) else { return };
        let message = self.inner.try_update_value(|i| {
            let id = i.id;
            link.connection.borrow_mut().sync(id, i.doc.automerge())
        });
        if let Some(Some(message)) = message {
            link.send(&message);
        }
        self.count_unsent();
    }

    /// The relay's connection reached the joined state: start syncing the register.
    pub(crate) fn connected(&self) {
        self.sync.set(SyncStatus::Connected);
        self.push();
    }

    /// One message from the relay, decoded.
    pub(crate) fn received(&self, incoming: Incoming) {
        let Some(Some(link)) = self.inner.try_with_value(|i| i.link.clone()) else { return };
        match incoming {
            Incoming::Sync { document, data } => {
                let applied = self.inner.try_update_value(|i| {
                    if document != i.id {
                        return Ok((None, None));
                    }
                    let before = i.doc.heads();
                    let reply = link.connection.borrow_mut().apply(document, i.doc.automerge(), &data)?;
                    let changed = i.doc.heads() != before;
                    Ok::<_, shared::protocol::ProtocolError>((reply, changed.then_some(before)))
                });
                match applied {
                    Some(Ok((reply, changed))) => {
                        if let Some(reply) = reply {
                            link.send(&reply);
                        }
                        if let Some(before) = changed {
                            self.refresh_since(&before);
                            self.persist();
                        }
                        self.last_sync.set(Some(now()));
                        self.count_unsent();
                    }
                    Some(Err(e)) => self.error.set(Some(format!("The relay sent something unreadable: {e}"))),
                    None => {}
                }
            }
            Incoming::Unavailable(_) => self.sync.set(SyncStatus::Unavailable),
            Incoming::Refused(reason) => {
                self.sync.set(SyncStatus::Refused(reason));
            }
            Incoming::Connected { .. } | Incoming::Ignored => {}
        }
    }

    /// Counts the changes the relay has not confirmed. Until the relay has said which heads it
    /// holds (offline, or just connected) the count is the last known one plus the edits made
    /// since, which `change` adds.
    fn count_unsent(&self) {
        let Some(Some(link)) = self.inner.try_with_value(|i| i.link.clone()) else { return };
        let count = self.inner.try_update_value(|i| {
            let theirs = link.connection.borrow().their_heads(&i.id)?;
            Some(i.doc.changes_after(&theirs))
        });
        if let Some(Some(count)) = count {
            self.unsent.set(count);
        }
    }

    /// Takes in a register document downloaded earlier (a backup): whatever it holds that
    /// this copy lacks is merged in and saved, and nothing here is lost. Returns how many
    /// changes were new; the error says why nothing was taken in.
    pub fn restore_backup(&self, bytes: &[u8]) -> Result<usize, String> {
        if self.viewer.get_untracked() {
            return Err("You can read this register but not change it.".into());
        }
        let restored = self.inner.try_update_value(|i| {
            let before = i.doc.heads();
            i.doc.restore_backup(bytes).map(|count| (count, before))
        });
        match restored {
            Some(Ok((0, _))) => Ok(0),
            Some(Ok((count, before))) => {
                self.persist();
                self.refresh_since(&before);
                self.push();
                Ok(count)
            }
            Some(Err(e)) => Err(e.to_string()),
            None => Err("The register is not open.".into()),
        }
    }

    /// The whole document with its history, as a backup the app or another peer can load.
    pub fn save(&self) -> Vec<u8> {
        self.inner.try_update_value(|i| i.doc.save()).unwrap_or_default()
    }
}
