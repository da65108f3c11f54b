//! `RegisterDoc` on its own: edits write only what changed, bad input harms nothing,
//! old documents load, and history and the register as of a date are right.
#![cfg(not(target_arch = "wasm32"))]

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType};
use shared::*;

const T0: i64 = 1_795_000_000; // 17 Nov 2026

fn risk() -> Risk {
    Risk::titled("Regional outage")
}

fn ops_in_last_change(doc: &mut RegisterDoc) -> usize {
    doc.automerge().get_last_local_change().unwrap().decode().operations.len()
}

#[test]
fn an_edit_writes_only_the_fields_that_changed() {
    let mut doc = RegisterDoc::new("r", T0).unwrap();
    doc.create("x", risk(), T0).unwrap();
    doc.update::<Risk>("x", T0, |r| r.residual_impact = 4).unwrap();
    assert_eq!(ops_in_last_change(&mut doc), 1);
    doc.update::<Risk>("x", T0, |r| {
        r.controls = "Paired region".into();
        r.suppliers = Links::of(["s1", "s2"]);
    })
    .unwrap();
    assert_eq!(ops_in_last_change(&mut doc), 3, "one text field and two links");
    let heads = doc.heads();
    doc.update::<Risk>("x", T0, |r| r.controls = "Paired region".into()).unwrap();
    assert_eq!(doc.heads(), heads, "an edit that changes nothing writes nothing");
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_harms_nothing() {
    let mut doc = RegisterDoc::new("r", T0).unwrap();
    doc.create("x", risk(), T0).unwrap();
    let heads = doc.heads();
    let err = doc.update::<Risk>("x", T0, |r| r.inherent_likelihood = 7).unwrap_err();
    assert_eq!(err.to_string(), "Inherent likelihood must be from 1 to 5, not 7");
    let err = doc.update::<Risk>("x", T0, |r| r.target_score = 0).unwrap_err();
    assert_eq!(err.to_string(), "The target score must be from 1 to 25, not 0");
    let err = doc.create("y", Risk { title: "  ".into(), ..risk() }, T0).unwrap_err();
    assert_eq!(err.to_string(), "A risk needs a title");
    let err = doc.create("x", risk(), T0).unwrap_err();
    assert_eq!(err.to_string(), "a risk with id x already exists");
    let err = doc.update::<Risk>("nope", T0, |r| r.residual_impact = 1).unwrap_err();
    assert_eq!(err.to_string(), "there is no risk with id nope");
    let err = doc.create("p", Policy { name: "Cyber".into(), excess: Pence(-1), ..Default::default() }, T0);
    assert_eq!(err.unwrap_err().to_string(), "The excess cannot be negative (-£0.01)");
    assert_eq!(doc.heads(), heads);
    assert_eq!(doc.get::<Risk>("x").unwrap().unwrap(), Risk { number: 1, ..risk() });
}

#[test]
fn a_document_that_is_not_a_register_is_refused() {
    let err = RegisterDoc::load(b"not automerge at all").unwrap_err();
    assert!(err.to_string().starts_with("this is not a register document"), "{err}");

    let mut other = AutoCommit::new();
    other.put(automerge::ROOT, "hello", "world").unwrap();
    let err = RegisterDoc::load(&other.save()).unwrap_err();
    assert_eq!(err.to_string(), "this is not a register document: it has no schema version");

    let mut newer = AutoCommit::new();
    newer.put(automerge::ROOT, "schema_version", 99u64).unwrap();
    let err = RegisterDoc::load(&newer.save()).unwrap_err();
    assert!(err.to_string().contains("newer version"), "{err}");
}

#[test]
fn an_older_document_without_newer_fields_still_loads() {
    // A register written before most fields existed: a risk with a title only, and no
    // collections apart from risks.
    let mut old = AutoCommit::new();
    old.put(automerge::ROOT, "schema_version", 1u64).unwrap();
    let risks = old.put_object(automerge::ROOT, "risks", ObjType::Map).unwrap();
    let r = old.put_object(&risks, "x", ObjType::Map).unwrap();
    old.put(&r, "title", "Old risk").unwrap();
    let mut doc = RegisterDoc::load(&old.save()).unwrap();
    let register = doc.register().unwrap();
    assert_eq!(register.risks["x"].title, "Old risk");
    assert_eq!(register.risks["x"].treatment, Treatment::Treat);
    assert!(register.suppliers.is_empty());
    // And it can be edited, including collections it never had.
    doc.create("p", Person { name: "Amara".into(), ..Default::default() }, T0).unwrap();
    assert_eq!(doc.register().unwrap().people["p"].number, 1);
}

#[test]
fn history_names_who_changed_which_field_when() {
    let mut a = RegisterDoc::new("r", T0).unwrap();
    a.set_actor(ActorId::from(b"device-a".as_slice()));
    a.identify("p-amara", T0).unwrap();
    a.create("x", risk(), T0 + 10).unwrap();
    let mut b = a.fork();
    b.set_actor(ActorId::from(b"device-b".as_slice()));
    b.identify("p-tom", T0 + 15).unwrap();
    b.update::<Risk>("x", T0 + 20, |r| r.residual_impact = 5).unwrap();
    a.update::<Risk>("x", T0 + 30, |r| r.residual_impact = 1).unwrap();
    a.update::<Risk>("x", T0 + 40, |r| r.suppliers = Links::of(["s1"])).unwrap();
    a.merge(&mut b).unwrap();

    let history = a.history::<Risk>("x").unwrap();
    type Line<'a> = (Option<&'a str>, i64, &'a str, Option<&'a str>, Option<&'a str>);
    let summary: Vec<Line> = history
        .iter()
        .map(|h| (h.person.as_deref(), h.time, h.field.as_str(), h.old.as_deref(), h.new.as_deref()))
        .collect();
    assert!(summary.contains(&(Some("p-amara"), T0 + 10, "", None, Some("created"))), "{summary:#?}");
    assert!(summary.contains(&(Some("p-tom"), T0 + 20, "residual_impact", Some("3"), Some("5"))), "{summary:#?}");
    assert!(summary.contains(&(Some("p-amara"), T0 + 30, "residual_impact", Some("3"), Some("1"))), "{summary:#?}");
    assert!(summary.contains(&(Some("p-amara"), T0 + 40, "suppliers/s1", None, Some("yes"))), "{summary:#?}");
    assert_eq!(history.len(), 4, "{summary:#?}");

    // The concurrent edit is visible as a conflict with both values.
    let conflicts = a.conflicts::<Risk>("x").unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, "residual_impact");
    let mut values = conflicts[0].values.clone();
    values.sort();
    assert_eq!(values, ["1", "5"]);

    // Changes made and merged after a history was read are in the next one: the index of
    // changes by object is brought up to date, and agrees with a copy that never read any.
    let mut c = a.fork();
    c.set_actor(ActorId::from(b"device-c".as_slice()));
    c.update::<Risk>("x", T0 + 50, |r| r.controls = "From c".into()).unwrap();
    a.update::<Risk>("x", T0 + 60, |r| r.description = "From a".into()).unwrap();
    a.create("y", risk(), T0 + 70).unwrap();
    a.merge(&mut c).unwrap();
    let later = a.history::<Risk>("x").unwrap();
    assert_eq!(later.len(), 6, "{later:#?}");
    assert!(later.iter().any(|h| h.field == "controls" && h.new.as_deref() == Some("From c")));
    let mut fresh = RegisterDoc::load(&a.save()).unwrap();
    assert_eq!(fresh.history::<Risk>("x").unwrap(), later);
    assert_eq!(a.history::<Risk>("y").unwrap().len(), 1);
}

