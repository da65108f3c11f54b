//! Finance: insurance policies (cover, excess, premium, renewal, the risks they transfer)
//! and the cost of switching suppliers.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, headings, linkable_of, options, people_of};
use leptos::prelude::*;
use shared::refs::references;
use shared::*;

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

/// Ticks or unticks a policy against a risk: the link is kept on the risk (its insurance),
/// so the change is an edit of the risk.
fn cover(store: Store, policy: String, risk: String, on: bool) {
    let Some(old) = store.register.with_untracked(|reg| reg.risks.get(&risk).cloned()) else { return };
    let mut new = old.clone();
    if on {
        new.policies.0.insert(policy);
    } else {
        new.policies.0.remove(&policy);
    }
    store.apply(Edit::Update { id: risk, old: old.any_record(), new: new.any_record() });
}

fn policy_editor(r: Editing<Policy>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let created = Memo::new(move |_| !r.is_draft());
    let body = view! {
        {fields::text("Policy", "policy-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::choice("Kind", "policy-kind", options(PolicyKind::ALL), move || r.get().kind, move |v| r.save(move |x| x.kind = v))}
        {fields::text("Insurer", "policy-insurer", move || r.get().insurer, move |v| r.save(move |x| x.insurer = v), false)}
        {fields::text("Policy number", "policy-number", move || r.get().policy_number, move |v| r.save(move |x| x.policy_number = v), false)}
        {fields::money("Cover limit", "policy-cover", move || r.get().cover_limit, move |v| r.save(move |x| x.cover_limit = v), fail)}
        {fields::money("Excess", "policy-excess", move || r.get().excess, move |v| r.save(move |x| x.excess = v), fail)}
        {fields::money("Annual premium", "policy-premium", move || r.get().premium, move |v| r.save(move |x| x.premium = v), fail)}
        {fields::date("Renewal", "policy-renewal", move || r.get().renewal, move |v| r.save(move |x| x.renewal = v), fail)}
        {fields::choice("Owner", "policy-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        <Show when=move || created.get()>
            {fields::links("Risks this policy covers", "policy-risks", linkable_of::<Risk>(store), move || store.register.with(|reg| reg.risks_transferred_to(&r.id()).map(|(id, _)| id.clone()).collect()), move |risk, on| cover(store, r.id(), risk, on))}
        </Show>
    };
    crate::views::records::editor_frame("policy", r, selected, body.into_any())
}
