//! Browser tests (headless Chromium via wasm-bindgen-test): the register worker's shell
//! starts from the sample, an edit reaches IndexedDB before it is called
//! saved and survives a reload, two tabs' writes to one database never destroy each other,
//! messages between page and worker survive the trip, and every export is made in wasm,
//! where there is no system clock. The interface itself is tested end to end.
#![cfg(target_arch = "wasm32")]

use continuity_app::bridge::{Answer, Question, ToPage, ToWorker};
use continuity_app::page::settings::Settings;
use continuity_app::page::store::Store;
use continuity_app::worker;
use leptos::prelude::*;
use shared::protocol::DocumentId;
use shared::replica::Saved;
use shared::{Edit, Record, Severity};
use std::rc::Rc;
use wasm_bindgen_test::*;
wasm_bindgen_test_configure!(run_in_browser);

async fn pause(ms: i32) {
    let later = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(later).await.unwrap();
}

/// Waits (up to five seconds) for something the app does on a later task or after IndexedDB
/// answers.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..250 {
        if done() {
            return;
        }
        pause(20).await;
    }
    panic!("timed out waiting for {what}");
}

/// A register of its own for each test: a fresh id, no relay.
fn fresh_register() -> DocumentId {
    let mut id = [0u8; 16];
    for byte in id.iter_mut() {
        *byte = (js_sys::Math::random() * 256.0) as u8;
    }
    DocumentId(id)
}

/// The worker's shell running in the test's page, talking straight to a page store: what
/// the register worker and the page do, without the worker boundary in between.
fn open(register: DocumentId) -> Store {
    let settings = Settings { register, relay: None, viewer: false, owner: false };
    let store = Store::new(&settings);
    worker::open(register, None, false, Rc::new(move |message: ToPage| store.take(message)));
    store
}

/// A fresh register on a browser with nothing stored: it asks, and the sample is chosen.
async fn open_sample(register: DocumentId) -> Store {
    let store = open(register);
    until("the first screen's question", || store.blank.get_untracked()).await;
    worker::take(ToWorker::Start(None), Rc::new(move |message: ToPage| store.take(message)));
    store
}

fn apply(store: Store, edit: Edit) {
    worker::take(ToWorker::Apply(edit), Rc::new(move |message: ToPage| store.take(message)));
}

async fn saved(store: Store) {
    until("the edit to be saved", || matches!(store.saved.get_untracked(), Saved::Saved(Some(_)))).await;
}

#[wasm_bindgen_test]
async fn the_worker_starts_the_sample_when_it_is_chosen() {
    let store = open_sample(fresh_register()).await;
    until("the register to open", || store.register.get_untracked().risks.len() >= 8).await;
    let register = store.register.get_untracked();
    let today = continuity_app::clock::today();
    assert!(
        shared::findings(&register, shared::date::Now::noon(today))
            .iter()
            .all(|f| f.severity != Severity::Error || shared::sample::meant(f)),
        "the sample has no errors but those it was written with"
    );
    assert!(shared::calendar::obligations(&register, today).len() > 10);
    // The sample is written to IndexedDB before it is called saved.
    saved(store).await;
}

