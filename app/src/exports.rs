//! Downloads (CSV, XLSX, JSON, iCalendar) made in a web worker of their own. The writers
//! (the XLSX zip and deflate code above all) are a large share of the code and nobody needs
//! them to open the register, so the page's wasm leaves them out: the worker's wasm
//! (`src/worker.rs`, Trunk's `export-worker`) is fetched the first time someone exports.
//! Both sides of the message format live here so they cannot drift apart.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use shared::date::Date;
use shared::doc::RegisterDoc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Where Trunk puts the worker's loader: workers keep their binary's name (no content hash),
/// because the page has to name the script at run time.
const WORKER_SCRIPT: &str = "/export-worker_loader.js";

/// What to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The workbook, a sheet per section.
    Workbook,
    /// The whole register as JSON.
    Json,
    /// One section's table as CSV, by its section name.
    Section(String),
    /// Every due and overdue obligation as an iCalendar file.
    Calendar,
}

/// One export: what to make, from which state of the register, on which day.
pub struct Request {
    pub kind: Kind,
    pub today: Date,
    /// Seconds since the Unix epoch, stamped into the workbook and the calendar.
    pub generated: i64,
    /// The register document (`RegisterDoc::save`): the worker reads the same state the page shows.
    pub document: Vec<u8>,
}

/// A file ready to offer as a download.
#[derive(Debug)]
pub struct File {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a plain property on a fresh object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

fn text(value: &JsValue, key: &str) -> Result<String, String> {
    get(value, key).as_string().ok_or_else(|| format!("the export request has no {key}"))
}

impl Request {
    /// The message the page posts to the worker.
    pub fn to_js(&self, id: u32) -> JsValue {
        let message = Object::new();
        set(&message, "id", id);
        let (kind, section) = match &self.kind {
            Kind::Workbook => ("workbook", None),
            Kind::Json => ("json", None),
            Kind::Section(name) => ("csv", Some(name.as_str())),
            Kind::Calendar => ("calendar", None),
        };
        set(&message, "kind", kind);
        if let Some(section) = section {
            set(&message, "section", section);
        }
        set(&message, "today", self.today.iso());
        set(&message, "generated", self.generated as f64);
        set(&message, "document", Uint8Array::from(self.document.as_slice()));
        message.into()
    }

