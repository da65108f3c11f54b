//! The board report: a dated summary of the register on one page, for printing or saving as
//! PDF from the browser (the print stylesheet hides the navigation and the controls).

use crate::clock::today;
use crate::page::store::Store;
use crate::views::actions::OpenActions;
use crate::views::records::headings;
use crate::views::risks::HeatMap;
use leptos::prelude::*;
use shared::calendar::obligations;
use shared::refs::references;
use shared::{Exercise, ExerciseStatus, Policy, Risk, RiskStatus, Severity, findings};

/// How many risks the report lists by residual score.
const TOP_RISKS: usize = 5;
/// Insurance renewing within this many days is listed.
const RENEWAL_DAYS: i64 = 90;

/// A section's table, or what to say when it has no rows.
fn table_or(columns: &[&'static str], rows: Vec<AnyView>, none: String, testid: &'static str) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="empty">{none}</p> }.into_any();
    }
    view! { <table data-testid=testid>{headings(columns)}<tbody>{rows}</tbody></table> }.into_any()
}

#[component]
pub fn Report() -> impl IntoView {
    let store = expect_context::<Store>();
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let body = move || {
        let register = store.register.get();
        let today = today();
        let name =
            |id: &Option<String>| id.as_deref().and_then(|p| register.person_name(p)).unwrap_or("No owner").to_string();
        let refs = references::<Risk>(&register);
        let mut open: Vec<_> = register.live::<Risk>().filter(|(_, r)| r.status != RiskStatus::Closed).collect();
        open.sort_by_key(|(_, r)| (std::cmp::Reverse(r.residual_score()), r.number));
        let risk_row = |(id, r): &(&String, &Risk)| {
            view! {
                <tr>
                    <td data-label="Ref">{refs.get(*id).cloned().unwrap_or_default()}</td>
                    <td data-label="Risk">{r.title.clone()}</td>
                    <td data-label="Owner">{name(&r.owner)}</td>
                    <td data-label="Residual">{format!("{} ({})", r.residual_score(), r.band().label())}</td>
                    <td data-label="Target">{r.target_score}</td>
                    <td data-label="Treatment">{r.treatment.label()}</td>
                    <td data-label="Direction">{r.direction.label()}</td>
                </tr>
            }
            .into_any()
        };
        const RISK_COLUMNS: [&str; 7] = ["Ref", "Risk", "Owner", "Residual", "Target", "Treatment", "Direction"];
        let above: Vec<_> = open.iter().filter(|(_, r)| r.above_target()).map(risk_row).collect();
        let above = table_or(&RISK_COLUMNS, above, "Every open risk is at or below its target.".into(), "report-above");
        let top: Vec<_> = open.iter().take(TOP_RISKS).map(risk_row).collect();
        let overdue: Vec<_> = obligations(&register, today)
            .into_iter()
            .filter(|o| o.overdue)
            .map(|o| {
                let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "Never done".into());
                view! { <tr><td data-label="Due">{due}</td><td data-label="What">{o.what}</td><td data-label="Record">{o.subject}</td></tr> }
                    .into_any()
            })
            .collect();
        let overdue = table_or(&["Due", "What", "Record"], overdue, "Nothing is overdue.".into(), "report-overdue");
        let mut exercises: Vec<_> =
            register.live::<Exercise>().filter(|(_, e)| e.status == ExerciseStatus::Completed).collect();
        exercises.sort_by_key(|(_, e)| std::cmp::Reverse(e.date));
        let exercises: Vec<_> = exercises
            .into_iter()
            .take(5)
            .map(|(_, e)| {
                let when = e.date.map(|d| d.to_string()).unwrap_or_default();
                view! {
                    <tr>
                        <td data-label="Date">{when}</td>
                        <td data-label="Exercise">{e.title.clone()}</td>
                        <td data-label="Went well">{e.went_well.clone()}</td>
                        <td data-label="To improve">{e.went_badly.clone()}</td>
                    </tr>
                }
                .into_any()
            })
            .collect();
        let exercises = table_or(
            &["Date", "Exercise", "Went well", "To improve"],
            exercises,
            "No exercise has been completed yet.".into(),
            "report-exercises",
        );
        let mut renewals: Vec<_> = register
            .live::<Policy>()
            .filter(|(_, p)| p.renewal.is_some_and(|d| today.days_until(d) <= RENEWAL_DAYS))
            .collect();
        renewals.sort_by_key(|(_, p)| p.renewal);
        let renewals: Vec<_> = renewals
            .into_iter()
            .map(|(_, p)| {
                let when = p.renewal.map(|d| d.to_string()).unwrap_or_default();
                view! {
                    <tr>
                        <td data-label="Renews">{when}</td>
                        <td data-label="Policy">{p.name.clone()}</td>
                        <td data-label="Insurer">{p.insurer.clone()}</td>
                        <td data-label="Premium">{p.premium.to_string()}</td>
                    </tr>
                }
                .into_any()
            })
            .collect();
        let renewals = table_or(
            &["Renews", "Policy", "Insurer", "Premium"],
            renewals,
            format!("No policy renews in the next {RENEWAL_DAYS} days."),
            "report-renewals",
        );
        let serious: Vec<_> = findings(&register, crate::clock::moment())
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| view! { <li>{f.message}</li> })
            .collect();
        let serious = if serious.is_empty() {
            view! { <p class="empty">"Nothing leaves the firm exposed today."</p> }.into_any()
        } else {
            view! { <ul>{serious}</ul> }.into_any()
        };
        view! {
            <header class="report-title">
                <h2 data-testid="report-heading">{format!("Board report: {}", register.name)}</h2>
                <p>{format!("The risk and continuity register on {today}.")}</p>
            </header>
            <section><h3>"Where the risks sit"</h3><HeatMap /></section>
            <section><h3>"Risks above their target"</h3>{above}</section>
            <section>
                <h3>"Top risks"</h3>
                <table data-testid="report-top">{headings(&RISK_COLUMNS)}<tbody>{top}</tbody></table>
            </section>
            <section><h3>"Overdue obligations"</h3>{overdue}</section>
            <section><h3>"Exercise outcomes"</h3>{exercises}</section>
            <section><h3>"Open actions"</h3><OpenActions /></section>
            <section><h3>"Insurance renewals"</h3>{renewals}</section>
            <section><h3>"Findings that need action"</h3>{serious}</section>
        }
    };
    view! {
        <p class="toolbar">
            <button data-testid="report-print" on:click=print>"Print or save as PDF"</button>
        </p>
        <article class="report" data-testid="report">{body}</article>
    }
}
