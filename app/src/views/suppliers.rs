//! Suppliers: the table, and each supplier's editor with its alternatives (viability,
//! switch-over time, cost) and the annual review of them.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::actions::ActionDraft;
use crate::views::fields;
use crate::views::records::{
    Editing, RecordTable, column, due, headings, name, new_id, options, people_of, record_link,
};
use leptos::prelude::*;
use shared::refs::references;
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
    // Memoised, so the review form is not built again (losing what is typed) on every change.
    let created = Memo::new(move |_| !r.is_draft());
    let body = view! {
        {fields::text("Name", "supplier-name", move || r.get().name, move |v| r.save(move |s| s.name = v), false)}
        {fields::text("Service provided", "supplier-service", move || r.get().service, move |v| r.save(move |s| s.service = v), false)}
        {fields::choice("Criticality", "supplier-criticality", options(Criticality::ALL), move || r.get().criticality, move |v| r.save(move |s| {
            // Dated: a supplier newly critical brings the documents reviewed on one forward.
            if v == Criticality::Critical && s.criticality != Criticality::Critical {
                s.critical_since = Some(crate::clock::today());
            }
            s.criticality = v;
        }))}
        {fields::flag("Sub-processor of personal data", "supplier-sub-processor", move || r.get().sub_processor, move |v| r.save(move |s| s.sub_processor = v))}
        {fields::text("Data location", "supplier-data-location", move || r.get().data_location, move |v| r.save(move |s| s.data_location = v), false)}
        {fields::choice("Contract owner", "supplier-owner", people_of(store), move || r.get().contract_owner, move |v| r.save(move |s| s.contract_owner = v))}
        {fields::text("Continuity assessment", "supplier-assessment", move || r.get().continuity_assessment, move |v| r.save(move |s| s.continuity_assessment = v), true)}
        <Alternatives r />
        <Show when=move || created.get()>
            <Reviews r />
        </Show>
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

/// The annual review: the reviews recorded (each can be corrected) and a form to record one.
/// The form proposes an outcome from the alternatives as they stand; "action raised" raises
/// the action with the review. Recording a review marks every current alternative assessed.
#[component]
fn Reviews(r: Editing<Supplier>) -> impl IntoView {
    let store = expect_context::<Store>();
    let reviewer = RwSignal::new(store.person.get_untracked());
    let chosen = RwSignal::new(None::<ReviewOutcome>);
    let notes = RwSignal::new(String::new());
    let proposal = Memo::new(move |_| r.get().proposed_outcome());
    let outcome = move || chosen.get().unwrap_or_else(|| proposal.with(|p| p.0));
    // The action starts out treating the first risk that depends on this supplier.
    let supplier_risk = store.register.with_untracked(|reg| {
        let mut risks: Vec<_> = reg.live::<Risk>().filter(|(_, k)| k.suppliers.contains(&r.id())).collect();
        risks.sort_by_key(|(_, k)| k.number);
        risks.first().map(|(id, _)| (*id).clone())
    });
    let action = ActionDraft::new("review-action", supplier_risk, None);
    let record = move |_| {
        let Some(by) = reviewer.get_untracked() else {
            fields::refuse("review-reviewer", "Reviewer", "Choose who carried out the review.");
            return;
        };
        let outcome = chosen.get_untracked().unwrap_or_else(|| proposal.with_untracked(|p| p.0));
        let raised = if outcome == ReviewOutcome::ActionRaised {
            let Some((id, action, risk, _)) = action.take() else { return };
            Some((id, Box::new(action), risk))
        } else {
            None
        };
        let review = SupplierReview {
            date: Some(today()),
            reviewer: Some(by),
            outcome,
            notes: notes.get_untracked(),
            ..Default::default()
        };
        let edit =
            Edit::ReviewSupplier { supplier: r.id(), review: new_id(), record: Box::new(review), action: raised };
        if store.apply(edit) {
            notes.set(String::new());
            chosen.set(None);
            action.clear();
        }
    };
    let correcting = RwSignal::new(None::<String>);
    let past = move || {
        let register = store.register.get();
        let mut reviews: Vec<_> = r.get().reviews.into_iter().collect();
        reviews.sort_by_key(|(_, v)| std::cmp::Reverse(v.date));
        let actions = references::<shared::Action>(&register);
        reviews
            .into_iter()
            .map(|(id, v)| {
                let raised = v.action.as_ref().and_then(|a| {
                    let title = register.actions.get(a)?.title.clone();
                    Some(record_link(Kind::Action, Some(a.clone()), format!("{} {title}", actions.get(a)?), "review-action-open"))
                });
                view! {
                    <tr data-testid="review">
                        <td data-label="Date">{v.date.map(|d| d.to_string()).unwrap_or_default()}</td>
                        <td data-label="Reviewer">{name(&register, &v.reviewer)}</td>
                        <td data-label="Outcome">{v.outcome.label()}" "{raised}</td>
                        <td data-label="Notes">{v.notes}</td>
                        <td>
                            <button data-testid="review-correct" on:click=move |_| correcting.set(Some(id.clone()))>"Correct"</button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset class="nested" data-testid="reviews">
            <legend>"Annual review"</legend>
            <table>
                {headings(&["Date", "Reviewer", "Outcome", "Notes", ""])}
                <tbody>{past}</tbody>
            </table>
            {move || correcting.get().map(|id| view! { <Correction r id correcting /> })}
            <h5>"Record this year's review"</h5>
            {fields::choice("Reviewer", "review-reviewer", people_of(store), move || reviewer.get(), move |v| reviewer.set(v))}
            {fields::choice("Outcome", "review-outcome", options(ReviewOutcome::ALL), outcome, move |v| chosen.set(Some(v)))}
            <p class="field-hint" data-testid="review-proposed">
                {move || proposal.with(|(o, why)| format!("Proposed from the alternatives: {}. {why}", o.label()))}
            </p>
            <Show when=move || outcome() == ReviewOutcome::ActionRaised>
                <fieldset class="nested" data-testid="review-action">
                    <legend>"The action this review raises"</legend>
                    {action.fields(false)}
                </fieldset>
            </Show>
            {fields::text("Notes", "review-notes", move || notes.get(), move |v| notes.set(v), true)}
            <button data-testid="review-record" on:click=record>"Record the review (today)"</button>
        </fieldset>
    }
}

/// Corrects a recorded review: who carried it out, when, its outcome and notes. The action a
/// review raised stays linked to it.
#[component]
fn Correction(r: Editing<Supplier>, id: String, correcting: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<Store>();
    let held = r.get().reviews.get(&id).cloned().unwrap_or_default();
    let date = RwSignal::new(held.date);
    let reviewer = RwSignal::new(held.reviewer.clone());
    let outcome = RwSignal::new(held.outcome);
    let notes = RwSignal::new(held.notes.clone());
    let fail = move |m| store.error.set(Some(m));
    let id = StoredValue::new(id);
    let save = move |_| {
        if reviewer.get_untracked().is_none() {
            fields::refuse("correction-reviewer", "Reviewer", "Choose who carried out the review.");
            return;
        }
        let record = SupplierReview {
            date: date.get_untracked(),
            reviewer: reviewer.get_untracked(),
            outcome: outcome.get_untracked(),
            notes: notes.get_untracked(),
            ..held.clone()
        };
        let edit =
            Edit::ReviewSupplier { supplier: r.id(), review: id.get_value(), record: Box::new(record), action: None };
        if store.apply(edit) {
            correcting.set(None);
        }
    };
    view! {
        <fieldset class="nested" data-testid="review-correction">
            <legend>"Correct this review"</legend>
            {fields::date("Date of the review", "correction-date", move || date.get(), move |v| date.set(v), fail)}
            {fields::choice("Reviewer", "correction-reviewer", people_of(store), move || reviewer.get(), move |v| reviewer.set(v))}
            {fields::choice("Outcome", "correction-outcome", options(ReviewOutcome::ALL), move || outcome.get(), move |v| outcome.set(v))}
            {fields::text("Notes", "correction-notes", move || notes.get(), move |v| notes.set(v), true)}
            <button data-testid="correction-save" on:click=save>"Save the correction"</button>
            " "
            <button data-testid="correction-cancel" on:click=move |_| correcting.set(None)>"Cancel"</button>
        </fieldset>
    }
}
