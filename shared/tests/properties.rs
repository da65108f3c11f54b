//! Property test: random edits on three replicas, merged in a random order, converge; and
//! every field write that was not overwritten by a later write on a replica that had seen it
//! survives, either as the value shown or as a concurrent value kept beside it.
#![cfg(not(target_arch = "wasm32"))]

use automerge::ReadDoc;
use proptest::prelude::*;
use shared::*;
use std::collections::{BTreeMap, BTreeSet};

const FIELDS: [&str; 4] = ["title", "description", "controls", "category"];
const RECORDS: [&str; 3] = ["r0", "r1", "r2"];

#[derive(Clone, Debug)]
enum Op {
    /// Replica, record, field: write a value never written before.
    Write(usize, usize, usize),
    /// Replica, record: add a link never added before.
    Link(usize, usize),
    /// Replica `.0` takes in everything replica `.1` has.
    Merge(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, 0..4usize).prop_map(|(r, k, f)| Op::Write(r, k, f)),
        1 => (0..3usize, 0..3usize).prop_map(|(r, k)| Op::Link(r, k)),
        2 => (0..3usize, 0..3usize).prop_filter("merge with another", |(a, b)| a != b).prop_map(|(a, b)| Op::Merge(a, b)),
    ]
}

fn set_field(risk: &mut Risk, field: usize, value: String) {
    match FIELDS[field] {
        "title" => risk.title = value,
        "description" => risk.description = value,
        "controls" => risk.controls = value,
        _ => risk.category = value,
    }
}