#[test]
fn the_register_as_it_stood_at_the_end_of_a_uk_day() {
    // 1 Jul 2026 22:30 UTC is 23:30 in London (BST); 23:30 UTC is already 2 Jul there.
    let evening = 1_782_945_000; // 2026-07-01T22:30:00Z
    let after_midnight = evening + 3600;
    let mut doc = RegisterDoc::new("r", evening - 86_400).unwrap();
    doc.create("x", risk(), evening).unwrap();
    doc.update::<Risk>("x", after_midnight, |r| r.residual_impact = 5).unwrap();

    let d = |s| Date::parse(s).unwrap();
    assert!(doc.as_of(d("2026-06-30")).unwrap().risks.is_empty(), "before the risk existed");
    assert_eq!(doc.as_of(d("2026-07-01")).unwrap().risks["x"].residual_impact, 3);
    assert_eq!(doc.as_of(d("2026-07-02")).unwrap().risks["x"].residual_impact, 5);

    // A device with a clock running slow: its change claims an earlier time than the change
    // it builds on. It is left out with what it depends on, never shown without it.
    doc.update::<Risk>("x", evening - 7 * 86_400, |r| r.controls = "Slow clock".into()).unwrap();
    let july_second = doc.as_of(d("2026-07-02")).unwrap();
    assert_eq!(july_second.risks["x"].controls, "Slow clock");
    let july_first = doc.as_of(d("2026-07-01")).unwrap();
    assert_eq!(july_first.risks["x"].controls, "");
    assert_eq!(july_first.risks["x"].residual_impact, 3);
    assert!(doc.as_of(d("2020-01-01")).unwrap().risks.is_empty());
}

