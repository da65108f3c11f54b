//! The app's document module: the only code that holds and changes the register document.
//! Views read the hydrated `Register` from a signal and ask this module for changes.

use leptos::prelude::*;
use shared::{Date, Register, RegisterDoc};

/// Today in the UK, from the browser's clock: the app reads the clock, `shared` never does.
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    // Europe/London and UTC differ by at most an hour; the browser's own zone is the user's.
    Date::ymd(now.get_full_year() as i32, now.get_month() + 1, now.get_date()).expect("the browser gives a real date")
}

/// Seconds since the Unix epoch, for the time of each edit.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The register document and the snapshot the views render.
#[derive(Clone, Copy)]
pub struct Store {
    doc: StoredValue<RegisterDoc, LocalStorage>,
    pub register: RwSignal<Register>,
    /// Why the last action failed, in words for the person who tried it.
    pub error: RwSignal<Option<String>>,
}

impl Store {
    /// Until local storage and sync arrive, every session starts from the sample register.
    pub fn sample() -> Store {
        let doc = shared::sample::sample(today(), now()).expect("the sample register builds");
        let register = doc.register().expect("the sample register reads back");
        Store { doc: StoredValue::new_local(doc), register: RwSignal::new(register), error: RwSignal::new(None) }
    }

    /// The whole document with its history, as a backup the app or another peer can load.
    pub fn save(&self) -> Vec<u8> {
        self.doc.try_update_value(|doc| doc.save()).unwrap_or_default()
    }
}
