//! Import: a register kept in a spreadsheet (XLSX or CSV) brought in. The person picks the
//! file and the sheet, checks which column fills which field (guessed from the headings),
//! and sees what would be created and every row that cannot be read, and why; nothing is
//! written until they confirm, and a confirmed import is one change.

use crate::bridge::ImportView;
use crate::page::store::Store;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::AnyRecord;
use shared::import::{Mapping, Target, is_derived};

/// How a record to be created is named in the preview.
fn named(record: &AnyRecord) -> String {
    match record {
        AnyRecord::Risk(r) => format!("{} ({}×{})", r.title, r.inherent_likelihood, r.inherent_impact),
        AnyRecord::Supplier(s) => s.name.clone(),
        AnyRecord::Person(p) => p.name.clone(),
        AnyRecord::Action(a) => a.title.clone(),
        AnyRecord::Policy(p) => p.name.clone(),
        other => format!("{:?}", other.kind()),
    }
}

/// Rows of the preview listed on screen; the counts cover them all.
const LISTED: usize = 50;

#[component]
pub fn Import() -> impl IntoView {
    let store = expect_context::<Store>();
    let file = StoredValue::new_local(None::<(String, Vec<u8>)>);
    let shown = RwSignal::new(None::<ImportView>);
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ask = move |sheet: Option<usize>, target: Option<Target>, mapping: Option<Mapping>| {
        let Some((name, bytes)) = file.get_value() else { return };
        busy.set(true);
        spawn_local(async move {
            match store.import_preview(name, bytes, sheet, target, mapping).await {
                Ok(view) => {
                    problem.set(None);
                    shown.set(Some(view));
                }
                Err(why) => {
                    shown.set(None);
                    problem.set(Some(why));
                }
            }
            busy.set(false);
        });
    };
    let chosen = move |ev: leptos::ev::Event| {
        let Some(picked) = event_target::<web_sys::HtmlInputElement>(&ev).files().and_then(|f| f.get(0)) else {
            return;
        };
        done.set(None);
        spawn_local(async move {
            let name = picked.name();
            match wasm_bindgen_futures::JsFuture::from(picked.array_buffer()).await {
                Ok(buffer) => {
                    file.set_value(Some((name, js_sys::Uint8Array::new(&buffer).to_vec())));
                    ask(None, None, None);
                }
                Err(_) => problem.set(Some(format!("Could not read {name}."))),
            }
        });
    };
    let confirm = move |_| {
        let Some(view) = shown.get_untracked() else { return };
        let (records, people) = (view.preview.len(), view.preview.new_people.len());
        if records == 0 {
            problem.set(Some("There is nothing to import: every row needs putting right first.".into()));
            return;
        }
        if store.apply(view.preview.edit()) {
            let also = if people > 0 {
                format!(" and {people} new {}", if people == 1 { "person" } else { "people" })
            } else {
                String::new()
            };
            done.set(Some(format!(
                "Imported {records} {}{also} as one change.",
                view.preview.target.label().to_lowercase()
            )));
            shown.set(None);
            file.set_value(None);
        }
    };
    let mapping_table = move || {
        let view = shown.get()?;
        let target = view.mapping.target;
        let rows = view
            .headings
            .iter()
            .enumerate()
            .map(|(i, heading)| {
                let current = view.mapping.columns.get(i).cloned().flatten();
                let examples: Vec<String> = view.examples.iter().filter_map(|row| row.get(i).cloned()).filter(|t| !t.is_empty()).collect();
                let mapping = view.mapping.clone();
                let select_id = format!("import-column-{i}");
                let left_out = if is_derived(heading) { "Leave out (worked out by the register)" } else { "Leave out" };
                let options = std::iter::once(view_option("", left_out, current.is_none()))
                    .chain(target.fields().iter().map(|f| view_option(f.key, f.label, current.as_deref() == Some(f.key))))
                    .collect_view();
                view! {
                    <tr data-testid="import-column">
                        <td data-label="Column">{if heading.is_empty() { format!("Column {}", i + 1) } else { heading.clone() }}</td>
                        <td data-label="For example">{examples.join("; ")}</td>
                        <td data-label="Becomes">
                            <label class="visually-hidden" for=select_id.clone()>{format!("What the column {heading} becomes")}</label>
                            <select id=select_id.clone() data-testid=select_id on:change=move |ev| {
                                let key = event_target_value(&ev);
                                let mut mapping = mapping.clone();
                                // A field comes from one column: choosing it here takes it from any other.
                                for column in mapping.columns.iter_mut() {
                                    if column.as_deref() == Some(key.as_str()) {
                                        *column = None;
                                    }
                                }
                                mapping.columns[i] = (!key.is_empty()).then_some(key);
                                ask(Some(view.sheet), None, Some(mapping));
                            }>{options}</select>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table data-testid="import-mapping">
                {crate::views::records::headings(&["Column", "For example", "Becomes"])}
                <tbody>{rows}</tbody>
            </table>
        })
    };
    let choices = move || {
        let view = shown.get()?;
        let sheet = view.sheet;
        let sheets = view
            .sheets
            .iter()
            .enumerate()
            .map(|(i, name)| view_option(&i.to_string(), name, i == sheet))
            .collect_view();
        let targets = Target::ALL
            .iter()
            .map(|t| view_option(&format!("{t:?}"), t.label(), *t == view.mapping.target))
            .collect_view();
        let us = view.mapping.us_dates;
        let mapping = view.mapping.clone();
        Some(view! {
            <div class="inline-form">
                <div class="field">
                    <label for="import-sheet">"Sheet"</label>
                    <select id="import-sheet" data-testid="import-sheet" on:change=move |ev| ask(event_target_value(&ev).parse().ok(), None, None)>{sheets}</select>
                </div>
                <div class="field">
                    <label for="import-target">"Its rows are"</label>
                    <select id="import-target" data-testid="import-target" on:change=move |ev| {
                        let target = Target::ALL.into_iter().find(|t| format!("{t:?}") == event_target_value(&ev));
                        ask(Some(sheet), target, None)
                    }>{targets}</select>
                </div>
                <div class="field field-flag">
                    <input type="checkbox" id="import-us-dates" data-testid="import-us-dates" prop:checked=us on:change=move |ev| {
                        let mut mapping = mapping.clone();
                        mapping.us_dates = event_target_checked(&ev);
                        ask(Some(sheet), None, Some(mapping))
                    } />
                    <label for="import-us-dates">"Dates are written month first (11/22/2026)"</label>
                </div>
            </div>
        })
    };
    // Words written for likelihood or impact: the person says what each is on the 1-5 scale,
    // from the file's own legend; the usual meaning is offered first.
    let legend = move || {
        let view = shown.get()?;
        if view.preview.words.is_empty() {
            return None;
        }
        let usual = |w: &str| match w {
            "very low" => Some(1),
            "low" => Some(2),
            "medium" | "moderate" => Some(3),
            "high" => Some(4),
            "very high" => Some(5),
            _ => None,
        };
        let rows = view
            .preview
            .words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                let current = view.mapping.words.get(word).copied().or_else(|| usual(word));
                let (mapping, word_key, sheet) = (view.mapping.clone(), word.clone(), view.sheet);
                let id = format!("import-word-{i}");
                let options = std::iter::once(view_option("", "Choose", current.is_none()))
                    .chain((1..=5u8).map(|n| view_option(&n.to_string(), &n.to_string(), current == Some(n))))
                    .collect_view();
                view! {
                    <div class="field">
                        <label for=id.clone()>{format!("\"{word}\" means")}</label>
                        <select id=id.clone() data-testid=id on:change=move |ev| {
                            let mut mapping = mapping.clone();
                            match event_target_value(&ev).parse::<u8>() {
                                Ok(n) => drop(mapping.words.insert(word_key.clone(), n)),
                                Err(_) => drop(mapping.words.remove(&word_key)),
                            }
                            ask(Some(sheet), None, Some(mapping))
                        }>{options}</select>
                    </div>
                }
            })
            .collect_view();
        Some(view! {
            <fieldset class="nested" data-testid="import-words">
                <legend>"Words used for likelihood and impact: what each is from 1 to 5, as the file's legend says"</legend>
                {rows}
            </fieldset>
        })
    };
    let preview = move || {
        let view = shown.get()?;
        let p = &view.preview;
        let records = p
            .records
            .iter()
            .take(LISTED)
            .map(|(row, _, r)| view! { <li>{format!("Row {row}: {}", named(r))}</li> })
            .collect_view();
        let additions = p
            .additions
            .iter()
            .take(LISTED)
            .map(|(row, supplier, _, a)| {
                let to =
                    store.register.with(|reg| reg.suppliers.get(supplier).map(|s| s.name.clone()).unwrap_or_default());
                view! { <li>{format!("Row {row}: {} {to})", a.named())}</li> }
            })
            .collect_view();
        let bad = p
            .problems
            .iter()
            .take(LISTED)
            .map(|(row, why)| view! { <li data-testid="import-problem">{format!("Row {row}: {why}")}</li> })
            .collect_view();
        let people: Vec<&str> = p.new_people.iter().map(|(_, n)| n.as_str()).collect();
        let count = p.len();
        Some(view! {
            <section aria-labelledby="import-preview-heading" data-testid="import-preview">
                <h3 id="import-preview-heading">{format!("{count} {} to create", p.target.label().to_lowercase())}</h3>
                <ul class="plain" data-testid="import-records">{records}{additions}</ul>
                {(!people.is_empty()).then(|| view! { <p data-testid="import-new-people">{format!("People it names who are not in the register yet, added with them: {}.", people.join(", "))}</p> })}
                {(!p.problems.is_empty()).then(|| view! {
                    <h4>{format!("{} rows cannot be read and are left out", p.problems.len())}</h4>
                    <ul class="plain">{bad}</ul>
                })}
                {(p.blank > 0).then(|| view! { <p class="hint">{format!("{} blank rows passed over.", p.blank)}</p> })}
                <button class="primary" data-testid="import-confirm" on:click=confirm disabled=move || store.viewer.get() || busy.get()>
                    {format!("Import {count} {}", p.target.label().to_lowercase())}
                </button>
            </section>
        })
    };
    view! {
        <h2>"Import"</h2>
        <p class="lead">"Bring in a register kept in a spreadsheet: risks, suppliers with their alternatives and reviews, people and roles, actions or insurance policies. References in the file (R-007) are kept where they are free, so links between sheets hold: import people, suppliers, actions and insurance before the risks that name them. Nothing is written until you confirm."</p>
        <p class="field">
            <label for="import-file">"A spreadsheet (.xlsx or .csv)"</label>
            <input type="file" id="import-file" data-testid="import-file" accept=".xlsx,.csv" on:change=chosen disabled=move || store.viewer.get() />
        </p>
        <p role="status" data-testid="import-status">{move || if busy.get() { "Reading the file…".to_string() } else { done.get().unwrap_or_default() }}</p>
        {move || problem.get().map(|why| view! { <p class="banner banner-error" role="alert" data-testid="import-error">{why}</p> })}
        {choices}
        {mapping_table}
        {legend}
        {preview}
    }
}

fn view_option(value: &str, label: &str, selected: bool) -> impl IntoView + use<> {
    view! { <option value=value.to_string() selected=selected>{label.to_string()}</option> }
}
