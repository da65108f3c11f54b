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
    /// The other records the finding names (the customer whose agreement a service cannot
    /// meet, the supplier it cannot be switched off in time), for links beside the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub involved: Vec<(Kind, Id)>,
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
    f.services(today);
    f.customers();
    f.training(today);
    f.response_roles(today);
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
        self.out.push(Finding { severity, kind: R::KIND, id: Some(id.to_string()), message, involved: Vec::new() });
    }

    /// A finding about record `id` that names other records too.
    fn raise_with<R: Record>(&mut self, severity: Severity, id: &str, involved: Vec<(Kind, Id)>, message: String) {
        self.out.push(Finding { severity, kind: R::KIND, id: Some(id.to_string()), message, involved });
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
        self.nested_unreadable::<Supplier>(Supplier::nested_unreadable);
        self.nested_unreadable::<Incident>(Incident::nested_unreadable);
        self.nested_unreadable::<Service>(Service::nested_unreadable);
        self.nested_unreadable::<Exercise>(Exercise::nested_unreadable);
        for (path, holds) in self.register.unreadable.iter() {
            let (collection, id) = path.split_once('/').unwrap_or((path.as_str(), ""));
            let Some(kind) = Kind::of_collection(collection) else { continue };
            let message = if id.is_empty() {
                format!("The {collection} cannot be read (they hold {holds}); none are shown")
            } else {
                format!("A {} (id {id}) cannot be read and is not shown: it holds {holds}", kind.label())
            };
            self.out.push(Finding { severity: Severity::Error, kind, id: None, message, involved: Vec::new() });
        }
    }

    /// The fields inside a record's entries (a supplier's alternatives, an incident's log)
    /// that could not be read, as `nested` lists them.
    fn nested_unreadable<R: Record>(&mut self, nested: fn(&R) -> Vec<(String, String)>) {
        for (id, record) in self.register.live::<R>() {
            for (field, holds) in nested(record) {
                let message = format!("{}: {field} cannot be read (it holds {holds})", self.name::<R>(id));
                self.raise::<R>(Severity::Warning, id, message);
            }
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
            self.links::<Exercise, Service>(id, "a service it tested", exercise.tested.keys());
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
                let warning = Finding {
                    severity: Severity::Warning,
                    kind: Kind::Exercise,
                    id: None,
                    message,
                    involved: Vec::new(),
                };
                self.out.push(warning);
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
            match plan.material_changes(self.register).last() {
                Some(change) => {
                    let message =
                        format!("{}: due for review since {}, when {}", self.name::<Plan>(id), change.on, change.what);
                    self.raise_with::<Plan>(Severity::Warning, id, vec![(change.kind, change.id.clone())], message);
                }
                None => self.due::<Plan>(id, "the annual review", plan.next_review(), today),
            }
            for version in plan.versions.values() {
                self.links::<Plan, Person>(id, "a version's author", &version.author);
                self.links::<Plan, Person>(id, "a version's approver", &version.approved_by);
            }
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

    /// The business impact analysis: each service's objectives against each other, against
    /// what it depends on, and against what its last exercise achieved.
    fn services(&mut self, today: Date) {
        use crate::recovery::{SEVERE, SupplierGap, customers_of, last_tested, over, supplier_gap};
        let register = self.register;
        for (id, service) in register.live::<Service>() {
            let name = self.name::<Service>(id);
            self.links::<Service, Person>(id, "the owner", &service.owner);
            self.links::<Service, Supplier>(id, "a supplier it depends on", service.suppliers.iter());
            self.links::<Service, Role>(id, "a role it depends on", service.roles.iter());
            self.links::<Service, Plan>(id, "its recovery procedure", service.plans.iter());
            self.links::<Service, Service>(id, "a service it depends on", service.services.iter());
            if let Some((rto, mtpd)) = over(service.rto, service.mtpd) {
                let message = format!(
                    "{name}: its RTO ({rto}) is longer than the maximum tolerable period of disruption ({mtpd})"
                );
                self.raise::<Service>(Severity::Error, id, message);
            }
            if service.rto.is_none() {
                self.raise::<Service>(Severity::Warning, id, format!("{name}: no recovery time objective is set"));
            }
            if let Some((area, earlier, before, later, after)) = service.impact.falls() {
                let message = format!(
                    "{name}: the {area} impact falls from {before} at {earlier} to {after} at {later}; harm from a disruption does not shrink as it goes on"
                );
                self.raise::<Service>(Severity::Warning, id, message);
            }
            if let (Some((horizon, severe)), Some(mtpd)) = (service.impact.first_reaching(SEVERE), service.mtpd)
                && mtpd > severe
            {
                let message = format!(
                    "{name}: the impact is severe by {horizon}, but the maximum tolerable period of disruption is {mtpd}"
                );
                self.raise::<Service>(Severity::Warning, id, message);
            }
            // A service cannot recover faster than its supplier can be replaced.
            if let Some(rto) = service.rto {
                for supplier_id in service.suppliers.iter() {
                    let Some(supplier) = register.suppliers.get(supplier_id).filter(|s| !s.archived) else { continue };
                    let supplier_name = self.name::<Supplier>(supplier_id);
                    let message = match supplier_gap(supplier, rto) {
                        Some(SupplierGap::NoViable) => format!(
                            "{name}: depends on {supplier_name}, which has no viable alternative to switch to within its RTO ({rto})"
                        ),
                        Some(SupplierGap::TooSlow { switch, alternative }) => format!(
                            "{name}: depends on {supplier_name}, whose quickest viable alternative ({alternative}) takes {switch} to switch to, longer than its RTO ({rto})"
                        ),
                        None => continue,
                    };
                    self.raise_with::<Service>(
                        Severity::Error,
                        id,
                        vec![(Kind::Supplier, supplier_id.clone())],
                        message,
                    );
                }
                for other_id in service.services.iter().filter(|o| *o != id) {
                    let Some(other) = register.services.get(other_id).filter(|o| !o.archived) else { continue };
                    if let Some((other_rto, _)) = over(other.rto, Some(rto)) {
                        let message = format!(
                            "{name}: depends on {}, whose RTO ({other_rto}) is longer than its own ({rto})",
                            self.name::<Service>(other_id)
                        );
                        self.raise_with::<Service>(
                            Severity::Error,
                            id,
                            vec![(Kind::Service, other_id.clone())],
                            message,
                        );
                    }
                }
            }
            for role_id in service.roles.iter() {
                let Some(role) = register.roles.get(role_id).filter(|r| !r.archived) else { continue };
                if role.deputies.is_empty() {
                    let message = format!("{name}: depends on {}, which has no deputy", self.name::<Role>(role_id));
                    self.raise_with::<Service>(Severity::Error, id, vec![(Kind::Role, role_id.clone())], message);
                }
            }
            let customers: Vec<(&Id, &Customer)> = customers_of(register, id).collect();
            match last_tested(register, id) {
                Some((exercise, held, _)) if held.add_months(12) < today => {
                    let message = format!(
                        "{name}: no exercise has tested its recovery in the last 12 months (last: {} on {held})",
                        self.name::<Exercise>(exercise)
                    );
                    self.raise_with::<Service>(
                        Severity::Warning,
                        id,
                        vec![(Kind::Exercise, exercise.clone())],
                        message,
                    );
                }
                None => {
                    let message = format!("{name}: no exercise has tested its recovery");
                    self.raise::<Service>(Severity::Warning, id, message);
                }
                Some(_) => {}
            }
            let Some((exercise, held, achieved)) = last_tested(register, id) else { continue };
            let exercise_name = self.name::<Exercise>(exercise);
            let tested = (Kind::Exercise, exercise.clone());
            // What the last exercise achieved, against the service's own objectives and then
            // every customer's agreement that relies on it.
            let mut targets = vec![(None, service.rto, service.rpo)];
            targets.extend(customers.iter().map(|(c, customer)| (Some(*c), customer.rto, customer.rpo)));
            for (customer, rto, rpo) in targets {
                let whose = match customer {
                    Some(c) => format!("{}'s agreed", self.name::<Customer>(c)),
                    None => "its".to_string(),
                };
                let mut involved = vec![tested.clone()];
                involved.extend(customer.map(|c| (Kind::Customer, c.clone())));
                if let Some((time, rto)) = over(achieved.time, rto) {
                    let message = format!(
                        "{name}: {exercise_name} on {held} recovered it in {time}, longer than {whose} RTO ({rto})"
                    );
                    self.raise_with::<Service>(Severity::Error, id, involved.clone(), message);
                }
                if let Some((lost, rpo)) = over(achieved.data_loss, rpo) {
                    let message =
                        format!("{name}: {exercise_name} on {held} lost {lost} of data, more than {whose} RPO ({rpo})");
                    self.raise_with::<Service>(Severity::Error, id, involved, message);
                }
            }
        }
    }

    /// Each person overdue on a training they must take.
    fn training(&mut self, today: Date) {
        use crate::readiness::{Standing, standing};
        let register = self.register;
        for (id, training) in register.live::<Training>() {
            let name = self.name::<Training>(id);
            self.links::<Training, Role>(id, "the role it trains", &training.role);
            self.links::<Training, Person>(id, "a person who must take it", training.people.iter());
            for person in training.required(register) {
                let who = self.name::<Person>(person);
                let message = match standing(training, person, today) {
                    Standing::Never => format!("{who} has never completed {name}"),
                    Standing::Overdue { due, .. } => format!("{who} is overdue on {name}: it was due on {due}"),
                    _ => continue,
                };
                self.raise_with::<Person>(Severity::Warning, person, vec![(Kind::Training, id.clone())], message);
            }
        }
    }

    /// The incident response roles: their people rehearsed the role within a year, and the
    /// role's reference card is current.
    fn response_roles(&mut self, today: Date) {
        use crate::readiness::{CURRENT_MONTHS, last_scenario, reference_card, role_people};
        let register = self.register;
        for (id, role) in register.live::<Role>() {
            let name = self.name::<Role>(id);
            if role.incident_response {
                for person in role_people(role).filter(|p| register.people.contains_key(*p)) {
                    let who = self.name::<Person>(person);
                    let message = match last_scenario(register, id, person) {
                        None => format!("{who} acts in {name} but has had no scenario training for it"),
                        Some(last) if last.add_months(CURRENT_MONTHS) < today => {
                            format!("{who} acts in {name} but last had scenario training for it on {last}")
                        }
                        Some(_) => continue,
                    };
                    self.raise_with::<Role>(Severity::Warning, id, vec![(Kind::Person, person.clone())], message);
                }
            }
            if role.needs_card {
                match reference_card(register, role) {
                    None => {
                        let message =
                            format!("{name}: no reference card is linked (a runbook of the kind reference card)");
                        self.raise::<Role>(Severity::Warning, id, message);
                    }
                    Some((card, runbook))
                        if runbook.last_reviewed.is_none_or(|r| r.add_months(CURRENT_MONTHS) < today) =>
                    {
                        let when = runbook
                            .last_reviewed
                            .map(|d| format!("was last reviewed on {d}"))
                            .unwrap_or_else(|| "has never been reviewed".into());
                        let message = format!("{name}: its reference card {} {when}", self.name::<Runbook>(card));
                        self.raise_with::<Role>(Severity::Warning, id, vec![(Kind::Runbook, card.clone())], message);
                    }
                    Some(_) => {}
                }
            }
        }
    }

    /// Each customer's agreement against the objectives of the services it relies on.
    fn customers(&mut self) {
        let register = self.register;
        for (id, customer) in register.live::<Customer>() {
            let name = self.name::<Customer>(id);
            self.links::<Customer, Person>(id, "the owner", &customer.owner);
            self.links::<Customer, Service>(id, "a service it relies on", customer.services.iter());
            for service_id in customer.services.iter() {
                let Some(service) = register.services.get(service_id).filter(|s| !s.archived) else { continue };
                let service_name = self.name::<Service>(service_id);
                let involved = vec![(Kind::Service, service_id.clone())];
                if let Some((rto, agreed)) = crate::recovery::over(service.rto, customer.rto) {
                    let message =
                        format!("{name}: the agreed RTO ({agreed}) is shorter than {service_name}'s RTO ({rto})");
                    self.raise_with::<Customer>(Severity::Error, id, involved.clone(), message);
                }
                if let Some((rpo, agreed)) = crate::recovery::over(service.rpo, customer.rpo) {
                    let message =
                        format!("{name}: the agreed RPO ({agreed}) is shorter than {service_name}'s RPO ({rpo})");
                    self.raise_with::<Customer>(Severity::Error, id, involved, message);
                }
            }
        }
    }

    fn collisions(&mut self) {
        struct Each<'c, 'a>(&'c mut Checker<'a>);
        impl ForKind for Each<'_, '_> {
            type Output = ();
            fn run<R: Record>(self) {
                self.0.collision::<R>();
            }
        }
        for kind in Kind::ALL {
            kind.run(Each(self));
        }
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
    fn the_sample_has_no_errors_on_any_day_but_the_recovery_targets_it_leaves_unmet() {
        for day in ["2026-11-22", "2028-02-29", "2027-01-31", "2026-12-31", "2030-06-30"] {
            let today = Date::parse(day).unwrap();
            let register = sample(today, 0).unwrap().register().unwrap();
            let errors: Vec<_> = findings(&register, Now::noon(today))
                .into_iter()
                .filter(|f| f.severity == Severity::Error && !crate::sample::meant(f))
                .collect();
            assert!(errors.is_empty(), "{day}: {errors:#?}");
        }
    }

    #[test]
    fn the_sample_raises_every_recovery_check() {
        let found = findings(&base(), Now::noon(today()));
        let expected = [
            (
                "SV-004 Customer reporting and exports: its RTO (2 days) is longer than the maximum tolerable period of disruption (1 day)",
                vec![],
            ),
            (
                "C-001 Northwind Housing Association: the agreed RTO (4 hours) is shorter than SV-001 Customer platform's RTO (8 hours)",
                vec![(Kind::Service, "sv-platform")],
            ),
            (
                "C-003 Fenwick County Council: the agreed RPO (15 minutes) is shorter than SV-001 Customer platform's RPO (1 hour)",
                vec![(Kind::Service, "sv-platform")],
            ),
            (
                "SV-001 Customer platform: depends on S-001 Microsoft Azure, whose quickest viable alternative (Redeploy into the paired UK region from infrastructure code) takes 2 days to switch to, longer than its RTO (8 hours)",
                vec![(Kind::Supplier, "s-cloud")],
            ),
            ("SV-003 Customer support: depends on S-006", vec![(Kind::Supplier, "s-productivity")]),
            (
                "SV-003 Customer support: depends on RO-008 Support desk lead, which has no deputy",
                vec![(Kind::Role, "ro-support")],
            ),
            (
                "SV-003 Customer support: depends on SV-001 Customer platform, whose RTO (8 hours) is longer than its own (4 hours)",
                vec![(Kind::Service, "sv-platform")],
            ),
            (
                "SV-005 Payroll and supplier payments: no exercise has tested its recovery in the last 12 months",
                vec![(Kind::Exercise, "e-payroll")],
            ),
            ("SV-004 Customer reporting and exports: no exercise has tested its recovery", vec![]),
            (
                "SV-003 Customer support: E-002 Tabletop: identity provider outage during an incident on",
                vec![(Kind::Exercise, "e-tabletop")],
            ),
            (
                "longer than C-001 Northwind Housing Association's agreed RTO (4 hours)",
                vec![(Kind::Exercise, "e-dr"), (Kind::Customer, "c-northwind")],
            ),
            (
                "lost 20 minutes of data, more than C-003 Fenwick County Council's agreed RPO (15 minutes)",
                vec![(Kind::Exercise, "e-dr"), (Kind::Customer, "c-fenwick")],
            ),
        ];
        for (text, involved) in expected {
            let involved: Vec<(Kind, Id)> = involved.into_iter().map(|(k, id)| (k, id.to_string())).collect();
            assert!(
                found.iter().any(|f| f.message.contains(text) && f.involved == involved),
                "expected a finding containing {text:?} naming {involved:?}, got {:#?}",
                found.iter().filter(|f| matches!(f.kind, Kind::Service | Kind::Customer)).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn the_sample_raises_every_readiness_check() {
        let found = findings(&base(), Now::noon(today()));
        let expected = [
            "P-006 Owen Price has never completed T-001 Incident reporting at induction",
            "P-005 Gareth Lewis is overdue on T-002 Annual incident reporting refresher: it was due on",
            "P-003 Hannah Clarke acts in RO-002 Technical Lead but last had scenario training for it on",
            "P-006 Owen Price acts in RO-007 Scribe but has had no scenario training for it",
            "RO-003 Customer Communications Lead: no reference card is linked",
            "RO-002 Technical Lead: its reference card RB-007 Technical lead's reference card was last reviewed on",
            "D-002 Incident response plan: due for review since",
        ];
        for text in expected {
            assert!(
                found.iter().any(|f| f.message.contains(text)),
                "expected a finding containing {text:?}, got {:#?}",
                found
                    .iter()
                    .filter(|f| matches!(f.kind, Kind::Person | Kind::Role | Kind::Plan | Kind::Training))
                    .map(|f| &f.message)
                    .collect::<Vec<_>>()
            );
        }
    }

    /// A person, a response role they hold, a training for it and a document reviewed on its
    /// changes: each row changes one thing and names the finding it must raise, or `None`.
    #[test]
    fn readiness_checks_table() {
        let today = today();
        let day = |s: &str| Some(Date::parse(s).unwrap());
        let base = || {
            let mut r = Register::default();
            r.people.insert("p".into(), Person { name: "Pat".into(), number: 1, ..Default::default() });
            r.runbooks.insert(
                "card".into(),
                Runbook {
                    title: "IC card".into(),
                    number: 1,
                    kind: RunbookKind::ReferenceCard,
                    last_reviewed: day("2026-06-01"),
                    ..Default::default()
                },
            );
            r.roles.insert(
                "ro".into(),
                Role {
                    name: "Incident commander".into(),
                    number: 1,
                    holder: Some("p".into()),
                    deputies: vec!["p".into()],
                    runbooks: Links::of(["card"]),
                    incident_response: true,
                    needs_card: true,
                    ..Default::default()
                },
            );
            let done = |on: &str| Completion {
                person: Some("p".into()),
                date: Some(Date::parse(on).unwrap()),
                ..Default::default()
            };
            r.trainings.insert(
                "refresher".into(),
                Training {
                    title: "Refresher".into(),
                    number: 1,
                    kind: TrainingKind::Refresher,
                    cadence_months: 12,
                    everyone: true,
                    completions: [("c1".to_string(), done("2026-01-10"))].into(),
                    ..Default::default()
                },
            );
            r.trainings.insert(
                "scenario".into(),
                Training {
                    title: "IC scenario".into(),
                    number: 2,
                    kind: TrainingKind::Scenario,
                    cadence_months: 12,
                    role: Some("ro".into()),
                    completions: [("c2".to_string(), done("2026-03-01"))].into(),
                    ..Default::default()
                },
            );
            r.suppliers.insert("s".into(), Supplier { name: "Cloud".into(), number: 1, ..Default::default() });
            r.incidents.insert("i".into(), Incident { title: "Outage".into(), number: 1, ..Default::default() });
            r.plans.insert(
                "d".into(),
                Plan {
                    title: "Templates".into(),
                    number: 1,
                    last_reviewed: day("2026-05-01"),
                    review_on: ReviewTriggers {
                        critical_supplier: true,
                        severity_1: true,
                        role_holder: true,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            );
            r
        };
        let readiness = |r: &Register| -> Vec<String> {
            findings(r, Now::noon(today))
                .into_iter()
                .filter(|f| matches!(f.kind, Kind::Person | Kind::Role | Kind::Plan | Kind::Training))
                .filter(|f| !f.message.contains("points to") && !f.message.contains("holder is also named"))
                .map(|f| f.message)
                .collect()
        };
        assert_eq!(readiness(&base()), Vec::<String>::new(), "the base is ready");
        fn close_at_severity(r: &mut Register, severity: u8, closed: &str) {
            let at = crate::incident::parse_uk_input(closed).unwrap();
            let i = r.incidents.get_mut("i").unwrap();
            i.severities.insert("s1".into(), SeverityChange { to: severity, at, ..Default::default() });
            i.phases.insert("p1".into(), PhaseChange { phase: Phase::Closed, at, ..Default::default() });
        }
        type Change = fn(&mut Register);
        let rows: &[(&str, Change, Option<&str>)] = &[
            ("refresher due in the future", |r| r.trainings.get_mut("refresher").unwrap().cadence_months = 11, None),
            (
                "refresher a year and more ago",
                |r| {
                    let c = r.trainings.get_mut("refresher").unwrap().completions.get_mut("c1").unwrap();
                    c.date = Some(Date::parse("2025-11-21").unwrap());
                },
                Some("P-001 Pat is overdue on T-001 Refresher: it was due on 21 Nov 2026"),
            ),
            (
                "refresher due today is not overdue",
                |r| {
                    let c = r.trainings.get_mut("refresher").unwrap().completions.get_mut("c1").unwrap();
                    c.date = Some(Date::parse("2025-11-22").unwrap());
                },
                None,
            ),
            (
                "never done",
                |r| r.trainings.get_mut("refresher").unwrap().completions.clear(),
                Some("P-001 Pat has never completed T-001 Refresher"),
            ),
            (
                "a training taken once never falls due again",
                |r| {
                    let t = r.trainings.get_mut("refresher").unwrap();
                    t.cadence_months = 0;
                    t.completions.get_mut("c1").unwrap().date = Some(Date::parse("2019-01-01").unwrap());
                },
                None,
            ),
            ("not required of anyone", |r| r.trainings.get_mut("refresher").unwrap().everyone = false, None),
            (
                "a completion for someone else does not count",
                |r| {
                    r.people.insert("q".into(), Person { name: "Quinn".into(), number: 2, ..Default::default() });
                },
                Some("P-002 Quinn has never completed T-001 Refresher"),
            ),
            (
                "scenario training 13 months ago",
                |r| {
                    let c = r.trainings.get_mut("scenario").unwrap().completions.get_mut("c2").unwrap();
                    c.date = Some(Date::parse("2025-10-01").unwrap());
                },
                Some("P-001 Pat acts in RO-001 Incident commander but last had scenario training for it on 1 Oct 2025"),
            ),
            (
                "scenario training for another role does not count",
                |r| r.trainings.get_mut("scenario").unwrap().role = Some("other".into()),
                Some("P-001 Pat acts in RO-001 Incident commander but has had no scenario training for it"),
            ),
            (
                "a refresher is not scenario training",
                |r| r.trainings.get_mut("scenario").unwrap().kind = TrainingKind::Refresher,
                Some("has had no scenario training for it"),
            ),
            (
                "not a response role",
                |r| {
                    r.trainings.clear();
                    r.roles.get_mut("ro").unwrap().incident_response = false;
                },
                None,
            ),
            (
                "no card linked",
                |r| r.roles.get_mut("ro").unwrap().runbooks = Links::default(),
                Some("RO-001 Incident commander: no reference card is linked"),
            ),
            (
                "a runbook of another kind is no card",
                |r| r.runbooks.get_mut("card").unwrap().kind = RunbookKind::Restore,
                Some("no reference card is linked"),
            ),
            (
                "a card 13 months old",
                |r| r.runbooks.get_mut("card").unwrap().last_reviewed = Some(Date::parse("2025-10-01").unwrap()),
                Some("RO-001 Incident commander: its reference card RB-001 IC card was last reviewed on 1 Oct 2025"),
            ),
            (
                "document reviewed 13 months ago",
                |r| r.plans.get_mut("d").unwrap().last_reviewed = Some(Date::parse("2025-10-01").unwrap()),
                Some("D-001 Templates: the annual review was due on 1 Oct 2026"),
            ),
            (
                "a supplier marked critical since the review",
                |r| {
                    let s = r.suppliers.get_mut("s").unwrap();
                    s.criticality = Criticality::Critical;
                    s.critical_since = Some(Date::parse("2026-08-03").unwrap());
                    s.alternatives.insert(
                        "a".into(),
                        Alternative {
                            viability: Viability::Viable,
                            last_assessed: Some(Date::parse("2026-08-03").unwrap()),
                            ..Default::default()
                        },
                    );
                    s.reviews.insert(
                        "r".into(),
                        SupplierReview { date: Some(Date::parse("2026-08-03").unwrap()), ..Default::default() },
                    );
                },
                Some("D-001 Templates: due for review since 3 Aug 2026, when S-001 Cloud was marked critical"),
            ),
            (
                "marked critical before the review",
                |r| {
                    let s = r.suppliers.get_mut("s").unwrap();
                    s.critical_since = Some(Date::parse("2026-04-03").unwrap());
                },
                None,
            ),
            (
                "a critical supplier for a document not reviewed on it",
                |r| {
                    r.plans.get_mut("d").unwrap().review_on.critical_supplier = false;
                    r.suppliers.get_mut("s").unwrap().critical_since = Some(Date::parse("2026-08-03").unwrap());
                },
                None,
            ),
            (
                "a severity 1 incident closed since",
                |r| close_at_severity(r, 1, "2026-09-14T10:00"),
                Some(
                    "D-001 Templates: due for review since 14 Sep 2026, when INC-001 Outage, a severity 1 incident, closed",
                ),
            ),
            ("a severity 2 incident closed since", |r| close_at_severity(r, 2, "2026-09-14T10:00"), None),
            ("a severity 1 incident closed before the review", |r| close_at_severity(r, 1, "2026-04-14T10:00"), None),
            (
                "a response role changed hands",
                |r| r.roles.get_mut("ro").unwrap().holder_since = Some(Date::parse("2026-10-05").unwrap()),
                Some("D-001 Templates: due for review since 5 Oct 2026, when RO-001 Incident commander changed hands"),
            ),
        ];
        for (what, change, expected) in rows {
            let mut r = base();
            change(&mut r);
            let found = readiness(&r);
            match expected {
                Some(text) => {
                    assert!(found.iter().any(|m| m.contains(text)), "{what}: expected {text:?} in {found:#?}")
                }
                None => assert!(found.is_empty(), "{what}: expected nothing, got {found:#?}"),
            }
        }
        // A material change brings the review forward to its day; otherwise a year on.
        let mut r = base();
        assert_eq!(r.plans["d"].review_due(&r), Some(Date::parse("2027-05-01").unwrap()));
        close_at_severity(&mut r, 1, "2026-09-14T10:00");
        assert_eq!(r.plans["d"].review_due(&r), Some(Date::parse("2026-09-14").unwrap()));
    }

    /// One service with objectives, a supplier, a role and a customer: each row changes one
    /// thing and names the finding it must raise (or `None`: nothing about recovery).
    #[test]
    fn recovery_checks_table() {
        use crate::recovery::Minutes;
        let today = today();
        let base = || {
            let mut r = Register::default();
            r.people.insert("p".into(), Person { name: "Pat".into(), ..Default::default() });
            let alternative = |days, viability| Alternative {
                name: "Standby".into(),
                viability,
                switch_over_days: days,
                last_assessed: Some(today),
                ..Default::default()
            };
            r.suppliers.insert(
                "s".into(),
                Supplier {
                    name: "Hosting".into(),
                    number: 1,
                    alternatives: [("a".to_string(), alternative(1, Viability::Viable))].into(),
                    ..Default::default()
                },
            );
            r.roles.insert(
                "ro".into(),
                Role {
                    name: "Lead".into(),
                    number: 1,
                    holder: Some("p".into()),
                    deputies: vec!["p2".into()],
                    ..Default::default()
                },
            );
            r.services.insert(
                "sv".into(),
                Service {
                    name: "Platform".into(),
                    number: 1,
                    owner: Some("p".into()),
                    mtpd: Some(Minutes::days(3)),
                    rto: Some(Minutes::days(1)),
                    rpo: Some(Minutes::hours(1)),
                    suppliers: Links::of(["s"]),
                    roles: Links::of(["ro"]),
                    ..Default::default()
                },
            );
            r.customers.insert(
                "c".into(),
                Customer {
                    name: "Acme".into(),
                    number: 1,
                    rto: Some(Minutes::days(2)),
                    rpo: Some(Minutes::hours(4)),
                    services: Links::of(["sv"]),
                    ..Default::default()
                },
            );
            let achieved =
                Recovery { time: Some(Minutes::hours(6)), data_loss: Some(Minutes(30)), ..Default::default() };
            r.exercises.insert(
                "e".into(),
                Exercise {
                    title: "DR test".into(),
                    number: 1,
                    status: ExerciseStatus::Completed,
                    date: Some(today.add_days(-30)),
                    tested: [("sv".to_string(), achieved)].into(),
                    ..Default::default()
                },
            );
            r
        };
        let recovery = |r: &Register| -> Vec<String> {
            findings(r, Now::noon(today))
                .into_iter()
                .filter(|f| matches!(f.kind, Kind::Service | Kind::Customer) && !f.message.contains("points to"))
                .map(|f| f.message)
                .collect()
        };
        assert_eq!(recovery(&base()), Vec::<String>::new(), "the base meets every target");
        type Change = fn(&mut Register);
        let rows: &[(&str, Change, Option<&str>)] = &[
            (
                "RTO above MTPD",
                |r| r.services.get_mut("sv").unwrap().rto = Some(Minutes::days(4)),
                Some(
                    "SV-001 Platform: its RTO (4 days) is longer than the maximum tolerable period of disruption (3 days)",
                ),
            ),
            ("RTO equal to MTPD", |r| r.services.get_mut("sv").unwrap().mtpd = Some(Minutes::days(1)), None),
            (
                "no RTO",
                |r| r.services.get_mut("sv").unwrap().rto = None,
                Some("SV-001 Platform: no recovery time objective is set"),
            ),
            (
                "customer RTO shorter",
                |r| r.customers.get_mut("c").unwrap().rto = Some(Minutes::hours(12)),
                Some("C-001 Acme: the agreed RTO (12 hours) is shorter than SV-001 Platform's RTO (1 day)"),
            ),
            (
                "customer RPO shorter",
                |r| r.customers.get_mut("c").unwrap().rpo = Some(Minutes(15)),
                Some("C-001 Acme: the agreed RPO (15 minutes) is shorter than SV-001 Platform's RPO (1 hour)"),
            ),
            (
                "switch longer than RTO",
                |r| r.suppliers.get_mut("s").unwrap().alternatives.get_mut("a").unwrap().switch_over_days = 2,
                Some("takes 2 days to switch to, longer than its RTO (1 day)"),
            ),
            (
                "switch equal to RTO",
                |r| r.suppliers.get_mut("s").unwrap().alternatives.get_mut("a").unwrap().switch_over_days = 1,
                None,
            ),
            (
                "only a partly viable alternative",
                |r| {
                    r.suppliers.get_mut("s").unwrap().alternatives.get_mut("a").unwrap().viability =
                        Viability::PartlyViable
                },
                Some("has no viable alternative to switch to within its RTO (1 day)"),
            ),
            (
                "a role without a deputy",
                |r| r.roles.get_mut("ro").unwrap().deputies.clear(),
                Some("depends on RO-001 Lead, which has no deputy"),
            ),
            (
                "last tested 13 months ago",
                |r| r.exercises.get_mut("e").unwrap().date = Some(Date::parse("2025-10-22").unwrap()),
                Some("no exercise has tested its recovery in the last 12 months"),
            ),
            (
                "never tested",
                |r| r.exercises.get_mut("e").unwrap().tested.clear(),
                Some("SV-001 Platform: no exercise has tested its recovery"),
            ),
            (
                "a planned exercise does not count",
                |r| r.exercises.get_mut("e").unwrap().status = ExerciseStatus::Planned,
                Some("no exercise has tested its recovery"),
            ),
            (
                "achieved above the RTO",
                |r| r.exercises.get_mut("e").unwrap().tested.get_mut("sv").unwrap().time = Some(Minutes::days(2)),
                Some("recovered it in 2 days, longer than its RTO (1 day)"),
            ),
            (
                "achieved above the customer's RTO only",
                |r| r.customers.get_mut("c").unwrap().rto = Some(Minutes::days(1)),
                None,
            ),
            (
                "achieved above a customer's agreed RTO",
                |r| {
                    r.customers.get_mut("c").unwrap().rto = Some(Minutes::days(1));
                    r.services.get_mut("sv").unwrap().rto = Some(Minutes::hours(4));
                    r.suppliers.get_mut("s").unwrap().alternatives.get_mut("a").unwrap().switch_over_days = 0;
                    r.exercises.get_mut("e").unwrap().tested.get_mut("sv").unwrap().time = Some(Minutes::hours(30));
                },
                Some("recovered it in 1 day 6 hours, longer than C-001 Acme's agreed RTO (1 day)"),
            ),
            (
                "data loss above the RPO",
                |r| r.exercises.get_mut("e").unwrap().tested.get_mut("sv").unwrap().data_loss = Some(Minutes::hours(2)),
                Some("lost 2 hours of data, more than its RPO (1 hour)"),
            ),
            (
                "a dependency on a slower service",
                |r| {
                    let mut slow = r.services["sv"].clone();
                    slow.name = "Reports".into();
                    slow.number = 2;
                    slow.rto = Some(Minutes::days(2));
                    slow.mtpd = Some(Minutes::days(7));
                    slow.suppliers = Links::default();
                    r.exercises.get_mut("e").unwrap().tested.insert("sv2".into(), Recovery::default());
                    r.services.insert("sv2".into(), slow);
                    r.services.get_mut("sv").unwrap().services = Links::of(["sv2"]);
                },
                Some("SV-001 Platform: depends on SV-002 Reports, whose RTO (2 days) is longer than its own (1 day)"),
            ),
            (
                "impact that falls",
                |r| {
                    let impact = &mut r.services.get_mut("sv").unwrap().impact;
                    impact.hour_1.financial = 3;
                    impact.day_1.financial = 2;
                },
                Some("the financial impact falls from 3 at 1 hour to 2 at 1 day"),
            ),
            (
                "severe before the MTPD",
                |r| r.services.get_mut("sv").unwrap().impact.day_1.regulatory = 5,
                Some("the impact is severe by 1 day, but the maximum tolerable period of disruption is 3 days"),
            ),
            (
                "an archived service is not checked",
                |r| {
                    let s = r.services.get_mut("sv").unwrap();
                    s.archived = true;
                    s.rto = Some(Minutes::days(9));
                },
                None,
            ),
        ];
        for (what, change, expected) in rows {
            let mut r = base();
            change(&mut r);
            let found = recovery(&r);
            match expected {
                Some(text) => {
                    assert!(found.iter().any(|m| m.contains(text)), "{what}: expected {text:?} in {found:#?}")
                }
                None => assert!(found.is_empty(), "{what}: expected nothing, got {found:#?}"),
            }
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
