//! A record's entry in the trust centre summary customers read: the line written for them
//! (kept apart from the internal description and controls) and an owner's approval, which
//! runs out. Changing the line ends the approval, so customers never read wording nobody
//! approved.

use crate::clock::today;
use crate::page::store::Store;
use crate::views::fields;
use crate::views::records::Editing;
use leptos::prelude::*;
use shared::{Publication, Record};
use std::sync::Arc;

/// How long an approval lasts unless the owner sets another expiry.
const APPROVED_FOR_MONTHS: u32 = 12;

/// A change to a record's publication.
type Change = Box<dyn FnOnce(&mut Publication)>;

/// The publication fields of record `r`, whose `Publication` `of` reaches. The fields
/// themselves are built once for every kind of record (`form`): the page's wasm carries one
/// copy of them, not one per kind.
pub fn fields<R: Record>(slug: &'static str, r: Editing<R>, of: fn(&mut R) -> &mut Publication) -> AnyView {
    let read: Arc<dyn Fn() -> Publication + Send + Sync> = Arc::new(move || {
        let mut record = r.get();
        of(&mut record).clone()
    });
    let save: Arc<dyn Fn(Change) + Send + Sync> = Arc::new(move |change: Change| r.save(move |x| change(of(x))));
    let fail: Arc<dyn Fn(String) + Send + Sync> = Arc::new(move |m| r.fail(m));
    form(slug, read, save, fail)
}

fn form(
    slug: &'static str,
    read: Arc<dyn Fn() -> Publication + Send + Sync>,
    save: Arc<dyn Fn(Change) + Send + Sync>,
    fail: Arc<dyn Fn(String) + Send + Sync>,
) -> AnyView {
    let store = expect_context::<Store>();
    let shown = read.clone();
    let state = move || {
        let p = shown();
        let today = today();
        match (p.approved, p.expires) {
            _ if p.current(today) => {
                format!("Published: approved on {}, until {}.", p.approved.unwrap_or(today), p.expires.unwrap_or(today))
            }
            (Some(_), Some(expires)) if expires < today => format!("Not published: the approval ran out on {expires}."),
            _ => "Not published: an owner approves the line before customers see it.".to_string(),
        }
    };
    let (summary, saving) = (read.clone(), save.clone());
    let line = fields::text(
        "The line customers read (changing it ends the approval)",
        &format!("{slug}-publication-summary"),
        move || summary().summary,
        move |v| {
            saving(Box::new(move |p| {
                if p.summary != v {
                    p.summary = v;
                    p.approved = None;
                    p.approved_by = None;
                }
            }))
        },
        true,
    );
    // What only an owner sees: approving, withdrawing, the expiry and naming the owner.
    let approval = move || {
        let (approve, withdraw, expire, name) = (save.clone(), save.clone(), save.clone(), save.clone());
        let (expiry, named, fail) = (read.clone(), read.clone(), fail.clone());
        view! {
            <p>
                <button data-testid=format!("{slug}-publication-approve") on:click=move |_| {
                    let (by, today) = (store.person.get_untracked(), today());
                    approve(Box::new(move |p| {
                        p.approved = Some(today);
                        p.approved_by = by;
                        p.expires = Some(today.add_months(APPROVED_FOR_MONTHS));
                    }))
                }>{format!("Approve for {APPROVED_FOR_MONTHS} months")}</button>
                " "
                <button data-testid=format!("{slug}-publication-withdraw") on:click=move |_| withdraw(Box::new(|p| {
                    p.approved = None;
                    p.approved_by = None;
                }))>"Withdraw"</button>
            </p>
            {fields::date("Approval expires", &format!("{slug}-publication-expires"), move || expiry().expires, move |v| expire(Box::new(move |p| p.expires = v)), move |m| fail(m))}
            {fields::flag("Name the owner in the summary", &format!("{slug}-publication-owner"), move || named().show_owner, move |v| name(Box::new(move |p| p.show_owner = v)))}
        }
        .into_any()
    };
    view! {
        <fieldset class="publication" data-testid=format!("{slug}-publication")>
            <legend>"Trust centre summary"</legend>
            {line}
            <p class="hint" data-testid=format!("{slug}-publication-state")>{state}</p>
            {move || if store.owner.get() {
                approval()
            } else {
                view! { <p class="hint">"Only an owner approves it for publication."</p> }.into_any()
            }}
        </fieldset>
    }
    .into_any()
}
