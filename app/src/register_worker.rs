//! The register worker's entry point (Trunk builds it as `register-worker`, started by the
//! page in `doc.rs`): the engine, with the document, its storage and sync, runs here.

fn main() {
    console_error_panic_hook::set_once();
    // Effects and tasks need an executor; in a page `mount_to_body` starts one.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    continuity_app::engine::run_in_worker();
}
