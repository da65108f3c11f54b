//! What every record view shares: a handle on one record for its editor (read reactively,
//! changed field by field), a table of a kind of record that opens the editor, and the
//! "focus" that lets a finding or a calendar entry open the record it is about.

use crate::page::store::Store;
use leptos::prelude::*;
use shared::refs::references;
use shared::{Edit, Record, Register};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// What a view is asked to show from elsewhere (a finding, the calendar, the address).
#[derive(Clone, Debug, PartialEq)]
pub enum Want {
    /// Open this record (taken, and cleared, by the view that shows its kind).
    Open(shared::Kind, String),
    /// No record open (the address names only a section).
    Close,
}

#[derive(Clone, Copy)]
pub struct Focus(pub RwSignal<Option<Want>>);

/// One record of kind `R`, for an editor. A new record is a draft until its first field is
/// saved: it is created then, so opening "New" and walking away leaves nothing behind.
pub struct Editing<R: 'static> {
    store: Store,
    id: StoredValue<String>,
    draft: StoredValue<Option<R>, LocalStorage>,
}

impl<R: 'static> Clone for Editing<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R: 'static> Copy for Editing<R> {}

impl<R: Record> Editing<R> {
    pub fn new(store: Store, id: String) -> Self {
        Editing { store, id: StoredValue::new(id), draft: StoredValue::new_local(None) }
    }

    /// The editor of a record not yet created, starting from `draft`.
    pub fn with_draft(self, draft: Option<R>) -> Self {
        self.draft.set_value(draft);
        self
    }

    /// Not created yet (tracked).
    pub fn is_draft(&self) -> bool {
        let id = self.id.get_value();
        !self.store.register.with(|r| R::collection(r).contains_key(&id)) && self.draft.with_value(Option::is_some)
    }

    pub fn id(&self) -> String {
        self.id.get_value()
    }

    /// The record as it is now (tracked: views re-render when it changes).
    pub fn get(&self) -> R {
        let id = self.id.get_value();
        self.store
            .register
            .with(|r| R::collection(r).get(&id).cloned())
            .or_else(|| self.draft.get_value())
            .unwrap_or_default()
    }

    /// Changes the record; only the fields `edit` changes are written.
    pub fn save(&self, edit: impl FnOnce(&mut R) + 'static) {
        let id = self.id.get_value();
        let Some(old) = self.store.register.with_untracked(|r| R::collection(r).get(&id).cloned()) else {
            match self.draft.get_value() {
                // The first field saved creates the record.
                Some(draft) => {
                    let mut new = draft.clone();
                    edit(&mut new);
                    if new != draft && self.store.apply(Edit::Create { id, record: new.any_record() }) {
                        self.draft.set_value(None);
                    }
                }
                None => self.store.error.set(Some(format!("This {} is no longer in the register.", R::LABEL))),
            }
            return;
        };
        let mut new = old.clone();
        edit(&mut new);
        if new != old {
            self.store.apply(Edit::Update { id, old: old.any_record(), new: new.any_record() });
        }
    }

    /// Shows why a value could not be taken.
    pub fn fail(&self, message: String) {
        self.store.error.set(Some(message));
    }

    pub fn reference(&self) -> String {
        let id = self.id.get_value();
        self.store.register.with(|r| {
            if R::collection(r).contains_key(&id) { shared::refs::reference_of::<R>(r, &id) } else { String::new() }
        })
    }

    /// Fields edited at the same time on two devices, with every value (tracked: the
    /// worker's patch of the record carries them).
    pub fn conflicts(&self) -> Vec<shared::Conflict> {
        self.store.conflicts_of(R::KIND, &self.id.get_value())
    }
}

/// How a column shows a record: given the register, the record's id and the record.
type Show<R> = Arc<dyn Fn(&Register, &str, &R) -> String + Send + Sync>;

