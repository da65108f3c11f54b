//! Recovery objectives (the business impact analysis): the services the firm runs, with how
//! a disruption hurts over time, their RTO, RPO and maximum tolerable disruption, what they
//! depend on drawn as a picture, the last tested figures against the targets; and the
//! customers whose agreements rely on them.

use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::{Editing, RecordTable, column, headings, link_boxes, name, options, people_of};
use leptos::prelude::*;
use shared::recovery::{
    AREAS, HORIZONS, Minutes, SupplierGap, customers_of, last_tested, level_label, over, supplier_gap,
};
use shared::refs::references;
use shared::*;

fn shown(m: Option<Minutes>) -> String {
    m.map(|m| m.to_string()).unwrap_or_else(|| "Not set".into())
}

/// "6 hours on 22 Jun 2026 (RTO 8 hours)": the last exercise's figure beside the target.
fn tested_against(register: &Register, id: &str, service: &Service) -> String {
    match last_tested(register, id) {
        Some((_, held, achieved)) => {
            let time = achieved.time.map(|t| t.to_string()).unwrap_or_else(|| "no time recorded".into());
            let missed = over(achieved.time, service.rto).is_some();
            format!("{time} on {held}{}", if missed { " (over its RTO)" } else { "" })
        }
        None => "Never tested".into(),
    }
}

