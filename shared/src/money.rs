//! Money in whole pence (GBP). Never a float: stored as an integer, shown as "£1,250.00".

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Pence(pub i64);

impl Pence {
    pub fn pounds(pounds: i64) -> Pence {
        Pence(pounds * 100)
    }

    /// Parses "1250", "1,250.5", "£1,250.50"; anything else is an error naming the text.
    pub fn parse(text: &str) -> Result<Pence, MoneyError> {
        let err = || MoneyError(text.to_string());
        let cleaned: String = text.trim().trim_start_matches('£').chars().filter(|c| *c != ',').collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, cleaned),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits.as_str(), ""),
        };
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 2
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(err());
        }
        let whole: i64 = whole.parse().map_err(|_| err())?;
        let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| err())? };
        let total = whole.checked_mul(100).and_then(|p| p.checked_add(frac)).ok_or_else(err)?;
        Ok(Pence(if negative { -total } else { total }))
    }
}

impl fmt::Display for Pence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let pounds = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in pounds.chars().enumerate() {
            if i > 0 && (pounds.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}£{grouped}.{:02}", abs % 100)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an amount of money: write pounds and pence, for example 1250.00")]
pub struct MoneyError(pub String);

impl Reconcile for Pence {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.i64(self.0)
    }
}

impl Hydrate for Pence {
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(Pence(i))
    }
    fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
        i64::try_from(u).map(Pence).map_err(|_| HydrateError::unexpected("an amount in pence", u.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<i64, ()>) {
        assert_eq!(Pence::parse(input).map(|p| p.0).map_err(|_| ()), expected, "{input}");
    }

    #[test]
    fn parses_pounds_and_pence() {
        check("1250", Ok(125_000));
        check("£1,250.5", Ok(125_050));
        check("0.07", Ok(7));
        check("-3.10", Ok(-310));
        check("12.345", Err(()));
        check("ten", Err(()));
        check("", Err(()));
        check("1e3", Err(()));
    }

    #[test]
    fn shows_grouped_pounds() {
        assert_eq!(Pence(125_050).to_string(), "£1,250.50");
        assert_eq!(Pence(7).to_string(), "£0.07");
        assert_eq!(Pence(-100_000_000).to_string(), "-£1,000,000.00");
        assert_eq!(Pence::pounds(5_000_000).to_string(), "£5,000,000.00");
    }
}
