//! Findings: what the register should bring to somebody's attention, as data. Each names its
//! record and says in plain English what is wrong; the interface lists them and links to the
//! record. A link to a record that no longer exists is a finding here and never a panic.

use crate::Date;
use crate::date::Now;
use crate::derive::{RENEWAL_WARNING_DAYS, next_exercise_due};
use crate::model::*;
use crate::refs::collisions;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// Something is wrong or missing that leaves the firm exposed.
    Error,
    /// Something is due, overdue or worth a second look.
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "Needs action",
            Severity::Warning => "Worth a look",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The kind of the record concerned.
    pub kind: Kind,
    /// The record concerned; `None` for a finding about a whole collection (an exercise
    /// kind that is overdue, for example).
    pub id: Option<Id>,
    pub message: String,
}

/// Everything the register should raise at `now`, errors first. Most findings go by the day;
/// an incident's clocks go by the minute.
pub fn findings(register: &Register, now: Now) -> Vec<Finding> {
    let today = now.today;
    let mut f = Checker::new(register);
    f.risks(today);
    f.suppliers(today);
    f.roles();
    f.people();
    f.runbooks(today);
    f.break_glass(today);
    f.exercises(today);
    f.actions(today);
    f.policies(today);
    f.plans(today);
    f.incidents(now.seconds);
    f.collisions();
    f.unreadable();
    let mut out = f.out;
    out.sort_by_key(|f| f.severity);
    out
}

/// References of every record, so that messages can name records as people know them.
struct Checker<'a> {
    register: &'a Register,
    refs: BTreeMap<Kind, BTreeMap<Id, String>>,
    out: Vec<Finding>,
}

impl<'a> Checker<'a> {
    fn new(register: &'a Register) -> Self {
        let refs = crate::refs::all_references(register);
        Checker { register, refs, out: Vec::new() }
    }

    /// "R-007 Loss of the identity provider": how a message names a record.
    fn name<R: Record>(&self, id: &str) -> String {
        let reference = self.refs[&R::KIND].get(id).map(String::as_str).unwrap_or("?");
        match R::collection(self.register).get(id) {
            Some(r) => format!("{reference} {}", r.title()),
            None => reference.to_string(),
        }
    }

    fn raise<R: Record>(&mut self, severity: Severity, id: &str, message: String) {
        self.out.push(Finding { severity, kind: R::KIND, id: Some(id.to_string()), message });
    }

    /// A link from record `from` (of kind F) to `to` (of kind T): raises it if `to` is gone
    /// or archived.
    fn link<F: Record, T: Record>(&mut self, from: &str, field: &str, to: &str) {
        match T::collection(self.register).get(to) {
            None => self.raise::<F>(
                Severity::Error,
                from,
                format!("{}: {field} points to a {} that does not exist (id {to})", self.name::<F>(from), T::LABEL),
            ),
            Some(target) if target.archived() => self.raise::<F>(
                Severity::Warning,
                from,
                format!("{}: {field} points to {}, which is archived", self.name::<F>(from), self.name::<T>(to)),
            ),
            Some(_) => {}
        }
    }

    fn links<F: Record, T: Record>(&mut self, from: &str, field: &str, to: impl IntoIterator<Item = &'a Id>) {
        for target in to {
            self.link::<F, T>(from, field, target);
        }
    }

    /// Fields another Automerge client wrote in a shape this app cannot read: each is shown
    /// empty until somebody sets it again, so the person should know it holds something else.
    fn unreadable(&mut self) {
        struct Each<'c, 'a>(&'c mut Checker<'a>);
        impl ForKind for Each<'_, '_> {
            type Output = ();
            fn run<R: Record>(self) {
                self.0.unreadable_of::<R>();
            }
        }
        for kind in Kind::ALL {
            kind.run(Each(self));
        }
        for (id, supplier) in self.register.live::<Supplier>() {
            for (field, holds) in supplier.nested_unreadable() {
                let message = format!("{}: {field} cannot be read (it holds {holds})", self.name::<Supplier>(id));
                self.raise::<Supplier>(Severity::Warning, id, message);
            }
        }
        for (id, incident) in self.register.live::<Incident>() {
            for (field, holds) in incident.nested_unreadable() {
                let message = format!("{}: {field} cannot be read (it holds {holds})", self.name::<Incident>(id));
                self.raise::<Incident>(Severity::Warning, id, message);
            }
        }
        for (path, holds) in self.register.unreadable.iter() {
            let (collection, id) = path.split_once('/').unwrap_or((path.as_str(), ""));
            let Some(kind) = Kind::of_collection(collection) else { continue };
            let message = if id.is_empty() {
                format!("The {collection} cannot be read (they hold {holds}); none are shown")
            } else {
                format!("A {} (id {id}) cannot be read and is not shown: it holds {holds}", kind.label())
            };
            self.out.push(Finding { severity: Severity::Error, kind, id: None, message });
        }
    }

