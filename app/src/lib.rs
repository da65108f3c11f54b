//! The Continuity Register browser app, laid out by where code runs: `page` (the store the
//! views read and the settings), `worker` (the register worker's shell around
//! `shared::replica`), `bridge` (what the two say to each other), `clock`, `http` (questions
//! to the relay), and `views`, one
//! file per section. This file is the shell: the navigation and the section on show.

pub mod bridge;
pub mod clock;
pub mod http;
pub mod page;
pub mod views;
pub mod worker;

use leptos::prelude::*;
use leptos::task::spawn_local;
use page::store::Store;
use shared::Kind;
use views::records::Focus;
use views::*;

/// The sections of the app, in the order of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Today,
    Incidents,
    Risks,
    Suppliers,
    People,
    Exercises,
    Finance,
    Plans,
    Recovery,
    Training,
    Calendar,
    Findings,
    History,
    Report,
    Export,
    Import,
    /// Only for the register's owners.
    Members,
}

impl Section {
    pub const ALL: [Section; 17] = [
        Section::Today,
        Section::Incidents,
        Section::Risks,
        Section::Suppliers,
        Section::People,
        Section::Exercises,
        Section::Finance,
        Section::Plans,
        Section::Recovery,
        Section::Training,
        Section::Calendar,
        Section::Findings,
        Section::History,
        Section::Report,
        Section::Export,
        Section::Import,
        Section::Members,
    ];
    fn label(self) -> &'static str {
        match self {
            Section::Today => "Today",
            Section::Incidents => "Incidents",
            Section::Risks => "Risks",
            Section::Suppliers => "Suppliers",
            Section::People => "People and deputies",
            Section::Exercises => "Exercises and actions",
            Section::Finance => "Finance",
            Section::Plans => "Plans",
            Section::Recovery => "Recovery objectives",
            Section::Training => "Training",
            Section::Calendar => "Calendar",
            Section::Findings => "Findings",
            Section::History => "History",
            Section::Report => "Board report",
            Section::Export => "Export",
            Section::Import => "Import",
            Section::Members => "Members",
        }
    }
    pub fn slug(self) -> &'static str {
        match self {
            Section::Today => "today",
            Section::Incidents => "incidents",
            Section::Risks => "risks",
            Section::Suppliers => "suppliers",
            Section::People => "people",
            Section::Exercises => "exercises",
            Section::Finance => "finance",
            Section::Plans => "plans",
            Section::Recovery => "recovery",
            Section::Training => "training",
            Section::Calendar => "calendar",
            Section::Findings => "findings",
            Section::History => "history",
            Section::Report => "report",
            Section::Export => "export",
            Section::Import => "import",
            Section::Members => "members",
        }
    }
    /// Where the records of a kind are edited.
    pub fn of_kind(kind: Kind) -> Section {
        match kind {
            Kind::Risk => Section::Risks,
            Kind::Supplier => Section::Suppliers,
            Kind::Person | Kind::Role | Kind::Runbook | Kind::BreakGlass => Section::People,
            Kind::Exercise | Kind::Action => Section::Exercises,
            Kind::Policy => Section::Finance,
            Kind::Plan => Section::Plans,
            Kind::Service | Kind::Customer => Section::Recovery,
            Kind::Training => Section::Training,
            Kind::Incident => Section::Incidents,
        }
    }
}

/// Opens the record a finding or calendar entry is about, in its section, at its address.
pub fn open_record(kind: Kind, id: String) {
    expect_context::<page::route::Route>().open(kind, id);
}