#[test]
fn a_new_record_takes_the_next_number_after_changes_from_elsewhere() {
    let mut a = RegisterDoc::new("Numbers", 0).unwrap();
    assert_eq!(a.create("r1", risk(), 1).unwrap(), 1);
    let mut b = a.fork();
    assert_eq!(b.create("r2", risk(), 2).unwrap(), 2);
    assert_eq!(b.create("r3", risk(), 3).unwrap(), 3);
    // Own edits between creates keep counting from where this replica was.
    a.update::<Risk>("r1", 4, |r| r.controls = "Checked".into()).unwrap();
    assert_eq!(a.create("r4", risk(), 5).unwrap(), 2);
    // Changes arriving by sync (through the raw document, as the protocol applies them)
    // make the next create count again: no number this replica has seen is reused.
    let theirs = b.save();
    a.automerge().load_incremental(&theirs).unwrap();
    assert_eq!(a.create("r5", risk(), 6).unwrap(), 4);
    a.merge(&mut b).unwrap();
    assert_eq!(a.create("r6", risk(), 7).unwrap(), 5);
}

#[test]
fn a_backup_restores_what_was_lost_and_keeps_what_came_after() {
    let mut start = RegisterDoc::new("Backup", 0).unwrap();
    let mut doc = start.fork();
    doc.create("r1", risk(), 1).unwrap();
    let backup = doc.save();

    // A replica that has seen everything in the backup and more gains nothing from it.
    let mut ahead = doc.fork();
    ahead.update::<Risk>("r1", 2, |r| r.controls = "Added after the backup".into()).unwrap();
    assert_eq!(ahead.restore_backup(&backup, 1_800_000_000).unwrap(), 0);
    assert_eq!(ahead.get::<Risk>("r1").unwrap().unwrap().controls, "Added after the backup");

    // A replica that lost the record (only the register's start survived) gets it back, and
    // edits made after restoring stay when the same backup is restored again.
    assert!(start.restore_backup(&backup, 1_800_000_000).unwrap() > 0);
    assert_eq!(start.register().unwrap(), doc.register().unwrap());
    start.update::<Risk>("r1", 3, |r| r.category = "Restored, then edited".into()).unwrap();
    assert_eq!(start.restore_backup(&backup, 1_800_000_000).unwrap(), 0);
    assert_eq!(start.get::<Risk>("r1").unwrap().unwrap().category, "Restored, then edited");

    // A different register (made on its own), junk, and a copy with no register yet refuse,
    // and nothing changes.
    let mut other = RegisterDoc::new("Backup", 0).unwrap();
    let before = other.register().unwrap();
    assert!(matches!(other.restore_backup(&backup, 1_800_000_000), Err(DocError::OtherRegister)));
    assert!(matches!(other.restore_backup(b"not a register", 1_800_000_000), Err(DocError::NotARegister(_))));
    assert_eq!(other.register().unwrap(), before);
    assert!(matches!(RegisterDoc::empty().restore_backup(&backup, 1_800_000_000), Err(DocError::NoRegisterYet)));
}

