//! Plans, policies and templates under document control: identifier, owner, the current
//! version and a version history that is only added to, and the next review (a year after the
//! last, or at once after a material change the document is reviewed on).

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, due, headings, name, new_id, options, people_of};
use leptos::prelude::*;
use shared::*;

#[component]
pub fn Plans() -> impl IntoView {
    let plans = vec![
        column("Document", |_, _, p: &Plan| p.title.clone()),
        column("Code", |_, _, p: &Plan| p.code.clone()),
        column("Kind", |_, _, p: &Plan| p.kind.label().into()),
        column("Version", |_, _, p: &Plan| p.current_version().to_string()),
        column("Owner", |reg: &Register, _, p: &Plan| name(reg, &p.owner)),
        column("Next review", |reg: &Register, _, p: &Plan| {
            let changes = p.material_changes(reg);
            let next = p.review_due_after(&changes);
            let shown = due(next, next.is_none_or(|d| d < today()));
            match changes.last() {
                Some(change) => format!("{shown}: {} on {}", change.what, change.on),
                None => shown,
            }
        }),
    ];
    view! {
        <h2>"Plans and policies"</h2>
        <RecordTable slug="plan" title="Controlled documents" columns=plans fresh=|| Plan { title: "New plan".into(), ..Default::default() } editor=plan_editor />
    }
}

fn plan_editor(r: Editing<Plan>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let trigger = |label: &'static str, testid: &'static str, field: fn(&mut ReviewTriggers) -> &mut bool| {
        fields::flag(
            label,
            testid,
            move || *field(&mut r.get().review_on),
            move |v| r.save(move |x| *field(&mut x.review_on) = v),
        )
    };
    let body = view! {
        {fields::text("Title", "plan-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::text("Identifier", "plan-code", move || r.get().code, move |v| r.save(move |x| x.code = v), false)}
        {fields::choice("Kind", "plan-kind", options(PlanKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::choice("Owner", "plan-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::date("Last reviewed", "plan-last-reviewed", move || r.get().last_reviewed, move |v| r.save(move |x| x.last_reviewed = v), fail)}
        <fieldset class="field field-links" data-testid="plan-review-on">
            <legend>"Reviewed at once after"</legend>
            {trigger("A supplier newly marked critical", "plan-on-critical-supplier", |t| &mut t.critical_supplier)}
            {trigger("A severity 1 incident closed", "plan-on-severity-1", |t| &mut t.severity_1)}
            {trigger("A new holder of an incident response role", "plan-on-role-holder", |t| &mut t.role_holder)}
        </fieldset>
        {move || {
            let changes = store.register.with(|reg| r.get().material_changes(reg));
            (!changes.is_empty()).then(|| view! {
                <div class="conflicts" role="status" data-testid="plan-material-changes">
                    <p>"Due for review now: since the last review"</p>
                    <ul>{changes.into_iter().map(|c| view! { <li>{format!("{}: {}", c.on, c.what)}</li> }).collect_view()}</ul>
                </div>
            })
        }}
        <Versions r />
        {crate::views::publication::fields("plan", r, |p: &mut Plan| &mut p.publication)}
    };
    crate::views::records::editor_frame("plan", r, selected, body.into_any())
}

/// The version history, oldest first, and the form that issues the next version.
#[component]
fn Versions(r: Editing<Plan>) -> impl IntoView {
    let store = expect_context::<Store>();
    let version = RwSignal::new(String::new());
    let date = RwSignal::new(Some(today()));
    let author = RwSignal::new(store.person.get_untracked());
    let approver = RwSignal::new(None::<String>);
    let change = RwSignal::new(String::new());
    let fail = move |m| store.error.set(Some(m));
    let rows = move || {
        let register = store.register.get();
        r.get()
            .history()
            .into_iter()
            .map(|(_, v)| {
                view! {
                    <tr data-testid="plan-version">
                        <td data-label="Version">{v.version.clone()}</td>
                        <td data-label="Date">{v.date.map(|d| d.to_string()).unwrap_or_default()}</td>
                        <td data-label="Author">{name(&register, &v.author)}</td>
                        <td data-label="Approved by">{name(&register, &v.approved_by)}</td>
                        <td data-label="What changed">{v.change.clone()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let issue = move |_| {
        let number = version.get_untracked().trim().to_string();
        if number.is_empty() {
            fields::refuse("version-number", "Version", "Give the new version its number, for example 1.2.");
            return;
        }
        if change.get_untracked().trim().is_empty() {
            fields::refuse("version-change", "What changed", "Say what changed in this version.");
            return;
        }
        let entry = DocumentVersion {
            version: number.clone(),
            date: date.get_untracked(),
            at: crate::clock::now(),
            author: author.get_untracked(),
            approved_by: approver.get_untracked(),
            change: change.get_untracked().trim().to_string(),
            ..Default::default()
        };
        r.save(move |x| {
            x.versions.insert(new_id(), entry);
            x.version = number;
        });
        version.set(String::new());
        change.set(String::new());
    };
    view! {
        <fieldset class="nested" data-testid="plan-versions">
            <legend>"Versions"</legend>
            <table>
                {headings(&["Version", "Date", "Author", "Approved by", "What changed"])}
                <tbody>{rows}</tbody>
            </table>
            <h5>"Issue a new version"</h5>
            {fields::text("Version", "version-number", move || version.get(), move |v| version.set(v), false)}
            {fields::date("Date", "version-date", move || date.get(), move |v| date.set(v), fail)}
            {fields::choice("Author", "version-author", people_of(store), move || author.get(), move |v| author.set(v))}
            {fields::choice("Approved by", "version-approver", people_of(store), move || approver.get(), move |v| approver.set(v))}
            {fields::text("What changed", "version-change", move || change.get(), move |v| change.set(v), true)}
            <button data-testid="version-issue" on:click=issue disabled=move || r.is_draft()>"Issue this version"</button>
            <p class="field-hint">"Versions are kept as issued: a mistake is put right by issuing the next one."</p>
        </fieldset>
    }
}