    fn unreadable_of<R: Record>(&mut self) {
        let found: Vec<(Id, String, String)> = self
            .register
            .live::<R>()
            .flat_map(|(id, r)| r.unreadable().iter().map(move |(f, h)| (id.clone(), f.clone(), h.clone())))
            .collect();
        for (id, field, holds) in found {
            let message = format!(
                "{}: the {} cannot be read (it holds {holds}) and shows empty until it is set again",
                self.name::<R>(&id),
                field.replace('_', " ")
            );
            self.raise::<R>(Severity::Warning, &id, message);
        }
    }

    fn due<R: Record>(&mut self, id: &str, what: &str, due: Option<Date>, today: Date) {
        match due {
            None => {
                self.raise::<R>(Severity::Warning, id, format!("{}: {what} has never been done", self.name::<R>(id)))
            }
            Some(due) if due < today => {
                self.raise::<R>(Severity::Warning, id, format!("{}: {what} was due on {due}", self.name::<R>(id)))
            }
            Some(_) => {}
        }
    }

    fn risks(&mut self, today: Date) {
        let register = self.register;
        for (id, risk) in register.live::<Risk>() {
            self.links::<Risk, Person>(id, "the owner", &risk.owner);
            if risk.status != RiskStatus::Closed {
                self.publication::<Risk>(id, &risk.publication, today);
            }
            self.links::<Risk, Supplier>(id, "a linked supplier", risk.suppliers.iter());
            self.links::<Risk, Policy>(id, "a linked insurance policy", risk.policies.iter());
            self.links::<Risk, Action>(id, "a linked action", risk.actions.iter());
            if risk.status == RiskStatus::Closed {
                continue;
            }
            if risk.review_overdue(today) {
                self.due::<Risk>(id, "the risk review", risk.next_review(), today);
            }
            if risk.above_target() {
                self.raise::<Risk>(
                    Severity::Warning,
                    id,
                    format!(
                        "{}: residual score {} ({}) is above its target of {}",
                        self.name::<Risk>(id),
                        risk.residual_score(),
                        risk.band(),
                        risk.target_score
                    ),
                );
            }
            let insured = risk.policies.iter().any(|p| register.policies.get(p).is_some_and(|p| !p.archived));
            if risk.treatment == Treatment::Transfer && !insured {
                self.raise::<Risk>(
                    Severity::Error,
                    id,
                    format!("{}: treated by transfer, but no insurance policy is linked", self.name::<Risk>(id)),
                );
            }
        }
    }

    fn suppliers(&mut self, today: Date) {
        for (id, supplier) in self.register.live::<Supplier>() {
            self.links::<Supplier, Person>(id, "the contract owner", &supplier.contract_owner);
            if supplier.criticality == Criticality::Critical && !supplier.has_viable_alternative() {
                self.raise::<Supplier>(
                    Severity::Error,
                    id,
                    format!("{}: a critical supplier with no viable alternative", self.name::<Supplier>(id)),
                );
            }
            for alternative in supplier.alternatives.values().filter(|a| !a.archived) {
                if alternative.assessment_overdue(today) {
                    let when = match alternative.last_assessed {
                        Some(d) => format!("was last assessed on {d}"),
                        None => "has never been assessed".into(),
                    };
                    self.raise::<Supplier>(
                        Severity::Warning,
                        id,
                        format!(
                            "{}: the alternative {} {when}; alternatives are assessed every 12 months",
                            self.name::<Supplier>(id),
                            alternative.name
                        ),
                    );
                }
            }
            if supplier.criticality == Criticality::Critical {
                self.due::<Supplier>(id, "the annual review of alternatives", supplier.next_review(), today);
            }
            for review in supplier.reviews.values() {
                self.links::<Supplier, Person>(id, "a review's reviewer", &review.reviewer);
            }
        }
    }

