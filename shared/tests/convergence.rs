//! Convergence of every record type: two replicas fork, edit concurrently (different fields,
//! the same field, an edit against an archive, two creations), merge both ways, and must end
//! identical with no written field lost.
#![cfg(not(target_arch = "wasm32"))]

use shared::refs::references;
use shared::*;

const T0: i64 = 1_795_000_000;

fn d(s: &str) -> Option<Date> {
    Some(Date::parse(s).unwrap())
}

/// Both replicas take in each other's changes; they must then agree exactly.
fn merge_both_ways(a: &mut RegisterDoc, b: &mut RegisterDoc) -> Register {
    a.merge(b).unwrap();
    b.merge(a).unwrap();
    assert_eq!(a.heads(), b.heads());
    let (ra, rb) = (a.register().unwrap(), b.register().unwrap());
    assert_eq!(ra, rb);
    // A saved and reloaded copy agrees too.
    assert_eq!(RegisterDoc::load(&a.save()).unwrap().register().unwrap(), ra);
    ra
}

fn replicas<R: Record>(base: &R) -> (RegisterDoc, RegisterDoc) {
    let mut a = RegisterDoc::new("Test register", T0).unwrap();
    a.create("x", base.clone(), T0).unwrap();
    let b = a.fork();
    (a, b)
}

/// Runs every scenario for one record type. `x` and `y` change different fields; `same_a`
/// and `same_b` set one field to two different values.
fn check<R: Record + std::fmt::Debug + PartialEq>(
    base: R,
    x: impl Fn(&mut R),
    y: impl Fn(&mut R),
    same_a: impl Fn(&mut R),
    same_b: impl Fn(&mut R),
) {
    // Different fields: both edits survive, merged in either order.
    for a_first in [true, false] {
        let (mut a, mut b) = replicas(&base);
        a.update::<R>("x", T0 + 1, &x).unwrap();
        b.update::<R>("x", T0 + 2, &y).unwrap();
        let merged = if a_first { merge_both_ways(&mut a, &mut b) } else { merge_both_ways(&mut b, &mut a) };
        let mut expected = base.clone();
        x(&mut expected);
        y(&mut expected);
        expected.set_number(1);
        assert_eq!(R::collection(&merged)["x"], expected, "different fields of a {}", R::LABEL);
        assert!(a.conflicts::<R>("x").unwrap().is_empty(), "no conflict when different fields change");
    }

    // Same field: one value wins everywhere, and the other is still visible as a conflict.
    let (mut a, mut b) = replicas(&base);
    a.update::<R>("x", T0 + 1, &same_a).unwrap();
    b.update::<R>("x", T0 + 2, &same_b).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let (mut va, mut vb) = (base.clone(), base.clone());
    same_a(&mut va);
    same_b(&mut vb);
    va.set_number(1);
    vb.set_number(1);
    let got = &R::collection(&merged)["x"];
    assert!(got == &va || got == &vb, "same field of a {}: {got:?}", R::LABEL);
    let conflicts = a.conflicts::<R>("x").unwrap();
    assert_eq!(conflicts, b.conflicts::<R>("x").unwrap());
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].values.len(), 2);

    // Edit against archive: the record is archived and the edit is kept; restoring shows it.
    let (mut a, mut b) = replicas(&base);
    a.archive::<R>("x", T0 + 1).unwrap();
    b.update::<R>("x", T0 + 2, &x).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let mut expected = base.clone();
    x(&mut expected);
    expected.set_number(1);
    expected.set_archived(true);
    assert_eq!(R::collection(&merged)["x"], expected, "edit against archive of a {}", R::LABEL);
    a.restore::<R>("x", T0 + 3).unwrap();
    expected.set_archived(false);
    assert_eq!(a.get::<R>("x").unwrap().unwrap(), expected);

    // Create against create: both records exist, and their references differ.
    let (mut a, mut b) = replicas(&base);
    assert_eq!(a.create("from-a", base.clone(), T0 + 1).unwrap(), 2);
    assert_eq!(b.create("from-b", base.clone(), T0 + 2).unwrap(), 2);
    let merged = merge_both_ways(&mut a, &mut b);
    let refs = references::<R>(&merged);
    assert_eq!(refs.len(), 3);
    assert_ne!(refs["from-a"], refs["from-b"]);
    assert_eq!(refs["from-a"], format!("{}-002a", R::PREFIX));
    assert_eq!(refs["from-b"], format!("{}-002b", R::PREFIX));
    // Renumbering one settles it, and the next record continues after it.
    a.renumber::<R>("from-b", T0 + 3).unwrap();
    let refs = references::<R>(&a.register().unwrap());
    assert_eq!(refs["from-a"], format!("{}-002", R::PREFIX));
    assert_eq!(refs["from-b"], format!("{}-003", R::PREFIX));
}

