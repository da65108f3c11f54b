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

/// How long an approval lasts unless the owner sets another expiry.
const APPROVED_FOR_MONTHS: u32 = 12;

/// The publication fields of record `r`, whose `Publication` `of` reaches.
pub fn fields<R: Record>(slug: &'static str, r: Editing<R>, of: fn(&mut R) -> &mut Publication) -> AnyView {
    let store = expect_context::<Store>();
    let read = move || {
        let mut record = r.get();
        of(&mut record).clone()
    };
    let fail = move |m| r.fail(m);
    let state = move || {
        let p = read();
        let today = today();
        match (p.approved, p.expires) {
            _ if p.current(today) => {
                format!("Published: approved on {}, until {}.", p.approved.unwrap_or(today), p.expires.unwrap_or(today))
            }
            (Some(_), Some(expires)) if expires < today => format!("Not published: the approval ran out on {expires}."),
            _ => "Not published: an owner approves the line before customers see it.".to_string(),
        }
    };
    let approve = move |_| {
        let (by, today) = (store.person.get_untracked(), today());
        r.save(move |x| {
            let p = of(x);
            p.approved = Some(today);
            p.approved_by = by;
            p.expires = Some(today.add_months(APPROVED_FOR_MONTHS));
        })
    };
    let withdraw = move |_| {
        r.save(move |x| {
            let p = of(x);
            p.approved = None;
            p.approved_by = None;
        })
    };
    view! {
        <fieldset class="publication" data-testid=format!("{slug}-publication")>
            <legend>"Trust centre summary"</legend>
            {fields::text(
                "The line customers read (changing it ends the approval)",
                &format!("{slug}-publication-summary"),
                move || read().summary,
                move |v| r.save(move |x| {
                    let p = of(x);
                    if p.summary != v {
                        p.summary = v;
                        p.approved = None;
                        p.approved_by = None;
                    }
                }),
                true,
            )}
            <p class="hint" data-testid=format!("{slug}-publication-state")>{state}</p>
            <Show when=move || store.owner.get() fallback=|| view! { <p class="hint">"Only an owner approves it for publication."</p> }>
                <p>
                    <button data-testid=format!("{slug}-publication-approve") on:click=approve>{format!("Approve for {APPROVED_FOR_MONTHS} months")}</button>
                    " "
                    <button data-testid=format!("{slug}-publication-withdraw") on:click=withdraw>"Withdraw"</button>
                </p>
                {fields::date("Approval expires", &format!("{slug}-publication-expires"), move || read().expires, move |v| r.save(move |x| of(x).expires = v), fail)}
                {fields::flag("Name the owner in the summary", &format!("{slug}-publication-owner"), move || read().show_owner, move |v| r.save(move |x| of(x).show_owner = v))}
            </Show>
        </fieldset>
    }
    .into_any()
}
