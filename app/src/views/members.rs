//! Members, for a register's owners: who may open it (with their role, when they were added
//! and last seen), inviting someone (the link to send them is shown once), changing a role and
//! revoking. The relay carries each out and refuses anyone but an owner; offline the view
//! says so and shows the list as last seen, kept in this browser.

use crate::page::store::Store;
use crate::views::records::headings;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use shared::incident::london_time;

/// A member as the relay lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Listed {
    name: String,
    role: String,
    added_at: i64,
    last_seen: Option<i64>,
    revoked: bool,
}

const ROLES: [(&str, &str); 3] = [
    ("owner", "Owner: edits, and manages members"),
    ("editor", "Editor: reads and edits"),
    ("viewer", "Viewer: reads only"),
];

fn kept_key(store: &Store) -> String {
    format!("continuity.members.{}", store.register_id())
}

/// The list as last seen, kept in localStorage for when the server cannot be reached.
fn kept(store: &Store) -> Vec<Listed> {
    let stored = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(&kept_key(store)).ok().flatten());
    stored.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

fn keep(store: &Store, list: &[Listed]) {
    if let (Some(storage), Ok(text)) =
        (web_sys::window().and_then(|w| w.local_storage().ok().flatten()), serde_json::to_string(list))
    {
        let _ = storage.set_item(&kept_key(store), &text);
    }
}

/// Asks the relay to do `action` with the register's members; the answer, or what went wrong in words.
async fn ask(store: Store, action: &'static str, mut body: serde_json::Value) -> Result<serde_json::Value, String> {
    let Some(relay) = store.relay() else {
        return Err("This register is kept in this browser only: members need a server to share it through.".into());
    };
    body["register"] = serde_json::Value::String(store.register_id().to_string());
    match crate::http::post(&relay, &format!("/members/{action}"), &body).await {
        Err(why) => Err(format!("The server could not be reached ({why}); try again when you are online.")),
        Ok((200, text)) => serde_json::from_str(&text).map_err(|e| format!("The server's answer is unreadable: {e}")),
        Ok((_, text)) => Err(format!("The server refused: {text}")),
    }
}

