//! Edits as values: what a person changed, for `RegisterDoc::apply` to write. The app's views
//! describe their edits with these and never touch the document themselves, and a value can
//! be handed to wherever the document is kept.

use crate::Invalid;
use crate::doc::{DocError, RegisterDoc};
use crate::model::*;

/// One thing a person did to the register.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Edit {
    /// A new record under a new stable id; it is given the next number.
    Create { id: Id, record: Box<AnyRecord> },
    /// The person changed `old` (the record as it was shown to them) into `new`. Only the
    /// fields that differ are written, so what someone else changed meanwhile stays.
    Update { id: Id, old: Box<AnyRecord>, new: Box<AnyRecord> },
    /// Archives (hides) a record, or restores it.
    Archive { kind: Kind, id: Id, archived: bool },
    /// An action raised where the need for it was found: created, and linked from the risk it
    /// treats and the exercise or incident it came from, in one change. It needs an owner and
    /// a due date.
    RaiseAction { action: Id, record: Box<Action>, risk: Option<Id>, exercise: Option<Id>, incident: Option<Id> },
    /// A supplier's annual review recorded, or a recorded one corrected (the same `review` id).
    /// A new review marks every current alternative assessed on its date; an action it raises
    /// (with the risk it treats) is created with it, in one change.
    ReviewSupplier { supplier: Id, review: Id, record: Box<SupplierReview>, action: Option<RaisedAction> },
    /// Records brought in from a spreadsheet (`import::Preview::edit`), people first: all of
    /// them in one change, or none.
    Import {
        records: Vec<(Id, Box<AnyRecord>)>,
        /// Alternatives and reviews added to suppliers already in the register: (supplier,
        /// id, what is added).
        #[serde(default)]
        additions: Vec<(Id, Id, crate::import::Addition)>,
    },
}

/// An action a review raises: its id, the action, and the risk it treats.
pub type RaisedAction = (Id, Box<Action>, Option<Id>);

impl Edit {
    /// The one record the edit touches, as (kind, id); `None` when it touches several.
    pub fn record(&self) -> Option<(Kind, &str)> {
        match self {
            Edit::Create { id, record } => Some((record.kind(), id)),
            Edit::Update { id, new, .. } => Some((new.kind(), id)),
            Edit::Archive { kind, id, .. } => Some((*kind, id)),
            Edit::RaiseAction { .. } => None,
            Edit::ReviewSupplier { action: None, supplier, .. } => Some((Kind::Supplier, supplier)),
            Edit::ReviewSupplier { .. } => None,
            Edit::Import { .. } => None,
        }
    }
}

