//! The Risks view: the register as a sortable, filterable table, the 5x5 heat map of
//! inherent against residual positions, and an editor for every field of a risk.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::actions::RaiseAction;
use crate::views::fields;
use crate::views::records::Want;
use crate::views::records::{Editing, Pager, editor_frame, linkable_of, options, page_of, people, people_of};
use leptos::prelude::*;
use shared::derive::score;
use shared::refs::references;
use shared::{Action, Band, Direction, Policy, Risk, RiskStatus, Scenario, Supplier, Treatment};

/// What one row of the risks table shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Row {
    id: String,
    reference: String,
    title: String,
    owner: String,
    category: String,
    inherent: u8,
    residual: u8,
    band: &'static str,
    status: &'static str,
    next: String,
    overdue: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortBy {
    Reference,
    Title,
    Inherent,
    Residual,
    NextReview,
}

/// What the table shows: every filter empty means every live risk.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    owner: String,
    category: String,
    band: String,
    status: String,
    overdue: bool,
    archived: bool,
}

#[component]
pub fn Risks() -> impl IntoView {
    let store = expect_context::<Store>();
    let selected = RwSignal::new(None::<String>);
    let sort = RwSignal::new(SortBy::Residual);
    let filters = RwSignal::new(Filters::default());
    let focus = expect_context::<crate::views::records::Focus>();
    // A finding or calendar entry about a risk opens it here.
    Effect::new(move || match focus.0.get() {
        Some(Want::Open(shared::Kind::Risk, id)) => {
            selected.set(Some(id));
            focus.0.set(None);
        }
        Some(Want::Close) => selected.set(None),
        _ => {}
    });
    let route = expect_context::<crate::page::route::Route>();

    // A new risk is a draft in the editor until its first field is saved.
    let draft = StoredValue::new(None::<String>);
    let create = move |_| {
        if store.viewer.get_untracked() {
            store.error.set(Some("You can read this register but not change it.".into()));
            return;
        }
        let id = uuid::Uuid::new_v4().to_string();
        draft.set_value(Some(id.clone()));
        route.opened(shared::Kind::Risk, &id);
        selected.set(Some(id));
    };

    // Rows as plain data, keyed by everything they show: after an edit only the rows that
    // changed are rendered again, whatever the size of the register.
    let rows = Memo::new(move |_| {
        let register = store.register.get();
        let f = filters.get();
        let today = today();
        let refs = references::<Risk>(&register);
        let mut risks: Vec<_> = register
            .risks
            .iter()
            .filter(|(_, r)| r.archived == f.archived)
            .filter(|(_, r)| f.owner.is_empty() || r.owner.as_deref() == Some(f.owner.as_str()))
            .filter(|(_, r)| f.category.is_empty() || r.category == f.category)
            .filter(|(_, r)| f.band.is_empty() || r.band().label() == f.band)
            .filter(|(_, r)| f.status.is_empty() || r.status.label() == f.status)
            .filter(|(_, r)| !f.overdue || r.review_overdue(today))
            .collect();
        match sort.get() {
            SortBy::Reference => risks.sort_by_key(|(_, r)| r.number),
            SortBy::Title => risks.sort_by_key(|(_, r)| r.title.to_lowercase()),
            SortBy::Inherent => risks.sort_by_key(|(_, r)| std::cmp::Reverse((r.inherent_score(), r.residual_score()))),
            SortBy::Residual => risks.sort_by_key(|(_, r)| std::cmp::Reverse((r.residual_score(), r.inherent_score()))),
            SortBy::NextReview => risks.sort_by_key(|(_, r)| r.next_review()),
        }
        risks
            .into_iter()
            .map(|(id, r)| {
                let overdue = r.review_overdue(today);
                Row {
                    id: id.clone(),
                    reference: refs.get(id).cloned().unwrap_or_default(),
                    title: r.title.clone(),
                    owner: r.owner.as_deref().and_then(|o| register.person_name(o)).unwrap_or("").to_string(),
                    category: r.category.clone(),
                    inherent: r.inherent_score(),
                    residual: r.residual_score(),
                    band: r.band().label(),
                    status: r.status.label(),
                    next: r.next_review().map(|d| d.to_string()).unwrap_or_else(|| "Now".into()),
                    overdue,
                }
            })
            .collect::<Vec<_>>()
    });
    let page = RwSignal::new(0usize);
    // A new filter or order starts again at the first page.
    Effect::new(move || {
        filters.track();
        sort.track();
        page.set(0);
    });
    let shown = Memo::new(move |_| rows.with(|rows| page_of(rows, page.get())));
    let total = Signal::derive(move || rows.with(Vec::len));
    let row = move |row: Row| {
        let Row { id, reference, title, owner, category, inherent, residual, band, status, next, overdue } = row;
        view! {
            <tr data-testid=format!("risk-{reference}") class:overdue=overdue>
                <td>
                    <button
                        class="link"
                        data-testid=format!("open-{reference}")
                        aria-label=format!("Edit {reference}")
                        on:click=move |_| {
                            route.opened(shared::Kind::Risk, &id);
                            selected.set(Some(id.clone()))
                        }
                    >
                        {reference.clone()}
                    </button>
                </td>
                <td data-label="Title">{title}</td>
                <td data-label="Owner">{owner}</td>
                <td data-label="Category">{category}</td>
                <td data-label="Inherent">{inherent}</td>
                <td data-label="Residual">{residual}</td>
                <td data-label="Band" class=format!("band band-{}", band.to_lowercase())>{band}</td>
                <td data-label="Status">{status}</td>
                <td data-label="Next review">{next} {overdue.then_some(" (overdue)")}</td>
            </tr>
        }
    };

    let header = move |label: &'static str, by: SortBy| {
        view! {
            <th scope="col" aria-sort=move || if sort.get() == by { "descending" } else { "none" }>
                <button class="link" data-testid=format!("sort-{}", label.to_lowercase().replace(' ', "-")) on:click=move |_| sort.set(by)>
                    {label}
                </button>
            </th>
        }
    };

    view! {
        <h2>"Risks"</h2>
        <p>
            <button data-testid="risk-new" on:click=create disabled=move || store.viewer.get()>
                "New risk"
            </button>
        </p>
        // The risk opens at the top, not under the table and the heat map.
        {move || {
            selected.get().map(|id| {
                let draft = draft.with_value(|d| d.as_deref() == Some(id.as_str())).then(|| Risk::titled("New risk"));
                view! { <RiskEditor id draft selected /> }
            })
        }}
        <RiskFilters filters />
        <table data-testid="risks-table">
            <caption>"Risk register"</caption>
            <thead>
                <tr>
                    {header("Ref", SortBy::Reference)}
                    {header("Title", SortBy::Title)}
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Category"</th>
                    {header("Inherent", SortBy::Inherent)}
                    {header("Residual", SortBy::Residual)}
                    <th scope="col">"Band"</th>
                    <th scope="col">"Status"</th>
                    {header("Next review", SortBy::NextReview)}
                </tr>
            </thead>
            <tbody>
                <Show when=move || rows.with(Vec::is_empty)>
                    <tr>
                        <td colspan="9" data-testid="risks-none">
                            {move || if store.register.with(|r| r.live::<Risk>().next().is_none()) { "No risks yet: add the first with New risk." } else { "No risk matches these filters." }}
                        </td>
                    </tr>
                </Show>
                <For each=move || shown.get() key=|row| row.clone() children=row />
            </tbody>
        </table>
        <Pager slug="risks" page total />
        <HeatMap />
    }
}

