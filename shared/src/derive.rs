//! Values derived from the register rather than stored in it: scores and bands, cadences and
//! the next due dates they give. Every function that depends on the day takes `today`; the
//! cadences and the band boundaries are defined here and nowhere else.

use crate::Date;
use crate::model::{
    ActionStatus, Alternative, Exercise, ExerciseKind, ExerciseStatus, Register, ReviewOutcome, Risk, Supplier,
};
use serde::Serialize;

/// A position on the 5x5 matrix: likelihood times impact, 1 to 25.
pub fn score(likelihood: u8, impact: u8) -> u8 {
    likelihood.saturating_mul(impact)
}

/// The band of a score. The only place the boundaries are written down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Band {
    Low,
    Medium,
    High,
    Critical,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Low, Band::Medium, Band::High, Band::Critical];

    pub fn of(score: u8) -> Band {
        match score {
            0..=4 => Band::Low,
            5..=9 => Band::Medium,
            10..=16 => Band::High,
            _ => Band::Critical,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::Low => "Low",
            Band::Medium => "Medium",
            Band::High => "High",
            Band::Critical => "Critical",
        }
    }

    /// How often a risk in this band is reviewed: the worse the risk, the more often.
    pub fn review_months(self) -> u32 {
        match self {
            Band::Critical => 1,
            Band::High => 3,
            Band::Medium => 6,
            Band::Low => 12,
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Supplier alternatives, plans, runbooks: reviewed at least annually.
pub const ANNUAL: u32 = 12;
/// Break-glass accounts are tested twice a year: they must work on the one day they are needed.
pub const BREAK_GLASS_TEST_MONTHS: u32 = 6;
/// How close a policy renewal has to be before it is raised.
pub const RENEWAL_WARNING_DAYS: i64 = 60;

impl Risk {
    /// A risk with a title and middling scores (likelihood 3 and impact 4 before controls,
    /// 2 and 3 after, target 6): what a new risk starts as until someone scores it.
    pub fn titled(title: impl Into<String>) -> Risk {
        Risk {
            title: title.into(),
            inherent_likelihood: 3,
            inherent_impact: 4,
            residual_likelihood: 2,
            residual_impact: 3,
            target_score: 6,
            ..Default::default()
        }
    }
    pub fn inherent_score(&self) -> u8 {
        score(self.inherent_likelihood, self.inherent_impact)
    }
    pub fn residual_score(&self) -> u8 {
        score(self.residual_likelihood, self.residual_impact)
    }
    /// A risk's band is that of its residual score: what is left after the controls.
    pub fn band(&self) -> Band {
        Band::of(self.residual_score())
    }
    pub fn inherent_band(&self) -> Band {
        Band::of(self.inherent_score())
    }
    /// A date set by hand wins; otherwise the last review plus the band's interval. A risk
    /// never reviewed has no date: it is due now.
    pub fn next_review(&self) -> Option<Date> {
        self.next_review.or_else(|| self.last_review.map(|d| d.add_months(self.band().review_months())))
    }
    pub fn review_overdue(&self, today: Date) -> bool {
        self.next_review().is_none_or(|due| due < today)
    }
    pub fn above_target(&self) -> bool {
        self.residual_score() > self.target_score
    }
}

impl Alternative {
    pub fn next_assessment(&self) -> Option<Date> {
        self.last_assessed.map(|d| d.add_months(ANNUAL))
    }
    /// Not assessed in the last twelve months (or never).
    pub fn assessment_overdue(&self, today: Date) -> bool {
        self.next_assessment().is_none_or(|due| due < today)
    }
}

impl Supplier {
    /// The most recent review of the alternatives.
    pub fn last_review(&self) -> Option<Date> {
        self.reviews.values().filter_map(|r| r.date).max()
    }
    /// The annual review of this supplier's alternatives: a year after the last one. Never
    /// reviewed: due now.
    pub fn next_review(&self) -> Option<Date> {
        self.last_review().map(|d| d.add_months(ANNUAL))
    }
    pub fn has_viable_alternative(&self) -> bool {
        self.alternatives.values().any(|a| !a.archived && a.viability == crate::model::Viability::Viable)
    }

    /// The outcome a review should record, judged from the alternatives as they stand, and
    /// why. The reviewer may choose another; this is what the form starts from.
    pub fn proposed_outcome(&self) -> (ReviewOutcome, String) {
        let current: Vec<&Alternative> = self.alternatives.values().filter(|a| !a.archived).collect();
        let named = |list: Vec<&Alternative>| list.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
        if current.is_empty() {
            return (ReviewOutcome::ActionRaised, "No alternative is on record: raise an action to find one.".into());
        }
        if !self.has_viable_alternative() {
            return (
                ReviewOutcome::ActionRaised,
                format!("No alternative is viable now ({}): raise an action to find one.", named(current)),
            );
        }
        let unassessed: Vec<&Alternative> = current.iter().copied().filter(|a| a.last_assessed.is_none()).collect();
        if !unassessed.is_empty() {
            return (ReviewOutcome::ChangesMade, format!("Added since the last review: {}.", named(unassessed)));
        }
        let viable = current.into_iter().filter(|a| a.viability == crate::model::Viability::Viable).collect();
        (ReviewOutcome::Confirmed, format!("Viable: {}.", named(viable)))
    }
}

/// How many actions were open at the end of each of the last `months` months (the current
/// month counted at `today`), oldest first, and how many actions have no date raised (those
/// are counted as open from the start). An action marked done with no closing date counts
/// as never open: nothing says when it was.
pub fn open_actions_by_month(register: &Register, today: Date, months: u32) -> (Vec<(Date, usize)>, usize) {
    use chrono::Datelike;
    let first_of_this_month = today.0.with_day(1).unwrap_or(today.0);
    let ends = (0..months).rev().map(|back| {
        if back == 0 {
            return today;
        }
        let start_of_next = first_of_this_month - chrono::Months::new(back - 1);
        Date(start_of_next - chrono::Duration::days(1))
    });
    let actions: Vec<&crate::model::Action> = register.live::<crate::model::Action>().map(|(_, a)| a).collect();
    let open_at = |end: Date| {
        actions
            .iter()
            .filter(|a| a.raised_on.is_none_or(|r| r <= end))
            .filter(|a| match (a.status, a.closed_on) {
                (ActionStatus::Done, None) => false,
                (_, Some(closed)) => closed > end,
                (_, None) => true,
            })
            .count()
    };
    let points = ends.map(|end| (end, open_at(end))).collect();
    (points, actions.iter().filter(|a| a.raised_on.is_none()).count())
}

impl ExerciseKind {
    /// Months between exercises of this kind; `None` where there is no fixed cadence.
    pub fn cadence_months(self) -> Option<u32> {
        match self {
            ExerciseKind::FullDr | ExerciseKind::Tabletop | ExerciseKind::Failover => Some(12),
            ExerciseKind::BackupValidation => Some(3),
            ExerciseKind::TechnicalDrill => Some(6),
            ExerciseKind::CustomerRequested => None,
        }
    }
}

impl Exercise {
    /// A planned exercise whose date has passed without it being recorded as held.
    pub fn overdue(&self, today: Date) -> bool {
        self.status == ExerciseStatus::Planned && self.date.is_some_and(|d| d < today)
    }
}

/// When the next exercise of a kind is due by its cadence: the last one held plus the
/// cadence, or now if none has been held. `None` for kinds with no cadence.
pub fn next_exercise_due(register: &Register, kind: ExerciseKind) -> Option<ExerciseDue> {
    let months = kind.cadence_months()?;
    let exercises = || register.live::<Exercise>().map(|(_, e)| e).filter(|e| e.kind == kind);
    let last_held = exercises().filter(|e| e.status == ExerciseStatus::Completed).filter_map(|e| e.date).max();
    let due = last_held.map(|d| d.add_months(months));
    // A planned exercise on or before the due date meets the cadence.
    let planned = exercises()
        .filter(|e| e.status == ExerciseStatus::Planned)
        .filter_map(|e| e.date)
        .filter(|d| last_held.is_none_or(|held| *d >= held))
        .min();
    Some(ExerciseDue { kind, last_held, due, planned })
}

/// Where an exercise kind stands against its cadence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExerciseDue {
    pub kind: ExerciseKind,
    pub last_held: Option<Date>,
    /// `None`: never held, so due now.
    pub due: Option<Date>,
    pub planned: Option<Date>,
}

impl ExerciseDue {
    /// Overdue when the due date has passed (or it was never held) and nothing is planned
    /// that would meet it.
    pub fn overdue(&self, today: Date) -> bool {
        let missed = self.due.is_none_or(|due| due < today);
        let covered = match (self.planned, self.due) {
            (Some(planned), Some(due)) => planned <= due && planned >= today,
            (Some(planned), None) => planned >= today,
            _ => false,
        };
        missed && !covered
    }
}

impl crate::model::Action {
    pub fn is_open(&self) -> bool {
        self.status != ActionStatus::Done
    }
    pub fn overdue(&self, today: Date) -> bool {
        self.is_open() && self.due.is_some_and(|d| d < today)
    }
}

impl crate::model::Plan {
    pub fn next_review(&self) -> Option<Date> {
        self.last_reviewed.map(|d| d.add_months(ANNUAL))
    }
}

impl crate::model::Runbook {
    pub fn next_review(&self) -> Option<Date> {
        self.last_reviewed.map(|d| d.add_months(ANNUAL))
    }
}

impl crate::model::BreakGlass {
    pub fn next_test(&self) -> Option<Date> {
        self.last_tested.map(|d| d.add_months(BREAK_GLASS_TEST_MONTHS))
    }
}

impl crate::model::Policy {
    /// Days until renewal; negative once it has passed.
    pub fn days_to_renewal(&self, today: Date) -> Option<i64> {
        self.renewal.map(|r| today.days_until(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn bands_cover_the_whole_matrix() {
        let table = [
            (1, 1, 1, Band::Low),
            (2, 2, 4, Band::Low),
            (1, 5, 5, Band::Medium),
            (3, 3, 9, Band::Medium),
            (2, 5, 10, Band::High),
            (4, 4, 16, Band::High),
            (4, 5, 20, Band::Critical),
            (5, 5, 25, Band::Critical),
        ];
        for (l, i, s, band) in table {
            assert_eq!(score(l, i), s);
            assert_eq!(Band::of(s), band, "score {s}");
        }
        // Every product on the 5x5 matrix has a band, and bands only rise with the score.
        let mut last = Band::Low;
        for s in 1..=25 {
            assert!(Band::of(s) >= last);
            last = Band::of(s);
        }
    }

    fn risk(residual: (u8, u8), last: Option<&str>, next: Option<&str>) -> Risk {
        Risk {
            residual_likelihood: residual.0,
            residual_impact: residual.1,
            last_review: last.map(d),
            next_review: next.map(d),
            target_score: 6,
            ..Default::default()
        }
    }

    #[test]
    fn risk_review_dates_follow_the_band() {
        let table = [
            // (residual, last review, set by hand, expected next review)
            ((5, 5), Some("2026-01-31"), None, Some("2026-02-28")), // critical: monthly, month end clamps
            ((5, 5), Some("2028-01-31"), None, Some("2028-02-29")), // leap year
            ((4, 4), Some("2026-11-30"), None, Some("2027-02-28")), // high: quarterly across the year end
            ((3, 3), Some("2026-08-31"), None, Some("2027-02-28")), // medium: six months
            ((1, 1), Some("2028-02-29"), None, Some("2029-02-28")), // low: annual from a leap day
            ((1, 1), Some("2026-01-01"), Some("2026-03-01"), Some("2026-03-01")), // a date set by hand wins
            ((3, 3), None, None, None),
        ];
        for (residual, last, next, expected) in table {
            assert_eq!(risk(residual, last, next).next_review(), expected.map(d), "{residual:?} {last:?}");
        }
        let r = risk((4, 4), Some("2026-08-22"), None);
        assert!(!r.review_overdue(d("2026-11-22")), "due on the day is not overdue");
        assert!(r.review_overdue(d("2026-11-23")));
        assert!(risk((1, 1), None, None).review_overdue(d("2026-11-22")), "never reviewed is due now");
        assert!(risk((3, 3), None, None).above_target());
        assert!(!risk((2, 3), None, None).above_target());
    }

    #[test]
    fn alternatives_and_supplier_reviews_are_annual() {
        let alt = Alternative { last_assessed: Some(d("2025-11-22")), ..Default::default() };
        assert_eq!(alt.next_assessment(), Some(d("2026-11-22")));
        assert!(!alt.assessment_overdue(d("2026-11-22")));
        assert!(alt.assessment_overdue(d("2026-11-23")));
        assert!(Alternative::default().assessment_overdue(d("2026-11-22")));

        let mut supplier = Supplier::default();
        assert_eq!(supplier.next_review(), None);
        for (i, date) in ["2024-02-29", "2025-03-01", "2024-12-31"].iter().enumerate() {
            supplier.reviews.insert(i.to_string(), SupplierReview { date: Some(d(date)), ..Default::default() });
        }
        assert_eq!(supplier.last_review(), Some(d("2025-03-01")));
        assert_eq!(supplier.next_review(), Some(d("2026-03-01")));
    }

    fn exercise(kind: ExerciseKind, status: ExerciseStatus, date: &str) -> Exercise {
        Exercise { kind, status, date: Some(d(date)), title: "x".into(), ..Default::default() }
    }

    #[test]
    fn exercise_cadences() {
        let table = [
            (ExerciseKind::FullDr, "2025-12-31", "2026-12-31"),
            (ExerciseKind::Tabletop, "2024-02-29", "2025-02-28"),
            (ExerciseKind::Failover, "2026-01-15", "2027-01-15"),
            (ExerciseKind::BackupValidation, "2026-11-30", "2027-02-28"),
            (ExerciseKind::TechnicalDrill, "2026-08-31", "2027-02-28"),
        ];
        for (kind, held, due) in table {
            let mut register = Register::default();
            register.exercises.insert("e".into(), exercise(kind, ExerciseStatus::Completed, held));
            let next = next_exercise_due(&register, kind).unwrap();
            assert_eq!(next.due, Some(d(due)), "{kind:?}");
            assert!(!next.overdue(d(due)));
            assert!(next.overdue(d(due).add_days(1)));
        }
        assert_eq!(next_exercise_due(&Register::default(), ExerciseKind::CustomerRequested), None);
        let never = next_exercise_due(&Register::default(), ExerciseKind::FullDr).unwrap();
        assert!(never.overdue(d("2026-11-22")));

        // A planned exercise by the due date meets the cadence until its own date passes.
        let mut register = Register::default();
        register.exercises.insert("a".into(), exercise(ExerciseKind::FullDr, ExerciseStatus::Completed, "2025-11-01"));
        register.exercises.insert("b".into(), exercise(ExerciseKind::FullDr, ExerciseStatus::Planned, "2026-10-20"));
        let next = next_exercise_due(&register, ExerciseKind::FullDr).unwrap();
        assert!(!next.overdue(d("2026-10-20")));
        assert!(register.exercises["b"].overdue(d("2026-10-21")));
        assert!(!register.exercises["a"].overdue(d("2026-10-21")), "a held exercise is never overdue");
    }

    #[test]
    fn actions_policies_plans_runbooks_break_glass() {
        let action = |status, due: &str| Action { status, due: Some(d(due)), ..Default::default() };
        assert!(action(ActionStatus::Open, "2026-11-21").overdue(d("2026-11-22")));
        assert!(!action(ActionStatus::Open, "2026-11-22").overdue(d("2026-11-22")));
        assert!(!action(ActionStatus::Done, "2020-01-01").overdue(d("2026-11-22")));
        assert!(!Action::default().overdue(d("2026-11-22")), "no due date, never overdue");

        let policy = Policy { renewal: Some(d("2027-01-21")), ..Default::default() };
        assert_eq!(policy.days_to_renewal(d("2026-11-22")), Some(60));
        assert_eq!(policy.days_to_renewal(d("2027-01-22")), Some(-1));
        let leap = Policy { renewal: Some(d("2028-03-01")), ..Default::default() };
        assert_eq!(leap.days_to_renewal(d("2028-02-28")), Some(2));

        let plan = Plan { last_reviewed: Some(d("2028-02-29")), ..Default::default() };
        assert_eq!(plan.next_review(), Some(d("2029-02-28")));
        let runbook = Runbook { last_reviewed: Some(d("2026-12-31")), ..Default::default() };
        assert_eq!(runbook.next_review(), Some(d("2027-12-31")));
        let bg = BreakGlass { last_tested: Some(d("2026-08-31")), ..Default::default() };
        assert_eq!(bg.next_test(), Some(d("2027-02-28")));
    }

    #[test]
    fn a_review_proposes_its_outcome_from_the_alternatives() {
        let alternative = |name: &str, viability, assessed: Option<&str>| Alternative {
            name: name.into(),
            viability,
            last_assessed: assessed.map(d),
            ..Default::default()
        };
        let with = |list: Vec<Alternative>| Supplier {
            alternatives: list.into_iter().enumerate().map(|(i, a)| (i.to_string(), a)).collect(),
            ..Default::default()
        };
        assert_eq!(with(vec![]).proposed_outcome().0, ReviewOutcome::ActionRaised);
        let (outcome, why) =
            with(vec![alternative("Bank B", Viability::PartlyViable, Some("2026-01-01"))]).proposed_outcome();
        assert_eq!(outcome, ReviewOutcome::ActionRaised);
        assert!(why.contains("No alternative is viable now (Bank B)"), "{why}");
        let (outcome, why) = with(vec![
            alternative("Bank B", Viability::Viable, Some("2026-01-01")),
            alternative("Bank C", Viability::NotViable, None),
        ])
        .proposed_outcome();
        assert_eq!((outcome, why.as_str()), (ReviewOutcome::ChangesMade, "Added since the last review: Bank C."));
        let mut archived = alternative("Bank C", Viability::Viable, None);
        archived.archived = true;
        let (outcome, why) =
            with(vec![alternative("Bank B", Viability::Viable, Some("2026-01-01")), archived]).proposed_outcome();
        assert_eq!((outcome, why.as_str()), (ReviewOutcome::Confirmed, "Viable: Bank B."));
    }

    #[test]
    fn open_actions_are_counted_at_each_month_end() {
        let action = |raised: Option<&str>, status, closed: Option<&str>| Action {
            title: "An action".into(),
            raised_on: raised.map(d),
            status,
            closed_on: closed.map(d),
            ..Default::default()
        };
        let mut register = Register::default();
        for (i, a) in [
            action(Some("2026-09-10"), ActionStatus::Open, None),
            action(Some("2026-10-02"), ActionStatus::Done, Some("2026-11-15")),
            action(None, ActionStatus::InProgress, None),
            action(Some("2026-08-01"), ActionStatus::Done, None),
        ]
        .into_iter()
        .enumerate()
        {
            register.actions.insert(i.to_string(), a);
        }
        let (points, undated) = open_actions_by_month(&register, d("2026-12-01"), 4);
        let expected = [("2026-09-30", 2), ("2026-10-31", 3), ("2026-11-30", 2), ("2026-12-01", 2)];
        assert_eq!(points, expected.map(|(day, n)| (d(day), n)).to_vec());
        assert_eq!(undated, 1);
    }
}
