//! Browser tests (headless Chromium via wasm-bindgen-test): the app renders the sample
//! register, an edit reaches IndexedDB before it is called saved and survives a reload, two
//! tabs' writes to one database never destroy each other, and the export worker's requests
//! survive the trip as a message and make every file in wasm, where there is no system clock.
#![cfg(target_arch = "wasm32")]

use shared::Severity;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn count(selector: &str) -> u32 {
    document().query_selector_all(selector).unwrap().length()
}

fn by_testid(testid: &str) -> web_sys::Element {
    document().query_selector(&format!("[data-testid='{testid}']")).unwrap().expect(testid)
}

fn text(testid: &str) -> String {
    by_testid(testid).text_content().unwrap_or_default()
}

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

/// Clicks a control, then lets Leptos re-render (it does so on a later task).
async fn click(testid: &str) {
    by_testid(testid).dyn_into::<web_sys::HtmlElement>().unwrap().click();
    pause(10).await;
}

/// Types into a field and commits it, as leaving the field does.
async fn fill(testid: &str, value: &str) {
    let input = by_testid(testid);
    if let Some(input) = input.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = input.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    }
    input.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    pause(10).await;
}

fn mount() -> leptos::mount::UnmountHandle<impl leptos::tachys::view::Mountable> {
    let body = document().body().unwrap();
    leptos::mount::mount_to(body, continuity_app::App)
}

fn risk_rows() -> u32 {
    count("[data-testid='risks-table'] tbody tr[data-testid^='risk-R-']")
}

#[wasm_bindgen_test]
async fn app_shows_the_sample_register() {
    let app = mount();
    let heading = document().query_selector("h1").unwrap().expect("the app renders a heading");
    assert_eq!(heading.text_content().unwrap(), "Continuity Register");
    until("the register to load", || risk_rows() >= 8).await;
    assert!(count("[data-testid='risk-R-001']") == 1);
    assert_eq!(count("td[data-testid^='heat-']"), 25);
    assert!(count("[data-testid='risk-R-001']") == 1);

    click("nav-findings").await;
    assert!(count("[data-testid='finding']") > 0);
    assert_eq!(count("[data-testid='finding'].severity-error"), 0, "the sample has no errors");

    click("nav-calendar").await;
    assert!(count("[data-testid='obligation']") > 10);

    click("nav-export").await;
    assert_eq!(count("[data-testid^='export-csv-']"), 12);
    // The other downloads are made by the export worker, which only a Trunk build has: the
    // end-to-end tests click them; `exports_and_calendar_work_in_wasm` checks what it makes.
    click("export-document").await;
    assert_eq!(count("[data-testid='error']"), 0, "the document download was prepared");
    drop(app);
}

#[wasm_bindgen_test]
async fn an_edit_is_stored_before_it_is_called_saved_and_survives_a_reload() {
    let app = mount();
    until("the register to load", || risk_rows() >= 8).await;
    let before = risk_rows();
    click("risk-new").await;
    until("the editor", || count("[data-testid='risk-editor']") == 1).await;
    fill("risk-title", "Payroll bureau outage").await;
    fill("risk-category", "Supplier").await;
    until("the edit to be saved", || text("save-status").starts_with("All edits saved")).await;

    // Saved means in IndexedDB: read the database directly, as a fresh page would.
    let register = web_sys::window().unwrap().local_storage().unwrap().unwrap().get_item("continuity.register");
    let register = register.unwrap().unwrap();
    let local =
        continuity_app::local::Local::open(&register.parse::<shared::protocol::DocumentId>().unwrap().to_string())
            .await
            .unwrap();
    let mut doc = shared::RegisterDoc::empty();
    for chunk in local.load().await.unwrap() {
        doc.automerge().load_incremental(&chunk.bytes).unwrap();
    }
    let stored = doc.register().unwrap();
    assert!(stored.risks.values().any(|r| r.title == "Payroll bureau outage" && r.category == "Supplier"));

    // A reload: a new app over the same storage shows the edit.
    drop(app);
    let app = mount();
    until("the register to reload", || risk_rows() == before + 1).await;
    assert!(text("risks-table").contains("Payroll bureau outage"));

    // Bad input is refused with a message and nothing is written.
    click("sort-title").await;
    let first = document().query_selector("[data-testid^='open-R-']").unwrap().unwrap();
    first.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    pause(10).await;
    fill("risk-title", "   ").await;
    assert!(text("error").contains("needs a title"), "{}", text("error"));
    drop(app);
}

