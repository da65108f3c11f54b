//! Today: what needs attention now, each item a link to its record: obligations overdue and
//! due this month, what the findings raise, the risks above their target and the actions due.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::records::record_link as link;
use leptos::prelude::*;
use shared::calendar::{Obligation, obligations};
use shared::date::Now;
use shared::refs::references;
use shared::{Action, ActionStatus, Date, Incident, Record, Register, Risk, RiskStatus, Severity, findings};

/// The last day of the month `today` is in.
fn month_end(today: Date) -> Date {
    use chrono::Datelike;
    let first = Date::ymd(today.year(), today.0.month(), 1).unwrap_or(today);
    first.add_months(1).add_days(-1)
}

/// How many of each thing needs attention: what the navigation's counts show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub above_target: usize,
    pub overdue: usize,
    pub findings: usize,
    pub open_incidents: usize,
}

pub fn counts(register: &Register, now: Now) -> Counts {
    let today = now.today;
    Counts {
        above_target: register
            .live::<Risk>()
            .filter(|(_, r)| r.status != RiskStatus::Closed && r.above_target())
            .count(),
        overdue: obligations(register, today).iter().filter(|o| o.overdue).count(),
        findings: findings(register, now).iter().filter(|f| f.severity == Severity::Error).count(),
        open_incidents: register.live::<Incident>().filter(|(_, i)| i.is_open()).count(),
    }
}

