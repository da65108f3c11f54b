//! The Continuity Register browser app, laid out by where code runs: `page` (the store the
//! views read and the settings), `worker` (the register worker's shell around
//! `shared::replica`), `bridge` (what the two say to each other), `clock`, and the views:
//! the shell, navigation, status, findings, calendar and export here, the sections in their
//! own files.

pub mod bridge;
pub mod clock;
pub mod download;
pub mod fields;
pub mod history;
pub mod page;
pub mod records;
pub mod risks;
pub mod sections;
pub mod worker;

use bridge::Download;
use clock::today;
use leptos::prelude::*;
use leptos::task::spawn_local;
use page::store::Store;
use records::{Focus, headings};
use shared::calendar::obligations;
use shared::export::tables;
use shared::replica::{Saved, SyncStatus};
use shared::{Kind, Severity, findings};

/// The sections of the app, in the order of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Risks,
    Suppliers,
    People,
    Exercises,
    Finance,
    Plans,
    Calendar,
    Findings,
    History,
    Export,
}

impl Section {
    const ALL: [Section; 10] = [
        Section::Risks,
        Section::Suppliers,
        Section::People,
        Section::Exercises,
        Section::Finance,
        Section::Plans,
        Section::Calendar,
        Section::Findings,
        Section::History,
        Section::Export,
    ];
    fn label(self) -> &'static str {
        match self {
            Section::Risks => "Risks",
            Section::Suppliers => "Suppliers",
            Section::People => "People and deputies",
            Section::Exercises => "Exercises and actions",
            Section::Finance => "Finance",
            Section::Plans => "Plans",
            Section::Calendar => "Calendar",
            Section::Findings => "Findings",
            Section::History => "History",
            Section::Export => "Export",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Section::Risks => "risks",
            Section::Suppliers => "suppliers",
            Section::People => "people",
            Section::Exercises => "exercises",
            Section::Finance => "finance",
            Section::Plans => "plans",
            Section::Calendar => "calendar",
            Section::Findings => "findings",
            Section::History => "history",
            Section::Export => "export",
        }
    }
    /// Where the records of a kind are edited.
    fn of_kind(kind: Kind) -> Section {
        match kind {
            Kind::Risk => Section::Risks,
            Kind::Supplier => Section::Suppliers,
            Kind::Person | Kind::Role | Kind::Runbook | Kind::BreakGlass => Section::People,
            Kind::Exercise | Kind::Action => Section::Exercises,
            Kind::Policy => Section::Finance,
            Kind::Plan => Section::Plans,
        }
    }
}

/// The section on show, shared so a finding or a calendar entry can open another section.
#[derive(Clone, Copy)]
struct Showing(RwSignal<Section>);

/// Opens the record a finding or calendar entry is about.
fn open_record(kind: Kind, id: String) {
    let focus = expect_context::<Focus>();
    let showing = expect_context::<Showing>();
    showing.0.set(Section::of_kind(kind));
    focus.0.set(Some((kind, id)));
}