fn risk() -> Risk {
    Risk::titled("Regional outage")
}

#[test]
fn risks() {
    check(
        risk(),
        |r| r.residual_impact = 5,
        |r| {
            r.controls = "Paired region".into();
            r.suppliers = Links::of(["s1"]);
        },
        |r| r.title = "Regional cloud outage".into(),
        |r| r.title = "Loss of the cloud region".into(),
    );
}

#[test]
fn risk_links_added_on_both_sides_are_both_kept() {
    let (mut a, mut b) = replicas(&risk());
    a.update::<Risk>("x", T0, |r| r.actions = Links::of(["a1"])).unwrap();
    b.update::<Risk>("x", T0, |r| r.actions = Links::of(["a2"])).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    assert_eq!(merged.risks["x"].actions, Links::of(["a1", "a2"]));
}

fn supplier() -> Supplier {
    let alt = Alternative { name: "Second region".into(), switch_over_days: 2, ..Default::default() };
    Supplier { name: "Cloud platform".into(), alternatives: [("alt1".to_string(), alt)].into(), ..Default::default() }
}

#[test]
fn suppliers() {
    check(
        supplier(),
        |s| s.alternatives.get_mut("alt1").unwrap().viability = Viability::PartlyViable,
        |s| s.alternatives.get_mut("alt1").unwrap().cost_impact = Pence(250_000),
        |s| s.criticality = Criticality::High,
        |s| s.criticality = Criticality::Low,
    );
}

#[test]
fn supplier_alternatives_and_reviews_added_on_both_sides_are_both_kept() {
    let (mut a, mut b) = replicas(&supplier());
    a.update::<Supplier>("x", T0, |s| {
        s.alternatives.insert("alt-a".into(), Alternative { name: "A".into(), ..Default::default() });
        s.reviews.insert("rev-a".into(), SupplierReview { date: d("2026-11-20"), ..Default::default() });
    })
    .unwrap();
    b.update::<Supplier>("x", T0, |s| {
        s.alternatives.insert("alt-b".into(), Alternative { name: "B".into(), ..Default::default() });
        s.reviews.insert("rev-b".into(), SupplierReview { date: d("2026-11-21"), ..Default::default() });
    })
    .unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let s = &merged.suppliers["x"];
    assert_eq!(s.alternatives.keys().collect::<Vec<_>>(), ["alt-a", "alt-b", "alt1"]);
    assert_eq!(s.reviews.len(), 2);
}

#[test]
fn people() {
    check(
        Person { name: "Amara Okafor".into(), ..Default::default() },
        |p| p.email = "amara@example.org".into(),
        |p| p.phone = "01632 960000".into(),
        |p| p.job_title = "Director".into(),
        |p| p.job_title = "Managing Director".into(),
    );
}

#[test]
fn roles() {
    check(
        Role { name: "Technical Lead".into(), holder: Some("p1".into()), ..Default::default() },
        |r| r.deputies = vec!["p2".into()],
        |r| r.runbooks = Links::of(["rb1"]),
        |r| r.holder = Some("p3".into()),
        |r| r.holder = Some("p4".into()),
    );
}

#[test]
fn deputies_added_on_both_sides_are_both_kept_in_order() {
    let base = Role { name: "Technical Lead".into(), deputies: vec!["p1".into()], ..Default::default() };
    let (mut a, mut b) = replicas(&base);
    a.update::<Role>("x", T0, |r| r.deputies.push("p2".into())).unwrap();
    b.update::<Role>("x", T0, |r| r.deputies.push("p3".into())).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let deputies = &merged.roles["x"].deputies;
    assert_eq!(deputies.len(), 3, "{deputies:?}");
    assert_eq!(deputies[0], "p1", "the first deputy stays first");
}

#[test]
fn runbooks() {
    check(
        Runbook { title: "Restore".into(), ..Default::default() },
        |r| r.last_reviewed = d("2026-11-01"),
        |r| r.location = "Wiki".into(),
        |r| r.kind = RunbookKind::Restore,
        |r| r.kind = RunbookKind::Failover,
    );
}

#[test]
fn break_glass() {
    check(
        BreakGlass { service: "Identity provider".into(), ..Default::default() },
        |b| b.last_tested = d("2026-11-01"),
        |b| b.permitted = Links::of(["p1"]),
        |b| b.account = "bg-1".into(),
        |b| b.account = "bg-2".into(),
    );
}

#[test]
fn exercises() {
    check(
        Exercise { title: "Full DR".into(), ..Default::default() },
        |e| e.went_well = "Restore worked".into(),
        |e| e.went_badly = "Slow validation".into(),
        |e| e.date = d("2026-11-20"),
        |e| e.date = d("2026-11-27"),
    );
}