#[test]
fn edits_as_values_write_only_what_the_person_changed() {
    let mut doc = RegisterDoc::new("Edits", 0).unwrap();
    doc.apply(Edit::Create { id: "r1".into(), record: risk().any_record() }, 1).unwrap();
    let shown: Risk = doc.get("r1").unwrap().unwrap();
    assert_eq!(shown.number, 1);

    // Someone else changes the controls after the person's copy was shown; the person
    // changes the category. Both stay.
    doc.update::<Risk>("r1", 2, |r| r.controls = "Someone else's controls".into()).unwrap();
    let mut mine = shown.clone();
    mine.category = "My category".into();
    doc.apply(Edit::Update { id: "r1".into(), old: shown.clone().any_record(), new: mine.any_record() }, 3).unwrap();
    let now: Risk = doc.get("r1").unwrap().unwrap();
    assert_eq!((now.controls.as_str(), now.category.as_str()), ("Someone else's controls", "My category"));

    // Refused edits write nothing.
    let heads = doc.heads();
    let wrong = Edit::Update { id: "r1".into(), old: shown.any_record(), new: Person::default().any_record() };
    assert!(matches!(doc.apply(wrong, 4), Err(DocError::Invalid(_))));
    // A kind with no record of that id (kinds are a closed set: no edit can name another).
    let unknown = Edit::Archive { kind: Kind::Supplier, id: "r1".into(), archived: true };
    assert!(matches!(doc.apply(unknown, 4), Err(DocError::NotFound { .. })));
    let missing = Edit::Update { id: "r9".into(), old: risk().any_record(), new: Risk::titled("Other").any_record() };
    assert!(matches!(doc.apply(missing, 4), Err(DocError::NotFound { .. })));
    assert_eq!(doc.heads(), heads);

    doc.apply(Edit::Archive { kind: Kind::Risk, id: "r1".into(), archived: true }, 5).unwrap();
    assert!(doc.get::<Risk>("r1").unwrap().unwrap().archived);

    doc.apply(
        Edit::Create {
            id: "e1".into(),
            record: Exercise { title: "Tabletop".into(), ..Default::default() }.any_record(),
        },
        6,
    )
    .unwrap();
    let action = Action {
        title: "Call the bureau".into(),
        owner: Some("p1".into()),
        due: Some(Date::parse("2026-12-20").unwrap()),
        ..Default::default()
    };
    let raise = |id: &str, action: &Action, risk: &str| Edit::RaiseAction {
        action: id.into(),
        record: Box::new(action.clone()),
        exercise: Some("e1".into()),
        risk: Some(risk.into()),
        incident: None,
    };
    assert_eq!(raise("a1", &action, "r1").record(), None);
    let before = doc.heads();
    doc.apply(raise("a1", &action, "r1"), 7).unwrap();
    assert_eq!(doc.changes_after(&before), 1, "created and linked from both in one change");
    let register = doc.register().unwrap();
    assert_eq!(register.actions["a1"].title, "Call the bureau");
    assert_eq!(register.actions["a1"].owner.as_deref(), Some("p1"));
    assert!(register.exercises["e1"].actions.0.contains("a1") && register.risks["r1"].actions.0.contains("a1"));

    // Refused whole: no owner, no due date, or a risk that is not there.
    let before = doc.heads();
    let unowned = Action { owner: None, ..action.clone() };
    let undated = Action { due: None, ..action.clone() };
    for (edit, why) in [
        (raise("a2", &unowned, "r1"), "An action needs an owner"),
        (raise("a3", &undated, "r1"), "An action needs a due date"),
        (raise("a4", &action, "no-such-risk"), "no-such-risk"),
    ] {
        let refused = doc.apply(edit, 8).unwrap_err().to_string();
        assert!(refused.contains(why), "{refused}");
    }
    assert_eq!(doc.heads(), before, "nothing written");
    assert_eq!(doc.register().unwrap().actions.len(), 1);
}

