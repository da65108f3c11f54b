//! Labelled form controls shared by every record editor. Each shows a value read from the
//! register and hands what the person chose to a `save` callback when they commit it
//! (change, not every keystroke: one edit per field change keeps the history readable).

use leptos::prelude::*;
use shared::Date;
use std::collections::BTreeSet;

/// A text field; `multiline` gives a text area.
pub fn text(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> String + Send + Sync + 'static,
    save: impl Fn(String) + 'static,
    multiline: bool,
) -> AnyView {
    let id = testid.to_string();
    let control = if multiline {
        view! { <textarea id=id.clone() data-testid=id.clone() rows="3" prop:value=value on:change=move |ev| save(event_target_value(&ev))></textarea> }.into_any()
    } else {
        view! { <input type="text" id=id.clone() data-testid=id.clone() prop:value=value on:change=move |ev| save(event_target_value(&ev)) /> }.into_any()
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {control}
        </div>
    }
    .into_any()
}

/// A whole number between `min` and `max`.
pub fn number(
    label: &'static str,
    testid: &str,
    range: (u32, u32),
    value: impl Fn() -> u32 + Send + Sync + 'static,
    save: impl Fn(u32) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let id = testid.to_string();
    let commit = move |text: String| match text.trim().parse::<u32>() {
        Ok(n) => save(n),
        Err(_) => on_error(format!("{label} must be a whole number from {} to {}", range.0, range.1)),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                type="number"
                id=id.clone()
                data-testid=id
                min=range.0
                max=range.1
                prop:value=move || value().to_string()
                on:change=move |ev| commit(event_target_value(&ev))
            />
        </div>
    }
    .into_any()
}

/// One of a fixed list of options, shown by label. `None` in the list is "not set".
pub fn choice<T: Clone + PartialEq + Send + Sync + 'static>(
    label: &'static str,
    testid: &str,
    options: impl Fn() -> Vec<(T, String)> + Send + Sync + 'static,
    value: impl Fn() -> T + Send + Sync + 'static,
    save: impl Fn(T) + 'static,
) -> AnyView {
    let id = testid.to_string();
    let options = std::sync::Arc::new(options);
    let listed = options.clone();
    let pick = move |index: String| {
        if let Some((chosen, _)) = index.parse::<usize>().ok().and_then(|i| options().into_iter().nth(i)) {
            save(chosen);
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id.clone() data-testid=id on:change=move |ev| pick(event_target_value(&ev))>
                {move || {
                    let current = value();
                    listed()
                        .into_iter()
                        .enumerate()
                        .map(|(i, (option, text))| {
                            view! {
                                <option value=i.to_string() selected=option == current>
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
    .into_any()
}

/// A date, or none. The browser's date picker gives and takes ISO dates.
pub fn date(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> Option<Date> + Send + Sync + 'static,
    save: impl Fn(Option<Date>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let id = testid.to_string();
    let commit = move |text: String| {
        if text.trim().is_empty() {
            save(None)
        } else {
            match Date::parse(&text) {
                Ok(d) => save(Some(d)),
                Err(e) => on_error(format!("{label}: {e}")),
            }
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                type="date"
                id=id.clone()
                data-testid=id
                prop:value=move || value().map(|d| d.0.format("%Y-%m-%d").to_string()).unwrap_or_default()
                on:change=move |ev| commit(event_target_value(&ev))
            />
        </div>
    }
    .into_any()
}

/// A yes/no box.
pub fn flag(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> bool + Send + Sync + 'static,
    save: impl Fn(bool) + 'static,
) -> AnyView {
    let id = testid.to_string();
    view! {
        <div class="field field-flag">
            <input type="checkbox" id=id.clone() data-testid=id.clone() prop:checked=value on:change=move |ev| save(event_target_checked(&ev)) />
            <label for=id>{label}</label>
        </div>
    }
    .into_any()
}

/// Links to other records: a box per record that can be linked, ticked when it is.
pub fn links(
    label: &'static str,
    testid: &str,
    options: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
    value: impl Fn() -> BTreeSet<String> + Send + Sync + 'static,
    save: impl Fn(String, bool) + Clone + Send + Sync + 'static,
) -> AnyView {
    let testid = testid.to_string();
    let group = testid.clone();
    view! {
        <fieldset class="field field-links" data-testid=group>
            <legend>{label}</legend>
            {move || {
                let linked = value();
                let options = options();
                if options.is_empty() {
                    return view! { <p class="hint">"Nothing to link yet."</p> }.into_any();
                }
                options
                    .into_iter()
                    .map(|(id, text)| {
                        let box_id = format!("{testid}-{id}");
                        let checked = linked.contains(&id);
                        let save = save.clone();
                        view! {
                            <div class="field-flag">
                                <input
                                    type="checkbox"
                                    id=box_id.clone()
                                    data-testid=box_id.clone()
                                    prop:checked=checked
                                    on:change=move |ev| save(id.clone(), event_target_checked(&ev))
                                />
                                <label for=box_id>{text}</label>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </fieldset>
    }
    .into_any()
}
