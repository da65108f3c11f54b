//! The page's side of the register: the hydrated register and the state the views show, kept
//! up to date by the register worker (`engine.rs` runs there), and the one way views change
//! the register: `Store::apply` with an `Edit`. The browser clock is read here.

use crate::bridge::{Answer, Question, ToPage, ToWorker, decode, encode};
use crate::exports::{File, Kind};
use crate::sync::SyncStatus;
use leptos::prelude::*;
use shared::protocol::DocumentId;
use shared::{Conflict, Date, Edit, HistoryEntry, Register, RegisterPatch};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Where Trunk puts the register worker's loader (workers keep their binary's name).
const WORKER_SCRIPT: &str = "/register-worker_loader.js";

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

/// Where the copy in this browser stands.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

fn post(message: &ToWorker) {
    let bytes = encode(message);
    LINK.with(|link| {
        if let Some(link) = link.borrow_mut().as_mut() {
            if link.ready {
                let _ = link.worker.post_message(&bytes);
            } else {
                link.queued.push(bytes);
            }
        }
    });
}

/// What the views show: the register and where this browser's copy stands. The engine
/// keeps these in the worker and the page's `Store` mirrors them.
#[derive(Clone, Copy)]
pub struct Shown {
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

impl Shown {
    pub fn new(settings: &Settings) -> Shown {
        Shown {
            register: RwSignal::new(Arc::new(Register::default())),
            error: RwSignal::new(None),
            saved: RwSignal::new(Saved::Loading),
            sync: RwSignal::new(if settings.relay.is_some() { SyncStatus::Connecting } else { SyncStatus::Local }),
            unsent: RwSignal::new(0),
            last_sync: RwSignal::new(None),
            viewer: RwSignal::new(settings.viewer),
        }
    }
}

/// The register as the views see it, and what the worker says about saving and syncing.
#[derive(Clone, Copy)]
pub struct Store {
    shown: Shown,
    /// Counts the worker's reads of the document: what is asked of the document itself
    /// (concurrent values, history) is asked again when this moves.
    pub revision: RwSignal<u64>,
}

impl std::ops::Deref for Store {
    type Target = Shown;
    fn deref(&self) -> &Shown {
        &self.shown
    }
}

impl Store {
    pub fn new(settings: &Settings) -> Store {
        Store { shown: Shown::new(settings), revision: RwSignal::new(0) }
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
    }

    fn take(&self, message: ToPage) {
        match message {
            ToPage::Ready => LINK.with(|link| {
                if let Some(link) = link.borrow_mut().as_mut() {
                    link.ready = true;
                    for bytes in link.queued.drain(..) {
                        let _ = link.worker.post_message(&bytes);
                    }
                }
            }),
            ToPage::Patch(patch) => {
                if !patch.is_empty() {
                    self.register.update(|r| patch.apply_to(Arc::make_mut(r)));
                }
                self.revision.update(|n| *n += 1);
            }
            ToPage::Saved(saved) => self.saved.set(saved),
            ToPage::Sync(sync) => self.sync.set(sync),
            ToPage::Unsent(n) => self.unsent.set(n),
            ToPage::LastSync(at) => self.last_sync.set(at),
            ToPage::Error(e) => self.error.set(e),
            ToPage::Measured(ms) => measured(ms),
            ToPage::Answer { id, answer } => {
                let sender = LINK.with(|link| link.borrow_mut().as_mut().and_then(|l| l.waiting.remove(&id)));
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
            let patch = RegisterPatch { put: vec![(id.clone(), (**record).clone())], ..RegisterPatch::default() };
            self.register.update(|r| patch.apply_to(Arc::make_mut(r)));
        }
        self.error.set(None);
        post(&ToWorker::Apply(edit));
        true
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

    /// Fields of one record edited at the same time on two devices, with every value.
    pub async fn conflicts(&self, collection: &str, id: &str) -> Vec<Conflict> {
        match self.ask(Question::Conflicts { collection: collection.into(), id: id.into() }).await {
            Some(Answer::Conflicts(found)) => found,
            _ => Vec::new(),
        }
    }

    /// One record's changes (who, when, what) and its concurrent edits.
    pub async fn history(&self, collection: &str, id: &str) -> Result<(Vec<HistoryEntry>, Vec<Conflict>), String> {
        match self.ask(Question::History { collection: collection.into(), id: id.into() }).await {
            Some(Answer::History(found)) => found,
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
    pub async fn export(&self, kind: Kind) -> Result<File, String> {
        match self.ask(Question::Export { kind, today: today(), generated: now() }).await {
            Some(Answer::Export(file)) => file,
            _ => Err("the register's worker did not answer".into()),
        }
    }

    /// Takes in a register document downloaded earlier; returns how many changes were new.
    pub async fn restore_backup(&self, bytes: Vec<u8>) -> Result<usize, String> {
        if self.viewer.get_untracked() {
            return Err("You can read this register but not change it.".into());
        }
        match self.ask(Question::Restore(bytes)).await {
            Some(Answer::Restored(result)) => result,
            _ => Err("the register's worker did not answer".into()),
        }
    }
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
