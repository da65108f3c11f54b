//! The register worker's entry point (Trunk builds it as `register-worker`, started by the
//! page in `page/store.rs`): the replica, with the document, its storage and sync, runs here.

fn main() {
    console_error_panic_hook::set_once();
    continuity_app::worker::run_in_worker();
}
