//! Every view and record has an address (`/risks`, `/risks/R-007`) that can be copied,
//! bookmarked and opened by a colleague; back and forward move between them. Hand-written over
//! the History API rather than leptos_router: what is on screen is chosen by two signals (the
//! section, and the record a view is asked to open) that findings, the calendar and the keyboard
//! set too, and a router's routes would be a second source of truth for them. The address is
//! written only when a person moves; reading it (on opening, back, forward) sets the signals.

use crate::Section;
use crate::page::store::Store;
use crate::views::records::{Focus, Want};
use leptos::prelude::*;
use shared::refs::references;
use shared::{ForKind, Id, Kind, Record, Register};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The reference of one record, as the register numbers it now.
pub fn reference(register: &Register, kind: Kind, id: &str) -> Option<String> {
    struct Of<'a>(&'a Register, &'a str);
    impl ForKind for Of<'_> {
        type Output = Option<String>;
        fn run<R: Record>(self) -> Option<String> {
            references::<R>(self.0).remove(self.1)
        }
    }
    kind.run(Of(register, id))
}

/// The record a reference names among the kinds one section shows.
fn find(register: &Register, section: Section, wanted: &str) -> Option<(Kind, Id)> {
    struct Named<'a>(&'a Register, &'a str);
    impl ForKind for Named<'_> {
        type Output = Option<Id>;
        fn run<R: Record>(self) -> Option<Id> {
            references::<R>(self.0).into_iter().find(|(_, r)| r.eq_ignore_ascii_case(self.1)).map(|(id, _)| id)
        }
    }
    // History shows any record.
    Kind::ALL
        .iter()
        .filter(|k| section == Section::History || Section::of_kind(**k) == section)
        .find_map(|kind| kind.run(Named(register, wanted)).map(|id| (*kind, id)))
}

/// `/risks/R-007` as (the section, the reference); `/` is Today.
fn parse(path: &str) -> (Option<Section>, Option<String>) {
    let mut parts = path.trim_matches('/').split('/').filter(|p| !p.is_empty());
    let section = match parts.next() {
        None => Some(Section::Today),
        Some(slug) => Section::ALL.into_iter().find(|s| s.slug() == slug),
    };
    (section, parts.next().map(str::to_string))
}

/// A section's own address: Today is the home page.
fn path_of(section: Section) -> String {
    match section {
        Section::Today => "/".into(),
        other => format!("/{}", other.slug()),
    }
}

fn location() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default()
}

fn push(path: &str) {
    if location() == path {
        return;
    }
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok())
        && let Err(e) = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
    {
        web_sys::console::error_2(&"could not change the address".into(), &e);
    }
}

/// The section and record the address names, and the moves a person makes.
#[derive(Clone, Copy)]
pub struct Route {
    section: RwSignal<Section>,
    focus: Focus,
    store: Store,
    /// A reference from the address not yet found in the register (it may still be loading).
    pending: RwSignal<Option<(Section, String)>>,
}

impl Route {
    /// Reads the address now and whenever back or forward changes it.
    pub fn start(store: Store, section: RwSignal<Section>, focus: Focus) -> Route {
        let route = Route { section, focus, store, pending: RwSignal::new(None) };
        route.follow();
        let on_pop = Closure::<dyn Fn()>::new(move || route.follow());
        if let Some(window) = web_sys::window() {
            window.set_onpopstate(Some(on_pop.as_ref().unchecked_ref()));
        }
        on_pop.forget(); // lives as long as the page
        // A record named before the register has loaded is opened once it is there.
        Effect::new(move || {
            let Some((section, wanted)) = route.pending.get() else { return };
            let found = store.register.with(|r| find(r, section, &wanted));
            match found {
                Some((kind, id)) => {
                    route.pending.set(None);
                    route.focus.0.set(Some(Want::Open(kind, id)));
                }
                None if store.saved.with(|s| *s != shared::replica::Saved::Loading) => {
                    route.pending.set(None);
                    // What the worker reports (a part of the register unreadable, say) matters more.
                    if store.problem.with_untracked(Option::is_none) {
                        store.error.set(Some(format!("There is no {wanted} in this register.")));
                    }
                }
                None => {}
            }
        });
        route
    }

    /// Shows what the address names.
    fn follow(&self) {
        let (section, wanted) = parse(&location());
        let section = section.unwrap_or(Section::Today);
        self.section.set(section);
        match wanted {
            Some(wanted) => self.pending.set(Some((section, wanted))),
            None => {
                self.pending.set(None);
                self.focus.0.set(Some(Want::Close));
            }
        }
    }

    /// The person chose a section.
    pub fn show(&self, section: Section) {
        self.section.set(section);
        self.focus.0.set(Some(Want::Close));
        push(&path_of(section));
    }

    /// A record is to be opened in its section (from a finding, the calendar, a link).
    pub fn open(&self, kind: Kind, id: Id) {
        self.section.set(Section::of_kind(kind));
        self.opened(kind, &id);
        self.focus.0.set(Some(Want::Open(kind, id)));
    }

    /// A record's history, one click from its editor.
    pub fn history(&self, kind: Kind, id: Id) {
        self.section.set(Section::History);
        if let Some(reference) = self.store.register.with_untracked(|r| reference(r, kind, &id)) {
            push(&format!("/history/{reference}"));
        }
        self.focus.0.set(Some(Want::Open(kind, id)));
    }

    /// The person opened a record in the view they are in: the address follows.
    pub fn opened(&self, kind: Kind, id: &str) {
        let slug = Section::of_kind(kind).slug();
        match self.store.register.with_untracked(|r| reference(r, kind, id)) {
            Some(reference) => push(&format!("/{slug}/{reference}")),
            None => push(&format!("/{slug}")),
        }
    }

    /// The person closed the record they had open.
    pub fn closed(&self) {
        let (section, _) = parse(&location());
        push(&path_of(section.unwrap_or(Section::Today)));
    }
}