/// The whole app. The register is read from this browser's storage first; the relay, if an
/// invite set one up, is contacted after that.
#[component]
pub fn App() -> impl IntoView {
    let (settings, problem) = page::settings::load();
    let store = Store::new(&settings);
    store.error.set(problem.map(|e| e.to_string()));
    provide_context(store);
    store.open(settings);
    spawn_local(async {
        if page::store::ask_for_persistence().await == Some(false) {
            leptos::logging::log!("the browser may evict this register under storage pressure");
        }
    });
    let section = RwSignal::new(Section::Today);
    let focus = Focus(RwSignal::new(None));
    provide_context(focus);
    let route = page::route::Route::start(store, section, focus);
    provide_context(route);
    let name = move || store.register.with(|r| r.name.clone());
    // The counts read the whole register (the findings and the calendar: tens of milliseconds
    // at 10,000 records), so they are worked out after a change is on screen, and once for
    // however many changes came meanwhile; a colleague's edit is not held back by them.
    let counts = RwSignal::new(today::Counts::default());
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        store.register.track();
        if pending.get_value() {
            return;
        }
        pending.set_value(true);
        request_animation_frame(move || {
            set_timeout(
                move || {
                    pending.set_value(false);
                    let now = store.register.with_untracked(|r| today::counts(r, clock::moment()));
                    if counts.get_untracked() != now {
                        counts.set(now);
                    }
                },
                std::time::Duration::ZERO,
            )
        });
    });
    let badge = move |s: Section| {
        let (n, what) = match s {
            Section::Incidents => (counts.get().open_incidents, " open"),
            Section::Risks => (counts.get().above_target, " above target"),
            Section::Calendar => (counts.get().overdue, " overdue"),
            Section::Findings => (counts.get().findings, " needing action"),
            _ => (0, ""),
        };
        (n > 0).then(|| view! { <span class="badge">{n}<span class="visually-hidden">{what}</span></span> })
    };
    // On a small screen the sections are a menu, opened by a button and closed by choosing.
    let menu = RwSignal::new(false);
    view! {
        <header class="masthead">
            <div class="brand">
                <p class="app-name">"Continuity Register"</p>
                <h1 data-testid="register-name">{name}</h1>
            </div>
            <status::Status />
            <status::WhoAmI />
            <button
                class="menu-toggle"
                data-testid="menu-toggle"
                aria-controls="sections"
                aria-expanded=move || menu.get().to_string()
                on:click=move |_| menu.update(|m| *m = !*m)
            >
                "Menu"
            </button>
        </header>
        <nav aria-label="Sections" id="sections" class="sections" class:open=move || menu.get()>
            <ul>
                {Section::ALL
                    .into_iter()
                    // Members is for owners; the relay refuses anyone else all the same.
                    .filter(|s| *s != Section::Members || store.owner.get_untracked())
                    .map(|s| {
                        view! {
                            <li>
                                <button
                                    data-testid=format!("nav-{}", s.slug())
                                    aria-current=move || (section.get() == s).then_some("page")
                                    on:click=move |_| {
                                        menu.set(false);
                                        route.show(s)
                                    }
                                >
                                    <span>{s.label()}</span>
                                    {move || badge(s)}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
        <main>
            <ProblemSummary />
            {move || store.message().map(|e| view! { <p role="alert" data-testid="error">{e}</p> })}
            {move || if store.blank.get() { view! { <welcome::Welcome /> }.into_any() } else { match section.get() {
                Section::Today => view! { <today::Today /> }.into_any(),
                Section::Incidents => view! { <incidents::Incidents /> }.into_any(),
                Section::Risks => view! { <risks::Risks /> }.into_any(),
                Section::Suppliers => view! { <suppliers::Suppliers /> }.into_any(),
                Section::People => view! { <people::People /> }.into_any(),
                Section::Exercises => view! { <exercises::Exercises /> }.into_any(),
                Section::Finance => view! { <finance::Finance /> }.into_any(),
                Section::Plans => view! { <plans::Plans /> }.into_any(),
                Section::Recovery => view! { <recovery::Recovery /> }.into_any(),
                Section::Training => view! { <training::TrainingView /> }.into_any(),
                Section::History => view! { <history::History /> }.into_any(),
                Section::Report => view! { <report::Report /> }.into_any(),
                Section::Findings => view! { <views::findings::Findings /> }.into_any(),
                Section::Calendar => view! { <calendar::Calendar /> }.into_any(),
                Section::Export => view! { <export::Export /> }.into_any(),
                Section::Import => view! { <import::Import /> }.into_any(),
                Section::Members => view! { <members::Members /> }.into_any(),
            }}}
        </main>
    }
}

/// Every value on screen that was not taken, each a link to its field (the GOV.UK error
/// summary): what is wrong is said at the field, and this says there is something to see.
#[component]
fn ProblemSummary() -> impl IntoView {
    let store = expect_context::<Store>();
    move || {
        let problems = store.problems.get();
        (!problems.is_empty()).then(|| {
            let items = problems
                .into_iter()
                .map(|(id, (label, why))| {
                    let field = id.clone();
                    let go = move |_| {
                        if let Some(field) = web_sys::window()
                            .and_then(|w| w.document())
                            .and_then(|d| d.get_element_by_id(&id))
                            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
                        {
                            let _ = field.focus();
                        }
                    };
                    let text = if why.starts_with(&label) { why } else { format!("{label}: {why}") };
                    view! { <li><button class="link" data-testid="error-summary-link" data-field=field on:click=go>{text}</button></li> }
                })
                .collect_view();
            view! {
                <div class="error-summary" role="alert" data-testid="error-summary">
                    <h2>"There is a problem"</h2>
                    <ul>{items}</ul>
                </div>
            }
        })
    }
}

/// Installs the service worker that lets the app open with no network. Failing to is not
/// an error the person can act on (a private window, say): the app works online regardless.
pub fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().service_worker().register("/sw.js");
    }
}
