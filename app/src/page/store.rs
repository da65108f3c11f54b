//! The page's side of the register: its copy of the register and of what the worker says
//! about saving and syncing, kept up to date from the worker's messages, and the one way
//! views change the register: `Store::apply` with an `Edit`. Questions (history, the past,
//! a backup, a download) are asked of the worker by message.

use crate::bridge::{Answer, Download, File, Question, ToPage, ToWorker, decode, encode};
use crate::clock::{now, today};
use crate::page::settings::Settings;
use leptos::prelude::*;
use shared::replica::{Problem, Saved, SyncStatus};
use shared::{Conflict, Date, Edit, HistoryEntry, Id, Kind, Register, RegisterPatch};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Where Trunk puts the register worker's loader (workers keep their binary's name).
const WORKER_SCRIPT: &str = "/register-worker_loader.js";

/// The page's connection to the register worker.
struct Link {
    worker: web_sys::Worker,
    /// Messages written before the worker said it was ready: a worker drops messages that
    /// arrive before its wasm has set a handler.
    queued: Vec<js_sys::Uint8Array>,
    ready: bool,
    /// Questions not yet answered, by number.
    waiting: HashMap<u32, futures_channel::oneshot::Sender<Answer>>,
    next: u32,
}

/// Sends bytes to the worker; a failure here means the worker is gone, which its `onerror`
/// already tells the person.
fn send(worker: &web_sys::Worker, bytes: &js_sys::Uint8Array) {
    if let Err(e) = worker.post_message(bytes) {
        web_sys::console::error_2(&"could not reach the register worker".into(), &e);
    }
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

fn post(message: &ToWorker) {
    let bytes = encode(message);
    LINK.with(|link| {
        if let Some(link) = link.borrow_mut().as_mut() {
            if link.ready {
                send(&link.worker, &bytes);
            } else {
                link.queued.push(bytes);
            }
        }
    });
}

/// What the views show: the register and where this browser's copy stands, as the register
/// worker last said.
#[derive(Clone, Copy)]
pub struct Store {
    /// Shared, so a view reading it copies a pointer, not a register of thousands of records.
    pub register: RwSignal<Arc<Register>>,
    /// Fields edited at the same time on two devices, per (kind, id), as the worker's
    /// patches carry them; a record not here has not been asked about yet.
    pub conflicts: RwSignal<HashMap<(Kind, Id), Vec<Conflict>>>,
    /// What the worker reports going wrong (storage, sync, a refused edit).
    pub problem: RwSignal<Option<Problem>>,
    /// What this page itself could not take (a value, a file, an invite link), in words.
    pub error: RwSignal<Option<String>>,
    pub saved: RwSignal<Saved>,
    pub sync: RwSignal<SyncStatus>,
    /// Changes this browser has that the relay has not confirmed.
    pub unsent: RwSignal<usize>,
    pub last_sync: RwSignal<Option<i64>>,
    pub viewer: RwSignal<bool>,
    /// Values typed into a field and not taken, by the field's id: (the field's label, why).
    /// Each is shown at its field and in the summary at the top until the field is saved.
    pub problems: RwSignal<std::collections::BTreeMap<String, (String, String)>>,
    /// Who uses this browser, as they said: their edits carry this person's name.
    pub person: RwSignal<Option<Id>>,
    /// This browser's person owns the register (by their invite; the relay decides).
    pub owner: RwSignal<bool>,
    /// No register here yet and no server to bring one: the welcome screen asks which.
    pub blank: RwSignal<bool>,
    /// How often the records of each kind have changed here, so a list of one kind (the
    /// people an owner is chosen from) follows its own count, not every change to the register.
    changes: RwSignal<BTreeMap<Kind, u64>>,
    register_id: StoredValue<shared::protocol::DocumentId>,
    relay: StoredValue<Option<crate::bridge::RelayAddress>>,
}

impl Store {
    pub fn new(settings: &Settings) -> Store {
        Store {
            register: RwSignal::new(Arc::new(Register::default())),
            conflicts: RwSignal::new(HashMap::new()),
            problem: RwSignal::new(None),
            error: RwSignal::new(None),
            saved: RwSignal::new(Saved::Loading),
            sync: RwSignal::new(if settings.relay.is_some() { SyncStatus::Connecting } else { SyncStatus::Local }),
            unsent: RwSignal::new(0),
            last_sync: RwSignal::new(None),
            viewer: RwSignal::new(settings.viewer),
            problems: RwSignal::new(Default::default()),
            person: RwSignal::new(crate::page::settings::person(&settings.register)),
            owner: RwSignal::new(settings.owner),
            blank: RwSignal::new(false),
            changes: RwSignal::new(BTreeMap::new()),
            register_id: StoredValue::new(settings.register),
            relay: StoredValue::new(settings.relay.clone()),
        }
    }

    /// Starts the register on a blank browser: an empty one with the firm's name, or the
    /// sample (remembered as the sample, so the app can offer a register of one's own later).
    pub fn start(&self, name: Option<String>) {
        if name.is_none() {
            crate::page::settings::mark_sample(&self.register_id.get_value());
        }
        post(&ToWorker::Start(name));
    }

    /// Whether this browser's register is the sample it chose to explore.
    pub fn is_sample(&self) -> bool {
        crate::page::settings::is_sample(&self.register_id.get_value())
    }

    /// The register this browser works on.
    pub fn register_id(&self) -> shared::protocol::DocumentId {
        self.register_id.get_value()
    }

    /// The relay and this member's token, when the register is shared through one.
    pub fn relay(&self) -> Option<crate::bridge::RelayAddress> {
        self.relay.get_value()
    }

    /// Says who uses this browser: kept in the browser, and told to the worker so the next
    /// edit carries the name.
    pub fn identify(&self, person: Option<Id>) {
        if !crate::page::settings::set_person(&self.register_id.get_value(), person.as_deref()) {
            self.error.set(Some("This browser did not keep who you are: it will ask again after a reload.".into()));
        }
        self.person.set(person.clone());
        post(&ToWorker::Identify(person));
    }

    /// The message on show: what the person just did on this page, else the worker's problem.
    pub fn message(&self) -> Option<String> {
        self.error.get().or_else(|| self.problem.get().map(|p| p.to_string()))
    }

    /// Starts the register worker, which loads the register from IndexedDB before any
    /// network call and then connects to the relay.
    pub fn open(self, settings: Settings) {
        let worker = match web_sys::Worker::new(WORKER_SCRIPT) {
            Ok(worker) => worker,
            Err(_) => {
                self.error.set(Some("This browser could not start the register's worker.".into()));
                return;
            }
        };
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                match decode::<ToPage>(&event.data()) {
                    Ok(message) => self.take(message),
                    Err(e) => self.error.set(Some(format!("The register worker sent {e}"))),
                }
            });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the page
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            self.error
                .set(Some("The register's worker stopped: reload the page. Edits already saved are safe.".into()));
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        LINK.with(|link| {
            *link.borrow_mut() =
                Some(Link { worker, queued: Vec::new(), ready: false, waiting: HashMap::new(), next: 0 })
        });
        post(&ToWorker::Open {
            register: settings.register.to_string(),
            relay: settings.relay,
            viewer: settings.viewer,
        });
        post(&ToWorker::Identify(self.person.get_untracked()));
    }

    /// Takes in one message from the worker (the browser tests feed these directly).
    pub fn take(&self, message: ToPage) {
        match message {
            ToPage::Ready => LINK.with(|link| {
                if let Some(link) = link.borrow_mut().as_mut() {
                    link.ready = true;
                    for bytes in link.queued.drain(..) {
                        send(&link.worker, &bytes);
                    }
                }
            }),
            ToPage::Patch(mut patch) => {
                let conflicts = std::mem::take(&mut patch.conflicts);
                if patch.whole {
                    self.conflicts.update(HashMap::clear);
                }
                if !conflicts.is_empty() {
                    self.conflicts.update(|known| {
                        for (kind, id, found) in conflicts {
                            known.insert((kind, id), found);
                        }
                    });
                }
                if !patch.is_empty() {
                    let mut kinds: BTreeSet<Kind> = patch.put.iter().map(|(_, r)| r.kind()).collect();
                    kinds.extend(patch.removed.iter().map(|(kind, _)| *kind));
                    if patch.whole {
                        kinds.extend(Kind::ALL.iter().copied());
                    }
                    self.register.update(|r| patch.apply_to(Arc::make_mut(r)));
                    self.changed(kinds);
                }
            }
            ToPage::Status(status) => {
                // Each signal is set only when its value moved, so views showing one part of
                // the status are not drawn again for another.
                fn set<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
                    if signal.with_untracked(|v| *v != value) {
                        signal.set(value);
                    }
                }
                if status.problem.is_some() && self.problem.with_untracked(|p| *p != status.problem) {
                    // A new problem from the worker is more recent than the page's own message.
                    self.error.set(None);
                }
                set(self.problem, status.problem);
                set(self.saved, status.saved);
                // Turned away for good (access revoked, say): the copy here stays, read-only,
                // since nothing written now could ever reach anyone.
                if matches!(status.sync, SyncStatus::Refused(_)) {
                    set(self.viewer, true);
                }
                set(self.sync, status.sync);
                set(self.unsent, status.unsent);
                set(self.last_sync, status.last_sync);
                set(self.blank, status.blank);
            }
            ToPage::Failed(e) => self.error.set(Some(e.to_string())),
            ToPage::Measured(ms) => measured(ms),
            ToPage::Answer { id, answer } => {
                let sender = LINK.with(|link| link.borrow_mut().as_mut().and_then(|l| l.waiting.remove(&id)));
                // The view that asked may be gone; then nobody waits for the answer.
                if let Some(sender) = sender {
                    let _ = sender.send(answer);
                }
            }
        }
    }

    /// Writes an edit a person made; a refused one comes back as an error saying why.
    /// Returns false when nothing was sent (a read-only member).
    pub fn apply(&self, edit: Edit) -> bool {
        if self.viewer.get_untracked() {
            self.error.set(Some("You can read this register but not change it.".into()));
            return false;
        }
        // Shown at once, so the next edit of the same record builds on this one even before
        // the worker answers; the worker's patch then puts the stored version in its place,
        // or the record as it was if the worker refuses the edit.
        let shown = match &edit {
            Edit::Create { id, record } | Edit::Update { id, new: record, .. } => Some((id, record)),
            _ => None,
        };
        if let Some((id, record)) = shown {
            if let Err(e) = record.check() {
                self.error.set(Some(e.to_string()));
                return false;
            }
            let kind = record.kind();
            let patch = RegisterPatch { put: vec![(id.clone(), (**record).clone())], ..RegisterPatch::default() };
            self.register.update(|r| patch.apply_to(Arc::make_mut(r)));
            self.changed([kind]);
        }
        self.error.set(None);
        post(&ToWorker::Apply(edit));
        true
    }

    fn changed(&self, kinds: impl IntoIterator<Item = Kind>) {
        self.changes.update(|counts| {
            for kind in kinds {
                *counts.entry(kind).or_default() += 1;
            }
        });
    }

    /// `f` of the register, worked out again only when a record of `kind` changes: for what
    /// depends on one kind alone, such as the options of a picker.
    pub fn of_kind<T: Clone + PartialEq + Send + Sync + 'static>(
        &self,
        kind: Kind,
        f: impl Fn(&Register) -> T + Send + Sync + 'static,
    ) -> Memo<T> {
        let changes = self.changes;
        let count = Memo::new(move |_| changes.with(|c| c.get(&kind).copied().unwrap_or(0)));
        let register = self.register;
        Memo::new(move |_| {
            // Read, not only tracked: a memo that has never run follows nothing, so `track`
            // alone would leave this list as it first was.
            count.get();
            register.with_untracked(|r| f(r))
        })
    }

    async fn ask(&self, question: Question) -> Option<Answer> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        let id = LINK.with(|link| {
            let mut link = link.borrow_mut();
            let link = link.as_mut()?;
            link.next += 1;
            link.waiting.insert(link.next, sender);
            Some(link.next)
        })?;
        post(&ToWorker::Ask { id, question });
        receiver.await.ok()
    }

    /// Fields of one record edited at the same time on two devices, with every value
    /// (tracked). The worker's patches keep them up to date; a record nobody has opened since
    /// the register was loaded is asked about once.
    pub fn conflicts_of(&self, kind: Kind, id: &str) -> Vec<Conflict> {
        let key = (kind, id.to_string());
        if let Some(found) = self.conflicts.with(|known| known.get(&key).cloned()) {
            return found;
        }
        let store = *self;
        leptos::task::spawn_local(async move {
            let question = Question::Conflicts { kind, id: key.1.clone() };
            if let Some(Answer::Conflicts(Ok(found))) = store.ask(question).await {
                // A patch that arrived meanwhile is newer than this answer.
                store.conflicts.update(|known| {
                    known.entry(key).or_insert(found);
                });
            }
        });
        Vec::new()
    }

    /// One record's changes (who, when, what) and its concurrent edits.
    pub async fn history(&self, kind: Kind, id: &str) -> Result<(Vec<HistoryEntry>, Vec<Conflict>), String> {
        match self.ask(Question::History { kind, id: id.into() }).await {
            Some(Answer::History(found)) => found,
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// Who the relay says sent each of these changes, and when.
    pub async fn uploads(
        &self,
        changes: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, shared::authorship::Upload>, String> {
        match self.ask(Question::Uploads(changes)).await {
            Some(Answer::Uploads(found)) => found,
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// The register as it stood at the end of `date`.
    pub async fn as_of(&self, date: Date) -> Result<Register, String> {
        match self.ask(Question::AsOf(date)).await {
            Some(Answer::AsOf(found)) => found.map(|register| *register),
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// The whole document with its history, as a backup the app or another peer can load.
    pub async fn save(&self) -> Result<Vec<u8>, String> {
        match self.ask(Question::Document).await {
            Some(Answer::Document(bytes)) => Ok(bytes),
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// A download, made by the worker from the register it holds.
    pub async fn export(&self, kind: Download) -> Result<File, String> {
        match self.ask(Question::Export { kind, today: today(), generated: now() }).await {
            Some(Answer::Export(file)) => file,
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// What a spreadsheet would import (read by the worker against the register it holds).
    pub async fn import_preview(
        &self,
        file_name: String,
        bytes: Vec<u8>,
        sheet: Option<usize>,
        target: Option<shared::import::Target>,
        mapping: Option<shared::import::Mapping>,
    ) -> Result<crate::bridge::ImportView, String> {
        match self.ask(Question::Import { file_name, bytes, sheet, target, mapping }).await {
            Some(Answer::Import(view)) => view.map(|v| *v),
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// Takes in a register document downloaded earlier; returns how many changes were new.
    pub async fn restore_backup(&self, bytes: Vec<u8>) -> Result<usize, String> {
        if self.viewer.get_untracked() {
            return Err("You can read this register but not change it.".into());
        }
        match self.ask(Question::Restore(bytes)).await {
            Some(Answer::Restored(result)) => result.map_err(|p| p.to_string()),
            _ => Err("the register's worker did not answer".into()),
        }
    }
}

/// Asks the browser not to evict the register under storage pressure. The answer is only
/// advice to show; the app works either way.
pub async fn ask_for_persistence() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let promise = storage.persist().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.as_bool()
}

/// Records the worker's figure for an edit reaching IndexedDB as a User Timing measure named
/// `edit-to-indexeddb` on the page, where the browser's tools and `cargo xtask measure` read it.
fn measured(ms: f64) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else { return };
    let options = js_sys::Object::new();
    let end = performance.now();
    let _ = js_sys::Reflect::set(&options, &"start".into(), &(end - ms).into());
    let _ = js_sys::Reflect::set(&options, &"end".into(), &end.into());
    if let Ok(measure) = js_sys::Reflect::get(&performance, &"measure".into()) {
        let _ = js_sys::Function::from(measure).call2(&performance, &"edit-to-indexeddb".into(), &options);
    }
}
