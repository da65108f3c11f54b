//! The review calendar: every dated obligation, due or overdue, within a chosen window and
//! grouped by month, with its iCalendar download and a private address of the member's own
//! that their calendar application subscribes to (served by the relay from what the team's
//! browsers publish).

use crate::bridge::Download;
use crate::clock::today;
use crate::page::store::Store;
use crate::views::export::{Preparing, prepare};
use crate::views::fields;
use crate::views::records::headings;
use crate::views::records::record_link;
use leptos::prelude::*;
use leptos::task::spawn_local;
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
        <Subscription/>
        {groups}
    }
}

/// Asks the relay to turn the member's calendar address `on`, `off`, or for its `status`.
async fn address(store: Store, action: &str) -> Result<serde_json::Value, String> {
    let Some(relay) = store.relay() else { return Err("no server".into()) };
    let body = serde_json::json!({"register": store.register_id().to_string(), "action": action});
    match crate::http::post(&relay, "/calendar/address", &body).await {
        Err(why) => Err(format!("The server could not be reached ({why}); try again when you are online.")),
        Ok((200, text)) => serde_json::from_str(&text).map_err(|e| format!("The server's answer is unreadable: {e}")),
        Ok((_, text)) => Err(format!("The server refused: {text}")),
    }
}

/// The member's private calendar address: turned on (the address is shown once, as a token
/// is), replaced, or turned off.
#[component]
fn Subscription() -> impl IntoView {
    let store = expect_context::<Store>();
    let Some(relay) = store.relay() else {
        return view! {
            <p class="hint" data-testid="calendar-subscribe-offline">
                "This register is kept in this browser only. Shared through a server, it gives each member a calendar address to subscribe to; the download works either way."
            </p>
        }
        .into_any();
    };
    let on = RwSignal::new(None::<bool>);
    let shown = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    spawn_local(async move {
        match address(store, "status").await {
            Ok(answer) => on.set(answer["on"].as_bool()),
            Err(why) => problem.set(Some(why)),
        }
    });
    let act = move |action: &'static str| {
        let relay = relay.clone();
        spawn_local(async move {
            problem.set(None);
            match address(store, action).await {
                Ok(answer) => {
                    on.set(answer["on"].as_bool());
                    shown.set(answer["path"].as_str().map(|path| crate::http::address(&relay, path)));
                }
                Err(why) => problem.set(Some(why)),
            }
        })
    };
    let (turn_on, renew, turn_off) = (act.clone(), act.clone(), act);
    view! {
        <section class="subscription" aria-labelledby="calendar-subscribe-heading">
            <h3 id="calendar-subscribe-heading">"In your own calendar"</h3>
            {move || match on.get() {
                None => view! { <p class="hint">"Checking your calendar address…"</p> }.into_any(),
                Some(false) => view! {
                    <p class="hint">"Subscribe once and every review, renewal and deadline stays current in Outlook, Google Calendar or Apple Calendar, with a reminder a week before and on the day."</p>
                    <button data-testid="calendar-subscribe" on:click={let turn_on = turn_on.clone(); move |_| turn_on("on")}>"Turn on my calendar address"</button>
                }
                .into_any(),
                Some(true) => view! {
                    <p data-testid="calendar-subscribed">"Your calendar address is on."</p>
                    <button data-testid="calendar-renew" on:click={let renew = renew.clone(); move |_| renew("on")}>"New address (ends the old one)"</button>
                    <button data-testid="calendar-unsubscribe" on:click={let turn_off = turn_off.clone(); move |_| turn_off("off")}>"Turn it off"</button>
                }
                .into_any(),
            }}
            {move || shown.get().map(|url| view! {
                <label for="calendar-address">"Your calendar address (shown only now: it is private, anyone holding it can read the calendar)"</label>
                <input id="calendar-address" data-testid="calendar-address" readonly value=url/>
                <p class="hint">"In your calendar application choose to add a calendar from a URL (Outlook: Add calendar, Subscribe from web; Google: Other calendars, From URL; Apple: File, New Calendar Subscription) and paste it."</p>
            })}
            {move || problem.get().map(|why| view! { <p class="problem" role="alert" data-testid="calendar-subscribe-problem">{why}</p> })}
        </section>
    }
    .into_any()
}
