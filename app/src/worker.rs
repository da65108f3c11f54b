//! The export worker's entry point (Trunk builds it as `export-worker`, loaded by
//! `exports.rs`): answers each request from the page with the file it asks for.

use continuity_app::exports::{Request, make, message_id, reply};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let answer = scope.clone();
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let data = event.data();
        let Some(id) = message_id(&data) else { return };
        let result = Request::from_js(&data).and_then(make);
        if let Err(error) = answer.post_message(&reply(id, &result)) {
            web_sys::console::error_1(&error);
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    // Messages sent before this point were dropped: the page waits for this one first.
    let ready = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&ready, &"ready".into(), &JsValue::TRUE);
    if let Err(error) = scope.post_message(&ready) {
        web_sys::console::error_1(&error);
    }
}
