//! Browser tests (headless Chromium via wasm-bindgen-test): the app renders the sample
//! register, and the shared model's exports work compiled to wasm, where there is no
//! system clock to fall back on.
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

/// Clicks a control, then lets Leptos re-render (it does so on a later task).
async fn click(testid: &str) {
    let el = document().query_selector(&format!("[data-testid='{testid}']")).unwrap().expect(testid);
    el.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    let later = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(later).await.unwrap();
}

#[wasm_bindgen_test]
async fn app_shows_the_sample_register() {
    leptos::mount::mount_to_body(continuity_app::App);
    let heading = document().query_selector("h1").unwrap().expect("the app renders a heading");
    assert_eq!(heading.text_content().unwrap(), "Continuity Register");
    assert_eq!(count("[data-testid='risks-table'] tbody tr"), 8);
    assert!(count("[data-testid='risk-R-001']") == 1);

    click("nav-findings").await;
    assert!(count("[data-testid='finding']") > 0);
    assert_eq!(count("[data-testid='finding'].severity-error"), 0, "the sample has no errors");

    click("nav-calendar").await;
    assert!(count("[data-testid='obligation']") > 10);

    click("nav-export").await;
    assert_eq!(count("[data-testid^='export-csv-']"), 12);
    click("export-xlsx").await;
    click("export-json").await;
    click("export-document").await;
    click("export-csv-risks").await;
    assert_eq!(count("[data-testid='error']"), 0, "every download was prepared");
}

#[wasm_bindgen_test]
fn exports_and_calendar_work_in_wasm() {
    let today = continuity_app::doc::today();
    let register = shared::sample::sample(today, 1_795_000_000).unwrap().register().unwrap();
    assert!(shared::findings(&register, today).iter().all(|f| f.severity != Severity::Error));
    let generated = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    let workbook = shared::export::xlsx(&register, today, generated).unwrap();
    assert_eq!(&workbook[..2], b"PK", "an XLSX file is a zip archive");
    let obligations = shared::calendar::obligations(&register, today);
    let text = shared::calendar::ics(&register.name, &obligations, today, generated);
    assert!(text.starts_with("BEGIN:VCALENDAR"));
    // Every stamp is the one passed in: nothing read a clock.
    assert_eq!(text.matches("DTSTAMP:").count(), obligations.len());
    assert_eq!(text.matches("DTSTAMP:20261118T110640Z").count(), obligations.len());
}
