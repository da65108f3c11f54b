//! Exports for auditors: a CSV per section, JSON of the whole register and an XLSX workbook
//! with a sheet per section. Pure functions returning bytes; the browser offers them as
//! downloads. CSV and XLSX come from the same tables, so they always agree.

use crate::model::*;

use crate::{Date, Pence};
use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("could not write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("could not write the JSON file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("there is no section called {0}")]
    NoSection(String),
}

/// One value in a table, typed so the workbook can hold real dates.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Date(Option<Date>),
    /// Written as text ("£1,250.00") in both formats: never turned into a float.
    Money(Pence),
    Flag(bool),
}

impl Cell {
    /// The text of the cell in a CSV file: dates in ISO form so other tools can read them.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.map(|d| d.iso()).unwrap_or_default(),
            Cell::Money(p) => p.to_string(),
            Cell::Flag(b) => if *b { "Yes" } else { "No" }.to_string(),
        }
    }
}

impl Cell {
    /// The text of the cell in a CSV file, with text that a spreadsheet would run as a formula
    /// (beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) neutralised with a
    /// leading apostrophe, as OWASP's CSV injection guidance says: it still reads as the same
    /// words. Numbers, dates and amounts are written by the app and never start that way.
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            other => other.text(),
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<Option<Date>> for Cell {
    fn from(d: Option<Date>) -> Self {
        Cell::Date(d)
    }
}
impl From<Pence> for Cell {
    fn from(p: Pence) -> Self {
        Cell::Money(p)
    }
}
impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Cell::Flag(b)
    }
}
impl From<u8> for Cell {
    fn from(n: u8) -> Self {
        Cell::Number(n.into())
    }
}
impl From<u32> for Cell {
    fn from(n: u32) -> Self {
        Cell::Number(n.into())
    }
}

/// One section of the register as rows and columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The sheet name and the CSV file's stem.
    pub section: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

macro_rules! row {
    ($($cell:expr),* $(,)?) => { vec![$(Cell::from($cell)),*] };
}

/// Names of people and references of records, for turning ids into words.
struct Names<'a> {
    register: &'a Register,
    refs: BTreeMap<Kind, BTreeMap<Id, String>>,
}

impl Names<'_> {
    fn person(&self, id: &Option<Id>) -> String {
        id.as_deref()
            .map(|id| self.register.person_name(id).unwrap_or("(unknown person)").to_string())
            .unwrap_or_default()
    }
    fn people<'i>(&self, ids: impl IntoIterator<Item = &'i Id>) -> String {
        ids.into_iter().map(|id| self.person(&Some(id.clone()))).collect::<Vec<_>>().join("; ")
    }
    fn reference<R: Record>(&self, id: &str) -> String {
        self.refs.get(&R::KIND).and_then(|r| r.get(id)).cloned().unwrap_or_else(|| format!("(missing {id})"))
    }
    fn references<'i, R: Record>(&self, ids: impl IntoIterator<Item = &'i Id>) -> String {
        ids.into_iter().map(|id| self.reference::<R>(id)).collect::<Vec<_>>().join("; ")
    }
}