#[component]
fn RiskFilters(filters: RwSignal<Filters>) -> impl IntoView {
    let store = expect_context::<Store>();
    // Worked out again only when people or risks change, and drawn again only when the
    // options differ: an edit elsewhere must not draw a thousand options again.
    let owners = store.of_kind(shared::Kind::Person, |register| {
        people(register).into_iter().filter_map(|(id, name)| Some((id?, name))).collect::<Vec<_>>()
    });
    let categories = store.of_kind(shared::Kind::Risk, |register| {
        let mut all: Vec<String> =
            register.risks.values().map(|r| r.category.clone()).filter(|c| !c.is_empty()).collect();
        all.sort();
        all.dedup();
        all.into_iter().map(|c| (c.clone(), c)).collect::<Vec<_>>()
    });
    let select = move |label: &'static str,
                       testid: &'static str,
                       options: Box<dyn Fn() -> Vec<(String, String)> + Send + Sync>,
                       set: fn(&mut Filters, String)| {
        view! {
            <div class="field">
                <label for=testid>{label}</label>
                <select id=testid data-testid=testid on:change=move |ev| filters.update(|f| set(f, event_target_value(&ev)))>
                    <option value="">"All"</option>
                    {move || options().into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let labels = |all: &[&'static str]| all.iter().map(|l| (l.to_string(), l.to_string())).collect::<Vec<_>>();
    let bands = labels(&Band::ALL.map(|b| b.label()));
    let statuses = labels(&RiskStatus::ALL.iter().map(|s| s.label()).collect::<Vec<_>>());
    view! {
        <form class="filters" data-testid="risk-filters" on:submit=|ev| ev.prevent_default()>
            {select(
                "Owner",
                "filter-owner",
                Box::new(move || owners.get()),
                |f, v| f.owner = v,
            )}
            {select(
                "Category",
                "filter-category",
                Box::new(move || categories.get()),
                |f, v| f.category = v,
            )}
            {select("Band", "filter-band", Box::new(move || bands.clone()), |f, v| f.band = v)}
            {select("Status", "filter-status", Box::new(move || statuses.clone()), |f, v| f.status = v)}
            {fields::flag("Review overdue only", "filter-overdue", move || filters.get().overdue, move |on| filters.update(|f| f.overdue = on))}
            {fields::flag("Archived risks", "filter-archived", move || filters.get().archived, move |on| filters.update(|f| f.archived = on))}
        </form>
    }
}

/// Where one live risk sits on the matrix: its reference, (likelihood, impact) before its
/// controls and after them.
#[derive(Clone, Debug, PartialEq)]
struct Placed {
    reference: String,
    inherent: (u8, u8),
    residual: (u8, u8),
    scores: (u8, u8),
}

/// Every live risk's place, in number order, as a memo: the heat map and the movement are
/// drawn again only when a risk moves, is added or goes, not on every edit to the register
/// (at 10,000 records, drawing them again took most of a second).
fn placed(store: Store) -> Memo<Vec<Placed>> {
    Memo::new(move |_| {
        store.register.with(|register| {
            let refs = references::<Risk>(register);
            let mut risks: Vec<_> = register.live::<Risk>().collect();
            risks.sort_by_key(|(_, r)| r.number);
            risks
                .into_iter()
                .map(|(id, r)| Placed {
                    reference: refs[id].clone(),
                    inherent: (r.inherent_likelihood.clamp(1, 5), r.inherent_impact.clamp(1, 5)),
                    residual: (r.residual_likelihood.clamp(1, 5), r.residual_impact.clamp(1, 5)),
                    scores: (r.inherent_score(), r.residual_score()),
                })
                .collect()
        })
    })
}

/// How many references a heat map cell lists before it says how many more there are.
const LISTED: usize = 12;

/// Up to `LISTED` references, then how many more.
fn listed(refs: &[&str]) -> String {
    let shown = refs.iter().take(LISTED).copied().collect::<Vec<_>>().join(", ");
    match refs.len().saturating_sub(LISTED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// Where each live risk sits on the 5x5 matrix, before and after its controls.
#[component]
pub fn HeatMap() -> impl IntoView {
    let store = expect_context::<Store>();
    let placed = placed(store);
    let grid = move || {
        let placed = placed.get();
        (1..=5u8)
            .rev()
            .map(|impact| {
                let cells = (1..=5u8)
                    .map(|likelihood| {
                        let here = |inherent: bool| {
                            placed
                                .iter()
                                .filter(|p| (if inherent { p.inherent } else { p.residual }) == (likelihood, impact))
                                .map(|p| p.reference.as_str())
                                .collect::<Vec<_>>()
                        };
                        let (inherent, residual) = (here(true), here(false));
                        let band = Band::of(score(likelihood, impact));
                        let text = [
                            (!inherent.is_empty()).then(|| format!("Inherent: {}", listed(&inherent))),
                            (!residual.is_empty()).then(|| format!("Residual: {}", listed(&residual))),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>();
                        view! {
                            <td
                                class=format!("cell band-{}", band.label().to_lowercase())
                                data-testid=format!("heat-{likelihood}-{impact}")
                            >
                                {text.into_iter().map(|t| view! { <div>{t}</div> }).collect_view()}
                            </td>
                        }
                    })
                    .collect_view();
                view! {
                    <tr>
                        <th scope="row">{impact}</th>
                        {cells}
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="heat">
        <table class="heat-map" data-testid="heat-map">
            <caption>"Heat map: impact (rows) against likelihood (columns)"</caption>
            <thead>
                <tr>
                    <th scope="col">"Impact \\ Likelihood"</th>
                    {(1..=5).map(|l| view! { <th scope="col">{l}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>{grid}</tbody>
        </table>
        <Movement placed />
        </div>
    }
}

/// A place on the matrix: (likelihood, impact).
type Cell = (u8, u8);

/// Above this many live risks the movement draws one arrow per pair of cells, with how many
/// risks made that move, instead of one per risk: thousands of arrows cannot be told apart.
const EACH_RISK_UP_TO: usize = 60;

/// Each live risk's move on the matrix from its inherent position to its residual one, as
/// an arrow (a dot where the controls do not move it), with the moves in words as well. A
/// large register draws the moves between cells, each with its count.
#[component]
fn Movement(placed: Memo<Vec<Placed>>) -> impl IntoView {
    move || {
        let placed = placed.get();
        let cell = 72.0;
        let (left, top) = (24.0, 8.0);
        let size = left + cell * 5.0 + 8.0;
        // The centre of a cell, spread a little so that risks sharing a cell stay apart.
        let at = |(likelihood, impact): Cell, nth: usize| {
            let spread = [
                (0.0, 0.0),
                (-18.0, -18.0),
                (18.0, 18.0),
                (18.0, -18.0),
                (-18.0, 18.0),
                (0.0, -20.0),
                (0.0, 20.0),
                (-20.0, 0.0),
                (20.0, 0.0),
            ];
            let (dx, dy) = spread[nth % spread.len()];
            let x = left + (f64::from(likelihood) - 0.5) * cell + dx;
            let y = top + (5.5 - f64::from(impact)) * cell + dy;
            (x, y)
        };
        let cells = (1..=5u8)
            .flat_map(|impact| (1..=5u8).map(move |likelihood| (likelihood, impact)))
            .map(|(likelihood, impact)| {
                let band = Band::of(score(likelihood, impact)).label().to_lowercase();
                let x = left + f64::from(likelihood - 1) * cell;
                let y = top + f64::from(5 - impact) * cell;
                view! { <rect class=format!("heat-cell band-{band}") x=x y=y width=cell height=cell /> }
            })
            .collect_view();
        let mark = |from: Cell, to: Cell, nth: (usize, usize), label: String, testid: &'static str| {
            let (x1, y1) = at(from, nth.0);
            let (x2, y2) = at(to, nth.1);
            view! {
                <g data-testid=testid>
                    {(from != to).then(|| view! { <line class="heat-arrow" x1=x1 y1=y1 x2=x2 y2=y2 marker-end="url(#heat-arrowhead)" /> })}
                    <circle class="heat-dot" cx=x2 cy=y2 r="4" />
                    <text class="heat-label" x=x2 + 6.0 y=y2 - 5.0>{label}</text>
                </g>
            }
        };
        // How many marks already start (or end) in a cell, to spread the next one.
        let mut seen = std::collections::HashMap::new();
        let mut next = |position: (Cell, bool)| {
            let nth = seen.entry(position).or_insert(0usize);
            *nth += 1;
            *nth - 1
        };
        let (moves, summary, caption) = if placed.len() <= EACH_RISK_UP_TO {
            let moves = placed
                .iter()
                .map(|p| {
                    let nth = (next((p.inherent, true)), next((p.residual, false)));
                    mark(p.inherent, p.residual, nth, p.reference.clone(), "heat-move")
                })
                .collect_view();
            let said: Vec<String> =
                placed.iter().map(|p| format!("{} from {} to {}", p.reference, p.scores.0, p.scores.1)).collect();
            let summary = if said.is_empty() { "No live risks.".to_string() } else { format!("{}.", said.join("; ")) };
            (
                moves,
                summary,
                "Each arrow runs from a risk's inherent position to its residual one (likelihood across, impact up).",
            )
        } else {
            let mut pairs: std::collections::BTreeMap<(Cell, Cell), usize> = Default::default();
            for p in placed.iter() {
                *pairs.entry((p.inherent, p.residual)).or_default() += 1;
            }
            // The busiest moves first in words; every move is drawn.
            let mut said: Vec<_> = pairs.iter().collect();
            said.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let words = said
                .iter()
                .map(|((from, to), n)| {
                    let risks = if **n == 1 { "1 risk".to_string() } else { format!("{n} risks") };
                    format!("{risks} from {} to {}", score(from.0, from.1), score(to.0, to.1))
                })
                .collect::<Vec<_>>();
            let summary = format!("{} live risks: {}.", placed.len(), words.join("; "));
            let moves = pairs
                .iter()
                .map(|((from, to), n)| {
                    let nth = (next((*from, true)), next((*to, false)));
                    mark(*from, *to, nth, n.to_string(), "heat-moves")
                })
                .collect_view();
            (
                moves,
                summary,
                "Each arrow runs from where risks sit before their controls to where they sit after, labelled with how many risks made that move (likelihood across, impact up).",
            )
        };
        view! {
            <figure class="trend heat-movement" data-testid="heat-movement">
                <svg viewBox=format!("0 0 {size} {}", size + 6.0) width=size height=size + 6.0 role="img" aria-label=format!("Movement from inherent to residual score: {summary}")>
                    <defs>
                        <marker id="heat-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="heat-arrowhead" />
                        </marker>
                    </defs>
                    {cells}
                    {moves}
                    {axes(left, top, cell, size)}
                </svg>
                <figcaption>{caption}</figcaption>
            </figure>
        }
    }
}

/// The numbers along the bottom (likelihood) and up the side (impact).
fn axes(left: f64, top: f64, cell: f64, size: f64) -> impl IntoView {
    (1..=5u8)
        .map(|n| {
            let along = left + (f64::from(n) - 0.5) * cell;
            let up = top + (5.5 - f64::from(n)) * cell;
            view! {
                <text class="heat-axis" x=along y=size - 2.0 text-anchor="middle">{n.to_string()}</text>
                <text class="heat-axis" x="10" y=up + 4.0 text-anchor="middle">{n.to_string()}</text>
            }
        })
        .collect_view()
}

/// The residual score after each change to its likelihood or impact, oldest first, from the
/// risk's history: (time, score). A field's value before its first change is its first value.
fn residual_series(entries: &[shared::HistoryEntry], now: (i64, u8, u8)) -> Vec<(i64, u8)> {
    let first = |field: &str, current: u8| {
        entries.iter().find(|e| e.field == field).and_then(|e| e.old.as_deref()?.parse().ok()).unwrap_or(current)
    };
    let (mut likelihood, mut impact) = (first("residual_likelihood", now.1), first("residual_impact", now.2));
    let start = entries.first().map(|e| e.time).unwrap_or(now.0);
    let mut points = vec![(start, likelihood * impact)];
    for e in entries {
        let value = e.new.as_deref().and_then(|v| v.parse::<u8>().ok());
        match (e.field.as_str(), value) {
            ("residual_likelihood", Some(v)) => likelihood = v,
            ("residual_impact", Some(v)) => impact = v,
            _ => continue,
        }
        points.push((e.time, likelihood * impact));
    }
    points.push((now.0.max(start), now.1 * now.2));
    points
}

/// The residual score over time, drawn from the history the document keeps, with the target.
#[component]
fn ResidualTrend(r: Editing<Risk>) -> impl IntoView {
    let store = expect_context::<Store>();
    let score = Memo::new(move |_| r.get().residual_score());
    let found = LocalResource::new(move || {
        // Read, not only tracked: a memo nobody has read yet follows nothing.
        score.get();
        let id = r.id();
        async move { store.history(shared::Kind::Risk, &id).await.ok().map(|(entries, _)| entries) }
    });
    // What the chart shows of the risk: an edit to its other fields leaves the chart alone.
    let shown = Memo::new(move |_| {
        let risk = r.get();
        (risk.residual_likelihood, risk.residual_impact, risk.target_score)
    });
    move || {
        let entries = found.get().flatten()?;
        let (likelihood, impact, target_score) = shown.get();
        let points = residual_series(&entries, (crate::clock::now(), likelihood, impact));
        let (from, to) = (points.first()?.0, points.last()?.0.max(points.first()?.0 + 1));
        let (width, height) = (320.0, 100.0);
        let x = |t: i64| 10.0 + (t - from) as f64 / (to - from) as f64 * (width - 20.0);
        let y = |s: u8| height - 10.0 - f64::from(s) / 25.0 * (height - 20.0);
        let line = points.iter().map(|(t, s)| format!("{:.1},{:.1}", x(*t), y(*s))).collect::<Vec<_>>().join(" ");
        let said = points
            .iter()
            .map(|(t, s)| format!("{s} on {}", crate::clock::local_time(*t, false)))
            .collect::<Vec<_>>()
            .join(", ");
        let target = y(target_score);
        Some(view! {
            <figure class="trend" data-testid="risk-trend">
                <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="img" aria-label=format!("Residual score over time: {said}. Target {target_score}.")>
                    <line class="trend-target" x1="10" x2=width - 10.0 y1=target y2=target />
                    <polyline class="trend-line" points=line />
                </svg>
                <figcaption>{format!("Residual score over time ({} changes), against a target of {target_score}", points.len().saturating_sub(2))}</figcaption>
            </figure>
        })
    }
}

/// A review recorded in one step: today's date, who reviewed the risk (this browser's person
/// unless another is chosen) and what they noted. A date brought forward by hand is done with.
#[component]
fn MarkReviewed(r: Editing<Risk>) -> impl IntoView {
    let store = expect_context::<Store>();
    let reviewer = RwSignal::new(store.person.get_untracked());
    let note = RwSignal::new(String::new());
    let record = move |_| {
        let Some(by) = reviewer.get_untracked() else {
            fields::refuse("risk-reviewer", "Reviewed by", "Choose who reviewed the risk.");
            return;
        };
        let (today, text) = (today(), note.get_untracked());
        r.save(move |risk| {
            risk.last_review = Some(today);
            risk.reviewed_by = Some(by);
            risk.review_note = text;
            if risk.next_review.is_some_and(|d| d <= today) {
                risk.next_review = None;
            }
        });
        note.set(String::new());
    };
    let last = move || {
        let risk = r.get();
        risk.last_review.map(|d| {
            let by = risk
                .reviewed_by
                .as_deref()
                .and_then(|p| store.register.with(|reg| reg.person_name(p).map(str::to_string)));
            let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
            let note = if risk.review_note.is_empty() { String::new() } else { format!(": {}", risk.review_note) };
            format!("Last reviewed on {d}{by}{note}")
        })
    };
    view! {
        <fieldset class="review" data-testid="risk-review">
            <legend>"Record a review"</legend>
            <p data-testid="risk-last-reviewed">{last}</p>
            {fields::choice("Reviewed by", "risk-reviewer", people_of(store), move || reviewer.get(), move |v| reviewer.set(v))}
            <div class="field">
                <label for="risk-review-note">"What the review found (optional)"</label>
                <textarea id="risk-review-note" data-testid="risk-review-note" rows="2" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            </div>
            <button data-testid="risk-mark-reviewed" on:click=record>"Mark reviewed today"</button>
        </fieldset>
    }
}

/// Every field of one risk. Each control writes its own field only, so two people editing
/// different fields of the same risk both keep their edit.
#[component]
fn RiskEditor(id: String, draft: Option<Risk>, selected: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<Store>();
    let r = Editing::<Risk>::new(store, id).with_draft(draft);
    let risk = move || r.get();
    let save = move |edit: Box<dyn FnOnce(&mut Risk)>| r.save(edit);
    let fail = move |message: String| r.fail(message);
    let scale = || (1..=5u8).map(|n| (n, n.to_string())).collect::<Vec<_>>();
    // Memoised, so the forms below are not built again (losing what is typed) on every change.
    let created = Memo::new(move |_| !r.is_draft());
    let body = view! {
                {fields::text("Title", "risk-title", move || risk().title, move |v| save(Box::new(move |r| r.title = v)), false)}
                {fields::text("Description", "risk-description", move || risk().description, move |v| save(Box::new(move |r| r.description = v)), true)}
                {fields::text("Category", "risk-category", move || risk().category, move |v| save(Box::new(move |r| r.category = v)), false)}
                {fields::choice("Owner", "risk-owner", people_of(store), move || risk().owner, move |v| save(Box::new(move |r| r.owner = v)))}
                {fields::choice(
                    "Threat scenario",
                    "risk-scenario",
                    || {
                        let mut all = vec![(None, "None".to_string())];
                        all.extend(Scenario::ALL.iter().map(|s| (Some(*s), s.label().to_string())));
                        all
                    },
                    move || risk().scenario,
                    move |v| save(Box::new(move |r| r.scenario = v)),
                )}
                {fields::choice("Inherent likelihood", "risk-inherent-likelihood", scale, move || risk().inherent_likelihood, move |v| save(Box::new(move |r| r.inherent_likelihood = v)))}
                {fields::choice("Inherent impact", "risk-inherent-impact", scale, move || risk().inherent_impact, move |v| save(Box::new(move |r| r.inherent_impact = v)))}
                {fields::text("Controls", "risk-controls", move || risk().controls, move |v| save(Box::new(move |r| r.controls = v)), true)}
                {fields::text(
                    "ISO 27001 Annex A controls (comma separated)",
                    "risk-annex-a",
                    move || risk().annex_a.join(", "),
                    move |v| save(Box::new(move |r| r.annex_a = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())),
                    false,
                )}
                {fields::choice("Residual likelihood", "risk-residual-likelihood", scale, move || risk().residual_likelihood, move |v| save(Box::new(move |r| r.residual_likelihood = v)))}
                {fields::choice("Residual impact", "risk-residual-impact", scale, move || risk().residual_impact, move |v| save(Box::new(move |r| r.residual_impact = v)))}
                {fields::number("Target score", "risk-target", (1, 25), move || risk().target_score.into(), move |v| save(Box::new(move |r| r.target_score = v.min(255) as u8)), fail)}
                {fields::choice("Treatment", "risk-treatment", options(Treatment::ALL), move || risk().treatment, move |v| save(Box::new(move |r| r.treatment = v)))}
                {fields::choice("Direction", "risk-direction", options(Direction::ALL), move || risk().direction, move |v| save(Box::new(move |r| r.direction = v)))}
                {fields::choice("Status", "risk-status", options(RiskStatus::ALL), move || risk().status, move |v| save(Box::new(move |r| r.status = v)))}
                {fields::date("Last review", "risk-last-review", move || risk().last_review, move |v| save(Box::new(move |r| r.last_review = v)), fail)}
                {fields::date("Next review (leave empty to follow the band)", "risk-next-review", move || risk().next_review, move |v| save(Box::new(move |r| r.next_review = v)), fail)}
                <Show when=move || created.get()>
                    <MarkReviewed r />
                    <ResidualTrend r />
                </Show>
                {fields::links("Actions", "risk-actions", linkable_of::<Action>(store), move || risk().actions.0, move |link, on| save(Box::new(move |r| { if on { r.actions.0.insert(link); } else { r.actions.0.remove(&link); } })))}
                <Show when=move || created.get()>
                    <RaiseAction risk=Some(r.id()) exercise=None />
                </Show>
                {fields::links("Suppliers", "risk-suppliers", linkable_of::<Supplier>(store), move || risk().suppliers.0, move |link, on| save(Box::new(move |r| { if on { r.suppliers.0.insert(link); } else { r.suppliers.0.remove(&link); } })))}
                {fields::links("Insurance policies", "risk-policies", linkable_of::<Policy>(store), move || risk().policies.0, move |link, on| save(Box::new(move |r| { if on { r.policies.0.insert(link); } else { r.policies.0.remove(&link); } })))}
                {crate::views::publication::fields("risk", r, |x: &mut Risk| &mut x.publication)}
    };
    editor_frame("risk", r, selected, body.into_any())
}