    fn roles(&mut self) {
        for (id, role) in self.register.live::<Role>() {
            let severity = if role.critical { Severity::Error } else { Severity::Warning };
            match &role.holder {
                None => self.raise::<Role>(severity, id, format!("{}: nobody holds this role", self.name::<Role>(id))),
                Some(holder) => self.link::<Role, Person>(id, "the holder", holder),
            }
            if role.deputies.is_empty() {
                self.raise::<Role>(
                    severity,
                    id,
                    format!("{}: no deputy, so the role has a single point of knowledge", self.name::<Role>(id)),
                );
            }
            if role.holder.as_ref().is_some_and(|h| role.deputies.contains(h)) {
                self.raise::<Role>(
                    Severity::Error,
                    id,
                    format!("{}: the holder is also named as a deputy", self.name::<Role>(id)),
                );
            }
            self.links::<Role, Person>(id, "a deputy", role.deputies.iter());
            self.links::<Role, Runbook>(id, "a runbook", role.runbooks.iter());
            self.links::<Role, BreakGlass>(id, "a break-glass account", role.break_glass.iter());
        }
    }

    /// One person holding two or more critical roles: losing them loses all of those at once.
    fn people(&mut self) {
        let mut held: BTreeMap<&Id, Vec<&Id>> = BTreeMap::new();
        for (id, role) in self.register.live::<Role>().filter(|(_, r)| r.critical) {
            if let Some(holder) = &role.holder {
                held.entry(holder).or_default().push(id);
            }
        }
        for (person, roles) in held.into_iter().filter(|(_, roles)| roles.len() >= 2) {
            if !self.register.people.contains_key(person) {
                continue; // already raised as a broken link on each role
            }
            let names: Vec<String> = roles.iter().map(|r| self.name::<Role>(r)).collect();
            self.raise::<Person>(
                Severity::Warning,
                person,
                format!(
                    "{}: sole holder of {} critical roles ({}); losing one person loses them all",
                    self.name::<Person>(person),
                    roles.len(),
                    names.join(", ")
                ),
            );
        }
    }

    fn runbooks(&mut self, today: Date) {
        for (id, runbook) in self.register.live::<Runbook>() {
            self.links::<Runbook, Person>(id, "the owner", &runbook.owner);
            self.due::<Runbook>(id, "the annual review", runbook.next_review(), today);
        }
    }

    fn break_glass(&mut self, today: Date) {
        for (id, account) in self.register.live::<BreakGlass>() {
            self.links::<BreakGlass, Person>(id, "a permitted person", account.permitted.iter());
            if account.permitted.is_empty() {
                self.raise::<BreakGlass>(
                    Severity::Error,
                    id,
                    format!("{}: nobody is permitted to use this account", self.name::<BreakGlass>(id)),
                );
            }
            self.due::<BreakGlass>(id, "the test of this account", account.next_test(), today);
        }
    }

