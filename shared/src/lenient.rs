//! Forgiving reads: a register written by another Automerge client holds shapes we did not
//! choose (text objects where we write strings, signed or floating numbers where we write
//! unsigned ones, or plain junk). Each field is read on its own; a value that can be read
//! another way is, and one that cannot is recorded as unreadable, with what it holds, and
//! the field shows its default. One bad field never takes down its record, its collection or
//! the register.
//!
//! Written by hand because autosurgeon's derived `Hydrate` fails a whole struct on the first
//! field of an unexpected shape, and has no hook to carry on.

use automerge::{AutoCommit, ObjId, ObjType, ScalarValue, Value, transaction::Transactable};
use autosurgeon::{Hydrate, ReadDoc, hydrate_prop};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields of a record (or the parts of a register) that could not be read, each with a
/// short description of what it holds instead. Empty for everything this app wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unreadable(pub BTreeMap<String, String>);

impl Unreadable {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

/// A map's entries read in one pass, answering `get` on that map from memory and passing
/// every other read through. A record is a map of some twenty fields; reading them one
/// `get` at a time seeks through the document twenty times, which was four fifths of the
/// time to read a whole register. autosurgeon reads field by field, so this sits under it.
pub(crate) struct Prefetched<'a, D> {
    doc: &'a D,
    obj: ObjId,
    /// Sorted by key: the winning value of each, as `get` gives it.
    entries: Vec<(std::borrow::Cow<'a, str>, Value<'static>, ObjId)>,
}

impl<'a, D: ReadDoc> Prefetched<'a, D> {
    pub(crate) fn new(doc: &'a D, obj: &ObjId) -> Self {
        let mut entries: Vec<_> = doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (item.key, item.value.into_value(), id)
            })
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Prefetched { doc, obj: obj.clone(), entries }
    }

    /// The map's keys, in order.
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, ..)| key.as_ref())
    }
}

impl<'a, D: ReadDoc> ReadDoc for Prefetched<'a, D> {
    type Parents<'b>
        = D::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<automerge::ChangeHash> {
        self.doc.get_heads()
    }