impl RegisterDoc {
    /// Writes an edit made at `now`. A refused edit writes nothing; the error says why.
    pub fn apply(&mut self, edit: Edit, now: i64) -> Result<(), DocError> {
        match edit {
            Edit::Create { id, record } => {
                struct Create<'a>(&'a mut RegisterDoc, &'a str, i64);
                impl WithRecord for Create<'_> {
                    type Output = Result<(), DocError>;
                    fn run<R: Record>(self, record: R) -> Self::Output {
                        self.0.create(self.1, record, self.2).map(|_| ())
                    }
                }
                record.with(Create(self, &id, now))
            }
            Edit::Update { id, old, new } => {
                struct Update<'a>(&'a mut RegisterDoc, &'a str, i64);
                impl WithPair for Update<'_> {
                    type Output = Result<(), DocError>;
                    fn run<R: Record>(self, old: R, new: R) -> Self::Output {
                        self.0.update_from(self.1, old, new, self.2)
                    }
                }
                old.with_pair(*new, Update(self, &id, now)).unwrap_or_else(|| {
                    Err(Invalid("an edit cannot turn one kind of record into another".into()).into())
                })
            }
            Edit::Archive { kind, id, archived } => {
                struct Set<'a>(&'a mut RegisterDoc, &'a str, bool, i64);
                impl ForKind for Set<'_> {
                    type Output = Result<(), DocError>;
                    fn run<R: Record>(self) -> Self::Output {
                        let archived = self.2;
                        self.0.update::<R>(self.1, self.3, |r| r.set_archived(archived))
                    }
                }
                kind.run(Set(self, &id, archived, now))
            }
            Edit::Import { records, additions } => {
                if records.is_empty() && additions.is_empty() {
                    return Err(Invalid("There is nothing to import".into()).into());
                }
                struct Create<'a>(&'a mut RegisterDoc, &'a str, i64);
                impl WithRecord for Create<'_> {
                    type Output = Result<(), DocError>;
                    fn run<R: Record>(self, record: R) -> Self::Output {
                        self.0.create_keeping_number(self.1, record, self.2).map(|_| ())
                    }
                }
                let count = records.len() + additions.len();
                self.batch(now, &format!("import {count} records"), |doc| {
                    for (id, record) in records {
                        record.with(Create(doc, &id, now))?;
                    }
                    for (supplier, id, addition) in additions {
                        doc.update::<Supplier>(&supplier, now, |s| match addition {
                            crate::import::Addition::Alternative(a) => drop(s.alternatives.insert(id, a)),
                            crate::import::Addition::Review(r) => drop(s.reviews.insert(id, r)),
                        })?;
                    }
                    Ok(())
                })
            }
            Edit::RaiseAction { action, record, risk, exercise, incident } => {
                self.batch(now, &format!("raise actions/{action}"), |doc| {
                    doc.raise(&action, *record, risk, exercise, now)?;
                    if let Some(incident) = incident {
                        doc.update::<Incident>(&incident, now, |i| {
                            i.actions.0.insert(action.clone());
                        })?;
                    }
                    Ok(())
                })
            }
            Edit::ReviewSupplier { supplier, review, record, action } => {
                if record.reviewer.is_none() {
                    return Err(Invalid("A review needs the person who carried it out".into()).into());
                }
                let Some(date) = record.date else {
                    return Err(Invalid("A review needs the date it was carried out".into()).into());
                };
                let current: Supplier = self
                    .get(&supplier)?
                    .ok_or_else(|| DocError::NotFound { kind: Supplier::LABEL, id: supplier.clone() })?;
                let earlier = current.reviews.get(&review);
                let raises = action.as_ref().map(|(id, ..)| id.clone()).or(earlier.and_then(|r| r.action.clone()));
                if record.outcome == ReviewOutcome::ActionRaised && raises.is_none() {
                    return Err(Invalid("The outcome \"action raised\" needs the action it raises".into()).into());
                }
                let is_new = earlier.is_none();
                self.batch(now, &format!("review suppliers/{supplier}"), |doc| {
                    if let Some((id, action, risk)) = action {
                        doc.raise(&id, *action, risk, None, now)?;
                    }
                    doc.update::<Supplier>(&supplier, now, |s| {
                        if is_new {
                            for alternative in s.alternatives.values_mut().filter(|a| !a.archived) {
                                alternative.last_assessed = Some(date);
                            }
                        }
                        s.reviews.insert(review, SupplierReview { action: raises, ..*record });
                    })
                })
            }
        }
    }
}

impl RegisterDoc {
    /// Creates an action with its owner and due date, and links it from its risk and exercise.
    fn raise(
        &mut self,
        id: &str,
        action: Action,
        risk: Option<Id>,
        exercise: Option<Id>,
        now: i64,
    ) -> Result<(), DocError> {
        if action.owner.is_none() {
            return Err(Invalid("An action needs an owner".into()).into());
        }
        if action.due.is_none() {
            return Err(Invalid("An action needs a due date".into()).into());
        }
        // Both links are checked before anything is written.
        if let Some(risk) = &risk
            && self.get::<Risk>(risk)?.is_none()
        {
            return Err(DocError::NotFound { kind: Risk::LABEL, id: risk.clone() });
        }
        if let Some(exercise) = &exercise
            && self.get::<Exercise>(exercise)?.is_none()
        {
            return Err(DocError::NotFound { kind: Exercise::LABEL, id: exercise.clone() });
        }
        self.create(id, action, now)?;
        if let Some(exercise) = exercise {
            self.update::<Exercise>(&exercise, now, |e| {
                e.actions.0.insert(id.to_string());
            })?;
        }
        if let Some(risk) = risk {
            self.update::<Risk>(&risk, now, |r| {
                r.actions.0.insert(id.to_string());
            })?;
        }
        Ok(())
    }
}

