//! Labelled form controls shared by every record editor. Each shows a value read from the
//! register and hands what the person chose to a `save` callback when they commit it
//! (change, not every keystroke: one edit per field change keeps the history readable).
//! The public functions only box their closures and call one non-generic builder per kind
//! of control, so the rendering code is compiled once, not once per field.

use leptos::prelude::*;
use shared::Date;
use std::collections::BTreeSet;
use std::sync::Arc;

type Save<T> = Box<dyn Fn(T)>;

/// What a control shows, as a memo: it notifies only when the value really changes, so an
/// edit arriving for another field never resets what someone is typing in this one.
fn shown<T: Clone + PartialEq + Send + Sync + 'static>(value: impl Fn() -> T + Send + Sync + 'static) -> Signal<T> {
    Memo::new(move |_| value()).into()
}

/// A text field; `multiline` gives a text area.
pub fn text(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> String + Send + Sync + 'static,
    save: impl Fn(String) + 'static,
    multiline: bool,
) -> AnyView {
    text_control(label, testid, shown(value), Box::new(save), multiline)
}

fn text_control(
    label: &'static str,
    testid: &str,
    value: Signal<String>,
    save: Save<String>,
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

/// A whole number between `range.0` and `range.1`.
pub fn number(
    label: &'static str,
    testid: &str,
    range: (u32, u32),
    value: impl Fn() -> u32 + Send + Sync + 'static,
    save: impl Fn(u32) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let commit = move |text: String| match text.trim().parse::<u32>() {
        Ok(n) if (range.0..=range.1).contains(&n) => save(n),
        _ => on_error(format!("{label} must be a whole number from {} to {}, not {text:?}", range.0, range.1)),
    };
    let shown = shown(move || value().to_string());
    input_control(label, testid, "number", shown, Box::new(commit), Some(range))
}

/// An amount of money in pounds and pence, kept as pence.
pub fn money(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> shared::Pence + Send + Sync + 'static,
    save: impl Fn(shared::Pence) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let commit = move |text: String| match shared::Pence::parse(&text) {
        Ok(p) => save(p),
        Err(e) => on_error(format!("{label}: {e}")),
    };
    let shown = shown(move || value().to_string());
    input_control(label, testid, "text", shown, Box::new(commit), None)
}

/// A date, or none. The browser's date picker gives and takes ISO dates.
pub fn date(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> Option<Date> + Send + Sync + 'static,
    save: impl Fn(Option<Date>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
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
    let shown = shown(move || value().map(|d| d.0.format("%Y-%m-%d").to_string()).unwrap_or_default());
    input_control(label, testid, "date", shown, Box::new(commit), None)
}

fn input_control(
    label: &'static str,
    testid: &str,
    kind: &'static str,
    value: Signal<String>,
    commit: Save<String>,
    range: Option<(u32, u32)>,
) -> AnyView {
    let id = testid.to_string();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                type=kind
                id=id.clone()
                data-testid=id
                min=range.map(|r| r.0)
                max=range.map(|r| r.1)
                prop:value=value
                on:change=move |ev| commit(event_target_value(&ev))
            />
        </div>
    }
    .into_any()
}

/// One of a list of options, shown by label.
pub fn choice<T: Clone + PartialEq + Send + Sync + 'static>(
    label: &'static str,
    testid: &str,
    options: impl Fn() -> Vec<(T, String)> + Send + Sync + 'static,
    value: impl Fn() -> T + Send + Sync + 'static,
    save: impl Fn(T) + 'static,
) -> AnyView {
    let options = Arc::new(options);
    let listed = options.clone();
    let shown = shown(move || {
        let current = value();
        listed().into_iter().map(|(option, text)| (text, option == current)).collect::<Vec<_>>()
    });
    let pick = move |index: usize| {
        if let Some((chosen, _)) = options().into_iter().nth(index) {
            save(chosen);
        }
    };
    choice_control(label, testid, shown, Box::new(pick))
}

fn choice_control(
    label: &'static str,
    testid: &str,
    options: Signal<Vec<(String, bool)>>,
    pick: Save<usize>,
) -> AnyView {
    let id = testid.to_string();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                data-testid=id
                on:change=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse() {
                        pick(i)
                    }
                }
            >
                {move || {
                    options
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, (text, selected))| view! { <option value=i.to_string() selected=selected>{text}</option> })
                        .collect_view()
                }}
            </select>
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
    flag_control(label, testid, shown(value), Box::new(save))
}

fn flag_control(label: &'static str, testid: &str, value: Signal<bool>, save: Save<bool>) -> AnyView {
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
    save: impl Fn(String, bool) + Send + Sync + 'static,
) -> AnyView {
    let shown = shown(move || {
        let linked = value();
        options().into_iter().map(|(id, text)| (linked.contains(&id), id, text)).collect::<Vec<_>>()
    });
    links_control(label, testid, shown, Arc::new(save))
}

type Toggle = Arc<dyn Fn(String, bool) + Send + Sync>;

fn links_control(
    label: &'static str,
    testid: &str,
    options: Signal<Vec<(bool, String, String)>>,
    save: Toggle,
) -> AnyView {
    let testid = testid.to_string();
    let group = testid.clone();
    view! {
        <fieldset class="field field-links" data-testid=group>
            <legend>{label}</legend>
            {move || {
                let options = options.get();
                if options.is_empty() {
                    return view! { <p class="hint">"Nothing to link yet."</p> }.into_any();
                }
                options
                    .into_iter()
                    .map(|(checked, id, text)| {
                        let box_id = format!("{testid}-{id}");
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
