//! Values derived from the register rather than stored in it: scores and bands, cadences and
//! the next due dates they give. Every function that depends on the day takes `today`; the
//! cadences and the band boundaries are defined here and nowhere else.

use crate::Date;
use crate::model::{ActionStatus, Alternative, Exercise, ExerciseKind, ExerciseStatus, Register, Risk, Supplier};
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
