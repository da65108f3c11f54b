//! The sample register: a small UK software company that runs an AI platform in each
//! customer's own cloud subscription. It is what `cargo xtask run` starts with and what the
//! tests exercise. Dates are relative to `today` so the sample never goes stale; on any day
//! its only error findings are the recovery objectives it was written to leave unmet (the
//! business impact analysis at work). `generated` makes a large register for benchmarks.

use crate::doc::{DocError, RegisterDoc};
use crate::model::*;
use crate::{Date, Links, Pence};
use std::collections::BTreeMap;

/// Builds the sample register as a document, as if typed in at `now` (seconds since the epoch).
pub fn sample(today: Date, now: i64) -> Result<RegisterDoc, DocError> {
    let ago = |months: u32| Date(today.0 - chrono::Months::new(months));
    let ahead = |months: u32| today.add_months(months);
    let mut doc = RegisterDoc::new("Brightwater Software Ltd", now)?;

    let people = [
        ("p-amara", "Amara Okafor", "Director", "amara@brightwater.example"),
        ("p-tom", "Tom Hughes", "Chief Technology Officer", "tom@brightwater.example"),
        ("p-hannah", "Hannah Clarke", "Senior Platform Engineer", "hannah@brightwater.example"),
        ("p-priya", "Priya Shah", "Customer Success Manager", "priya@brightwater.example"),
        ("p-gareth", "Gareth Lewis", "Operations Manager", "gareth@brightwater.example"),
        ("p-owen", "Owen Price", "Software Engineer", "owen@brightwater.example"),
    ];
    for (id, name, title, email) in people {
        let person = Person { name: name.into(), job_title: title.into(), email: email.into(), ..Default::default() };
        doc.create(id, person, now)?;
    }
    doc.identify("p-amara", now)?;

    let runbooks = [
        ("rb-secrets", "Rotate platform secrets and keys", RunbookKind::SecretRotation, "p-hannah", 2),
        ("rb-access", "Grant and revoke emergency access", RunbookKind::EmergencyAccess, "p-tom", 4),
        ("rb-notify", "Notify affected customers", RunbookKind::CustomerNotification, "p-priya", 3),
        ("rb-restore", "Point-in-time database restore", RunbookKind::Restore, "p-hannah", 5),
        ("rb-failover", "Fail over to the secondary UK region", RunbookKind::Failover, "p-tom", 6),
    ];
    for (id, title, kind, owner, reviewed) in runbooks {
        let runbook = Runbook {
            title: title.into(),
            kind,
            owner: Some(owner.into()),
            location: "Operations wiki, Continuity section".into(),
            last_reviewed: Some(ago(reviewed)),
            ..Default::default()
        };
        doc.create(id, runbook, now)?;
    }

    let accounts = [
        ("bg-cloud", "Cloud platform tenant", "emergency-admin-1", ["p-amara", "p-tom"], 2),
        ("bg-identity", "Identity provider", "breakglass-idp", ["p-amara", "p-hannah"], 3),
        ("bg-source", "Source control organisation", "org-recovery-owner", ["p-tom", "p-hannah"], 1),
    ];
    for (id, service, account, permitted, tested) in accounts {
        let bg = BreakGlass {
            service: service.into(),
            account: account.into(),
            permitted: Links::of(permitted),
            procedure: "Access control policy, emergency access section; sealed credentials held offline".into(),
            last_tested: Some(ago(tested)),
            ..Default::default()
        };
        doc.create(id, bg, now)?;
    }

    let role = |name: &str,
                duties: &str,
                critical,
                holder: &str,
                deputies: &[&str],
                runbooks: &[&str],
                break_glass: &[&str]| Role {
        name: name.into(),
        responsibilities: duties.into(),
        critical,
        holder: Some(holder.into()),
        deputies: deputies.iter().map(|d| d.to_string()).collect(),
        runbooks: Links::of(runbooks.iter().copied()),
        break_glass: Links::of(break_glass.iter().copied()),
        ..Default::default()
    };
    let roles = [
        (
            "ro-iso",
            role(
                "Director and Information Security Officer",
                "Owns this register and the continuity plan, declares a continuity event, speaks for the firm",
                true,
                "p-amara",
                &["p-tom", "p-gareth"],
                &["rb-access"],
                &["bg-cloud", "bg-identity"],
            ),
        ),
        (
            "ro-tech",
            role(
                "Technical Lead",
                "Leads platform recovery, restores and failover; owns the exercise programme",
                true,
                "p-tom",
                &["p-hannah"],
                &["rb-restore", "rb-failover", "rb-secrets"],
                &["bg-cloud", "bg-source"],
            ),
        ),
        (
            "ro-comms",
            role(
                "Customer Communications Lead",
                "Tells affected customers what is happening and keeps them updated until closure",
                true,
                "p-priya",
                &["p-gareth"],
                &["rb-notify"],
                &[],
            ),
        ),
        (
            "ro-finance",
            role(
                "Finance and Operations",
                "Supplier continuity, alternative supply, insurance claims and renewals",
                false,
                "p-gareth",
                &["p-amara"],
                &[],
                &[],
            ),
        ),
        (
            "ro-ic",
            role(
                "Incident Commander",
                "Runs the response to an incident and decides on failover with the customer",
                true,
                "p-hannah",
                &["p-tom"],
                &["rb-failover"],
                &["bg-identity"],
            ),
        ),
        (
            "ro-legal",
            role(
                "Legal and Regulatory Lead",
                "Judges notification duties to regulators and customers",
                false,
                "p-amara",
                &["p-gareth"],
                &[],
                &[],
            ),
        ),
        (
            "ro-scribe",
            role(
                "Scribe",
                "Keeps the timed log of decisions and actions during an incident",
                false,
                "p-owen",
                &["p-priya"],
                &[],
                &[],
            ),
        ),
    ];
    for (id, role) in roles {
        doc.create(id, role, now)?;
    }

    let alternative = |name: &str, viability, days, pounds, months_ago| Alternative {
        name: name.into(),
        viability,
        switch_over_days: days,
        cost_impact: Pence::pounds(pounds),
        last_assessed: Some(ago(months_ago)),
        ..Default::default()
    };
    type Alternatives = Vec<Alternative>;
    let suppliers: [(&str, &str, &str, bool, Criticality, &str, Alternatives); 7] = [
        (
            "s-cloud",
            "Microsoft Azure",
            "Cloud platform hosting every customer deployment",
            true,
            Criticality::Critical,
            "UK South and UK West",
            vec![
                alternative(
                    "Redeploy into the paired UK region from infrastructure code",
                    Viability::Viable,
                    2,
                    4_000,
                    3,
                ),
                alternative("Move to another cloud provider", Viability::PartlyViable, 120, 85_000, 3),
            ],
        ),
        (
            "s-identity",
            "Microsoft Entra ID",
            "Staff sign-in and guest access to customer tenants",
            false,
            Criticality::Critical,
            "UK and EU",
            vec![alternative("Break-glass accounts and local administrator sign-in", Viability::Viable, 0, 0, 4)],
        ),
        (
            "s-source",
            "Hosted source control",
            "Code, infrastructure definitions and the deployment pipeline",
            false,
            Criticality::Critical,
            "EU",
            vec![
                alternative("Mirror repositories kept on a second host", Viability::Viable, 1, 1_500, 2),
                alternative("Deploy by hand from an engineer's verified clone", Viability::PartlyViable, 0, 0, 2),
            ],
        ),
        (
            "s-monitoring",
            "Azure Monitor and Log Analytics",
            "Platform monitoring, alerting and log retention",
            false,
            Criticality::Critical,
            "Customer's UK region",
            vec![alternative("External uptime checks with alerts to the on-call phone", Viability::Viable, 1, 600, 5)],
        ),
        (
            "s-models",
            "Azure OpenAI Service",
            "Language models behind the platform's agents",
            true,
            Criticality::Critical,
            "Customer's preferred region",
            vec![
                alternative("Documented fallback model deployment in a second region", Viability::Viable, 1, 2_500, 4),
                alternative("Degraded mode with agents paused and queued", Viability::PartlyViable, 0, 0, 4),
            ],
        ),
        (
            "s-productivity",
            "Office productivity suite",
            "Email, documents and team chat",
            false,
            Criticality::High,
            "UK",
            vec![alternative("Personal phones and a prepared contact tree", Viability::PartlyViable, 0, 0, 6)],
        ),
        (
            "s-finance",
            "Cloud accounting and invoicing",
            "Invoicing, payroll and the books",
            false,
            Criticality::High,
            "UK",
            vec![alternative("Export monthly to the accountant; invoice by hand", Viability::Viable, 3, 1_200, 8)],
        ),
    ];
    for (id, name, service, sub_processor, criticality, location, alternatives) in suppliers {
        let supplier = Supplier {
            name: name.into(),
            service: service.into(),
            sub_processor,
            criticality,
            data_location: location.into(),
            contract_owner: Some("p-gareth".into()),
            continuity_assessment: "Assessed under the supplier management policy; alternatives below".into(),
            alternatives: alternatives
                .into_iter()
                .enumerate()
                .map(|(i, a)| (format!("{id}-alt-{}", i + 1), a))
                .collect(),
            reviews: BTreeMap::from([(
                format!("{id}-review-1"),
                SupplierReview {
                    date: Some(ago(2)),
                    reviewer: Some("p-gareth".into()),
                    outcome: ReviewOutcome::Confirmed,
                    notes: "Alternatives still hold; contacts checked".into(),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        doc.create(id, supplier, now)?;
    }

    let policies = [
        ("i-bi", "Business interruption", PolicyKind::BusinessInterruption, "BI-2026-4471", 500_000, 5_000, 3_100, 7),
        ("i-cyber", "Cyber liability", PolicyKind::Cyber, "CY-88213-B", 2_000_000, 10_000, 6_800, 9),
    ];
    for (id, name, kind, number, cover, excess, premium, renews_in) in policies {
        let policy = Policy {
            name: name.into(),
            kind,
            insurer: "Harbour Mutual Insurance".into(),
            policy_number: number.into(),
            cover_limit: Pence::pounds(cover),
            excess: Pence::pounds(excess),
            premium: Pence::pounds(premium),
            renewal: Some(ahead(renews_in)),
            owner: Some("p-gareth".into()),
            ..Default::default()
        };
        doc.create(id, policy, now)?;
    }

    let actions = [
        (
            "a-restore-time",
            "Cut restore validation time below four hours",
            "p-hannah",
            Some(ahead(2)),
            ActionStatus::InProgress,
            "",
        ),
        ("a-mirror", "Automate the nightly repository mirror check", "p-owen", Some(ahead(1)), ActionStatus::Open, ""),
        (
            "a-contact-tree",
            "Refresh the staff contact tree",
            "p-priya",
            Some(ago(1)),
            ActionStatus::Done,
            "Tree re-issued; test call log attached to E-002",
        ),
        (
            "a-deputy-training",
            "Walk the deputy through the failover runbook",
            "p-tom",
            Some(today.add_days(-7)),
            ActionStatus::Open,
            "",
        ),
        // Raised by INC-001's review.
        (
            "a-signin-alert",
            "Alert within five minutes when staff sign-ins start failing",
            "p-hannah",
            Some(ahead(1)),
            ActionStatus::InProgress,
            "",
        ),
        (
            "a-status-wording",
            "Prepare status page wording for an identity provider outage",
            "p-priya",
            Some(ago(1)),
            ActionStatus::Done,
            "Wording approved by the director and added to the communications pack",
        ),
    ];
    for ((id, title, owner, due, status, evidence), raised) in actions.into_iter().zip([5, 3, 4, 2, 2, 2]) {
        let action = Action {
            raised_on: Some(ago(raised)),
            title: title.into(),
            owner: Some(owner.into()),
            due,
            status,
            closure_evidence: evidence.into(),
            closed_on: (status == ActionStatus::Done).then(|| ago(1)),
            ..Default::default()
        };
        doc.create(id, action, now)?;
    }

    let exercises = [
        (
            "e-dr",
            "Full DR exercise on the reference deployment",
            ExerciseKind::FullDr,
            ExerciseStatus::Completed,
            ago(5),
            "Restore of a representative database and application checks against it",
            "Restore completed; application behaved normally on restored data",
            "Validation took longer than planned",
            vec!["a-restore-time"],
        ),
        (
            "e-tabletop",
            "Tabletop: identity provider outage during an incident",
            ExerciseKind::Tabletop,
            ExerciseStatus::Completed,
            ago(4),
            "Regional outage, loss of a critical supplier and a destructive incident, jointly with incident response",
            "Deputies knew where the runbooks were",
            "Contact tree was out of date",
            vec!["a-contact-tree"],
        ),
        (
            "e-backup",
            "Quarterly backup validation",
            ExerciseKind::BackupValidation,
            ExerciseStatus::Completed,
            ago(1),
            "Backups complete, can be retrieved, and are encrypted with the customer's key",
            "All checks passed",
            "",
            vec![],
        ),
        (
            "e-failover",
            "Failover test to the secondary region",
            ExerciseKind::Failover,
            ExerciseStatus::Completed,
            ago(7),
            "Failover runbook on the reference deployment",
            "DNS and configuration changes worked as written",
            "Only one person had run it before",
            vec!["a-deputy-training"],
        ),
        (
            "e-drill",
            "Drill: forced sign-out and credential rotation",
            ExerciseKind::TechnicalDrill,
            ExerciseStatus::Completed,
            ago(2),
            "Revoke all sessions, rotate platform secrets, apply an emergency deny rule",
            "Done in 40 minutes",
            "Repository mirror was stale",
            vec!["a-mirror"],
        ),
        (
            "e-dr-next",
            "Next full DR exercise",
            ExerciseKind::FullDr,
            ExerciseStatus::Planned,
            ahead(6),
            "As last year, plus cross-region restore",
            "",
            "",
            vec![],
        ),
    ];
    for (id, title, kind, status, date, scope, well, badly, actions) in exercises {
        let exercise = Exercise {
            title: title.into(),
            kind,
            status,
            date: Some(date),
            lead: Some("p-tom".into()),
            scope: scope.into(),
            went_well: well.into(),
            went_badly: badly.into(),
            actions: Links::of(actions),
            tested: tested_in(id),
            ..Default::default()
        };
        doc.create(id, exercise, now)?;
    }

    let risk = |title: &str, scenario, owner: &str, inherent: (u8, u8), residual: (u8, u8), target, treatment| Risk {
        title: title.into(),
        category: "Operational resilience".into(),
        owner: Some(owner.into()),
        scenario: Some(scenario),
        inherent_likelihood: inherent.0,
        inherent_impact: inherent.1,
        residual_likelihood: residual.0,
        residual_impact: residual.1,
        target_score: target,
        treatment,
        last_review: Some(ago(1)),
        ..Default::default()
    };
    let risks = [
        (
            "r-region",
            Risk {
                description: "A whole cloud region serving customer deployments becomes unavailable.".into(),
                controls: "Zone-redundant services; paired-region redeploy from code for customers who opt in".into(),
                annex_a: vec!["A.5.30".into(), "A.8.14".into()],
                suppliers: Links::of(["s-cloud"]),
                actions: Links::of(["a-deputy-training"]),
                ..risk(
                    "Regional cloud outage",
                    Scenario::RegionalCloudOutage,
                    "p-tom",
                    (2, 5),
                    (2, 4),
                    8,
                    Treatment::Treat,
                )
            },
        ),
        (
            "r-service",
            Risk {
                description: "One managed service (database, key vault, language models) fails in a region.".into(),
                controls: "Retry with backoff; documented fallback model configuration; point-in-time restore".into(),
                annex_a: vec!["A.5.30".into()],
                suppliers: Links::of(["s-cloud", "s-models"]),
                direction: Direction::Improving,
                ..risk(
                    "Outage of a single cloud service",
                    Scenario::CloudServiceOutage,
                    "p-tom",
                    (3, 4),
                    (3, 3),
                    6,
                    Treatment::Treat,
                )
            },
        ),
        (
            "r-corruption",
            Risk {
                description: "Application data is corrupted by a fault or on purpose.".into(),
                controls: "Point-in-time restore for 35 days into a parallel server; soft delete on storage".into(),
                annex_a: vec!["A.8.13".into()],
                actions: Links::of(["a-restore-time"]),
                ..risk(
                    "Corruption of customer application data",
                    Scenario::DataCorruption,
                    "p-hannah",
                    (2, 5),
                    (1, 4),
                    4,
                    Treatment::Treat,
                )
            },
        ),
        (
            "r-supplier",
            Risk {
                description: "Identity, source control or monitoring is lost for days.".into(),
                controls: "Documented alternatives reviewed every year; break-glass accounts; repository mirror".into(),
                annex_a: vec!["A.5.19".into(), "A.5.23".into()],
                suppliers: Links::of(["s-identity", "s-source", "s-monitoring"]),
                actions: Links::of(["a-mirror", "a-signin-alert", "a-status-wording"]),
                ..risk(
                    "Loss of a critical supplier",
                    Scenario::SupplierLoss,
                    "p-gareth",
                    (2, 4),
                    (2, 3),
                    6,
                    Treatment::Treat,
                )
            },
        ),
        (
            "r-premises",
            Risk {
                description: "An office or home working location cannot be used.".into(),
                controls: "Distributed team on managed laptops with cloud tooling".into(),
                direction: Direction::Stable,
                ..risk("Loss of premises", Scenario::PremisesLoss, "p-gareth", (1, 2), (1, 1), 2, Treatment::Tolerate)
            },
        ),
        (
            "r-people",
            Risk {
                description: "Somebody who alone knows how to do a critical task is unavailable.".into(),
                controls: "Named deputies, runbooks for time-critical tasks, handover on role change".into(),
                annex_a: vec!["A.6.3".into()],
                actions: Links::of(["a-deputy-training"]),
                ..risk(
                    "Loss of key personnel",
                    Scenario::KeyPersonnelLoss,
                    "p-amara",
                    (3, 4),
                    (2, 3),
                    6,
                    Treatment::Treat,
                )
            },
        ),
        (
            "r-destructive",
            Risk {
                description: "An attacker destroys or encrypts data or infrastructure.".into(),
                controls:
                    "Immutable backups where required, least privilege, incident response plan; residual cost insured"
                        .into(),
                annex_a: vec!["A.5.24".into(), "A.5.26".into()],
                policies: Links::of(["i-cyber"]),
                ..risk(
                    "Destructive security incident",
                    Scenario::DestructiveIncident,
                    "p-amara",
                    (2, 5),
                    (2, 4),
                    8,
                    Treatment::Transfer,
                )
            },
        ),
        (
            "r-revenue",
            Risk {
                description: "A long outage stops invoicing and delays customer payments.".into(),
                controls: "Business interruption cover; three months of operating costs held in reserve".into(),
                policies: Links::of(["i-bi"]),
                ..risk(
                    "Prolonged loss of revenue after a disruption",
                    Scenario::SupplierLoss,
                    "p-gareth",
                    (2, 4),
                    (1, 4),
                    4,
                    Treatment::Transfer,
                )
            },
        ),
    ];
    for (id, r) in risks {
        doc.create(id, r, now)?;
    }

    let plans = [
        ("d-bcdr", "Business continuity and disaster recovery plan", "BC-PLAN-002", PlanKind::Plan, "p-amara", 7),
        ("d-irp", "Incident response plan", "IR-PLAN-001", PlanKind::Plan, "p-amara", 7),
        ("d-supplier", "Supplier management policy", "POL-007", PlanKind::Policy, "p-gareth", 5),
        ("d-access", "Access control policy", "POL-003", PlanKind::Policy, "p-tom", 4),
        ("d-register", "Risk register", "REG-001", PlanKind::Register, "p-amara", 1),
        ("d-templates", "Customer notification templates", "IR-TPL-001", PlanKind::Template, "p-priya", 5),
    ];
    for (id, title, code, kind, owner, months) in plans {
        let versions = versions_of(id, today);
        let review_on = ReviewTriggers {
            critical_supplier: matches!(id, "d-bcdr" | "d-supplier"),
            severity_1: id == "d-templates",
            role_holder: id == "d-irp",
            ..Default::default()
        };
        let plan = Plan {
            title: title.into(),
            code: code.into(),
            kind,
            owner: Some(owner.into()),
            version: "1.0".into(),
            last_reviewed: Some(ago(months)),
            versions,
            review_on,
            ..Default::default()
        };
        doc.create(id, plan, now)?;
    }
    doc.create("inc-signin", sample_incident(today), now)?;
    sample_recovery(&mut doc, today, now)?;
    sample_readiness(&mut doc, today, now)?;
    Ok(doc)
}

/// Whether a finding is one the sample was written to raise: the recovery checks, on the
/// services and customers whose targets it leaves unmet. Anything else is a mistake in it.
pub fn meant(finding: &crate::Finding) -> bool {
    matches!(finding.kind, Kind::Service | Kind::Customer)
}

/// The business impact analysis: the services the firm runs, the customers whose agreements
/// rely on them, and what the exercises achieved. Written to leave some targets unmet, so
/// the register shows each of its recovery checks at work.
fn sample_recovery(doc: &mut RegisterDoc, today: Date, now: i64) -> Result<(), DocError> {
    use crate::recovery::Minutes;
    let ago = |months: u32| Date(today.0 - chrono::Months::new(months));
    // Levels at 1 hour, 4 hours, 1 day, 3 days and 1 week: financial, contractual,
    // regulatory, reputational.
    let impact = |levels: [[u8; 4]; 5]| {
        let mut out = ImpactOverTime::default();
        for (h, row) in levels.iter().enumerate() {
            for (a, level) in row.iter().enumerate() {
                *out.at_mut(h).level_mut(a) = *level;
            }
        }
        out
    };
    let support = Role {
        name: "Support desk lead".into(),
        responsibilities: "Runs the support queue and the first reply to every customer report".into(),
        holder: Some("p-priya".into()),
        runbooks: Links::of(["rb-notify"]),
        ..Default::default()
    };
    doc.create("ro-support", support, now)?;
    let services = [
        (
            "sv-platform",
            "Customer platform",
            "The hosted workflow platform each customer signs in to, in their own deployment",
            "p-tom",
            impact([[2, 2, 1, 2], [3, 3, 2, 3], [4, 4, 3, 4], [5, 5, 4, 5], [5, 5, 5, 5]]),
            (Minutes::days(3), Minutes::hours(8), Minutes::hours(1)),
            (vec!["s-cloud", "s-identity", "s-models"], vec!["ro-tech", "ro-ic"], vec!["d-bcdr"], vec![]),
        ),
        (
            "sv-deploy",
            "Platform deployment and releases",
            "Building, testing and shipping changes and fixes to every customer deployment",
            "p-hannah",
            impact([[1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 1, 2], [3, 3, 2, 3], [4, 3, 3, 3]]),
            (Minutes::days(7), Minutes::days(1), Minutes(0)),
            (vec!["s-source", "s-monitoring"], vec!["ro-tech"], vec!["d-bcdr"], vec![]),
        ),
        (
            "sv-support",
            "Customer support",
            "The support queue, the status page and replies to customers during an outage",
            "p-priya",
            impact([[1, 2, 1, 2], [2, 3, 1, 3], [3, 4, 2, 4], [4, 4, 3, 4], [4, 5, 3, 5]]),
            (Minutes::days(3), Minutes::hours(4), Minutes::hours(1)),
            (vec!["s-productivity"], vec!["ro-comms", "ro-support"], vec!["d-irp"], vec!["sv-platform"]),
        ),
        (
            "sv-reporting",
            "Customer reporting and exports",
            "The monthly service reports and data exports customers ask for",
            "p-owen",
            impact([[1, 1, 1, 1], [1, 1, 1, 1], [1, 2, 1, 1], [2, 3, 2, 2], [3, 3, 3, 3]]),
            (Minutes::days(1), Minutes::days(2), Minutes::days(1)),
            (vec![], vec!["ro-tech"], vec![], vec!["sv-platform"]),
        ),
        (
            "sv-payroll",
            "Payroll and supplier payments",
            "Paying staff on the last working day of the month, and suppliers on their terms",
            "p-gareth",
            impact([[1, 1, 1, 1], [1, 1, 1, 1], [2, 1, 1, 1], [3, 2, 2, 2], [4, 3, 3, 3]]),
            (Minutes::days(7), Minutes::days(3), Minutes::days(1)),
            (vec!["s-finance"], vec!["ro-finance"], vec![], vec![]),
        ),
    ];
    for (id, name, description, owner, impact, (mtpd, rto, rpo), (suppliers, roles, plans, depends)) in services {
        let service = Service {
            name: name.into(),
            description: description.into(),
            owner: Some(owner.into()),
            impact,
            mtpd: Some(mtpd),
            rto: Some(rto),
            rpo: Some(rpo),
            suppliers: Links::of(suppliers),
            roles: Links::of(roles),
            plans: Links::of(plans),
            services: Links::of(depends),
            ..Default::default()
        };
        doc.create(id, service, now)?;
    }
    let customers = [
        (
            "c-northwind",
            "Northwind Housing Association",
            "SLA-2025-014, schedule 2",
            (Minutes::hours(4), Minutes::hours(1)),
            SupportHours::AllHours,
            vec!["sv-platform", "sv-support"],
            "p-priya",
        ),
        (
            "c-harbour",
            "Harbour Legal LLP",
            "Standard terms, version 3",
            (Minutes::days(1), Minutes::hours(4)),
            SupportHours::BusinessHours,
            vec!["sv-platform"],
            "p-priya",
        ),
        (
            "c-fenwick",
            "Fenwick County Council",
            "Framework call-off FCC-0093",
            (Minutes::hours(8), Minutes(15)),
            SupportHours::Extended,
            vec!["sv-platform", "sv-reporting"],
            "p-amara",
        ),
    ];
    for (id, name, agreement, (rto, rpo), support_hours, services, owner) in customers {
        let customer = Customer {
            name: name.into(),
            agreement: agreement.into(),
            rto: Some(rto),
            rpo: Some(rpo),
            support_hours,
            services: Links::of(services),
            owner: Some(owner.into()),
            ..Default::default()
        };
        doc.create(id, customer, now)?;
    }
    let payroll = Exercise {
        title: "Payroll run from the accountant's export".into(),
        kind: ExerciseKind::TechnicalDrill,
        status: ExerciseStatus::Completed,
        date: Some(ago(14)),
        lead: Some("p-gareth".into()),
        scope: "A month's payroll paid from the export, without the finance system".into(),
        went_well: "Staff were paid on time".into(),
        tested: tested_in("e-payroll"),
        ..Default::default()
    };
    doc.create("e-payroll", payroll, now)?;
    Ok(())
}

/// The version history of a sample document, by version id.
fn versions_of(plan: &str, today: Date) -> BTreeMap<Id, DocumentVersion> {
    let ago = |months: u32| Date(today.0 - chrono::Months::new(months));
    let version = |n: &str, months: u32, author: &str, approver: &str, change: &str| {
        let v = DocumentVersion {
            version: n.into(),
            date: Some(ago(months)),
            at: 0,
            author: Some(author.into()),
            approved_by: Some(approver.into()),
            change: change.into(),
            ..Default::default()
        };
        (format!("{plan}-v{n}"), v)
    };
    match plan {
        "d-bcdr" => [
            version("1.0", 30, "p-amara", "p-amara", "First issue"),
            version(
                "2.0",
                18,
                "p-tom",
                "p-amara",
                "Recovery for each customer deployment; the reference deployment for exercises",
            ),
            version("2.1", 7, "p-tom", "p-amara", "Paired-region failover and the annual review"),
        ]
        .into(),
        "d-irp" => [
            version("1.0", 20, "p-amara", "p-amara", "First issue"),
            version("1.1", 7, "p-hannah", "p-amara", "Out-of-hours escalation and the response roles' deputies"),
        ]
        .into(),
        "d-templates" => [version("1.0", 5, "p-priya", "p-amara", "Initial, update and closure notices")].into(),
        "d-supplier" | "d-access" | "d-register" => [version("1.0", 24, "p-gareth", "p-amara", "First issue")].into(),
        _ => Default::default(),
    }
}

/// The training programme and the response roles' readiness: who is trained for what, the
/// reference cards, and a response role that changed hands since the plan was reviewed.
/// Written with someone overdue, a deputy whose rehearsal lapsed, roles nobody rehearsed
/// and a stale card, so each readiness check shows.
fn sample_readiness(doc: &mut RegisterDoc, today: Date, now: i64) -> Result<(), DocError> {
    let ago = |months: u32| Date(today.0 - chrono::Months::new(months));
    let cards = [
        ("rb-card-ic", "Incident commander's reference card", "p-hannah", 3),
        ("rb-card-tech", "Technical lead's reference card", "p-tom", 14),
    ];
    for (id, title, owner, reviewed) in cards {
        let card = Runbook {
            title: title.into(),
            kind: RunbookKind::ReferenceCard,
            owner: Some(owner.into()),
            location: "Printed in the grab bag, and in the operations wiki".into(),
            last_reviewed: Some(ago(reviewed)),
            ..Default::default()
        };
        doc.create(id, card, now)?;
    }
    for role in ["ro-ic", "ro-tech", "ro-comms", "ro-legal", "ro-scribe"] {
        doc.update::<Role>(role, now, |r| {
            r.incident_response = true;
            r.needs_card = matches!(role, "ro-ic" | "ro-tech" | "ro-comms");
            match role {
                "ro-ic" => drop(r.runbooks.0.insert("rb-card-ic".into())),
                "ro-tech" => drop(r.runbooks.0.insert("rb-card-tech".into())),
                // Priya took over customer communications after the plan's last review.
                "ro-comms" => r.holder_since = Some(ago(2)),
                _ => {}
            }
        })?;
    }
    doc.update::<Supplier>("s-models", now, |s| s.critical_since = Some(ago(9)))?;
    let done = |person: &str, months: u32, evidence: &str| Completion {
        person: Some(person.into()),
        date: Some(ago(months)),
        evidence: evidence.into(),
        recorded_by: Some("p-amara".into()),
        ..Default::default()
    };
    let everyone = ["p-amara", "p-tom", "p-hannah", "p-priya", "p-gareth"];
    let trainings = [
        (
            "t-induction",
            "Incident reporting at induction",
            TrainingKind::Induction,
            0,
            None,
            everyone.iter().map(|p| done(p, 20, "Induction checklist, signed")).collect::<Vec<_>>(),
        ),
        (
            "t-refresher",
            "Annual incident reporting refresher",
            TrainingKind::Refresher,
            12,
            None,
            ["p-amara", "p-tom", "p-hannah", "p-priya"]
                .iter()
                .map(|p| done(p, 3, "Attendance list of the autumn session"))
                .chain([done("p-gareth", 13, "Attendance list of last year's session")])
                .collect(),
        ),
        (
            "t-scenario-ic",
            "Scenario training: incident commander",
            TrainingKind::Scenario,
            12,
            Some("ro-ic"),
            vec![done("p-hannah", 4, "E-002 tabletop"), done("p-tom", 4, "E-002 tabletop")],
        ),
        (
            "t-scenario-tech",
            "Scenario training: technical lead",
            TrainingKind::Scenario,
            12,
            Some("ro-tech"),
            vec![done("p-tom", 5, "E-001 full DR exercise"), done("p-hannah", 15, "Last year's DR exercise")],
        ),
        (
            "t-scenario-comms",
            "Scenario training: customer communications",
            TrainingKind::Scenario,
            12,
            Some("ro-comms"),
            vec![done("p-priya", 4, "E-002 tabletop"), done("p-gareth", 4, "E-002 tabletop")],
        ),
        (
            "t-scenario-legal",
            "Scenario training: legal and regulatory",
            TrainingKind::Scenario,
            12,
            Some("ro-legal"),
            vec![
                done("p-amara", 6, "Breach notification walk-through"),
                done("p-gareth", 6, "Breach notification walk-through"),
            ],
        ),
    ];
    for (id, title, kind, cadence_months, role, completions) in trainings {
        let training = Training {
            title: title.into(),
            kind,
            cadence_months,
            everyone: role.is_none(),
            role: role.map(str::to_string),
            completions: completions.into_iter().enumerate().map(|(i, c)| (format!("{id}-{i}"), c)).collect(),
            ..Default::default()
        };
        doc.create(id, training, now)?;
    }
    Ok(())
}

/// What a sample exercise achieved for the services it tested, by service id.
fn tested_in(exercise: &str) -> std::collections::BTreeMap<Id, Recovery> {
    use crate::recovery::Minutes;
    let recovery = |service: &str, time, data_loss, notes: &str| {
        let achieved =
            Recovery { time: Some(time), data_loss: Some(data_loss), notes: notes.into(), ..Default::default() };
        (service.to_string(), achieved)
    };
    match exercise {
        "e-dr" => {
            [recovery("sv-platform", Minutes::hours(6), Minutes(20), "Restored to 20 minutes before the failure")]
                .into()
        }
        "e-failover" => {
            [recovery("sv-deploy", Minutes::hours(5), Minutes(0), "Released from the secondary region")].into()
        }
        "e-tabletop" => {
            [recovery("sv-support", Minutes::hours(5), Minutes(0), "Status page and first email in 5 hours")].into()
        }
        "e-payroll" => {
            [recovery("sv-payroll", Minutes::days(2), Minutes::days(1), "Suppliers were paid a day late")].into()
        }
        _ => Default::default(),
    }
}

/// A closed severity 2 incident: staff and customers could not sign in while the identity
/// provider was failing. It happened 60 days before `today`; its review is held and its
/// actions raised.
fn sample_incident(today: Date) -> Incident {
    let began = today.add_days(-60).0;
    let at = |days: u64, hh: u32, mm: u32| {
        let day = began + chrono::Days::new(days);
        crate::incident::uk_moment(day.and_hms_opt(hh, mm, 0).expect("valid time"))
    };
    let person = |id: &str| Some(id.to_string());
    let phases = [
        (Phase::Reported, at(0, 8, 40)),
        (Phase::Triage, at(0, 8, 55)),
        (Phase::Containment, at(0, 9, 30)),
        (Phase::Investigation, at(0, 11, 40)),
        (Phase::Recovery, at(0, 11, 45)),
        (Phase::Closed, at(2, 16, 0)),
    ];
    let log = [
        (at(0, 8, 42), "p-hannah", LogKind::Note, "Monitoring shows staff sign-ins failing since 08:31"),
        (at(0, 8, 55), "p-amara", LogKind::Decision, "Declared at severity 3; roles named; incident channel opened"),
        (at(0, 9, 20), "p-tom", LogKind::Note, "The identity provider's status page confirms a fault in token issuing"),
        (at(0, 9, 30), "p-tom", LogKind::Action, "Break-glass accounts used to keep the platform's operations running"),
        (at(0, 9, 40), "p-amara", LogKind::Decision, "Raised to severity 2: customers cannot reach their workspaces"),
        (at(0, 10, 5), "p-priya", LogKind::Communication, "Initial notice sent to every customer's named contact"),
        (at(0, 11, 21), "p-hannah", LogKind::Note, "Sign-ins working again; watching for repeat failures"),
        (
            at(0, 11, 45),
            "p-amara",
            LogKind::Decision,
            "Service restored; no data affected, so not a personal-data breach",
        ),
        (at(0, 12, 0), "p-hannah", LogKind::Evidence, "Sign-in logs for the outage exported under legal hold"),
        (at(2, 16, 0), "p-amara", LogKind::Decision, "Closed after two days without a repeat"),
    ];
    let notifications = [
        (NotificationKind::Acknowledgement, at(0, 8, 50), "p-amara", "Hannah Clarke", "Incident channel"),
        (
            NotificationKind::CustomerInitial,
            at(0, 10, 5),
            "p-priya",
            "Every customer's named contact",
            "Email and status page",
        ),
        (NotificationKind::CustomerUpdate, at(0, 11, 30), "p-priya", "Every customer's named contact", "Status page"),
        (NotificationKind::CustomerFinal, at(3, 11, 0), "p-priya", "Every customer's named contact", "Email"),
        (NotificationKind::LawEnforcementNotReported, at(0, 11, 50), "p-amara", "", ""),
    ];
    Incident {
        title: "Staff and customers could not sign in".into(),
        summary: "A fault at the identity provider stopped sign-ins to the platform for almost three hours.".into(),
        reporter: "Hannah Clarke (monitoring alert)".into(),
        first_seen: Some(at(0, 8, 31)),
        aware_at: Some(at(0, 8, 40)),
        reported_at: Some(at(0, 8, 40)),
        escalation: Escalation::Unavailability,
        phases: phases
            .into_iter()
            .enumerate()
            .map(|(n, (phase, at))| {
                (format!("phase-{n}"), PhaseChange { phase, at, by: person("p-amara"), ..Default::default() })
            })
            .collect(),
        severities: BTreeMap::from([
            (
                "severity-0".into(),
                SeverityChange {
                    from: 0,
                    to: 3,
                    at: at(0, 8, 55),
                    by: person("p-amara"),
                    reason: "Staff sign-in only; no customer affected yet".into(),
                    ..Default::default()
                },
            ),
            (
                "severity-1".into(),
                SeverityChange {
                    from: 3,
                    to: 2,
                    at: at(0, 9, 40),
                    by: person("p-amara"),
                    reason: "Material degradation: customers cannot sign in".into(),
                    ..Default::default()
                },
            ),
        ]),
        systems: "Platform sign-in; staff accounts".into(),
        customers: "Every customer".into(),
        data_categories: "None".into(),
        personal_data_breach: Breach::No,
        data_role: Some(DataRole::Processor),
        bcdr_plan: Some("d-bcdr".into()),
        commander: person("p-amara"),
        technical_lead: person("p-tom"),
        communications_lead: person("p-priya"),
        legal_lead: person("p-amara"),
        scribe: person("p-gareth"),
        risks: Links::of(["r-supplier"]),
        suppliers: Links::of(["s-identity"]),
        actions: Links::of(["a-signin-alert", "a-status-wording"]),
        log: log
            .into_iter()
            .enumerate()
            .map(|(n, (at, author, kind, text))| {
                (
                    format!("log-{n:02}"),
                    LogEntry { at, author: person(author), kind, text: text.into(), ..Default::default() },
                )
            })
            .collect(),
        notifications: notifications
            .into_iter()
            .enumerate()
            .map(|(n, (kind, at, by, to, channel))| {
                let notes = match kind {
                    NotificationKind::LawEnforcementNotReported => "A supplier's fault, not a crime",
                    _ => "",
                };
                let notification = Notification {
                    kind,
                    at,
                    by: person(by),
                    to: to.into(),
                    channel: channel.into(),
                    notes: notes.into(),
                    ..Default::default()
                };
                (format!("notice-{n}"), notification)
            })
            .collect(),
        evidence: BTreeMap::from([(
            "evidence-0".into(),
            Evidence {
                what: "Sign-in logs for the outage window".into(),
                location: "Evidence store, legal-hold folder for INC-001".into(),
                holder: person("p-amara"),
                custody: "Exported by Hannah Clarke with a checksum; only the incident commander can open the folder"
                    .into(),
                at: at(0, 12, 0),
                by: person("p-hannah"),
                ..Default::default()
            },
        )]),
        review: IncidentReview {
            held_on: Some(today.add_days(-50)),
            attendees: Links::of(["p-amara", "p-tom", "p-hannah", "p-priya"]),
            timeline: "Failing from 08:31; declared 08:55; severity 2 at 09:40; restored 11:21; closed two days later"
                .into(),
            root_cause: "A faulty change at the identity provider stopped it issuing sign-in tokens in our region"
                .into(),
            contributory_factors: "Nothing alerted on failing sign-ins; no prepared wording for the status page".into(),
            impact: "Nobody could sign in for 2 h 50 min; no data was affected".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A large register for measuring: `records` records across risks (six in ten), actions,
/// suppliers and people, each created in its own change at `now` plus its index.
pub fn generated(records: usize, now: i64) -> Result<RegisterDoc, DocError> {
    let mut doc = RegisterDoc::new("Generated register", now)?;
    for i in 0..records {
        let id = format!("rec-{i:05}");
        let t = now + i as i64;
        match i % 10 {
            0..=5 => doc.create(
                &id,
                Risk { description: "Generated for measuring".into(), ..Risk::titled(format!("Risk {i}")) },
                t,
            ),
            6 | 7 => doc.create(&id, Action { title: format!("Action {i}"), ..Default::default() }, t),
            8 => doc.create(&id, Supplier { name: format!("Supplier {i}"), ..Default::default() }, t),
            _ => doc.create(&id, Person { name: format!("Person {i}"), ..Default::default() }, t),
        }?;
    }
    Ok(doc)
}