#[test]
fn a_supplier_review_needs_a_reviewer_raises_its_action_and_can_be_corrected() {
    let mut doc = RegisterDoc::new("Reviews", 0).unwrap();
    let supplier = Supplier {
        name: "Payroll bureau".into(),
        alternatives: [("alt".to_string(), Alternative { name: "In-house".into(), ..Default::default() })].into(),
        ..Default::default()
    };
    doc.create("s1", supplier, 1).unwrap();
    doc.create("r1", risk(), 1).unwrap();
    let day = Date::parse("2026-12-02").unwrap();
    let review = |reviewer: Option<&str>, outcome| SupplierReview {
        date: Some(day),
        reviewer: reviewer.map(str::to_string),
        outcome,
        notes: "Checked".into(),
        ..Default::default()
    };
    let edit = |id: &str, record: SupplierReview, action: Option<RaisedAction>| Edit::ReviewSupplier {
        supplier: "s1".into(),
        review: id.into(),
        record: Box::new(record),
        action,
    };
    let before = doc.heads();
    let refused = doc.apply(edit("v1", review(None, ReviewOutcome::Confirmed), None), 2).unwrap_err();
    assert!(refused.to_string().contains("needs the person who carried it out"), "{refused}");
    let refused = doc.apply(edit("v1", review(Some("p1"), ReviewOutcome::ActionRaised), None), 2).unwrap_err();
    assert!(refused.to_string().contains("needs the action it raises"), "{refused}");
    assert_eq!(doc.heads(), before, "nothing written");

    let action = Action {
        title: "Find a second bureau".into(),
        owner: Some("p1".into()),
        due: Some(day.add_months(1)),
        ..Default::default()
    };
    let raised = ("a1".to_string(), Box::new(action), Some("r1".to_string()));
    doc.apply(edit("v1", review(Some("p1"), ReviewOutcome::ActionRaised), Some(raised)), 3).unwrap();
    assert_eq!(doc.changes_after(&before), 1, "the review and its action in one change");
    let register = doc.register().unwrap();
    let recorded = &register.suppliers["s1"].reviews["v1"];
    assert_eq!(recorded.action.as_deref(), Some("a1"));
    assert_eq!(register.suppliers["s1"].alternatives["alt"].last_assessed, Some(day));
    assert!(register.risks["r1"].actions.0.contains("a1"));
    assert_eq!(register.actions["a1"].title, "Find a second bureau");

    // Corrected: another reviewer and note; the action it raised stays linked.
    let corrected =
        SupplierReview { notes: "Checked with finance".into(), ..review(Some("p2"), ReviewOutcome::ActionRaised) };
    doc.apply(edit("v1", corrected, None), 4).unwrap();
    let register = doc.register().unwrap();
    let recorded = &register.suppliers["s1"].reviews["v1"];
    assert_eq!((recorded.reviewer.as_deref(), recorded.notes.as_str()), (Some("p2"), "Checked with finance"));
    assert_eq!(recorded.action.as_deref(), Some("a1"));
    assert_eq!(register.suppliers["s1"].reviews.len(), 1);
}

#[test]
fn a_patch_between_two_copies_turns_one_into_the_other() {
    let mut doc = RegisterDoc::new("Patches", 0).unwrap();
    doc.create("r1", risk(), 1).unwrap();
    doc.create("r2", risk(), 1).unwrap();
    let before = doc.register().unwrap();
    doc.update::<Risk>("r1", 2, |r| r.controls = "Changed".into()).unwrap();
    doc.create("p1", Person { name: "Amara".into(), ..Default::default() }, 3).unwrap();
    doc.identify("p1", 4).unwrap();
    let mut after = doc.register().unwrap();
    after.risks.remove("r2"); // as if gone
    let patch = RegisterPatch::between(&before, &after);
    assert_eq!(patch.put.len(), 2, "the changed risk and the new person only");
    assert_eq!(patch.removed, vec![(Kind::Risk, "r2".to_string())]);
    assert!(patch.header.is_some(), "the actors changed");
    let mut copy = before.clone();
    patch.apply_to(&mut copy);
    assert_eq!(copy, after);
    assert!(RegisterPatch::between(&after, &after).is_empty());
}

