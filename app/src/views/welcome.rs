//! The first screen of a browser that holds no register and has no invite: start the firm's
//! own register (its name is all it needs) or explore the sample. The two are never mixed:
//! the sample lives under a register id of its own, and leaving it starts a new one.

use crate::page::store::Store;
use leptos::prelude::*;

#[component]
pub fn Welcome() -> impl IntoView {
    let store = expect_context::<Store>();
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let start = move || {
        let firm = name.get_untracked().trim().to_string();
        if firm.is_empty() {
            problem.set(Some("Give your firm's name: the register shows it on every page and export."));
            return;
        }
        problem.set(None);
        store.start(Some(firm));
    };
    view! {
        <h2 data-testid="welcome">"Welcome to Continuity Register"</h2>
        <p class="lead">
            "Nothing is kept in this browser yet. Start your firm's own register, or look around the sample first: the two are kept apart."
        </p>
        <section class="welcome" aria-labelledby="welcome-own">
            <h3 id="welcome-own">"Start an empty register"</h3>
            <div class="field" class:field-invalid=move || problem.get().is_some()>
                <label for="welcome-name">"Your firm's name"</label>
                {move || problem.get().map(|why| view! { <p class="field-message" id="welcome-name-error">{why}</p> })}
                <input
                    type="text"
                    id="welcome-name"
                    data-testid="welcome-name"
                    aria-invalid=move || problem.get().is_some().then_some("true")
                    aria-describedby=move || problem.get().is_some().then_some("welcome-name-error")
                    prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            start();
                        }
                    }
                />
            </div>
            <button class="primary" data-testid="welcome-start" on:click=move |_| start()>"Start the register"</button>
            <p class="hint">
                "It is kept in this browser and works offline. To share it with your team, your register needs a server: its owner invites everyone from there."
            </p>
        </section>
        <section class="welcome" aria-labelledby="welcome-sample-heading">
            <h3 id="welcome-sample-heading">"Explore the sample register"</h3>
            <p>"A small software firm's register, with risks, suppliers, exercises, insurance and one incident, to try things out."</p>
            <button data-testid="welcome-sample" on:click=move |_| store.start(None)>"Explore the sample"</button>
        </section>
    }
}

/// On the sample, a reminder that it is the sample, and the way to a register of one's own.
pub fn sample_notice(store: Store) -> Option<AnyView> {
    (store.is_sample() && store.relay().is_none()).then(|| {
        let leave = move |_| match crate::page::settings::leave_the_sample() {
            Ok(()) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            }
            Err(e) => store.error.set(Some(e.to_string())),
        };
        view! {
            <p class="banner" data-testid="sample-notice">
                "This is the sample register, to try things out; nothing here is your firm's. "
                <button class="link" data-testid="leave-sample" on:click=leave>"Start a register of your own"</button>
            </p>
        }
        .into_any()
    })
}