/// A column of a record table: its heading and how to show a record in it.
pub type Column<R> = (&'static str, Show<R>);

pub fn column<R>(
    heading: &'static str,
    show: impl Fn(&Register, &str, &R) -> String + Send + Sync + 'static,
) -> Column<R> {
    (heading, Arc::new(show))
}

/// Rows shown at a time in the long tables: laying out thousands of rows takes seconds and
/// nobody reads them all at once; sorting and filtering still see every record.
pub const PAGE_ROWS: usize = 100;

/// The rows of page `page` (clamped to the last page) of `rows`.
pub fn page_of<T: Clone>(rows: &[T], page: usize) -> Vec<T> {
    let last = rows.len().saturating_sub(1) / PAGE_ROWS;
    rows.iter().skip(page.min(last) * PAGE_ROWS).take(PAGE_ROWS).cloned().collect()
}

/// Moves through a table longer than a page; says which rows are on show. Hidden when
/// everything fits on one page.
#[component]
pub fn Pager(slug: &'static str, page: RwSignal<usize>, #[prop(into)] total: Signal<usize>) -> impl IntoView {
    let last = move || total.get().saturating_sub(1) / PAGE_ROWS;
    let current = move || page.get().min(last());
    let at_start = move || current() == 0;
    let at_end = move || current() >= last();
    let previous = move |_| page.set(current().saturating_sub(1));
    let next = move |_| page.set(current() + 1);
    let shown = move || {
        let first = current() * PAGE_ROWS;
        format!("Rows {}–{} of {}", first + 1, (first + PAGE_ROWS).min(total.get()), thousands(total.get()))
    };
    view! {
        <Show when=move || { total.get() > PAGE_ROWS }>
            <nav class="pager" aria-label="Pages">
                <button data-testid=format!("{slug}-previous") disabled=at_start on:click=previous>
                    "Previous page"
                </button>
                <span role="status" data-testid=format!("{slug}-page")>{shown}</span>
                <button data-testid=format!("{slug}-next") disabled=at_end on:click=next>
                    "Next page"
                </button>
            </nav>
        </Show>
    }
}

/// 6000 as "6,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table's header row: a column heading per label.
pub fn headings(labels: &[&'static str]) -> impl IntoView + use<> {
    let cells = labels.iter().map(|l| view! { <th scope="col">{*l}</th> }).collect_view();
    view! {
        <thead>
            <tr>{cells}</tr>
        </thead>
    }
}

/// People to choose from, "No one" first.
pub fn people(register: &Register) -> Vec<(Option<String>, String)> {
    let mut out = vec![(None, "No one".to_string())];
    let mut people: Vec<_> =
        register.live::<shared::Person>().map(|(id, p)| (Some(id.clone()), p.name.clone())).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    out.extend(people);
    out
}

/// `people` for a picker, worked out again only when a person changes.
pub fn people_of(store: Store) -> impl Fn() -> Vec<(Option<String>, String)> + Send + Sync + 'static {
    let listed = store.of_kind(shared::Kind::Person, people);
    move || listed.get()
}

/// A person's name, or nothing.
pub fn name(register: &Register, person: &Option<String>) -> String {
    person.as_deref().and_then(|p| register.person_name(p)).unwrap_or_default().to_string()
}

/// Records of one kind that can be linked to, as (id, "REF title"), in reference order.
pub fn linkable<R: Record>(register: &Register) -> Vec<(String, String)> {
    let refs = references::<R>(register);
    let mut live: Vec<_> = register.live::<R>().collect();
    live.sort_by_key(|(id, r)| (r.number(), *id));
    live.into_iter().map(|(id, r)| (id.clone(), format!("{} {}", refs[id], r.title()))).collect()
}

/// `linkable` for a list of boxes, worked out again only when a record of `R` changes.
pub fn linkable_of<R: Record>(store: Store) -> impl Fn() -> Vec<(String, String)> + Send + Sync + 'static {
    let listed = store.of_kind(R::KIND, linkable::<R>);
    move || listed.get()
}

/// `pick_one` for a picker, worked out again only when a record of `R` changes.
pub fn pick_one_of<R: Record>(
    store: Store,
    none: &'static str,
) -> impl Fn() -> Vec<(Option<String>, String)> + Send + Sync + 'static {
    let listed = store.of_kind(R::KIND, move |r| pick_one::<R>(r, none));
    move || listed.get()
}

/// A record's links to records of kind `T`, as a box to tick for each that can be linked.
pub fn link_boxes<R: Record, T: Record>(
    label: &'static str,
    testid: &str,
    r: Editing<R>,
    links: fn(&mut R) -> &mut shared::Links,
) -> AnyView {
    let store = r.store;
    crate::views::fields::links(
        label,
        testid,
        linkable_of::<T>(store),
        move || links(&mut r.get()).0.clone(),
        move |id, on| {
            r.save(move |x| {
                let set = &mut links(x).0;
                if on {
                    set.insert(id);
                } else {
                    set.remove(&id);
                }
            })
        },
    )
}

/// A picker's options: "none" first, then the records of a kind in reference order.
pub fn pick_one<R: Record>(register: &Register, none: &str) -> Vec<(Option<String>, String)> {
    let mut all = vec![(None, none.to_string())];
    all.extend(linkable::<R>(register).into_iter().map(|(id, text)| (Some(id), text)));
    all
}

/// The options of a closed choice, for `fields::choice`.
pub fn options<T: Copy + std::fmt::Display + Send + Sync>(
    all: &'static [T],
) -> impl Fn() -> Vec<(T, String)> + Send + Sync {
    move || all.iter().map(|c| (*c, c.to_string())).collect()
}

