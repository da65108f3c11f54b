//! Bringing in a register a firm already keeps in a spreadsheet: read an XLSX (calamine) or
//! CSV (csv) file into sheets, guess which column holds which field from the headings, and
//! preview the records a confirmed import would create, with every row that cannot be read
//! and why. Nothing here writes: the confirmed preview becomes one `Edit::Import`, one change.

use crate::model::*;
use crate::{Date, Pence};
use serde::{Deserialize, Serialize};

/// Largest file taken, and most rows read from one sheet: past these the file is refused
/// whole with the reason, never half read.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_ROWS: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ImportError {
    #[error("{0} cannot be read as a spreadsheet: {1}")]
    NotASpreadsheet(String, String),
    #[error("{0} is {1} MB; files up to {max} MB are taken", max = MAX_BYTES / 1024 / 1024)]
    TooLarge(String, usize),
    #[error("the sheet {0:?} has {1} rows; at most {MAX_ROWS} are taken at once: split it")]
    TooManyRows(String, usize),
    #[error("{0} holds no rows to import")]
    Empty(String),
}

/// One cell as the file holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(Date),
    Flag(bool),
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as words: whole numbers without ".0", dates the UK way.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Flag(b) => if *b { "Yes" } else { "No" }.into(),
        }
    }
}

/// A sheet's rows under the row taken as its headings (the first that looks like one, so
/// title rows and merged headings above it are passed over).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    pub headings: Vec<String>,
    /// (the row's number in the file, counting from 1; its cells).
    pub rows: Vec<(usize, Vec<Cell>)>,
}

/// Reads every sheet of an XLSX workbook, or a CSV file as one sheet.
pub fn read(file_name: &str, bytes: &[u8]) -> Result<Vec<Sheet>, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::TooLarge(file_name.into(), bytes.len() / 1024 / 1024));
    }
    let raw = if file_name.to_lowercase().ends_with(".csv") {
        read_csv(file_name, bytes)?
    } else {
        read_xlsx(file_name, bytes)?
    };
    let sheets: Vec<Sheet> = raw.into_iter().filter_map(|(name, rows)| sheet(name, rows)).collect();
    if sheets.is_empty() {
        return Err(ImportError::Empty(file_name.into()));
    }
    for s in &sheets {
        if s.rows.len() > MAX_ROWS {
            return Err(ImportError::TooManyRows(s.name.clone(), s.rows.len()));
        }
    }
    Ok(sheets)
}

type RawSheet = (String, Vec<Vec<Cell>>);

fn read_csv(file_name: &str, bytes: &[u8]) -> Result<Vec<RawSheet>, ImportError> {
    let bad = |why: String| ImportError::NotASpreadsheet(file_name.into(), why);
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|_| bad("it is not text (a CSV file is UTF-8 text)".into()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        rows.push(
            record.iter().map(|c| if c.trim().is_empty() { Cell::Empty } else { Cell::Text(c.to_string()) }).collect(),
        );
        if rows.len() > MAX_ROWS + 50 {
            return Err(ImportError::TooManyRows(file_name.into(), rows.len()));
        }
    }
    let name = file_name.trim_end_matches(".csv").trim_end_matches(".CSV").to_string();
    Ok(vec![(name, rows)])
}

fn read_xlsx(file_name: &str, bytes: &[u8]) -> Result<Vec<RawSheet>, ImportError> {
    use calamine::{Data, Reader};
    let bad = |why: String| ImportError::NotASpreadsheet(file_name.into(), why);
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| bad(e.to_string()))?;
        if range.height() > MAX_ROWS + 50 {
            return Err(ImportError::TooManyRows(name, range.height()));
        }
        let (first_row, first_col) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
        // Rows above and columns left of the used range are empty in the file.
        let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); first_row];
        for row in range.rows() {
            let mut cells = vec![Cell::Empty; first_col];
            cells.extend(row.iter().map(|c| match c {
                Data::Empty | Data::Error(_) => Cell::Empty,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Float(n) => Cell::Number(*n),
                Data::Bool(b) => Cell::Flag(*b),
                Data::DateTime(d) => serial_date(d.as_f64()).map(Cell::Date).unwrap_or(Cell::Number(d.as_f64())),
            }));
            rows.push(cells);
        }
        out.push((name, rows));
    }
    Ok(out)
}

/// A spreadsheet's day number (1 is 1 Jan 1900, with Excel's missing 29 Feb 1900 counted).
fn serial_date(serial: f64) -> Option<Date> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    Some(Date(base + chrono::Duration::days(serial.floor() as i64)))
}

/// The rows under the first row that looks like headings: two or more cells of text, at
/// least one of them a heading some field answers to.
fn sheet(name: String, rows: Vec<Vec<Cell>>) -> Option<Sheet> {
    let looks_like_headings = |row: &Vec<Cell>| {
        let texts: Vec<String> = row.iter().filter(|c| matches!(c, Cell::Text(_))).map(Cell::text).collect();
        texts.len() >= 2 && texts.iter().any(|t| Target::ALL.iter().any(|target| target.field_for(t).is_some()))
    };
    let at = rows.iter().position(looks_like_headings)?;
    let headings: Vec<String> = rows[at].iter().map(Cell::text).collect();
    let width = headings.len();
    let rows = rows
        .into_iter()
        .enumerate()
        .skip(at + 1)
        .map(|(i, mut cells)| {
            cells.resize(width.max(cells.len()), Cell::Empty);
            (i + 1, cells)
        })
        .collect();
    Some(Sheet { name, headings, rows })
}

