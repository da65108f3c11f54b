//! Exercises: what was tested, what worked and what did not, the recovery each achieved for
//! the services it tested (`recovery`), and the actions each raised (the actions themselves,
//! and their table, are in `actions`).

use crate::clock::today;
use crate::page::store::Store;
use crate::views::actions::RaiseAction;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, link_boxes, name, options, people_of};
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
    view! {
        <h2>"Exercises and actions"</h2>
        <RecordTable slug="exercise" title="Exercises" columns=exercises fresh=|| Exercise { title: "New exercise".into(), ..Default::default() } editor=exercise_editor />
        <crate::views::actions::Actions />
    }
}

fn exercise_editor(r: Editing<Exercise>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    // Memoised, so the form is not built again (losing what is typed) on every change.
    let created = Memo::new(move |_| !r.is_draft());
    let body = view! {
        {fields::text("Title", "exercise-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::choice("Type", "exercise-kind", options(ExerciseKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Status", "exercise-status", options(ExerciseStatus::ALL), move || r.get().status, move |v| r.save(move |x| x.status = v))}
        {fields::date("Date", "exercise-date", move || r.get().date, move |v| r.save(move |x| x.date = v), fail)}
        {fields::choice("Lead", "exercise-lead", people_of(store), move || r.get().lead, move |v| r.save(move |x| x.lead = v))}
        {fields::text("Scope", "exercise-scope", move || r.get().scope, move |v| r.save(move |x| x.scope = v), true)}
        {fields::text("What worked", "exercise-went-well", move || r.get().went_well, move |v| r.save(move |x| x.went_well = v), true)}
        {fields::text("What did not", "exercise-went-badly", move || r.get().went_badly, move |v| r.save(move |x| x.went_badly = v), true)}
        {link_boxes::<Exercise, Action>("Actions from this exercise", "exercise-actions", r, |e| &mut e.actions)}
        <crate::views::recovery::Recoveries r />
        <Show when=move || created.get()>
            <RaiseAction risk=None exercise=Some(r.id()) />
        </Show>
    };
    crate::views::records::editor_frame("exercise", r, selected, body.into_any())
}