#[component]
pub fn Recovery() -> impl IntoView {
    let services = vec![
        column("Service", |_, _, s: &Service| s.name.clone()),
        column("Owner", |reg: &Register, _, s: &Service| name(reg, &s.owner)),
        column("Maximum disruption", |_, _, s: &Service| shown(s.mtpd)),
        column("RTO", |_, _, s: &Service| shown(s.rto)),
        column("RPO", |_, _, s: &Service| shown(s.rpo)),
        column("Last tested", |reg: &Register, id: &str, s: &Service| tested_against(reg, id, s)),
        column("Customers", |reg: &Register, id: &str, _: &Service| {
            customers_of(reg, id).map(|(_, c)| c.name.clone()).collect::<Vec<_>>().join(", ")
        }),
    ];
    let customers = vec![
        column("Customer", |_, _, c: &Customer| c.name.clone()),
        column("Agreed RTO", |_, _, c: &Customer| shown(c.rto)),
        column("Agreed RPO", |_, _, c: &Customer| shown(c.rpo)),
        column("Support hours", |_, _, c: &Customer| c.support_hours.label().into()),
        column("Services", |reg: &Register, _, c: &Customer| {
            let refs = references::<Service>(reg);
            c.services
                .iter()
                .filter_map(|s| Some(format!("{} {}", refs.get(s)?, reg.services.get(s)?.name)))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    ];
    view! {
        <h2>"Recovery objectives"</h2>
        <p class="hint">
            "How long each service can be down, how fast it must come back and how much data it may lose; what it cannot recover without; and what the last exercise achieved. The register checks these against each other, against customers' agreements and against how quickly each supplier can be replaced."
        </p>
        <RecordTable slug="service" title="Services and processes" columns=services fresh=|| Service { name: "New service".into(), ..Default::default() } editor=service_editor />
        <RecordTable slug="customer" title="Customers and their agreements" columns=customers fresh=|| Customer { name: "New customer".into(), ..Default::default() } editor=customer_editor />
    }
}

fn service_editor(r: Editing<Service>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Service or process", "service-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::text("What it is", "service-description", move || r.get().description, move |v| r.save(move |x| x.description = v), true)}
        {fields::choice("Owner", "service-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {fields::duration("Maximum tolerable period of disruption", "service-mtpd", move || r.get().mtpd, move |v| r.save(move |x| x.mtpd = v), fail)}
        {fields::duration("Recovery time objective (RTO)", "service-rto", move || r.get().rto, move |v| r.save(move |x| x.rto = v), fail)}
        {fields::duration("Recovery point objective (RPO): data it may lose", "service-rpo", move || r.get().rpo, move |v| r.save(move |x| x.rpo = v), fail)}
        <ImpactGrid r />
        {link_boxes::<Service, Supplier>("Suppliers it depends on", "service-suppliers", r, |s| &mut s.suppliers)}
        {link_boxes::<Service, Role>("Roles it depends on", "service-roles", r, |s| &mut s.roles)}
        {link_boxes::<Service, Service>("Other services it depends on", "service-services", r, |s| &mut s.services)}
        {link_boxes::<Service, Plan>("Recovery procedure (plans)", "service-plans", r, |s| &mut s.plans)}
        {move || (!r.is_draft()).then(|| view! { <Dependencies r /> <Tested r /> })}
    };
    crate::views::records::editor_frame("service", r, selected, body.into_any())
}

/// The impact of a disruption at each horizon, one level per kind of harm.
#[component]
fn ImpactGrid(r: Editing<Service>) -> impl IntoView {
    let store = expect_context::<Store>();
    let rows = HORIZONS
        .iter()
        .enumerate()
        .map(|(h, (horizon, _))| {
            let cells = AREAS
                .iter()
                .enumerate()
                .map(|(a, area)| {
                    let testid = format!("impact-{h}-{a}");
                    let level = move || r.get().impact.at()[h].levels()[a];
                    let choose = move |ev: leptos::ev::Event| {
                        if let Ok(v) = event_target_value(&ev).parse::<u8>() {
                            r.save(move |x| *x.impact.at_mut(h).level_mut(a) = v);
                        }
                    };
                    let choices = (0..=5u8)
                        .map(|l| view! { <option value=l.to_string() selected=move || level() == l>{level_label(l)}</option> })
                        .collect_view();
                    view! {
                        <td data-label=*area>
                            <select data-testid=testid aria-label=format!("{area} impact after {horizon}") on:change=choose disabled=move || store.viewer.get()>
                                {choices}
                            </select>
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{*horizon}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <fieldset class="nested" data-testid="service-impact">
            <legend>"Impact of a disruption over time (1 negligible to 5 severe)"</legend>
            <table class="impact">
                {headings(&["After", "Financial", "Contractual", "Regulatory", "Reputational"])}
                <tbody>{rows}</tbody>
            </table>
        </fieldset>
    }
}

/// One box in the dependency picture: what it is, and what is wrong with it for this
/// service, if anything.
struct Node {
    kind: Kind,
    id: String,
    text: String,
    problem: Option<String>,
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// What the service depends on, and the customers relying on it, as one picture: customers
/// on the left, the service in the middle, its suppliers, roles and services on the right,
/// each marked where it stands in the way of the service's RTO.
#[component]
fn Dependencies(r: Editing<Service>) -> impl IntoView {
    let store = expect_context::<Store>();
    let picture = move || {
        let register = store.register.get();
        let id = r.id();
        let service = r.get();
        let all = shared::refs::all_references(&register);
        let reference = |kind: Kind, id: &str| all.get(&kind).and_then(|r| r.get(id)).cloned().unwrap_or_default();
        let mut right: Vec<Node> = Vec::new();
        for s in service.suppliers.iter() {
            let Some(supplier) = register.suppliers.get(s).filter(|x| !x.archived) else { continue };
            let problem = service.rto.and_then(|rto| match supplier_gap(supplier, rto)? {
                SupplierGap::NoViable => Some("no viable alternative".to_string()),
                SupplierGap::TooSlow { switch, .. } => Some(format!("{switch} to switch")),
            });
            let text = format!("{} {}", reference(Kind::Supplier, s), supplier.name);
            right.push(Node { kind: Kind::Supplier, id: s.clone(), text, problem });
        }
        for ro in service.roles.iter() {
            let Some(role) = register.roles.get(ro).filter(|x| !x.archived) else { continue };
            let problem = role.deputies.is_empty().then(|| "no deputy".to_string());
            let text = format!("{} {}", reference(Kind::Role, ro), role.name);
            right.push(Node { kind: Kind::Role, id: ro.clone(), text, problem });
        }
        for sv in service.services.iter() {
            let Some(other) = register.services.get(sv).filter(|x| !x.archived) else { continue };
            let problem = over(other.rto, service.rto).map(|(theirs, _)| format!("RTO {theirs}"));
            let text = format!("{} {}", reference(Kind::Service, sv), other.name);
            right.push(Node { kind: Kind::Service, id: sv.clone(), text, problem });
        }
        let left: Vec<Node> = customers_of(&register, &id)
            .map(|(c, customer)| {
                let problem = over(service.rto, customer.rto).map(|(_, agreed)| format!("agreed RTO {agreed}"));
                let text = format!("{} {}", reference(Kind::Customer, c), customer.name);
                Node { kind: Kind::Customer, id: c.clone(), text, problem }
            })
            .collect();
        draw(&reference(Kind::Service, &id), &service, left, right)
    };
    view! {
        <figure class="dependencies" data-testid="service-dependencies">
            {picture}
            <figcaption class="hint">
                "Customers relying on it on the left; what it depends on on the right. A red box stands in the way of its recovery objectives. Choose a box to open that record."
            </figcaption>
        </figure>
    }
}

const ROW: f64 = 44.0;
const BOX_H: f64 = 34.0;
const BOX_W: f64 = 250.0;
/// Characters that fit on a line of a box.
const FITS: usize = 36;

/// The picture itself (SVG), sized to the longer of its two sides.
fn draw(reference: &str, service: &Service, left: Vec<Node>, right: Vec<Node>) -> AnyView {
    let rows = left.len().max(right.len()).max(1) as f64;
    let height = rows * ROW + 40.0;
    let centre = height / 2.0;
    let (lx, mx, rx) = (0.0, BOX_W + 60.0, 2.0 * BOX_W + 120.0);
    let width = rx + BOX_W;
    let describe = format!(
        "{reference} {}: relied on by {} customers; depends on {} records, {} of them in the way of its recovery objectives",
        service.name,
        left.len(),
        right.len(),
        right.iter().chain(&left).filter(|n| n.problem.is_some()).count()
    );
    let column = |nodes: Vec<Node>, x: f64, towards: f64| {
        let top = centre - nodes.len() as f64 * ROW / 2.0 + (ROW - BOX_H) / 2.0;
        nodes
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let y = top + i as f64 * ROW;
                let (from_x, to_x) = if towards > x { (x + BOX_W, towards) } else { (towards + BOX_W, x) };
                let class = if node.problem.is_some() { "dep dep-problem" } else { "dep" };
                // The name is what the box shows (so speech and sight agree); the whole of it,
                // unclipped, is the box's title.
                let title = match &node.problem {
                    Some(why) => format!("{}: {why}", node.text),
                    None => node.text.clone(),
                };
                let (kind, id) = (node.kind, node.id.clone());
                let flagged = node.problem.is_some().to_string();
                let line = clip(&node.text, FITS);
                let why = node.problem.as_deref().map(|p| clip(p, FITS)).unwrap_or_default();
                let label = format!("{line} {why}").trim_end().to_string();
                let open = move |_| crate::open_record(kind, id.clone());
                let keyed = {
                    let id = node.id.clone();
                    move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            crate::open_record(kind, id.clone());
                        }
                    }
                };
                view! {
                    <line class="dep-line" x1=from_x y1=y + BOX_H / 2.0 x2=to_x y2=centre />
                    <g class=class role="link" tabindex="0" aria-label=label data-testid="dependency" data-problem=flagged on:click=open on:keydown=keyed>
                        <title>{title}</title>
                        <rect x=x y=y width=BOX_W height=BOX_H rx="4" />
                        <text x=x + 8.0 y=y + 14.0>
                            <tspan>{line}</tspan>
                            " "
                            <tspan class="dep-why" x=x + 8.0 y=y + 28.0>{why}</tspan>
                        </text>
                    </g>
                }
            })
            .collect_view()
    };
    let left = column(left, lx, mx);
    let right = column(right, rx, mx);
    let objectives = format!("RTO {} · RPO {}", shown(service.rto), shown(service.rpo));
    view! {
        <svg viewBox=format!("0 0 {width} {height}") role="group" aria-label=describe>
            {left}
            {right}
            <g class="dep dep-self">
                <rect x=mx y=centre - BOX_H / 2.0 - 6.0 width=BOX_W height=BOX_H + 12.0 rx="4" />
                <text x=mx + 8.0 y=centre - 3.0>{clip(&format!("{reference} {}", service.name), FITS)}</text>
                <text class="dep-why" x=mx + 8.0 y=centre + 14.0>{objectives}</text>
            </g>
        </svg>
    }
    .into_any()
}

/// The last exercise's figures against the service's objectives and every agreement relying
/// on it.
#[component]
fn Tested(r: Editing<Service>) -> impl IntoView {
    let store = expect_context::<Store>();
    let rows = move || {
        let register = store.register.get();
        let id = r.id();
        let service = r.get();
        let Some((exercise, held, achieved)) = last_tested(&register, &id) else {
            return view! { <p class="hint" data-testid="service-untested">"No completed exercise has recorded a recovery of this service."</p> }.into_any();
        };
        let exercise_ref = references::<Exercise>(&register).get(exercise).cloned().unwrap_or_default();
        let exercise_title = register.exercises.get(exercise).map(|e| e.title.clone()).unwrap_or_default();
        let verdict = |got: Option<Minutes>, target: Option<Minutes>| match (over(got, target), got.and(target)) {
            (Some(_), _) => ("Missed", "severity-error"),
            (None, Some(_)) => ("Met", ""),
            (None, None) => ("Not compared", ""),
        };
        let mut lines = vec![("This service's objectives".to_string(), service.rto, service.rpo)];
        lines.extend(customers_of(&register, &id).map(|(_, c)| (format!("{}'s agreement", c.name), c.rto, c.rpo)));
        let body = lines
            .into_iter()
            .map(|(whose, rto, rpo)| {
                let (time_verdict, time_class) = verdict(achieved.time, rto);
                let (loss_verdict, loss_class) = verdict(achieved.data_loss, rpo);
                view! {
                    <tr data-testid="tested-against">
                        <th scope="row">{whose}</th>
                        <td data-label="RTO">{shown(rto)}</td>
                        <td data-label="Time achieved" class=time_class>{format!("{} ({time_verdict})", shown(achieved.time))}</td>
                        <td data-label="RPO">{shown(rpo)}</td>
                        <td data-label="Data lost" class=loss_class>{format!("{} ({loss_verdict})", shown(achieved.data_loss))}</td>
                    </tr>
                }
            })
            .collect_view();
        let open = {
            let exercise = exercise.clone();
            move |_| crate::open_record(Kind::Exercise, exercise.clone())
        };
        view! {
            <p>
                "Last tested by "
                <button class="link" data-testid="service-last-exercise" on:click=open>{format!("{exercise_ref} {exercise_title}")}</button>
                {format!(" on {held}.")}
            </p>
            <table data-testid="service-tested">
                {headings(&["Against", "RTO", "Time achieved", "RPO", "Data lost"])}
                <tbody>{body}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="nested" aria-label="Last tested">
            <h4>"Last tested"</h4>
            {rows}
        </section>
    }
}

fn customer_editor(r: Editing<Customer>, selected: RwSignal<Option<String>>) -> AnyView {
    let store = expect_context::<Store>();
    let fail = move |m| r.fail(m);
    let body = view! {
        {fields::text("Customer", "customer-name", move || r.get().name, move |v| r.save(move |x| x.name = v), false)}
        {fields::text("Agreement (reference or where it is kept)", "customer-agreement", move || r.get().agreement, move |v| r.save(move |x| x.agreement = v), false)}
        {fields::duration("Agreed recovery time (RTO)", "customer-rto", move || r.get().rto, move |v| r.save(move |x| x.rto = v), fail)}
        {fields::duration("Agreed recovery point (RPO)", "customer-rpo", move || r.get().rpo, move |v| r.save(move |x| x.rpo = v), fail)}
        {fields::choice("Support hours", "customer-support", options(SupportHours::ALL), move || r.get().support_hours, move |v| r.save(move |x| x.support_hours = v))}
        {fields::choice("Looked after by", "customer-owner", people_of(store), move || r.get().owner, move |v| r.save(move |x| x.owner = v))}
        {link_boxes::<Customer, Service>("Services the agreement covers", "customer-services", r, |c| &mut c.services)}
    };
    crate::views::records::editor_frame("customer", r, selected, body.into_any())
}

/// The recoveries an exercise achieved, one row per service it tested, and a way to add one.
#[component]
pub fn Recoveries(r: Editing<Exercise>) -> impl IntoView {
    let store = expect_context::<Store>();
    let fail = move |m: String| r.fail(m);
    let rows = move || {
        let register = store.register.get();
        let refs = references::<Service>(&register);
        r.get()
            .tested
            .into_keys()
            .map(|service| {
                let title = match register.services.get(&service) {
                    Some(s) => format!("{} {}", refs.get(&service).cloned().unwrap_or_default(), s.name),
                    None => "A service no longer in the register".into(),
                };
                let key = StoredValue::new(service.clone());
                let get = move || r.get().tested.get(&key.get_value()).cloned().unwrap_or_default();
                let edit = move |change: Box<dyn FnOnce(&mut Recovery)>| {
                    let service = key.get_value();
                    r.save(move |x| {
                        if let Some(achieved) = x.tested.get_mut(&service) {
                            change(achieved);
                        }
                    })
                };
                let remove = move |_| {
                    let service = key.get_value();
                    r.save(move |x| {
                        x.tested.remove(&service);
                    })
                };
                let reference = refs.get(&service).cloned().unwrap_or_default();
                let t = move |field: &str| format!("recovery-{reference}-{field}");
                view! {
                    <div class="alternative" data-testid="recovery">
                        <h5>{title.clone()}</h5>
                        {fields::duration("Time to recover", &t("time"), move || get().time, move |v| edit(Box::new(move |a| a.time = v)), fail)}
                        {fields::duration("Data lost", &t("data-loss"), move || get().data_loss, move |v| edit(Box::new(move |a| a.data_loss = v)), fail)}
                        {fields::text("Notes", &t("notes"), move || get().notes, move |v| edit(Box::new(move |a| a.notes = v)), false)}
                        <button data-testid=t("remove") aria-label=format!("Remove the recovery of {title}") on:click=remove>"Remove"</button>
                    </div>
                }
            })
            .collect_view()
    };
    let untested = move || {
        let register = store.register.get();
        let tested = r.get().tested;
        let mut out = vec![(None, "Choose a service".to_string())];
        out.extend(
            crate::views::records::linkable::<Service>(&register)
                .into_iter()
                .filter(|(id, _)| !tested.contains_key(id))
                .map(|(id, text)| (Some(id), text)),
        );
        out
    };
    let add = move |service: Option<String>| {
        if let Some(service) = service {
            r.save(move |x| {
                x.tested.entry(service).or_default();
            });
        }
    };
    view! {
        <fieldset class="nested" data-testid="exercise-recoveries">
            <legend>"Recovery achieved, for each service it tested"</legend>
            {rows}
            {fields::choice("Add a service it tested", "recovery-add", untested, || None::<String>, add)}
        </fieldset>
    }
}