    /// Reads a message posted by `to_js`; the error names what was missing or wrong.
    pub fn from_js(message: &JsValue) -> Result<Request, String> {
        let kind = match text(message, "kind")?.as_str() {
            "workbook" => Kind::Workbook,
            "json" => Kind::Json,
            "csv" => Kind::Section(text(message, "section")?),
            "calendar" => Kind::Calendar,
            other => return Err(format!("unknown export kind {other:?}")),
        };
        let today = Date::parse(&text(message, "today")?).map_err(|e| e.0)?;
        let generated = get(message, "generated").as_f64().ok_or("the export request has no time")? as i64;
        let document = get(message, "document")
            .dyn_into::<Uint8Array>()
            .map_err(|_| "the export request has no register document".to_string())?
            .to_vec();
        Ok(Request { kind, today, generated, document })
    }
}

/// The message id of a reply (or request).
pub fn message_id(message: &JsValue) -> Option<u32> {
    get(message, "id").as_f64().map(|id| id as u32)
}

/// The reply the worker posts back: the file, or why there is none.
pub fn reply(id: u32, result: &Result<File, String>) -> JsValue {
    let message = Object::new();
    set(&message, "id", id);
    match result {
        Ok(file) => {
            set(&message, "name", file.name.as_str());
            set(&message, "mime", file.mime.as_str());
            set(&message, "bytes", Uint8Array::from(file.bytes.as_slice()));
        }
        Err(error) => set(&message, "error", error.as_str()),
    }
    message.into()
}

fn read_reply(message: &JsValue) -> Result<File, String> {
    if let Some(error) = get(message, "error").as_string() {
        return Err(error);
    }
    Ok(File {
        name: text(message, "name")?,
        mime: text(message, "mime")?,
        bytes: get(message, "bytes")
            .dyn_into::<Uint8Array>()
            .map_err(|_| "the export worker sent no file".to_string())?
            .to_vec(),
    })
}

/// In the worker: makes the file a request asks for.
pub fn make(request: Request) -> Result<File, String> {
    use shared::calendar::{ics, obligations};
    use shared::export::{csv_section, json, xlsx};
    let register = RegisterDoc::load(&request.document)
        .and_then(|doc| doc.register())
        .map_err(|e| format!("could not read the register: {e}"))?;
    let generated = chrono::DateTime::from_timestamp(request.generated, 0).unwrap_or_default();
    let (name, mime, bytes) = match &request.kind {
        Kind::Workbook => (
            "continuity-register.xlsx".to_string(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx(&register, request.today, generated).map_err(|e| e.to_string())?,
        ),
        Kind::Json => {
            ("continuity-register.json".to_string(), "application/json", json(&register).map_err(|e| e.to_string())?)
        }
        Kind::Section(section) => (
            format!("{}.csv", file_stem(section)),
            "text/csv",
            csv_section(&register, request.today, section).map_err(|e| e.to_string())?,
        ),
        Kind::Calendar => (
            "review-calendar.ics".to_string(),
            "text/calendar",
            ics(&register.name, &obligations(&register, request.today), request.today, generated).into_bytes(),
        ),
    };
    Ok(File { name, mime: mime.to_string(), bytes })
}

/// A section's name as a file name: "Supplier reviews" becomes "supplier-reviews".
pub fn file_stem(section: &str) -> String {
    section.to_lowercase().replace(' ', "-")
}

/// The page's side: one worker, started on the first export and kept for the next ones.
struct Exporter {
    worker: web_sys::Worker,
    /// Requests posted before the worker said it was ready: a worker drops messages that
    /// arrive before its wasm has set a handler.
    queued: Vec<JsValue>,
    ready: bool,
    /// The promise callbacks (resolve, reject) of each request not yet answered.
    waiting: HashMap<u32, (Function, Function)>,
    next: u32,
}

thread_local! {
    static EXPORTER: RefCell<Option<Exporter>> = const { RefCell::new(None) };
}

/// Fails every request still waiting and forgets the worker, so the next export starts a new one.
fn fail_all(why: &str) {
    let exporter = EXPORTER.with(|e| e.borrow_mut().take());
    if let Some(exporter) = exporter {
        exporter.worker.terminate();
        for (_, (_, reject)) in exporter.waiting {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(why));
        }
    }
}

fn on_message(event: web_sys::MessageEvent) {
    let data = event.data();
    if get(&data, "ready").is_truthy() {
        EXPORTER.with(|e| {
            if let Some(exporter) = e.borrow_mut().as_mut() {
                exporter.ready = true;
                for message in exporter.queued.drain(..) {
                    if let Err(error) = exporter.worker.post_message(&message) {
                        web_sys::console::error_1(&error);
                    }
                }
            }
        });
        return;
    }
    let Some(id) = message_id(&data) else { return };
    let callbacks = EXPORTER.with(|e| e.borrow_mut().as_mut().and_then(|x| x.waiting.remove(&id)));
    if let Some((resolve, _)) = callbacks {
        let _ = resolve.call1(&JsValue::NULL, &data);
    }
}

fn start() -> Result<Exporter, String> {
    let worker = web_sys::Worker::new(WORKER_SCRIPT).map_err(|_| "the browser refused to start the export worker")?;
    let message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(on_message);
    worker.set_onmessage(Some(message.as_ref().unchecked_ref()));
    message.forget();
    // A worker that cannot load (offline before it was ever cached, say) reports only this.
    let error = Closure::<dyn Fn(web_sys::Event)>::new(|_| {
        fail_all(
            "The export could not be made: the export worker could not be loaded or stopped. Check the connection and try again.",
        )
    });
    worker.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
    Ok(Exporter { worker, queued: Vec::new(), ready: false, waiting: HashMap::new(), next: 0 })
}

/// Makes a file in the worker; the error says what went wrong, for the page to show.
pub async fn export(request: Request) -> Result<File, String> {
    let mut post = None;
    let promise = Promise::new(&mut |resolve, reject| {
        post = Some(EXPORTER.with(|e| -> Result<(), String> {
            let mut slot = e.borrow_mut();
            if slot.is_none() {
                *slot = Some(start()?);
            }
            let exporter = slot.as_mut().expect("just started");
            exporter.next += 1;
            let id = exporter.next;
            exporter.waiting.insert(id, (resolve, reject));
            let message = request.to_js(id);
            if exporter.ready {
                exporter.worker.post_message(&message).map_err(|_| "could not send the export to the worker")?;
            } else {
                exporter.queued.push(message);
            }
            Ok(())
        }));
    });
    if let Some(Err(error)) = post {
        return Err(error);
    }
    let reply = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| "the export failed".into()))?;
    read_reply(&reply)
}
