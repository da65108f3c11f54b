//! The browser app's entry point: mounts the register views onto the page Trunk built.

fn main() {
    console_error_panic_hook::set_once();
    continuity_app::register_service_worker();
    leptos::mount::mount_to_body(continuity_app::App);
}
