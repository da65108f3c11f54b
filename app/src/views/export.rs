//! Export: the downloads (CSV per section, XLSX, JSON, the register document) made by the
//! register worker, restoring a register document downloaded earlier, and, for a register
//! kept in this browser only, the id to share it through a server under.

use crate::bridge::{self, Download};
use crate::clock::today;
use crate::page::download;
use crate::page::store::Store;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::export::tables;

/// Makes a download in the register worker and offers it; a failure is shown like any other.
pub fn prepare(store: Store, busy: RwSignal<bool>, kind: Download) {
    busy.set(true);
    spawn_local(async move {
        let result = store.export(kind).await.and_then(|file| download::offer(&file.name, &file.mime, &file.bytes));
        busy.set(false);
        store.error.set(result.err());
    });
}

/// Says a download is being made.
#[component]
pub fn Preparing(busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <p role="status" data-testid="export-busy">
            {move || if busy.get() { "Preparing the download…" } else { "" }}
        </p>
    }
}

/// Downloads for auditors.
#[component]
pub fn Export() -> impl IntoView {
    let store = expect_context::<Store>();
    let busy = RwSignal::new(false);
    let workbook = move |_| prepare(store, busy, Download::Workbook);
    let whole = move |_| prepare(store, busy, Download::Json);
    let trust_page = move |_| prepare(store, busy, Download::TrustSummary { html: true });
    let trust_data = move |_| prepare(store, busy, Download::TrustSummary { html: false });
    let backup = move |_| {
        spawn_local(async move {
            let result = store.save().await.and_then(|document| {
                download::offer("continuity-register.automerge", "application/octet-stream", &document)
            });
            store.error.set(result.err());
        });
    };
    let restored = RwSignal::new(String::new());
    let restore = move |ev: leptos::ev::Event| {
        let Some(file) = event_target::<web_sys::HtmlInputElement>(&ev).files().and_then(|f| f.get(0)) else { return };
        restored.set(format!("Reading {}…", file.name()));
        spawn_local(async move {
            let name = file.name();
            let bytes = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
            let Ok(bytes) = bytes else {
                restored.set(String::new());
                store.error.set(Some(format!("Could not read {name}.")));
                return;
            };
            match store.restore_backup(js_sys::Uint8Array::new(&bytes).to_vec()).await {
                Ok(0) => restored.set(format!("Nothing new: everything in {name} is already in this register.")),
                Ok(n) => restored.set(format!("Restored {n} change{} from {name}.", if n == 1 { "" } else { "s" })),
                Err(e) => {
                    restored.set(String::new());
                    store.error.set(Some(format!("Could not restore {name}: {e}")));
                }
            }
        });
    };
    let sections = move || {
        tables(&store.register.get(), today())
            .into_iter()
            .map(|table| {
                let name = table.section;
                let rows = table.rows.len();
                let save = move |_| prepare(store, busy, Download::Section(name.to_string()));
                view! {
                    <li>
                        <button data-testid=format!("export-csv-{}", bridge::file_stem(name)) on:click=save disabled=busy>
                            {format!("{name} (CSV, {rows} rows)")}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <h2>"Export"</h2>
        <p>
            <button data-testid="export-xlsx" on:click=workbook disabled=busy>
                "Workbook (XLSX, a sheet per section)"
            </button>
            " "
            <button data-testid="export-json" on:click=whole disabled=busy>
                "Whole register (JSON)"
            </button>
            " "
            <button data-testid="export-document" on:click=backup>
                "Register document with full history (.automerge)"
            </button>
        </p>
        <ul>{sections}</ul>
        <h3>"Trust centre summary"</h3>
        <p class="hint">"For customers: the risks and documents an owner approved for publication, with the line written for them; nothing internal. Put the page on your own site as it is."</p>
        <p>
            <button data-testid="export-trust-html" on:click=trust_page disabled=busy>"Summary page (HTML)"</button>
            " "
            <button data-testid="export-trust-json" on:click=trust_data disabled=busy>"Summary (JSON)"</button>
        </p>
        {publish(store)}
        <Preparing busy/>
        <h3>"Restore"</h3>
        <p class="field">
            <label for="import-document">"Restore from a register document (.automerge): what it holds that is missing here is merged in; nothing here is lost"</label>
            <input type="file" id="import-document" data-testid="import-document" accept=".automerge" on:change=restore disabled=move || store.viewer.get() />
        </p>
        <p role="status" data-testid="import-result">{move || restored.get()}</p>
        {share(store)}
    }
}

/// Makes the summary page and its JSON in the worker and hands both to the relay, which
/// serves them at the register's public address; the address, or why not.
async fn publish_summary(store: Store) -> Result<String, String> {
    let relay = store.relay().ok_or("no server")?;
    let page = store.export(Download::TrustSummary { html: true }).await?;
    let data = store.export(Download::TrustSummary { html: false }).await?;
    let text = |f: bridge::File| String::from_utf8(f.bytes).map_err(|e| e.to_string());
    let body =
        serde_json::json!({"register": store.register_id().to_string(), "html": text(page)?, "json": text(data)?});
    match crate::http::post(&relay, "/trust/publish", &body).await {
        Err(why) => Err(format!("The server could not be reached ({why}); try again when you are online.")),
        Ok((200, answer)) => {
            let path = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["path"].as_str().map(str::to_string))
                .ok_or("The server's answer is unreadable")?;
            Ok(crate::http::address(&relay, &path))
        }
        Ok((_, why)) => Err(format!("The server refused: {why}")),
    }
}

/// For a register's owners on a server: publish the summary at its public address.
fn publish(store: Store) -> Option<AnyView> {
    if store.relay().is_none() || !store.owner.get_untracked() {
        return None;
    }
    let said = RwSignal::new(None::<Result<String, String>>);
    let go = move |_| spawn_local(async move { said.set(Some(publish_summary(store).await)) });
    Some(
        view! {
            <p>
                <button data-testid="export-trust-publish" on:click=go>"Publish the summary on the server"</button>
            </p>
            {move || match said.get() {
                Some(Ok(url)) => view! { <p role="status">"Published at " <a data-testid="export-trust-address" href=url.clone()>{url.clone()}</a> " for anyone to read; publish again after approving changes."</p> }.into_any(),
                Some(Err(why)) => view! { <p class="problem" role="alert">{why}</p> }.into_any(),
                None => ().into_any(),
            }}
        }
        .into_any(),
    )
}

/// For a register kept in this browser only: its id, which whoever runs the team's server
/// creates it under; the owner's invite they send back, opened here, uploads it.
fn share(store: Store) -> Option<AnyView> {
    if store.relay().is_some() {
        return None;
    }
    let id = store.register_id().url();
    let command = format!("continuity-relay register create --owner \"Your name\" --register {id}");
    Some(
        view! {
            <h3>"Share this register"</h3>
            <p>
                "It is kept in this browser only. To work on it with your team, whoever runs your server creates it there under this id; the owner's invite they send you, opened in this browser, uploads it."
            </p>
            <p class="field">
                <label for="share-register-id">"This register's id"</label>
                <input type="text" id="share-register-id" data-testid="share-register-id" readonly=true prop:value=id />
            </p>
            <p class="hint" data-testid="share-register-command">{format!("On the server: {command}")}</p>
        }
        .into_any(),
    )
}