/// Two tabs write to one register's database at once; one folds what it has seen into a
/// snapshot. The other tab's chunk, which it had not seen, survives.
#[wasm_bindgen_test]
async fn two_tabs_never_destroy_each_others_writes() {
    use continuity_app::local::Local;
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

#[wasm_bindgen_test]
fn exports_and_calendar_work_in_wasm() {
    use continuity_app::exports::{Kind, Request, make, message_id};
    let today = continuity_app::doc::today();
    let mut doc = shared::sample::sample(today, 1_795_000_000).unwrap();
    let register = doc.register().unwrap();
    assert!(shared::findings(&register, today).iter().all(|f| f.severity != Severity::Error));
    let document = doc.save();
    // Each request goes through the message the page posts to the worker and back.
    let made = |kind: Kind| {
        let request = Request { kind: kind.clone(), today, generated: 1_795_000_000, document: document.clone() };
        let message = request.to_js(7);
        assert_eq!(message_id(&message), Some(7));
        let request = Request::from_js(&message).unwrap();
        assert_eq!((request.kind.clone(), request.today, request.generated), (kind, today, 1_795_000_000));
        make(request).unwrap()
    };
    let workbook = made(Kind::Workbook);
    assert_eq!(workbook.name, "continuity-register.xlsx");
    assert_eq!(&workbook.bytes[..2], b"PK", "an XLSX file is a zip archive");
    let json = String::from_utf8(made(Kind::Json).bytes).unwrap();
    assert!(json.contains(&register.name));
    let risks = made(Kind::Section("Risks".into()));
    assert_eq!(risks.name, "risks.csv");
    assert_eq!(continuity_app::exports::file_stem("Break-glass accounts"), "break-glass-accounts");
    assert!(String::from_utf8(risks.bytes).unwrap().lines().count() > 1);
    let calendar = made(Kind::Calendar);
    let text = String::from_utf8(calendar.bytes).unwrap();
    let obligations = shared::calendar::obligations(&register, today);
    assert!(text.starts_with("BEGIN:VCALENDAR"));
    // Every stamp is the one passed in: nothing read a clock.
    assert_eq!(text.matches("DTSTAMP:").count(), obligations.len());
    assert_eq!(text.matches("DTSTAMP:20261118T110640Z").count(), obligations.len());

    // A request that is not one says what is wrong with it.
    let bad = Request { kind: Kind::Section("Nothing".into()), today, generated: 0, document: b"junk".to_vec() };
    assert!(make(bad).unwrap_err().starts_with("could not read the register"));
    let missing = Request::from_js(&js_sys::Object::new().into()).err().unwrap();
    assert_eq!(missing, "the export request has no kind");
}

#[wasm_bindgen_test]
fn long_tables_are_shown_a_page_at_a_time() {
    use continuity_app::records::{PAGE_ROWS, page_of};
    let rows: Vec<usize> = (0..PAGE_ROWS * 2 + 5).collect();
    assert_eq!(page_of(&rows, 0), (0..PAGE_ROWS).collect::<Vec<_>>());
    assert_eq!(page_of(&rows, 2), (PAGE_ROWS * 2..PAGE_ROWS * 2 + 5).collect::<Vec<_>>());
    // A page past the end (the table shrank under a filter) shows the last page.
    assert_eq!(page_of(&rows, 9), page_of(&rows, 2));
    assert!(page_of(&Vec::<usize>::new(), 3).is_empty());
}

#[wasm_bindgen_test]
fn times_are_shown_on_the_persons_own_clock_in_uk_style() {
    use continuity_app::doc::local_time;
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
