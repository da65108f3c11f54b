//! The History view: for any record, who changed which field when, from what to what (and
//! which fields were edited at the same time on two devices), each change beside who the
//! server verified sent it; and the whole register as it stood on a chosen date.

use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::headings;
use leptos::prelude::*;
use shared::Action;
use shared::authorship::{Authorship, Upload, judge};
use shared::refs::references;
use shared::*;

/// Every record in the register, as (kind, id, "REF title") for the picker.
fn every_record(register: &Register) -> Vec<(Option<(Kind, String)>, String)> {
    fn add<R: Record>(register: &Register, out: &mut Vec<(Option<(Kind, String)>, String)>) {
        let refs = references::<R>(register);
        for (id, r) in R::collection(register) {
            let archived = if r.archived() { " (archived)" } else { "" };
            out.push((Some((R::KIND, id.clone())), format!("{} {}{archived}", refs[id], r.title())));
        }
    }
    let mut out = vec![(None, "Choose a record".to_string())];
    add::<Risk>(register, &mut out);
    add::<Supplier>(register, &mut out);
    add::<Person>(register, &mut out);
    add::<Role>(register, &mut out);
    add::<Runbook>(register, &mut out);
    add::<BreakGlass>(register, &mut out);
    add::<Exercise>(register, &mut out);
    add::<Action>(register, &mut out);
    add::<Policy>(register, &mut out);
    add::<Plan>(register, &mut out);
    add::<Incident>(register, &mut out);
    add::<Service>(register, &mut out);
    add::<Customer>(register, &mut out);
    add::<Training>(register, &mut out);
    out
}

fn when(time: i64) -> String {
    crate::clock::local_time(time, false)
}

/// A stable name for each judgement, for styling and tests.
fn authorship_key(verdict: &Authorship) -> &'static str {
    match verdict {
        Authorship::Unconfirmed => "unconfirmed",
        Authorship::Verified => "verified",
        Authorship::Unclaimed => "unclaimed",
        Authorship::ByRelay => "sample",
        Authorship::Restored => "restored",
        Authorship::Mismatch => "mismatch",
    }
}

/// The server's record of one change beside what the change claims: who sent it and when,
/// and what to make of it. A mismatch names both people, so nobody has to compare columns.
fn sent_by(verdict: &Authorship, claimed: &str, upload: Option<&Upload>) -> AnyView {
    let Some(upload) = upload else {
        return view! { <span class="authorship">{verdict.label()}</span> }.into_any();
    };
    let sender = if upload.by_relay { "The server" } else { upload.member.as_str() };
    let record = format!("{sender}, {}", when(upload.at));
    let judgement = match verdict {
        Authorship::Mismatch => {
            format!("Mismatch: the change names {claimed}, but {} sent it", upload.member)
        }
        Authorship::Restored => format!("Restored from a backup by {}", upload.member),
        other => other.label().to_string(),
    };
    let class = if *verdict == Authorship::Mismatch { "authorship mismatch" } else { "authorship" };
    view! {
        <span>{record}</span>
        <br />
        <strong class=class>{judgement}</strong>
    }
    .into_any()
}

/// The records of one kind in the register as it stood then, by reference.
fn records_then<R: Record>(then: &Register, label: &'static str) -> impl IntoView + use<R> {
    let refs = references::<R>(then);
    let mut items: Vec<_> = then
        .live::<R>()
        .map(|(id, r)| (r.number(), refs.get(id).cloned().unwrap_or_default(), r.title().to_string()))
        .collect();
    items.sort();
    let count = items.len();
    view! {
        <details data-testid="as-of-kind">
            <summary>{format!("{label} ({count})")}</summary>
            <ul>{items.into_iter().map(|(_, reference, title)| view! { <li>{format!("{reference} {title}")}</li> }).collect_view()}</ul>
        </details>
    }
}

/// A stored value as people read it: dates the UK way, people by name.
fn readable(register: &Register, value: Option<String>) -> String {
    let Some(value) = value else { return String::new() };
    if let Ok(date) = Date::parse(&value) {
        return date.to_string();
    }
    register.person_name(&value).map(str::to_string).unwrap_or(value)
}

/// Consecutive edits of one field by one device within this many seconds read as one.
const SITTING: i64 = 15 * 60;

/// Folds a run of edits to one field by one device in one sitting into one entry: the value
/// before the first and after the last (entries oldest first), with how many changes each holds.
fn sittings(entries: Vec<HistoryEntry>) -> Vec<(HistoryEntry, usize)> {
    let mut out: Vec<(HistoryEntry, usize)> = Vec::new();
    for e in entries {
        if let Some((last, count)) = out.last_mut()
            && !e.field.is_empty()
            && last.field == e.field
            && last.actor == e.actor
            && e.time - last.time <= SITTING
        {
            last.new = e.new;
            last.time = e.time;
            last.change = e.change;
            last.restored_in = e.restored_in;
            *count += 1;
            continue;
        }
        out.push((e, 1));
    }
    out
}

