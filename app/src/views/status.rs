//! The status line: whether every edit is saved in this browser, and whether it is shared
//! through the server (the relay; "server" is the word people know).

use crate::clock;
use crate::page::store::Store;
use leptos::prelude::*;
use shared::replica::{Saved, SyncStatus};

/// Who uses this browser: their edits carry this person's name, beside which History
/// shows the member the server verified.
#[component]
pub fn WhoAmI() -> impl IntoView {
    let store = expect_context::<Store>();
    // The register's people as every person picker lists them, with its own first choice.
    let people = move || {
        let mut people = store.register.with(|r| crate::views::records::people(r));
        if let Some(none) = people.first_mut() {
            none.1 = "Choose who you are".into();
        }
        people
    };
    move || {
        (!store.viewer.get()).then(|| {
            crate::views::fields::choice(
                "You are",
                "who-am-i",
                people,
                move || store.person.get(),
                move |person| store.identify(person),
            )
        })
    }
}

/// Where this browser's copy stands: saved locally or not, and the relay's state.
#[component]
pub fn Status() -> impl IntoView {
    let store = expect_context::<Store>();
    let time = |at: i64| clock::local_time(at, true);
    let saved = move || match store.saved.get() {
        _ if store.problems.with(|p| !p.is_empty()) => {
            let n = store.problems.with(|p| p.len());
            format!("Not saved: {n} problem{}", if n == 1 { "" } else { "s" })
        }
        Saved::Loading => "Opening the register…".to_string(),
        Saved::Saving => "Saving…".to_string(),
        Saved::Saved(None) => "All edits saved in this browser".to_string(),
        Saved::Saved(Some(at)) => format!("All edits saved in this browser ({})", time(at)),
        Saved::Failed(_) => "Not saved in this browser: see the message below".to_string(),
    };
    let sync = move || {
        let status = store.sync.get();
        let mut text = status.describe();
        let unsent = store.unsent.get();
        if status != SyncStatus::Local && unsent > 0 {
            text.push_str(&format!("; {unsent} change{} not yet on the server", if unsent == 1 { "" } else { "s" }));
        }
        if let Some(at) = store.last_sync.get() {
            text.push_str(&format!("; last synced {}", time(at)));
        }
        text
    };
    let state = move || match store.sync.get() {
        SyncStatus::Local => "local",
        SyncStatus::Connecting => "connecting",
        SyncStatus::Connected if store.unsent.get() > 0 => "syncing",
        SyncStatus::Connected => "connected",
        SyncStatus::Offline { .. } => "offline",
        SyncStatus::Interrupted { .. } => "interrupted",
        SyncStatus::Refused(_) => "refused",
        SyncStatus::Unavailable => "unavailable",
    };
    view! {
        <div class="status" role="status" aria-live="polite">
            <span data-testid="save-status">{saved}</span>
            " · "
            <span data-testid="sync-status" data-state=state>{sync}</span>
            {move || store.viewer.get().then(|| view! { " · " <strong data-testid="read-only">"Read only"</strong> })}
        </div>
    }
}
