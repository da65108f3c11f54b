//! Browser tests (headless Chromium via wasm-bindgen-test): the app mounts, and the shared
//! model works compiled to wasm.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn app_mounts() {
    leptos::mount::mount_to_body(continuity_app::App);
    let document = web_sys::window().unwrap().document().unwrap();
    let heading = document.query_selector("h1").unwrap().expect("the app renders a heading");
    assert_eq!(heading.text_content().unwrap(), "Continuity Register");
}
