//! The engine: the only code that holds and changes the register document. It runs in the
//! register worker (`register_worker.rs`), away from the page: it loads the register from
//! IndexedDB (`local`), writes every change there, syncs with the relay (`sync`) and keeps
//! the hydrated register in a signal that the worker forwards to the page.

use crate::bridge::{Answer, Question, ToPage, ToWorker, decode, encode};
use crate::doc::{Saved, Settings, Shown, now, today};
use crate::local::Local;
use crate::sync::{Link, SyncStatus};
use automerge::ChangeHash;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::protocol::{DocumentId, Incoming};
use shared::{Changed, DocError, Edit, ForKind, Record, Register, RegisterDoc, RegisterPatch, for_kind};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Brings the views up to date with one record after an edit that touched only it.
type Reread<'a> = Box<dyn FnOnce(&Engine) + 'a>;

/// Chunks in IndexedDB before this tab folds them into one snapshot.
const COMPACT_AFTER: usize = 64;

/// How long after a failed write to IndexedDB the write is tried again.
const RETRY_SAVE: std::time::Duration = std::time::Duration::from_secs(3);

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

/// The worker's (or page's) performance timeline: `window` is not there in a worker.
fn performance() -> Option<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok()?.dyn_into().ok()
}

/// Runs `f` after `delay`, in a worker as in a page (Leptos's `set_timeout` needs a window).
pub fn after(delay: std::time::Duration, f: impl FnOnce() + 'static) {
    let callback = wasm_bindgen::closure::Closure::once_into_js(f);
    let global = js_sys::global();
    if let Ok(set_timeout) =
        js_sys::Reflect::get(&global, &"setTimeout".into()).and_then(|f| f.dyn_into::<js_sys::Function>())
    {
        let _ = set_timeout.call2(&global, &callback, &(delay.as_millis() as f64).into());
    }
}

/// Records the time from an edit to its IndexedDB commit as a User Timing measure named
/// `edit-to-indexeddb`; the worker passes the figure on to the page, where the browser's
/// tools and `cargo xtask measure` read it.
fn mark(name: &str) {
    if let Some(performance) = performance() {
        let _ = performance.mark(name);
    }
}

fn measure_saved(since: &str) -> Option<f64> {
    let performance = performance()?;
    let start = performance.get_entries_by_name(since).get(0).dyn_into::<web_sys::PerformanceEntry>().ok()?;
    performance.clear_marks_with_mark_name(since);
    Some(performance.now() - start.start_time())
}

/// The register document and the state the views render.
#[derive(Clone, Copy)]
pub struct Engine {
    inner: StoredValue<Inner, LocalStorage>,
    shown: Shown,
    /// The time from the last saved edit to its IndexedDB commit, in milliseconds.
    pub measured: RwSignal<Option<f64>>,
}

impl std::ops::Deref for Engine {
    type Target = Shown;
    fn deref(&self) -> &Shown {
        &self.shown
    }
}

