//! A whole-register scenario: the identity provider is down and the team works offline on
//! the sample register for a day, each on their own device, then everyone syncs in a ring.
//! Every edit arrives everywhere, the copies agree, and the findings and exports still work.

use shared::refs::references;
use shared::sample::sample;
use shared::*;

const T0: i64 = 1_795_000_000;

fn today() -> Date {
    Date::parse("2026-11-22").unwrap()
}

#[test]
fn a_day_offline_merges_without_losing_anything() {
    let mut office = sample(today(), T0).unwrap();
    let mut iso = office.fork();
    let mut tech = office.fork();
    let mut finance = office.fork();
    let mut comms = office.fork();
    iso.identify("p-amara", T0).unwrap();
    tech.identify("p-tom", T0).unwrap();
    finance.identify("p-gareth", T0).unwrap();
    comms.identify("p-priya", T0).unwrap();

    // The ISO re-scores the supplier risk and raises a new risk.
    iso.update::<Risk>("r-supplier", T0 + 60, |r| {
        r.residual_likelihood = 3;
        r.direction = Direction::Deteriorating;
    })
    .unwrap();
    let iso_number = iso
        .create("r-idp", Risk { title: "Identity provider outage".into(), target_score: 6, ..scored() }, T0 + 61)
        .unwrap();

    // The technical lead records the outage as a drill, with an action, on the same risk.
    tech.update::<Risk>("r-supplier", T0 + 90, |r| r.controls = "Break-glass sign-in used during the outage".into())
        .unwrap();
    let tech_number =
        tech.create("r-mfa", Risk { title: "MFA push fatigue".into(), target_score: 4, ..scored() }, T0 + 91).unwrap();
    tech.create(
        "a-idp",
        Action { title: "Write up the outage".into(), owner: Some("p-tom".into()), ..Default::default() },
        T0 + 92,
    )
    .unwrap();
    tech.update::<Risk>("r-supplier", T0 + 93, |r| {
        r.actions.0.insert("a-idp".into());
    })
    .unwrap();

    // Finance archives the productivity alternative review while comms edits it.
    finance.archive::<Supplier>("s-productivity", T0 + 120).unwrap();
    comms
        .update::<Supplier>("s-productivity", T0 + 130, |s| s.continuity_assessment = "Contact tree tested".into())
        .unwrap();
    // Finance and comms both change the same field of the cyber policy.
    finance.update::<Policy>("i-cyber", T0 + 140, |p| p.insurer = "Harbour Mutual".into()).unwrap();
    comms.update::<Policy>("i-cyber", T0 + 150, |p| p.insurer = "Harbour Mutual Insurance plc".into()).unwrap();

    // Everyone syncs in a ring, twice round, through the office copy.
    let mut devices = [iso, tech, finance, comms];
    for _ in 0..2 {
        for d in devices.iter_mut() {
            office.merge(d).unwrap();
            d.merge(&mut office).unwrap();
        }
    }
    let register = office.register().unwrap();
    for d in devices.iter_mut() {
        assert_eq!(d.heads(), office.heads());
        assert_eq!(d.register().unwrap(), register);
    }

    let risk = &register.risks["r-supplier"];
    assert_eq!(risk.residual_likelihood, 3);
    assert_eq!(risk.direction, Direction::Deteriorating);
    assert_eq!(risk.controls, "Break-glass sign-in used during the outage");
    assert!(risk.actions.contains("a-idp") && risk.actions.contains("a-mirror"));

    let supplier = &register.suppliers["s-productivity"];
    assert!(supplier.archived);
    assert_eq!(supplier.continuity_assessment, "Contact tree tested");

    let insurer = &register.policies["i-cyber"].insurer;
    assert!(insurer == "Harbour Mutual" || insurer == "Harbour Mutual Insurance plc");
    let conflicts = office.conflicts::<Policy>("i-cyber").unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, "insurer");

    // Both new risks got the same number offline; they are told apart and raised.
    assert_eq!(iso_number, tech_number);
    let refs = references::<Risk>(&register);
    assert_ne!(refs["r-idp"], refs["r-mfa"]);
    let found = findings(&register, shared::date::Now::noon(today()));
    assert!(found.iter().any(|f| f.id.as_deref() == Some("r-idp") && f.message.contains("was given to 2 records")));
    assert!(!found.iter().any(|f| f.severity == Severity::Error && !shared::sample::meant(f)), "{found:#?}");

    // History names each person for their own edit.
    let history = office.history::<Risk>("r-supplier").unwrap();
    assert!(history.iter().any(|h| h.person.as_deref() == Some("p-amara") && h.field == "residual_likelihood"));
    assert!(history.iter().any(|h| h.person.as_deref() == Some("p-tom") && h.field == "controls"));

    // The merged register exports.
    let stamp = chrono::DateTime::from_timestamp(T0, 0).unwrap();
    assert!(!shared::export::xlsx(&register, today(), stamp).unwrap().is_empty());
    assert!(
        String::from_utf8(shared::export::csv_section(&register, today(), "Risks").unwrap())
            .unwrap()
            .contains("MFA push fatigue")
    );
}

fn scored() -> Risk {
    Risk {
        inherent_likelihood: 3,
        inherent_impact: 3,
        residual_likelihood: 2,
        residual_impact: 2,
        ..Default::default()
    }
}