    fn get<P: Into<automerge::Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, automerge::AutomergeError> {
        let prop = prop.into();
        if *obj == self.obj
            && let automerge::Prop::Map(key) = &prop
        {
            if let Ok(at) = self.entries.binary_search_by(|e| e.0.as_ref().cmp(key.as_str())) {
                let (_, value, id) = &self.entries[at];
                return Ok(Some((value.clone(), id.clone())));
            }
            return Ok(None);
        }
        self.doc.get(obj, prop)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        self.doc.object_type(obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> automerge::iter::MapRange<'b>
    where
        R: std::ops::RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
    {
        self.doc.map_range(obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: std::ops::RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> automerge::iter::ListRange<'_> {
        self.doc.list_range(obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        self.doc.length(obj)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, automerge::AutomergeError> {
        self.doc.text(obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, automerge::AutomergeError> {
        self.doc.parents(obj)
    }

    fn is_empty(&self) -> bool {
        self.doc.is_empty()
    }
}

/// Reads `obj[key]` as a `T`: a missing value is the default (a field added after the record
/// was written); a value of another shape is read through `coerced`, and failing that is noted
/// in `unreadable` and read as the default.
pub(crate) fn field<D: ReadDoc, T: Hydrate + Default>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    unreadable: &mut Unreadable,
) -> T {
    // The common case first, with one lookup: a value of our own shape.
    if let Ok(value) = hydrate_prop(doc, obj, key) {
        return value;
    }
    match doc.get(obj, key) {
        Ok(None) => return T::default(),
        Ok(Some(_)) => {}
        Err(_) => {
            unreadable.0.insert(key.to_string(), "a value the document cannot read".into());
            return T::default();
        }
    }
    match coerced(doc, obj, key) {
        Some(value) => value,
        None => {
            unreadable.0.insert(key.to_string(), describe(doc, obj, key));
            T::default()
        }
    }
}

/// Reads every entry of the map at `obj[key]` on its own: an entry that cannot be read is
/// left out and noted as `key/entry`. A value that is not a map at all is noted as `key`.
pub(crate) fn entries<D: ReadDoc, V: Hydrate>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    unreadable: &mut Unreadable,
) -> BTreeMap<String, V> {
    let mut out = BTreeMap::new();
    let map = match doc.get(obj, key) {
        Ok(None) => return out,
        Ok(Some((Value::Object(ObjType::Map | ObjType::Table), map))) => map,
        _ => {
            unreadable.0.insert(key.to_string(), describe(doc, obj, key));
            return out;
        }
    };
    let read = Prefetched::new(doc, &map);
    for entry in read.keys() {
        let entry = entry.to_string();
        match hydrate_prop(&read, &map, entry.as_str()).ok().or_else(|| coerced(doc, &map, &entry)) {
            Some(value) => {
                out.insert(entry, value);
            }
            None => {
                unreadable.0.insert(format!("{key}/{entry}"), describe(doc, &map, &entry));
            }
        }
    }
    out
}

/// The value at `obj[key]` read after a copy of it has had its text objects turned into
/// strings and its integers into the sign the model uses (whole floating-point numbers
/// count as integers). Tried with unsigned integers first, then signed, as the model has
/// both (scores and counts are unsigned; pence are signed).
fn coerced<D: ReadDoc, T: Hydrate>(doc: &D, obj: &ObjId, key: &str) -> Option<T> {
    [Sign::Unsigned, Sign::Signed].into_iter().find_map(|sign| {
        let mut scratch = AutoCommit::new();
        copy(doc, obj, key.into(), &mut scratch, &automerge::ROOT, Slot::Key("v"), sign, 0).ok()?;
        hydrate_prop(&scratch, automerge::ROOT, "v").ok()
    })
}

#[derive(Clone, Copy)]
enum Sign {
    Unsigned,
    Signed,
}

/// Where a copied value goes: a key of a map, or the end of a list.
enum Slot<'a> {
    Key(&'a str),
    End,
}

/// Deeper than any shape the model has: a value nested further is not one of ours.
const MAX_DEPTH: usize = 8;

#[allow(clippy::too_many_arguments)]
fn copy<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: automerge::Prop,
    to: &mut AutoCommit,
    to_obj: &ObjId,
    slot: Slot<'_>,
    sign: Sign,
    depth: usize,
) -> Result<(), automerge::AutomergeError> {
    let bad = || automerge::AutomergeError::InvalidOp(ObjType::Map);
    if depth > MAX_DEPTH {
        return Err(bad());
    }
    let Some((value, id)) = doc.get(obj, prop)? else { return Err(bad()) };
    match value {
        Value::Object(ObjType::Text) => put(to, to_obj, slot, ScalarValue::Str(doc.text(&id)?.into())),
        Value::Object(kind @ (ObjType::Map | ObjType::Table | ObjType::List)) => {
            let list = kind == ObjType::List;
            let made = match slot {
                Slot::Key(k) => to.put_object(to_obj, k, if list { ObjType::List } else { ObjType::Map })?,
                Slot::End => {
                    let at = to.length(to_obj);
                    to.insert_object(to_obj, at, if list { ObjType::List } else { ObjType::Map })?
                }
            };
            if list {
                for i in 0..doc.length(&id) {
                    copy(doc, &id, i.into(), to, &made, Slot::End, sign, depth + 1)?;
                }
            } else {
                let keys: Vec<String> = doc.map_range(&id, ..).map(|item| item.key.to_string()).collect();
                for k in &keys {
                    copy(doc, &id, k.as_str().into(), to, &made, Slot::Key(k), sign, depth + 1)?;
                }
            }
            Ok(())
        }
        Value::Scalar(s) => put(to, to_obj, slot, number_as(s.into_owned(), sign)),
    }
}

fn put(to: &mut AutoCommit, obj: &ObjId, slot: Slot<'_>, value: ScalarValue) -> Result<(), automerge::AutomergeError> {
    match slot {
        Slot::Key(k) => to.put(obj, k, value),
        Slot::End => {
            let at = to.length(obj);
            to.insert(obj, at, value)
        }
    }
}

fn number_as(value: ScalarValue, sign: Sign) -> ScalarValue {
    let whole = |f: f64| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15;
    match (value, sign) {
        (ScalarValue::Int(i), Sign::Unsigned) if i >= 0 => ScalarValue::Uint(i as u64),
        (ScalarValue::Uint(u), Sign::Signed) if i64::try_from(u).is_ok() => ScalarValue::Int(u as i64),
        (ScalarValue::Counter(c), sign) => number_as(ScalarValue::Int(i64::from(&c)), sign),
        (ScalarValue::F64(f), Sign::Unsigned) if whole(f) && f >= 0.0 => ScalarValue::Uint(f as u64),
        (ScalarValue::F64(f), Sign::Signed) if whole(f) => ScalarValue::Int(f as i64),
        (value, _) => value,
    }
}

/// What a value holds, in a few words, for the History view and the findings.
pub(crate) fn describe<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> String {
    const LONGEST: usize = 60;
    let clip = |s: &str| {
        if s.chars().count() > LONGEST {
            format!("\u{201c}{}\u{2026}\u{201d}", s.chars().take(LONGEST).collect::<String>())
        } else {
            format!("\u{201c}{s}\u{201d}")
        }
    };
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Text), id))) => format!("text {}", clip(&doc.text(&id).unwrap_or_default())),
        Ok(Some((Value::Object(ObjType::List), id))) => match doc.length(&id) {
            1 => "a list of 1 item".into(),
            n => format!("a list of {n} items"),
        },
        Ok(Some((Value::Object(ObjType::Map | ObjType::Table), id))) => {
            let keys: Vec<String> = doc.map_range(&id, ..).take(4).map(|i| i.key.to_string()).collect();
            if keys.is_empty() { "an empty map".into() } else { format!("a map of {}", keys.join(", ")) }
        }
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => format!("the words {}", clip(s)),
            ScalarValue::Int(i) => format!("the number {i}"),
            ScalarValue::Uint(u) => format!("the number {u}"),
            ScalarValue::F64(f) => format!("the number {f}"),
            ScalarValue::Counter(c) => format!("the counter {}", i64::from(c)),
            ScalarValue::Boolean(b) => format!("{b}"),
            ScalarValue::Timestamp(t) => format!("the timestamp {t}"),
            ScalarValue::Bytes(b) => format!("{} bytes", b.len()),
            ScalarValue::Null => "null".into(),
            ScalarValue::Unknown { .. } => "a value of an unknown type".into(),
        },
        Ok(None) => "nothing".into(),
        Err(_) => "a value the document cannot read".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_with(f: impl FnOnce(&mut AutoCommit)) -> AutoCommit {
        let mut doc = AutoCommit::new();
        f(&mut doc);
        doc
    }

    #[test]
    fn text_reads_as_a_string_and_numbers_change_sign() {
        let doc = doc_with(|d| {
            let t = d.put_object(automerge::ROOT, "title", ObjType::Text).unwrap();
            d.splice_text(&t, 0, 0, "Loss of the identity provider").unwrap();
            d.put(automerge::ROOT, "score", ScalarValue::Int(4)).unwrap();
            d.put(automerge::ROOT, "pence", ScalarValue::F64(1250.0)).unwrap();
            let list = d.put_object(automerge::ROOT, "refs", ObjType::List).unwrap();
            let a = d.insert_object(&list, 0, ObjType::Text).unwrap();
            d.splice_text(&a, 0, 0, "A.5.30").unwrap();
        });
        let mut bad = Unreadable::default();
        let root = automerge::ROOT;
        assert_eq!(field::<_, String>(&doc, &root, "title", &mut bad), "Loss of the identity provider");
        assert_eq!(field::<_, u8>(&doc, &root, "score", &mut bad), 4);
        assert_eq!(field::<_, crate::Pence>(&doc, &root, "pence", &mut bad), crate::Pence(1250));
        assert_eq!(field::<_, Vec<String>>(&doc, &root, "refs", &mut bad), vec!["A.5.30".to_string()]);
        assert_eq!(field::<_, Option<String>>(&doc, &root, "missing", &mut bad), None);
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn a_value_of_another_shape_is_noted_and_read_as_the_default() {
        let doc = doc_with(|d| {
            d.put(automerge::ROOT, "score", 3.5).unwrap();
            d.put_object(automerge::ROOT, "name", ObjType::List).unwrap();
        });
        let mut bad = Unreadable::default();
        assert_eq!(field::<_, u8>(&doc, &automerge::ROOT, "score", &mut bad), 0);
        assert_eq!(field::<_, String>(&doc, &automerge::ROOT, "name", &mut bad), "");
        assert_eq!(bad.0["score"], "the number 3.5");
        assert_eq!(bad.0["name"], "a list of 0 items");
    }

    #[test]
    fn a_map_read_in_one_pass_answers_as_reading_each_key_does() {
        let mut a = AutoCommit::new();
        let m = a.put_object(automerge::ROOT, "m", ObjType::Map).unwrap();
        a.put(&m, "plain", "one").unwrap();
        a.put(&m, "gone", 1u64).unwrap();
        a.delete(&m, "gone").unwrap();
        let t = a.put_object(&m, "text", ObjType::Text).unwrap();
        a.splice_text(&t, 0, 0, "words").unwrap();
        a.put(&m, "counter", ScalarValue::counter(2)).unwrap();
        a.increment(&m, "counter", 5).unwrap();
        let mut b = a.fork();
        a.put(&m, "both", "from a").unwrap();
        b.put(&m, "both", "from b").unwrap();
        a.merge(&mut b).unwrap();
        let read = Prefetched::new(&a, &m);
        for key in ["plain", "gone", "text", "counter", "both", "never"] {
            assert_eq!(ReadDoc::get(&read, &m, key).unwrap(), ReadDoc::get(&a, &m, key).unwrap(), "{key}");
        }
        assert_eq!(
            ReadDoc::get(&read, &automerge::ROOT, "m").unwrap(),
            ReadDoc::get(&a, &automerge::ROOT, "m").unwrap()
        );
    }
}