#[wasm_bindgen_test]
async fn an_edit_is_stored_before_it_is_called_saved_and_survives_a_reload() {
    let register = fresh_register();
    let store = open_sample(register).await;
    saved(store).await;
    let risk = shared::Risk { category: "Supplier".into(), ..shared::Risk::titled("Payroll bureau outage") };
    apply(store, Edit::Create { id: "payroll".into(), record: risk.clone().any_record() });
    assert_eq!(store.saved.get_untracked(), Saved::Saving, "not saved until IndexedDB says so");
    saved(store).await;

    // Saved means in IndexedDB: read the database directly, as a fresh page would.
    let local = continuity_app::worker::local::Local::open(&register.to_string()).await.unwrap();
    let mut doc = shared::RegisterDoc::empty();
    for chunk in local.load().await.unwrap() {
        doc.automerge().load_incremental(&chunk.bytes).unwrap();
    }
    let stored = doc.register().unwrap();
    assert!(stored.risks.values().any(|r| r.title == "Payroll bureau outage" && r.category == "Supplier"));

    // A reload: a new worker over the same storage has the edit. A question asked before
    // storage is read waits for it, rather than being answered from an empty document.
    let again = open(register);
    let answered = Rc::new(std::cell::RefCell::new(None));
    let answer_to = answered.clone();
    let question = Question::History { kind: shared::Kind::Risk, id: "payroll".into() };
    worker::take(
        ToWorker::Ask { id: 9, question },
        Rc::new(move |message: ToPage| {
            if let ToPage::Answer { answer, .. } = message {
                *answer_to.borrow_mut() = Some(answer);
            }
        }),
    );
    until("the history asked during the reload", || answered.borrow().is_some()).await;
    match answered.borrow_mut().take() {
        Some(Answer::History(Ok((entries, _)))) => assert!(!entries.is_empty(), "the history of a stored risk"),
        other => panic!("expected the risk's history, got {other:?}"),
    }
    until("the reloaded register", || again.register.get_untracked().risks.contains_key("payroll")).await;
    let shown = again.register.get_untracked().risks["payroll"].clone();
    assert_eq!(shown.category, "Supplier");

    // Bad input is refused with a message and nothing is written.
    let blank = shared::Risk { title: "   ".into(), ..shown.clone() };
    apply(again, Edit::Update { id: "payroll".into(), old: shown.any_record(), new: blank.any_record() });
    until("the refusal", || again.problem.get_untracked().is_some()).await;
    assert!(again.problem.get_untracked().unwrap().to_string().contains("needs a title"));
    assert_eq!(again.register.get_untracked().risks["payroll"].title, "Payroll bureau outage");
}

#[wasm_bindgen_test]
fn messages_between_the_page_and_the_worker_survive_the_trip() {
    use continuity_app::bridge::{Question, ToWorker, decode, encode};
    let edit = Edit::Archive { kind: shared::Kind::Risk, id: "r1".into(), archived: true };
    let sent = ToWorker::Ask { id: 3, question: Question::Conflicts { kind: shared::Kind::Risk, id: "r1".into() } };
    match decode::<ToWorker>(&encode(&sent).into()).unwrap() {
        ToWorker::Ask { id: 3, question: Question::Conflicts { kind, id } } => {
            assert_eq!((kind, id.as_str()), (shared::Kind::Risk, "r1"))
        }
        other => panic!("{other:?}"),
    }
    match decode::<ToWorker>(&encode(&ToWorker::Apply(edit.clone())).into()).unwrap() {
        ToWorker::Apply(back) => assert_eq!(back, edit),
        other => panic!("{other:?}"),
    }
    assert!(decode::<ToWorker>(&js_sys::Uint8Array::from(&[255u8, 1, 2][..]).into()).is_err());
}

/// Two tabs write to one register's database at once; one folds what it has seen into a
/// snapshot. The other tab's chunk, which it had not seen, survives.
#[wasm_bindgen_test]
async fn two_tabs_never_destroy_each_others_writes() {
    use continuity_app::worker::local::Local;
    let name = format!("tabs-{}", js_sys::Math::random());
    let (a, b) = (Local::open(&name).await.unwrap(), Local::open(&name).await.unwrap());
    let mut doc_a = shared::RegisterDoc::new("Tabs", 1_795_000_000).unwrap();
    let mut doc_b = doc_a.fork();
    let first = a.append(&doc_a.save()).await.unwrap();
    let base = doc_a.heads();
    doc_a.create("ra", shared::Person { name: "From A".into(), ..Default::default() }, 1_795_000_001).unwrap();
    doc_b.create("rb", shared::Person { name: "From B".into(), ..Default::default() }, 1_795_000_002).unwrap();
    let (chunk_a, chunk_b) = (doc_a.save_after(&base), doc_b.save_after(&base));
    // Both writes are issued before either is awaited, so their transactions overlap.
    let (ka, kb) = futures::join!(a.append(&chunk_a), b.append(&chunk_b));
    kb.unwrap();
    // Tab A compacts only what it has folded in: its own two chunks.
    a.compact(&doc_a.save(), &[first, ka.unwrap()]).await.unwrap();
    let mut reloaded = shared::RegisterDoc::empty();
    for chunk in b.load().await.unwrap() {
        reloaded.automerge().load_incremental(&chunk.bytes).unwrap();
    }
    let people = reloaded.register().unwrap().people;
    assert!(people.contains_key("ra") && people.contains_key("rb"), "{people:?}");
}

