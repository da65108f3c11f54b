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
    fn shown_without_leading_zero() {
        assert_eq!(Date::ymd(2026, 3, 5).unwrap().to_string(), "5 Mar 2026");
    }
}
