//! The register worker: a thin shell around `shared::replica::Replica`. It turns the
//! replica's effects into IndexedDB, WebSocket, BroadcastChannel and timer calls, feeds
//! their results back as events, and answers the page's questions. All the logic (what to
//! write when, what the relay has, what to show) lives in the replica, tested natively.

pub mod exports;
pub mod imports;
pub mod local;
mod uploads;

use crate::bridge::{Answer, Question, RelayAddress, ToPage, ToWorker, WorkerError, decode, encode};
use crate::clock;
use local::Local;
use shared::protocol::DocumentId;
use shared::replica::{ChunkKey, Config, Effect, Event, Replica};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{BinaryType, BroadcastChannel, MessageEvent, WebSocket};

/// Where the shell's messages to the page go: `postMessage` in the worker, a test's
/// collector in the browser tests.
pub type ToPageFn = Rc<dyn Fn(ToPage)>;

/// A socket event handler, kept alive on the Rust side while the socket may call it.
type Handler = Closure<dyn Fn(JsValue)>;

struct Socket {
    socket: WebSocket,
    _handlers: Vec<Handler>,
}

struct Shell {
    replica: Replica,
    to_page: ToPageFn,
    local: Option<Rc<Local>>,
    relay: Option<RelayAddress>,
    register: DocumentId,
    socket: Option<Socket>,
    tabs: Option<BroadcastChannel>,
    /// When each edit not yet in IndexedDB was made (`performance.now()`), by the replica's
    /// count of edits: the time to storage is measured from the oldest.
    unsaved: VecDeque<(u64, f64)>,
    edits: u64,
    viewer: bool,
    /// The register changed since the calendar was last published to the relay.
    calendar_dirty: bool,
    /// A publication of the calendar is already waiting on a timer.
    calendar_waiting: bool,
    /// Questions asked before storage was read: a view may already be on screen, but the
    /// document behind it is still empty (a history would come back blank, a backup empty).
    questions: Vec<(u32, Question, ToPageFn)>,
}

/// How long after a change the calendar is published: edits come in bursts, and one
/// publication covers them all.
const PUBLISH_AFTER_MS: u32 = 5_000;
/// How long after a failed publication (offline, the relay busy) it is tried again.
const PUBLISH_RETRY_MS: u32 = 30_000;

/// Notes that the register changed, and publishes the calendar a little later. Only an
/// editor's or owner's browser publishes; the relay refuses a viewer's anyway.
fn calendar_changed(wait: u32) {
    let schedule = with_shell(|s| {
        s.calendar_dirty = true;
        let can = s.relay.is_some() && !s.viewer && !s.calendar_waiting;
        s.calendar_waiting |= can;
        can
    });
    if schedule == Some(true) {
        after(wait, publish_calendar);
    }
}

/// Makes the review calendar from the register this worker holds and hands it to the relay,
/// which serves it at the members' private calendar addresses. The relay never reads the
/// register to make it.
fn publish_calendar() {
    let made = with_shell(|s| {
        s.calendar_waiting = false;
        if !std::mem::take(&mut s.calendar_dirty) {
            return None;
        }
        let relay = s.relay.clone()?;
        let register = s.replica.register_to_export().ok()?;
        let file = exports::make(register, &crate::bridge::Download::Calendar, clock::today(), clock::now()).ok()?;
        Some((relay, s.register, String::from_utf8(file.bytes).ok()?))
    })
    .flatten();
    let Some((relay, register, ics)) = made else { return };
    spawn_local(async move {
        let body = serde_json::json!({"register": register.to_string(), "ics": ics});
        match crate::http::post(&relay, "/calendar/publish", &body).await {
            Ok((204, _)) => {}
            // Not this member's to publish (a viewer, or access revoked): nothing to retry.
            Ok((403 | 404, text)) => log("the relay would not take the calendar", &JsValue::from_str(&text)),
            failed => {
                let why = match failed {
                    Ok((status, text)) => format!("{status} {text}"),
                    Err(e) => e,
                };
                log("could not publish the calendar; trying again shortly", &JsValue::from_str(&why));
                calendar_changed(PUBLISH_RETRY_MS);
            }
        }
    });
}

