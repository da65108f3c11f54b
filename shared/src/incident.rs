//! Incidents' derived values: the current phase and severity read from their histories, the
//! log in one order on every replica, and the clocks the incident response plan sets (the
//! ICO's 72 hours, triage in UK business hours, the review, the closure summary). Nothing
//! here reads a clock: every clock takes the moment it is asked about.

use crate::Date;
use crate::model::*;
use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Europe::London;

/// The severities, 1 most severe, with the criteria shown as help when one is chosen.
pub const SEVERITIES: [(u8, &str, &str); 4] = [
    (
        1,
        "Critical",
        "Customer data accessed without authority or a personal-data breach confirmed; a customer's platform down for a sustained time; ransomware or other destructive action",
    ),
    (
        2,
        "High",
        "A suspected compromise under investigation; service materially degraded; a high-privilege credential lost; a supplier's incident that may reach customers",
    ),
    (
        3,
        "Medium",
        "One phishing attempt, an internal email to the wrong person, minor configuration drift; no customer affected",
    ),
    (4, "Low", "A near miss, an informational alert, or an event a control stopped with nothing compromised"),
];

/// "Severity 2 (high)"; a number outside 1-4 is shown as it is.
pub fn severity_label(severity: u8) -> String {
    match SEVERITIES.iter().find(|(n, ..)| *n == severity) {
        Some((n, label, _)) => format!("Severity {n} ({})", label.to_lowercase()),
        None => format!("Severity {severity}"),
    }
}

/// Hours from becoming aware of a notifiable breach to telling the ICO (UK GDPR Article 33).
pub const ICO_HOURS: i64 = 72;
/// Calendar days from closure to the post-incident review, for severity 1 and 2.
pub const REVIEW_DAYS: i64 = 14;
/// UK working days from closure to the closure summary to affected customers.
pub const CLOSURE_SUMMARY_WORKING_DAYS: u32 = 5;
/// UK business hours (Europe/London), Monday to Friday except bank holidays.
const OPENS: (u32, u32) = (9, 0);
const CLOSES: (u32, u32) = (17, 30);

impl Incident {
    /// Every phase entered, oldest first; ties in time by id, so every replica lists them alike.
    pub fn phase_history(&self) -> Vec<(&Id, &PhaseChange)> {
        let mut out: Vec<_> = self.phases.iter().collect();
        out.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
        out
    }

    /// The phase entered last; an incident with no phase recorded has only been reported.
    pub fn phase(&self) -> Phase {
        self.phase_history().last().map(|(_, p)| p.phase).unwrap_or_default()
    }

    pub fn is_open(&self) -> bool {
        self.phase() != Phase::Closed
    }

    /// When it was closed, if that is its phase now.
    pub fn closed_at(&self) -> Option<i64> {
        self.phase_history().last().filter(|(_, p)| p.phase == Phase::Closed).map(|(_, p)| p.at)
    }

    /// The first time the incident reached `phase` or one after it.
    pub fn reached(&self, phase: Phase) -> Option<i64> {
        self.phases.values().filter(|p| p.phase >= phase).map(|p| p.at).min()
    }

    /// Every severity change, oldest first (ties by id).
    pub fn severity_history(&self) -> Vec<(&Id, &SeverityChange)> {
        let mut out: Vec<_> = self.severities.iter().collect();
        out.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
        out
    }

    /// The severity set last; `None` before the first assessment.
    pub fn severity(&self) -> Option<u8> {
        self.severity_history().last().map(|(_, s)| s.to)
    }

    /// The log in time order, ties by id: the same order on every replica, whoever wrote first.
    pub fn log_in_order(&self) -> Vec<(&Id, &LogEntry)> {
        let mut out: Vec<_> = self.log.iter().collect();
        out.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
        out
    }

    /// When the incident was last written about: its latest log entry, else when it began.
    pub fn last_activity(&self) -> Option<i64> {
        let began = self.phases.values().map(|p| p.at).min().or(self.reported_at);
        self.log.values().map(|e| e.at).max().or(began)
    }

    /// The first notification of any of these kinds, by when it was sent.
    pub fn first_notified(&self, kinds: &[NotificationKind]) -> Option<&Notification> {
        self.notifications.values().filter(|n| kinds.contains(&n.kind)).min_by_key(|n| n.at)
    }

