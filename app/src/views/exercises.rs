//! Exercises and the actions they raise: what was tested, what worked and what did not,
//! and each action tracked to closure against the risk it reduces.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, linkable, name, new_id, options, people};
use leptos::prelude::*;
use shared::Action;
use shared::*;

#[component]
pub fn Exercises() -> impl IntoView {
    let exercises = vec![
        column("Exercise", |_, _, e: &Exercise| e.title.clone()),
        column("Kind", |_, _, e: &Exercise| e.kind.label().into()),
        column("Status", |_, _, e: &Exercise| e.status.label().into()),
        column("Date", |_, _, e: &Exercise| {
            let overdue = e.overdue(today());
            e.date.map(|d| if overdue { format!("{d} (overdue)") } else { d.to_string() }).unwrap_or_default()
        }),
        column("Lead", |reg: &Register, _, e: &Exercise| name(reg, &e.lead)),
    ];
    let actions = vec![
        column("Action", |_, _, a: &Action| a.title.clone()),
        column("Owner", |reg: &Register, _, a: &Action| name(reg, &a.owner)),
        column("Due", |_, _, a: &Action| {
            a.due.map(|d| if a.overdue(today()) { format!("{d} (overdue)") } else { d.to_string() }).unwrap_or_default()
        }),
        column("Status", |_, _, a: &Action| a.status.label().into()),
    ];
    view! {
        <h2>"Exercises and actions"</h2>
        <RecordTable slug="exercise" title="Exercises" columns=exercises fresh=|| Exercise { title: "New exercise".into(), ..Default::default() } editor=exercise_editor />
        <RecordTable slug="action" title="Actions" columns=actions fresh=|| Action { title: "New action".into(), ..Default::default() } editor=action_editor />
    }
}

fn exercise_editor(r: Editing<Exercise>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let action_title = RwSignal::new(String::new());
    let action_risk = RwSignal::new(None::<String>);
    // An action raised here is linked to the exercise, and to the risk it treats if one is chosen.
    let raise = move |_| {
        let title = action_title.get_untracked();
        if title.trim().is_empty() {
            r.fail("Give the action a title first.".into());
            return;
        }
        let (action, exercise, risk) = (new_id(), r.id(), action_risk.get_untracked());
        let raised = store.apply(Edit::RaiseAction { action, title, exercise, risk });
        if raised {
            action_title.set(String::new());
        }
    };
    let risks = move || {
        store.register.with(|reg| {
            let mut all = vec![(None, "No risk".to_string())];
            all.extend(linkable::<Risk>(reg).into_iter().map(|(id, text)| (Some(id), text)));
            all
        })
    };
    let body = view! {
        {fields::text("Title", "exercise-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::choice("Type", "exercise-kind", options(ExerciseKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Status", "exercise-status", options(ExerciseStatus::ALL), move || r.get().status, move |v| r.save(move |x| x.status = v))}
        {fields::date("Date", "exercise-date", move || r.get().date, move |v| r.save(move |x| x.date = v), fail)}
        {fields::choice("Lead", "exercise-lead", move || store.register.with(|r| people(r)), move || r.get().lead, move |v| r.save(move |x| x.lead = v))}
        {fields::text("Scope", "exercise-scope", move || r.get().scope, move |v| r.save(move |x| x.scope = v), true)}
        {fields::text("What worked", "exercise-went-well", move || r.get().went_well, move |v| r.save(move |x| x.went_well = v), true)}
        {fields::text("What did not", "exercise-went-badly", move || r.get().went_badly, move |v| r.save(move |x| x.went_badly = v), true)}
        {fields::links("Actions from this exercise", "exercise-actions", move || store.register.with(|r| linkable::<Action>(r)), move || r.get().actions.0, move |id, on| r.save(move |x| { if on { x.actions.0.insert(id); } else { x.actions.0.remove(&id); } }))}
        <fieldset class="nested" data-testid="raise-action">
            <legend>"Raise an action"</legend>
            {fields::text("Action", "raise-action-title", move || action_title.get(), move |v| action_title.set(v), false)}
            {fields::choice("Treats risk", "raise-action-risk", risks, move || action_risk.get(), move |v| action_risk.set(v))}
            <button data-testid="raise-action-submit" on:click=raise>"Raise the action"</button>
        </fieldset>
    };
    crate::views::records::editor_frame("exercise", r, selected, body.into_any())
}

fn action_editor(r: Editing<Action>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    // An action is closed with its evidence: the date is set when it is marked done.
    let set_status = move |status: ActionStatus| {
        if status == ActionStatus::Done && r.get().closure_evidence.trim().is_empty() {
            r.fail("Record the evidence of closure before marking the action done.".into());
            return;
        }
        let today = today();
        r.save(move |a| {
            a.status = status;
            a.closed_on = if status == ActionStatus::Done { a.closed_on.or(Some(today)) } else { None };
        })
    };
    let body = view! {
        {fields::text("Title", "action-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::text("Description", "action-description", move || r.get().description, move |v| r.save(move |x| x.description = v), true)}
        {fields::choice("Owner", "action-owner", move || store.register.with(|r| people(r)), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::date("Due", "action-due", move || r.get().due, move |v| r.save(move |x| x.due = v), fail)}
        {fields::text("Evidence of closure", "action-evidence", move || r.get().closure_evidence, move |v| r.save(move |x| x.closure_evidence = v), true)}
        {fields::choice("Status", "action-status", options(ActionStatus::ALL), move || r.get().status, set_status)}
        <p data-testid="action-closed-on">{move || r.get().closed_on.map(|d| format!("Closed on {d}")).unwrap_or_default()}</p>
    };
    crate::views::records::editor_frame("action", r, selected, body.into_any())
}

// ---------------------------------------------------------------- finance