impl Engine {
    /// An empty store; `open` fills it from IndexedDB and the relay.
    pub fn new(settings: &Settings) -> Engine {
        Engine {
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
            shown: Shown::new(settings),
            measured: RwSignal::new(None),
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
            Box::new(move |store: &Engine| {
                struct Again<'a>(&'a Engine, &'a str);
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
                    if let Some(ms) = since.as_deref().and_then(measure_saved) {
                        self.measured.set(Some(ms));
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
                        after(RETRY_SAVE, move || {
                            self.inner.update_value(|i| i.retrying = false);
                            self.persist();
                        });
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

/// The history and concurrent edits of one record, whatever its kind.
fn history_of(
    doc: &mut RegisterDoc,
    collection: &str,
    id: &str,
) -> Result<(Vec<shared::HistoryEntry>, Vec<shared::Conflict>), DocError> {
    struct Of<'a>(&'a mut RegisterDoc, &'a str);
    impl ForKind for Of<'_> {
        type Output = Result<(Vec<shared::HistoryEntry>, Vec<shared::Conflict>), DocError>;
        fn run<R: Record>(self) -> Self::Output {
            Ok((self.0.history::<R>(self.1)?, self.0.conflicts::<R>(self.1)?))
        }
    }
    for_kind(collection, Of(doc, id)).unwrap_or_else(|| Ok((Vec::new(), Vec::new())))
}

fn conflicts_of(doc: &RegisterDoc, collection: &str, id: &str) -> Vec<shared::Conflict> {
    struct Of<'a>(&'a RegisterDoc, &'a str);
    impl ForKind for Of<'_> {
        type Output = Vec<shared::Conflict>;
        fn run<R: Record>(self) -> Self::Output {
            self.0.conflicts::<R>(self.1).unwrap_or_default()
        }
    }
    for_kind(collection, Of(doc, id)).unwrap_or_default()
}

impl Engine {
    /// Answers one of the page's questions.
    pub fn answer(&self, question: Question) -> Answer {
        match question {
            Question::Conflicts { collection, id } => {
                Answer::Conflicts(self.read(|doc| conflicts_of(doc, &collection, &id)).unwrap_or_default())
            }
            Question::History { collection, id } => Answer::History(
                self.read(|doc| history_of(doc, &collection, &id).map_err(|e| e.to_string()))
                    .unwrap_or_else(|| Err("the register is not open".into())),
            ),
            Question::AsOf(date) => Answer::AsOf(
                self.read(|doc| doc.as_of(date).map(Box::new).map_err(|e| e.to_string()))
                    .unwrap_or_else(|| Err("the register is not open".into())),
            ),
            Question::Document => Answer::Document(self.save()),
            Question::Restore(bytes) => Answer::Restored(self.restore_backup(&bytes)),
            Question::Export { kind, today, generated } => {
                Answer::Export(self.register.with_untracked(|r| crate::exports::make(r, &kind, today, generated)))
            }
        }
    }

    /// Sends the page everything it shows, now and whenever it changes: the register as
    /// patches (only the records that changed), saving and sync state, errors and timings.
    fn forward(self, to_page: impl Fn(ToPage) + Clone + 'static) {
        let send = to_page.clone();
        // Every time the register is read again a patch goes out, even an empty one: a merge
        // can change what the page asks about (a concurrent value, a history entry) without
        // changing any record's winning value.
        Effect::new(move |last: Option<Arc<Register>>| {
            let now = self.register.get();
            let before = last.unwrap_or_default();
            let patch = if Arc::ptr_eq(&before, &now) {
                RegisterPatch::default()
            } else {
                RegisterPatch::between(&before, &now)
            };
            send(ToPage::Patch(patch));
            now
        });
        let send = to_page.clone();
        Effect::new(move |_| send(ToPage::Saved(self.saved.get())));
        let send = to_page.clone();
        Effect::new(move |_| send(ToPage::Sync(self.sync.get())));
        let send = to_page.clone();
        Effect::new(move |_| send(ToPage::Unsent(self.unsent.get())));
        let send = to_page.clone();
        Effect::new(move |_| send(ToPage::LastSync(self.last_sync.get())));
        let send = to_page.clone();
        // Not the first, empty, value: the page may already show a problem of its own (a
        // broken invite link, say) that only the person's next action should clear.
        Effect::new(move |first: Option<()>| {
            let error = self.error.get();
            if first.is_some() || error.is_some() {
                send(ToPage::Error(error));
            }
        });
        Effect::new(move |_| {
            if let Some(ms) = self.measured.get() {
                to_page(ToPage::Measured(ms));
            }
        });
    }
}

/// The register worker's whole life: it waits for the page to say which register to open,
/// then keeps the page up to date and writes the page's edits. Everything that touches the
/// document runs here, so the page's wasm carries no Automerge.
pub fn run_in_worker() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let out = scope.clone();
    let to_page = move |message: ToPage| {
        if let Err(e) = out.post_message(&encode(&message)) {
            web_sys::console::error_1(&e);
        }
    };
    let engine: Rc<std::cell::Cell<Option<Engine>>> = Rc::new(std::cell::Cell::new(None));
    let owner = Owner::new();
    owner.set();
    let send = to_page.clone();
    let handler =
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let message = match decode::<ToWorker>(&event.data()) {
                Ok(message) => message,
                Err(e) => return send(ToPage::Error(Some(format!("The page sent {e}")))),
            };
            match message {
                ToWorker::Open { register, relay, viewer } => {
                    let Ok(register) = register.parse() else {
                        return send(ToPage::Error(Some(format!("{register} is not a register id"))));
                    };
                    let settings = Settings { register, relay, viewer };
                    let opened = Engine::new(&settings);
                    opened.forward(send.clone());
                    engine.set(Some(opened));
                    spawn_local(opened.open(settings));
                }
                ToWorker::Apply(edit) => {
                    if let Some(engine) = engine.get() {
                        let record = edit.record().map(|(collection, id)| (collection, id.to_string()));
                        // The page already shows the edit: when it is refused, put the record
                        // on the page back as it is stored.
                        if !engine.apply(edit)
                            && let Some((collection, id)) = record
                        {
                            let current =
                                engine.register.with_untracked(|r| RegisterPatch::of_record(r, collection, &id));
                            send(ToPage::Patch(current));
                        }
                    }
                }
                ToWorker::Ask { id, question } => {
                    if let Some(engine) = engine.get() {
                        send(ToPage::Answer { id, answer: engine.answer(question) });
                    }
                }
            }
        });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget(); // lives as long as the worker
    std::mem::forget(owner); // the effects it holds live as long as the worker
    to_page(ToPage::Ready);
}
