//! Edits as values: what a person changed, for `RegisterDoc::apply` to write. The app's views
//! describe their edits with these and never touch the document themselves, and a value can
//! be handed to wherever the document is kept.

use crate::doc::{DocError, RegisterDoc};
use crate::model::*;
use crate::{Invalid, for_kind};

/// One record of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyRecord {
    Risk(Risk),
    Supplier(Supplier),
    Person(Person),
    Role(Role),
    Runbook(Runbook),
    BreakGlass(BreakGlass),
    Exercise(Exercise),
    Action(Action),
    Policy(Policy),
    Plan(Plan),
}

/// Runs `$body` with `$r` bound to the record inside an `AnyRecord`, whatever its type.
macro_rules! with_record {
    ($any:expr, $r:ident => $body:expr) => {
        match $any {
            AnyRecord::Risk($r) => $body,
            AnyRecord::Supplier($r) => $body,
            AnyRecord::Person($r) => $body,
            AnyRecord::Role($r) => $body,
            AnyRecord::Runbook($r) => $body,
            AnyRecord::BreakGlass($r) => $body,
            AnyRecord::Exercise($r) => $body,
            AnyRecord::Action($r) => $body,
            AnyRecord::Policy($r) => $body,
            AnyRecord::Plan($r) => $body,
        }
    };
}

impl AnyRecord {
    /// The collection a record of this kind lives in.
    pub fn collection(&self) -> &'static str {
        fn of<R: Record>(_: &R) -> &'static str {
            R::COLLECTION
        }
        with_record!(self, r => of(r))
    }
}

/// One thing a person did to the register.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// A new record under a new stable id; it is given the next number.
    Create { id: Id, record: Box<AnyRecord> },
    /// The person changed `old` (the record as it was shown to them) into `new`. Only the
    /// fields that differ are written, so what someone else changed meanwhile stays.
    Update { id: Id, old: Box<AnyRecord>, new: Box<AnyRecord> },
    /// Archives (hides) a record, or restores it.
    Archive { collection: &'static str, id: Id, archived: bool },
    /// An action raised from an exercise: created, and linked from the exercise and from the
    /// risk it treats, in one change.
    RaiseAction { action: Id, title: String, exercise: Id, risk: Option<Id> },
}

impl Edit {
    /// The one record the edit touches, as (collection, id); `None` when it touches several.
    pub fn record(&self) -> Option<(&'static str, &str)> {
        match self {
            Edit::Create { id, record } => Some((record.collection(), id)),
            Edit::Update { id, new, .. } => Some((new.collection(), id)),
            Edit::Archive { collection, id, .. } => Some((collection, id)),
            Edit::RaiseAction { .. } => None,
        }
    }
}

/// Runs `$body` with `$o` and `$n` bound to the records inside two `AnyRecord`s of the same
/// kind; `$other` when the kinds differ.
macro_rules! same_kind {
    ($old:expr, $new:expr, ($o:ident, $n:ident) => $body:expr, _ => $other:expr) => {
        match ($old, $new) {
            (AnyRecord::Risk($o), AnyRecord::Risk($n)) => $body,
            (AnyRecord::Supplier($o), AnyRecord::Supplier($n)) => $body,
            (AnyRecord::Person($o), AnyRecord::Person($n)) => $body,
            (AnyRecord::Role($o), AnyRecord::Role($n)) => $body,
            (AnyRecord::Runbook($o), AnyRecord::Runbook($n)) => $body,
            (AnyRecord::BreakGlass($o), AnyRecord::BreakGlass($n)) => $body,
            (AnyRecord::Exercise($o), AnyRecord::Exercise($n)) => $body,
            (AnyRecord::Action($o), AnyRecord::Action($n)) => $body,
            (AnyRecord::Policy($o), AnyRecord::Policy($n)) => $body,
            (AnyRecord::Plan($o), AnyRecord::Plan($n)) => $body,
            _ => $other,
        }
    };
}

impl RegisterDoc {
    /// Writes an edit made at `now`. A refused edit writes nothing; the error says why.
    pub fn apply(&mut self, edit: Edit, now: i64) -> Result<(), DocError> {
        match edit {
            Edit::Create { id, record } => with_record!(*record, r => self.create(&id, r, now).map(|_| ())),
            Edit::Update { id, old, new } => same_kind!(*old, *new, (o, n) => self.update_from(&id, o, n, now),
                _ => Err(Invalid("an edit cannot turn one kind of record into another".into()).into())),
            Edit::Archive { collection, id, archived } => {
                struct Set<'a>(&'a mut RegisterDoc, &'a str, bool, i64);
                impl ForKind for Set<'_> {
                    type Output = Result<(), DocError>;
                    fn run<R: Record>(self) -> Self::Output {
                        let archived = self.2;
                        self.0.update::<R>(self.1, self.3, |r| r.set_archived(archived))
                    }
                }
                for_kind(collection, Set(self, &id, archived, now))
                    .unwrap_or_else(|| Err(Invalid(format!("there are no records called {collection}")).into()))
            }
            Edit::RaiseAction { action, title, exercise, risk } => {
                self.create(&action, Action { title, ..Default::default() }, now)?;
                self.update::<Exercise>(&exercise, now, |e| {
                    e.actions.0.insert(action.clone());
                })?;
                if let Some(risk) = risk {
                    self.update::<Risk>(&risk, now, |r| {
                        r.actions.0.insert(action.clone());
                    })?;
                }
                Ok(())
            }
        }
    }
}
