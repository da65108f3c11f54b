//! Actions: the table (with the risk each treats and where it came from), an action's
//! editor, the one form that raises an action wherever the need is found (an exercise, a
//! risk, a supplier review), and the count of open actions over time.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, name, new_id, options, people_of, pick_one_of, record_link};
use leptos::prelude::*;
use shared::Action;
use shared::refs::references;
use shared::*;
use std::collections::BTreeMap;

/// Where each action is linked from: the risks it treats and what raised it (an exercise, an
/// incident or a supplier's review), as (kind, id, "REF title") for links.
#[derive(Clone, Debug, Default, PartialEq)]
struct ActionLinks {
    risks: Vec<(Kind, Id, String)>,
    from: Vec<(Kind, Id, String)>,
}

/// Every action's links, read once per change of the register and shared by the table's
/// rows and the open action's editor.
#[derive(Clone, Copy)]
struct ActionIndex(Memo<BTreeMap<Id, ActionLinks>>);

fn links_by_action(register: &Register) -> BTreeMap<Id, ActionLinks> {
    let mut out: BTreeMap<Id, ActionLinks> = BTreeMap::new();
    let risks = references::<Risk>(register);
    for (id, r) in register.live::<Risk>() {
        for action in &r.actions.0 {
            let entry = out.entry(action.clone()).or_default();
            entry.risks.push((Kind::Risk, id.clone(), format!("{} {}", risks[id], r.title)));
        }
    }
    let exercises = references::<Exercise>(register);
    for (id, e) in register.live::<Exercise>() {
        for action in &e.actions.0 {
            let entry = out.entry(action.clone()).or_default();
            entry.from.push((Kind::Exercise, id.clone(), format!("{} {}", exercises[id], e.title)));
        }
    }
    let incidents = references::<Incident>(register);
    for (id, i) in register.live::<Incident>() {
        for action in &i.actions.0 {
            let entry = out.entry(action.clone()).or_default();
            entry.from.push((Kind::Incident, id.clone(), format!("{} {}", incidents[id], i.title)));
        }
    }
    let suppliers = references::<Supplier>(register);
    for (id, s) in register.live::<Supplier>() {
        for review in s.reviews.values().filter(|r| r.action.is_some()) {
            let when = review.date.map(|d| format!(" of {d}")).unwrap_or_default();
            let text = format!("{} {}: review{when}", suppliers[id], s.name);
            out.entry(review.action.clone().unwrap_or_default()).or_default().from.push((
                Kind::Supplier,
                id.clone(),
                text,
            ));
        }
    }
    out
}

fn texts(list: &[(Kind, Id, String)]) -> String {
    list.iter().map(|(_, _, t)| t.as_str()).collect::<Vec<_>>().join("; ")
}