thread_local! {
    static SHELL: RefCell<Option<Shell>> = const { RefCell::new(None) };
}

/// The worker's (or page's) performance timeline: `window` is not there in a worker.
fn performance() -> Option<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok()?.dyn_into().ok()
}

fn log(what: &str, e: &JsValue) {
    web_sys::console::error_2(&what.into(), e);
}

/// Runs `f` after `ms` milliseconds, in a worker as in a page.
fn after(ms: u32, f: impl FnOnce() + 'static) {
    let callback = Closure::once_into_js(f);
    let global = js_sys::global();
    let set_timeout =
        js_sys::Reflect::get(&global, &"setTimeout".into()).and_then(|f| f.dyn_into::<js_sys::Function>());
    match set_timeout {
        Ok(set_timeout) => {
            if let Err(e) = set_timeout.call2(&global, &callback, &ms.into()) {
                log("setTimeout failed", &e);
            }
        }
        Err(e) => log("no setTimeout here", &e),
    }
}

/// Feeds one event to the replica and carries out what it asks. The replica is borrowed only
/// while it handles the event, so an effect that reports back at once cannot collide with it.
fn feed(event: Event) {
    let effects = SHELL.with(|shell| {
        let mut shell = shell.borrow_mut();
        let shell = shell.as_mut()?;
        let edit = matches!(event, Event::Edit(_));
        let effects = shell.replica.handle(clock::moment(), event);
        if edit {
            let edits = shell.replica.edits();
            if edits > shell.edits {
                shell.edits = edits;
                if let Some(p) = performance() {
                    shell.unsaved.push_back((edits, p.now()));
                }
            }
        }
        Some(effects)
    });
    for effect in effects.unwrap_or_default() {
        carry_out(effect);
    }
}

/// The shell's own parts, for one effect.
fn with_shell<T>(f: impl FnOnce(&mut Shell) -> T) -> Option<T> {
    SHELL.with(|shell| shell.borrow_mut().as_mut().map(f))
}

fn carry_out(effect: Effect) {
    match effect {
        Effect::Write { write, bytes, replaces } => {
            let Some(Some(local)) = with_shell(|s| s.local.clone()) else { return };
            spawn_local(async move {
                let result = if replaces.is_empty() {
                    local.append(&bytes).await
                } else {
                    local.compact(&bytes, &replaces).await
                };
                feed(Event::Written { write, result });
            });
        }
        Effect::Announce(key) => {
            with_shell(|s| {
                if let Some(tabs) = &s.tabs
                    && let Err(e) = tabs.post_message(&JsValue::from_f64(key.0 as f64))
                {
                    log("could not tell the other tabs", &e);
                }
            });
        }
        Effect::SaveView(bytes) => {
            let Some(Some(local)) = with_shell(|s| s.local.clone()) else { return };
            spawn_local(async move {
                // Only a cache for opening sooner: the register itself is in the chunks.
                if let Err(e) = local.save_view(&bytes).await {
                    log("could not keep the view of the register", &JsValue::from_str(&e.to_string()));
                }
            });
        }
        Effect::Read(key) => {
            let Some(Some(local)) = with_shell(|s| s.local.clone()) else { return };
            spawn_local(async move {
                let result = local.get(key).await;
                feed(Event::Read { key, result });
            });
        }
        Effect::Connect => connect(),
        Effect::Send(bytes) => {
            with_shell(|s| {
                if let Some(Socket { socket, .. }) = &s.socket
                    && socket.ready_state() == WebSocket::OPEN
                    && let Err(e) = socket.send_with_u8_array(&bytes)
                {
                    log("could not send to the relay", &e);
                }
            });
        }
        Effect::Patch(patch) => {
            to_page(ToPage::Patch(patch));
            calendar_changed(PUBLISH_AFTER_MS);
        }
        Effect::Status(status) => to_page(ToPage::Status(status)),
        Effect::Stored { through_edit } => {
            let oldest = with_shell(|s| {
                let mut oldest = None;
                while s.unsaved.front().is_some_and(|(n, _)| *n <= through_edit) {
                    let (_, at) = s.unsaved.pop_front().expect("checked");
                    oldest.get_or_insert(at);
                }
                oldest
            });
            if let (Some(Some(at)), Some(p)) = (oldest, performance()) {
                to_page(ToPage::Measured(p.now() - at));
            }
        }
        Effect::After { timer, ms } => after(ms, move || feed(Event::Fired(timer))),
    }
}