#[test]
fn history_says_which_changes_came_in_by_a_restore_and_which_restore() {
    let mut start = RegisterDoc::new("Backup", 0).unwrap();
    let mut colleague = start.fork();
    colleague.create("r1", risk(), 1).unwrap();
    colleague.update::<Risk>("r1", 2, |r| r.controls = "Colleague's".into()).unwrap();
    let backup = colleague.save();
    start.update::<Risk>("r1", 3, |r| r.controls = "x".into()).unwrap_err();
    assert!(start.history::<Risk>("r1").is_err(), "the record is not there before the restore");

    start.restore_backup(&backup, 1_800_000_000).unwrap();
    start.update::<Risk>("r1", 4, |r| r.category = "After the restore".into()).unwrap();
    let history = start.history::<Risk>("r1").unwrap();
    let mark = start
        .automerge()
        .get_changes(&[])
        .into_iter()
        .find(|c| c.message().is_some_and(|m| m.starts_with(shared::authorship::RESTORE_MARK)))
        .map(|c| c.hash().to_string());
    assert!(mark.is_some(), "the restore left its mark");
    let (from_backup, after): (Vec<_>, Vec<_>) = history.iter().partition(|e| e.restored_in.is_some());
    assert!(from_backup.iter().all(|e| e.restored_in == mark));
    assert!(from_backup.iter().any(|e| e.new.as_deref() == Some("Colleague's")));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].new.as_deref(), Some("After the restore"));

    // Another replica that syncs the restore sees the same.
    let mut other = RegisterDoc::load(&start.save()).unwrap();
    assert_eq!(other.history::<Risk>("r1").unwrap(), history);
    // Restoring what is already there leaves no mark.
    let changes = start.automerge().get_changes(&[]).len();
    assert_eq!(start.restore_backup(&backup, 1_800_000_001).unwrap(), 0);
    assert_eq!(start.automerge().get_changes(&[]).len(), changes);
}

/// A register as a much older version wrote it: its name and version, one collection.
fn old_register() -> Vec<u8> {
    let mut old = AutoCommit::new();
    old.put(automerge::ROOT, "schema_version", shared::model::SCHEMA_VERSION).unwrap();
    old.put(automerge::ROOT, "name", "Written long ago").unwrap();
    old.put_object(automerge::ROOT, "risks", ObjType::Map).unwrap();
    old.commit();
    old.save()
}

#[test]
fn two_replicas_upgrading_an_old_register_offline_make_one_change_and_both_keep_their_records() {
    let bytes = old_register();
    let (mut a, mut b) = (RegisterDoc::load(&bytes).unwrap(), RegisterDoc::load(&bytes).unwrap());
    a.set_actor(ActorId::random());
    b.set_actor(ActorId::random());
    // Each, offline, writes into a collection the register did not have.
    a.create("plan-a", Plan { title: "Written by A".into(), ..Default::default() }, 10).unwrap();
    b.create("plan-b", Plan { title: "Written by B".into(), ..Default::default() }, 11).unwrap();
    let (mut a2, mut b2) = (a.fork(), b.fork());
    a.merge(&mut b2).unwrap();
    b.merge(&mut a2).unwrap();
    for merged in [&a, &b] {
        let plans = merged.register().unwrap().plans;
        assert_eq!(plans.keys().collect::<Vec<_>>(), ["plan-a", "plan-b"], "neither map hides the other");
    }
    // The start, one change per upgrade step between them, and each one's record.
    assert_eq!(a.changes_after(&[]), 6);
    assert_eq!(a.heads().len(), 2);
    let mut heads = (a.heads(), b.heads());
    heads.0.sort();
    heads.1.sort();
    assert_eq!(heads.0, heads.1);

    // Every collection there is now exists; a register made today needs no upgrade.
    for kind in Kind::ALL {
        let found = automerge::ReadDoc::get(a.automerge(), automerge::ROOT, kind.collection()).unwrap();
        assert!(matches!(found, Some((automerge::Value::Object(ObjType::Map), _))), "{kind:?}");
    }
    let mut today = RegisterDoc::new("Made today", 0).unwrap();
    let before = today.heads();
    assert!(!today.upgrade().unwrap());
    assert_eq!(today.heads(), before);
    // An upgraded register opens in an app that only knew the old shape: the change only adds.
    let mut upgraded = RegisterDoc::load(&old_register()).unwrap();
    assert!(upgraded.upgrade().unwrap());
    assert!(!upgraded.upgrade().unwrap(), "once is enough");
    assert_eq!(upgraded.register().unwrap().name, "Written long ago");
}

