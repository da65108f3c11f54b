//! The review calendar: every dated obligation across the register in one list, and its
//! iCalendar (RFC 5545) export so it can sit in people's own calendars.

use crate::Date;
use crate::derive::next_exercise_due;
use crate::model::*;
use crate::refs::references;
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike};
use serde::Serialize;

/// Something that has to be done by a date.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Obligation {
    /// `None` when it has never been done, so it is due now.
    pub due: Option<Date>,
    /// What has to be done ("Annual review of alternatives").
    pub what: String,
    pub kind: Kind,
    /// The record, or `None` for an exercise kind with no exercise planned.
    pub id: Option<Id>,
    /// The record as people know it ("S-003 Identity provider").
    pub subject: String,
    /// The record's reference (S-003), for a link back to it.
    pub reference: Option<String>,
    pub overdue: bool,
}

/// Every obligation, those never done first, then by date.
pub fn obligations(register: &Register, today: Date) -> Vec<Obligation> {
    let mut out = Vec::new();
    let mut add = |kind: Kind, id: Option<&Id>, subject: String, what: &str, due: Option<Date>| {
        let overdue = due.is_none_or(|d| d < today);
        // The subject starts with the reference whenever there is a record.
        let reference = id.and_then(|_| subject.split_whitespace().next()).map(str::to_string);
        out.push(Obligation { due, what: what.to_string(), kind, id: id.cloned(), subject, reference, overdue });
    };

    let refs = references::<Risk>(register);
    for (id, r) in register.live::<Risk>().filter(|(_, r)| r.status != RiskStatus::Closed) {
        add(Risk::KIND, Some(id), subject(&refs, id, &r.title), "Risk review", r.next_review());
    }
    let refs = references::<Supplier>(register);
    for (id, s) in register.live::<Supplier>() {
        let name = subject(&refs, id, &s.name);
        if s.criticality == Criticality::Critical {
            add(Supplier::KIND, Some(id), name.clone(), "Annual review of alternatives", s.next_review());
        }
        for a in s.alternatives.values().filter(|a| !a.archived) {
            let what = format!("Assess the alternative {}", a.name);
            add(Supplier::KIND, Some(id), name.clone(), &what, a.next_assessment());
        }
    }
    let refs = references::<Exercise>(register);
    for (id, e) in register.live::<Exercise>().filter(|(_, e)| e.status == ExerciseStatus::Planned) {
        add(Exercise::KIND, Some(id), subject(&refs, id, &e.title), e.kind.label(), e.date);
    }
    for kind in ExerciseKind::ALL {
        // A kind whose next exercise is already planned is covered by the line above.
        if let Some(due) = next_exercise_due(register, *kind).filter(|d| d.planned.is_none()) {
            add(Exercise::KIND, None, kind.label().to_string(), "Next exercise due by cadence", due.due);
        }
    }
    let refs = references::<Action>(register);
    for (id, a) in register.live::<Action>().filter(|(_, a)| a.is_open() && a.due.is_some()) {
        add(Action::KIND, Some(id), subject(&refs, id, &a.title), "Action due", a.due);
    }
    let refs = references::<Policy>(register);
    for (id, p) in register.live::<Policy>() {
        add(Policy::KIND, Some(id), subject(&refs, id, &p.name), "Insurance renewal", p.renewal);
    }
    let refs = references::<Plan>(register);
    for (id, p) in register.live::<Plan>() {
        let changes = p.material_changes(register);
        let what = if changes.is_empty() { "Annual review" } else { "Review after a material change" };
        add(Plan::KIND, Some(id), subject(&refs, id, &p.title), what, p.review_due_after(&changes));
    }
    // Each person's next training: the subject is the training, the person is in what is due.
    let refs = references::<Training>(register);
    for (id, t) in register.live::<Training>() {
        for person in t.required(register) {
            let due = match crate::readiness::standing(t, person, today) {
                crate::readiness::Standing::Never => None,
                crate::readiness::Standing::Overdue { due, .. } => Some(due),
                crate::readiness::Standing::Done { next: Some(next), .. } => Some(next),
                _ => continue,
            };
            let what = format!("Training due: {}", register.person_name(person).unwrap_or("someone"));
            add(Training::KIND, Some(id), subject(&refs, id, &t.title), &what, due);
        }
    }
    let refs = references::<Runbook>(register);
    for (id, r) in register.live::<Runbook>() {
        add(Runbook::KIND, Some(id), subject(&refs, id, &r.title), "Runbook review", r.next_review());
    }
    let refs = references::<BreakGlass>(register);
    for (id, b) in register.live::<BreakGlass>() {
        add(BreakGlass::KIND, Some(id), subject(&refs, id, &b.service), "Break-glass test", b.next_test());
    }
    let refs = references::<Incident>(register);
    for (id, incident) in register.live::<Incident>() {
        for clock in incident.clocks().into_iter().filter(|c| c.met.is_none()) {
            let Some(due) = clock.due else { continue };
            add(Incident::KIND, Some(id), subject(&refs, id, &incident.title), clock.kind.label(), Some(due.day()));
        }
    }
    out.sort_by(|a, b| (a.due.is_some(), a.due, &a.subject).cmp(&(b.due.is_some(), b.due, &b.subject)));
    out
}

fn subject(refs: &std::collections::BTreeMap<Id, String>, id: &str, title: &str) -> String {
    format!("{} {title}", refs.get(id).map(String::as_str).unwrap_or(id))
}

