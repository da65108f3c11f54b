//! The business impact analysis: how long a disruption lasts (`Minutes`), the impact levels
//! over time, and what a service's recovery rests on (the quickest way off each supplier,
//! the last exercise that tested it). The findings built on these live in `findings`.

use crate::Date;
use crate::model::*;
use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use std::fmt;

/// A length of time in whole minutes: a recovery objective, a tolerable disruption, a time
/// achieved in an exercise. Stored as an integer; shown as "4 hours" or "1 day 6 hours".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Minutes(pub u32);

const HOUR: u32 = 60;
const DAY: u32 = 24 * HOUR;
const WEEK: u32 = 7 * DAY;

impl Minutes {
    pub const fn hours(h: u32) -> Minutes {
        Minutes(h * HOUR)
    }
    pub const fn days(d: u32) -> Minutes {
        Minutes(d * DAY)
    }

    /// Parses what people write for a length of time: "15 minutes", "4h", "1 day 6 hours",
    /// "2 weeks", "90" (minutes). Anything else is an error naming the text.
    ///
    /// Written by hand: the duration crates read their own abbreviations ("4h30m") but not
    /// the words people type here, and the display has to match what is parsed.
    pub fn parse(text: &str) -> Result<Minutes, DurationError> {
        let err = || DurationError(text.trim().to_string());
        let lower = text.trim().to_lowercase();
        if lower.is_empty() {
            return Err(err());
        }
        if let Ok(plain) = lower.parse::<u32>() {
            return Ok(Minutes(plain));
        }
        // Split "1day 6h" into numbers and words wherever one ends and the other begins.
        let mut parts: Vec<String> = Vec::new();
        for c in lower.chars() {
            let digit = c.is_ascii_digit();
            match parts.last_mut() {
                _ if c.is_whitespace() || c == ',' => parts.push(String::new()),
                Some(last) if !last.is_empty() && last.chars().all(|l| l.is_ascii_digit()) == digit => last.push(c),
                Some(last) if last.is_empty() => last.push(c),
                _ => parts.push(c.to_string()),
            }
        }
        parts.retain(|p| !p.is_empty() && p != "and");
        if parts.is_empty() || !parts.len().is_multiple_of(2) {
            return Err(err());
        }
        let mut total: u32 = 0;
        for pair in parts.chunks(2) {
            let n: u32 = pair[0].parse().map_err(|_| err())?;
            let unit = match pair[1].as_str() {
                "m" | "min" | "mins" | "minute" | "minutes" => 1,
                "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
                "d" | "day" | "days" => DAY,
                "w" | "wk" | "wks" | "week" | "weeks" => WEEK,
                _ => return Err(err()),
            };
            total = n.checked_mul(unit).and_then(|m| total.checked_add(m)).ok_or_else(err)?;
        }
        Ok(Minutes(total))
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        // Whole weeks read as weeks; otherwise days, hours and minutes, largest first.
        let mut parts = Vec::new();
        let mut rest = self.0;
        let units: &[(u32, &str, &str)] = if rest.is_multiple_of(WEEK) {
            &[(WEEK, "week", "weeks")]
        } else {
            &[(DAY, "day", "days"), (HOUR, "hour", "hours"), (1, "minute", "minutes")]
        };
        for (size, one, many) in units {
            let n = rest / size;
            rest %= size;
            if n > 0 {
                parts.push(format!("{n} {}", if n == 1 { one } else { many }));
            }
        }
        f.write_str(&parts.join(" "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a length of time: write it as, for example, 30 minutes, 4 hours or 2 days")]
pub struct DurationError(pub String);

impl Reconcile for Minutes {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.u64(u64::from(self.0))
    }
}

impl Hydrate for Minutes {
    fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
        u32::try_from(u).map(Minutes).map_err(|_| HydrateError::unexpected("a number of minutes", u.to_string()))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        u32::try_from(i).map(Minutes).map_err(|_| HydrateError::unexpected("a number of minutes", i.to_string()))
    }
}

impl crate::diff::Diff for Minutes {}

/// The points in time a business impact analysis asks "how bad is it by now?".
pub const HORIZONS: [(&str, Minutes); 5] = [
    ("1 hour", Minutes::hours(1)),
    ("4 hours", Minutes::hours(4)),
    ("1 day", Minutes::days(1)),
    ("3 days", Minutes::days(3)),
    ("1 week", Minutes::days(7)),
];

/// The four kinds of harm each horizon is scored on, 1 (negligible) to 5 (severe).
pub const AREAS: [&str; 4] = ["financial", "contractual", "regulatory", "reputational"];

/// What each level means, for the interface and the exports.
pub fn level_label(level: u8) -> &'static str {
    match level {
        1 => "1 Negligible",
        2 => "2 Minor",
        3 => "3 Moderate",
        4 => "4 Major",
        5 => "5 Severe",
        _ => "Not assessed",
    }
}

/// The level from which a disruption is treated as no longer tolerable.
pub const SEVERE: u8 = 5;

impl Impact {
    /// The levels in the order of `AREAS`; 0 is not assessed.
    pub fn levels(&self) -> [u8; 4] {
        [self.financial, self.contractual, self.regulatory, self.reputational]
    }