fn to_page(message: ToPage) {
    if let Some(send) = with_shell(|s| s.to_page.clone()) {
        send(message);
    }
}

/// Opens a WebSocket to the relay and reports what happens on it as events.
fn connect() {
    let Some(Some(RelayAddress { url, token })) = with_shell(|s| s.relay.clone()) else { return };
    // The token as the subprotocol: the only header a browser may set on a WebSocket.
    let socket = match WebSocket::new_with_str(&url, &token) {
        Ok(socket) => socket,
        Err(_) => return feed(Event::RelayBroken(format!("{url} is not a relay address, or the token is malformed"))),
    };
    socket.set_binary_type(BinaryType::Arraybuffer);
    let on_open = Closure::<dyn Fn(JsValue)>::new(move |_| feed(Event::RelayOpened));
    let on_message = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
        let event: MessageEvent = event.unchecked_into();
        if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
            feed(Event::RelayMessage(js_sys::Uint8Array::new(&buffer).to_vec()));
        }
    });
    let closed = socket.clone();
    let on_close = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
        // Only the current socket's closing counts; an old one's may arrive late.
        let current = with_shell(|s| s.socket.as_ref().is_some_and(|c| c.socket == closed)).unwrap_or(false);
        if current {
            with_shell(|s| s.socket = None);
            // The relay says with the close code whether its last error was final.
            let code = event.dyn_ref::<web_sys::CloseEvent>().map(|e| e.code());
            feed(Event::RelayClosed(code));
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    with_shell(|s| s.socket = Some(Socket { socket, _handlers: vec![on_open, on_message, on_close] }));
}

/// Starts the shell for one register: the replica first reads IndexedDB, and only then
/// (if there is a relay) connects.
pub fn open(register: DocumentId, relay: Option<RelayAddress>, viewer: bool, to_page: ToPageFn) {
    let config = Config {
        register,
        relay: relay.is_some(),
        viewer,
        peer: format!("browser-{}", uuid::Uuid::new_v4()),
        // A register this browser has never seen, with no relay to fetch it from, waits for
        // the person to choose an empty register of their own or the sample.
        sample: false,
    };
    let tabs = BroadcastChannel::new(&format!("continuity-register:{register}")).ok();
    if let Some(tabs) = &tabs {
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(key) = event.data().as_f64() {
                feed(Event::Announced(ChunkKey(key as u64)));
            }
        });
        tabs.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the worker
    }
    SHELL.with(|shell| {
        *shell.borrow_mut() = Some(Shell {
            replica: Replica::new(config),
            to_page,
            local: None,
            relay,
            register,
            socket: None,
            tabs,
            unsaved: VecDeque::new(),
            edits: 0,
            viewer,
            calendar_dirty: false,
            calendar_waiting: false,
            questions: Vec::new(),
        })
    });
    spawn_local(async move {
        let opened = match Local::open(&register.to_string()).await {
            Ok(db) => {
                let db = Rc::new(db);
                // The view first: the page can show the register while the document loads.
                match db.load_view().await {
                    Ok(Some(view)) => feed(Event::View(view)),
                    Ok(None) => {}
                    Err(e) => log("could not read the view of the register", &JsValue::from_str(&e.to_string())),
                }
                let chunks = db.load().await;
                with_shell(|s| s.local = Some(db));
                chunks
            }
            Err(e) => Err(e),
        };
        feed(Event::Opened(opened));
        for (id, question, to_page) in with_shell(|s| std::mem::take(&mut s.questions)).unwrap_or_default() {
            to_page(ToPage::Answer { id, answer: answer(question) });
        }
    });
}