/// What a sheet's rows become.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Risks,
    Suppliers,
    /// Suppliers' alternatives, added to suppliers already in the register.
    Alternatives,
    /// Suppliers' past reviews, added to suppliers already in the register.
    Reviews,
    People,
    /// Key roles, with their holders and deputies.
    Roles,
    Actions,
    Policies,
}

/// A field a column can fill: its key, its label, and the headings (lower case, letters and
/// digits only) that name it in spreadsheets people keep.
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    headings: &'static [&'static str],
}

const fn field(key: &'static str, label: &'static str, headings: &'static [&'static str]) -> Field {
    Field { key, label, headings }
}

/// Columns that are worked out from others (a score, a band) or are the export's own
/// (references, links): recognised, so they are not mistaken for a field, and left out.
const DERIVED: &[&str] = &[
    "score",
    "inherentscore",
    "residualscore",
    "riskscore",
    "band",
    "rating",
    "reviewoverdue",
    "overdue",
    "viablealternative",
    "risks",
    "riskstransferred",
    "nextassessment",
    "runbooks",
    "breakglassaccounts",
];

/// A record's reference: kept as the imported record's number when it is free, so
/// the links other sheets make to it by reference still name it.
const REFERENCE: Field = field("reference", "Reference", &["reference", "ref", "id", "refno", "referencenumber"]);

const RISK_FIELDS: &[Field] = &[
    REFERENCE,
    field("title", "Title", &["title", "risk", "riskname", "risktitle", "name"]),
    field("description", "Description", &["description", "details", "riskdescription", "cause"]),
    field("category", "Category", &["category", "type", "riskcategory", "area"]),
    field("scenario", "Scenario", &["scenario", "scenarioclass", "threat"]),
    field("owner", "Owner", &["owner", "riskowner", "ownedby", "responsible"]),
    field(
        "inherent_likelihood",
        "Inherent likelihood",
        &["inherentlikelihood", "likelihood", "l", "probability", "grosslikelihood"],
    ),
    field("inherent_impact", "Inherent impact", &["inherentimpact", "impact", "i", "consequence", "grossimpact"]),
    field(
        "residual_likelihood",
        "Residual likelihood",
        &["residuallikelihood", "residuall", "netlikelihood", "currentlikelihood"],
    ),
    field("residual_impact", "Residual impact", &["residualimpact", "residuali", "netimpact", "currentimpact"]),
    field("target_score", "Target score", &["targetscore", "target", "appetite", "targetrating"]),
    field("treatment", "Treatment", &["treatment", "response", "riskresponse"]),
    field("direction", "Direction", &["direction", "trend", "directionoftravel"]),
    field("status", "Status", &["status", "riskstatus"]),
    field("controls", "Controls", &["controls", "controlsinplace", "existingcontrols", "mitigation", "mitigations"]),
    field("annex_a", "Annex A", &["annexa", "iso27001", "annexacontrols", "controlreferences"]),
    field("last_review", "Last review", &["lastreview", "reviewdate", "lastreviewed", "reviewed", "datereviewed"]),
    field("next_review", "Next review", &["nextreview", "nextreviewdate", "reviewdue"]),
    field("suppliers", "Suppliers", &["suppliers", "linkedsuppliers", "dependson"]),
    field("policies", "Insurance", &["insurance", "policies", "insurancepolicies", "cover"]),
    field("actions", "Actions", &["actions", "linkedactions", "treatmentactions"]),
];

const SUPPLIER_FIELDS: &[Field] = &[
    REFERENCE,
    field("name", "Name", &["name", "supplier", "suppliername", "vendor", "provider"]),
    field("service", "Service", &["service", "serviceprovided", "services", "whatitprovides"]),
    field("sub_processor", "Sub-processor", &["subprocessor", "processespersonaldata", "personaldata"]),
    field("criticality", "Criticality", &["criticality", "critical", "tier", "importance"]),
    field("data_location", "Data location", &["datalocation", "location", "region", "hosting"]),
    field("contract_owner", "Contract owner", &["contractowner", "owner", "relationshipowner"]),
    field("continuity_assessment", "Continuity assessment", &["continuityassessment", "assessment", "bcassessment"]),
];

const PEOPLE_FIELDS: &[Field] = &[
    REFERENCE,
    field("name", "Name", &["name", "person", "fullname", "staffmember"]),
    field("job_title", "Job title", &["jobtitle", "title", "role", "position"]),
    field("email", "Email", &["email", "emailaddress", "mail"]),
    field("phone", "Phone", &["phone", "telephone", "mobile", "phonenumber"]),
];

