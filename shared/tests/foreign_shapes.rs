//! A register written by another Automerge client: text objects where we write strings,
//! signed and floating numbers where we write unsigned ones, junk of any shape in any field.
//! The register always opens, field by field; what cannot be read is reported; the next edit
//! of a field writes it back in our shape and leaves the rest alone.
#![cfg(not(target_arch = "wasm32"))]

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};
use proptest::prelude::*;
use shared::*;

const NOW: i64 = 1_795_000_000;

fn today() -> Date {
    Date::parse("2026-12-01").unwrap()
}

fn sample() -> RegisterDoc {
    shared::sample::sample(today(), NOW).unwrap()
}

fn obj(doc: &mut RegisterDoc, path: &[&str]) -> ObjId {
    let am = doc.automerge();
    let mut at = automerge::ROOT;
    for key in path {
        at = match am.get(&at, *key).unwrap() {
            Some((Value::Object(_), id)) => id,
            other => panic!("{key} is {other:?}"),
        };
    }
    at
}

fn put_text(doc: &mut RegisterDoc, at: &ObjId, key: &str, text: &str) {
    let am = doc.automerge();
    let t = am.put_object(at, key, ObjType::Text).unwrap();
    am.splice_text(&t, 0, 0, text).unwrap();
}

/// Everything the app does with a register that has just been read: the findings, every
/// export, the calendar. None of it may fail or come out empty.
fn everything_carries_on(register: &Register) {
    assert_eq!(register.schema_version, SCHEMA_VERSION);
    let _ = findings(register, shared::date::Now::noon(today()));
    let risks = String::from_utf8(export::csv_section(register, today(), "Risks").unwrap()).unwrap();
    assert!(risks.lines().count() > 1, "risks.csv has rows");
    export::json(register).unwrap();
    export::xlsx(register, today(), chrono::DateTime::from_timestamp(NOW, 0).unwrap()).unwrap();
    let ics =
        calendar::ics(&register.name, &calendar::obligations(register, today()), today(), Default::default(), &|_| {
            None
        });
    assert!(ics.contains("BEGIN:VEVENT"));
}

#[test]
fn a_register_written_by_another_client_opens_field_by_field() {
    let mut doc = sample();
    let before = doc.register().unwrap();
    let mut risks = before.risks.keys().cloned();
    let (r1, r2) = (risks.next().unwrap(), risks.next().unwrap());
    let supplier = before.suppliers.keys().next().unwrap().clone();
    let alternative = before.suppliers[&supplier].alternatives.keys().next().unwrap().clone();
    let risk = obj(&mut doc, &["risks", &r1]);
    // As the JavaScript client writes them: a string is text, a number is a signed integer.
    put_text(&mut doc, &risk, "title", "Identity provider outage");
    doc.automerge().put(&risk, "inherent_likelihood", ScalarValue::Int(4)).unwrap();
    doc.automerge().put(&risk, "residual_impact", 2.0).unwrap();
    // And shapes nobody can read as ours.
    doc.automerge().put_object(&risk, "controls", ObjType::List).unwrap();
    doc.automerge().put(&risk, "treatment", "Ignore it").unwrap();
    let risks_map = obj(&mut doc, &["risks"]);
    doc.automerge().put(&risks_map, r2.as_str(), "not a risk").unwrap();
    let alt = obj(&mut doc, &["suppliers", &supplier, "alternatives", &alternative]);
    put_text(&mut doc, &alt, "name", "Second identity provider");
    doc.automerge().put(&alt, "switch_over_days", true).unwrap();
    doc.automerge().commit();

    let register = doc.register().unwrap();
    let shown = &register.risks[&r1];
    assert_eq!(shown.title, "Identity provider outage");
    assert_eq!(shown.inherent_likelihood, 4);
    assert_eq!(shown.residual_impact, 2);
    assert_eq!(shown.controls, "");
    assert_eq!(shown.treatment, Treatment::Treat);
    assert_eq!(shown.unreadable.0["controls"], "a list of 0 items");
    assert_eq!(shown.unreadable.0["treatment"], "the words \u{201c}Ignore it\u{201d}");
    assert_eq!(shown.unreadable.0.len(), 2);
    assert!(!register.risks.contains_key(&r2));
    assert!(register.unreadable.0.contains_key(&format!("risks/{r2}")));
    assert_eq!(register.risks.len(), before.risks.len() - 1);
    let alt_shown = &register.suppliers[&supplier].alternatives[&alternative];
    assert_eq!(alt_shown.name, "Second identity provider");
    assert!(alt_shown.unreadable.contains("switch_over_days"));
    // Everything else is as it was.
    assert_eq!(register.people, before.people);
    assert_eq!(register.policies, before.policies);

    let found: Vec<String> =
        findings(&register, shared::date::Now::noon(today())).into_iter().map(|f| f.message).collect();
    assert!(found.iter().any(|m| m.contains("the controls cannot be read")), "{found:#?}");
    assert!(found.iter().any(|m| m.contains(&format!("(id {r2}) cannot be read"))), "{found:#?}");
    assert!(found.iter().any(|m| m.contains("alternatives/") && m.contains("switch_over_days")), "{found:#?}");
    everything_carries_on(&register);

    // An edit of another field leaves what cannot be read in place, untouched.
    doc.update::<Risk>(&r1, NOW + 60, |r| r.description = "Sign-in fails for everyone".into()).unwrap();
    let risk = obj(&mut doc, &["risks", &r1]);
    assert!(matches!(doc.automerge().get(&risk, "controls").unwrap(), Some((Value::Object(ObjType::List), _))));
    assert!(matches!(doc.automerge().get(&risk, "title").unwrap(), Some((Value::Object(ObjType::Text), _))));
    // Setting the field writes it back in our shape.
    doc.update::<Risk>(&r1, NOW + 120, |r| {
        r.controls = "Second provider on standby".into();
        r.title = "Identity provider down".into();
    })
    .unwrap();
    let risk = obj(&mut doc, &["risks", &r1]);
    assert_eq!(doc.automerge().get(&risk, "controls").unwrap().unwrap().0.as_str(), Some("Second provider on standby"));
    assert_eq!(doc.automerge().get(&risk, "title").unwrap().unwrap().0.as_str(), Some("Identity provider down"));
    let risk_now = doc.get::<Risk>(&r1).unwrap().unwrap();
    assert_eq!(risk_now.unreadable.0.keys().collect::<Vec<_>>(), ["treatment"]);
    // The record that is not a map at all: a clear error when someone tries to change it.
    let refused = doc.update::<Risk>(&r2, NOW + 180, |r| r.title = "x".into()).unwrap_err();
    assert!(refused.to_string().contains("cannot be read: it holds the words"), "{refused}");
}

