//! Field-level writes: given the record as it was read and as the user changed it, write only
//! the fields that differ. This is why two people editing different fields of one record
//! offline both keep their edit.
//!
//! Written by hand because autosurgeon's `reconcile` re-puts every scalar it visits, even an
//! unchanged one; a re-put of an unchanged field is a concurrent write that can win over
//! somebody else's real edit of that field when the two replicas merge.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, Value, transaction::Transactable};
use autosurgeon::{
    Hydrate, HydrateError, Reconcile, ReconcileError, Reconciler, reconcile::MapReconciler, reconcile_prop,
};
use std::collections::{BTreeMap, BTreeSet};

/// A value that can write itself into the document as a difference from its old value.
pub trait Diff: Reconcile + PartialEq {
    /// Writes `self` at `obj[key]`, touching only what differs from `old`.
    fn write_diff(&self, old: &Self, doc: &mut AutoCommit, obj: &ObjId, key: &str) -> Result<(), ReconcileError> {
        if self != old {
            reconcile_prop(doc, obj, key, self)?;
        }
        Ok(())
    }
}

macro_rules! leaf_diff {
    ($($t:ty),*) => { $(impl Diff for $t {})* };
}
leaf_diff!(String, bool, u8, u32, u64, i64, crate::Date, crate::Pence);
impl<T: Reconcile + PartialEq> Diff for Option<T> {}
impl<T: Reconcile + PartialEq> Diff for Vec<T> {}

/// The map object at `obj[key]`, if there is one.
pub(crate) fn map_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<ObjId>, automerge::AutomergeError> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

/// Nested records keyed by stable id (a supplier's alternatives and reviews): each entry is
/// written field by field, so an edit to one alternative leaves the others untouched.
impl<T: Diff> Diff for BTreeMap<String, T> {
    fn write_diff(&self, old: &Self, doc: &mut AutoCommit, obj: &ObjId, key: &str) -> Result<(), ReconcileError> {
        if self == old {
            return Ok(());
        }
        let Some(map) = map_at(doc, obj, key)? else {
            return reconcile_prop(doc, obj, key, self);
        };
        for gone in old.keys().filter(|k| !self.contains_key(*k)) {
            doc.delete(&map, gone.as_str())?;
        }
        for (k, v) in self {
            match old.get(k) {
                Some(before) => v.write_diff(before, doc, &map, k)?,
                None => reconcile_prop(doc, &map, k.as_str(), v)?,
            }
        }
        Ok(())
    }
}

/// A set of links to other records, stored as a map from record id to `true`: two people
/// adding the same link offline get one link, and removing one link never disturbs another.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Links(pub BTreeSet<String>);

impl Links {
    pub fn of<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Links {
        Links(ids.into_iter().map(Into::into).collect())
    }
    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Reconcile for Links {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        let mut map = reconciler.map()?;
        let present: Vec<String> = map.entries().map(|(k, _)| k.to_string()).collect();
        for k in present.iter().filter(|k| !self.0.contains(*k)) {
            map.delete(k)?;
        }
        for id in self.0.iter().filter(|id| !present.contains(id)) {
            map.put(id, true)?;
        }
        Ok(())
    }
}

impl Hydrate for Links {
    fn hydrate_map<D: autosurgeon::ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        Ok(Links(doc.map_range(obj, ..).map(|item| item.key.to_string()).collect()))
    }
}

impl Diff for Links {
    fn write_diff(&self, old: &Self, doc: &mut AutoCommit, obj: &ObjId, key: &str) -> Result<(), ReconcileError> {
        if self == old {
            return Ok(());
        }
        let Some(map) = map_at(doc, obj, key)? else {
            return reconcile_prop(doc, obj, key, self);
        };
        for gone in old.0.difference(&self.0) {
            doc.delete(&map, gone.as_str())?;
        }
        for added in self.0.difference(&old.0) {
            doc.put(&map, added.as_str(), true)?;
        }
        Ok(())
    }
}