    fn exercises(&mut self, today: Date) {
        for (id, exercise) in self.register.live::<Exercise>() {
            self.links::<Exercise, Person>(id, "the lead", &exercise.lead);
            self.links::<Exercise, Action>(id, "an action", exercise.actions.iter());
            if exercise.overdue(today) {
                let date = exercise.date.map(|d| d.to_string()).unwrap_or_default();
                self.raise::<Exercise>(
                    Severity::Warning,
                    id,
                    format!("{}: planned for {date} but not recorded as held", self.name::<Exercise>(id)),
                );
            }
        }
        for kind in ExerciseKind::ALL {
            let Some(due) = next_exercise_due(self.register, *kind) else { continue };
            if due.overdue(today) {
                let message = match due.last_held {
                    Some(held) => format!(
                        "{}: last held on {held}, due again by {}, and none is planned",
                        kind.label(),
                        due.due.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    None => format!("{}: none has been held or planned", kind.label()),
                };
                self.out.push(Finding { severity: Severity::Warning, kind: Kind::Exercise, id: None, message });
            }
        }
    }

    fn actions(&mut self, today: Date) {
        for (id, action) in self.register.live::<Action>() {
            self.links::<Action, Person>(id, "the owner", &action.owner);
            if action.overdue(today) {
                let due = action.due.map(|d| d.to_string()).unwrap_or_default();
                self.raise::<Action>(Severity::Warning, id, format!("{}: was due on {due}", self.name::<Action>(id)));
            }
            if !action.is_open() && action.closure_evidence.trim().is_empty() {
                self.raise::<Action>(
                    Severity::Warning,
                    id,
                    format!("{}: closed without evidence of closure", self.name::<Action>(id)),
                );
            }
        }
    }

    fn policies(&mut self, today: Date) {
        for (id, policy) in self.register.live::<Policy>() {
            self.links::<Policy, Person>(id, "the owner", &policy.owner);
            match (policy.renewal, policy.days_to_renewal(today)) {
                (Some(renewal), Some(days)) if days < 0 => self.raise::<Policy>(
                    Severity::Error,
                    id,
                    format!("{}: renewal was due on {renewal}; the cover may have lapsed", self.name::<Policy>(id)),
                ),
                (Some(renewal), Some(days)) if days <= RENEWAL_WARNING_DAYS => self.raise::<Policy>(
                    Severity::Warning,
                    id,
                    format!("{}: renews on {renewal}, in {days} days", self.name::<Policy>(id)),
                ),
                (None, _) => self.raise::<Policy>(
                    Severity::Warning,
                    id,
                    format!("{}: no renewal date recorded", self.name::<Policy>(id)),
                ),
                _ => {}
            }
        }
    }

    fn plans(&mut self, today: Date) {
        for (id, plan) in self.register.live::<Plan>() {
            self.links::<Plan, Person>(id, "the owner", &plan.owner);
            self.due::<Plan>(id, "the annual review", plan.next_review(), today);
            self.publication::<Plan>(id, &plan.publication, today);
        }
    }

    /// An approval for the trust centre summary that has run out: the record has dropped out
    /// of what customers read.
    fn publication<R: Record>(&mut self, id: &str, publication: &Publication, today: Date) {
        if let Some(expires) = publication.expires.filter(|_| publication.expired(today)) {
            let message = format!(
                "{}: its approval for the trust centre summary expired on {expires}, so customers no longer see it; an owner can approve it again",
                self.name::<R>(id)
            );
            self.raise::<R>(Severity::Warning, id, message);
        }
    }

    fn incidents(&mut self, now: i64) {
        use crate::incident::{ClockKind, london_time, span};
        const DAY: i64 = 24 * 3600;
        for (id, incident) in self.register.live::<Incident>() {
            let name = self.name::<Incident>(id);
            let people = incident.roles().into_iter().filter_map(|(_, p)| p.as_ref());
            self.links::<Incident, Person>(id, "a role", people);
            self.links::<Incident, Risk>(id, "a linked risk", incident.risks.iter());
            self.links::<Incident, Supplier>(id, "a linked supplier", incident.suppliers.iter());
            self.links::<Incident, Action>(id, "a linked action", incident.actions.iter());
            self.links::<Incident, Plan>(id, "the continuity plan invoked", &incident.bcdr_plan);
            if incident.is_open() && incident.commander.is_none() {
                let message = format!("{name}: no incident commander is named");
                self.raise::<Incident>(Severity::Error, id, message);
            }
            for clock in incident.clocks().into_iter().filter(|c| c.met.is_none()) {
                let Some(due) = clock.due else { continue };
                let left = due.seconds() - now;
                let message = match clock.kind {
                    ClockKind::Ico if left < 0 => {
                        format!("{name}: the ICO deadline passed {} with no notification recorded", due.describe())
                    }
                    ClockKind::Ico if left <= DAY => {
                        format!("{name}: the ICO must be told by {} ({} left)", due.describe(), span(left))
                    }
                    ClockKind::Review if left < 0 => {
                        format!("{name}: the post-incident review was due {}", due.describe())
                    }
                    ClockKind::Review => format!(
                        "{name}: closed at severity {} with no post-incident review yet (due {})",
                        incident.severity().unwrap_or_default(),
                        due.describe()
                    ),
                    ClockKind::ClosureSummary if left < 0 => {
                        format!("{name}: the closure summary to customers was due {}", due.describe())
                    }
                    _ => continue,
                };
                let severity =
                    if clock.kind == ClockKind::Review && left >= 0 { Severity::Warning } else { Severity::Error };
                self.raise::<Incident>(severity, id, message);
            }
            if incident.is_open()
                && let Some(last) = incident.last_activity()
                && now - last > DAY
            {
                let message = format!("{name}: open with nothing in its log since {}", london_time(last));
                self.raise::<Incident>(Severity::Warning, id, message);
            }
        }
    }

    fn collisions(&mut self) {
        self.collision::<Risk>();
        self.collision::<Supplier>();
        self.collision::<Person>();
        self.collision::<Role>();
        self.collision::<Runbook>();
        self.collision::<BreakGlass>();
        self.collision::<Exercise>();
        self.collision::<Action>();
        self.collision::<Policy>();
        self.collision::<Plan>();
        self.collision::<Incident>();
    }

    /// Two records given the same number offline: each is shown with a letter; say so.
    fn collision<R: Record>(&mut self) {
        let register = self.register;
        for (number, ids) in collisions::<R>(register) {
            let names: Vec<String> = ids.iter().map(|id| self.name::<R>(id)).collect();
            for id in &ids {
                self.raise::<R>(
                    Severity::Warning,
                    id,
                    format!(
                        "{}-{number:03} was given to {} records created at the same time ({}); renumber all but one",
                        R::PREFIX,
                        ids.len(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Links;
    use crate::sample::sample;

    fn today() -> Date {
        Date::parse("2026-11-22").unwrap()
    }

    fn base() -> Register {
        sample(today(), 0).unwrap().register().unwrap()
    }

    /// The findings a change to the sample adds, as (severity, collection, id, message).
    fn added(change: impl FnOnce(&mut Register)) -> Vec<Finding> {
        let before = findings(&base(), Now::noon(today()));
        let mut register = base();
        change(&mut register);
        findings(&register, Now::noon(today())).into_iter().filter(|f| !before.contains(f)).collect()
    }

    fn expect(change: impl FnOnce(&mut Register), severity: Severity, kind: Kind, id: Option<&str>, text: &str) {
        let found = added(change);
        assert!(
            found
                .iter()
                .any(|f| f.severity == severity && f.kind == kind && f.id.as_deref() == id && f.message.contains(text)),
            "expected {severity:?} {kind:?} {id:?} containing {text:?}, got {found:#?}"
        );
    }

    #[test]
    fn the_sample_has_no_errors_on_any_day() {
        for day in ["2026-11-22", "2028-02-29", "2027-01-31", "2026-12-31", "2030-06-30"] {
            let today = Date::parse(day).unwrap();
            let register = sample(today, 0).unwrap().register().unwrap();
            let errors: Vec<_> =
                findings(&register, Now::noon(today)).into_iter().filter(|f| f.severity == Severity::Error).collect();
            assert!(errors.is_empty(), "{day}: {errors:#?}");
        }
    }

    #[test]
    fn roles() {
        use Severity::*;
        expect(
            |r| r.roles.get_mut("ro-tech").unwrap().deputies.clear(),
            Error,
            Kind::Role,
            Some("ro-tech"),
            "no deputy",
        );
        expect(
            |r| r.roles.get_mut("ro-scribe").unwrap().deputies.clear(),
            Warning,
            Kind::Role,
            Some("ro-scribe"),
            "no deputy",
        );
        expect(
            |r| r.roles.get_mut("ro-tech").unwrap().deputies.push("p-tom".into()),
            Error,
            Kind::Role,
            Some("ro-tech"),
            "holder is also named as a deputy",
        );
        expect(
            |r| r.roles.get_mut("ro-tech").unwrap().holder = None,
            Error,
            Kind::Role,
            Some("ro-tech"),
            "nobody holds",
        );
        expect(
            |r| r.roles.get_mut("ro-comms").unwrap().holder = Some("p-tom".into()),
            Warning,
            Kind::Person,
            Some("p-tom"),
            "sole holder of 2 critical roles",
        );
    }

    #[test]
    fn suppliers() {
        use Severity::*;
        expect(
            |r| {
                for a in r.suppliers.get_mut("s-identity").unwrap().alternatives.values_mut() {
                    a.viability = Viability::NotViable;
                }
            },
            Error,
            Kind::Supplier,
            Some("s-identity"),
            "no viable alternative",
        );
        expect(
            |r| {
                let alt = r.suppliers.get_mut("s-source").unwrap().alternatives.get_mut("s-source-alt-1").unwrap();
                alt.last_assessed = Date::parse("2025-11-21").ok();
            },
            Warning,
            Kind::Supplier,
            Some("s-source"),
            "last assessed on 21 Nov 2025",
        );
        expect(
            |r| r.suppliers.get_mut("s-cloud").unwrap().reviews.clear(),
            Warning,
            Kind::Supplier,
            Some("s-cloud"),
            "annual review of alternatives has never been done",
        );
    }

    #[test]
    fn exercises_and_actions() {
        use Severity::*;
        expect(
            |r| r.exercises.get_mut("e-dr-next").unwrap().date = Date::parse("2026-11-21").ok(),
            Warning,
            Kind::Exercise,
            Some("e-dr-next"),
            "planned for 21 Nov 2026 but not recorded as held",
        );
        expect(
            |r| r.exercises.remove("e-backup").map(|_| ()).unwrap(),
            Warning,
            Kind::Exercise,
            None,
            "Backup validation",
        );
        expect(
            |r| r.actions.get_mut("a-mirror").unwrap().due = Date::parse("2026-11-01").ok(),
            Warning,
            Kind::Action,
            Some("a-mirror"),
            "was due on 1 Nov 2026",
        );
        expect(
            |r| r.actions.get_mut("a-contact-tree").unwrap().closure_evidence.clear(),
            Warning,
            Kind::Action,
            Some("a-contact-tree"),
            "without evidence",
        );
    }

    #[test]
    fn risks() {
        use Severity::*;
        expect(
            |r| r.risks.get_mut("r-region").unwrap().last_review = Date::parse("2026-05-01").ok(),
            Warning,
            Kind::Risk,
            Some("r-region"),
            "risk review was due on 1 Nov 2026",
        );
        expect(
            |r| r.risks.get_mut("r-region").unwrap().residual_impact = 5,
            Warning,
            Kind::Risk,
            Some("r-region"),
            "residual score 10 (High) is above its target of 8",
        );
        expect(
            |r| r.risks.get_mut("r-destructive").unwrap().policies = Links::default(),
            Error,
            Kind::Risk,
            Some("r-destructive"),
            "treated by transfer, but no insurance policy",
        );
        // An archived policy does not cover a transfer either.
        expect(
            |r| r.policies.get_mut("i-cyber").unwrap().archived = true,
            Error,
            Kind::Risk,
            Some("r-destructive"),
            "no insurance policy",
        );
    }

    #[test]
    fn policies() {
        use Severity::*;
        expect(
            |r| r.policies.get_mut("i-bi").unwrap().renewal = Date::parse("2027-01-21").ok(),
            Warning,
            Kind::Policy,
            Some("i-bi"),
            "renews on 21 Jan 2027, in 60 days",
        );
        expect(
            |r| r.policies.get_mut("i-bi").unwrap().renewal = Date::parse("2026-11-21").ok(),
            Error,
            Kind::Policy,
            Some("i-bi"),
            "may have lapsed",
        );
        let quiet = added(|r| r.policies.get_mut("i-bi").unwrap().renewal = Date::parse("2027-01-22").ok());
        assert!(quiet.is_empty(), "61 days away is not raised: {quiet:?}");
    }

    #[test]
    fn broken_and_archived_links_are_findings_not_panics() {
        use Severity::*;
        expect(
            |r| r.actions.remove("a-mirror").map(|_| ()).unwrap(),
            Error,
            Kind::Risk,
            Some("r-supplier"),
            "does not exist",
        );
        expect(
            |r| r.actions.remove("a-mirror").map(|_| ()).unwrap(),
            Error,
            Kind::Exercise,
            Some("e-drill"),
            "does not exist",
        );
        expect(
            |r| r.people.remove("p-hannah").map(|_| ()).unwrap(),
            Error,
            Kind::Role,
            Some("ro-tech"),
            "a deputy points to",
        );
        expect(|r| r.runbooks.remove("rb-notify").map(|_| ()).unwrap(), Error, Kind::Role, Some("ro-comms"), "runbook");
        expect(
            |r| r.suppliers.get_mut("s-cloud").unwrap().archived = true,
            Warning,
            Kind::Risk,
            Some("r-region"),
            "archived",
        );
        expect(
            |r| r.break_glass.get_mut("bg-source").unwrap().permitted = Links::default(),
            Error,
            Kind::BreakGlass,
            Some("bg-source"),
            "nobody is permitted",
        );
    }

    #[test]
    fn reference_collisions() {
        expect(
            |r| {
                let mut copy = r.risks["r-region"].clone();
                copy.title = "Made offline at the same moment".into();
                r.risks.insert("r-zzz".into(), copy);
            },
            Severity::Warning,
            Kind::Risk,
            Some("r-zzz"),
            "R-001 was given to 2 records",
        );
    }
}