const ACTION_FIELDS: &[Field] = &[
    REFERENCE,
    field("title", "Action", &["action", "title", "task", "actiontitle"]),
    field("description", "Description", &["description", "details"]),
    field("owner", "Owner", &["owner", "actionowner", "assignedto", "responsible"]),
    field("due", "Due", &["due", "duedate", "deadline", "targetdate"]),
    field("status", "Status", &["status", "actionstatus"]),
    field("closure_evidence", "Evidence of closure", &["closureevidence", "evidence", "evidenceofclosure"]),
    field("closed_on", "Closed on", &["closedon", "closed", "completed", "completedon", "datecompleted"]),
];

const POLICY_FIELDS: &[Field] = &[
    REFERENCE,
    field("name", "Name", &["name", "policy", "policyname", "cover"]),
    field("kind", "Kind", &["kind", "type", "covertype", "policytype"]),
    field("insurer", "Insurer", &["insurer", "underwriter", "provider"]),
    field("policy_number", "Policy number", &["policynumber", "policyno", "number"]),
    field("cover_limit", "Cover limit", &["coverlimit", "limit", "limitofindemnity", "suminsured"]),
    field("excess", "Excess", &["excess", "deductible"]),
    field("premium", "Premium", &["premium", "annualpremium", "cost"]),
    field("renewal", "Renewal", &["renewal", "renewaldate", "expiry", "expires", "enddate"]),
    field("owner", "Owner", &["owner", "policyowner"]),
];

const ALTERNATIVE_FIELDS: &[Field] = &[
    field("supplier", "Supplier", &["suppliername", "supplier", "vendor", "for"]),
    field("name", "Alternative", &["alternative", "name", "option", "fallback", "alternativesupplier"]),
    field("viability", "Viability", &["viability", "viable", "feasibility"]),
    field("switch_over_days", "Switch-over (days)", &["switchoverdays", "switchover", "daystoswitch", "timetoswitch"]),
    field("cost_impact", "Cost of switching", &["costofswitching", "cost", "costimpact", "switchingcost"]),
    field("last_assessed", "Last assessed", &["lastassessed", "assessed", "assessedon", "reviewdate"]),
    field("notes", "Notes", &["notes", "comments"]),
];

const REVIEW_FIELDS: &[Field] = &[
    field("supplier", "Supplier", &["suppliername", "supplier", "vendor"]),
    field("date", "Date", &["date", "reviewdate", "reviewedon", "reviewed"]),
    field("reviewer", "Reviewer", &["reviewer", "reviewedby", "by"]),
    field("outcome", "Outcome", &["outcome", "result", "conclusion"]),
    field("notes", "Notes", &["notes", "comments"]),
    field("action", "Action raised", &["action", "actionraised", "followup"]),
];

const ROLE_FIELDS: &[Field] = &[
    REFERENCE,
    field("name", "Role", &["role", "name", "rolename", "position"]),
    field("critical", "Critical", &["critical", "criticalrole", "keyrole"]),
    field("holder", "Holder", &["holder", "heldby", "person", "primary", "owner"]),
    field("deputies", "Deputies", &["deputies", "deputiesinorder", "deputy", "backup", "backups", "cover"]),
    field("responsibilities", "Responsibilities", &["responsibilities", "duties", "description"]),
];

fn plain(heading: &str) -> String {
    heading.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl Target {
    pub const ALL: [Target; 8] = [
        Target::Risks,
        Target::Suppliers,
        Target::Alternatives,
        Target::Reviews,
        Target::People,
        Target::Roles,
        Target::Actions,
        Target::Policies,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Target::Risks => "Risks",
            Target::Suppliers => "Suppliers",
            Target::Alternatives => "Suppliers' alternatives",
            Target::Reviews => "Supplier reviews",
            Target::People => "People",
            Target::Roles => "Roles",
            Target::Actions => "Actions",
            Target::Policies => "Insurance policies",
        }
    }

    pub fn fields(self) -> &'static [Field] {
        match self {
            Target::Risks => RISK_FIELDS,
            Target::Suppliers => SUPPLIER_FIELDS,
            Target::Alternatives => ALTERNATIVE_FIELDS,
            Target::Reviews => REVIEW_FIELDS,
            Target::People => PEOPLE_FIELDS,
            Target::Roles => ROLE_FIELDS,
            Target::Actions => ACTION_FIELDS,
            Target::Policies => POLICY_FIELDS,
        }
    }

    /// The field a heading names, if any.
    pub fn field_for(self, heading: &str) -> Option<&'static Field> {
        let heading = plain(heading);
        self.fields().iter().find(|f| f.headings.contains(&heading.as_str()))
    }

    /// The target a sheet's name says, else the one whose fields its headings name most.
    fn guess(sheet: &Sheet) -> Target {
        let name = plain(&sheet.name);
        let by_name = [
            ("risk", Target::Risks),
            ("alternative", Target::Alternatives),
            ("review", Target::Reviews),
            ("role", Target::Roles),
            ("deput", Target::Roles),
            ("supplier", Target::Suppliers),
            ("vendor", Target::Suppliers),
            ("people", Target::People),
            ("staff", Target::People),
            ("contact", Target::People),
            ("action", Target::Actions),
            ("insurance", Target::Policies),
            ("polic", Target::Policies),
        ];
        if let Some((_, target)) = by_name.iter().find(|(word, _)| name.contains(word)) {
            return *target;
        }
        let named = |t: Target| sheet.headings.iter().filter(|h| t.field_for(h).is_some()).count();
        Target::ALL.into_iter().max_by_key(|t| named(*t)).unwrap_or(Target::Risks)
    }
}

