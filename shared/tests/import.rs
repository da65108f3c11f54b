//! Importing spreadsheets: sheets shaped like the ones firms keep (title rows above the
//! headings, blank rows, extra columns, L and I, UK and US dates, words for scores), our own
//! XLSX export back into an empty register, and hostile files, each refused with a reason.
#![cfg(not(target_arch = "wasm32"))]

use shared::import::*;
use shared::*;

fn today() -> Date {
    Date::parse("2026-11-22").unwrap()
}

fn ids() -> impl FnMut() -> Id {
    let mut n = 0;
    move || {
        n += 1;
        format!("import-{n}")
    }
}

fn sample() -> Register {
    shared::sample::sample(today(), 0).unwrap().register().unwrap()
}

const KEPT_BY_HAND: &str = "\
Brightwater risk register,,,,,,,
Reviewed quarterly by the board,,,,,,,
,,,,,,,
Risk,Owner,L,I,Treatment,Review date,Notes,Score
Laptop stolen from a car,Priya Shah,3,2,Reduce,22/11/2026,Encrypted disks,6
,,,,,,,
Payroll bureau fails,Dana Whitfield,2,High,Accept,1 Mar 2026,,8
Flood at the office,Priya Shah,7,4,Treat,2026-01-15,,28
Key engineer leaves,Dana Whitfield,2,3,Treat,31/02/2026,,6
Ransomware on the file server,Tom Hughes,4,5,Transfer,11/30/2026,,20
";