/// Says which fields were edited at the same time on two devices, with every value; nothing
/// when there are none.
pub fn conflicts_notice(testid: &str, found: Vec<shared::Conflict>) -> Option<AnyView> {
    let lines = found.into_iter().map(|c| format!("{}: {}", c.field.replace('_', " "), c.values.join(" / "))).collect();
    notice(testid, "Edited at the same time on two devices; the first value is the one shown:", lines)
}

/// Names the fields another app wrote in a shape this one cannot read, with what each holds;
/// they show empty, and setting one writes it back in this app's shape. Nothing when none.
pub fn unreadable_notice(testid: &str, found: &shared::lenient::Unreadable) -> Option<AnyView> {
    let lines = found.iter().map(|(field, holds)| format!("{}: holds {holds}", field.replace('_', " "))).collect();
    notice(testid, "Written by another app in a form this one cannot read; shown empty until set again:", lines)
}

/// A notice about some of a record's fields: what they have in common, then one line each.
fn notice(testid: &str, intro: &'static str, lines: Vec<String>) -> Option<AnyView> {
    (!lines.is_empty()).then(|| {
        view! {
            <div class="conflicts" data-testid=testid.to_string() role="status">
                <p>{intro}</p>
                <ul>{lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any()
    })
}

/// The editor's heading, the concurrent-edit notice, and its archive and close buttons
/// around the fields `body` gives.
pub fn editor_frame<R: Record>(
    slug: &'static str,
    r: Editing<R>,
    selected: RwSignal<Option<String>>,
    body: AnyView,
) -> AnyView {
    let store = r.store;
    let archived = move || r.get().archived();
    let toggle = move |_| {
        store.apply(Edit::Archive { kind: R::KIND, id: r.id(), archived: !archived() });
    };
    let heading = format!("{slug}-editor-heading");
    let labelled_by = heading.clone();
    // Keyboard users land in the editor when it opens (it sits below a table that may be
    // long), and go back to what opened it when they close it, with the button or Escape.
    let opener = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let opener = StoredValue::new_local(opener.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()));
    let title = NodeRef::<leptos::html::H3>::new();
    Effect::new(move || {
        if let Some(title) = title.get() {
            let _ = title.focus();
        }
    });
    let close = move || {
        selected.set(None);
        if let Some(route) = use_context::<crate::page::route::Route>() {
            route.closed();
        }
        if let Some(opener) = opener.get_value().filter(|e| e.is_connected()) {
            let _ = opener.focus();
        }
    };
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };
    view! {
        <section class="editor" data-testid=format!("{slug}-editor") aria-labelledby=labelled_by on:keydown=escape>
            <h3 id=heading node_ref=title tabindex="-1">
                {move || {
                    if r.is_draft() {
                        format!("New {}: created when you fill in a field", R::LABEL)
                    } else {
                        format!("{} {}", r.reference(), r.get().title())
                    }
                }}
            </h3>
            {move || conflicts_notice(&format!("{slug}-conflicts"), r.conflicts())}
            {move || unreadable_notice(&format!("{slug}-unreadable"), r.get().unreadable())}
            <fieldset disabled=move || store.viewer.get()>
                <legend>{R::LABEL}</legend>
                {body}
            </fieldset>
            <p>
                <button data-testid=format!("{slug}-archive") on:click=toggle disabled=move || store.viewer.get() || r.is_draft()>
                    {move || if archived() { "Restore" } else { "Archive" }}
                </button>
                " "
                <button data-testid=format!("{slug}-close") on:click=move |_| close()>
                    "Close"
                </button>
                " "
                <button
                    class="link"
                    data-testid=format!("{slug}-history")
                    on:click=move |_| {
                        if let Some(route) = use_context::<crate::page::route::Route>() {
                            route.history(R::KIND, r.id());
                        }
                    }
                >
                    "History of this record"
                </button>
            </p>
        </section>
    }
    .into_any()
}