#[component]
pub fn History() -> impl IntoView {
    let store = expect_context::<Store>();
    let chosen = RwSignal::new(None::<(Kind, String)>);
    // "History of this record" in an editor, or an address like /history/R-007.
    let focus = expect_context::<crate::views::records::Focus>();
    Effect::new(move || {
        if let Some(crate::views::records::Want::Open(kind, id)) = focus.0.get() {
            chosen.set(Some((kind, id)));
            focus.0.set(None);
        }
    });
    let as_of = RwSignal::new(None::<Date>);

    // The picker lists every record; it is drawn again only when a reference or title changes,
    // not for every edit (at 10,000 records that is 10,000 options).
    let records = Memo::new(move |_| store.register.with(|r| every_record(r)));
    // Reading the past forks the whole document: done when a date is chosen or on request,
    // not again for every edit that arrives meanwhile.
    let read_again = RwSignal::new(0u32);

    // The chosen record as it is now, with its concurrent values: its history is read again
    // (by the register worker) when either moves, not for every change anywhere. A merge can
    // add an entry without changing the record's value, but then it adds a concurrent value.
    let record_now = Memo::new(move |_| {
        chosen.get().map(|(kind, id)| {
            let value = store.register.with(|r| RegisterPatch::of_record(r, kind, &id));
            let concurrent = store.conflicts.with(|c| c.get(&(kind, id.clone())).cloned());
            (value, concurrent)
        })
    });
    let found = LocalResource::new(move || {
        let chosen = chosen.get();
        // Read, not only tracked: a memo nobody has read yet follows nothing.
        record_now.with(|_| ());
        async move {
            match chosen {
                Some((kind, id)) => Some(store.history(kind, &id).await),
                None => None,
            }
        }
    });
    // Who the server says sent each change: asked once the changes are read, and again
    // when they are read again.
    let verified = LocalResource::new(move || {
        let asked = found.get().flatten().and_then(Result::ok).map(|(entries, _)| {
            let mut hashes: Vec<String> = entries.iter().map(|e| e.change.clone()).collect();
            hashes.extend(entries.iter().filter_map(|e| e.restored_in.clone()));
            hashes.sort();
            hashes.dedup();
            hashes
        });
        async move {
            match asked {
                Some(hashes) if !hashes.is_empty() => Some(store.uploads(hashes).await),
                _ => None,
            }
        }
    });
    let changes = move || {
        if chosen.with(Option::is_none) {
            return view! { <p class="hint">"Choose a record to see every change to it."</p> }.into_any();
        }
        let register = store.register.get_untracked();
        let (entries, conflicts) = match found.get().flatten() {
            Some(Ok(found)) => found,
            Some(Err(e)) => {
                return view! { <p role="alert">{format!("The history cannot be read: {e}")}</p> }.into_any();
            }
            None => return view! { <p class="hint">"Reading the history…"</p> }.into_any(),
        };
        let conflicts = crate::views::records::conflicts_notice("history-conflicts", conflicts);
        let unreadable = record_now.with_untracked(|now| {
            let (patch, _) = now.as_ref()?;
            let (_, record) = patch.put.first()?;
            crate::views::records::unreadable_notice("history-unreadable", record.unreadable())
        });
        let (uploads, unverified) = match verified.get().flatten() {
            Some(Ok(uploads)) => (uploads, None),
            Some(Err(why)) => (Default::default(), Some(why)),
            None => (Default::default(), None),
        };
        let unverified = unverified.map(|why| view! { <p class="hint" data-testid="history-unverified">{why}</p> });
        let rows = sittings(entries)
            .into_iter()
            .rev()
            .map(|(e, changes)| {
                let claimed = e.person.as_deref().and_then(|p| register.person_name(p));
                let upload = uploads.get(&e.change);
                // A device that never said whose it is: the server's record of who sent the
                // change names the person, where there is one.
                let who = match (claimed, upload) {
                    (Some(name), _) => name.to_string(),
                    (None, Some(u)) if !u.by_relay => format!("{} (by the server's record)", u.member),
                    (None, Some(_)) => "The sample register".to_string(),
                    (None, None) => format!("A device with no name set ({})", &e.actor[..e.actor.len().min(8)]),
                };
                let field = if e.field.is_empty() { "(created)".to_string() } else { e.field.replace('_', " ") };
                let restore = e.restored_in.as_ref().and_then(|mark| uploads.get(mark));
                let verdict = judge(claimed, upload, restore);
                let sent = sent_by(&verdict, &who, upload);
                view! {
                    <tr data-testid="history-entry" data-authorship=authorship_key(&verdict) data-changes=changes.to_string()>
                        <td data-label="When">{when(e.time)}</td>
                        <td data-label="Who">{who}</td>
                        <td data-label="Field">{field}</td>
                        <td data-label="Was">{readable(&register, e.old)}</td>
                        <td data-label="Became">{readable(&register, e.new)}</td>
                        <td data-label="Sent by">{sent}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            {conflicts}
            {unreadable}
            {unverified}
            <table data-testid="history-table">
                <caption>"Changes, newest first"</caption>
                {headings(&["When (as the device says)", "Who (as the change says)", "Field", "Was", "Became", "Sent by (as the server recorded)"])}
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    let then = LocalResource::new(move || {
        let date = as_of.get();
        read_again.track();
        async move {
            match date {
                Some(date) => Some((date, store.as_of(date).await)),
                None => None,
            }
        }
    });
    let past = move || {
        let (date, then) = then.get().flatten()?;
        let then = match then {
            Ok(register) => register,
            Err(e) => {
                return Some(
                    view! { <p role="alert">{format!("The register on {date} cannot be read: {e}")}</p> }.into_any(),
                );
            }
        };
        let refs = references::<Risk>(&then);
        let counts = [
            ("Risks", then.live::<Risk>().count()),
            ("Suppliers", then.live::<Supplier>().count()),
            ("People", then.live::<Person>().count()),
            ("Roles", then.live::<Role>().count()),
            ("Exercises", then.live::<Exercise>().count()),
            ("Actions", then.live::<Action>().count()),
            ("Insurance policies", then.live::<Policy>().count()),
            ("Plans", then.live::<Plan>().count()),
            ("Services", then.live::<Service>().count()),
            ("Customers", then.live::<Customer>().count()),
        ];
        if then.name.is_empty() && counts.iter().all(|(_, n)| *n == 0) {
            return Some(
                view! {
                    <p data-testid="as-of-empty">
                        {format!("The register did not exist yet on {date}: nothing had been recorded by the end of that day.")}
                    </p>
                }
                .into_any(),
            );
        }
        let mut risks: Vec<_> = then.live::<Risk>().collect();
        risks.sort_by_key(|(_, r)| r.number);
        let others = view! {
            {records_then::<Supplier>(&then, "Suppliers")}
            {records_then::<Person>(&then, "People")}
            {records_then::<Role>(&then, "Roles")}
            {records_then::<Exercise>(&then, "Exercises")}
            {records_then::<Action>(&then, "Actions")}
            {records_then::<Policy>(&then, "Insurance policies")}
            {records_then::<Plan>(&then, "Plans")}
            {records_then::<Service>(&then, "Services")}
            {records_then::<Customer>(&then, "Customers")}
        };
        Some(
            view! {
                <p data-testid="as-of-summary">
                    {counts.iter().map(|(what, n)| format!("{what}: {n}")).collect::<Vec<_>>().join(" · ")}
                    " "
                    <button data-testid="as-of-read-again" on:click=move |_| read_again.update(|n| *n += 1)>
                        "Read again (to include edits that arrived since)"
                    </button>
                </p>
                <table data-testid="as-of-risks">
                    <caption>{format!("Risks on {date}")}</caption>
                    {headings(&["Ref", "Title", "Residual", "Band", "Status"])}
                    <tbody>
                        {risks
                            .into_iter()
                            .map(|(id, r)| {
                                view! {
                                    <tr>
                                        <td>{refs.get(id).cloned().unwrap_or_default()}</td>
                                        <td>{r.title.clone()}</td>
                                        <td>{r.residual_score()}</td>
                                        <td>{r.band().label()}</td>
                                        <td>{r.status.label()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                {others}
            }
            .into_any(),
        )
    };

    view! {
        <h2>"History"</h2>
        <section aria-labelledby="record-history-heading">
            <h3 id="record-history-heading">"A record's changes"</h3>
            {fields::choice("Record", "history-record", move || records.get(), move || chosen.get(), move |v| chosen.set(v))}
            {changes}
        </section>
        <section aria-labelledby="as-of-heading">
            <h3 id="as-of-heading">"The register on a date"</h3>
            {fields::date("Date", "as-of-date", move || as_of.get(), move |d| as_of.set(d), move |e| store.error.set(Some(e)))}
            {past}
        </section>
    }
}
