//! Incidents: the open ones with the deadline nearest to running out, declaring one in two
//! clicks, and an incident's page: phase and severity with their history, the log with an
//! always-ready entry box, the clocks counting down, notifications, evidence, the review and
//! first drafts of the notices. Times are shown and entered in UK time.

use crate::clock;
use crate::page::store::Store;
use crate::views::actions::RaiseAction;
use crate::views::fields;
use crate::views::records::{
    Editing, RecordTable, column, link_boxes, name, new_id, options, people_of, pick_one_of, record_link,
};
use leptos::prelude::*;
use shared::incident::{SEVERITIES, draft, london_time, severity_label};
use shared::refs::references;
use shared::*;
use std::time::Duration;

/// The clock the countdowns read, moved on every 15 seconds while the view is open.
#[derive(Clone, Copy)]
struct Tick(RwSignal<i64>);

fn ticking() -> RwSignal<i64> {
    let now = RwSignal::new(clock::now());
    let handle = set_interval_with_handle(move || now.set(clock::now()), Duration::from_secs(15));
    on_cleanup(move || {
        if let Ok(handle) = handle {
            handle.clear();
        }
    });
    now
}

/// The id of a new entry in an incident's log or histories. Entries are ordered by their time
/// (in seconds), then id: an id that begins with the millisecond keeps two entries made within
/// one second in the order they were made.
fn entry_id() -> String {
    format!("{:013}-{}", clock::now_ms(), new_id())
}

fn severity_text(incident: &Incident) -> String {
    incident.severity().map(severity_label).unwrap_or_else(|| "Not yet assessed".into())
}

/// The deadline nearest to running out, as the list shows it.
fn nearest(incident: &Incident, now: i64) -> String {
    incident
        .nearest_deadline()
        .map(|c| format!("{}: {}", c.kind.label(), c.status(now)))
        .unwrap_or_else(|| "None running".into())
}

#[component]
pub fn Incidents() -> impl IntoView {
    let tick = ticking();
    provide_context(Tick(tick));
    let columns = vec![
        column("Incident", |_, _, i: &Incident| i.title.clone()),
        column("Phase", |_, _, i: &Incident| i.phase().label().into()),
        column("Severity", |_, _, i: &Incident| severity_text(i)),
        column("Commander", |reg: &Register, _, i: &Incident| name(reg, &i.commander)),
        column("Nearest deadline", move |_, _, i: &Incident| nearest(i, tick.get())),
    ];
    view! {
        <h2>"Incidents"</h2>
        <Declare />
        <OpenIncidents />
        <RecordTable
            slug="incident"
            title="Every incident"
            columns
            fresh=|| Incident { title: "New incident".into(), reported_at: Some(clock::now()), ..Default::default() }
            editor=incident_editor
        />
    }
}

/// "Declare an incident", then "Declare": open at triage, first seen now, and the person
/// declaring it named as incident commander. The title can be given now or later.
#[component]
fn Declare() -> impl IntoView {
    let store = expect_context::<Store>();
    let open = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let declare = move |_| {
        let now = clock::now();
        let person = store.person.get_untracked();
        let typed = title.get_untracked().trim().to_string();
        let incident = Incident {
            title: if typed.is_empty() { format!("Declared {}", london_time(now)) } else { typed },
            first_seen: Some(now),
            aware_at: Some(now),
            commander: person.clone(),
            phases: [(entry_id(), PhaseChange { phase: Phase::Triage, at: now, by: person, ..Default::default() })]
                .into(),
            ..Default::default()
        };
        let id = new_id();
        if store.apply(Edit::Create { id: id.clone(), record: incident.any_record() }) {
            open.set(false);
            title.set(String::new());
            crate::open_record(Kind::Incident, id);
        }
    };
    view! {
        <section class="declare" aria-label="Declare an incident">
            <Show
                when=move || open.get()
                fallback=move || {
                    view! {
                        <button class="primary" data-testid="incident-declare" disabled=move || store.viewer.get() on:click=move |_| open.set(true)>
                            "Declare an incident"
                        </button>
                    }
                }
            >
                <div class="field">
                    <label for="incident-declare-title">"What is happening (you can say later)"</label>
                    <input type="text" id="incident-declare-title" data-testid="incident-declare-title" prop:value=title on:input=move |ev| title.set(event_target_value(&ev)) />
                </div>
                <p class="hint">"It opens at triage, first seen now, with you as incident commander."</p>
                <button class="primary" data-testid="incident-declare-confirm" on:click=declare>"Declare"</button>
                " "
                <button data-testid="incident-declare-cancel" on:click=move |_| open.set(false)>"Cancel"</button>
            </Show>
        </section>
    }
}