/// Which field each column fills (by the field's key; `None` leaves the column out), and
/// how the file writes dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub target: Target,
    pub columns: Vec<Option<String>>,
    /// 11/22/2026 is 22 Nov 2026 (a file from a US-configured spreadsheet).
    pub us_dates: bool,
    /// What each word written for a likelihood or impact means on the 1-5 scale, as the
    /// person said from the file's own legend ("Major" = 4); words not here are read on the
    /// usual scale (Very low 1 to Very high 5). Keys are lower case.
    #[serde(default)]
    pub words: std::collections::BTreeMap<String, u8>,
}

/// The mapping the headings suggest; each field is taken by its first column only.
pub fn guess(sheet: &Sheet) -> Mapping {
    let target = Target::guess(sheet);
    mapping_for(sheet, target)
}

/// The mapping the headings suggest for `target`.
pub fn mapping_for(sheet: &Sheet, target: Target) -> Mapping {
    // Each field goes to the column whose heading names it best (earliest in its list of
    // headings; the leftmost of equals): "Supplier name" over "Supplier" for an alternative.
    let rank = |heading: &str| {
        let plain = plain(heading);
        target.fields().iter().find_map(|f| f.headings.iter().position(|h| *h == plain).map(|at| (f.key, at)))
    };
    let ranked: Vec<Option<(&'static str, usize)>> = sheet.headings.iter().map(|h| rank(h)).collect();
    let columns = ranked
        .iter()
        .enumerate()
        .map(|(i, found)| {
            let (key, at) = (*found)?;
            let best = ranked
                .iter()
                .enumerate()
                .filter_map(|(j, r)| r.filter(|(k, _)| *k == key).map(|(_, a)| (a, j)))
                .min()?;
            (best == (at, i)).then(|| key.to_string())
        })
        .collect();
    Mapping { target, columns, us_dates: false, words: Default::default() }
}

/// Whether a heading is one the import knows and leaves out on purpose (a score, a reference).
pub fn is_derived(heading: &str) -> bool {
    DERIVED.contains(&plain(heading).as_str())
}

/// What a confirmed import creates: people named as owners who are not in the register yet
/// first, then the records; and every row left out, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub target: Target,
    /// (the row's number in the file, its new id, the record).
    pub records: Vec<(usize, Id, AnyRecord)>,
    /// Alternatives or reviews to add to suppliers in the register: (row, supplier id, new
    /// id, what is added).
    #[serde(default)]
    pub additions: Vec<(usize, Id, Id, Addition)>,
    /// People to be created on the way: (id, name).
    pub new_people: Vec<(Id, String)>,
    /// (the row's number in the file, what is wrong with it). Nothing of these rows is imported.
    pub problems: Vec<(usize, String)>,
    /// Blank rows passed over.
    pub blank: usize,
    /// Every word written in a likelihood or impact column, lower case, for the person to say
    /// what each means on the 1-5 scale (`Mapping::words`).
    #[serde(default)]
    pub words: Vec<String>,
}

impl Preview {
    /// How many things a confirmed import creates (records and additions to suppliers, not
    /// counting the people created on the way).
    pub fn len(&self) -> usize {
        self.records.len() + self.additions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The edit a person's confirmation makes: every record in one change.
    pub fn edit(&self) -> crate::Edit {
        let people = self.new_people.iter().map(|(id, name)| {
            (id.clone(), Box::new(AnyRecord::Person(Person { name: name.clone(), ..Default::default() })))
        });
        let records = self.records.iter().map(|(_, id, r)| (id.clone(), Box::new(r.clone())));
        let additions =
            self.additions.iter().map(|(_, supplier, id, a)| (supplier.clone(), id.clone(), a.clone())).collect();
        crate::Edit::Import { records: people.chain(records).collect(), additions }
    }
}

/// What an import adds to a supplier already in the register.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Addition {
    Alternative(Alternative),
    Review(SupplierReview),
}

impl Addition {
    /// What the preview calls it.
    pub fn named(&self) -> String {
        match self {
            Addition::Alternative(a) => format!("{} (an alternative to", a.name),
            Addition::Review(r) => format!("{} review (of", r.date.map(|d| d.to_string()).unwrap_or_default()),
        }
    }
}

/// What one row becomes. Short-lived, one at a time: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Made {
    Record(AnyRecord),
    Addition(Id, Addition),
}