/// The writes that must be on disk before the app says "saved" ask the browser for it.
#[wasm_bindgen_test]
async fn edits_are_written_with_strict_durability() {
    use continuity_app::worker::local::Local;
    let local = Local::open(&format!("durability-{}", js_sys::Math::random())).await.unwrap();
    let tx: web_sys::IdbTransaction = local.strict("test").unwrap().into();
    let durability = js_sys::Reflect::get(&tx, &"durability".into()).unwrap();
    assert_eq!(durability.as_string().as_deref(), Some("strict"));
}

/// A browser that stored its register with the previous version of the database (chunks
/// only) keeps every chunk when the app opens it with the view store added.
#[wasm_bindgen_test]
async fn a_database_from_before_the_view_keeps_its_chunks() {
    use continuity_app::worker::local::Local;
    let register = fresh_register();
    let name = format!("continuity-register:{register}");
    let old = rexie::Rexie::builder(&name)
        .version(1)
        .add_object_store(rexie::ObjectStore::new("chunks").auto_increment(true))
        .build()
        .await
        .unwrap();
    let mut doc = shared::RegisterDoc::new("Before the view", 1_795_000_000).unwrap();
    let tx = old.transaction(&["chunks"], rexie::TransactionMode::ReadWrite).unwrap();
    let bytes = js_sys::Uint8Array::from(doc.save().as_slice());
    tx.store("chunks").unwrap().add(&bytes.into(), None).await.unwrap();
    tx.done().await.unwrap();
    old.close();

    let local = Local::open(&register.to_string()).await.unwrap();
    let chunks = local.load().await.unwrap();
    assert_eq!(chunks.len(), 1);
    assert!(local.load_view().await.unwrap().is_none());
    local.save_view(b"a view").await.unwrap();
    assert_eq!(local.load_view().await.unwrap().as_deref(), Some(&b"a view"[..]));
    // And the worker opens it as the register it holds.
    let store = open(register);
    until("the register to open", || store.register.get_untracked().name == "Before the view").await;
}

#[wasm_bindgen_test]
fn exports_and_calendar_work_in_wasm() {
    use continuity_app::bridge::{Download, Question, ToWorker, decode, encode};
    use continuity_app::worker::exports::make;
    let today = continuity_app::clock::today();
    let register = shared::sample::sample(today, 1_795_000_000).unwrap().register().unwrap();
    let found = shared::findings(&register, shared::date::Now::noon(today));
    assert!(found.iter().all(|f| f.severity != Severity::Error || shared::sample::meant(f)));
    // Each request goes through the message the page sends to the register worker.
    let made = |kind: Download| {
        let asked =
            ToWorker::Ask { id: 7, question: Question::Export { kind: kind.clone(), today, generated: 1_795_000_000 } };
        match decode::<ToWorker>(&encode(&asked).into()).unwrap() {
            ToWorker::Ask { id: 7, question: Question::Export { kind: k, today: t, generated } } => {
                assert_eq!((&k, t, generated), (&kind, today, 1_795_000_000));
                make(&register, &k, t, generated).unwrap()
            }
            other => panic!("{other:?}"),
        }
    };
    let workbook = made(Download::Workbook);
    let stem = format!("-{}", today.iso());
    assert_eq!(workbook.name, format!("brightwater-software-ltd-register{stem}.xlsx"), "whose register, and which day");
    assert_eq!(&workbook.bytes[..2], b"PK", "an XLSX file is a zip archive");
    let json = String::from_utf8(made(Download::Json).bytes).unwrap();
    assert!(json.contains(&register.name));
    let risks = made(Download::Section("Risks".into()));
    assert_eq!(risks.name, format!("brightwater-software-ltd-risks{stem}.csv"));
    assert_eq!(continuity_app::bridge::file_stem("Break-glass accounts"), "break-glass-accounts");
    assert!(String::from_utf8(risks.bytes).unwrap().lines().count() > 1);
    let calendar = made(Download::Calendar);
    let text = String::from_utf8(calendar.bytes).unwrap();
    let obligations = shared::calendar::obligations(&register, today);
    assert!(text.starts_with("BEGIN:VCALENDAR"));
    // Every stamp (each event's and its two reminders') is the one passed in: nothing read a
    // clock.
    assert_eq!(text.matches("DTSTAMP:").count(), 3 * obligations.len());
    assert_eq!(text.matches("DTSTAMP:20261118T110640Z").count(), 3 * obligations.len());
    // The trust centre summary is made here too: a page and its JSON.
    let page = String::from_utf8(made(Download::TrustSummary { html: true }).bytes).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains(&register.name));
    let summary = made(Download::TrustSummary { html: false });
    assert_eq!(summary.name, format!("brightwater-software-ltd-trust-summary{stem}.json"));

    // A section that does not exist says so.
    let missing = make(&register, &Download::Section("Nothing".into()), today, 0).unwrap_err();
    assert!(missing.contains("Nothing"), "{missing}");
}