#[test]
fn actions() {
    check(
        Action { title: "Mirror check".into(), ..Default::default() },
        |a| a.status = ActionStatus::InProgress,
        |a| a.due = d("2027-01-31"),
        |a| a.owner = Some("p1".into()),
        |a| a.owner = Some("p2".into()),
    );
}

#[test]
fn policies() {
    check(
        Policy { name: "Cyber".into(), ..Default::default() },
        |p| p.premium = Pence::pounds(6_800),
        |p| p.renewal = d("2027-08-01"),
        |p| p.excess = Pence::pounds(5_000),
        |p| p.excess = Pence::pounds(10_000),
    );
}

#[test]
fn plans() {
    check(
        Plan { title: "Continuity plan".into(), ..Default::default() },
        |p| p.version = "1.1".into(),
        |p| p.last_reviewed = d("2026-11-22"),
        |p| p.owner = Some("p1".into()),
        |p| p.owner = Some("p2".into()),
    );
}

#[test]
fn services() {
    use shared::recovery::Minutes;
    check(
        Service { name: "Customer platform".into(), ..Default::default() },
        |s| {
            s.rto = Some(Minutes::hours(8));
            s.impact.day_1.financial = 4;
        },
        |s| {
            s.rpo = Some(Minutes(30));
            s.impact.day_1.regulatory = 3;
            s.suppliers = Links::of(["s1"]);
        },
        |s| s.mtpd = Some(Minutes::days(1)),
        |s| s.mtpd = Some(Minutes::days(3)),
    );
}

#[test]
fn customers() {
    use shared::recovery::Minutes;
    check(
        Customer { name: "Northwind".into(), ..Default::default() },
        |c| c.rto = Some(Minutes::hours(4)),
        |c| c.support_hours = SupportHours::AllHours,
        |c| c.rpo = Some(Minutes::hours(1)),
        |c| c.rpo = Some(Minutes(15)),
    );
}

#[test]
fn two_people_recording_recoveries_of_different_services_in_one_exercise_keep_both() {
    use shared::recovery::Minutes;
    let (mut a, mut b) = replicas(&Exercise { title: "Full DR".into(), ..Default::default() });
    let achieved = |m| Recovery { time: Some(m), ..Default::default() };
    a.update::<Exercise>("x", T0, |e| drop(e.tested.insert("sv1".into(), achieved(Minutes::hours(2))))).unwrap();
    b.update::<Exercise>("x", T0, |e| drop(e.tested.insert("sv2".into(), achieved(Minutes::hours(5))))).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    assert_eq!(merged.exercises["x"].tested.keys().collect::<Vec<_>>(), ["sv1", "sv2"]);
}

#[test]
fn two_people_appending_versions_to_one_document_offline_keep_both_in_one_order() {
    let (mut a, mut b) =
        replicas(&Plan { title: "Continuity plan".into(), version: "1.0".into(), ..Default::default() });
    let version = |n: &str, at: i64| DocumentVersion {
        version: n.into(),
        date: d("2026-11-20"),
        at,
        change: format!("Issue {n}"),
        ..Default::default()
    };
    a.update::<Plan>("x", T0 + 1, |p| drop(p.versions.insert("va".into(), version("1.1", T0 + 1)))).unwrap();
    b.update::<Plan>("x", T0 + 2, |p| drop(p.versions.insert("vb".into(), version("1.1b", T0 + 2)))).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let order = |r: &Register| r.plans["x"].history().into_iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    assert_eq!(order(&merged), ["va", "vb"]);
    assert_eq!(order(&b.register().unwrap()), ["va", "vb"], "the same order on both replicas");
    assert_eq!(merged.plans["x"].current_version(), "1.1b");
    // A version once recorded is kept as it was.
    let refused = a.update::<Plan>("x", T0 + 3, |p| p.versions.get_mut("va").unwrap().change = "Rewritten".into());
    assert!(refused.unwrap_err().to_string().contains("cannot be changed or removed once recorded"));
}

#[test]
fn concurrent_completions_of_one_persons_training_are_both_kept() {
    let (mut a, mut b) =
        replicas(&Training { title: "Refresher".into(), cadence_months: 12, everyone: true, ..Default::default() });
    let done = |on: &str| Completion { person: Some("p1".into()), date: d(on), ..Default::default() };
    a.update::<Training>("x", T0 + 1, |t| drop(t.completions.insert("ca".into(), done("2026-11-20")))).unwrap();
    b.update::<Training>("x", T0 + 2, |t| drop(t.completions.insert("cb".into(), done("2026-11-21")))).unwrap();
    let merged = merge_both_ways(&mut a, &mut b);
    let t = &merged.trainings["x"];
    assert_eq!(t.completions.len(), 2);
    assert_eq!(t.last_done("p1"), d("2026-11-21"));
    assert_eq!(t.next_due("p1", d("2026-11-22").unwrap()), d("2027-11-21"));
}