    pub fn level_mut(&mut self, area: usize) -> &mut u8 {
        match area {
            0 => &mut self.financial,
            1 => &mut self.contractual,
            2 => &mut self.regulatory,
            _ => &mut self.reputational,
        }
    }

    /// The worst of the four.
    pub fn worst(&self) -> u8 {
        self.levels().into_iter().max().unwrap_or(0)
    }
}

impl ImpactOverTime {
    /// The impact at each horizon, in the order of `HORIZONS`.
    pub fn at(&self) -> [&Impact; 5] {
        [&self.hour_1, &self.hours_4, &self.day_1, &self.days_3, &self.week_1]
    }

    pub fn at_mut(&mut self, horizon: usize) -> &mut Impact {
        match horizon {
            0 => &mut self.hour_1,
            1 => &mut self.hours_4,
            2 => &mut self.day_1,
            3 => &mut self.days_3,
            _ => &mut self.week_1,
        }
    }

    /// The first horizon at which any kind of harm reaches `level`.
    pub fn first_reaching(&self, level: u8) -> Option<(&'static str, Minutes)> {
        self.at().iter().zip(HORIZONS).find(|(impact, _)| impact.worst() >= level).map(|(_, h)| h)
    }

    /// Where a kind of harm is scored lower at a later horizon than an earlier one (harm from
    /// a disruption does not shrink as it goes on): the area, and the two horizons.
    pub fn falls(&self) -> Option<(&'static str, &'static str, u8, &'static str, u8)> {
        let at = self.at();
        for (area, name) in AREAS.iter().enumerate() {
            let mut highest: Option<(usize, u8)> = None;
            for (h, impact) in at.iter().enumerate() {
                let level = impact.levels()[area];
                if level == 0 {
                    continue;
                }
                match highest {
                    Some((was, before)) if level < before => {
                        return Some((name, HORIZONS[was].0, before, HORIZONS[h].0, level));
                    }
                    Some((_, before)) if level == before => {}
                    _ => highest = Some((h, level)),
                }
            }
        }
        None
    }
}

/// A level outside 0-5 that a person typed.
pub fn check_levels(impact: &ImpactOverTime) -> Result<(), crate::Invalid> {
    for (impact, (horizon, _)) in impact.at().iter().zip(HORIZONS) {
        for (level, area) in impact.levels().into_iter().zip(AREAS) {
            if level > 5 {
                return Err(crate::Invalid(format!("The {area} impact at {horizon} must be from 1 to 5, not {level}")));
            }
        }
    }
    Ok(())
}

/// The quickest switch to a viable alternative to a supplier, with the alternative's name;
/// `None` when it has no viable alternative (partly viable ones do not count: a service
/// cannot count on them to recover).
pub fn quickest_switch(supplier: &Supplier) -> Option<(Minutes, &str)> {
    supplier
        .alternatives
        .values()
        .filter(|a| !a.archived && a.viability == Viability::Viable)
        .map(|a| (Minutes(a.switch_over_days.saturating_mul(DAY)), a.name.as_str()))
        .min_by_key(|(m, _)| *m)
}

/// A length of time over its limit, when both are set: the one comparison behind every
/// recovery check (an RTO beyond the tolerable disruption, a time achieved beyond a target, a
/// service's RTO beyond what a customer was promised). Gives (value, limit).
pub fn over(value: Option<Minutes>, limit: Option<Minutes>) -> Option<(Minutes, Minutes)> {
    match (value, limit) {
        (Some(value), Some(limit)) if value > limit => Some((value, limit)),
        _ => None,
    }
}

/// How a supplier stands in the way of a service recovering within `rto`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupplierGap<'a> {
    /// It has no viable alternative at all.
    NoViable,
    /// Its quickest viable alternative takes longer to switch to than the RTO.
    TooSlow { switch: Minutes, alternative: &'a str },
}

/// Whether, and how, `supplier` keeps a service from recovering within `rto`.
pub fn supplier_gap(supplier: &Supplier, rto: Minutes) -> Option<SupplierGap<'_>> {
    match quickest_switch(supplier) {
        None => Some(SupplierGap::NoViable),
        Some((switch, alternative)) if switch > rto => Some(SupplierGap::TooSlow { switch, alternative }),
        Some(_) => None,
    }
}

