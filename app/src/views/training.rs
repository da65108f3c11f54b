//! Training: the programme (each training, its cadence and who must take it), every
//! completion as recorded, and a person-by-training matrix of what is current, due and
//! overdue.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{
    Editing, RecordTable, column, headings, link_boxes, name, new_id, options, people_of, pick_one_of,
};
use leptos::prelude::*;
use shared::readiness::{Standing, standing};
use shared::refs::references;
use shared::*;

fn cadence(t: &Training) -> String {
    match t.cadence_months {
        0 => "Once".into(),
        12 => "Every year".into(),
        n => format!("Every {n} months"),
    }
}

#[component]
pub fn TrainingView() -> impl IntoView {
    let trainings = vec![
        column("Training", |_, _, t: &Training| t.title.clone()),
        column("Kind", |_, _, t: &Training| t.kind.label().into()),
        column("How often", |_, _, t: &Training| cadence(t)),
        column("Who", |reg: &Register, _, t: &Training| {
            let mut who = Vec::new();
            if t.everyone {
                who.push("Everyone".to_string());
            }
            if let Some(role) = t.role.as_ref().and_then(|r| reg.roles.get(r)) {
                who.push(format!("{} (holder and deputies)", role.name));
            }
            who.extend(t.people.iter().filter_map(|p| reg.person_name(p)).map(str::to_string));
            who.join(", ")
        }),
    ];
    view! {
        <h2>"Training"</h2>
        <Matrix />
        <RecordTable slug="training" title="The training programme" columns=trainings fresh=|| Training { title: "New training".into(), cadence_months: 12, ..Default::default() } editor=training_editor />
    }
}

/// Everyone against every training: when each last did it and when it is next due.
#[component]
fn Matrix() -> impl IntoView {
    let store = expect_context::<Store>();
    let table = move || {
        let register = store.register.get();
        let today = today();
        let refs = references::<Training>(&register);
        let mut trainings: Vec<_> = register.live::<Training>().collect();
        trainings.sort_by_key(|(_, t)| t.number);
        let mut everyone: Vec<_> = register.live::<Person>().collect();
        everyone.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        if trainings.is_empty() {
            return view! { <p class="hint">"No training is set up yet: add one below."</p> }.into_any();
        }
        let heads = trainings
            .iter()
            .map(|(id, t)| view! { <th scope="col">{format!("{} {}", refs.get(*id).cloned().unwrap_or_default(), t.title)}</th> })
            .collect_view();
        // Who must take each training, worked out once per training rather than per cell.
        let required: Vec<_> = trainings.iter().map(|(_, t)| t.required(&register)).collect();
        let rows = everyone
            .into_iter()
            .map(|(person, p)| {
                let cells = trainings
                    .iter()
                    .zip(&required)
                    .map(|((id, t), required)| {
                        let label = format!("{} {}", refs.get(*id).cloned().unwrap_or_default(), t.title);
                        let (text, class, state) = match required.contains(person).then(|| standing(t, person, today)) {
                            None => ("Not required".to_string(), "", "not-required"),
                            Some(Standing::Never) => ("Never done: due now".to_string(), "severity-error", "never"),
                            Some(Standing::Overdue { last, due }) => (format!("Overdue since {due} (last {last})"), "severity-error", "overdue"),
                            Some(Standing::Done { last, next: Some(next) }) => (format!("Done {last}; due {next}"), "", "current"),
                            Some(Standing::Done { last, next: None }) => (format!("Done {last}"), "", "current"),
                        };
                        view! { <td data-label=label class=class data-testid="training-cell" data-state=state>{text}</td> }
                    })
                    .collect_view();
                view! {
                    <tr data-testid=format!("training-person-{person}")>
                        <th scope="row">{p.name.clone()}</th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table data-testid="training-matrix" class="matrix">
                <caption>"Who is trained, and what is due"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Person"</th>
                        {heads}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! { <section aria-label="Training matrix">{table}</section> }
}

fn training_editor(r: Editing<Training>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Training", "training-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::choice("Kind", "training-kind", options(TrainingKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::number("Months between completions (0 for once)", "training-cadence", (0, 120), move || r.get().cadence_months, move |v| r.save(move |x| x.cadence_months = v), fail)}
        {fields::flag("Everyone in the team takes it", "training-everyone", move || r.get().everyone, move |v| r.save(move |x| x.everyone = v))}
        {fields::choice("For the holder and deputies of", "training-role", pick_one_of::<Role>(store, "No role"), move || r.get().role, move |v| r.save(move |x| x.role = v))}
        {link_boxes::<Training, Person>("Also required of", "training-people", r, |t| &mut t.people)}
        <Completions r />
    };
    crate::views::records::editor_frame("training", r, selected, body.into_any())
}

/// Every completion as recorded, latest first, and the form that records one.
#[component]
fn Completions(r: Editing<Training>) -> impl IntoView {
    let store = expect_context::<Store>();
    let person = RwSignal::new(None::<String>);
    let date = RwSignal::new(Some(today()));
    let evidence = RwSignal::new(String::new());
    let fail = move |m| store.error.set(Some(m));
    let rows = move || {
        let register = store.register.get();
        let mut done: Vec<_> = r.get().completions.into_values().collect();
        done.sort_by_key(|c| std::cmp::Reverse(c.date));
        done.into_iter()
            .map(|c| {
                view! {
                    <tr data-testid="completion">
                        <td data-label="Person">{name(&register, &c.person)}</td>
                        <td data-label="Date">{c.date.map(|d| d.to_string()).unwrap_or_default()}</td>
                        <td data-label="Evidence">{c.evidence.clone()}</td>
                        <td data-label="Recorded by">{name(&register, &c.recorded_by)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let record = move |_| {
        let Some(who) = person.get_untracked() else {
            fields::refuse("completion-person", "Who completed it", "Choose who completed the training.");
            return;
        };
        let Some(on) = date.get_untracked() else {
            fields::refuse("completion-date", "Date", "Give the date it was completed.");
            return;
        };
        if on > today() {
            fields::refuse("completion-date", "Date", "A completion cannot be in the future.");
            return;
        }
        let completion = Completion {
            person: Some(who),
            date: Some(on),
            evidence: evidence.get_untracked().trim().to_string(),
            recorded_by: store.person.get_untracked(),
            ..Default::default()
        };
        r.save(move |x| {
            x.completions.insert(new_id(), completion);
        });
        person.set(None);
        evidence.set(String::new());
    };
    view! {
        <fieldset class="nested" data-testid="training-completions">
            <legend>"Completions"</legend>
            <table>
                {headings(&["Person", "Date", "Evidence", "Recorded by"])}
                <tbody>{rows}</tbody>
            </table>
            <h5>"Record a completion"</h5>
            {fields::choice("Who completed it", "completion-person", people_of(store), move || person.get(), move |v| person.set(v))}
            {fields::date("Date", "completion-date", move || date.get(), move |v| date.set(v), fail)}
            {fields::text("Evidence (where the proof is kept)", "completion-evidence", move || evidence.get(), move |v| evidence.set(v), false)}
            <button data-testid="completion-record" on:click=record disabled=move || r.is_draft()>"Record the completion"</button>
        </fieldset>
    }
}