#[test]
fn a_register_kept_by_hand_is_read_row_by_row_with_every_bad_row_said_and_nothing_else_harmed() {
    let sheets = read("risk register.csv", KEPT_BY_HAND.as_bytes()).unwrap();
    assert_eq!(sheets.len(), 1);
    let sheet = &sheets[0];
    assert_eq!(sheet.headings[0], "Risk", "the title rows above the headings are passed over");
    let mapping = guess(sheet);
    assert_eq!(mapping.target, Target::Risks);
    let mapped: Vec<Option<&str>> = mapping.columns.iter().map(|c| c.as_deref()).collect();
    assert_eq!(
        mapped,
        [
            Some("title"),
            Some("owner"),
            Some("inherent_likelihood"),
            Some("inherent_impact"),
            Some("treatment"),
            Some("last_review"),
            None,
            None
        ]
    );
    assert!(is_derived("Score") && !is_derived("Notes"));

    let register = sample();
    let preview = preview(sheet, &mapping, &register, &mut ids());
    assert_eq!(preview.blank, 1);
    let titles: Vec<(usize, String)> = preview
        .records
        .iter()
        .map(|(row, _, r)| match r {
            AnyRecord::Risk(r) => (*row, r.title.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(titles, [(5, "Laptop stolen from a car".to_string()), (7, "Payroll bureau fails".to_string())]);
    let problems: std::collections::BTreeMap<usize, String> = preview.problems.iter().cloned().collect();
    assert!(problems[&8].contains("Inherent likelihood: 7 is not from 1 to 5"), "{problems:?}");
    assert!(problems[&9].contains("Review date") || problems[&9].contains("Last review"), "{problems:?}");
    assert!(problems[&9].contains("February"), "{problems:?}");
    assert!(problems[&10].contains("choose US dates"), "{problems:?}");
    // Words on the five-point scale, treatments by the words people use, UK dates.
    let AnyRecord::Risk(payroll) = &preview.records[1].2 else { panic!() };
    assert_eq!((payroll.inherent_likelihood, payroll.inherent_impact), (2, 4));
    assert_eq!(payroll.treatment, Treatment::Tolerate);
    assert_eq!(payroll.last_review, Date::parse("2026-03-01").ok());
    assert_eq!((payroll.residual_likelihood, payroll.residual_impact, payroll.target_score), (2, 4, 8));
    // An owner already in the register is linked; one who is not is created once, on the way.
    let AnyRecord::Risk(laptop) = &preview.records[0].2 else { panic!() };
    assert_eq!(laptop.owner.as_deref(), Some("p-priya"));
    assert_eq!(preview.new_people.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["Dana Whitfield"]);
    assert_eq!(payroll.owner.as_deref(), Some(preview.new_people[0].0.as_str()));

    // The same file read with US dates takes the last row and refuses the UK one.
    let us = Mapping { us_dates: true, ..mapping.clone() };
    let us_preview = shared::import::preview(sheet, &us, &register, &mut ids());
    assert!(us_preview.records.iter().any(|(row, ..)| *row == 10));
    assert!(us_preview.problems.iter().any(|(row, _)| *row == 5), "22/11/2026 is not a US date");

    // Confirmed: one change, the new person first, nothing else in the register touched.
    let mut doc = shared::sample::sample(today(), 0).unwrap();
    let before_heads = doc.heads();
    doc.apply(preview.edit(), 1_795_000_000).unwrap();
    assert_eq!(doc.changes_after(&before_heads), 1, "one import, one change");
    let after = doc.register().unwrap();
    assert_eq!(after.risks.len(), register.risks.len() + 2);
    assert_eq!(after.people.len(), register.people.len() + 1);
    let numbers: Vec<u64> = after
        .risks
        .values()
        .filter(|r| r.title.contains("Laptop") || r.title.contains("Payroll"))
        .map(|r| r.number)
        .collect();
    assert_eq!(
        numbers.iter().copied().collect::<std::collections::BTreeSet<_>>(),
        [9, 10].into(),
        "numbered after the others, each its own"
    );
    assert_eq!(after.suppliers, register.suppliers);
}

#[test]
fn our_own_workbook_imports_back_into_an_empty_register_as_the_same_records() {
    let original = sample();
    let bytes =
        shared::export::xlsx(&original, today(), chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap()).unwrap();
    let sheets = read("brightwater.xlsx", &bytes).unwrap();
    let mut doc = RegisterDoc::new("Brightwater Software Ltd", 0).unwrap();
    for (name, target) in [
        ("People", Target::People),
        ("Roles", Target::Roles),
        ("Suppliers", Target::Suppliers),
        ("Alternatives", Target::Alternatives),
        ("Actions", Target::Actions),
        ("Supplier reviews", Target::Reviews),
        ("Insurance", Target::Policies),
        ("Risks", Target::Risks),
    ] {
        let sheet = sheets.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no sheet {name}"));
        let mapping = mapping_for(sheet, target);
        let register = doc.register().unwrap();
        let preview = preview(sheet, &mapping, &register, &mut ids_for(name));
        assert!(preview.problems.is_empty(), "{name}: {:?}", preview.problems);
        assert!(preview.new_people.is_empty(), "{name}: every owner is among the people imported first");
        doc.apply(preview.edit(), 1_795_000_000).unwrap();
    }
    let imported = doc.register().unwrap();
    let by_name = |r: &Register, id: &Option<Id>| id.as_deref().and_then(|p| r.person_name(p)).map(str::to_string);
    let mut risks: Vec<_> = imported.risks.values().collect();
    risks.sort_by(|a, b| a.title.cmp(&b.title));
    let mut was: Vec<_> = original.risks.values().collect();
    was.sort_by(|a, b| a.title.cmp(&b.title));
    assert_eq!(risks.len(), was.len());
    for (a, b) in risks.iter().zip(&was) {
        assert_eq!(a.title, b.title);
        assert_eq!(
            (a.inherent_likelihood, a.inherent_impact, a.residual_likelihood, a.residual_impact),
            (b.inherent_likelihood, b.inherent_impact, b.residual_likelihood, b.residual_impact)
        );
        assert_eq!(
            (a.target_score, a.treatment, a.direction, a.status, a.scenario),
            (b.target_score, b.treatment, b.direction, b.status, b.scenario)
        );
        assert_eq!(
            (&a.controls, &a.annex_a, a.last_review, a.next_review()),
            (&b.controls, &b.annex_a, b.last_review, b.next_review())
        );
        assert_eq!(by_name(&imported, &a.owner), by_name(&original, &b.owner));
    }
    let names = |r: &Register| {
        let mut n: Vec<String> = r.people.values().map(|p| format!("{} {} {}", p.name, p.job_title, p.email)).collect();
        n.sort();
        n
    };
    assert_eq!(names(&imported), names(&original));
    let policies = |r: &Register| {
        let mut p: Vec<_> = r
            .policies
            .values()
            .map(|p| (p.name.clone(), p.kind, p.cover_limit, p.excess, p.premium, p.renewal))
            .collect();
        p.sort_by(|a, b| a.0.cmp(&b.0));
        p
    };
    assert_eq!(policies(&imported), policies(&original));
    let actions = |r: &Register| {
        let mut a: Vec<_> =
            r.actions.values().map(|a| (a.title.clone(), a.due, a.status, a.closed_on, by_name(r, &a.owner))).collect();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        a
    };
    assert_eq!(actions(&imported), actions(&original));
    let suppliers = |r: &Register| {
        let mut s: Vec<_> = r
            .suppliers
            .values()
            .map(|s| (s.name.clone(), s.criticality, s.sub_processor, by_name(r, &s.contract_owner)))
            .collect();
        s.sort_by(|x, y| x.0.cmp(&y.0));
        s
    };
    assert_eq!(suppliers(&imported), suppliers(&original));
    let alternatives = |r: &Register| {
        let mut a: Vec<_> = r
            .suppliers
            .values()
            .flat_map(|s| {
                s.alternatives.values().filter(|a| !a.archived).map(move |a| {
                    (
                        s.name.clone(),
                        a.name.clone(),
                        a.viability,
                        a.switch_over_days,
                        a.cost_impact,
                        a.last_assessed,
                        a.notes.clone(),
                    )
                })
            })
            .collect();
        a.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        a
    };
    assert_eq!(alternatives(&imported), alternatives(&original));
    let roles = |r: &Register| {
        let mut roles: Vec<_> = r
            .roles
            .values()
            .map(|x| {
                let deputies: Vec<Option<String>> = x.deputies.iter().map(|d| by_name(r, &Some(d.clone()))).collect();
                (x.name.clone(), x.critical, by_name(r, &x.holder), deputies, x.responsibilities.clone())
            })
            .collect();
        roles.sort_by(|x, y| x.0.cmp(&y.0));
        roles
    };
    assert_eq!(roles(&imported), roles(&original));

    // Every record keeps its reference, so the links between them hold: a risk's suppliers,
    // insurance and actions, and the action a supplier review raised.
    let references = |r: &Register| {
        let all = shared::refs::all_references(r);
        let mut out: Vec<String> = all.values().flat_map(|refs| refs.values().cloned()).collect();
        out.sort();
        out
    };
    let importable = |r: &Register| {
        let mut r = r.clone();
        (r.runbooks, r.break_glass, r.exercises, r.plans, r.incidents) = Default::default();
        (r.services, r.customers, r.trainings) = Default::default();
        r
    };
    assert_eq!(references(&imported), references(&importable(&original)));
    let links = |r: &Register| {
        let refs = shared::refs::all_references(r);
        let named = |kind: Kind, ids: &Links| ids.0.iter().map(|id| refs[&kind][id].clone()).collect::<Vec<_>>();
        let mut out: Vec<_> = r
            .risks
            .iter()
            .map(|(id, risk)| {
                (
                    refs[&Kind::Risk][id].clone(),
                    named(Kind::Supplier, &risk.suppliers),
                    named(Kind::Policy, &risk.policies),
                    named(Kind::Action, &risk.actions),
                )
            })
            .collect();
        out.sort();
        out
    };
    let linked = links(&imported);
    assert!(linked.iter().any(|(_, s, _, _)| !s.is_empty()), "{linked:?}");
    assert!(linked.iter().any(|(_, _, p, _)| !p.is_empty()), "{linked:?}");
    assert!(linked.iter().any(|(_, _, _, a)| !a.is_empty()), "{linked:?}");
    assert_eq!(linked, links(&original));
    let reviews = |r: &Register| {
        let refs = shared::refs::all_references(r);
        let mut out: Vec<_> = r
            .suppliers
            .values()
            .flat_map(|s| {
                let refs = &refs;
                s.reviews.values().map(move |v| {
                    (
                        s.name.clone(),
                        v.date,
                        by_name(r, &v.reviewer),
                        v.outcome,
                        v.notes.clone(),
                        v.action.as_ref().map(|a| refs[&Kind::Action][a].clone()),
                    )
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    };
    assert!(!reviews(&original).is_empty());
    assert_eq!(reviews(&imported), reviews(&original));
}

#[test]
fn a_files_references_are_kept_where_free_and_links_must_name_records_in_the_register() {
    let register = sample();
    let refs = shared::refs::all_references(&register);
    let a_supplier = refs[&Kind::Supplier].values().next().unwrap().clone();
    let csv = format!(
        "Reference,Risk,L,I,Suppliers,Insurance\n\
         R-900,Courier loses the backup tapes,2,3,{a_supplier},\n\
         R-001,Already taken,2,2,,\n\
         R-900,Given twice,2,2,,\n\
         S-901,Not a risk reference,2,2,,\n\
         R-901,Names a missing supplier,2,2,S-999,\n\
         R-902,Names missing insurance,2,2,,I-999\n\
         ,No reference: numbered afresh,1,1,,\n"
    );
    let sheets = read("links.csv", csv.as_bytes()).unwrap();
    let mapping = guess(&sheets[0]);
    let preview = preview(&sheets[0], &mapping, &register, &mut ids());
    let why = |row: usize| preview.problems.iter().find(|(r, _)| *r == row).map(|(_, w)| w.as_str()).unwrap_or("");
    assert_eq!(preview.records.len(), 2, "{:?}", preview.problems);
    assert!(why(3).contains("R-001 is already a risk in the register"), "{}", why(3));
    assert!(why(4).contains("R-900 is row 2's reference too"), "{}", why(4));
    assert!(why(5).contains("\"S-901\" is not a risk reference such as R-001"), "{}", why(5));
    assert!(why(6).contains("there is no supplier S-999 in the register: import the suppliers first"), "{}", why(6));
    assert!(why(7).contains("there is no insurance policy I-999"), "{}", why(7));

    let mut doc = shared::sample::sample(today(), 0).unwrap();
    doc.apply(preview.edit(), 1_795_000_000).unwrap();
    let after = doc.register().unwrap();
    let kept = shared::refs::find::<Risk>(&after, "R-900").expect("R-900 kept");
    assert_eq!(after.risks[&kept].title, "Courier loses the backup tapes");
    assert_eq!(
        shared::refs::reference_of::<Supplier>(&after, after.risks[&kept].suppliers.0.first().unwrap()),
        a_supplier
    );
    let fresh = after.risks.values().find(|r| r.title == "No reference: numbered afresh").unwrap();
    assert_eq!(fresh.number, 901, "a row without a reference gets the next number after the highest");
    // The next risk made by hand comes after the kept number, never on it.
    let id = doc
        .create(
            "r-after",
            Risk {
                title: "Made by hand".into(),
                inherent_likelihood: 1,
                inherent_impact: 1,
                residual_likelihood: 1,
                residual_impact: 1,
                target_score: 1,
                ..Default::default()
            },
            1_795_000_100,
        )
        .unwrap();
    assert_eq!(id, 902);

    // A preview made before someone else took the number is refused whole when confirmed.
    let again = shared::import::preview(&sheets[0], &mapping, &register, &mut ids_for("again"));
    let heads = doc.heads();
    let err = doc.apply(again.edit(), 1_795_000_200).unwrap_err();
    assert!(err.to_string().contains("R-900 is already a risk in the register"), "{err}");
    assert_eq!(doc.changes_after(&heads), 0, "nothing of it was written");
}

fn ids_for(sheet: &str) -> impl FnMut() -> Id {
    let sheet = sheet.to_string();
    let mut n = 0;
    move || {
        n += 1;
        format!("{sheet}-{n}")
    }
}

#[test]
fn a_workbook_with_a_title_row_real_dates_serial_numbers_and_a_formula_is_read_as_its_values() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Actions log").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.merge_range(0, 0, 0, 3, "Open actions, November", &Format::new()).unwrap();
    for (c, h) in ["Action", "Assigned to", "Deadline", "Status"].iter().enumerate() {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    sheet.write_string(3, 0, "Renew the cyber policy").unwrap();
    sheet.write_string(3, 1, "Gareth Lewis").unwrap();
    sheet.write_datetime_with_format(3, 2, ExcelDateTime::from_ymd(2026, 12, 15).unwrap(), &date).unwrap();
    sheet.write_string(3, 3, "Not started").unwrap();
    sheet.write_formula(4, 0, "=\"Test\"&\" the restore\"").unwrap();
    sheet.write_string(4, 1, "Hannah Clarke").unwrap();
    sheet.write_number(4, 2, 46400.0).unwrap();
    sheet.write_string(4, 3, "Complete").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let sheets = read("actions.xlsx", &bytes).unwrap();
    let mapping = guess(&sheets[0]);
    assert_eq!(mapping.target, Target::Actions);
    let preview = preview(&sheets[0], &mapping, &sample(), &mut ids());
    let AnyRecord::Action(renew) = &preview.records[0].2 else { panic!("{preview:?}") };
    assert_eq!(
        (renew.title.as_str(), renew.due, renew.status),
        ("Renew the cyber policy", Date::parse("2026-12-15").ok(), ActionStatus::Open)
    );
    assert_eq!(renew.owner.as_deref(), Some("p-gareth"));
    // The formula's text is never run: a row whose title is a formula with no stored value
    // has no title, and is said so.
    assert!(
        preview.records.len() == 2 || preview.problems.iter().any(|(row, why)| *row == 5 && why.contains("title")),
        "{preview:?}"
    );
    if let Some((_, _, AnyRecord::Action(restore))) = preview.records.get(1) {
        assert_eq!(restore.due, Date::parse("2027-01-13").ok(), "a serial number in a date column is a date");
    }
}

#[test]
fn files_that_are_not_spreadsheets_or_far_too_big_are_refused_whole_with_the_reason() {
    let junk = read("register.xlsx", b"PK\x03\x04 this is not really a zip file").unwrap_err();
    assert!(matches!(junk, ImportError::NotASpreadsheet(..)), "{junk}");
    assert!(junk.to_string().contains("register.xlsx cannot be read as a spreadsheet"), "{junk}");
    let binary = read("register.csv", &[0xff, 0xfe, 0x00, 0x41]).unwrap_err();
    assert!(binary.to_string().contains("not text"), "{binary}");
    let mut huge = String::from("Risk,Owner,L,I\n");
    for n in 0..100_000 {
        huge.push_str(&format!("Risk {n},Someone,2,3\n"));
    }
    let refused = read("huge.csv", huge.as_bytes()).unwrap_err();
    assert!(matches!(refused, ImportError::TooManyRows(..)), "{refused}");
    assert!(refused.to_string().contains("at most 20000"), "{refused}");
    let nothing = read("empty.csv", b"just,some\nwords,here\n").unwrap_err();
    assert!(matches!(nothing, ImportError::Empty(_)), "{nothing}");
    // Text that a spreadsheet would run as a formula is imported as the words it is.
    let sheets = read("formula.csv", b"Risk,L,I\n=HYPERLINK(\"http://x\"),2,2\n").unwrap();
    let preview = preview(&sheets[0], &guess(&sheets[0]), &sample(), &mut ids());
    let AnyRecord::Risk(r) = &preview.records[0].2 else { panic!() };
    assert_eq!(r.title, "=HYPERLINK(\"http://x\")");
    // Nothing to import is refused by the edit too.
    let mut doc = RegisterDoc::new("Empty", 0).unwrap();
    assert!(doc.apply(Edit::Import { records: Vec::new(), additions: Vec::new() }, 1).is_err());
}

#[test]
fn words_for_scores_are_read_as_the_files_own_legend_says() {
    let sheets =
        read("words.csv", b"Risk,Likelihood,Impact\nOutage,Rare,Major\nPhishing,Likely,Minor\nFlood,High,Low\n")
            .unwrap();
    let mut mapping = guess(&sheets[0]);
    let first = preview(&sheets[0], &mapping, &sample(), &mut ids());
    assert_eq!(first.words, ["rare", "likely", "high", "major", "minor", "low"], "every word, for the person to place");
    assert_eq!(first.records.len(), 1, "only the row on the usual scale: {:?}", first.problems);
    assert!(first.problems.iter().all(|(_, why)| why.contains("Very low, Low, Medium, High, Very high")));
    mapping.words =
        [("rare", 1), ("likely", 4), ("major", 4), ("minor", 2)].into_iter().map(|(w, n)| (w.to_string(), n)).collect();
    let told = preview(&sheets[0], &mapping, &sample(), &mut ids());
    let scores: Vec<(u8, u8)> = told
        .records
        .iter()
        .map(|(_, _, r)| match r {
            AnyRecord::Risk(r) => (r.inherent_likelihood, r.inherent_impact),
            _ => panic!(),
        })
        .collect();
    assert_eq!(scores, [(1, 4), (4, 2), (4, 2)]);
}

#[test]
fn alternatives_need_a_supplier_in_the_register_and_are_added_to_it_in_the_same_change() {
    let register = sample();
    let csv = "Supplier,Alternative,Viability,Switch-over (days),Cost of switching\n\
               S-002,Second identity provider,Viable,5,12000\n\
               Nobody Ltd,Something,Viable,1,0\n\
               Microsoft Entra ID,Paper sign-in sheet,No,1 day,0\n";
    let sheets = read("alternatives.csv", csv.as_bytes()).unwrap();
    let mapping = guess(&sheets[0]);
    assert_eq!(mapping.target, Target::Alternatives);
    let preview = preview(&sheets[0], &mapping, &register, &mut ids());
    assert_eq!(preview.len(), 2, "{:?}", preview.problems);
    assert!(preview.problems.iter().any(|(row, why)| *row == 3 && why.contains("no supplier called \"Nobody Ltd\"")));
    let mut doc = shared::sample::sample(today(), 0).unwrap();
    let heads = doc.heads();
    doc.apply(preview.edit(), 1_795_000_000).unwrap();
    assert_eq!(doc.changes_after(&heads), 1);
    let after = doc.register().unwrap();
    let identity = &after.suppliers["s-identity"];
    let names: Vec<&str> = identity.alternatives.values().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"Second identity provider") && names.contains(&"Paper sign-in sheet"), "{names:?}");
    let second = identity.alternatives.values().find(|a| a.name == "Second identity provider").unwrap();
    assert_eq!(
        (second.viability, second.switch_over_days, second.cost_impact),
        (Viability::Viable, 5, Pence(1_200_000))
    );
}