/// The last completed exercise that recorded a recovery of `service`: its id, date and
/// what it achieved.
pub fn last_tested<'a>(register: &'a Register, service: &str) -> Option<(&'a Id, Date, &'a Recovery)> {
    register
        .live::<Exercise>()
        .filter(|(_, e)| e.status == ExerciseStatus::Completed)
        .filter_map(|(id, e)| Some((id, e.date?, e.tested.get(service)?)))
        .max_by_key(|(id, date, _)| (*date, (*id).clone()))
}

/// The customers whose agreement relies on `service`.
pub fn customers_of<'a>(register: &'a Register, service: &'a str) -> impl Iterator<Item = (&'a Id, &'a Customer)> {
    register.live::<Customer>().filter(move |(_, c)| c.services.contains(service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_time_are_read_as_people_write_them() {
        let cases: &[(&str, Option<u32>)] = &[
            ("15 minutes", Some(15)),
            ("4h", Some(240)),
            ("4 hours", Some(240)),
            ("1 day 6 hours", Some(1_800)),
            ("1day, 6h and 30 min", Some(1_830)),
            ("2 weeks", Some(20_160)),
            ("90", Some(90)),
            ("0", Some(0)),
            ("", None),
            ("soon", None),
            ("4 fortnights", None),
            ("hours 4", None),
            ("-4 hours", None),
            ("99999999 weeks", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Minutes::parse(text).ok().map(|m| m.0), *expected, "{text:?}");
        }
        assert!(Minutes::parse("soon").unwrap_err().to_string().contains("\"soon\" is not a length of time"));
    }

    #[test]
    fn lengths_of_time_are_shown_in_words_and_read_back() {
        let cases = [
            (15, "15 minutes"),
            (60, "1 hour"),
            (90, "1 hour 30 minutes"),
            (240, "4 hours"),
            (1_440, "1 day"),
            (1_800, "1 day 6 hours"),
            (4_320, "3 days"),
            (10_080, "1 week"),
            (20_160, "2 weeks"),
            (11_520, "8 days"),
            (0, "none"),
        ];
        for (minutes, shown) in cases {
            assert_eq!(Minutes(minutes).to_string(), shown);
            if minutes > 0 {
                assert_eq!(Minutes::parse(shown), Ok(Minutes(minutes)), "{shown} reads back");
            }
        }
    }

    fn impact(levels: [[u8; 4]; 5]) -> ImpactOverTime {
        let mut out = ImpactOverTime::default();
        for (h, row) in levels.iter().enumerate() {
            for (a, level) in row.iter().enumerate() {
                *out.at_mut(h).level_mut(a) = *level;
            }
        }
        out
    }

    #[test]
    fn impact_over_time_finds_the_first_severe_horizon_and_any_fall() {
        let rising = impact([[1, 1, 0, 1], [2, 2, 1, 2], [3, 4, 3, 3], [4, 5, 4, 4], [5, 5, 5, 5]]);
        assert_eq!(rising.first_reaching(SEVERE), Some(("3 days", Minutes::days(3))));
        assert_eq!(rising.first_reaching(4), Some(("1 day", Minutes::days(1))));
        assert_eq!(rising.falls(), None);
        // Not assessed (0) at a horizon is not a fall.
        let gaps = impact([[2, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]]);
        assert_eq!(gaps.falls(), None);
        assert_eq!(gaps.first_reaching(SEVERE), None);
        let falling = impact([[1, 1, 1, 1], [2, 3, 1, 1], [3, 2, 1, 1], [3, 2, 1, 1], [3, 2, 1, 1]]);
        assert_eq!(falling.falls(), Some(("contractual", "4 hours", 3, "1 day", 2)));
        assert!(check_levels(&falling).is_ok());
        let wrong = impact([[6, 0, 0, 0], [0; 4], [0; 4], [0; 4], [0; 4]]);
        assert_eq!(check_levels(&wrong).unwrap_err().0, "The financial impact at 1 hour must be from 1 to 5, not 6");
    }

    #[test]
    fn only_viable_alternatives_count_towards_the_quickest_switch() {
        let alt = |name: &str, viability, days, archived| Alternative {
            name: name.into(),
            viability,
            switch_over_days: days,
            archived,
            ..Default::default()
        };
        let mut s = Supplier::default();
        assert_eq!(quickest_switch(&s), None);
        s.alternatives.insert("a".into(), alt("Partly", Viability::PartlyViable, 1, false));
        s.alternatives.insert("b".into(), alt("Archived", Viability::Viable, 1, true));
        assert_eq!(quickest_switch(&s), None, "partly viable and archived ones do not count");
        s.alternatives.insert("c".into(), alt("Slow", Viability::Viable, 10, false));
        s.alternatives.insert("d".into(), alt("Quick", Viability::Viable, 2, false));
        assert_eq!(quickest_switch(&s), Some((Minutes::days(2), "Quick")));
    }
}
