//! The review calendar: every dated obligation, due or overdue, and its iCalendar download.

use crate::bridge::Download;
use crate::clock::today;
use crate::open_record;
use crate::page::store::Store;
use crate::views::export::{Preparing, prepare};
use crate::views::records::headings;
use leptos::prelude::*;
use shared::calendar::obligations;

/// Every dated obligation, due or overdue, with a calendar file to download.
#[component]
pub fn Calendar() -> impl IntoView {
    let store = expect_context::<Store>();
    let busy = RwSignal::new(false);
    let download = move |_| prepare(store, busy, Download::Calendar);
    let rows = move || {
        obligations(&store.register.get(), today())
            .into_iter()
            .map(|o| {
                let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "Now".into());
                let kind = o.kind;
                let subject = match o.id.clone() {
                    Some(id) => view! {
                        <button class="link" data-testid="obligation-open" on:click=move |_| open_record(kind, id.clone())>{o.subject.clone()}</button>
                    }
                    .into_any(),
                    None => o.subject.clone().into_any(),
                };
                view! {
                    <tr data-testid="obligation" class:overdue=o.overdue>
                        <td data-label="Due">{due}</td>
                        <td data-label="What">{o.what}</td>
                        <td data-label="Record">{subject}</td>
                        <td data-label="State">{if o.overdue { "Overdue" } else { "" }}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <h2>"Review calendar"</h2>
        <button data-testid="calendar-download" on:click=download disabled=busy>
            "Download calendar (.ics)"
        </button>
        <Preparing busy/>
        <table data-testid="calendar-table">
            {headings(&["Due", "What", "Record", "State"])}
            <tbody>{rows}</tbody>
        </table>
    }
}