/// The whole app. The register is read from this browser's storage first; the relay, if an
/// invite set one up, is contacted after that.
#[component]
pub fn App() -> impl IntoView {
    let (settings, problem) = page::settings::load();
    let store = Store::new(&settings);
    store.error.set(problem);
    provide_context(store);
    store.open(settings);
    spawn_local(async {
        if page::store::ask_for_persistence().await == Some(false) {
            leptos::logging::log!("the browser may evict this register under storage pressure");
        }
    });
    let section = RwSignal::new(Section::Risks);
    provide_context(Showing(section));
    provide_context(Focus(RwSignal::new(None)));
    let name = move || store.register.with(|r| r.name.clone());
    view! {
        <header>
            <h1>"Continuity Register"</h1>
            <p data-testid="register-name">{name}</p>
            <Status />
        </header>
        <nav aria-label="Sections">
            {Section::ALL
                .into_iter()
                .map(|s| {
                    view! {
                        <button
                            data-testid=format!("nav-{}", s.slug())
                            aria-current=move || (section.get() == s).then_some("page")
                            on:click=move |_| section.set(s)
                        >
                            {s.label()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            {move || store.message().map(|e| view! { <p role="alert" data-testid="error">{e}</p> })}
            {move || match section.get() {
                Section::Risks => view! { <risks::Risks /> }.into_any(),
                Section::Suppliers => view! { <sections::Suppliers /> }.into_any(),
                Section::People => view! { <sections::People /> }.into_any(),
                Section::Exercises => view! { <sections::Exercises /> }.into_any(),
                Section::Finance => view! { <sections::Finance /> }.into_any(),
                Section::Plans => view! { <sections::Plans /> }.into_any(),
                Section::History => view! { <history::History /> }.into_any(),
                Section::Findings => view! { <Findings /> }.into_any(),
                Section::Calendar => view! { <Calendar /> }.into_any(),
                Section::Export => view! { <Export /> }.into_any(),
            }}
        </main>
    }
}

/// Installs the service worker that lets the app open with no network. Failing to is not
/// an error the person can act on (a private window, say): the app works online regardless.
pub fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().service_worker().register("/sw.js");
    }
}

/// Where this browser's copy stands: saved locally or not, and the relay's state.
#[component]
fn Status() -> impl IntoView {
    let store = expect_context::<Store>();
    let time = |at: i64| clock::local_time(at, true);
    let saved = move || match store.saved.get() {
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
            text.push_str(&format!("; {unsent} change{} not yet on the relay", if unsent == 1 { "" } else { "s" }));
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

/// Everything the register raises today, errors first.
#[component]
fn Findings() -> impl IntoView {
    let store = expect_context::<Store>();
    let items = move || {
        let found = findings(&store.register.get(), today());
        if found.is_empty() {
            return view! { <p data-testid="findings-none">"Nothing to raise today."</p> }.into_any();
        }
        view! {
            <ul data-testid="findings-list">
                {found
                    .into_iter()
                    .map(|f| {
                        let class = match f.severity {
                            Severity::Error => "severity-error",
                            Severity::Warning => "severity-warning",
                        };
                        let kind = f.kind;
                        let open = f.id.clone().map(|id| {
                            view! {
                                " "
                                <button class="link" data-testid="finding-open" on:click=move |_| open_record(kind, id.clone())>
                                    "Open the record"
                                </button>
                            }
                        });
                        view! {
                            <li data-testid="finding" class=class>
                                <strong>{f.severity.label()}": "</strong>
                                {f.message}
                                {open}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h2>"Findings"</h2>
        {items}
    }
}

/// Every dated obligation, due or overdue, with a calendar file to download.
#[component]
fn Calendar() -> impl IntoView {
    let store = expect_context::<Store>();
    let busy = RwSignal::new(false);
    let download = move |_| prepare(store, busy, Download::Calendar);
    let rows = move || {
        obligations(&store.register.get(), today())
            .into_iter()
            .map(|o| {
                let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "Now".into());
                let kind = o.kind;
                let subject = match o.id.clone() {
                    Some(id) => view! {
                        <button class="link" data-testid="obligation-open" on:click=move |_| open_record(kind, id.clone())>{o.subject.clone()}</button>
                    }
                    .into_any(),
                    None => o.subject.clone().into_any(),
                };
                view! {
                    <tr data-testid="obligation" class:overdue=o.overdue>
                        <td>{due}</td>
                        <td>{o.what}</td>
                        <td>{subject}</td>
                        <td>{if o.overdue { "Overdue" } else { "" }}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <h2>"Review calendar"</h2>
        <button data-testid="calendar-download" on:click=download disabled=busy>
            "Download calendar (.ics)"
        </button>
        <Preparing busy/>
        <table data-testid="calendar-table">
            {headings(&["Due", "What", "Record", "State"])}
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Makes a download in the register worker and offers it; a failure is shown like any other.
fn prepare(store: Store, busy: RwSignal<bool>, kind: Download) {
    busy.set(true);
    spawn_local(async move {
        let result = store.export(kind).await.and_then(|file| download::offer(&file.name, &file.mime, &file.bytes));
        busy.set(false);
        store.error.set(result.err());
    });
}

/// Says a download is being made.
#[component]
fn Preparing(busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <p role="status" data-testid="export-busy">
            {move || if busy.get() { "Preparing the download…" } else { "" }}
        </p>
    }
}

/// Downloads for auditors.
#[component]
fn Export() -> impl IntoView {
    let store = expect_context::<Store>();
    let busy = RwSignal::new(false);
    let workbook = move |_| prepare(store, busy, Download::Workbook);
    let whole = move |_| prepare(store, busy, Download::Json);
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
        <Preparing busy/>
        <h3>"Restore"</h3>
        <p class="field">
            <label for="import-document">"Restore from a register document (.automerge): what it holds that is missing here is merged in; nothing here is lost"</label>
            <input type="file" id="import-document" data-testid="import-document" accept=".automerge" on:change=restore disabled=move || store.viewer.get() />
        </p>
        <p role="status" data-testid="import-result">{move || restored.get()}</p>
    }
}
