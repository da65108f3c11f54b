//! The Continuity Register browser app: Leptos components over the shared register model.

use leptos::prelude::*;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main>
            <h1>"Continuity Register"</h1>
        </main>
    }
}