/// The open incidents, most severe first, each with its nearest deadline counting down.
#[component]
fn OpenIncidents() -> impl IntoView {
    let store = expect_context::<Store>();
    let tick = expect_context::<Tick>().0;
    move || {
        let register = store.register.get();
        let refs = references::<Incident>(&register);
        let open = shared::incident::open_incidents(&register);
        if open.is_empty() {
            return view! { <p class="empty" data-testid="incidents-open-none">"No incident is open."</p> }.into_any();
        }
        let now = tick.get();
        let items = open
            .into_iter()
            .map(|(id, i)| {
                let text = format!("{} {}", refs.get(id).cloned().unwrap_or_default(), i.title);
                let late = i.nearest_deadline().is_some_and(|c| c.overdue(now));
                view! {
                    <li>
                        {record_link(Kind::Incident, Some(id.clone()), text, "incidents-open-link")}
                        {format!(": {}, {}. ", severity_text(i), i.phase().label().to_lowercase())}
                        <span class:overdue=late>{nearest(i, now)}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section aria-labelledby="incidents-open">
                <h3 id="incidents-open">"Open now"</h3>
                <ul class="attention" data-testid="incidents-open">{items}</ul>
            </section>
        }
        .into_any()
    }
}

fn incident_editor(r: Editing<Incident>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let tick = expect_context::<Tick>().0;
    let fail = move |m| r.fail(m);
    let created = Memo::new(move |_| !r.is_draft());
    let person_picker = move |label: &'static str,
                              testid: &'static str,
                              get: fn(&Incident) -> Option<Id>,
                              set: fn(&mut Incident, Option<Id>)| {
        fields::choice(label, testid, people_of(store), move || get(&r.get()), move |v| r.save(move |x| set(x, v)))
    };
    let roles = view! {
        {person_picker("Incident commander", "incident-commander", |i| i.commander.clone(), |i, v| i.commander = v)}
        {person_picker("Technical lead", "incident-technical-lead", |i| i.technical_lead.clone(), |i, v| i.technical_lead = v)}
        {person_picker("Customer communications lead", "incident-communications-lead", |i| i.communications_lead.clone(), |i, v| i.communications_lead = v)}
        {person_picker("Legal and regulatory lead", "incident-legal-lead", |i| i.legal_lead.clone(), |i, v| i.legal_lead = v)}
        {person_picker("Scribe", "incident-scribe", |i| i.scribe.clone(), |i, v| i.scribe = v)}
    };
    let role_options = move || {
        let mut all = vec![(None, "Not yet decided".to_string())];
        all.extend(DataRole::ALL.iter().map(|r| (Some(*r), r.label().to_string())));
        all
    };
    let clocks = move || {
        let now = tick.get();
        let clocks = r.get().clocks();
        if clocks.is_empty() {
            return view! { <p class="empty" data-testid="incident-clocks-none">"No clock is running: none applies to the incident as recorded."</p> }.into_any();
        }
        let items = clocks
            .into_iter()
            .map(|c| {
                let testid = format!("incident-clock-{}", format!("{:?}", c.kind).to_lowercase());
                view! {
                    <li data-testid=testid class:overdue=c.overdue(now)>
                        <strong>{c.kind.label()}</strong>
                        ": "
                        {c.status(now)}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="plain" data-testid="incident-clocks" aria-live="off">{items}</ul> }.into_any()
    };
    let details = view! {
        {fields::text("Title", "incident-title", move || r.get().title, move |v| r.save(move |x| x.title = v), false)}
        {fields::text("Summary", "incident-summary", move || r.get().summary, move |v| r.save(move |x| x.summary = v), true)}
        {fields::text("Reported by", "incident-reporter", move || r.get().reporter, move |v| r.save(move |x| x.reporter = v), false)}
        {fields::moment("Report arrived", "incident-reported-at", move || r.get().reported_at, move |v| r.save(move |x| x.reported_at = v), fail)}
        {fields::choice("Reason to escalate out of hours", "incident-escalation", options(Escalation::ALL), move || r.get().escalation, move |v| r.save(move |x| x.escalation = v))}
        {fields::moment("First seen", "incident-first-seen", move || r.get().first_seen, move |v| r.save(move |x| x.first_seen = v), fail)}
        {fields::moment("Became aware", "incident-aware-at", move || r.get().aware_at, move |v| r.save(move |x| x.aware_at = v), fail)}
        {fields::text("Systems affected", "incident-systems", move || r.get().systems, move |v| r.save(move |x| x.systems = v), false)}
        {fields::text("Customers affected", "incident-customers", move || r.get().customers, move |v| r.save(move |x| x.customers = v), false)}
        {fields::text("Data categories affected", "incident-data", move || r.get().data_categories, move |v| r.save(move |x| x.data_categories = v), false)}
        {fields::choice("Personal-data breach", "incident-breach", options(Breach::ALL), move || r.get().personal_data_breach, move |v| r.save(move |x| x.personal_data_breach = v))}
        {fields::choice("Our position for the data", "incident-data-role", role_options, move || r.get().data_role, move |v| r.save(move |x| x.data_role = v))}
        {fields::choice("Continuity plan invoked", "incident-bcdr", pick_one_of::<Plan>(store, "Not invoked"), move || r.get().bcdr_plan, move |v| r.save(move |x| x.bcdr_plan = v))}
        {link_boxes::<Incident, Risk>("Risks", "incident-risks", r, |i| &mut i.risks)}
        {link_boxes::<Incident, shared::Action>("Actions", "incident-actions-linked", r, |i| &mut i.actions)}
        {link_boxes::<Incident, Supplier>("Suppliers (a supplier-side incident)", "incident-suppliers", r, |i| &mut i.suppliers)}
    };
    let body = view! {
        <PhaseAndSeverity r />
        <section aria-labelledby="incident-clocks-heading">
            <h4 id="incident-clocks-heading">"Clocks"</h4>
            {clocks}
        </section>
        <Show when=move || created.get() fallback=|| view! { <p class="hint">"The log, notifications and evidence open once the incident has a title."</p> }>
            <Log r />
        </Show>
        <details open=true>
            <summary>"What happened and what it touches"</summary>
            {details}
        </details>
        <details open=true>
            <summary>"Roles for this incident"</summary>
            {roles}
        </details>
        <Show when=move || created.get()>
            <Notifications r />
            <EvidenceList r />
            <Review r />
            <Drafts r />
        </Show>
    };
    crate::views::records::editor_frame("incident", r, selected, body.into_any())
}

#[component]
fn PhaseAndSeverity(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let next = RwSignal::new(Phase::Containment);
    let severity = RwSignal::new(2u8);
    let reason = RwSignal::new(String::new());
    let enter = move |_| {
        let (phase, at, by) = (next.get_untracked(), clock::now(), store.person.get_untracked());
        let id = entry_id();
        r.save(move |i| drop(i.phases.insert(id, PhaseChange { phase, at, by, ..Default::default() })));
    };
    let change = move |_| {
        let why = reason.get_untracked().trim().to_string();
        if why.is_empty() {
            fields::refuse(
                "incident-severity-reason",
                "Why",
                "Say why the severity changes: the change is kept with its reason.",
            );
            return;
        }
        let (to, at, by, from) =
            (severity.get_untracked(), clock::now(), store.person.get_untracked(), r.get().severity().unwrap_or(0));
        let id = entry_id();
        r.save(move |i| {
            i.severities.insert(id, SeverityChange { from, to, at, by, reason: why, ..Default::default() });
        });
        reason.set(String::new());
    };
    let person = move |id: &Option<Id>| store.register.with(|reg| name(reg, id));
    let phases = move || {
        r.get()
            .phase_history()
            .into_iter()
            .map(|(_, p)| view! { <li>{format!("{}: {}", london_time(p.at), p.phase)}{p.by.is_some().then(|| format!(" ({})", person(&p.by)))}</li> })
            .collect_view()
    };
    let severities = move || {
        r.get()
            .severity_history()
            .into_iter()
            .map(|(_, s)| {
                let from = if s.from == 0 { "First assessed".to_string() } else { format!("From {} to", s.from) };
                view! { <li>{format!("{}: {from} {} by {}: {}", london_time(s.at), s.to, person(&s.by), s.reason)}</li> }
            })
            .collect_view()
    };
    let criteria =
        move || SEVERITIES.iter().find(|(n, ..)| *n == severity.get()).map(|(_, _, c)| *c).unwrap_or_default();
    view! {
        <dl class="summary" data-testid="incident-state">
            <dt>"Phase"</dt>
            <dd data-testid="incident-phase">{move || r.get().phase().label()}</dd>
            <dt>"Severity"</dt>
            <dd data-testid="incident-severity">{move || severity_text(&r.get())}</dd>
        </dl>
        <div class="inline-form">
            {fields::choice("Move to phase", "incident-next-phase", options(Phase::ALL), move || next.get(), move |v| next.set(v))}
            <button data-testid="incident-enter-phase" on:click=enter>"Enter this phase"</button>
        </div>
        <details>
            <summary>"Phase history"</summary>
            <ol data-testid="incident-phases">{phases}</ol>
        </details>
        <div class="inline-form">
            {fields::choice("Severity", "incident-new-severity", move || SEVERITIES.iter().map(|(n, l, _)| (*n, format!("{n}: {l}"))).collect(), move || severity.get(), move |v| severity.set(v))}
            <p class="field-hint" data-testid="incident-severity-criteria">{criteria}</p>
            {fields::text("Why", "incident-severity-reason", move || reason.get(), move |v| reason.set(v), false)}
            <button data-testid="incident-change-severity" on:click=change>"Record the severity"</button>
        </div>
        <details>
            <summary>"Severity history"</summary>
            <ol data-testid="incident-severities">{severities}</ol>
        </details>
    }
}

/// The contemporaneous log: entries in one order on every device, never edited; a correction
/// is a new entry naming the one it corrects. Enter in the box adds what is typed, now, by you.
#[component]
fn Log(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(LogKind::Note);
    let corrects = RwSignal::new(None::<(Id, usize)>);
    let add = move || {
        let typed = text.get_untracked().trim().to_string();
        if typed.is_empty() {
            fields::refuse("incident-log-entry", "New entry", "Type what happened before adding it to the log.");
            return;
        }
        let entry = LogEntry {
            at: clock::now(),
            author: store.person.get_untracked(),
            text: typed,
            kind: kind.get_untracked(),
            corrects: corrects.get_untracked().map(|(id, _)| id),
            ..Default::default()
        };
        let id = entry_id();
        r.save(move |i| drop(i.log.insert(id, entry)));
        text.set(String::new());
        corrects.set(None);
        store.problems.update(|p| drop(p.remove("incident-log-entry")));
    };
    let entries = move || {
        let incident = r.get();
        let log = incident.log_in_order();
        let position = |id: &Option<Id>| id.as_ref().and_then(|c| log.iter().position(|(id, _)| *id == c));
        log.iter()
            .enumerate()
            .map(|(n, (id, e))| {
                let who = store.register.with(|reg| name(reg, &e.author));
                let who = if who.is_empty() { "someone unnamed".to_string() } else { who };
                let corrected = position(&e.corrects).map(|p| format!(" (corrects entry {})", p + 1));
                let id = (*id).clone();
                view! {
                    <li data-testid="incident-log-item">
                        <span class="when">{london_time(e.at)}</span>
                        {format!(" {who}, {}: ", e.kind.label().to_lowercase())}
                        {e.text.clone()}
                        {corrected}
                        " "
                        <button class="link" data-testid="incident-log-correct" disabled=move || store.viewer.get() on:click=move |_| corrects.set(Some((id.clone(), n + 1)))>
                            "Correct"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section aria-labelledby="incident-log-heading">
            <h4 id="incident-log-heading">"Log"</h4>
            <ol class="log" data-testid="incident-log">{entries}</ol>
            <div class="inline-form">
                {move || corrects.get().map(|(_, n)| view! {
                    <p class="hint" data-testid="incident-log-correcting">
                        {format!("The next entry corrects entry {n}. ")}
                        <button class="link" data-testid="incident-log-not-correction" on:click=move |_| corrects.set(None)>"Not a correction"</button>
                    </p>
                })}
                <div class="field">
                    <label for="incident-log-entry">"New entry (Enter adds it, with the time now and your name)"</label>
                    {move || store.problems.with(|p| p.get("incident-log-entry").map(|(_, why)| view! { <p class="field-message" id="incident-log-entry-error">{why.clone()}</p> }))}
                    <input
                        type="text"
                        id="incident-log-entry"
                        data-testid="incident-log-entry"
                        prop:value=text
                        on:input=move |ev| text.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                add();
                            }
                        }
                    />
                </div>
                {fields::choice("Kind", "incident-log-kind", options(LogKind::ALL), move || kind.get(), move |v| kind.set(v))}
                <button data-testid="incident-log-add" on:click=move |_| add()>"Add to the log"</button>
            </div>
        </section>
    }
}

#[component]
fn Notifications(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let kind = RwSignal::new(None::<NotificationKind>);
    let (to, channel, notes) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let record = move |_| {
        let Some(k) = kind.get_untracked() else { return };
        let n = Notification {
            kind: k,
            at: clock::now(),
            by: store.person.get_untracked(),
            to: to.get_untracked().trim().to_string(),
            channel: channel.get_untracked().trim().to_string(),
            notes: notes.get_untracked().trim().to_string(),
            ..Default::default()
        };
        if k.is_decision() && n.notes.is_empty() {
            fields::refuse("incident-notification-notes", "Reason", "Give the reason for the decision.");
            return;
        }
        if !k.is_decision() && n.to.is_empty() {
            fields::refuse("incident-notification-to", "To", "Say who was told.");
            return;
        }
        let id = entry_id();
        r.save(move |i| drop(i.notifications.insert(id, n)));
        kind.set(None);
        for field in [to, channel, notes] {
            field.set(String::new());
        }
    };
    let sent = move || {
        let mut all: Vec<Notification> = r.get().notifications.into_values().collect();
        all.sort_by_key(|n| n.at);
        all.into_iter()
            .map(|n| {
                let by = store.register.with(|reg| name(reg, &n.by));
                let line = if n.kind.is_decision() {
                    format!("{}: {} ({by}): {}", london_time(n.at), n.kind, n.notes)
                } else {
                    format!("{}: {} to {} by {} ({by}) {}", london_time(n.at), n.kind, n.to, n.channel, n.notes)
                };
                view! { <li>{line}</li> }
            })
            .collect_view()
    };
    let buttons = NotificationKind::ALL
        .iter()
        .map(|k| {
            let k = *k;
            let testid = format!("incident-notify-{}", format!("{k:?}").to_lowercase());
            view! { <button data-testid=testid on:click=move |_| kind.set(Some(k))>{k.label()}</button> }
        })
        .collect_view();
    view! {
        <section aria-labelledby="incident-notifications-heading">
            <h4 id="incident-notifications-heading">"Notifications"</h4>
            <ul class="plain" data-testid="incident-notifications">{sent}</ul>
            <p class="toolbar">"Record: "{buttons}</p>
            {move || kind.get().map(|k| view! {
                <fieldset class="nested" data-testid="incident-notification-form">
                    <legend>{format!("Record: {}", k.label())}</legend>
                    {(!k.is_decision()).then(|| fields::text("To", "incident-notification-to", move || to.get(), move |v| to.set(v), false))}
                    {(!k.is_decision()).then(|| fields::text("Channel", "incident-notification-channel", move || channel.get(), move |v| channel.set(v), false))}
                    {fields::text(if k.is_decision() { "Reason" } else { "What was said" }, "incident-notification-notes", move || notes.get(), move |v| notes.set(v), true)}
                    <button data-testid="incident-notification-record" on:click=record>"Record it, sent now"</button>
                    " "
                    <button data-testid="incident-notification-cancel" on:click=move |_| kind.set(None)>"Cancel"</button>
                </fieldset>
            })}
        </section>
    }
}

#[component]
fn EvidenceList(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let (what, location, custody) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let holder = RwSignal::new(store.person.get_untracked());
    let add = move |_| {
        let item = Evidence {
            what: what.get_untracked().trim().to_string(),
            location: location.get_untracked().trim().to_string(),
            holder: holder.get_untracked(),
            custody: custody.get_untracked().trim().to_string(),
            at: clock::now(),
            by: store.person.get_untracked(),
            ..Default::default()
        };
        if item.what.is_empty() {
            fields::refuse("incident-evidence-what", "What", "Say what the evidence is.");
            return;
        }
        let id = entry_id();
        r.save(move |i| drop(i.evidence.insert(id, item)));
        for field in [what, location, custody] {
            field.set(String::new());
        }
    };
    let items = move || {
        r.get()
            .evidence
            .into_values()
            .map(|e| {
                let holder = store.register.with(|reg| name(reg, &e.holder));
                view! { <li>{format!("{} (kept at {}; held by {holder}; recorded {}). Custody: {}", e.what, e.location, london_time(e.at), e.custody)}</li> }
            })
            .collect_view()
    };
    view! {
        <details>
            <summary>"Evidence under legal hold"</summary>
            <ul class="plain" data-testid="incident-evidence">{items}</ul>
            <fieldset class="nested">
                <legend>"Add evidence"</legend>
                {fields::text("What", "incident-evidence-what", move || what.get(), move |v| what.set(v), false)}
                {fields::text("Where it is kept", "incident-evidence-location", move || location.get(), move |v| location.set(v), false)}
                {fields::choice("Held by", "incident-evidence-holder", people_of(store), move || holder.get(), move |v| holder.set(v))}
                {fields::text("Chain of custody", "incident-evidence-custody", move || custody.get(), move |v| custody.set(v), true)}
                <button data-testid="incident-evidence-add" on:click=add>"Add the evidence"</button>
            </fieldset>
        </details>
    }
}

#[component]
fn Review(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let actions = move || {
        store.register.with(|reg| {
            let refs = references::<shared::Action>(reg);
            r.get()
                .actions
                .iter()
                .filter_map(|id| {
                    reg.actions.get(id).map(|a| {
                        (
                            id.clone(),
                            format!("{} {} ({})", refs.get(id).cloned().unwrap_or_default(), a.title, a.status),
                        )
                    })
                })
                .map(|(id, text)| view! { <li>{record_link(Kind::Action, Some(id), text, "incident-action")}</li> })
                .collect_view()
        })
    };
    let text = |label: &'static str,
                testid: &'static str,
                get: fn(&IncidentReview) -> String,
                set: fn(&mut IncidentReview, String)| {
        fields::text(label, testid, move || get(&r.get().review), move |v| r.save(move |x| set(&mut x.review, v)), true)
    };
    view! {
        <details>
            <summary>"Post-incident review"</summary>
            {fields::date("Held on", "incident-review-held", move || r.get().review.held_on, move |v| r.save(move |x| x.review.held_on = v), fail)}
            {link_boxes::<Incident, Person>("Attendees", "incident-review-attendees", r, |i| &mut i.review.attendees)}
            {text("Timeline", "incident-review-timeline", |v| v.timeline.clone(), |v, t| v.timeline = t)}
            {text("Root cause", "incident-review-root-cause", |v| v.root_cause.clone(), |v, t| v.root_cause = t)}
            {text("Contributory factors", "incident-review-factors", |v| v.contributory_factors.clone(), |v, t| v.contributory_factors = t)}
            {text("Impact", "incident-review-impact", |v| v.impact.clone(), |v, t| v.impact = t)}
            <h5>"Remediation actions"</h5>
            <ul class="plain" data-testid="incident-actions">{actions}</ul>
            <RaiseAction risk=None exercise=None incident=r.id() />
        </details>
    }
}

/// First drafts of the notices from the record, to copy into an email and finish by hand.
#[component]
fn Drafts(r: Editing<Incident>) -> impl IntoView {
    let store = expect_context::<Store>();
    let kinds = [
        NotificationKind::CustomerInitial,
        NotificationKind::CustomerUpdate,
        NotificationKind::CustomerFinal,
        NotificationKind::Ico,
    ];
    let chosen = RwSignal::new(NotificationKind::CustomerInitial);
    let text = move || store.register.with(|reg| draft(chosen.get(), &r.get(), &r.reference(), reg, clock::now()));
    view! {
        <details>
            <summary>"Draft a notice"</summary>
            {fields::choice("Notice", "incident-draft-kind", move || kinds.iter().map(|k| (*k, k.label().to_string())).collect(), move || chosen.get(), move |v| chosen.set(v))}
            <div class="field">
                <label for="incident-draft">"Draft: check it, fill in the brackets, then copy it"</label>
                <textarea id="incident-draft" data-testid="incident-draft" rows="14" readonly=true prop:value=text></textarea>
            </div>
        </details>
    }
}