#[wasm_bindgen_test]
fn long_tables_are_shown_a_page_at_a_time() {
    use continuity_app::views::records::{PAGE_ROWS, page_of};
    let rows: Vec<usize> = (0..PAGE_ROWS * 2 + 5).collect();
    assert_eq!(page_of(&rows, 0), (0..PAGE_ROWS).collect::<Vec<_>>());
    assert_eq!(page_of(&rows, 2), (PAGE_ROWS * 2..PAGE_ROWS * 2 + 5).collect::<Vec<_>>());
    // A page past the end (the table shrank under a filter) shows the last page.
    assert_eq!(page_of(&rows, 9), page_of(&rows, 2));
    assert!(page_of(&Vec::<usize>::new(), 3).is_empty());
}

#[wasm_bindgen_test]
fn times_are_shown_on_the_persons_own_clock_in_uk_style() {
    use continuity_app::clock::local_time;
    // 18 Nov 2026 11:06:40 UTC; the test browser's clock may be in any zone, so only the
    // offset it reports is allowed to move the hour.
    let at = 1_795_000_000;
    let offset_minutes = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64 * 1000.0)).get_timezone_offset();
    let shown = local_time(at, false);
    if offset_minutes == 0.0 {
        assert_eq!(shown, "18 Nov 2026 11:06");
        assert_eq!(local_time(at, true), "11:06:40");
    }
    assert!(shown.contains("Nov 2026") && shown.len() >= "8 Nov 2026 00:00".len(), "{shown}");
}

#[wasm_bindgen_test]
fn a_list_of_one_kind_is_worked_out_again_only_when_that_kind_changes() {
    use shared::{Kind, Person, RegisterPatch, Risk};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let settings = Settings { register: fresh_register(), relay: None, viewer: false, owner: false };
    let store = Store::new(&settings);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let names = store.of_kind(Kind::Person, move |r| {
        counted.fetch_add(1, Ordering::SeqCst);
        r.people.values().map(|p| p.name.clone()).collect::<Vec<_>>()
    });
    let put = |id: &str, record: Box<shared::AnyRecord>| {
        store.take(ToPage::Patch(RegisterPatch { put: vec![(id.into(), *record)], ..Default::default() }))
    };
    assert!(names.get_untracked().is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // A risk arrives: the people are as they were, and nobody works them out again.
    put("r1", Risk { title: "Supplier outage".into(), ..Default::default() }.any_record());
    assert!(names.get_untracked().is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // A person arrives from the worker, then one is typed on this page: each is in the list.
    put("p1", Person { name: "Amara".into(), ..Default::default() }.any_record());
    assert_eq!(names.get_untracked(), ["Amara"]);
    let edit =
        Edit::Create { id: "p2".into(), record: Person { name: "Ben".into(), ..Default::default() }.any_record() };
    store.apply(edit);
    assert_eq!(names.get_untracked(), ["Amara", "Ben"]);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    // A person removed, and a whole register in place of this one: the list follows both.
    store.take(ToPage::Patch(RegisterPatch { removed: vec![(Kind::Person, "p1".into())], ..Default::default() }));
    assert_eq!(names.get_untracked(), ["Ben"]);
    let mut other = shared::Register::default();
    other.people.insert("p9".into(), Person { name: "Chidi".into(), ..Default::default() });
    store.take(ToPage::Patch(RegisterPatch::whole(&other)));
    assert_eq!(names.get_untracked(), ["Chidi"]);
}