#[test]
fn a_counter_reads_with_its_increments_beside_fields_read_in_one_pass() {
    // A record's fields are read in one pass over its map: a counter read that way is still
    // the sum of its increments, as reading the field alone gives.
    let mut doc = sample();
    let id = doc.register().unwrap().risks.keys().next().unwrap().clone();
    let at = obj(&mut doc, &["risks", &id]);
    let am = doc.automerge();
    am.put(&at, "residual_impact", ScalarValue::counter(1)).unwrap();
    am.increment(&at, "residual_impact", 3).unwrap();
    am.put(&at, "controls", "Read beside the counter").unwrap();
    let risk = doc.register().unwrap().risks[&id].clone();
    assert_eq!(risk.residual_impact, 4);
    assert_eq!(risk.controls, "Read beside the counter");
    assert_eq!(doc.get::<Risk>(&id).unwrap(), Some(risk));
}

#[test]
fn a_service_written_by_another_client_keeps_every_objective_it_can_read() {
    let mut doc = sample();
    let service = obj(&mut doc, &["services", "sv-platform"]);
    // The JavaScript client's numbers: a signed integer, a float; and a duration in words.
    doc.automerge().put(&service, "rto", ScalarValue::Int(240)).unwrap();
    doc.automerge().put(&service, "rpo", 30.0).unwrap();
    put_text(&mut doc, &service, "mtpd", "3 days");
    let impact = obj(&mut doc, &["services", "sv-platform", "impact", "day_1"]);
    doc.automerge().put(&impact, "financial", "high").unwrap();
    let tested = obj(&mut doc, &["exercises", "e-dr", "tested", "sv-platform"]);
    doc.automerge().put(&tested, "time", ScalarValue::Int(-5)).unwrap();
    doc.automerge().commit();

    let register = doc.register().unwrap();
    let shown = &register.services["sv-platform"];
    assert_eq!(shown.rto, Some(shared::recovery::Minutes::hours(4)));
    assert_eq!(shown.rpo, Some(shared::recovery::Minutes(30)));
    assert_eq!(shown.mtpd, None, "words are not read as a length of time");
    assert!(shown.unreadable.contains("mtpd"));
    assert_eq!(shown.impact.day_1.financial, 0);
    assert!(shown.impact.unreadable.is_empty() && shown.impact.day_1.unreadable.contains("financial"));
    assert_eq!(shown.impact.day_1.contractual, 4, "the rest of the impact is kept");
    let achieved = &register.exercises["e-dr"].tested["sv-platform"];
    assert_eq!(achieved.time, None);
    assert!(achieved.unreadable.contains("time"));
    assert_eq!(achieved.data_loss, Some(shared::recovery::Minutes(20)));
    let found: Vec<String> =
        findings(&register, shared::date::Now::noon(today())).into_iter().map(|f| f.message).collect();
    assert!(found.iter().any(|m| m.contains("SV-001 Customer platform: the mtpd cannot be read")), "{found:#?}");
    assert!(
        found.iter().any(|m| m.contains("SV-001 Customer platform: impact/day_1/financial cannot be read")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|m| m
            .contains("E-001 Full DR exercise on the reference deployment: tested/sv-platform/time cannot be read")),
        "{found:#?}"
    );
    everything_carries_on(&register);
}