/// A register as the version before incidents wrote it: every collection but `incidents`.
fn register_before_incidents() -> Vec<u8> {
    let mut old = AutoCommit::new();
    old.put(automerge::ROOT, "schema_version", shared::model::SCHEMA_VERSION).unwrap();
    old.put(automerge::ROOT, "name", "Before incidents").unwrap();
    let before = ["risks", "suppliers", "people", "roles", "runbooks", "break_glass", "exercises", "actions"];
    for name in before.into_iter().chain(["policies", "plans", "actors"]) {
        old.put_object(automerge::ROOT, name, ObjType::Map).unwrap();
    }
    old.commit();
    old.save()
}

#[test]
fn two_replicas_recording_incidents_offline_in_a_register_made_before_incidents_both_keep_theirs() {
    let bytes = register_before_incidents();
    let (mut a, mut b) = (RegisterDoc::load(&bytes).unwrap(), RegisterDoc::load(&bytes).unwrap());
    a.set_actor(ActorId::random());
    b.set_actor(ActorId::random());
    let incident = |title: &str| Incident { title: title.into(), ..Default::default() };
    assert_eq!(a.create("inc-a", incident("Seen by A"), 10).unwrap(), 1);
    assert_eq!(b.create("inc-b", incident("Seen by B"), 11).unwrap(), 1);
    let (mut a2, mut b2) = (a.fork(), b.fork());
    a.merge(&mut b2).unwrap();
    b.merge(&mut a2).unwrap();
    for merged in [&a, &b] {
        let incidents = merged.register().unwrap().incidents;
        assert_eq!(incidents.keys().collect::<Vec<_>>(), ["inc-a", "inc-b"], "neither map hides the other");
    }
    // The start, the upgrade changes both made (incidents, then services and customers), and
    // each one's incident.
    assert_eq!(a.changes_after(&[]), 5);
    let upgrades =
        a.automerge().get_changes(&[]).iter().filter(|c| c.message().is_some_and(|m| m.starts_with("upgrade"))).count();
    assert_eq!(upgrades, 2);
    // The two numbers collide (INC-001 twice) and are told apart as every offline collision is.
    let register = a.register().unwrap();
    let refs = shared::refs::all_references(&register);
    assert_ne!(refs[&Kind::Incident]["inc-a"], refs[&Kind::Incident]["inc-b"]);
}

#[test]
fn two_replicas_recording_services_offline_in_a_register_made_before_them_both_keep_theirs() {
    // A register as the version before the business impact analysis wrote it.
    let mut old = AutoCommit::new();
    old.put(automerge::ROOT, "schema_version", shared::model::SCHEMA_VERSION).unwrap();
    old.put(automerge::ROOT, "name", "Before services").unwrap();
    for kind in Kind::ALL.iter().filter(|k| !matches!(k, Kind::Service | Kind::Customer)) {
        old.put_object(automerge::ROOT, kind.collection(), ObjType::Map).unwrap();
    }
    old.put_object(automerge::ROOT, "actors", ObjType::Map).unwrap();
    old.commit();
    let bytes = old.save();
    let (mut a, mut b) = (RegisterDoc::load(&bytes).unwrap(), RegisterDoc::load(&bytes).unwrap());
    a.set_actor(ActorId::random());
    b.set_actor(ActorId::random());
    a.create("sv-a", Service { name: "Payroll".into(), ..Default::default() }, 10).unwrap();
    b.create("c-b", Customer { name: "Acme".into(), ..Default::default() }, 11).unwrap();
    b.create("sv-b", Service { name: "Support".into(), ..Default::default() }, 12).unwrap();
    let (mut a2, mut b2) = (a.fork(), b.fork());
    a.merge(&mut b2).unwrap();
    b.merge(&mut a2).unwrap();
    for merged in [&a, &b] {
        let register = merged.register().unwrap();
        assert_eq!(register.services.keys().collect::<Vec<_>>(), ["sv-a", "sv-b"], "neither map hides the other");
        assert_eq!(register.customers.keys().collect::<Vec<_>>(), ["c-b"]);
    }
    let upgrades =
        a.automerge().get_changes(&[]).iter().filter(|c| c.message().is_some_and(|m| m.starts_with("upgrade"))).count();
    assert_eq!(upgrades, 1, "one upgrade change between them");
}
