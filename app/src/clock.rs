//! The browser's clock, read here and nowhere else in the app (`shared` never reads one):
//! today in the UK, the time of an edit, and moments as the person's own clock shows them.
//! Both the page and the register worker use it.

use shared::Date;
use shared::replica::Now;

/// Today in the UK, from the browser's clock.
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    // Europe/London and UTC differ by at most an hour; the browser's own zone is the user's.
    Date::ymd(now.get_full_year() as i32, now.get_month() + 1, now.get_date()).expect("the browser gives a real date")
}

/// Seconds since the Unix epoch, for the time of each edit.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Milliseconds since the Unix epoch, for ordering what one person records within a second.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The moment an event reaches the replica.
pub fn moment() -> Now {
    Now { seconds: now(), today: today() }
}

/// A moment as the person's own clock shows it (British Summer Time in summer, not UTC):
/// "24 Nov 2026 14:03", or with `seconds` just "14:03:09".
pub fn local_time(at: i64, seconds: bool) -> String {
    let t = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64 * 1000.0));
    if seconds {
        return format!("{:02}:{:02}:{:02}", t.get_hours(), t.get_minutes(), t.get_seconds());
    }
    let day = Date::ymd(t.get_full_year() as i32, t.get_month() + 1, t.get_date());
    let day = day.map(|d| d.to_string()).unwrap_or_default();
    format!("{day} {:02}:{:02}", t.get_hours(), t.get_minutes())
}
