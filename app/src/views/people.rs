//! People and deputies: the roles with their holders and ordered deputies, the people,
//! runbooks for time-critical operations and break-glass accounts.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, due, linkable_of, name, options, people_of};
use leptos::prelude::*;
use shared::*;

#[component]
pub fn People() -> impl IntoView {
    let store = expect_context::<Store>();
    let single_points = move || {
        findings(&store.register.get(), crate::clock::moment())
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
        {fields::flag("A named incident response role (its people rehearse it every year)", "role-incident-response", move || r.get().incident_response, move |v| r.save(move |x| x.incident_response = v))}
        {fields::flag("Keeps a reference card (a runbook of that kind, reviewed every year)", "role-needs-card", move || r.get().needs_card, move |v| r.save(move |x| x.needs_card = v))}
        // A new holder is dated: for a response role it brings the plans reviewed on it forward.
        {fields::choice("Holder", "role-holder", people_of(store), move || r.get().holder, move |v| r.save(move |x| {
            if x.holder != v {
                x.holder_since = Some(crate::clock::today());
            }
            x.holder = v;
        }))}
        {move || r.get().holder_since.map(|d| view! { <p class="field-hint" data-testid="role-holder-since">{format!("Held since {d}")}</p> })}
        <fieldset class="nested" data-testid="deputies">
            <legend>"Deputies, first to call first"</legend>
            <ol>{deputies}</ol>
            {fields::choice("Add a deputy", "role-add-deputy", people_of(store), || None, add)}
        </fieldset>
        {fields::links("Runbooks", "role-runbooks", linkable_of::<Runbook>(store), move || r.get().runbooks.0, toggle(|x| &mut x.runbooks))}
        {fields::links("Break-glass accounts", "role-break-glass", linkable_of::<BreakGlass>(store), move || r.get().break_glass.0, toggle(|x| &mut x.break_glass))}
    };
    crate::views::records::editor_frame("role", r, selected, body.into_any())
}

fn person_editor(r: Editing<Person>, selected: RwSignal<Option<String>>) -> AnyView {
    let body = view! {
        {fields::text("Name", "person-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::text("Job title", "person-job-title", move || r.get().job_title, move |v| r.save(move |x| x.job_title = v), false)}
        {fields::text("Email", "person-email", move || r.get().email, move |v| r.save(move |x| x.email = v), false)}
        {fields::text("Phone", "person-phone", move || r.get().phone, move |v| r.save(move |x| x.phone = v), false)}
    };
    crate::views::records::editor_frame("person", r, selected, body.into_any())
}

fn runbook_editor(r: Editing<Runbook>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Title", "runbook-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::choice("Kind", "runbook-kind", options(RunbookKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Owner", "runbook-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::text("Where it is kept", "runbook-location", move || r.get().location, move |v| r.save(move |x| x.location = v), false)}
        {fields::date("Last reviewed", "runbook-last-reviewed", move || r.get().last_reviewed, move |v| r.save(move |x| x.last_reviewed = v), fail)}
    };
    crate::views::records::editor_frame("runbook", r, selected, body.into_any())
}

fn break_glass_editor(r: Editing<BreakGlass>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let people_links = linkable_of::<Person>(store);
    let body = view! {
        {fields::text("Service", "break-glass-service", move || r.get().service, move |v| r.save(move |x| x.service = v), false)}
        {fields::text("Account", "break-glass-account", move || r.get().account, move |v| r.save(move |x| x.account = v), false)}
        {fields::links("Who may use it", "break-glass-permitted", people_links, move || r.get().permitted.0, move |id, on| r.save(move |x| { if on { x.permitted.0.insert(id); } else { x.permitted.0.remove(&id); } }))}
        {fields::text("Procedure", "break-glass-procedure", move || r.get().procedure, move |v| r.save(move |x| x.procedure = v), true)}
        {fields::date("Last tested", "break-glass-last-tested", move || r.get().last_tested, move |v| r.save(move |x| x.last_tested = v), fail)}
    };
    crate::views::records::editor_frame("break-glass", r, selected, body.into_any())
}