    /// The people named for this incident, by role.
    pub fn roles(&self) -> [(&'static str, &Option<Id>); 5] {
        [
            ("Incident commander", &self.commander),
            ("Technical lead", &self.technical_lead),
            ("Customer communications lead", &self.communications_lead),
            ("Legal and regulatory lead", &self.legal_lead),
            ("Scribe", &self.scribe),
        ]
    }

    /// Every clock that applies to the incident as it stands, met or not.
    pub fn clocks(&self) -> Vec<Clock> {
        let mut out = Vec::new();
        let breach = self.personal_data_breach == Breach::Yes;
        if let (true, Some(aware)) = (breach, self.aware_at) {
            if matches!(self.data_role, Some(DataRole::Controller | DataRole::Both)) {
                let met = self.first_notified(&[NotificationKind::Ico, NotificationKind::IcoNotNotifiable]);
                out.push(Clock {
                    kind: ClockKind::Ico,
                    from: aware,
                    due: Some(Moment::At(aware + ICO_HOURS * 3600)),
                    met: met.map(|n| Moment::At(n.at)),
                });
            }
            if matches!(self.data_role, Some(DataRole::Processor | DataRole::Both)) {
                let met = self.first_notified(&[NotificationKind::CustomerInitial]);
                out.push(Clock {
                    kind: ClockKind::CustomersAsProcessor,
                    from: aware,
                    due: None,
                    met: met.map(|n| Moment::At(n.at)),
                });
            }
        }
        if let Some(reported) = self.reported_at {
            let due = Some(Moment::At(triage_due(reported, self.escalation)));
            let triaged = self.reached(Phase::Triage).filter(|t| *t >= reported);
            out.push(Clock { kind: ClockKind::Triage, from: reported, due, met: triaged.map(Moment::At) });
            let acknowledged = self.first_notified(&[NotificationKind::Acknowledgement]);
            out.push(Clock {
                kind: ClockKind::Acknowledgement,
                from: reported,
                due,
                met: acknowledged.map(|n| Moment::At(n.at)),
            });
        }
        if let Some(closed) = self.closed_at() {
            let closed_on = uk_date(closed);
            if matches!(self.severity(), Some(1 | 2)) {
                out.push(Clock {
                    kind: ClockKind::Review,
                    from: closed,
                    due: Some(Moment::By(closed_on.add_days(REVIEW_DAYS))),
                    met: self.review.held_on.map(Moment::By),
                });
            }
            if !self.customers.trim().is_empty() {
                let met = self.first_notified(&[NotificationKind::CustomerFinal]);
                out.push(Clock {
                    kind: ClockKind::ClosureSummary,
                    from: closed,
                    due: Some(Moment::By(add_working_days(closed_on, CLOSURE_SUMMARY_WORKING_DAYS))),
                    met: met.map(|n| Moment::At(n.at)),
                });
            }
        }
        out
    }

    /// The clock not yet met that falls due first, for the incidents list.
    pub fn nearest_deadline(&self) -> Option<Clock> {
        self.clocks().into_iter().filter(|c| c.met.is_none() && c.due.is_some()).min_by_key(|c| c.due_at())
    }
}

/// The open incidents, most severe first (those not yet assessed last), then by number: the
/// order Today and the incidents list both show them in.
pub fn open_incidents(register: &Register) -> Vec<(&Id, &Incident)> {
    let mut open: Vec<_> = register.live::<Incident>().filter(|(_, i)| i.is_open()).collect();
    open.sort_by_key(|(_, i)| (i.severity().unwrap_or(5), i.number));
    open
}

/// Which obligation a clock measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ClockKind {
    /// Tell the ICO within 72 hours of becoming aware (as controller).
    Ico,
    /// Tell the affected customers without undue delay (as processor): counts up.
    CustomersAsProcessor,
    Triage,
    /// The first acknowledgement to whoever reported it.
    Acknowledgement,
    /// The post-incident review, 14 days after closure for severity 1 and 2.
    Review,
    /// The closure summary to affected customers, 5 UK working days after closure.
    ClosureSummary,
}

impl ClockKind {
    pub fn label(self) -> &'static str {
        match self {
            ClockKind::Ico => "ICO notification (72 hours)",
            ClockKind::CustomersAsProcessor => "Tell the affected customers without undue delay",
            ClockKind::Triage => "Triage",
            ClockKind::Acknowledgement => "Acknowledge the report",
            ClockKind::Review => "Post-incident review (14 days)",
            ClockKind::ClosureSummary => "Closure summary to customers (5 working days)",
        }
    }
}

/// A moment an obligation falls due or was met: an exact time, or by the end of a UK day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Moment {
    At(i64),
    By(Date),
}

impl Moment {
    /// As seconds since the epoch; a day counts until its last second in the UK.
    pub fn seconds(self) -> i64 {
        match self {
            Moment::At(t) => t,
            Moment::By(day) => end_of_uk_day(day),
        }
    }

    /// The UK calendar day it falls on.
    pub fn day(self) -> Date {
        match self {
            Moment::At(t) => uk_date(t),
            Moment::By(day) => day,
        }
    }