/// The records `sheet` would become under `mapping`, each row read field by field; a row
/// with a value that cannot be read is left out whole and said why. `new_id` gives each new
/// record its id.
pub fn preview(sheet: &Sheet, mapping: &Mapping, register: &Register, new_id: &mut dyn FnMut() -> Id) -> Preview {
    let mut out = Preview {
        target: mapping.target,
        records: Vec::new(),
        additions: Vec::new(),
        new_people: Vec::new(),
        problems: Vec::new(),
        blank: 0,
        words: Vec::new(),
    };
    let scales = ["inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact"];
    for (column, key) in mapping.columns.iter().enumerate() {
        if mapping.target == Target::Risks && key.as_deref().is_some_and(|k| scales.contains(&k)) {
            for (_, cells) in &sheet.rows {
                if let Some(Cell::Text(t)) = cells.get(column) {
                    let word = t.trim().to_lowercase();
                    if !word.is_empty() && word.parse::<i64>().is_err() && !out.words.contains(&word) {
                        out.words.push(word);
                    }
                }
            }
        }
    }
    // The references the file gives its rows, by number: one record each.
    let mut numbers = std::collections::BTreeMap::new();
    for (number, cells) in &sheet.rows {
        if cells.iter().all(Cell::is_empty) {
            out.blank += 1;
            continue;
        }
        let mut row =
            Row { cells, mapping, register, new_people: &mut out.new_people, new_id: &mut *new_id, wrong: Vec::new() };
        let made = row.made();
        if !row.wrong.is_empty() {
            out.problems.push((*number, row.wrong.join("; ")));
            continue;
        }
        match made {
            Made::Record(record) => match record.check() {
                Err(e) => out.problems.push((*number, e.0)),
                Ok(()) if record.number() == 0 => out.records.push((*number, new_id(), record)),
                Ok(()) => match numbers.entry(record.number()) {
                    std::collections::btree_map::Entry::Occupied(first) => out.problems.push((
                        *number,
                        format!(
                            "Reference: {}-{:03} is row {}'s reference too",
                            record.kind().prefix(),
                            record.number(),
                            first.get()
                        ),
                    )),
                    std::collections::btree_map::Entry::Vacant(free) => {
                        free.insert(*number);
                        out.records.push((*number, new_id(), record))
                    }
                },
            },
            Made::Addition(_, Addition::Alternative(a)) if a.name.trim().is_empty() => {
                out.problems.push((*number, "Alternative: needed, the alternative's name".into()))
            }
            Made::Addition(_, Addition::Review(r)) if r.date.is_none() => {
                out.problems.push((*number, "Date: needed, the day of the review".into()))
            }
            Made::Addition(supplier, a) => out.additions.push((*number, supplier, new_id(), a)),
        }
    }
    // Someone named only in rows that were left out is not created either.
    let reviewers = out.additions.iter().filter_map(|(_, _, _, a)| match a {
        Addition::Review(r) => r.reviewer.clone(),
        Addition::Alternative(_) => None,
    });
    let used: std::collections::BTreeSet<Id> =
        out.records.iter().flat_map(|(_, _, r)| people_of(r)).chain(reviewers).collect();
    out.new_people.retain(|(id, _)| used.contains(id));
    out
}

/// The people a record names.
fn people_of(record: &AnyRecord) -> Vec<Id> {
    match record {
        AnyRecord::Risk(r) => r.owner.iter().cloned().collect(),
        AnyRecord::Supplier(s) => s.contract_owner.iter().cloned().collect(),
        AnyRecord::Action(a) => a.owner.iter().cloned().collect(),
        AnyRecord::Policy(p) => p.owner.iter().cloned().collect(),
        AnyRecord::Role(r) => r.holder.iter().chain(r.deputies.iter()).cloned().collect(),
        _ => Vec::new(),
    }
}

/// One row being read.
struct Row<'a> {
    cells: &'a [Cell],
    mapping: &'a Mapping,
    register: &'a Register,
    new_people: &'a mut Vec<(Id, String)>,
    new_id: &'a mut dyn FnMut() -> Id,
    wrong: Vec<String>,
}