#[component]
pub fn Actions() -> impl IntoView {
    let store = expect_context::<Store>();
    let index = Memo::new(move |_| store.register.with(|r| links_by_action(r)));
    provide_context(ActionIndex(index));
    let columns = vec![
        column("Action", |_, _, a: &Action| a.title.clone()),
        column("Owner", |reg: &Register, _, a: &Action| name(reg, &a.owner)),
        column("Due", |_, _, a: &Action| {
            a.due.map(|d| if a.overdue(today()) { format!("{d} (overdue)") } else { d.to_string() }).unwrap_or_default()
        }),
        column("Status", |_, _, a: &Action| a.status.label().into()),
        column("Treats risk", move |_, id: &str, _: &Action| {
            index.with(|i| i.get(id).map(|l| texts(&l.risks)).unwrap_or_default())
        }),
        column("Raised from", move |_, id: &str, _: &Action| {
            index.with(|i| i.get(id).map(|l| texts(&l.from)).unwrap_or_default())
        }),
    ];
    view! {
        <OpenActions />
        <RecordTable
            slug="action"
            title="Actions"
            columns
            fresh=|| Action { title: "New action".into(), raised_on: Some(today()), ..Default::default() }
            editor=action_editor
        />
    }
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
    let index = expect_context::<ActionIndex>().0;
    let linked = move || {
        let links = index.with(|i| i.get(&r.id()).cloned().unwrap_or_default());
        let line = |label: &'static str, list: Vec<(Kind, Id, String)>, testid: &'static str| {
            let items = list
                .into_iter()
                .map(|(kind, id, text)| view! { <li>{record_link(kind, Some(id), text, testid)}</li> })
                .collect_view();
            view! {
                <dt>{label}</dt>
                <dd>
                    <ul class="plain">{items}</ul>
                </dd>
            }
        };
        let raised = r.get().raised_on.map(|d| d.to_string()).unwrap_or_else(|| "Not recorded".into());
        view! {
            <dl class="summary" data-testid="action-links">
                <dt>"Raised on"</dt>
                <dd>{raised}</dd>
                {line("Treats", links.risks, "action-risk")}
                {line("Raised from", links.from, "action-from")}
            </dl>
        }
    };
    let body = view! {
        {linked}
        {fields::text("Title", "action-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::text("Description", "action-description", move || r.get().description, move |v| r.save(move |x| x.description = v), true)}
        {fields::choice("Owner", "action-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::date("Due", "action-due", move || r.get().due, move |v| r.save(move |x| x.due = v), fail)}
        {fields::text("Evidence of closure", "action-evidence", move || r.get().closure_evidence, move |v| r.save(move |x| x.closure_evidence = v), true)}
        {fields::choice("Status", "action-status", options(ActionStatus::ALL), move || r.get().status, set_status)}
        <p data-testid="action-closed-on">{move || r.get().closed_on.map(|d| format!("Closed on {d}")).unwrap_or_default()}</p>
    };
    crate::views::records::editor_frame("action", r, selected, body.into_any())
}

/// An action being written in a form before it is raised. The same fields wherever an
/// action is raised, so every action starts with an owner and a due date.
#[derive(Clone, Copy)]
pub struct ActionDraft {
    prefix: &'static str,
    title: RwSignal<String>,
    owner: RwSignal<Option<Id>>,
    due: RwSignal<Option<Date>>,
    risk: RwSignal<Option<Id>>,
    exercise: RwSignal<Option<Id>>,
}

impl ActionDraft {
    /// A blank action for the form whose controls' ids start with `prefix`, owned by this
    /// browser's person until another is chosen.
    pub fn new(prefix: &'static str, risk: Option<Id>, exercise: Option<Id>) -> ActionDraft {
        let store = expect_context::<Store>();
        ActionDraft {
            prefix,
            title: RwSignal::new(String::new()),
            owner: RwSignal::new(store.person.get_untracked()),
            due: RwSignal::new(None),
            risk: RwSignal::new(risk),
            exercise: RwSignal::new(exercise),
        }
    }

    fn id(&self, field: &str) -> String {
        format!("{}-{field}", self.prefix)
    }

    /// The form's fields; `from_exercise` offers the exercise it came from.
    pub fn fields(self, from_exercise: bool) -> AnyView {
        let store = expect_context::<Store>();
        let fail = move |m| store.error.set(Some(m));
        let d = self;
        view! {
            {fields::text("Action", &d.id("title"), move || d.title.get(), move |v| d.title.set(v), false)}
            {fields::choice("Owner", &d.id("owner"), people_of(store), move || d.owner.get(), move |v| d.owner.set(v))}
            {fields::date("Due", &d.id("due"), move || d.due.get(), move |v| d.due.set(v), fail)}
            {fields::choice("Treats risk", &d.id("risk"), pick_one_of::<Risk>(store, "No risk"), move || d.risk.get(), move |v| d.risk.set(v))}
            {from_exercise.then(|| fields::choice("Raised from exercise", &d.id("exercise"), pick_one_of::<Exercise>(store, "No exercise"), move || d.exercise.get(), move |v| d.exercise.set(v)))}
        }
        .into_any()
    }

    /// The action as the form has it, or `None` with each missing field's problem said at it.
    pub fn take(self) -> Option<(Id, Action, Option<Id>, Option<Id>)> {
        let title = self.title.get_untracked();
        let mut complete = true;
        if title.trim().is_empty() {
            fields::refuse(&self.id("title"), "Action", "Say what the action is.");
            complete = false;
        }
        if self.owner.get_untracked().is_none() {
            fields::refuse(&self.id("owner"), "Owner", "Choose who owns the action.");
            complete = false;
        }
        if self.due.get_untracked().is_none() {
            fields::refuse(&self.id("due"), "Due", "Give the date the action is due.");
            complete = false;
        }
        complete.then(|| {
            let action = Action {
                title: title.trim().to_string(),
                owner: self.owner.get_untracked(),
                due: self.due.get_untracked(),
                raised_on: Some(today()),
                ..Default::default()
            };
            (new_id(), action, self.risk.get_untracked(), self.exercise.get_untracked())
        })
    }

    /// Empties the form for the next action (the owner and the links stay).
    pub fn clear(self) {
        self.title.set(String::new());
        self.due.set(None);
    }
}

/// Raises an action from a record: the form, and the button that raises it in one change.
#[component]
pub fn RaiseAction(
    risk: Option<Id>,
    exercise: Option<Id>,
    /// The incident whose review raises it, if any.
    #[prop(optional)]
    incident: Option<Id>,
) -> impl IntoView {
    let store = expect_context::<Store>();
    let draft = ActionDraft::new("raise-action", risk, exercise);
    let incident = StoredValue::new(incident);
    let raise = move |_| {
        let incident = incident.get_value();
        let Some((action, record, risk, exercise)) = draft.take() else { return };
        if store.apply(Edit::RaiseAction { action, record: Box::new(record), risk, exercise, incident }) {
            draft.clear();
        }
    };
    view! {
        <fieldset class="nested" data-testid="raise-action">
            <legend>"Raise an action"</legend>
            {draft.fields(true)}
            <button data-testid="raise-action-submit" on:click=raise>"Raise the action"</button>
        </fieldset>
    }
}

/// Open actions at each month's end over the last year, drawn as bars with the figures
/// in words for screen readers.
#[component]
pub fn OpenActions() -> impl IntoView {
    let store = expect_context::<Store>();
    move || {
        let (points, undated) = store.register.with(|r| derive::open_actions_by_month(r, today(), 12));
        let most = points.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let (width, height, bar) = (360.0, 110.0, 30.0);
        let said = points.iter().map(|(d, n)| format!("{n} at {d}")).collect::<Vec<_>>().join(", ");
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, (day, n))| {
                let h = (*n as f64) / (most as f64) * (height - 30.0);
                let x = i as f64 * bar;
                let month = day.0.format("%b").to_string();
                view! {
                    <rect class="bar" x=x + 4.0 y=height - 16.0 - h width=bar - 8.0 height=h />
                    <text x=x + bar / 2.0 y=height - 18.0 - h text-anchor="middle">{n.to_string()}</text>
                    <text x=x + bar / 2.0 y=height - 3.0 text-anchor="middle">{month}</text>
                }
            })
            .collect_view();
        let note = (undated > 0).then(|| format!(" {undated} with no date raised are counted from the start."));
        view! {
            <figure class="trend" data-testid="open-actions">
                <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="img" aria-label=format!("Open actions at each month's end: {said}.")>
                    {bars}
                </svg>
                <figcaption>{format!("Open actions at the end of each month, last 12 months.{}", note.unwrap_or_default())}</figcaption>
            </figure>
        }
    }
}