    /// "31 Mar 2026 11:00 BST", or "by 29 Dec 2026".
    pub fn describe(self) -> String {
        match self {
            Moment::At(t) => london_time(t),
            Moment::By(day) => format!("by {day}"),
        }
    }
}

/// One clock of an incident: from when it runs, when it falls due (`None` for one that only
/// counts up) and when it was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Clock {
    pub kind: ClockKind,
    pub from: i64,
    pub due: Option<Moment>,
    pub met: Option<Moment>,
}

impl Clock {
    fn due_at(&self) -> i64 {
        self.due.map(Moment::seconds).unwrap_or(i64::MAX)
    }

    /// Due and not met by `now`.
    pub fn overdue(&self, now: i64) -> bool {
        self.met.is_none() && self.due.is_some_and(|d| now > d.seconds())
    }

    /// Seconds left until it falls due (negative once past); `None` when it has no deadline.
    pub fn remaining(&self, now: i64) -> Option<i64> {
        self.due.map(|d| d.seconds() - now)
    }

    /// What the clock says at `now`, in words: "1 day 23 h 10 min left", "overdue by 2 h 5 min",
    /// "met 31 Mar 2026 10:12 BST", or for a clock that counts up "3 h 20 min since aware".
    pub fn status(&self, now: i64) -> String {
        if let Some(met) = self.met {
            return format!("met {}", met.describe().trim_start_matches("by "));
        }
        match self.remaining(now) {
            Some(left) if left >= 0 => format!("{} left (due {})", span(left), self.due.expect("has a due").describe()),
            Some(late) => format!("overdue by {} (was due {})", span(-late), self.due.expect("has a due").describe()),
            None => format!("{} since becoming aware", span(now - self.from)),
        }
    }
}

/// A length of time as a person reads it on a countdown: "2 days 3 h 05 min", "45 min".
pub fn span(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (days, hours, minutes) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h {minutes:02} min"),
        (1, h) => format!("1 day {h} h {minutes:02} min"),
        (d, h) => format!("{d} days {h} h {minutes:02} min"),
    }
}

/// The UK calendar day a moment falls on.
pub fn uk_date(at: i64) -> Date {
    Date(London.timestamp_opt(at, 0).single().map(|t| t.date_naive()).unwrap_or_default())
}

/// A moment as a clock in the UK shows it, with the zone: "31 Mar 2026 11:00 BST".
pub fn london_time(at: i64) -> String {
    match London.timestamp_opt(at, 0).single() {
        Some(t) => format!("{} {}", Date(t.date_naive()), t.format("%H:%M %Z")),
        None => at.to_string(),
    }
}

/// The moment a UK wall-clock time happens; in the hour the clocks skip, the first moment after.
pub fn uk_moment(local: NaiveDateTime) -> i64 {
    London
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| London.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map(|t| t.timestamp())
        .unwrap_or_else(|| local.and_utc().timestamp())
}