#[component]
pub fn Members() -> impl IntoView {
    let store = expect_context::<Store>();
    if !store.owner.get_untracked() {
        return view! {
            <h2>"Members"</h2>
            <p class="empty" data-testid="members-not-owner">"Only the register's owners manage its members: ask one of them to invite someone."</p>
        }
        .into_any();
    }
    let list = RwSignal::new(kept(&store));
    let fresh = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let refresh = move || {
        spawn_local(async move {
            match ask(store, "list", serde_json::json!({}))
                .await
                .and_then(|v| serde_json::from_value::<Vec<Listed>>(v).map_err(|e| e.to_string()))
            {
                Ok(members) => {
                    keep(&store, &members);
                    list.set(members);
                    fresh.set(true);
                }
                Err(why) => {
                    fresh.set(false);
                    problem.set(Some(why));
                }
            }
        })
    };
    refresh();
    // Each change is the server's to make; the list is read again after it.
    let act = move |action: &'static str, body: serde_json::Value, said: String| {
        problem.set(None);
        done.set(None);
        spawn_local(async move {
            match ask(store, action, body).await {
                Ok(_) => {
                    done.set(Some(said));
                    refresh();
                }
                Err(why) => problem.set(Some(why)),
            }
        })
    };
    let confirming = RwSignal::new(None::<String>);
    let rows = move || {
        list.get()
            .into_iter()
            .enumerate()
            .map(|(n, m)| {
                let name = m.name.clone();
                let role_name = name.clone();
                let revoke_name = name.clone();
                let confirm_name = name.clone();
                let current = m.role.clone();
                let options = ROLES
                    .iter()
                    .map(|(value, label)| view! { <option value=*value selected=*value == current>{*label}</option> })
                    .collect_view();
                let seen = m.last_seen.map(london_time).unwrap_or_else(|| "Not yet".into());
                let added = if m.added_at > 0 { london_time(m.added_at) } else { "Before this was recorded".into() };
                let select_id = format!("member-role-{n}");
                let status = if m.revoked { "Revoked" } else { "Has access" };
                view! {
                    <tr data-testid="member">
                        <td data-label="Name">{m.name.clone()}</td>
                        <td data-label="Role">
                            <label class="visually-hidden" for=select_id.clone()>{format!("Role of {}", m.name)}</label>
                            <select
                                id=select_id.clone()
                                data-testid=select_id
                                disabled=m.revoked || !fresh.get()
                                on:change=move |ev| {
                                    let role = event_target_value(&ev);
                                    let said = format!("{role_name} is now {role}.");
                                    act("role", serde_json::json!({ "name": role_name.clone(), "role": role }), said)
                                }
                            >
                                {options}
                            </select>
                        </td>
                        <td data-label="Added">{added}</td>
                        <td data-label="Last seen">{seen}</td>
                        <td data-label="Access">{status}</td>
                        <td data-label="Revoke">
                            {move || if confirming.get().as_deref() == Some(confirm_name.as_str()) {
                                let name = confirm_name.clone();
                                view! {
                                    <button class="danger" data-testid=format!("member-revoke-confirm-{n}") on:click=move |_| {
                                        confirming.set(None);
                                        act("revoke", serde_json::json!({ "name": name.clone() }), format!("{name} can no longer open the register."))
                                    }>{format!("Yes, revoke {}", confirm_name)}</button>
                                    " "
                                    <button data-testid=format!("member-revoke-keep-{n}") on:click=move |_| confirming.set(None)>"Keep"</button>
                                }.into_any()
                            } else {
                                let name = revoke_name.clone();
                                view! {
                                    <button data-testid=format!("member-revoke-{n}") disabled=m.revoked || !fresh.get() on:click=move |_| confirming.set(Some(name.clone()))>
                                        "Revoke"
                                    </button>
                                }.into_any()
                            }}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    let (name, role) = (RwSignal::new(String::new()), RwSignal::new("editor".to_string()));
    let link = RwSignal::new(None::<(String, String)>);
    let invite = move |_| {
        let who = name.get_untracked().trim().to_string();
        if who.is_empty() {
            problem.set(Some("Say who you are inviting.".into()));
            return;
        }
        problem.set(None);
        let role = role.get_untracked();
        spawn_local(async move {
            match ask(store, "invite", serde_json::json!({ "name": who, "role": role })).await {
                Ok(answer) => {
                    let token = answer["token"].as_str().unwrap_or_default();
                    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
                    let url =
                        format!("{origin}/#join?register={}&token={token}&role={role}", store.register_id().url());
                    link.set(Some((who, url)));
                    name.set(String::new());
                    refresh();
                }
                Err(why) => problem.set(Some(why)),
            }
        })
    };
    view! {
        <h2>"Members"</h2>
        <p class="lead">"Who may open this register, and what they may do. The server carries out each change."</p>
        {move || problem.get().map(|why| view! { <p class="banner banner-error" role="alert" data-testid="members-problem">{why}</p> })}
        {move || done.get().map(|said| view! { <p class="banner" role="status" data-testid="members-done">{said}</p> })}
        {move || (!fresh.get() && !list.with(Vec::is_empty)).then(|| view! { <p class="hint" data-testid="members-stale">"As last seen from this browser: the server has not confirmed it now."</p> })}
        <table data-testid="members-table">
            {headings(&["Name", "Role", "Added", "Last seen", "Access", "Revoke"])}
            <tbody>{rows}</tbody>
        </table>
        <section class="nested" aria-labelledby="members-invite-heading">
            <h3 id="members-invite-heading">"Invite someone"</h3>
            <div class="field">
                <label for="members-invite-name">"Their name"</label>
                <input type="text" id="members-invite-name" data-testid="members-invite-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="members-invite-role">"What they may do"</label>
                <select id="members-invite-role" data-testid="members-invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {ROLES.iter().map(|(value, label)| view! { <option value=*value selected=*value == "editor">{*label}</option> }).collect_view()}
                </select>
            </div>
            <button class="primary" data-testid="members-invite" on:click=invite>"Invite"</button>
            {move || link.get().map(|(who, url)| view! {
                <div class="field">
                    <label for="members-invite-link">{format!("The link for {who}: send it to them yourself; it is shown only this once")}</label>
                    <input type="text" id="members-invite-link" data-testid="members-invite-link" readonly=true prop:value=url />
                </div>
            })}
        </section>
    }
    .into_any()
}
