//! Plans and policies: owner, version and annual review.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, due, name, options, people};
use leptos::prelude::*;
use shared::*;

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
        {crate::views::publication::fields("plan", r, |p: &mut Plan| &mut p.publication)}
    };
    crate::views::records::editor_frame("plan", r, selected, body.into_any())
}
