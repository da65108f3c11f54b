//! Ready people and current documents: who must take each training and when it is next due,
//! whether a response role's people have rehearsed it and its reference card is current, and
//! when a controlled document is next reviewed (a year after the last, or at once after a
//! material change). The findings built on these live in `findings`.

use crate::Date;
use crate::incident::uk_date;
use crate::model::*;
use std::collections::BTreeSet;

/// How long a scenario training or a reference card's review counts as current.
pub const CURRENT_MONTHS: u32 = 12;

impl Training {
    /// Everyone who must take it: the whole team, or the holder and deputies of its role, and
    /// anyone named.
    pub fn required<'a>(&'a self, register: &'a Register) -> BTreeSet<&'a Id> {
        let mut out: BTreeSet<&Id> = self.people.iter().collect();
        if self.everyone {
            out.extend(register.live::<Person>().map(|(id, _)| id));
        }
        if let Some(role) = self.role.as_ref().and_then(|r| register.roles.get(r)).filter(|r| !r.archived) {
            out.extend(role.holder.iter());
            out.extend(role.deputies.iter());
        }
        out.retain(|p| register.people.get(*p).is_some_and(|p| !p.archived));
        out
    }

    /// The last day `person` completed it.
    pub fn last_done(&self, person: &str) -> Option<Date> {
        self.completions.values().filter(|c| c.person.as_deref() == Some(person)).filter_map(|c| c.date).max()
    }

    /// When `person` is next due: at once if never done; after the cadence if it repeats;
    /// never again if it is taken once.
    pub fn next_due(&self, person: &str, today: Date) -> Option<Date> {
        match self.last_done(person) {
            None => Some(today),
            Some(_) if self.cadence_months == 0 => None,
            Some(done) => Some(done.add_months(self.cadence_months)),
        }
    }
}

/// Where one person who must take a training stands with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Never done: due now.
    Never,
    Done {
        last: Date,
        next: Option<Date>,
    },
    Overdue {
        last: Date,
        due: Date,
    },
}

/// Where `person`, who must take `training` (one of its `required`), stands with it.
pub fn standing(training: &Training, person: &str, today: Date) -> Standing {
    match training.last_done(person) {
        None => Standing::Never,
        Some(last) => match training.next_due(person, today) {
            Some(due) if due < today => Standing::Overdue { last, due },
            next => Standing::Done { last, next },
        },
    }
}

/// The people of a role who act in an incident: its holder and deputies.
pub fn role_people(role: &Role) -> impl Iterator<Item = &Id> {
    role.holder.iter().chain(role.deputies.iter())
}

/// The last scenario training for `role` that `person` completed.
pub fn last_scenario(register: &Register, role: &str, person: &str) -> Option<Date> {
    register
        .live::<Training>()
        .filter(|(_, t)| t.kind == TrainingKind::Scenario && t.role.as_deref() == Some(role))
        .filter_map(|(_, t)| t.last_done(person))
        .max()
}

/// The role's reference card reviewed most recently, if it has one.
pub fn reference_card<'a>(register: &'a Register, role: &Role) -> Option<(&'a Id, &'a Runbook)> {
    role.runbooks
        .iter()
        .filter_map(|id| register.runbooks.get_key_value(id))
        .filter(|(_, r)| !r.archived && r.kind == RunbookKind::ReferenceCard)
        .max_by_key(|(_, r)| r.last_reviewed)
}

/// A change in the register that makes a document's review due at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaterialChange {
    pub on: Date,
    /// What happened, in words ("S-002 Microsoft Entra ID was marked critical").
    pub what: String,
    pub kind: Kind,
    pub id: Id,
}

impl Plan {
    /// The material changes after its last review that it is reviewed on, latest first.
    pub fn material_changes(&self, register: &Register) -> Vec<MaterialChange> {
        // Only the references of the kinds a trigger reads: this runs for every document.
        use crate::refs::references;
        let since = |on: Date| self.last_reviewed.is_none_or(|r| on > r);
        let mut out = Vec::new();
        if self.review_on.critical_supplier {
            let refs = references::<Supplier>(register);
            for (id, s) in register.live::<Supplier>() {
                if s.criticality == Criticality::Critical
                    && let Some(on) = s.critical_since.filter(|d| since(*d))
                {
                    let what = format!("{} {} was marked critical", refs[id], s.name);
                    out.push(MaterialChange { on, what, kind: Kind::Supplier, id: id.clone() });
                }
            }
        }
        if self.review_on.severity_1 {
            let refs = references::<Incident>(register);
            for (id, i) in register.live::<Incident>() {
                let Some(closed) = i.closed_at().filter(|_| i.severity() == Some(1)) else { continue };
                let on = uk_date(closed);
                if since(on) {
                    let what = format!("{} {}, a severity 1 incident, closed", refs[id], i.title);
                    out.push(MaterialChange { on, what, kind: Kind::Incident, id: id.clone() });
                }
            }
        }
        if self.review_on.role_holder {
            let refs = references::<Role>(register);
            for (id, r) in register.live::<Role>().filter(|(_, r)| r.incident_response) {
                if let Some(on) = r.holder_since.filter(|d| since(*d)) {
                    let what = format!("{} {} changed hands", refs[id], r.name);
                    out.push(MaterialChange { on, what, kind: Kind::Role, id: id.clone() });
                }
            }
        }
        out.sort_by(|a, b| b.on.cmp(&a.on).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// When it is next reviewed: on the first material change since the last review, if any;
    /// otherwise 12 months after the last review (now, if it has never been reviewed).
    pub fn review_due(&self, register: &Register) -> Option<Date> {
        self.review_due_after(&self.material_changes(register))
    }

    /// `review_due` for a caller that already has the document's `material_changes`.
    pub fn review_due_after(&self, changes: &[MaterialChange]) -> Option<Date> {
        let changed = changes.iter().map(|c| c.on).min();
        match (changed, self.next_review()) {
            (Some(changed), Some(annual)) => Some(changed.min(annual)),
            (changed, annual) => changed.or(annual),
        }
    }

    /// The version history, oldest first: by date, then as recorded (the id orders entries
    /// made on one day the same way on every replica).
    pub fn history(&self) -> Vec<(&Id, &DocumentVersion)> {
        let mut out: Vec<_> = self.versions.iter().collect();
        out.sort_by(|(a, x), (b, y)| (x.date, x.at, *a).cmp(&(y.date, y.at, *b)));
        out
    }

    /// The current version: the latest in its history, or the version field of a document
    /// with no history yet.
    pub fn current_version(&self) -> &str {
        self.history().last().map(|(_, v)| v.version.as_str()).unwrap_or(&self.version)
    }
}