#[test]
fn an_incident_log_written_by_another_client_is_read_entry_by_entry_and_can_still_be_added_to() {
    let mut doc = sample();
    let id = doc.register().unwrap().incidents.keys().next().unwrap().clone();
    let before = doc.get::<Incident>(&id).unwrap().unwrap();
    let log = obj(&mut doc, &["incidents", &id, "log"]);
    // A JavaScript client's entry: text as a text object, the time as a float, a kind we do not have.
    let entry = doc.automerge().put_object(&log, "js-entry", ObjType::Map).unwrap();
    put_text(&mut doc, &entry, "text", "Written from the other app");
    doc.automerge().put(&entry, "at", (NOW as f64) + 0.0).unwrap();
    doc.automerge().put(&entry, "kind", "Gossip").unwrap();
    let severities = obj(&mut doc, &["incidents", &id, "severities"]);
    let change = doc.automerge().put_object(&severities, "js-severity", ObjType::Map).unwrap();
    doc.automerge().put(&change, "to", ScalarValue::Int(1)).unwrap();
    doc.automerge().put(&change, "at", ScalarValue::Int(NOW + 1)).unwrap();
    doc.automerge().put_object(&change, "reason", ObjType::List).unwrap();
    doc.automerge().commit();

    let incident = doc.get::<Incident>(&id).unwrap().unwrap();
    let shown = &incident.log["js-entry"];
    assert_eq!((shown.text.as_str(), shown.at, shown.kind), ("Written from the other app", NOW, LogKind::Note));
    assert!(shown.unreadable.contains("kind"));
    assert_eq!(incident.log.len(), before.log.len() + 1, "every other entry still there");
    assert_eq!(incident.severity(), Some(1), "the latest change, though its reason cannot be read");
    let found: Vec<String> =
        findings(&doc.register().unwrap(), shared::date::Now::noon(today())).into_iter().map(|f| f.message).collect();
    assert!(found.iter().any(|m| m.contains("log/js-entry/kind cannot be read")), "{found:#?}");
    assert!(found.iter().any(|m| m.contains("severities/js-severity/reason cannot be read")), "{found:#?}");
    // Adding an entry leaves the other app's entries as they were written.
    doc.update::<Incident>(&id, NOW + 60, |i| {
        i.log.insert("ours".into(), LogEntry { at: NOW + 60, text: "Ours".into(), ..Default::default() });
    })
    .unwrap();
    let entry = obj(&mut doc, &["incidents", &id, "log", "js-entry"]);
    assert!(matches!(doc.automerge().get(&entry, "text").unwrap(), Some((Value::Object(ObjType::Text), _))));
    assert_eq!(doc.automerge().get(&entry, "kind").unwrap().unwrap().0.as_str(), Some("Gossip"));
    assert_eq!(doc.get::<Incident>(&id).unwrap().unwrap().log.len(), before.log.len() + 2);
}

#[test]
fn reading_only_what_changed_sees_what_a_whole_read_sees() {
    let mut doc = sample();
    let mut register = doc.register().unwrap();
    let heads = doc.heads();
    let r1 = register.risks.keys().next().unwrap().clone();
    let risk = obj(&mut doc, &["risks", &r1]);
    doc.automerge().put(&risk, "status", 7).unwrap();
    let risks = obj(&mut doc, &["risks"]);
    let last = register.risks.keys().last().unwrap().clone();
    doc.automerge().put_object(&risks, last.as_str(), ObjType::List).unwrap();
    doc.automerge().put_object(automerge::ROOT, "actors", ObjType::List).unwrap();
    doc.automerge().commit();
    let changed = doc.changed_since(&heads);
    doc.refresh(&mut register, &changed).unwrap();
    assert_eq!(register, doc.register().unwrap());
    assert!(register.unreadable.contains(&format!("risks/{last}")));
    assert!(register.unreadable.contains("actors"));
    assert!(register.risks[&r1].unreadable.contains("status"));
}

