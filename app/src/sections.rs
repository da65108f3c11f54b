//! The record views beyond risks: suppliers and their alternatives and reviews; people,
//! roles, deputies, runbooks and break-glass accounts; exercises and actions; insurance and
//! switching costs; plans. Each is a `RecordTable` with an editor built from `fields`.

use crate::clock::today;
use crate::fields;
use crate::page::store::Store;
use crate::records::{Editing, RecordTable, column, headings, linkable, name, options, people};
use leptos::prelude::*;
use shared::Action;
use shared::refs::references;
use shared::*;

fn due(date: Option<Date>, overdue: bool) -> String {
    match (date, overdue) {
        (None, _) => "Now".into(),
        (Some(d), true) => format!("{d} (overdue)"),
        (Some(d), false) => d.to_string(),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------- suppliers

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
    crate::records::editor_frame("supplier", r, selected, body.into_any())
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

#[component]
pub fn People() -> impl IntoView {
    let store = expect_context::<Store>();
    let single_points = move || {
        findings(&store.register.get(), today())
            .into_iter()
            .filter(|f| matches!(f.kind, shared::Kind::Role | shared::Kind::Person))
            .map(|f| view! { <li data-testid="single-point">{f.message}</li> })
            .collect_view()
    };
    let roles = vec![
        column("Role", |_, _, r: &Role| r.name.clone()),
        column("Critical", |_, _, r: &Role| if r.critical { "Critical" } else { "" }.into()),
        column("Holder", |reg: &Register, _, r: &Role| name(reg, &r.holder)),
        column("Deputies, in order", |reg: &Register, _, r: &Role| {
            r.deputies.iter().filter_map(|d| reg.person_name(d)).collect::<Vec<_>>().join(", ")
        }),
    ];
    let people_columns = vec![
        column("Name", |_, _, p: &Person| p.name.clone()),
        column("Job title", |_, _, p: &Person| p.job_title.clone()),
        column("Email", |_, _, p: &Person| p.email.clone()),
        column("Phone", |_, _, p: &Person| p.phone.clone()),
    ];
    let runbooks = vec![
        column("Runbook", |_, _, r: &Runbook| r.title.clone()),
        column("Kind", |_, _, r: &Runbook| r.kind.label().into()),
        column("Owner", |reg: &Register, _, r: &Runbook| name(reg, &r.owner)),
        column("Last review", |_, _, r: &Runbook| {
            r.last_reviewed.map(|d| d.to_string()).unwrap_or_else(|| "Never".into())
        }),
        column("Next review", |_, _, r: &Runbook| due(r.next_review(), r.next_review().is_none_or(|d| d < today()))),
    ];
    let break_glass = vec![
        column("Service", |_, _, b: &BreakGlass| b.service.clone()),
        column("Account", |_, _, b: &BreakGlass| b.account.clone()),
        column("Last tested", |_, _, b: &BreakGlass| {
            b.last_tested.map(|d| d.to_string()).unwrap_or_else(|| "Never".into())
        }),
        column("Next test", |_, _, b: &BreakGlass| due(b.next_test(), b.next_test().is_none_or(|d| d < today()))),
    ];
    view! {
        <h2>"People and deputies"</h2>
        <section aria-labelledby="single-points-heading">
            <h3 id="single-points-heading">"Single points of knowledge"</h3>
            <ul data-testid="single-points">{single_points}</ul>
        </section>
        <RecordTable slug="role" title="Roles" columns=roles fresh=|| Role { name: "New role".into(), ..Default::default() } editor=role_editor />
        <RecordTable slug="person" title="People" columns=people_columns fresh=|| Person { name: "New person".into(), ..Default::default() } editor=person_editor />
        <RecordTable slug="runbook" title="Runbooks" columns=runbooks fresh=|| Runbook { title: "New runbook".into(), ..Default::default() } editor=runbook_editor />
        <RecordTable slug="break-glass" title="Break-glass accounts" columns=break_glass fresh=|| BreakGlass { service: "New account".into(), ..Default::default() } editor=break_glass_editor />
    }
}

fn role_editor(r: Editing<Role>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let deputies = move || {
        let register = store.register.get();
        r.get()
            .deputies
            .into_iter()
            .enumerate()
            .map(|(i, person)| {
                let who = register.person_name(&person).unwrap_or("(no longer in the register)").to_string();
                let up = move |_| r.save(move |role| role.deputies.swap(i, i - 1));
                let remove = move |_| {
                    r.save(move |role| {
                        role.deputies.remove(i);
                    })
                };
                view! {
                    <li data-testid="deputy">
                        {who.clone()}
                        " "
                        <button data-testid=format!("deputy-{}-up", i + 1) disabled=i == 0 aria-label=format!("Move {who} up") on:click=up>"Up"</button>
                        " "
                        <button data-testid=format!("deputy-{}-remove", i + 1) aria-label=format!("Remove {who} as deputy") on:click=remove>"Remove"</button>
                    </li>
                }
            })
            .collect_view()
    };
    let add = move |person: Option<String>| {
        if let Some(person) = person {
            r.save(move |role| {
                if !role.deputies.contains(&person) {
                    role.deputies.push(person)
                }
            })
        }
    };
    let toggle = |list: fn(&mut Role) -> &mut Links| {
        move |id: String, on: bool| {
            r.save(move |role| {
                let links = list(role);
                if on {
                    links.0.insert(id);
                } else {
                    links.0.remove(&id);
                }
            })
        }
    };
    let body = view! {
        {fields::text("Role", "role-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::text("Responsibilities", "role-responsibilities", move || r.get().responsibilities, move |v| r.save(move |x| x.responsibilities = v), true)}
        {fields::flag("Critical role", "role-critical", move || r.get().critical, move |v| r.save(move |x| x.critical = v))}
        {fields::choice("Holder", "role-holder", move || store.register.with(|r| people(r)), move || r.get().holder, move |v| r.save(move |x| x.holder = v))}
        <fieldset class="nested" data-testid="deputies">
            <legend>"Deputies, first to call first"</legend>
            <ol>{deputies}</ol>
            {fields::choice("Add a deputy", "role-add-deputy", move || store.register.with(|r| people(r)), || None, add)}
        </fieldset>
        {fields::links("Runbooks", "role-runbooks", move || store.register.with(|r| linkable::<Runbook>(r)), move || r.get().runbooks.0, toggle(|x| &mut x.runbooks))}
        {fields::links("Break-glass accounts", "role-break-glass", move || store.register.with(|r| linkable::<BreakGlass>(r)), move || r.get().break_glass.0, toggle(|x| &mut x.break_glass))}
    };
    crate::records::editor_frame("role", r, selected, body.into_any())
}

fn person_editor(r: Editing<Person>, selected: RwSignal<Option<String>>) -> AnyView {
    let body = view! {
        {fields::text("Name", "person-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::text("Job title", "person-job-title", move || r.get().job_title, move |v| r.save(move |x| x.job_title = v), false)}
        {fields::text("Email", "person-email", move || r.get().email, move |v| r.save(move |x| x.email = v), false)}
        {fields::text("Phone", "person-phone", move || r.get().phone, move |v| r.save(move |x| x.phone = v), false)}
    };
    crate::records::editor_frame("person", r, selected, body.into_any())
}

fn runbook_editor(r: Editing<Runbook>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Title", "runbook-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::choice("Kind", "runbook-kind", options(RunbookKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Owner", "runbook-owner", move || store.register.with(|r| people(r)), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::text("Where it is kept", "runbook-location", move || r.get().location, move |v| r.save(move |x| x.location = v), false)}
        {fields::date("Last reviewed", "runbook-last-reviewed", move || r.get().last_reviewed, move |v| r.save(move |x| x.last_reviewed = v), fail)}
    };
    crate::records::editor_frame("runbook", r, selected, body.into_any())
}

fn break_glass_editor(r: Editing<BreakGlass>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let people_links = move || store.register.with(|r| linkable::<Person>(r));
    let body = view! {
        {fields::text("Service", "break-glass-service", move || r.get().service, move |v| r.save(move |x| x.service = v), false)}
        {fields::text("Account", "break-glass-account", move || r.get().account, move |v| r.save(move |x| x.account = v), false)}
        {fields::links("Who may use it", "break-glass-permitted", people_links, move || r.get().permitted.0, move |id, on| r.save(move |x| { if on { x.permitted.0.insert(id); } else { x.permitted.0.remove(&id); } }))}
        {fields::text("Procedure", "break-glass-procedure", move || r.get().procedure, move |v| r.save(move |x| x.procedure = v), true)}
        {fields::date("Last tested", "break-glass-last-tested", move || r.get().last_tested, move |v| r.save(move |x| x.last_tested = v), fail)}
    };
    crate::records::editor_frame("break-glass", r, selected, body.into_any())
}

// ---------------------------------------------------------------- exercises and actions

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
    crate::records::editor_frame("exercise", r, selected, body.into_any())
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
    crate::records::editor_frame("action", r, selected, body.into_any())
}

// ---------------------------------------------------------------- finance

#[component]
pub fn Finance() -> impl IntoView {
    let store = expect_context::<Store>();
    let policies = vec![
        column("Policy", |_, _, p: &Policy| p.name.clone()),
        column("Kind", |_, _, p: &Policy| p.kind.label().into()),
        column("Cover", |_, _, p: &Policy| p.cover_limit.to_string()),
        column("Excess", |_, _, p: &Policy| p.excess.to_string()),
        column("Premium", |_, _, p: &Policy| p.premium.to_string()),
        column("Renewal", |_, _, p: &Policy| {
            let days = p.days_to_renewal(today());
            let soon = days.is_some_and(|d| d <= derive::RENEWAL_WARNING_DAYS);
            p.renewal
                .map(|d| if soon { format!("{d} (in {} days)", days.unwrap_or_default()) } else { d.to_string() })
                .unwrap_or_default()
        }),
        column("Risks transferred", |reg: &Register, id: &str, _: &Policy| {
            let refs = references::<Risk>(reg);
            reg.risks_transferred_to(id)
                .map(|(rid, r)| format!("{} {}", refs[rid], r.title))
                .collect::<Vec<_>>()
                .join("; ")
        }),
    ];
    let switching = move || {
        let register = store.register.get();
        let refs = references::<Supplier>(&register);
        let mut rows = Vec::new();
        for (sid, s) in register.live::<Supplier>() {
            for a in s.alternatives.values().filter(|a| !a.archived) {
                rows.push((
                    format!("{} {}", refs[sid], s.name),
                    a.name.clone(),
                    a.viability.label(),
                    a.switch_over_days,
                    a.cost_impact,
                ));
            }
        }
        let total: i64 = rows.iter().map(|r| r.4.0).sum();
        let body = rows
            .into_iter()
            .map(|(supplier, alternative, viability, days, cost)| {
                view! {
                    <tr data-testid="switching-cost">
                        <td>{supplier}</td>
                        <td>{alternative}</td>
                        <td>{viability}</td>
                        <td>{days}</td>
                        <td>{cost.to_string()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            {body}
            <tr>
                <th scope="row" colspan="4">"Total if every alternative were used"</th>
                <td data-testid="switching-total">{Pence(total).to_string()}</td>
            </tr>
        }
    };
    view! {
        <h2>"Finance"</h2>
        <RecordTable slug="policy" title="Insurance policies" columns=policies fresh=|| Policy { name: "New policy".into(), ..Default::default() } editor=policy_editor />
        <section aria-labelledby="switching-heading">
            <h3 id="switching-heading">"Supplier switching costs"</h3>
            <table data-testid="switching-table">
                {headings(&["Supplier", "Alternative", "Viability", "Days to switch", "Cost"])}
                <tbody>{switching}</tbody>
            </table>
        </section>
    }
}

fn policy_editor(r: Editing<Policy>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Policy", "policy-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::choice("Kind", "policy-kind", options(PolicyKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::text("Insurer", "policy-insurer", move || r.get().insurer, move |v| r.save(move |x| x.insurer = v), false)}
        {fields::text("Policy number", "policy-number", move || r.get().policy_number, move |v| r.save(move |x| x.policy_number = v), false)}
        {fields::money("Cover limit", "policy-cover", move || r.get().cover_limit, move |v| r.save(move |x| x.cover_limit = v), fail)}
        {fields::money("Excess", "policy-excess", move || r.get().excess, move |v| r.save(move |x| x.excess = v), fail)}
        {fields::money("Annual premium", "policy-premium", move || r.get().premium, move |v| r.save(move |x| x.premium = v), fail)}
        {fields::date("Renewal", "policy-renewal", move || r.get().renewal, move |v| r.save(move |x| x.renewal = v), fail)}
        {fields::choice("Owner", "policy-owner", move || store.register.with(|r| people(r)), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
    };
    crate::records::editor_frame("policy", r, selected, body.into_any())
}

// ---------------------------------------------------------------- plans

#[component]
pub fn Plans() -> impl IntoView {
    let plans = vec![
        column("Document", |_, _, p: &Plan| p.title.clone()),
        column("Code", |_, _, p: &Plan| p.code.clone()),
        column("Kind", |_, _, p: &Plan| p.kind.label().into()),
        column("Version", |_, _, p: &Plan| p.version.clone()),
        column("Owner", |reg: &Register, _, p: &Plan| name(reg, &p.owner)),
        column("Next review", |_, _, p: &Plan| due(p.next_review(), p.next_review().is_none_or(|d| d < today()))),
    ];
    view! {
        <h2>"Plans and policies"</h2>
        <RecordTable slug="plan" title="Controlled documents" columns=plans fresh=|| Plan { title: "New plan".into(), ..Default::default() } editor=plan_editor />
    }
}

fn plan_editor(r: Editing<Plan>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Title", "plan-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::text("Code", "plan-code", move || r.get().code, move |v| r.save(move |x| x.code = v), false)}
        {fields::choice("Kind", "plan-kind", options(PlanKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Owner", "plan-owner", move || store.register.with(|r| people(r)), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::text("Version", "plan-version", move || r.get().version, move |v| r.save(move |x| x.version = v), false)}
        {fields::date("Last reviewed", "plan-last-reviewed", move || r.get().last_reviewed, move |v| r.save(move |x| x.last_reviewed = v), fail)}
    };
    crate::records::editor_frame("plan", r, selected, body.into_any())
}
