//! Labelled form controls shared by every record editor. Each shows a value read from the
//! register and hands what the person chose to a `save` callback when they commit it
//! (change, not every keystroke: one edit per field change keeps the history readable).
//! The public functions only box their closures and call one non-generic builder per kind
//! of control, so the rendering code is compiled once, not once per field. A value that is
//! not taken is said at its field (and in the summary at the top) and the control is put
//! back to what the register holds, so the screen never disagrees with the register.

use crate::page::store::Store;
use leptos::prelude::*;
use shared::Date;
use std::collections::BTreeSet;
use std::sync::Arc;
use wasm_bindgen::JsCast;

type Save<T> = Box<dyn Fn(T)>;

/// One field's commits: a message its save leaves behind (a value the page refused, or the
/// record's own checks) becomes the field's problem instead of a banner far away.
#[derive(Clone)]
struct Commit {
    store: Option<Store>,
    id: String,
    label: &'static str,
}

impl Commit {
    fn new(id: &str, label: &'static str) -> Commit {
        let store = use_context::<Store>();
        if let Some(store) = store {
            let gone = id.to_string();
            // A field no longer on screen cannot be put right there.
            on_cleanup(move || store.problems.update(|p| drop(p.remove(&gone))));
        }
        Commit { store, id: id.to_string(), label }
    }

    fn run(&self, save: impl FnOnce()) {
        let Some(store) = self.store else { return save() };
        store.error.set(None);
        save();
        let refused = store.error.get_untracked();
        if refused.is_some() {
            store.error.set(None);
        }
        let (id, label) = (self.id.clone(), self.label.to_string());
        store.problems.update(|p| {
            match refused {
                Some(why) => p.insert(id, (label, why)),
                None => p.remove(&id),
            };
        });
    }

    /// The field's problem on show, if any.
    fn problem(&self) -> Signal<Option<String>> {
        let (store, id) = (self.store, self.id.clone());
        Signal::derive(move || store.and_then(|s| s.problems.with(|p| p.get(&id).map(|(_, why)| why.clone()))))
    }
}

/// Says at a field (and in the summary at the top) why a form cannot go ahead: for the checks
/// a form makes when it is sent, not when one field changes. Changing the field clears it.
pub fn refuse(testid: &str, label: &'static str, why: &str) {
    if let Some(store) = use_context::<Store>() {
        store.problems.update(|p| drop(p.insert(testid.to_string(), (label.to_string(), why.to_string()))));
    }
}

/// The label, the message when the field's value was not taken, and the control.
fn frame(
    id: String,
    label: &'static str,
    hint: Option<&'static str>,
    problem: Signal<Option<String>>,
    control: AnyView,
) -> AnyView {
    let message = format!("{id}-error");
    view! {
        <div class="field" class:field-invalid=move || problem.with(Option::is_some)>
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="field-hint">{hint}</p> })}
            {move || problem.get().map(|why| view! { <p class="field-message" id=message.clone()>{why}</p> })}
            {control}
        </div>
    }
    .into_any()
}

/// Puts what the register holds back into the control that raised `ev`: after a refusal the
/// control would otherwise go on showing the value that was not taken.
fn put_back(ev: &leptos::ev::Event, value: &str) {
    if let Some(target) = ev.target() {
        if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
            if input.value() != value {
                input.set_value(value);
            }
        } else if let Some(area) = target.dyn_ref::<web_sys::HtmlTextAreaElement>()
            && area.value() != value
        {
            area.set_value(value);
        }
    }
}

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
    let commit = Commit::new(testid, label);
    let problem = commit.problem();
    let message = format!("{testid}-error");
    let described = move || problem.with(Option::is_some).then(|| message.clone());
    let testid = id.clone();
    let on_change = move |ev: leptos::ev::Event| {
        commit.run(|| save(event_target_value(&ev)));
        put_back(&ev, &value.get_untracked());
    };
    let invalid = move || problem.with(Option::is_some).then_some("true");
    let control = if multiline {
        view! { <textarea id=id.clone() data-testid=id.clone() rows="3" aria-invalid=invalid aria-describedby=described prop:value=value on:change=on_change></textarea> }.into_any()
    } else {
        view! { <input type="text" id=id.clone() data-testid=id.clone() aria-invalid=invalid aria-describedby=described prop:value=value on:change=on_change /> }.into_any()
    };
    frame(testid, label, None, problem, control)
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
    input_control(label, testid, "number", None, shown, Box::new(commit), Some(range))
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
    input_control(label, testid, "text", None, shown, Box::new(commit), None)
}