/// The obligations as an iCalendar file of all-day events, each with a reminder a week
/// before and one on the day (both at 09:00), and, where `link` gives one, the address of
/// its record in the app. Obligations never done are placed on `today`. `generated` becomes
/// every event's DTSTAMP: passing it in keeps this function pure (the library would
/// otherwise read the clock) and the file reproducible.
pub fn ics(
    register_name: &str,
    obligations: &[Obligation],
    today: Date,
    generated: DateTime<Utc>,
    link: &dyn Fn(&Obligation) -> Option<String>,
) -> String {
    use chrono::Duration;
    use icalendar::{Alarm, Related, Trigger};
    let mut calendar = Calendar::new();
    calendar.name(&format!("{register_name}: review calendar"));
    for o in obligations {
        let day = o.due.unwrap_or(today);
        // Stable per obligation, so re-importing updates events instead of duplicating them.
        let about = o.id.clone().unwrap_or_else(|| slug(&o.subject));
        let uid = format!("{}-{about}-{}@continuity-register", o.kind.collection(), slug(&o.what));
        let mut event = icalendar::Event::new();
        // DTEND is exclusive (RFC 5545 3.6.1): a one-day event ends the next day.
        let next = day.0.succ_opt().unwrap_or(day.0);
        event.summary(&format!("{}: {}", o.what, o.subject)).starts(day.0).ends(next).uid(&uid).timestamp(generated);
        let mut description = Vec::new();
        if o.due.is_none() {
            description.push("Never done, so due now.".to_string());
        }
        if let Some(url) = link(o) {
            event.url(&url);
            // Not every calendar shows URL; the description carries it too.
            description.push(format!("Open it in the register: {url}"));
        }
        if !description.is_empty() {
            event.description(&description.join("\n"));
        }
        // Relative to the start of the day the obligation falls on.
        let nine = Duration::hours(9);
        let reminder = format!("{}: {}", o.what, o.subject);
        for (when, offset) in [("In a week", nine - Duration::days(7)), ("Today", nine)] {
            let mut alarm = Alarm::display(&format!("{when}: {reminder}"), Trigger::from((offset, Related::Start)));
            // The library would give each alarm a random UID and the clock's time: both fixed
            // here, so the file stays reproducible.
            alarm.uid(&format!("{uid}-{}", slug(when))).timestamp(generated);
            event.alarm(alarm.done());
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;

    fn today() -> Date {
        Date::parse("2026-11-22").unwrap()
    }

    #[test]
    fn every_kind_of_obligation_is_listed_in_date_order() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let list = obligations(&register, today());
        for what in [
            "Risk review",
            "Annual review of alternatives",
            "Full DR exercise",
            "Next exercise due by cadence",
            "Action due",
            "Insurance renewal",
            "Annual review",
            "Runbook review",
            "Break-glass test",
        ] {
            assert!(list.iter().any(|o| o.what == what), "no {what}");
        }
        assert!(list.iter().any(|o| o.what.starts_with("Assess the alternative")));
        let dates: Vec<_> = list.iter().filter_map(|o| o.due).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
        // The sample's overdue action is flagged; the planned DR exercise is not.
        let action = list.iter().find(|o| o.subject.contains("Walk the deputy")).unwrap();
        assert!(action.overdue);
        assert!(!list.iter().find(|o| o.what == "Full DR exercise").unwrap().overdue);
        // Done actions and planned kinds are not listed twice.
        assert!(!list.iter().any(|o| o.subject.contains("contact tree")));
        assert!(!list.iter().any(|o| o.what == "Next exercise due by cadence" && o.subject == "Full DR exercise"));
    }

    #[test]
    fn ics_is_valid_and_reproducible() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let list = obligations(&register, today());
        let stamp = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let link = |o: &Obligation| o.reference.as_ref().map(|r| format!("https://continuity.example/x/{r}"));
        let text = ics(&register.name, &list, today(), stamp, &link);
        assert_eq!(text, ics(&register.name, &list, today(), stamp, &link), "same inputs, same bytes");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.trim_end().ends_with("END:VCALENDAR"));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), list.len());
        // Each event and its two reminders, all stamped with the time given.
        assert_eq!(text.matches("DTSTAMP:20261118T110640Z").count(), 3 * list.len());
        // All-day events: a DATE value, no time.
        assert!(text.contains("DTSTART;VALUE=DATE:"));
        // And a calendar library can read it back: every event one whole day long (DTEND
        // the day after DTSTART), with a link to its record and two reminders.
        let parsed: icalendar::Calendar = text.parse().unwrap();
        assert_eq!(parsed.components.len(), list.len());
        let uids: std::collections::BTreeSet<&str> =
            parsed.components.iter().filter_map(|c| c.as_event()).filter_map(|e| e.get_uid()).collect();
        assert_eq!(uids.len(), list.len(), "every event has its own stable UID");
        use icalendar::DatePerhapsTime;
        for (event, o) in parsed.components.iter().filter_map(|c| c.as_event()).zip(&list) {
            let (Some(DatePerhapsTime::Date(start)), Some(DatePerhapsTime::Date(end))) =
                (event.get_start(), event.get_end())
            else {
                panic!("{o:?} is not an all-day event");
            };
            assert_eq!(start, o.due.unwrap_or(today()).0);
            assert_eq!(end, start.succ_opt().unwrap(), "{o:?} lasts the whole day");
            assert_eq!(event.get_url().map(str::to_string), link(o), "{o:?}");
            assert_eq!(event.components().len(), 2, "{o:?}: a reminder a week before and one on the day");
        }
        // 09:00 a week before (6 days 15 hours before the day starts) and 09:00 on the day.
        assert_eq!(text.matches("TRIGGER;RELATED=START:-PT572400S").count(), list.len());
        assert_eq!(text.matches("TRIGGER;RELATED=START:PT32400S").count(), list.len());
        assert!(
            list.iter().filter(|o| o.id.is_some()).all(|o| o.reference.as_deref().is_some_and(|r| r.contains('-')))
        );
    }
}
