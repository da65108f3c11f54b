//! The review calendar: every dated obligation, due or overdue, within a chosen window and
//! grouped by month, with its iCalendar download.

use crate::bridge::Download;
use crate::clock::today;
use crate::page::store::Store;
use crate::views::export::{Preparing, prepare};
use crate::views::fields;
use crate::views::records::headings;
use crate::views::records::record_link;
use leptos::prelude::*;
use shared::Date;
use shared::calendar::{Obligation, obligations};

/// How far ahead the calendar looks: what people ask ("what renews in the next 60 days?").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    ThisMonth,
    Days(i64),
    Everything,
}

impl Window {
    const ALL: [Window; 5] =
        [Window::ThisMonth, Window::Days(30), Window::Days(60), Window::Days(90), Window::Everything];

    fn label(self) -> String {
        match self {
            Window::ThisMonth => "Due this month".into(),
            Window::Days(n) => format!("Due in the next {n} days"),
            Window::Everything => "Everything".into(),
        }
    }

    /// Whether an obligation falls in the window; overdue ones always do.
    fn holds(self, o: &Obligation, today: Date) -> bool {
        use chrono::Datelike;
        if o.overdue {
            return true;
        }
        let Some(due) = o.due else { return true };
        match self {
            Window::ThisMonth => due.year() == today.year() && due.0.month() == today.0.month(),
            Window::Days(n) => today.days_until(due) <= n,
            Window::Everything => true,
        }
    }
}

/// The heading an obligation is listed under: overdue, or its month ("January 2027").
fn month_of(o: &Obligation) -> String {
    match (o.overdue, o.due) {
        (true, _) | (_, None) => "Overdue".into(),
        (false, Some(due)) => due.0.format("%B %Y").to_string(),
    }
}

#[component]
pub fn Calendar() -> impl IntoView {
    let store = expect_context::<Store>();
    let busy = RwSignal::new(false);
    let window = RwSignal::new(Window::Days(90));
    let download = move |_| prepare(store, busy, Download::Calendar);
    let groups = move || {
        let today = today();
        let chosen = window.get();
        let mut groups: Vec<(String, Vec<Obligation>)> = Vec::new();
        for o in obligations(&store.register.get(), today).into_iter().filter(|o| chosen.holds(o, today)) {
            let month = month_of(&o);
            match groups.last_mut() {
                Some((m, items)) if *m == month => items.push(o),
                _ => groups.push((month, vec![o])),
            }
        }
        if groups.is_empty() {
            return view! { <p class="empty" data-testid="calendar-none">"Nothing falls due in this window."</p> }
                .into_any();
        }
        groups
            .into_iter()
            .map(|(month, items)| {
                let count = items.len();
                let rows = items
                    .into_iter()
                    .map(|o| {
                        let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "Never done".into());
                        let subject = record_link(o.kind, o.id.clone(), o.subject.clone(), "obligation-open");
                        view! {
                            <tr data-testid="obligation" class:overdue=o.overdue>
                                <td data-label="Due">{due}</td>
                                <td data-label="What">{o.what}</td>
                                <td data-label="Record">{subject}</td>
                                <td data-label="State">{if o.overdue { "Overdue" } else { "" }}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <table data-testid="calendar-table">
                        <caption data-testid="calendar-month">{format!("{month} ({count})")}</caption>
                        {headings(&["Due", "What", "Record", "State"])}
                        <tbody>{rows}</tbody>
                    </table>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <h2>"Review calendar"</h2>
        <div class="filters">
            {fields::choice(
                "Show",
                "calendar-window",
                || Window::ALL.into_iter().map(|w| (w, w.label())).collect(),
                move || window.get(),
                move |w| window.set(w),
            )}
            <button data-testid="calendar-download" on:click=download disabled=busy>
                "Download calendar (.ics)"
            </button>
        </div>
        <Preparing busy/>
        {groups}
    }
}