impl Row<'_> {
    /// The cell mapped to `key`, if any and not empty, with the field's label.
    fn cell(&self, key: &str) -> Option<(&'static str, &Cell)> {
        let at = self.mapping.columns.iter().position(|c| c.as_deref() == Some(key))?;
        let label = self.mapping.target.fields().iter().find(|f| f.key == key).map(|f| f.label).unwrap_or("");
        self.cells.get(at).filter(|c| !c.is_empty()).map(|c| (label, c))
    }

    fn text(&self, key: &str) -> String {
        self.cell(key).map(|(_, c)| c.text()).unwrap_or_default()
    }

    fn fail(&mut self, label: &str, why: String) {
        self.wrong.push(format!("{label}: {why}"));
    }

    /// A whole number in `range`; words on the five-point scale are read as their number.
    fn scale(&mut self, key: &str, range: (u8, u8)) -> Option<u8> {
        let (label, cell) = self.cell(key)?;
        let words = [("very low", 1), ("low", 2), ("medium", 3), ("moderate", 3), ("high", 4), ("very high", 5)];
        let n = match cell {
            Cell::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            other => {
                let t = other.text().to_lowercase();
                let said = self.mapping.words.get(&t).filter(|_| range.1 == 5).map(|n| *n as i64);
                t.parse::<i64>()
                    .ok()
                    .or(said)
                    .or_else(|| (range.1 == 5).then(|| words.iter().find(|(w, _)| *w == t).map(|(_, n)| *n)).flatten())
            }
        };
        match n {
            Some(n) if (range.0 as i64..=range.1 as i64).contains(&n) => Some(n as u8),
            Some(n) => {
                self.fail(label, format!("{n} is not from {} to {}", range.0, range.1));
                None
            }
            None => {
                let scale = if range.1 == 5 { " (or Very low, Low, Medium, High, Very high)" } else { "" };
                self.fail(label, format!("\"{}\" is not a number from {} to {}{scale}", cell.text(), range.0, range.1));
                None
            }
        }
    }

    fn date(&mut self, key: &str) -> Option<Date> {
        let (label, cell) = self.cell(key)?;
        let found = match cell {
            Cell::Date(d) => Ok(*d),
            Cell::Number(n) => serial_date(*n).ok_or_else(|| format!("{n} is not a date")),
            other => {
                let mut text = other.text();
                if self.mapping.us_dates {
                    // 11/22/2026: month first. Swap the first two parts and read it the UK way.
                    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
                    if parts.len() == 3 && parts[0].len() <= 2 {
                        text = format!("{}/{}/{}", parts[1], parts[0], parts[2]);
                    }
                }
                Date::entered(&text).map_err(|e| {
                    let hint = if self.mapping.us_dates {
                        ""
                    } else {
                        " (if the file writes dates month first, choose US dates)"
                    };
                    format!("{e}{hint}")
                })
            }
        };
        match found {
            Ok(d) => Some(d),
            Err(why) => {
                self.fail(label, why);
                None
            }
        }
    }

    /// One of a closed set of choices, by its label or a word people use for it.
    fn choice<T: Copy + std::fmt::Display>(&mut self, key: &str, all: &[T], also: &[(&str, T)]) -> Option<T> {
        let (label, cell) = self.cell(key)?;
        let t = plain(&cell.text());
        let found = all
            .iter()
            .copied()
            .find(|c| plain(&c.to_string()) == t)
            .or_else(|| also.iter().find(|(w, _)| plain(w) == t).map(|(_, c)| *c));
        if found.is_none() {
            let choices: Vec<String> = all.iter().map(|c| c.to_string()).collect();
            self.fail(label, format!("\"{}\" is not one of {}", cell.text(), choices.join(", ")));
        }
        found
    }

    fn flag(&mut self, key: &str) -> bool {
        let Some((label, cell)) = self.cell(key) else { return false };
        match cell {
            Cell::Flag(b) => *b,
            other => match plain(&other.text()).as_str() {
                "yes" | "y" | "true" | "1" | "x" => true,
                "no" | "n" | "false" | "0" => false,
                _ => {
                    self.fail(label, format!("\"{}\" is not yes or no", other.text()));
                    false
                }
            },
        }
    }

    fn money(&mut self, key: &str) -> Pence {
        let Some((label, cell)) = self.cell(key) else { return Pence(0) };
        let found = match cell {
            // A spreadsheet holds amounts as floating-point numbers: rounded to the penny once, here.
            Cell::Number(n) if n.is_finite() && n.abs() < 1e13 => Ok(Pence((n * 100.0).round() as i64)),
            other => Pence::parse(&other.text()).map_err(|e| e.to_string()),
        };
        found.unwrap_or_else(|why| {
            self.fail(label, why);
            Pence(0)
        })
    }

    /// A person by name: one in the register, one already to be created, or a new one.
    fn person(&mut self, key: &str) -> Option<Id> {
        let name = self.text(key);
        self.person_named(&name)
    }

    fn person_named(&mut self, name: &str) -> Option<Id> {
        if name.trim().is_empty() {
            return None;
        }
        let same = |n: &str| n.trim().eq_ignore_ascii_case(name.trim());
        if let Some((id, _)) = self.register.live::<Person>().find(|(_, p)| same(&p.name)) {
            return Some(id.clone());
        }
        if let Some((id, _)) = self.new_people.iter().find(|(_, n)| same(n)) {
            return Some(id.clone());
        }
        let id = (self.new_id)();
        self.new_people.push((id.clone(), name.trim().to_string()));
        Some(id)
    }

    /// A supplier in the register, by name or reference (S-003).
    fn supplier(&mut self) -> Option<Id> {
        let (label, cell) = self.cell("supplier")?;
        let named = cell.text();
        let refs = crate::refs::references::<Supplier>(self.register);
        let found = self
            .register
            .live::<Supplier>()
            .find(|(id, s)| {
                s.name.eq_ignore_ascii_case(named.trim())
                    || refs.get(*id).is_some_and(|r| r.eq_ignore_ascii_case(named.trim()))
            })
            .map(|(id, _)| id.clone());
        if found.is_none() {
            self.fail(
                label,
                format!("there is no supplier called \"{named}\" in the register: import the suppliers first"),
            );
        }
        found
    }

    fn made(&mut self) -> Made {
        match self.mapping.target {
            Target::Alternatives => {
                let supplier = self.supplier();
                if supplier.is_none() && self.cell("supplier").is_none() {
                    self.wrong.push("Supplier: needed, the supplier it is an alternative to".into());
                }
                let alternative = Alternative {
                    name: self.text("name"),
                    viability: self
                        .choice(
                            "viability",
                            Viability::ALL,
                            &[
                                ("yes", Viability::Viable),
                                ("partly", Viability::PartlyViable),
                                ("no", Viability::NotViable),
                            ],
                        )
                        .unwrap_or(Viability::PartlyViable),
                    switch_over_days: self.days("switch_over_days"),
                    cost_impact: self.money("cost_impact"),
                    last_assessed: self.date("last_assessed"),
                    notes: self.text("notes"),
                    ..Default::default()
                };
                Made::Addition(supplier.unwrap_or_default(), Addition::Alternative(alternative))
            }
            Target::Reviews => {
                let supplier = self.supplier();
                if supplier.is_none() && self.cell("supplier").is_none() {
                    self.wrong.push("Supplier: needed, the supplier that was reviewed".into());
                }
                let review = SupplierReview {
                    date: self.date("date"),
                    reviewer: self.person("reviewer"),
                    outcome: self
                        .choice(
                            "outcome",
                            ReviewOutcome::ALL,
                            &[
                                ("confirmed", ReviewOutcome::Confirmed),
                                ("nochange", ReviewOutcome::Confirmed),
                                ("changed", ReviewOutcome::ChangesMade),
                                ("action", ReviewOutcome::ActionRaised),
                            ],
                        )
                        .unwrap_or(ReviewOutcome::Confirmed),
                    notes: self.text("notes"),
                    action: self.links::<Action>("action").0.into_iter().next(),
                    ..Default::default()
                };
                Made::Addition(supplier.unwrap_or_default(), Addition::Review(review))
            }
            Target::Roles => {
                let holder = self.person("holder");
                let named: Vec<String> = self
                    .text("deputies")
                    .split([';', ',', '\n'])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                let deputies = named.iter().filter_map(|n| self.person_named(n)).collect();
                Made::Record(AnyRecord::Role(Role {
                    name: self.text("name"),
                    critical: self.flag("critical"),
                    holder,
                    deputies,
                    responsibilities: self.text("responsibilities"),
                    ..Default::default()
                }))
            }
            _ => {
                let mut record = self.record();
                if let Some(number) = self.reference(record.kind()) {
                    record.set_number(number);
                }
                Made::Record(record)
            }
        }
    }

    /// The file's own reference for the row (R-007, or just 7), to keep as the record's number
    /// when no record of the kind in the register has it.
    fn reference(&mut self, kind: crate::Kind) -> Option<u64> {
        let (label, cell) = self.cell("reference")?;
        let text = cell.text();
        let number = match cell {
            Cell::Number(n) if n.fract() == 0.0 && *n >= 1.0 => Some(*n as u64),
            _ => {
                text.trim().split_once('-').filter(|(p, _)| p.eq_ignore_ascii_case(kind.prefix())).and_then(|(_, n)| {
                    // A letter after the number (R-007a) told apart records that shared it.
                    n.trim_end_matches(|c: char| c.is_ascii_alphabetic()).parse::<u64>().ok().filter(|n| *n > 0)
                })
            }
        };
        let Some(number) = number else {
            let example = format!("{}-001", kind.prefix());
            self.fail(label, format!("\"{text}\" is not a {} reference such as {example}", kind.label()));
            return None;
        };
        if crate::refs::numbered(self.register, kind, number).is_some() {
            self.fail(
                label,
                format!(
                    "{}-{number:03} is already a {} in the register (leave the Reference column out to number what is imported afresh)",
                    kind.prefix(),
                    kind.label()
                ),
            );
            return None;
        }
        Some(number)
    }

    /// The records of one kind a cell names by reference ("S-003; S-004"); each must be in
    /// the register already.
    fn links<R: crate::Record>(&mut self, key: &str) -> crate::Links {
        let Some((label, cell)) = self.cell(key) else { return crate::Links::default() };
        let mut found = crate::Links::default();
        for reference in cell.text().split([';', ',', '\n']).map(str::trim).filter(|r| !r.is_empty()) {
            match crate::refs::find::<R>(self.register, reference) {
                Some(id) => drop(found.0.insert(id)),
                None => self.fail(
                    label,
                    format!(
                        "there is no {} {reference} in the register: import the {} first, or leave the column out",
                        R::LABEL,
                        R::COLLECTION
                    ),
                ),
            }
        }
        found
    }

    /// A whole number of days, 0 or more ("14" or "14 days").
    fn days(&mut self, key: &str) -> u32 {
        let Some((label, cell)) = self.cell(key) else { return 0 };
        let text = cell.text();
        match text.trim_end_matches("days").trim_end_matches("day").trim().parse::<u32>() {
            Ok(days) => days,
            Err(_) => {
                self.fail(label, format!("\"{text}\" is not a number of days"));
                0
            }
        }
    }

    fn record(&mut self) -> AnyRecord {
        match self.mapping.target {
            Target::Risks => {
                let inherent = (self.scale("inherent_likelihood", (1, 5)), self.scale("inherent_impact", (1, 5)));
                let (il, ii) = (inherent.0.unwrap_or(0), inherent.1.unwrap_or(0));
                let rl = self.scale("residual_likelihood", (1, 5)).unwrap_or(il);
                let ri = self.scale("residual_impact", (1, 5)).unwrap_or(ii);
                let target = self.scale("target_score", (1, 25)).unwrap_or(rl * ri);
                use crate::model::{Direction as D, RiskStatus as S, Treatment as T};
                let risk = Risk {
                    title: self.text("title"),
                    description: self.text("description"),
                    category: self.text("category"),
                    scenario: self.choice("scenario", Scenario::ALL, &[]),
                    owner: self.person("owner"),
                    inherent_likelihood: il,
                    inherent_impact: ii,
                    residual_likelihood: rl,
                    residual_impact: ri,
                    target_score: target,
                    treatment: self
                        .choice(
                            "treatment",
                            T::ALL,
                            &[
                                ("reduce", T::Treat),
                                ("mitigate", T::Treat),
                                ("accept", T::Tolerate),
                                ("share", T::Transfer),
                                ("avoid", T::Terminate),
                            ],
                        )
                        .unwrap_or_default(),
                    direction: self
                        .choice(
                            "direction",
                            D::ALL,
                            &[
                                ("up", D::Deteriorating),
                                ("down", D::Improving),
                                ("same", D::Stable),
                                ("static", D::Stable),
                            ],
                        )
                        .unwrap_or_default(),
                    status: self
                        .choice("status", S::ALL, &[("active", S::Open), ("live", S::Open), ("watch", S::Monitoring)])
                        .unwrap_or_default(),
                    controls: self.text("controls"),
                    annex_a: self
                        .text("annex_a")
                        .split([';', ','])
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect(),
                    last_review: self.date("last_review"),
                    next_review: self.date("next_review"),
                    suppliers: self.links::<Supplier>("suppliers"),
                    policies: self.links::<Policy>("policies"),
                    actions: self.links::<Action>("actions"),
                    ..Default::default()
                };
                if inherent.0.is_none() && self.cell("inherent_likelihood").is_none() {
                    self.wrong.push("Inherent likelihood: needed, from 1 to 5".into());
                }
                if inherent.1.is_none() && self.cell("inherent_impact").is_none() {
                    self.wrong.push("Inherent impact: needed, from 1 to 5".into());
                }
                AnyRecord::Risk(risk)
            }
            Target::Suppliers => AnyRecord::Supplier(Supplier {
                name: self.text("name"),
                service: self.text("service"),
                sub_processor: self.flag("sub_processor"),
                criticality: self
                    .choice(
                        "criticality",
                        Criticality::ALL,
                        &[
                            ("tier1", Criticality::Critical),
                            ("tier2", Criticality::High),
                            ("tier3", Criticality::Medium),
                        ],
                    )
                    .unwrap_or(Criticality::Medium),
                data_location: self.text("data_location"),
                contract_owner: self.person("contract_owner"),
                continuity_assessment: self.text("continuity_assessment"),
                ..Default::default()
            }),
            Target::People => AnyRecord::Person(Person {
                name: self.text("name"),
                job_title: self.text("job_title"),
                email: self.text("email"),
                phone: self.text("phone"),
                ..Default::default()
            }),
            Target::Actions => {
                let status = self
                    .choice(
                        "status",
                        ActionStatus::ALL,
                        &[
                            ("closed", ActionStatus::Done),
                            ("complete", ActionStatus::Done),
                            ("completed", ActionStatus::Done),
                            ("ongoing", ActionStatus::InProgress),
                            ("notstarted", ActionStatus::Open),
                        ],
                    )
                    .unwrap_or_default();
                AnyRecord::Action(Action {
                    title: self.text("title"),
                    description: self.text("description"),
                    owner: self.person("owner"),
                    due: self.date("due"),
                    status,
                    closure_evidence: self.text("closure_evidence"),
                    closed_on: self.date("closed_on"),
                    ..Default::default()
                })
            }
            Target::Alternatives | Target::Reviews | Target::Roles => unreachable!("made by `made`"),
            Target::Policies => AnyRecord::Policy(Policy {
                name: self.text("name"),
                kind: self
                    .choice(
                        "kind",
                        PolicyKind::ALL,
                        &[("bi", PolicyKind::BusinessInterruption), ("cyberinsurance", PolicyKind::Cyber)],
                    )
                    .unwrap_or(PolicyKind::Other),
                insurer: self.text("insurer"),
                policy_number: self.text("policy_number"),
                cover_limit: self.money("cover_limit"),
                excess: self.money("excess"),
                premium: self.money("premium"),
                renewal: self.date("renewal"),
                owner: self.person("owner"),
                ..Default::default()
            }),
        }
    }
}