/// Answers one of the page's questions.
fn answer(question: Question) -> Answer {
    let answered = with_shell(|s| {
        let replica = &mut s.replica;
        match question {
            Question::Conflicts { kind, id } => {
                Answer::Conflicts(replica.conflicts(kind, &id).map_err(|e| e.to_string()))
            }
            Question::History { kind, id } => Answer::History(replica.history(kind, &id).map_err(|e| e.to_string())),
            Question::AsOf(date) => Answer::AsOf(replica.as_of(date).map(Box::new).map_err(|e| e.to_string())),
            Question::Document => Answer::Document(replica.save()),
            Question::Restore(bytes) => Answer::Restored(replica.restore_backup(clock::moment(), &bytes)),
            Question::Export { kind, today, generated } => {
                Answer::Export(replica.register_to_export().and_then(|r| exports::make(r, &kind, today, generated)))
            }
            Question::Import { file_name, bytes, sheet, target, mapping } => Answer::Import(
                replica
                    .register_to_export()
                    .and_then(|register| imports::import(register, &file_name, &bytes, sheet, target, mapping)),
            ),
            // Asked over the network, in `take`.
            Question::Uploads(_) => Answer::NotOpen,
        }
    });
    // A restore queues effects (storing, showing and sending what it brought).
    let effects = with_shell(|s| s.replica.effects()).unwrap_or_default();
    for effect in effects {
        carry_out(effect);
    }
    answered.unwrap_or(Answer::NotOpen)
}

/// Takes in one message from the page.
pub fn take(message: ToWorker, to_page: ToPageFn) {
    match message {
        ToWorker::Open { register, relay, viewer } => match register.parse() {
            Ok(id) => open(id, relay, viewer, to_page),
            Err(_) => to_page(ToPage::Failed(WorkerError::NotARegister(register))),
        },
        ToWorker::Apply(edit) => {
            if with_shell(|_| ()).is_none() {
                return to_page(ToPage::Failed(WorkerError::NotOpen));
            }
            feed(Event::Edit(edit));
        }
        ToWorker::Identify(person) => feed(Event::Identity(person)),
        ToWorker::Start(name) => feed(Event::Start(name)),
        // The relay's record is asked over HTTP: answered when the relay replies.
        ToWorker::Ask { id, question: Question::Uploads(changes) } => {
            let asked = with_shell(|s| (s.relay.clone(), s.register));
            spawn_local(async move {
                let answer = match asked {
                    None => Answer::NotOpen,
                    Some((None, _)) => Answer::Uploads(Err(
                        "This browser works on its own: there is no server to confirm who sent each change.".into(),
                    )),
                    Some((Some(relay), register)) => Answer::Uploads(uploads::ask(&relay, register, changes).await),
                };
                to_page(ToPage::Answer { id, answer });
            });
        }
        ToWorker::Ask { id, question } => {
            let mut question = Some(question);
            with_shell(|s| {
                if !s.replica.is_open()
                    && let Some(question) = question.take()
                {
                    s.questions.push((id, question, to_page.clone()));
                }
            });
            if let Some(question) = question {
                to_page(ToPage::Answer { id, answer: answer(question) });
            }
        }
    }
}

/// The register worker's whole life: it waits for the page to say which register to open,
/// then keeps the page up to date and writes the page's edits. Everything that touches the
/// document runs here, so the page's wasm carries no Automerge.
pub fn run_in_worker() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let out = scope.clone();
    let to_page: ToPageFn = Rc::new(move |message: ToPage| {
        if let Err(e) = out.post_message(&encode(&message)) {
            log("could not reach the page", &e);
        }
    });
    let send = to_page.clone();
    let handler =
        Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| match decode::<ToWorker>(&event.data()) {
            Ok(message) => take(message, send.clone()),
            Err(e) => send(ToPage::Failed(WorkerError::Unreadable(e))),
        });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget(); // lives as long as the worker
    // The page's and a worker's global scope both say when the network is back.
    let online = Closure::<dyn Fn()>::new(|| feed(Event::Online));
    if let Err(e) = scope.add_event_listener_with_callback("online", online.as_ref().unchecked_ref()) {
        log("cannot hear when the network returns", &e);
    }
    online.forget();
    to_page(ToPage::Ready);
}
