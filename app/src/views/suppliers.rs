//! Suppliers: the table, and each supplier's editor with its alternatives (viability,
//! switch-over time, cost) and the annual review of them.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, due, headings, name, new_id, options, people};
use leptos::prelude::*;
use shared::*;

#[component]
pub fn Suppliers() -> impl IntoView {
    let columns = vec![
        column("Name", |_, _, s: &Supplier| s.name.clone()),
        column("Service", |_, _, s: &Supplier| s.service.clone()),
        column("Criticality", |_, _, s: &Supplier| s.criticality.label().into()),
        column("Viable alternative", |_, _, s: &Supplier| if s.has_viable_alternative() { "Yes" } else { "No" }.into()),
        column("Last review", |_, _, s: &Supplier| {
            s.last_review().map(|d| d.to_string()).unwrap_or_else(|| "Never".into())
        }),
        column("Next review", |_, _, s: &Supplier| {
            let next = s.next_review();
            due(next, next.is_none_or(|d| d < today()))
        }),
    ];
    view! {
        <h2>"Suppliers"</h2>
        <RecordTable
            slug="supplier"
            title="Suppliers and their alternatives"
            columns
            fresh=|| Supplier { name: "New supplier".into(), ..Default::default() }
            editor=supplier_editor
        />
    }
}

fn supplier_editor(r: Editing<Supplier>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let body = view! {
        {fields::text("Name", "supplier-name", move || r.get().name, move |v| r.save(move |s| s.name = v), false)}
        {fields::text("Service provided", "supplier-service", move || r.get().service, move |v| r.save(move |s| s.service = v), false)}
        {fields::choice("Criticality", "supplier-criticality", options(Criticality::ALL), move || r.get().criticality, move |v| r.save(move |s| s.criticality = v))}
        {fields::flag("Sub-processor of personal data", "supplier-sub-processor", move || r.get().sub_processor, move |v| r.save(move |s| s.sub_processor = v))}
        {fields::text("Data location", "supplier-data-location", move || r.get().data_location, move |v| r.save(move |s| s.data_location = v), false)}
        {fields::choice("Contract owner", "supplier-owner", move || store.register.with(|r| people(r)), move || r.get().contract_owner, move |v| r.save(move |s| s.contract_owner = v))}
        {fields::text("Continuity assessment", "supplier-assessment", move || r.get().continuity_assessment, move |v| r.save(move |s| s.continuity_assessment = v), true)}
        <Alternatives r />
        <Reviews r />
    };
    crate::views::records::editor_frame("supplier", r, selected, body.into_any())
}

#[component]
fn Alternatives(r: Editing<Supplier>) -> impl IntoView {
    let add = move |_| {
        let id = new_id();
        r.save(move |s| {
            s.alternatives.insert(id, Alternative { name: "New alternative".into(), ..Default::default() });
        })
    };
    // Keyed by id, so an alternative's controls stay in place while others change.
    let ids =
        move || r.get().alternatives.into_iter().filter(|(_, a)| !a.archived).map(|(id, _)| id).collect::<Vec<_>>();
    view! {
        <fieldset class="nested" data-testid="alternatives">
            <legend>"Alternatives"</legend>
            <For each=ids key=|id| id.clone() children=move |id| alternative(r, id) />
            <button data-testid="alternative-add" on:click=add>"Add an alternative"</button>
        </fieldset>
    }
}

/// One alternative's controls. Test ids follow the name it had when it was first shown.
fn alternative(r: Editing<Supplier>, aid: String) -> AnyView {
    let fail = move |m| r.fail(m);
    let id = StoredValue::new(aid);
    let get = move || r.get().alternatives.get(&id.get_value()).cloned().unwrap_or_default();
    let edit = move |change: Box<dyn FnOnce(&mut Alternative)>| {
        let aid = id.get_value();
        r.save(move |s| {
            if let Some(a) = s.alternatives.get_mut(&aid) {
                change(a)
            }
        })
    };
    let slug = get().name.to_lowercase().replace(' ', "-");
    let t = |field: &str| format!("alternative-{slug}-{field}");
    let heading = move || {
        let a = get();
        let overdue = if a.assessment_overdue(today()) { " (assessment overdue)" } else { "" };
        format!("{}{overdue}", a.name)
    };
    view! {
        <div class="alternative" data-testid="alternative">
            <h5>{heading}</h5>
            {fields::text("Alternative", &t("name"), move || get().name, move |v| edit(Box::new(move |a| a.name = v)), false)}
            {fields::choice("Viability", &t("viability"), options(Viability::ALL), move || get().viability, move |v| edit(Box::new(move |a| a.viability = v)))}
            {fields::number("Days to switch over", &t("switch-days"), (0, 3650), move || get().switch_over_days, move |v| edit(Box::new(move |a| a.switch_over_days = v)), fail)}
            {fields::money("Cost of switching", &t("cost"), move || get().cost_impact, move |v| edit(Box::new(move |a| a.cost_impact = v)), fail)}
            {fields::date("Last assessed", &t("assessed"), move || get().last_assessed, move |v| edit(Box::new(move |a| a.last_assessed = v)), fail)}
            {fields::text("Notes", &t("notes"), move || get().notes, move |v| edit(Box::new(move |a| a.notes = v)), true)}
            <button data-testid=t("remove") aria-label=move || format!("Remove this alternative: {}", get().name) on:click=move |_| edit(Box::new(|a| a.archived = true))>
                "Remove this alternative"
            </button>
        </div>
    }
    .into_any()
}

/// The annual review: a list of past reviews and a form to record one. Recording a review
/// marks every current alternative as assessed that day.
#[component]
fn Reviews(r: Editing<Supplier>) -> impl IntoView {
    let store = expect_context::<Store>();
    let reviewer = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(ReviewOutcome::Confirmed);
    let notes = RwSignal::new(String::new());
    let record = move |_| {
        let review = SupplierReview {
            date: Some(today()),
            reviewer: reviewer.get_untracked(),
            outcome: outcome.get_untracked(),
            notes: notes.get_untracked(),
            ..Default::default()
        };
        let id = new_id();
        r.save(move |s| {
            for alternative in s.alternatives.values_mut().filter(|a| !a.archived) {
                alternative.last_assessed = review.date;
            }
            s.reviews.insert(id, review);
        });
        notes.set(String::new());
    };
    let past = move || {
        let register = store.register.get();
        let mut reviews: Vec<_> = r.get().reviews.into_values().collect();
        reviews.sort_by_key(|v| std::cmp::Reverse(v.date));
        reviews
            .into_iter()
            .map(|v| {
                view! {
                    <tr data-testid="review">
                        <td>{v.date.map(|d| d.to_string()).unwrap_or_default()}</td>
                        <td>{name(&register, &v.reviewer)}</td>
                        <td>{v.outcome.label()}</td>
                        <td>{v.notes}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset class="nested" data-testid="reviews">
            <legend>"Annual review"</legend>
            <table>
                {headings(&["Date", "Reviewer", "Outcome", "Notes"])}
                <tbody>{past}</tbody>
            </table>
            {fields::choice("Reviewer", "review-reviewer", move || store.register.with(|r| people(r)), move || reviewer.get(), move |v| reviewer.set(v))}
            {fields::choice("Outcome", "review-outcome", options(ReviewOutcome::ALL), move || outcome.get(), move |v| outcome.set(v))}
            {fields::text("Notes", "review-notes", move || notes.get(), move |v| notes.set(v), true)}
            <button data-testid="review-record" on:click=record>"Record the review (today)"</button>
        </fieldset>
    }
}

// ---------------------------------------------------------------- people