/// A table of one kind of record with a "New" button; choosing a reference opens `editor`.
/// `fresh` is what a new record starts as (it must pass the record's checks).
#[component]
pub fn RecordTable<R: Record + Send + Sync>(
    slug: &'static str,
    title: &'static str,
    columns: Vec<Column<R>>,
    fresh: fn() -> R,
    editor: fn(Editing<R>, RwSignal<Option<String>>) -> AnyView,
) -> impl IntoView {
    let store = expect_context::<Store>();
    let focus = expect_context::<Focus>();
    let selected = RwSignal::new(None::<String>);
    let archived = RwSignal::new(false);
    // A finding or calendar entry about one of these records opens it here.
    Effect::new(move || match focus.0.get() {
        Some(Want::Open(kind, id)) if kind == R::KIND => {
            selected.set(Some(id));
            focus.0.set(None);
        }
        Some(Want::Close) => selected.set(None),
        _ => {}
    });
    let route = expect_context::<crate::page::route::Route>();
    // A new record starts as a draft in the editor; the first field saved creates it.
    let draft = StoredValue::new_local(None::<(String, R)>);
    let create = move |_| {
        if store.viewer.get_untracked() {
            store.error.set(Some("You can read this register but not change it.".into()));
            return;
        }
        let id = uuid::Uuid::new_v4().to_string();
        draft.set_value(Some((id.clone(), fresh())));
        route.opened(R::KIND, &id);
        selected.set(Some(id));
    };
    let drafted = move |id: &str| draft.with_value(|d| d.as_ref().filter(|(d, _)| d == id).map(|(_, r)| r.clone()));
    // Each cell names its column, for the cards a table becomes on a phone.
    let labels: Arc<Vec<&'static str>> = Arc::new(columns.iter().map(|(h, _)| *h).collect());
    let columns = Arc::new(columns);
    let headings = columns.iter().map(|(h, _)| view! { <th scope="col">{*h}</th> }).collect_view();
    let span = columns.len() + 1;
    // Rows as plain data (id, reference, cells), keyed by all of it: after an edit only the
    // rows that changed are rendered again.
    let rows = Memo::new(move |_| {
        let register = store.register.get();
        let refs = references::<R>(&register);
        let show_archived = archived.get();
        let mut records: Vec<_> =
            R::collection(&register).iter().filter(|(_, r)| r.archived() == show_archived).collect();
        records.sort_by_key(|(_, r)| r.number());
        records
            .into_iter()
            .map(|(id, r)| {
                let cells: Vec<String> = columns.iter().map(|(_, show)| show(&register, id, r)).collect();
                (id.clone(), refs.get(id).cloned().unwrap_or_default(), cells)
            })
            .collect::<Vec<_>>()
    });
    let page = RwSignal::new(0usize);
    let shown = Memo::new(move |_| rows.with(|rows| page_of(rows, page.get())));
    let total = Signal::derive(move || rows.with(Vec::len));
    let row = move |(id, reference, cells): (String, String, Vec<String>)| {
        let labels = labels.clone();
        view! {
            <tr data-testid=format!("{slug}-{reference}")>
                <td>
                    <button class="link" aria-label=format!("Edit {reference}") data-testid=format!("open-{reference}") on:click=move |_| {
                        route.opened(R::KIND, &id);
                        selected.set(Some(id.clone()))
                    }>
                        {reference.clone()}
                    </button>
                </td>
                {cells.into_iter().zip(labels.iter()).map(|(c, label)| view! { <td data-label=*label>{c}</td> }).collect_view()}
            </tr>
        }
    };
    let toggle_id = format!("{slug}-show-archived");
    view! {
        <section class="records" aria-label=title>
            <h3>{title}</h3>
            <p class="toolbar">
                <button data-testid=format!("{slug}-new") on:click=create disabled=move || store.viewer.get()>
                    {format!("New {}", R::LABEL)}
                </button>
                <span class="field-flag">
                    <input type="checkbox" id=toggle_id.clone() data-testid=toggle_id.clone() prop:checked=archived on:change=move |ev| { archived.set(event_target_checked(&ev)); page.set(0); } />
                    <label for=toggle_id>"Show archived"</label>
                </span>
            </p>
            // The record opens at the top of its section, not under a long table.
            {move || selected.get().map(|id| editor(Editing::new(store, id.clone()).with_draft(drafted(&id)), selected))}
            <table data-testid=format!("{slug}-table")>
                <thead>
                    <tr>
                        <th scope="col">"Ref"</th>
                        {headings}
                    </tr>
                </thead>
                <tbody>
                    <Show when=move || rows.with(Vec::is_empty)>
                        <tr>
                            <td colspan=span>"None yet."</td>
                        </tr>
                    </Show>
                    <For each=move || shown.get() key=|row| row.clone() children=row />
                </tbody>
            </table>
            <Pager slug page total />
        </section>
    }
}

/// A due date as a table shows it: "Now" when never done, "(overdue)" after it.
pub fn due(date: Option<shared::Date>, overdue: bool) -> String {
    match (date, overdue) {
        (None, _) => "Now".into(),
        (Some(d), true) => format!("{d} (overdue)"),
        (Some(d), false) => d.to_string(),
    }
}

/// A link that opens a record in its section, or the text alone when there is no record.
pub fn record_link(kind: shared::Kind, id: Option<String>, text: String, testid: &'static str) -> AnyView {
    match id {
        Some(id) => view! {
            <button class="link" data-testid=testid on:click=move |_| crate::open_record(kind, id.clone())>{text}</button>
        }
        .into_any(),
        None => text.into_any(),
    }
}

/// A new record's stable id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