/// A date, or none, typed the UK way whatever the browser's locale (the browser's own date
/// input follows the locale, and saved each partial year while a date was typed over).
pub fn date(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> Option<Date> + Send + Sync + 'static,
    save: impl Fn(Option<Date>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let commit = parsed(label, Date::entered, save, on_error);
    let shown = shown(move || value().map(|d| d.to_string()).unwrap_or_default());
    input_control(label, testid, "text", Some("For example 22/11/2026 or 22 Nov 2026"), shown, Box::new(commit), None)
}

/// What typed text commits: nothing typed is none, text `parse` takes is its value, and
/// anything else is said, with the field's label, through `on_error`.
fn parsed<T: 'static, E: std::fmt::Display + 'static>(
    label: &'static str,
    parse: fn(&str) -> Result<T, E>,
    save: impl Fn(Option<T>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> impl Fn(String) + 'static {
    move |text: String| {
        if text.trim().is_empty() {
            save(None)
        } else {
            match parse(&text) {
                Ok(value) => save(Some(value)),
                Err(e) => on_error(format!("{label}: {e}")),
            }
        }
    }
}

/// A length of time (a recovery objective, a time achieved), or none: typed in words ("4
/// hours", "1 day 6 hours") and shown the same way.
pub fn duration(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> Option<shared::recovery::Minutes> + Send + Sync + 'static,
    save: impl Fn(Option<shared::recovery::Minutes>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let commit = parsed(label, shared::recovery::Minutes::parse, save, on_error);
    let shown = shown(move || value().map(|m| m.to_string()).unwrap_or_default());
    input_control(
        label,
        testid,
        "text",
        Some("For example 30 minutes, 4 hours or 2 days"),
        shown,
        Box::new(commit),
        None,
    )
}

/// A date and time in UK time, or none: a `datetime-local` control.
pub fn moment(
    label: &'static str,
    testid: &str,
    value: impl Fn() -> Option<i64> + Send + Sync + 'static,
    save: impl Fn(Option<i64>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> AnyView {
    let commit = parsed(label, shared::incident::parse_uk_input, save, on_error);
    let shown = shown(move || value().map(shared::incident::uk_input).unwrap_or_default());
    input_control(label, testid, "datetime-local", Some("UK time"), shown, Box::new(commit), None)
}

fn input_control(
    label: &'static str,
    testid: &str,
    kind: &'static str,
    hint: Option<&'static str>,
    value: Signal<String>,
    save: Save<String>,
    range: Option<(u32, u32)>,
) -> AnyView {
    let id = testid.to_string();
    let commit = Commit::new(testid, label);
    let problem = commit.problem();
    let message = format!("{testid}-error");
    let control = view! {
        <input
            type=kind
            id=id.clone()
            data-testid=id.clone()
            min=range.map(|r| r.0)
            max=range.map(|r| r.1)
            aria-invalid=move || problem.with(Option::is_some).then_some("true")
            aria-describedby=move || problem.with(Option::is_some).then(|| message.clone())
            prop:value=value
            on:change=move |ev| {
                commit.run(|| save(event_target_value(&ev)));
                put_back(&ev, &value.get_untracked());
            }
        />
    }
    .into_any();
    frame(id, label, hint, problem, control)
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
    let commit = Commit::new(testid, label);
    let problem = commit.problem();
    let message = format!("{testid}-error");
    let control = view! {
            <select
                id=id.clone()
                data-testid=id.clone()
                aria-invalid=move || problem.with(Option::is_some).then_some("true")
                aria-describedby=move || problem.with(Option::is_some).then(|| message.clone())
                on:change=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse() {
                        commit.run(|| pick(i));
                    }
                    // A refused choice goes back to the option the register holds.
                    let held = options.with_untracked(|o| o.iter().position(|(_, selected)| *selected));
                    if let (Some(select), Some(held)) = (ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()), held)
                        && select.selected_index() != held as i32
                    {
                        select.set_selected_index(held as i32);
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
    }
    .into_any();
    frame(id, label, None, problem, control)
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