/// Every section of the live register, in the order the interface shows them.
pub fn tables(register: &Register, today: Date) -> Vec<Table> {
    let refs = crate::refs::all_references(register);
    let n = Names { register, refs };
    let mut out = Vec::new();

    let rows = register.live::<Risk>().map(|(id, r)| {
        row![
            n.reference::<Risk>(id),
            r.title.as_str(),
            r.category.as_str(),
            r.scenario.map(|s| s.label()).unwrap_or(""),
            n.person(&r.owner),
            r.inherent_likelihood,
            r.inherent_impact,
            r.inherent_score(),
            r.residual_likelihood,
            r.residual_impact,
            r.residual_score(),
            r.band().label(),
            r.target_score,
            r.treatment.label(),
            r.direction.label(),
            r.status.label(),
            r.controls.as_str(),
            r.annex_a.join("; "),
            r.last_review,
            r.next_review(),
            r.status != RiskStatus::Closed && r.review_overdue(today),
            n.references::<Supplier>(r.suppliers.iter()),
            n.references::<Policy>(r.policies.iter()),
            n.references::<Action>(r.actions.iter()),
        ]
    });
    out.push(Table {
        section: "Risks",
        headers: vec![
            "Reference",
            "Title",
            "Category",
            "Scenario",
            "Owner",
            "Inherent likelihood",
            "Inherent impact",
            "Inherent score",
            "Residual likelihood",
            "Residual impact",
            "Residual score",
            "Band",
            "Target score",
            "Treatment",
            "Direction",
            "Status",
            "Controls",
            "Annex A",
            "Last review",
            "Next review",
            "Review overdue",
            "Suppliers",
            "Insurance",
            "Actions",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Supplier>().map(|(id, s)| {
        row![
            n.reference::<Supplier>(id),
            s.name.as_str(),
            s.service.as_str(),
            s.sub_processor,
            s.criticality.label(),
            s.data_location.as_str(),
            n.person(&s.contract_owner),
            s.continuity_assessment.as_str(),
            s.has_viable_alternative(),
            s.last_review(),
            s.next_review(),
        ]
    });
    out.push(Table {
        section: "Suppliers",
        headers: vec![
            "Reference",
            "Name",
            "Service",
            "Sub-processor",
            "Criticality",
            "Data location",
            "Contract owner",
            "Continuity assessment",
            "Viable alternative",
            "Last review",
            "Next review",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Supplier>().flat_map(|(id, s)| {
        let supplier = n.reference::<Supplier>(id);
        s.alternatives.values().filter(|a| !a.archived).map(move |a| {
            row![
                supplier.clone(),
                s.name.as_str(),
                a.name.as_str(),
                a.viability.label(),
                a.switch_over_days,
                a.cost_impact,
                a.last_assessed,
                a.next_assessment(),
                a.notes.as_str(),
            ]
        })
    });
    out.push(Table {
        section: "Alternatives",
        headers: vec![
            "Supplier",
            "Supplier name",
            "Alternative",
            "Viability",
            "Switch-over (days)",
            "Cost of switching",
            "Last assessed",
            "Next assessment",
            "Notes",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Supplier>().flat_map(|(id, s)| {
        let supplier = n.reference::<Supplier>(id);
        let n = &n;
        s.reviews.values().map(move |r| {
            row![
                supplier.clone(),
                s.name.as_str(),
                r.date,
                n.person(&r.reviewer),
                r.outcome.label(),
                r.notes.as_str(),
                n.references::<Action>(r.action.iter()),
            ]
        })
    });
    out.push(Table {
        section: "Supplier reviews",
        headers: vec!["Supplier", "Supplier name", "Date", "Reviewer", "Outcome", "Notes", "Action"],
        rows: rows.collect(),
    });

    let rows = register.live::<Person>().map(|(id, p)| {
        row![n.reference::<Person>(id), p.name.as_str(), p.job_title.as_str(), p.email.as_str(), p.phone.as_str()]
    });
    out.push(Table {
        section: "People",
        headers: vec!["Reference", "Name", "Job title", "Email", "Phone"],
        rows: rows.collect(),
    });

    let rows = register.live::<Role>().map(|(id, r)| {
        row![
            n.reference::<Role>(id),
            r.name.as_str(),
            r.critical,
            n.person(&r.holder),
            n.people(r.deputies.iter()),
            r.responsibilities.as_str(),
            n.references::<Runbook>(r.runbooks.iter()),
            n.references::<BreakGlass>(r.break_glass.iter()),
        ]
    });
    out.push(Table {
        section: "Roles",
        headers: vec![
            "Reference",
            "Role",
            "Critical",
            "Holder",
            "Deputies (in order)",
            "Responsibilities",
            "Runbooks",
            "Break-glass accounts",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Runbook>().map(|(id, r)| {
        row![
            n.reference::<Runbook>(id),
            r.title.as_str(),
            r.kind.label(),
            n.person(&r.owner),
            r.location.as_str(),
            r.last_reviewed,
            r.next_review(),
        ]
    });
    out.push(Table {
        section: "Runbooks",
        headers: vec!["Reference", "Title", "Kind", "Owner", "Location", "Last reviewed", "Next review"],
        rows: rows.collect(),
    });

    let rows = register.live::<BreakGlass>().map(|(id, b)| {
        row![
            n.reference::<BreakGlass>(id),
            b.service.as_str(),
            b.account.as_str(),
            n.people(b.permitted.iter()),
            b.procedure.as_str(),
            b.last_tested,
            b.next_test(),
        ]
    });
    out.push(Table {
        section: "Break-glass accounts",
        headers: vec!["Reference", "Service", "Account", "Permitted", "Procedure", "Last tested", "Next test"],
        rows: rows.collect(),
    });

    let rows = register.live::<Exercise>().map(|(id, e)| {
        row![
            n.reference::<Exercise>(id),
            e.title.as_str(),
            e.kind.label(),
            e.status.label(),
            e.date,
            n.person(&e.lead),
            e.scope.as_str(),
            e.went_well.as_str(),
            e.went_badly.as_str(),
            n.references::<Action>(e.actions.iter()),
        ]
    });
    out.push(Table {
        section: "Exercises",
        headers: vec![
            "Reference",
            "Title",
            "Type",
            "Status",
            "Date",
            "Lead",
            "Scope",
            "What worked",
            "What did not",
            "Actions",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Action>().map(|(id, a)| {
        row![
            n.reference::<Action>(id),
            a.title.as_str(),
            n.person(&a.owner),
            a.due,
            a.status.label(),
            a.overdue(today),
            a.closure_evidence.as_str(),
            a.closed_on,
        ]
    });
    out.push(Table {
        section: "Actions",
        headers: vec!["Reference", "Title", "Owner", "Due", "Status", "Overdue", "Closure evidence", "Closed on"],
        rows: rows.collect(),
    });

    let rows = register.live::<Policy>().map(|(id, p)| {
        let transfers = register.risks_transferred_to(id).map(|(rid, _)| rid);
        row![
            n.reference::<Policy>(id),
            p.name.as_str(),
            p.kind.label(),
            p.insurer.as_str(),
            p.policy_number.as_str(),
            p.cover_limit,
            p.excess,
            p.premium,
            p.renewal,
            n.person(&p.owner),
            n.references::<Risk>(transfers),
        ]
    });
    out.push(Table {
        section: "Insurance",
        headers: vec![
            "Reference",
            "Name",
            "Kind",
            "Insurer",
            "Policy number",
            "Cover limit",
            "Excess",
            "Premium",
            "Renewal",
            "Owner",
            "Risks transferred",
        ],
        rows: rows.collect(),
    });

    let rows = register.live::<Plan>().map(|(id, p)| {
        row![
            n.reference::<Plan>(id),
            p.code.as_str(),
            p.title.as_str(),
            p.kind.label(),
            n.person(&p.owner),
            p.current_version(),
            p.last_reviewed,
            p.review_due(register),
        ]
    });
    out.push(Table {
        section: "Plans",
        headers: vec!["Reference", "Code", "Title", "Kind", "Owner", "Version", "Last reviewed", "Next review"],
        rows: rows.collect(),
    });

    let rows = register.live::<Plan>().flat_map(|(id, p)| {
        p.history()
            .into_iter()
            .map(|(_, v)| {
                row![
                    n.reference::<Plan>(id),
                    p.code.as_str(),
                    v.version.as_str(),
                    v.date,
                    n.person(&v.author),
                    n.person(&v.approved_by),
                    v.change.as_str(),
                ]
            })
            .collect::<Vec<_>>()
    });
    out.push(Table {
        section: "Document versions",
        headers: vec!["Document", "Code", "Version", "Date", "Author", "Approved by", "What changed"],
        rows: rows.collect(),
    });
    let rows = register.live::<Training>().flat_map(|(id, t)| {
        t.required(register)
            .into_iter()
            .map(|person| {
                use crate::readiness::Standing;
                let (last, next, state) = match crate::readiness::standing(t, person, today) {
                    Standing::Never => (None, Some(today), "Never done"),
                    Standing::Overdue { last, due } => (Some(last), Some(due), "Overdue"),
                    Standing::Done { last, next } => (Some(last), next, "Current"),
                };
                row![n.reference::<Training>(id), t.title.as_str(), n.person(&Some(person.clone())), last, next, state,]
            })
            .collect::<Vec<_>>()
    });
    out.push(Table {
        section: "Training",
        headers: vec!["Reference", "Training", "Person", "Last completed", "Next due", "Standing"],
        rows: rows.collect(),
    });
    let minutes = |m: Option<crate::recovery::Minutes>| m.map(|m| m.to_string()).unwrap_or_default();
    let rows = register.live::<Service>().map(|(id, s)| {
        let levels = |i: &Impact| i.levels().iter().map(u8::to_string).collect::<Vec<_>>().join("/");
        let tested = crate::recovery::last_tested(register, id);
        row![
            n.reference::<Service>(id),
            s.name.as_str(),
            n.person(&s.owner),
            minutes(s.mtpd),
            minutes(s.rto),
            minutes(s.rpo),
            s.impact.at().map(levels).join("; "),
            n.references::<Supplier>(s.suppliers.iter()),
            n.references::<Role>(s.roles.iter()),
            n.references::<Service>(s.services.iter()),
            n.references::<Plan>(s.plans.iter()),
            tested.map(|(_, held, _)| held),
            minutes(tested.and_then(|(_, _, r)| r.time)),
            minutes(tested.and_then(|(_, _, r)| r.data_loss)),
        ]
    });
    out.push(Table {
        section: "Services",
        headers: vec![
            "Reference",
            "Service",
            "Owner",
            "Maximum tolerable disruption",
            "RTO",
            "RPO",
            "Impact at 1 hour; 4 hours; 1 day; 3 days; 1 week (financial/contractual/regulatory/reputational)",
            "Suppliers",
            "Roles",
            "Services",
            "Recovery procedure",
            "Last tested",
            "Recovery time achieved",
            "Data loss achieved",
        ],
        rows: rows.collect(),
    });
    let rows = register.live::<Customer>().map(|(id, c)| {
        row![
            n.reference::<Customer>(id),
            c.name.as_str(),
            c.agreement.as_str(),
            minutes(c.rto),
            minutes(c.rpo),
            c.support_hours.label(),
            n.references::<Service>(c.services.iter()),
            n.person(&c.owner),
        ]
    });
    out.push(Table {
        section: "Customers",
        headers: vec![
            "Reference",
            "Customer",
            "Agreement",
            "Agreed RTO",
            "Agreed RPO",
            "Support hours",
            "Services",
            "Owner",
        ],
        rows: rows.collect(),
    });
    let rows = register.live::<Exercise>().flat_map(|(id, e)| {
        e.tested
            .iter()
            .map(|(service, r)| {
                row![
                    n.reference::<Exercise>(id),
                    e.date,
                    n.reference::<Service>(service),
                    minutes(r.time),
                    minutes(r.data_loss),
                    r.notes.as_str(),
                ]
            })
            .collect::<Vec<_>>()
    });
    out.push(Table {
        section: "Recovery tested",
        headers: vec!["Exercise", "Date", "Service", "Recovery time", "Data loss", "Notes"],
        rows: rows.collect(),
    });

    use crate::incident::{london_time, severity_label};
    let time = |t: Option<i64>| t.map(london_time).unwrap_or_default();
    let rows = register.live::<Incident>().map(|(id, i)| {
        let notified: Vec<String> =
            i.notifications.values().map(|x| format!("{} ({}) to {}", x.kind, london_time(x.at), x.to)).collect();
        row![
            n.reference::<Incident>(id),
            i.title.as_str(),
            i.phase().label(),
            i.severity().map(severity_label).unwrap_or_default(),
            i.reporter.as_str(),
            time(i.first_seen),
            time(i.aware_at),
            i.personal_data_breach.label(),
            i.data_role.map(|r| r.label()).unwrap_or_default(),
            n.person(&i.commander),
            i.systems.as_str(),
            i.customers.as_str(),
            i.data_categories.as_str(),
            notified.join("; "),
            time(i.closed_at()),
            i.review.held_on,
            i.review.root_cause.as_str(),
            n.references::<Action>(i.actions.iter()),
        ]
    });
    out.push(Table {
        section: "Incidents",
        headers: vec![
            "Reference",
            "Title",
            "Phase",
            "Severity",
            "Reporter",
            "First seen (UK time)",
            "Became aware (UK time)",
            "Personal-data breach",
            "Our position",
            "Incident commander",
            "Systems",
            "Customers",
            "Data categories",
            "Notifications",
            "Closed (UK time)",
            "Review held on",
            "Root cause",
            "Actions",
        ],
        rows: rows.collect(),
    });
    let rows = register.live::<Incident>().flat_map(|(id, i)| {
        let reference = n.reference::<Incident>(id);
        let log = i.log_in_order();
        let corrected = |c: &Option<Id>| c.as_ref().and_then(|c| log.iter().position(|(id, _)| *id == c));
        log.iter()
            .map(|(_, e)| {
                row![
                    reference.clone(),
                    london_time(e.at),
                    n.person(&e.author),
                    e.kind.label(),
                    e.text.as_str(),
                    corrected(&e.corrects).map(|p| format!("Entry {}", p + 1)).unwrap_or_default(),
                ]
            })
            .collect::<Vec<_>>()
    });
    out.push(Table {
        section: "Incident log",
        headers: vec!["Incident", "Time (UK)", "Author", "Kind", "Entry", "Corrects"],
        rows: rows.collect(),
    });
    out
}

/// One section as CSV (UTF-8, a header row, dates as YYYY-MM-DD).
pub fn csv(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.headers)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(Cell::csv_text))?;
    }
    writer.into_inner().map_err(|e| ExportError::Csv(e.into_error().into()))
}

/// The section called `name` ("Risks"), as CSV.
pub fn csv_section(register: &Register, today: Date, name: &str) -> Result<Vec<u8>, ExportError> {
    let table = tables(register, today)
        .into_iter()
        .find(|t| t.section.eq_ignore_ascii_case(name))
        .ok_or_else(|| ExportError::NoSection(name.to_string()))?;
    csv(&table)
}

/// The whole register as stored, archived records included.
pub fn json(register: &Register) -> Result<Vec<u8>, ExportError> {
    Ok(serde_json::to_vec_pretty(register)?)
}

/// A workbook with a sheet per section. `created` is written as the workbook's creation
/// time, so the bytes depend only on the arguments.
pub fn xlsx(register: &Register, today: Date, created: DateTime<Utc>) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(created.year() as u16, created.month() as u8, created.day() as u8)?.and_hms(
        created.hour() as u16,
        created.minute() as u8,
        created.second(),
    )?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{}: continuity register", register.name))
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("d mmm yyyy");
    for table in tables(register, today) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.section)?;
        for (col, header) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *header, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Number(v) => sheet.write_number(r, c, *v as f64)?,
                    Cell::Date(Some(d)) => {
                        let day = ExcelDateTime::from_ymd(d.year() as u16, d.0.month() as u8, d.0.day() as u8)?;
                        sheet.write_datetime_with_format(r, c, &day, &date)?
                    }
                    Cell::Date(None) => sheet,
                    other => sheet.write_string(r, c, other.text())?,
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
    }
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;

    fn today() -> Date {
        Date::parse("2026-11-22").unwrap()
    }

    #[test]
    fn every_section_has_a_table_with_rows_as_wide_as_its_headers() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let tables = tables(&register, today());
        let names: Vec<_> = tables.iter().map(|t| t.section).collect();
        assert_eq!(
            names,
            [
                "Risks",
                "Suppliers",
                "Alternatives",
                "Supplier reviews",
                "People",
                "Roles",
                "Runbooks",
                "Break-glass accounts",
                "Exercises",
                "Actions",
                "Insurance",
                "Plans",
                "Document versions",
                "Training",
                "Services",
                "Customers",
                "Recovery tested",
                "Incidents",
                "Incident log"
            ]
        );
        for t in &tables {
            assert!(!t.rows.is_empty(), "{} is empty", t.section);
            assert!(t.rows.iter().all(|r| r.len() == t.headers.len()), "{}", t.section);
        }
    }

    #[test]
    fn csv_round_trips_through_a_csv_reader() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let bytes = csv_section(&register, today(), "risks").unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(reader.headers().unwrap().get(0), Some("Reference"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 8);
        let destructive = rows.iter().find(|r| &r[1] == "Destructive security incident").unwrap();
        assert_eq!(&destructive[13], "Transfer");
        assert_eq!(&destructive[22], "I-002", "insurance shown by reference");
        let insurance = csv_section(&register, today(), "Insurance").unwrap();
        let text = String::from_utf8(insurance).unwrap();
        assert!(text.contains("\"£2,000,000.00\""), "money as exact text: {text}");
        assert!(text.contains("2027-08-22"), "dates in ISO form");
        let err = csv_section(&register, today(), "Nope").unwrap_err();
        assert_eq!(err.to_string(), "there is no section called Nope");
    }

    #[test]
    fn json_holds_the_whole_register() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json(&register).unwrap()).unwrap();
        assert_eq!(value["risks"]["r-region"]["title"], "Regional cloud outage");
        assert_eq!(value["policies"]["i-cyber"]["cover_limit"], 200_000_000, "pence, an integer");
        assert_eq!(value["risks"]["r-region"]["last_review"], "2026-10-22");
    }

    #[test]
    fn xlsx_has_a_sheet_per_section_and_is_reproducible() {
        let register = sample(today(), 0).unwrap().register().unwrap();
        let created = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let a = xlsx(&register, today(), created).unwrap();
        let b = xlsx(&register, today(), created).unwrap();
        assert_eq!(a, b, "same inputs, same bytes");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let sheets =
            zip.file_names().filter(|n| n.as_ref().is_ok_and(|n| n.starts_with("xl/worksheets/sheet"))).count();
        assert_eq!(sheets, 19);
        let mut core = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("docProps/core.xml").unwrap(), &mut core).unwrap();
        assert!(core.contains("2026-11-18T11:06:40Z"), "{core}");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        for (typed, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("Ordinary words = fine", "Ordinary words = fine"),
        ] {
            assert_eq!(Cell::Text(typed.into()).csv_text(), written);
        }
        assert_eq!(Cell::Number(-3).csv_text(), "-3");
    }
}
