//! Findings: everything the register raises today, errors first, each opening its record
//! and the other records it names.

use crate::page::store::Store;
use crate::views::records::record_link;
use leptos::prelude::*;
use shared::{Severity, findings};

/// Everything the register raises today, errors first.
#[component]
pub fn Findings() -> impl IntoView {
    let store = expect_context::<Store>();
    let items = move || {
        let register = store.register.get();
        let found = findings(&register, crate::clock::moment());
        let refs = shared::refs::all_references(&register);
        if found.is_empty() {
            return view! { <p data-testid="findings-none">"Nothing to raise today."</p> }.into_any();
        }
        view! {
            <ul data-testid="findings-list">
                {found
                    .into_iter()
                    .map(|f| {
                        let class = match f.severity {
                            Severity::Error => "severity-error",
                            Severity::Warning => "severity-warning",
                        };
                        let open = f.id.clone().map(|id| {
                            view! { " " {record_link(f.kind, Some(id), "Open the record".into(), "finding-open")} }
                        });
                        // The other records it names: the customer, supplier or exercise.
                        let involved = f
                            .involved
                            .into_iter()
                            .map(|(kind, id)| {
                                let reference = refs.get(&kind).and_then(|r| r.get(&id)).cloned().unwrap_or_default();
                                view! { " · " {record_link(kind, Some(id), format!("Open {reference}"), "finding-involved")} }
                            })
                            .collect_view();
                        view! {
                            <li data-testid="finding" class=class>
                                <strong>{f.severity.label()}": "</strong>
                                {f.message}
                                {open}
                                {involved}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h2>"Findings"</h2>
        {items}
    }
}
