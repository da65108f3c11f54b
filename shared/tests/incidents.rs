//! Incidents: the clocks as tables (72 hours across the clock changes, triage in business
//! hours, working days across the holidays of 2026-2030, 14 days across month and year ends),
//! the log and severity history converging, and what may never be changed.

use automerge::ActorId;
use shared::date::Now;
use shared::incident::*;
use shared::*;
use std::collections::BTreeMap;

fn day(text: &str) -> Date {
    Date::parse(text).unwrap()
}

/// A UK wall-clock time ("2026-03-27 15:00") as seconds since the epoch.
fn uk(text: &str) -> i64 {
    uk_moment(chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
}

/// An incident entered a phase at each of `phases` times.
fn with_phases(mut incident: Incident, phases: &[(Phase, &str)]) -> Incident {
    for (n, (phase, at)) in phases.iter().enumerate() {
        incident
            .phases
            .insert(format!("p{n}"), PhaseChange { phase: *phase, at: uk(at), by: None, ..Default::default() });
    }
    incident
}

fn notified(mut incident: Incident, kind: NotificationKind, at: &str) -> Incident {
    let n = Notification { kind, at: uk(at), to: "Someone".into(), notes: "Why".into(), ..Default::default() };
    incident.notifications.insert(format!("n{}", incident.notifications.len()), n);
    incident
}

fn severity(mut incident: Incident, to: u8) -> Incident {
    let change =
        SeverityChange { from: 0, to, at: uk("2026-01-01 09:00"), reason: "First triage".into(), ..Default::default() };
    incident.severities.insert("s0".into(), change);
    incident
}

fn clock(incident: &Incident, kind: ClockKind) -> Option<Clock> {
    incident.clocks().into_iter().find(|c| c.kind == kind)
}

fn breach(aware: &str, role: DataRole) -> Incident {
    Incident {
        title: "Breach".into(),
        personal_data_breach: Breach::Yes,
        data_role: Some(role),
        aware_at: Some(uk(aware)),
        ..Default::default()
    }
}

#[test]
fn the_ico_has_72_hours_of_real_time_across_the_changes_to_and_from_summer_time() {
    // (became aware, UK time; due, as a UK clock shows it)
    let table = [
        ("2026-03-27 15:00", "30 Mar 2026 16:00 BST"), // the clocks go forward on the Sunday
        ("2026-10-23 10:00", "26 Oct 2026 09:00 GMT"), // and back
        ("2027-03-27 00:30", "30 Mar 2027 01:30 BST"),
        ("2027-10-29 23:59", "1 Nov 2027 22:59 GMT"),
        ("2026-06-10 09:00", "13 Jun 2026 09:00 BST"), // no change in between
        ("2026-12-30 18:00", "2 Jan 2027 18:00 GMT"),
    ];
    for (aware, due) in table {
        let incident = breach(aware, DataRole::Controller);
        let ico = clock(&incident, ClockKind::Ico).expect("a controller's breach has the ICO clock");
        assert_eq!(ico.due.unwrap().describe(), due, "aware {aware}");
        assert_eq!(ico.due.unwrap().seconds() - uk(aware), 72 * 3600, "aware {aware}");
    }
    // The countdown counts real hours: 2 h 30 min of clock time that skipped an hour is 1 h 30 min.
    let incident = breach("2026-03-29 00:00", DataRole::Controller);
    let ico = clock(&incident, ClockKind::Ico).unwrap();
    let later = uk("2026-03-29 02:30");
    assert_eq!(ico.remaining(later), Some(72 * 3600 - 90 * 60));
    assert_eq!(ico.status(later), "2 days 22 h 30 min left (due 1 Apr 2026 01:00 BST)");
    assert!(!ico.overdue(later));
    assert!(ico.overdue(uk("2026-04-01 01:01")));
    assert_eq!(ico.status(uk("2026-04-01 03:05")), "overdue by 2 h 05 min (was due 1 Apr 2026 01:00 BST)");
}

#[test]
fn the_ico_clock_runs_only_for_a_controllers_breach_and_stops_at_a_notification_or_assessment() {
    assert!(clock(&breach("2026-06-10 09:00", DataRole::Both), ClockKind::Ico).is_some());
    assert!(clock(&breach("2026-06-10 09:00", DataRole::Processor), ClockKind::Ico).is_none());
    let unknown =
        Incident { personal_data_breach: Breach::NotYetKnown, ..breach("2026-06-10 09:00", DataRole::Controller) };
    assert!(unknown.clocks().is_empty());

    let told = notified(breach("2026-06-10 09:00", DataRole::Controller), NotificationKind::Ico, "2026-06-11 16:00");
    let ico = clock(&told, ClockKind::Ico).unwrap();
    assert_eq!(ico.met, Some(Moment::At(uk("2026-06-11 16:00"))));
    assert!(!ico.overdue(uk("2026-07-01 00:00")));
    let assessed = notified(
        breach("2026-06-10 09:00", DataRole::Controller),
        NotificationKind::IcoNotNotifiable,
        "2026-06-10 12:00",
    );
    assert!(clock(&assessed, ClockKind::Ico).unwrap().met.is_some());

    // As processor: the time since becoming aware until the customers are told.
    let processor = breach("2026-06-10 09:00", DataRole::Processor);
    let customers = clock(&processor, ClockKind::CustomersAsProcessor).unwrap();
    assert_eq!(customers.due, None);
    assert_eq!(customers.status(uk("2026-06-10 12:20")), "3 h 20 min since becoming aware");
    let told = notified(processor, NotificationKind::CustomerInitial, "2026-06-10 11:00");
    assert!(clock(&told, ClockKind::CustomersAsProcessor).unwrap().met.is_some());
}

#[test]
fn bank_holidays_in_england_and_wales_2026_to_2030_are_the_published_ones() {
    let published: BTreeMap<i32, &[&str]> = BTreeMap::from([
        (2026, &["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"][..]),
        (2027, &["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"][..]),
        (2028, &["01-03", "04-14", "04-17", "05-01", "05-29", "08-28", "12-25", "12-26"][..]),
        (2029, &["01-01", "03-30", "04-02", "05-07", "05-28", "08-27", "12-25", "12-26"][..]),
        (2030, &["01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"][..]),
    ]);
    for (year, dates) in published {
        let mut found = Vec::new();
        let mut at = Date::ymd(year, 1, 1).unwrap();
        while at.year() == year {
            use chrono::Datelike;
            let weekday = !matches!(at.0.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            if weekday && !is_working_day(at) {
                found.push(at.0.format("%m-%d").to_string());
            }
            at = at.add_days(1);
        }
        assert_eq!(found, dates, "{year}");
    }
}

#[test]
fn the_closure_summary_is_due_five_uk_working_days_after_closure() {
    let table = [
        ("2026-12-01", "2026-12-08"), // an ordinary week
        ("2026-12-18", "2026-12-29"), // Christmas on a Friday, Boxing Day on Saturday: Monday 28th instead
        ("2026-12-23", "2027-01-04"), // and New Year's Day
        ("2027-12-23", "2028-01-04"), // Christmas and Boxing Day at the weekend; 1 Jan 2028 a Saturday
        ("2028-12-22", "2029-01-03"), // Christmas on a Monday
        ("2029-12-21", "2030-01-02"),
        ("2030-12-24", "2031-01-03"),
        ("2026-04-01", "2026-04-10"), // Easter
        ("2029-03-29", "2029-04-09"), // Easter beginning the next day
        ("2028-04-13", "2028-04-24"),
        ("2026-12-26", "2027-01-05"), // closed on a bank holiday weekend
    ];
    for (closed, due) in table {
        assert_eq!(add_working_days(day(closed), CLOSURE_SUMMARY_WORKING_DAYS), day(due), "closed {closed}");
    }
    let incident = with_phases(
        Incident { title: "Outage".into(), customers: "Two law firms".into(), ..Default::default() },
        &[(Phase::Triage, "2026-12-17 10:00"), (Phase::Closed, "2026-12-18 16:00")],
    );
    let summary = clock(&incident, ClockKind::ClosureSummary).unwrap();
    assert_eq!(summary.due, Some(Moment::By(day("2026-12-29"))));
    assert!(!summary.overdue(uk("2026-12-29 23:00")));
    assert!(summary.overdue(uk("2026-12-30 00:01")));
    // No customers affected: no summary to send.
    let internal = Incident { customers: String::new(), ..incident };
    assert!(clock(&internal, ClockKind::ClosureSummary).is_none());
}

#[test]
fn the_review_is_due_14_days_after_closure_for_severity_1_and_2_only() {
    // (closed, UK time; review due by)
    let table = [
        ("2026-12-20 15:00", "2027-01-03"), // across the year end
        ("2027-01-31 09:00", "2027-02-14"), // a month end
        ("2028-02-25 09:00", "2028-03-10"), // a leap February
        ("2027-02-25 09:00", "2027-03-11"),
        ("2026-03-31 00:30", "2026-04-14"), // after midnight in BST, still 30 Mar in UTC
        ("2026-10-31 23:30", "2026-11-14"),
    ];
    for (closed, due) in table {
        for sev in [1, 2] {
            let incident = severity(with_phases(Incident::default(), &[(Phase::Closed, closed)]), sev);
            let review = clock(&incident, ClockKind::Review).expect("severity 1 and 2 need a review");
            assert_eq!(review.due, Some(Moment::By(day(due))), "closed {closed}");
        }
    }
    for sev in [3, 4] {
        let incident = severity(with_phases(Incident::default(), &[(Phase::Closed, "2026-12-20 15:00")]), sev);
        assert!(clock(&incident, ClockKind::Review).is_none());
    }
    let mut held = severity(with_phases(Incident::default(), &[(Phase::Closed, "2026-12-20 15:00")]), 2);
    held.review.held_on = Some(day("2026-12-30"));
    assert_eq!(clock(&held, ClockKind::Review).unwrap().met, Some(Moment::By(day("2026-12-30"))));
}

#[test]
fn triage_out_of_hours_waits_for_the_next_business_day_unless_it_cannot() {
    use Escalation::*;
    // (reported, UK time; escalation; triage due, UK time)
    let table = [
        ("2026-12-01 10:00", NotUrgent, "2026-12-01 10:00"), // in hours: at once
        ("2026-12-01 07:30", NotUrgent, "2026-12-01 09:00"), // before opening
        ("2026-12-01 17:30", NotUrgent, "2026-12-02 09:00"), // at closing
        ("2026-12-04 18:00", NotUrgent, "2026-12-07 09:00"), // Friday evening
        ("2026-12-05 03:00", NotUrgent, "2026-12-07 09:00"),
        ("2026-12-24 17:45", NotUrgent, "2026-12-29 09:00"), // Christmas, and Boxing Day's substitute
        ("2026-04-02 20:00", NotUrgent, "2026-04-07 09:00"), // Easter
        ("2026-03-28 12:00", NotUrgent, "2026-03-30 09:00"), // across the clocks going forward
        ("2026-12-25 10:00", NotUrgent, "2026-12-29 09:00"), // a bank holiday's "business hours"
        ("2026-12-05 03:00", OngoingAttack, "2026-12-05 03:00"),
        ("2026-12-24 22:00", DataExposure, "2026-12-24 22:00"),
        ("2026-12-25 10:00", Unavailability, "2026-12-25 10:00"),
    ];
    for (reported, escalation, due) in table {
        assert_eq!(
            london_time(triage_due(uk(reported), escalation)),
            london_time(uk(due)),
            "{reported} {escalation:?}"
        );
    }
    // The first acknowledgement has the same window; both are met by what was recorded.
    let mut incident = Incident { reported_at: Some(uk("2026-12-04 18:00")), ..Default::default() };
    let [triage, ack] = [ClockKind::Triage, ClockKind::Acknowledgement].map(|k| clock(&incident, k).unwrap());
    assert_eq!(triage.due, ack.due);
    assert!(triage.overdue(uk("2026-12-07 09:01")));
    incident = with_phases(incident, &[(Phase::Reported, "2026-12-04 18:00"), (Phase::Triage, "2026-12-07 08:45")]);
    incident = notified(incident, NotificationKind::Acknowledgement, "2026-12-07 08:50");
    assert!(incident.clocks().iter().filter(|c| c.kind != ClockKind::Ico).all(|c| c.met.is_some()));
}

#[test]
fn findings_raise_the_ico_deadline_a_missing_commander_and_a_quiet_log() {
    let mut register = Register::default();
    let mut incident = breach("2026-06-10 09:00", DataRole::Controller);
    incident
        .phases
        .insert("p".into(), PhaseChange { phase: Phase::Triage, at: uk("2026-06-10 09:00"), ..Default::default() });
    incident.number = 1;
    register.incidents.insert("i".into(), incident);
    let at = |t: &str| Now { seconds: uk(t), today: shared::incident::uk_date(uk(t)) };
    let messages = |register: &Register, t: &str| -> Vec<String> {
        findings(register, at(t)).into_iter().filter(|f| f.kind == Kind::Incident).map(|f| f.message).collect()
    };
    let early = messages(&register, "2026-06-10 10:00");
    assert!(early.iter().any(|m| m.contains("no incident commander")), "{early:?}");
    assert!(!early.iter().any(|m| m.contains("ICO")), "{early:?}");
    let close = messages(&register, "2026-06-12 10:00");
    assert!(
        close.iter().any(|m| m.contains("the ICO must be told by 13 Jun 2026 09:00 BST (23 h 00 min left)")),
        "{close:?}"
    );
    assert!(close.iter().any(|m| m.contains("nothing in its log since 10 Jun 2026 09:00 BST")), "{close:?}");
    let late = messages(&register, "2026-06-13 09:30");
    assert!(late.iter().any(|m| m.contains("the ICO deadline passed 13 Jun 2026 09:00 BST")), "{late:?}");

    // Closed at severity 2 with no review: worth a look, then overdue.
    let mut closed = severity(with_phases(Incident::default(), &[(Phase::Closed, "2026-06-01 12:00")]), 2);
    closed.title = "Closed".into();
    closed.commander = Some("nobody".into());
    register.incidents.insert("c".into(), closed);
    let soon = findings(&register, at("2026-06-05 12:00"));
    assert!(soon.iter().any(|f| f.severity == Severity::Warning && f.message.contains("no post-incident review yet")));
    let overdue = findings(&register, at("2026-06-16 12:00"));
    assert!(
        overdue.iter().any(|f| f.severity == Severity::Error && f.message.contains("review was due by 15 Jun 2026"))
    );
}

fn replica(doc: &mut RegisterDoc) -> RegisterDoc {
    let mut other = doc.fork();
    other.set_actor(ActorId::random());
    other
}

#[test]
fn two_people_logging_and_changing_severity_offline_keep_every_entry_in_one_order() {
    let mut a = RegisterDoc::new("Register", 0).unwrap();
    let declared = Incident {
        title: "Identity provider down".into(),
        commander: Some("p1".into()),
        phases: BTreeMap::from([("p0".into(), PhaseChange { phase: Phase::Triage, at: 100, ..Default::default() })]),
        severities: BTreeMap::from([(
            "s0".into(),
            SeverityChange { from: 0, to: 3, at: 100, reason: "First look".into(), ..Default::default() },
        )]),
        ..Default::default()
    };
    a.create("inc", declared, 100).unwrap();
    let mut b = replica(&mut a);
    let entry = |at: i64, text: &str| LogEntry { at, text: text.into(), ..Default::default() };
    // Both add entries at the same second, and each changes the severity.
    a.update::<Incident>("inc", 200, |i| {
        i.log.insert("a1".into(), entry(200, "A: sessions revoked"));
        i.severities.insert(
            "sa".into(),
            SeverityChange { from: 3, to: 2, at: 210, reason: "Customers affected".into(), ..Default::default() },
        );
    })
    .unwrap();
    b.update::<Incident>("inc", 200, |i| {
        i.log.insert("b1".into(), entry(200, "B: supplier status page says degraded"));
        i.log.insert("b2".into(), entry(150, "B: first alert seen"));
        i.severities.insert(
            "sb".into(),
            SeverityChange { from: 3, to: 1, at: 220, reason: "Data exposed".into(), ..Default::default() },
        );
    })
    .unwrap();
    let (mut a2, mut b2) = (a.fork(), b.fork());
    a.merge(&mut b2).unwrap();
    b.merge(&mut a2).unwrap();
    let read = |doc: &RegisterDoc| doc.get::<Incident>("inc").unwrap().unwrap();
    let (ia, ib) = (read(&a), read(&b));
    let texts = |i: &Incident| i.log_in_order().into_iter().map(|(_, e)| e.text.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&ia), ["B: first alert seen", "A: sessions revoked", "B: supplier status page says degraded"]);
    assert_eq!(texts(&ia), texts(&ib));
    let history = |i: &Incident| i.severity_history().into_iter().map(|(_, s)| (s.from, s.to)).collect::<Vec<_>>();
    assert_eq!(history(&ia), [(0, 3), (3, 2), (3, 1)]);
    assert_eq!(history(&ia), history(&ib));
    assert_eq!((ia.severity(), ib.severity()), (Some(1), Some(1)));
}

#[test]
fn a_log_entry_a_severity_change_or_a_notification_once_recorded_cannot_be_changed_or_removed() {
    let mut doc = RegisterDoc::new("Register", 0).unwrap();
    let mut incident = Incident { title: "Phishing".into(), ..Default::default() };
    incident.log.insert("e1".into(), LogEntry { at: 10, text: "Reported by a colleague".into(), ..Default::default() });
    doc.create("inc", incident, 10).unwrap();
    let before = doc.heads();
    let edited = doc.update::<Incident>("inc", 20, |i| i.log.get_mut("e1").unwrap().text = "Rewritten".into());
    assert!(matches!(&edited, Err(DocError::Invalid(e)) if e.0.contains("cannot be changed or removed")), "{edited:?}");
    let removed = doc.update::<Incident>("inc", 20, |i| {
        i.log.clear();
    });
    assert!(removed.is_err());
    assert_eq!(doc.heads(), before, "nothing was written");
    // A correction is a new entry naming the one it corrects.
    doc.update::<Incident>("inc", 30, |i| {
        let correction = LogEntry {
            at: 30,
            text: "Reported by a customer, not a colleague".into(),
            corrects: Some("e1".into()),
            ..Default::default()
        };
        i.log.insert("e2".into(), correction);
    })
    .unwrap();
    assert_eq!(doc.get::<Incident>("inc").unwrap().unwrap().log.len(), 2);
    // Other fields change as freely as on any record.
    doc.update::<Incident>("inc", 40, |i| i.summary = "A phishing email to finance".into()).unwrap();
    let empty = doc.update::<Incident>("inc", 50, |i| {
        i.log.insert("e3".into(), LogEntry { at: 50, text: "  ".into(), ..Default::default() });
    });
    assert!(matches!(empty, Err(DocError::Invalid(e)) if e.0.contains("needs some text")));
    let decision = doc.update::<Incident>("inc", 50, |i| {
        let n = Notification { kind: NotificationKind::IcoNotNotifiable, at: 50, ..Default::default() };
        i.notifications.insert("n1".into(), n);
    });
    assert!(matches!(decision, Err(DocError::Invalid(e)) if e.0.contains("needs its reason")));
}
