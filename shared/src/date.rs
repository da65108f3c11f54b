//! Calendar dates as the register stores and shows them: ISO 8601 in the document, "22 Nov 2026" on screen.
//! Dates are UK calendar dates; the one time zone conversion is in `RegisterDoc::as_of`.

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{Datelike, Months, NaiveDate};
use std::fmt;

/// A calendar date. Stored in the document as the string `YYYY-MM-DD` so that any peer
/// (including a JavaScript one) can read it without knowing our types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

impl Date {
    /// Builds a date, or `None` where the day does not exist (31 Feb).
    pub fn ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date)
    }

    /// Parses `YYYY-MM-DD`; the error names the text that was wrong.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map(Date).map_err(|_| DateError(text.to_string()))
    }

    /// A date as a person types it in the UK, whatever the browser's locale: 22/11/2026,
    /// 22-11-2026, 22.11.2026, 22 Nov 2026, 22 November 2026, or 2026-11-22. Hand-written
    /// rather than trying chrono's formats in turn, because chrono can only say the whole
    /// text failed, and the person needs to know which part was wrong.
    pub fn entered(text: &str) -> Result<Date, EnteredDateError> {
        use EnteredDateError::*;
        let parts: Vec<&str> = text.split(['/', '-', '.', ' ', ',']).filter(|p| !p.is_empty()).collect();
        let [a, b, c] = parts[..] else { return Err(NotADate(text.trim().to_string())) };
        let number = |p: &str| p.chars().all(|c| c.is_ascii_digit()).then(|| p.parse::<u32>().ok()).flatten();
        let (day, month, year) = if a.len() == 4 && number(a).is_some() { (c, b, a) } else { (a, b, c) };
        let month = match number(month) {
            Some(m) => m,
            None => month_named(month).ok_or_else(|| NoSuchMonth(month.to_string()))?,
        };
        let (Some(day), Some(year_number)) = (number(day), number(year)) else {
            return Err(NotADate(text.trim().to_string()));
        };
        if year.len() != 4 {
            return Err(ShortYear(year.to_string()));
        }
        if !(1..=12).contains(&month) {
            return Err(NoSuchMonth(month.to_string()));
        }
        let year = year_number as i32;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(OutOfRange(year));
        }
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| NotADate(text.trim().to_string()))?;
        Date::ymd(year, month, day).ok_or_else(|| NoSuchDay { day, month: first.format("%B %Y").to_string() })
    }

    /// The ISO form stored in the document and used in exports.
    pub fn iso(&self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }

    /// Adds calendar months; a day that does not exist in the target month becomes that
    /// month's last day (29 Feb 2028 + 12 months = 28 Feb 2029).
    pub fn add_months(self, months: u32) -> Date {
        Date(self.0.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX))
    }

    pub fn add_days(self, days: i64) -> Date {
        Date(self.0 + chrono::Duration::days(days))
    }

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: Date) -> i64 {
        (other.0 - self.0).num_days()
    }

    pub fn year(&self) -> i32 {
        self.0.year()
    }
}

/// Shown as "22 Nov 2026", the house style for every date in the interface.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%-d %b %Y"))
    }
}

/// The years a register's dates may fall in: anything else is a typing slip (0026 for 2026).
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2099;

fn month_named(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let name = name.to_lowercase();
    if name.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(&name) || (name == "sept" && *m == "september")).map(|i| i as u32 + 1)
}

/// Why a typed date was not taken, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnteredDateError {
    #[error("\"{0}\" is not a date: write it as day, month and year, for example 22/11/2026 or 22 Nov 2026")]
    NotADate(String),
    #[error("\"{0}\" is not a month: use 1 to 12 or a month's name")]
    NoSuchMonth(String),
    #[error("there is no day {day} in {month}")]
    NoSuchDay { day: u32, month: String },
    #[error("write the year in full, for example 2026, not {0}")]
    ShortYear(String),
    #[error("the year must be from 2000 to 2099, not {0}")]
    OutOfRange(i32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a date: write it as YYYY-MM-DD, for example 2026-11-22")]
pub struct DateError(pub String);

impl Reconcile for Date {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.iso())
    }
}

impl Hydrate for Date {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        Date::parse(s).map_err(|e| HydrateError::unexpected("a date as YYYY-MM-DD", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: (i32, u32, u32), months: u32, expected: &str) {
        let d = Date::ymd(input.0, input.1, input.2).unwrap();
        assert_eq!(d.add_months(months).to_string(), expected, "{d} + {months} months");
    }

    #[test]
    fn adding_months_clamps_to_month_end() {
        check((2028, 2, 29), 12, "28 Feb 2029");
        check((2027, 1, 31), 1, "28 Feb 2027");
        check((2028, 1, 31), 1, "29 Feb 2028");
        check((2026, 11, 22), 12, "22 Nov 2027");
        check((2026, 8, 31), 3, "30 Nov 2026");
        check((2026, 12, 31), 6, "30 Jun 2027");
    }

    #[test]
    fn parse_rejects_with_a_clear_message() {
        assert_eq!(Date::parse("2026-11-22").unwrap().to_string(), "22 Nov 2026");
        let err = Date::parse("22/11/2026").unwrap_err();
        assert!(err.to_string().contains("22/11/2026"));
        assert!(Date::parse("2026-02-30").is_err());
    }

    #[test]
    fn dates_are_entered_the_uk_way_and_slips_are_named() {
        let day = Date::ymd(2026, 11, 22).unwrap();
        for text in [
            "22/11/2026",
            "22-11-2026",
            "22.11.2026",
            "22 Nov 2026",
            "22 november 2026",
            "2026-11-22",
            " 22 / 11 / 2026 ",
        ] {
            assert_eq!(Date::entered(text), Ok(day), "{text}");
        }
        assert_eq!(
            Date::entered("5 Sept 2026"),
            Date::ymd(2026, 9, 5).ok_or(EnteredDateError::NotADate(String::new()))
        );
        // 11/12 is the 11th of December, never November the 12th.
        assert_eq!(Date::entered("11/12/2026").unwrap().to_string(), "11 Dec 2026");
        let said = |text: &str| Date::entered(text).unwrap_err().to_string();
        assert_eq!(said("31/02/2026"), "there is no day 31 in February 2026");
        assert_eq!(said("22/13/2026"), "\"13\" is not a month: use 1 to 12 or a month's name");
        assert_eq!(said("22/11/26"), "write the year in full, for example 2026, not 26");
        assert_eq!(said("22/11/0026"), "the year must be from 2000 to 2099, not 26");
        assert_eq!(said("22/11/2202"), "the year must be from 2000 to 2099, not 2202");
        assert!(said("tomorrow").contains("for example 22/11/2026"));
        assert!(said("22 Smarch 2026").contains("is not a month"));
    }

    #[test]
    fn shown_without_leading_zero() {
        assert_eq!(Date::ymd(2026, 3, 5).unwrap().to_string(), "5 Mar 2026");
    }
}

/// The time of an event, from the shell's clock: this crate never reads one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Seconds since the Unix epoch.
    pub seconds: i64,
    /// The calendar day in the UK.
    pub today: Date,
}

impl Now {
    /// Noon in the UK on `day`: for tests and for questions asked about a day, not a moment.
    pub fn noon(day: Date) -> Now {
        let noon = day.0.and_time(chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("valid time"));
        Now { seconds: crate::incident::uk_moment(noon), today: day }
    }
}