/// Every value stored at a field, concurrent ones included.
fn all_values(doc: &mut RegisterDoc, record: &str, field: &str) -> BTreeSet<String> {
    let am = doc.automerge();
    let (_, risks) = am.get(automerge::ROOT, "risks").unwrap().unwrap();
    let (_, obj) = am.get(&risks, record).unwrap().unwrap();
    am.get_all(&obj, field).unwrap().into_iter().map(|(v, _)| v.as_str().unwrap().to_string()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_and_keep_every_live_write(ops in prop::collection::vec(op(), 1..60), order in Just(()).prop_perturb(|_, mut rng| {
        let mut pairs: Vec<(usize, usize)> = (0..3).flat_map(|a| (0..3).map(move |b| (a, b))).filter(|(a, b)| a != b).collect();
        for i in (1..pairs.len()).rev() { pairs.swap(i, rng.random_range(0..=i)); }
        pairs
    })) {
        let mut origin = RegisterDoc::new("p", 0).unwrap();
        for (k, id) in RECORDS.iter().enumerate() {
            let risk = Risk { title: format!("start {k}"), inherent_likelihood: 1, inherent_impact: 1,
                residual_likelihood: 1, residual_impact: 1, target_score: 1, ..Default::default() };
            origin.create(id, risk, 0).unwrap();
        }
        let mut replicas = [origin.fork(), origin.fork(), origin.fork()];

        // The oracle: which writes each replica has seen, and which writes overwrote which.
        let mut seen: [BTreeSet<usize>; 3] = Default::default();
        let mut writes: Vec<(usize, usize, String)> = Vec::new(); // (record, field, value)
        let mut overwritten: BTreeSet<usize> = BTreeSet::new();
        let mut links: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();

        for (n, op) in ops.iter().enumerate() {
            match *op {
                Op::Write(r, k, f) => {
                    let value = format!("w{n}");
                    replicas[r].update::<Risk>(RECORDS[k], n as i64, |risk| set_field(risk, f, value.clone())).unwrap();
                    for &w in &seen[r] {
                        if writes[w].0 == k && writes[w].1 == f {
                            overwritten.insert(w);
                        }
                    }
                    writes.push((k, f, value));
                    seen[r].insert(writes.len() - 1);
                }
                Op::Link(r, k) => {
                    let link = format!("l{n}");
                    replicas[r].update::<Risk>(RECORDS[k], n as i64, |risk| { risk.actions.0.insert(link.clone()); }).unwrap();
                    links.entry(k).or_default().insert(link);
                }
                Op::Merge(a, b) => {
                    let (x, y) = two(&mut replicas, a, b);
                    x.merge(y).unwrap();
                    let theirs = seen[b].clone();
                    seen[a].extend(theirs);
                }
            }
        }
        for (a, b) in order.iter().copied().chain([(0, 1), (0, 2), (1, 0), (2, 0)]) {
            let (x, y) = two(&mut replicas, a, b);
            x.merge(y).unwrap();
        }

        let heads: Vec<_> = replicas.iter_mut().map(|r| r.heads()).collect();
        prop_assert_eq!(&heads[0], &heads[1]);
        prop_assert_eq!(&heads[0], &heads[2]);
        let registers: Vec<_> = replicas.iter().map(|r| r.register().unwrap()).collect();
        prop_assert_eq!(&registers[0], &registers[1]);
        prop_assert_eq!(&registers[0], &registers[2]);

        for (k, record) in RECORDS.iter().enumerate() {
            for (f, field) in FIELDS.iter().enumerate() {
                let live: BTreeSet<String> = writes.iter().enumerate()
                    .filter(|(w, (wk, wf, _))| *wk == k && *wf == f && !overwritten.contains(w))
                    .map(|(_, (_, _, v))| v.clone())
                    .collect();
                if live.is_empty() {
                    continue;
                }
                prop_assert_eq!(all_values(&mut replicas[0], record, field), live, "{} {}", record, field);
            }
            let expected = links.get(&k).cloned().unwrap_or_default();
            prop_assert_eq!(&registers[0].risks[*record].actions.0, &expected);
        }
    }
}

fn two(replicas: &mut [RegisterDoc; 3], a: usize, b: usize) -> (&mut RegisterDoc, &mut RegisterDoc) {
    assert_ne!(a, b);
    if a < b {
        let (left, right) = replicas.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = replicas.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}

#[derive(Clone, Debug)]
enum Step {
    /// Replica: a new risk, or a new person.
    CreateRisk(usize),
    CreatePerson(usize),
    /// Replica, which of its records (by creation order), field.
    Write(usize, usize, usize),
    /// Replica, which record: archive it.
    Archive(usize, usize),
    /// Replica, which record: link it to a new supplier (a nested map in the record).
    Link(usize, usize),
    /// Replica `.0` takes in everything replica `.1` has.
    Merge(usize, usize),
}

/// Makes `step` on the replicas at time `now`; false when it names a risk there is none of.
fn play(replicas: &mut [RegisterDoc; 2], risks: &mut [Vec<String>; 2], n: usize, step: &Step, now: i64) -> bool {
    match *step {
        Step::CreateRisk(r) => {
            let id = format!("risk-{n}");
            replicas[r].create(&id, Risk::titled(format!("risk {n}")), now).unwrap();
            risks[r].push(id);
        }
        Step::CreatePerson(r) => {
            replicas[r]
                .create(&format!("person-{n}"), Person { name: format!("person {n}"), ..Default::default() }, now)
                .unwrap();
        }
        Step::Write(r, k, f) if !risks[r].is_empty() => {
            let id = risks[r][k % risks[r].len()].clone();
            replicas[r].update::<Risk>(&id, now, |risk| set_field(risk, f, format!("w{n}"))).unwrap();
        }
        Step::Archive(r, k) if !risks[r].is_empty() => {
            let id = risks[r][k % risks[r].len()].clone();
            replicas[r].archive::<Risk>(&id, now).unwrap();
        }
        Step::Link(r, k) if !risks[r].is_empty() => {
            let id = risks[r][k % risks[r].len()].clone();
            replicas[r]
                .update::<Risk>(&id, now, |risk| {
                    risk.suppliers.0.insert(format!("s-{n}"));
                })
                .unwrap();
        }
        Step::Merge(a, b) => {
            let (x, y) = if a == 0 {
                let (l, rr) = replicas.split_at_mut(1);
                (&mut l[0], &mut rr[0])
            } else {
                let (l, rr) = replicas.split_at_mut(1);
                (&mut rr[0], &mut l[0])
            };
            x.merge(y).unwrap();
            let theirs = risks[b].clone();
            for id in theirs {
                if !risks[a].contains(&id) {
                    risks[a].push(id);
                }
            }
        }
        _ => return false,
    }
    true
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0..2usize).prop_map(Step::CreateRisk),
        1 => (0..2usize).prop_map(Step::CreatePerson),
        4 => (0..2usize, 0..8usize, 0..4usize).prop_map(|(r, k, f)| Step::Write(r, k, f)),
        1 => (0..2usize, 0..8usize).prop_map(|(r, k)| Step::Archive(r, k)),
        2 => (0..2usize, 0..8usize).prop_map(|(r, k)| Step::Link(r, k)),
        3 => (0..2usize).prop_map(|a| Step::Merge(a, 1 - a)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The app keeps a copy of the register and, after a merge, reads again only the records
    /// the merge changed: that copy is always what reading the whole register gives.
    #[test]
    fn a_copy_refreshed_by_changed_records_matches_a_full_read(steps in prop::collection::vec(step(), 1..40)) {
        let mut origin = RegisterDoc::new("p", 0).unwrap();
        let mut replicas = [origin.fork(), origin.fork()];
        let mut copies = [replicas[0].register().unwrap(), replicas[1].register().unwrap()];
        let mut risks: [Vec<String>; 2] = Default::default();
        for (n, step) in steps.iter().enumerate() {
            let now = n as i64;
            let r = match *step {
                Step::CreateRisk(r) | Step::CreatePerson(r) | Step::Write(r, ..) | Step::Archive(r, _) | Step::Link(r, _) | Step::Merge(r, _) => r,
            };
            let before = replicas[r].heads();
            if !play(&mut replicas, &mut risks, n, step, now) {
                continue;
            }
            let changed = replicas[r].changed_since(&before);
            replicas[r].refresh(&mut copies[r], &changed).unwrap();
            prop_assert_eq!(&copies[r], &replicas[r].register().unwrap(), "after {:?}, {:?}", step, changed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// The register as of a date is read from the document in place (no copy of it): it is
    /// always what a document holding only the changes made by then reads as.
    #[test]
    fn the_register_as_of_a_date_is_a_document_of_the_changes_made_by_then(steps in prop::collection::vec(step(), 1..30), day in 0..32i64) {
        // Step n is made at noon UTC on day n of January 2026.
        const NOON_1_JAN: i64 = 1_767_268_800;
        let mut origin = RegisterDoc::new("p", NOON_1_JAN - 86_400).unwrap();
        let mut replicas = [origin.fork(), origin.fork()];
        let mut risks: [Vec<String>; 2] = Default::default();
        for (n, step) in steps.iter().enumerate() {
            let now = NOON_1_JAN + n as i64 * 86_400;
            play(&mut replicas, &mut risks, n, step, now);
        }
        let (l, rr) = replicas.split_at_mut(1);
        l[0].merge(&mut rr[0]).unwrap();
        let doc = &mut l[0];

        // Timestamps here only grow, so "made by then" is every change stamped by the cutoff.
        let cutoff = NOON_1_JAN + day * 86_400;
        let mut past = automerge::AutoCommit::new();
        let by_then: Vec<automerge::Change> = doc.automerge().get_changes(&[]).into_iter().filter(|c| c.timestamp() <= cutoff).collect();
        past.apply_changes(by_then).unwrap();
        let expected = if past.get_heads().is_empty() { Register::default() } else { RegisterDoc::from_automerge(past).unwrap().register().unwrap() };
        let date = Date::parse(&format!("2026-01-{:02}", day + 1)).unwrap_or_else(|_| Date::parse("2026-02-01").unwrap());
        prop_assert_eq!(doc.as_of(date).unwrap(), expected);
    }
}

#[test]
fn a_merge_names_only_the_records_it_changed() {
    let mut a = RegisterDoc::new("p", 0).unwrap();
    for n in 0..5 {
        a.create(&format!("r{n}"), Risk::titled(format!("risk {n}")), 0).unwrap();
    }
    let mut b = a.fork();
    b.update::<Risk>("r3", 1, |r| r.controls = "Tested monthly".into()).unwrap();
    b.create("p1", Person { name: "Amara".into(), ..Default::default() }, 1).unwrap();
    let before = a.heads();
    a.merge(&mut b).unwrap();
    let expected: BTreeSet<(Kind, String)> = [(Kind::Person, "p1".to_string()), (Kind::Risk, "r3".to_string())].into();
    assert_eq!(a.changed_since(&before), Changed::Records { header: false, records: expected });
    assert_eq!(a.changed_since(&[]), Changed::Everything);
}