fn end_of_uk_day(day: Date) -> i64 {
    uk_moment(day.0.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")))
}

/// A UK working day: Monday to Friday and not an England and Wales bank holiday (substitute
/// days included).
pub fn is_working_day(day: Date) -> bool {
    !matches!(day.0.weekday(), Weekday::Sat | Weekday::Sun) && !bankholidays::uk::is_bankholiday(&day.0)
}

/// The day `n` UK working days after `day` (the day itself not counted).
pub fn add_working_days(day: Date, n: u32) -> Date {
    let mut at = day;
    let mut left = n;
    while left > 0 {
        at = at.add_days(1);
        if is_working_day(at) {
            left -= 1;
        }
    }
    at
}

/// Whether a moment falls in UK business hours (09:00-17:30 on a working day).
pub fn in_business_hours(at: i64) -> bool {
    let Some(local) = London.timestamp_opt(at, 0).single() else { return false };
    let minutes = local.hour() * 60 + local.minute();
    is_working_day(Date(local.date_naive())) && (OPENS.0 * 60 + OPENS.1..CLOSES.0 * 60 + CLOSES.1).contains(&minutes)
}

/// When a report that arrived at `reported` is due for triage: at once in business hours or
/// when there is reason to escalate, else at the start of the next business day.
pub fn triage_due(reported: i64, escalation: Escalation) -> i64 {
    if escalation != Escalation::NotUrgent || in_business_hours(reported) {
        return reported;
    }
    let local = London.timestamp_opt(reported, 0).single().map(|t| t.naive_local());
    let Some(local) = local else { return reported };
    let opens = NaiveTime::from_hms_opt(OPENS.0, OPENS.1, 0).expect("valid time");
    let mut day = Date(local.date());
    // Before opening on a working day: that morning. Otherwise the next working day's.
    if !(is_working_day(day) && local.time() < opens) {
        day = add_working_days(day, 1);
    }
    uk_moment(day.0.and_time(opens))
}

/// A moment as a `datetime-local` control holds it, in UK time: "2026-11-22T14:05".
pub fn uk_input(at: i64) -> String {
    London.timestamp_opt(at, 0).single().map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// A UK time as a `datetime-local` control gives it ("2026-11-22T14:05"), or what was wrong.
pub fn parse_uk_input(text: &str) -> Result<i64, crate::Invalid> {
    let text = text.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(uk_moment)
        .ok_or_else(|| crate::Invalid(format!("\"{text}\" is not a date and time: give both, as 22/11/2026 14:05")))
}

/// A first draft of a notification from the record, for a person to check, complete and send:
/// the customers' initial notice, an update, the final notice with the closure summary, and
/// the ICO's notification. Gaps the record cannot fill are left in square brackets.
pub fn draft(kind: NotificationKind, incident: &Incident, reference: &str, register: &Register, now: i64) -> String {
    let or_gap =
        |text: &str, gap: &str| if text.trim().is_empty() { format!("[{gap}]") } else { text.trim().to_string() };
    let when = |t: Option<i64>| t.map(london_time).unwrap_or_else(|| "[not yet known]".into());
    let person = |id: &Option<Id>| id.as_deref().and_then(|p| register.person_name(p)).unwrap_or("[name]").to_string();
    let firm = or_gap(&register.name, "our firm");
    let what = or_gap(&incident.summary, "what happened, in plain words");
    let systems = or_gap(&incident.systems, "the systems affected");
    let data = or_gap(&incident.data_categories, "the kinds of data affected, or none");
    let contact = person(&incident.communications_lead);
    let decisions: Vec<String> = incident
        .log_in_order()
        .into_iter()
        .filter(|(_, e)| matches!(e.kind, LogKind::Action | LogKind::Decision))
        .map(|(_, e)| format!("- {}: {}", london_time(e.at), e.text))
        .collect();
    let done = if decisions.is_empty() { "[what we have done so far]".to_string() } else { decisions.join("\n") };
    match kind {
        NotificationKind::CustomerInitial => format!(
            "Subject: {firm}: incident {reference}, first notice\n\n\
             We are telling you about an incident that affects the service we provide to you.\n\n\
             What happened: {what}\n\
             When: first seen {}; we became aware {}.\n\
             What is affected: {systems}. Data: {data}.\n\
             What we have done:\n{done}\n\
             What we are still looking into: [open questions]\n\
             What you may need to do: [actions for the customer, or none]\n\
             Our next update: by [time].\n\n\
             {contact}, for {firm}",
            when(incident.first_seen),
            when(incident.aware_at),
        ),
        NotificationKind::CustomerUpdate => format!(
            "Subject: {firm}: incident {reference}, update at {}\n\n\
             Where we are: {}.\n\
             What has changed since our last message: [what is new]\n\
             What we have done:\n{done}\n\
             What you may need to do: [actions for the customer, or none]\n\
             Our next update: by [time].\n\n\
             {contact}, for {firm}",
            london_time(now),
            incident.phase().label().to_lowercase(),
        ),
        NotificationKind::CustomerFinal => format!(
            "Subject: {firm}: incident {reference}, closed\n\n\
             The incident we told you about is closed{}.\n\n\
             What happened: {what}\n\
             Root cause: {}\n\
             Impact: {}\n\
             What we are changing so that it does not happen again: {}\n\n\
             {contact}, for {firm}",
            incident.closed_at().map(|t| format!(" ({})", london_time(t))).unwrap_or_default(),
            or_gap(&incident.review.root_cause, "the root cause"),
            or_gap(&incident.review.impact, "the impact on your service and data"),
            {
                let actions: Vec<&str> =
                    incident.actions.iter().filter_map(|a| register.actions.get(a)).map(|a| a.title.as_str()).collect();
                if actions.is_empty() { "[the remediation actions]".to_string() } else { actions.join("; ") }
            },
        ),
        NotificationKind::Ico => format!(
            "Personal data breach report (UK GDPR Article 33)\n\n\
             Organisation: {firm}\n\
             Our reference: {reference}\n\
             When the breach happened: first seen {}\n\
             When we became aware: {}\n\
             What happened: {what}\n\
             Personal data concerned: {data}\n\
             People affected: [categories and approximate number]\n\
             Likely consequences: [for the people affected]\n\
             What we have done or propose to do:\n{done}\n\
             Contact: {}, {}",
            when(incident.first_seen),
            when(incident.aware_at),
            person(&incident.legal_lead),
            register
                .people
                .get(incident.legal_lead.as_deref().unwrap_or_default())
                .map(|p| p.email.as_str())
                .unwrap_or("[email]"),
        ),
        other => format!("[No draft for {}: write it from the record]", other.label().to_lowercase()),
    }
}