/// What changed in a register: records put (new or changed), records gone, the register's
/// own fields, and the concurrent values of the records it names. The replica sends these to
/// the interface, so after an edit only the records that changed cross over.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegisterPatch {
    /// The patch holds the whole register: whatever the copy held before goes.
    pub whole: bool,
    pub header: Option<(u64, String, std::collections::BTreeMap<String, Id>)>,
    pub put: Vec<(Id, AnyRecord)>,
    pub removed: Vec<(Kind, Id)>,
    /// (kind, id, its concurrent values) for records whose concurrent values were read
    /// again: an empty list means the record has none now.
    pub conflicts: Vec<(Kind, Id, Vec<crate::doc::Conflict>)>,
    /// What of the register outside records' fields cannot be read now (`Register::unreadable`),
    /// when that may have changed.
    pub unreadable: Option<crate::lenient::Unreadable>,
}

impl RegisterPatch {
    /// The whole register, for a copy that starts from nothing.
    pub fn whole(register: &Register) -> RegisterPatch {
        let mut patch = RegisterPatch::between(&Register::default(), register);
        patch.whole = true;
        patch.header = Some((register.schema_version, register.name.clone(), register.actors.clone()));
        patch
    }

    /// What turns `old` into `new`.
    pub fn between(old: &Register, new: &Register) -> RegisterPatch {
        struct Compare<'a>(&'a Register, &'a Register, &'a mut RegisterPatch);
        impl ForKind for Compare<'_> {
            type Output = ();
            fn run<R: Record>(self) {
                let (old, new) = (R::collection(self.0), R::collection(self.1));
                for (id, record) in new {
                    if old.get(id) != Some(record) {
                        self.2.put.push((id.clone(), *record.clone().any_record()));
                    }
                }
                for id in old.keys().filter(|id| !new.contains_key(*id)) {
                    self.2.removed.push((R::KIND, id.clone()));
                }
            }
        }
        let mut patch = RegisterPatch::default();
        if (old.schema_version, &old.name, &old.actors) != (new.schema_version, &new.name, &new.actors) {
            patch.header = Some((new.schema_version, new.name.clone(), new.actors.clone()));
        }
        if old.unreadable != new.unreadable {
            patch.unreadable = Some(new.unreadable.clone());
        }
        for kind in Kind::ALL {
            kind.run(Compare(old, new, &mut patch));
        }
        patch
    }

    /// One record as `register` holds it now (or its absence), to put a copy right again.
    pub fn of_record(register: &Register, kind: Kind, id: &str) -> RegisterPatch {
        struct Current<'a>(&'a Register, &'a str);
        impl ForKind for Current<'_> {
            type Output = Option<AnyRecord>;
            fn run<R: Record>(self) -> Self::Output {
                R::collection(self.0).get(self.1).map(|r| *r.clone().any_record())
            }
        }
        match kind.run(Current(register, id)) {
            Some(record) => RegisterPatch { put: vec![(id.to_string(), record)], ..RegisterPatch::default() },
            None => RegisterPatch { removed: vec![(kind, id.to_string())], ..RegisterPatch::default() },
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.whole
            && self.header.is_none()
            && self.put.is_empty()
            && self.removed.is_empty()
            && self.unreadable.is_none()
    }

    /// Brings a copy of the register up to date with this patch.
    pub fn apply_to(self, register: &mut Register) {
        struct Put<'a>(&'a mut Register, Id);
        impl WithRecord for Put<'_> {
            type Output = ();
            fn run<R: Record>(self, record: R) {
                R::collection_mut(self.0).insert(self.1, record);
            }
        }
        struct Remove<'a>(&'a mut Register, &'a str);
        impl ForKind for Remove<'_> {
            type Output = ();
            fn run<R: Record>(self) {
                R::collection_mut(self.0).remove(self.1);
            }
        }
        if self.whole {
            *register = Register::default();
        }
        if let Some((schema_version, name, actors)) = self.header {
            (register.schema_version, register.name, register.actors) = (schema_version, name, actors);
        }
        if let Some(unreadable) = self.unreadable {
            register.unreadable = unreadable;
        }
        for (id, record) in self.put {
            record.with(Put(register, id));
        }
        for (kind, id) in self.removed {
            kind.run(Remove(register, &id));
        }
    }
}