fn obligation_list(items: Vec<Obligation>, testid: &'static str, none: &'static str) -> AnyView {
    if items.is_empty() {
        return view! { <p class="empty">{none}</p> }.into_any();
    }
    view! {
        <ul class="attention" data-testid=testid>
            {items
                .into_iter()
                .map(|o| {
                    let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "Never done".into());
                    view! {
                        <li>
                            <span class="when">{due}</span>
                            " "
                            {o.what}
                            ": "
                            {link(o.kind, o.id, o.subject, "today-open")}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// Section heading with its count, so the page reads as a list of what to do.
fn heading(id: &'static str, title: &'static str, count: usize) -> impl IntoView {
    view! { <h3 id=id>{title}" "<span class="count" data-testid=format!("{id}-count")>{count}</span></h3> }
}

#[component]
pub fn Today() -> impl IntoView {
    let store = expect_context::<Store>();
    move || {
        let register = store.register.get();
        let today = today();
        let end = month_end(today);
        let all = obligations(&register, today);
        let (overdue, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|o| o.overdue);
        let this_month: Vec<_> = rest.into_iter().filter(|o| o.due.is_some_and(|d| d <= end)).collect();
        let found = findings(&register, crate::clock::moment());
        let (serious, worth_a_look): (Vec<_>, Vec<_>) = found.into_iter().partition(|f| f.severity == Severity::Error);
        let refs = references::<Risk>(&register);
        let mut above: Vec<_> = register
            .live::<Risk>()
            .filter(|(_, r)| r.status != RiskStatus::Closed && r.above_target())
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        above.sort_by_key(|(_, r)| std::cmp::Reverse(r.residual_score()));
        let action_refs = references::<Action>(&register);
        let mut actions: Vec<_> = register
            .live::<Action>()
            .filter(|(_, a)| a.status != ActionStatus::Done && a.due.is_some_and(|d| d <= end))
            .map(|(id, a)| (id.clone(), a.clone()))
            .collect();
        actions.sort_by_key(|(_, a)| a.due);

        let finding_items = |items: Vec<shared::Finding>| {
            items
                .into_iter()
                .map(|f| view! { <li>{f.message.clone()}" "{f.id.map(|id| link(f.kind, Some(id), "Open the record".into(), "today-open"))}</li> })
                .collect_view()
        };
        let (n_overdue, n_month, n_serious, n_look, n_above, n_actions) =
            (overdue.len(), this_month.len(), serious.len(), worth_a_look.len(), above.len(), actions.len());
        view! {
            <h2>"Today"</h2>
            <p class="lead">{format!("What needs attention on {today}.")}</p>
            {crate::views::welcome::sample_notice(store)}
            {open_incidents(&register)}
            <section aria-labelledby="today-overdue">
                {heading("today-overdue", "Overdue", n_overdue)}
                {obligation_list(overdue, "today-overdue-list", "Nothing is overdue.")}
            </section>
            <section aria-labelledby="today-month">
                {heading("today-month", "Due by the end of the month", n_month)}
                {obligation_list(this_month, "today-month-list", "Nothing else falls due this month.")}
            </section>
            <section aria-labelledby="today-findings">
                {heading("today-findings", "Needs action", n_serious)}
                {if n_serious == 0 {
                    view! { <p class="empty">"Nothing leaves the firm exposed today."</p> }.into_any()
                } else {
                    view! { <ul class="attention" data-testid="today-findings-list">{finding_items(serious)}</ul> }.into_any()
                }}
                <details>
                    <summary>{format!("Worth a look ({n_look})")}</summary>
                    <ul class="attention">{finding_items(worth_a_look)}</ul>
                </details>
            </section>
            <section aria-labelledby="today-above">
                {heading("today-above", "Risks above their target", n_above)}
                {if above.is_empty() {
                    view! { <p class="empty">"Every open risk is at or below its target."</p> }.into_any()
                } else {
                    view! {
                        <ul class="attention" data-testid="today-above-list">
                            {above
                                .into_iter()
                                .map(|(id, r)| {
                                    let text = format!("{} {}", refs.get(&id).cloned().unwrap_or_default(), r.title);
                                    let owner = r.owner.as_deref().and_then(|p| register.person_name(p)).unwrap_or("no owner").to_string();
                                    view! {
                                        <li>
                                            {link(Risk::KIND, Some(id), text, "today-open")}
                                            {format!(": residual {} against a target of {} ({}, {owner})", r.residual_score(), r.target_score, r.band().label())}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </section>
            <section aria-labelledby="today-actions">
                {heading("today-actions", "Actions due by the end of the month", n_actions)}
                {if actions.is_empty() {
                    view! { <p class="empty">"No open action falls due this month."</p> }.into_any()
                } else {
                    view! {
                        <ul class="attention" data-testid="today-actions-list">
                            {actions
                                .into_iter()
                                .map(|(id, a)| {
                                    let text = format!("{} {}", action_refs.get(&id).cloned().unwrap_or_default(), a.title);
                                    let due = a.due.map(|d| d.to_string()).unwrap_or_default();
                                    let late = a.due.is_some_and(|d| d < today);
                                    view! {
                                        <li>
                                            <span class="when">{due}</span>
                                            " "
                                            {link(Action::KIND, Some(id), text, "today-open")}
                                            {late.then_some(" (overdue)")}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </section>
        }
    }
}

/// The incidents open now, most severe first, each with its nearest deadline; nothing when
/// none is open.
fn open_incidents(register: &Register) -> Option<AnyView> {
    let refs = references::<Incident>(register);
    let open = shared::incident::open_incidents(register);
    if open.is_empty() {
        return None;
    }
    let n = open.len();
    let now = crate::clock::now();
    let items = open
        .into_iter()
        .map(|(id, i)| {
            let text = format!("{} {}", refs.get(id).cloned().unwrap_or_default(), i.title);
            let severity = i
                .severity()
                .map(shared::incident::severity_label)
                .unwrap_or_else(|| "Severity not yet assessed".into());
            let deadline =
                i.nearest_deadline().map(|c| format!("; {}: {}", c.kind.label(), c.status(now))).unwrap_or_default();
            view! {
                <li>
                    {link(Incident::KIND, Some(id.clone()), text, "today-open")}
                    {format!(": {severity}, {}{deadline}", i.phase().label().to_lowercase())}
                </li>
            }
        })
        .collect_view();
    Some(
        view! {
            <section aria-labelledby="today-incidents">
                {heading("today-incidents", "Open incidents", n)}
                <ul class="attention" data-testid="today-incidents-list">{items}</ul>
            </section>
        }
        .into_any(),
    )
}