/// A value of any shape another client might write.
fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        ".{0,12}".prop_map(Shape::Text),
        ".{0,12}".prop_map(Shape::Str),
        any::<i64>().prop_map(Shape::Int),
        any::<f64>().prop_map(Shape::F64),
        any::<bool>().prop_map(Shape::Bool),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Shape::Bytes),
        Just(Shape::Null),
        any::<i64>().prop_map(Shape::Counter),
        prop::collection::vec(".{0,6}", 0..4).prop_map(Shape::List),
        prop::collection::vec(".{1,6}", 0..4).prop_map(Shape::Map),
    ]
}

#[derive(Clone, Debug)]
enum Shape {
    Text(String),
    Str(String),
    Int(i64),
    F64(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Null,
    Counter(i64),
    List(Vec<String>),
    Map(Vec<String>),
}

fn write(doc: &mut RegisterDoc, at: &ObjId, key: &str, shape: &Shape) {
    let am = doc.automerge();
    match shape {
        Shape::Text(s) => {
            let t = am.put_object(at, key, ObjType::Text).unwrap();
            am.splice_text(&t, 0, 0, s).unwrap();
        }
        Shape::Str(s) => am.put(at, key, s.as_str()).unwrap(),
        Shape::Int(i) => am.put(at, key, ScalarValue::Int(*i)).unwrap(),
        Shape::F64(f) => am.put(at, key, *f).unwrap(),
        Shape::Bool(b) => am.put(at, key, *b).unwrap(),
        Shape::Bytes(b) => am.put(at, key, ScalarValue::Bytes(b.clone())).unwrap(),
        Shape::Null => am.put(at, key, ScalarValue::Null).unwrap(),
        Shape::Counter(c) => am.put(at, key, ScalarValue::counter(*c)).unwrap(),
        Shape::List(items) => {
            let list = am.put_object(at, key, ObjType::List).unwrap();
            for (i, item) in items.iter().enumerate() {
                let t = am.insert_object(&list, i, ObjType::Text).unwrap();
                am.splice_text(&t, 0, 0, item).unwrap();
            }
        }
        Shape::Map(keys) => {
            let map = am.put_object(at, key, ObjType::Map).unwrap();
            for k in keys {
                am.put(&map, k.as_str(), 1).unwrap();
            }
        }
    }
}

struct Fields;
impl model::ForKind for Fields {
    type Output = &'static [&'static str];
    fn run<R: Record>(self) -> Self::Output {
        R::fields()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Values of random shapes in random fields of random records (and in the register's own
    /// fields): the register always opens, every other record reads as before, and the exports
    /// carry on.
    #[test]
    fn values_of_any_shape_in_any_field_never_stop_the_register_opening(
        writes in prop::collection::vec((0..Kind::ALL.len(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), shape()), 1..6),
        header in prop::option::of(shape()),
    ) {
        let mut doc = sample();
        let before = doc.register().unwrap();
        let mut touched = std::collections::BTreeSet::new();
        for (kind, record, field, shape) in &writes {
            let kind = Kind::ALL[*kind];
            let ids: Vec<String> = {
                struct Ids<'a>(&'a Register);
                impl model::ForKind for Ids<'_> {
                    type Output = Vec<String>;
                    fn run<R: Record>(self) -> Vec<String> { R::collection(self.0).keys().cloned().collect() }
                }
                kind.run(Ids(&before))
            };
            if ids.is_empty() { continue; }
            let id = record.get(&ids).clone();
            let at = obj(&mut doc, &[kind.collection(), &id]);
            let fields = kind.run(Fields);
            let key: &str = fields[field.index(fields.len())];
            write(&mut doc, &at, key, shape);
            touched.insert((kind, id));
        }
        if let Some(shape) = &header {
            write(&mut doc, &automerge::ROOT, "name", shape);
        }
        doc.automerge().commit();
        let register = doc.register().unwrap();
        prop_assert_eq!(register.people.len() + register.risks.len(), before.people.len() + before.risks.len());
        for (id, person) in &before.people {
            if !touched.contains(&(Kind::Person, id.clone())) {
                prop_assert_eq!(&register.people[id], person);
            }
        }
        // Reloading the saved bytes reads the same.
        let mut saved = RegisterDoc::load(&doc.save()).unwrap();
        prop_assert_eq!(&saved.register().unwrap(), &register);
        let _ = saved.heads();
        everything_carries_on(&register);
    }
}
