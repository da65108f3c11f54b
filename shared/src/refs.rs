//! Human references (R-007, S-012). A record's number is the next free one on the replica
//! that created it, so two people creating records offline at the same moment can pick the
//! same number. Such records are never shown with the same reference: every replica adds a
//! letter to each, in the order of their stable ids (R-007a, R-007b), and the findings raise
//! the collision until somebody renumbers one of them.

use crate::model::{ForKind, Id, Kind, Record, Register};
use std::collections::{BTreeMap, HashMap};

/// The reference of every record of every kind, by kind: how messages and exports name records.
pub fn all_references(register: &Register) -> BTreeMap<Kind, BTreeMap<Id, String>> {
    struct Of<'a>(&'a Register);
    impl ForKind for Of<'_> {
        type Output = BTreeMap<Id, String>;
        fn run<R: Record>(self) -> Self::Output {
            references::<R>(self.0)
        }
    }
    Kind::ALL.iter().map(|kind| (*kind, kind.run(Of(register)))).collect()
}

/// The reference of every record of one kind, archived ones included.
pub fn references<R: Record>(register: &Register) -> BTreeMap<Id, String> {
    let collection = R::collection(register);
    let mut sharing: HashMap<u64, usize> = HashMap::with_capacity(collection.len());
    for record in collection.values() {
        *sharing.entry(record.number()).or_default() += 1;
    }
    // In id order, so the records of one number get their letters in the order of their ids,
    // and the map is built from sorted entries in one go (the views ask on every change).
    let mut lettered: HashMap<u64, usize> = HashMap::new();
    collection
        .iter()
        .map(|(id, record)| {
            let number = record.number();
            let position = lettered.entry(number).or_default();
            *position += 1;
            (id.clone(), reference::<R>(number, sharing[&number], *position - 1))
        })
        .collect()
}

/// The reference of the record at `position` (in id order) among the `sharing` records
/// that hold `number`: a letter only when it is not alone.
fn reference<R: Record>(number: u64, sharing: usize, position: usize) -> String {
    let base = format!("{}-{number:03}", R::PREFIX);
    if sharing == 1 { base } else { format!("{base}{}", suffix(position)) }
}

/// a, b, ..., z, aa, ab, ...: enough for any number of colliding records.
fn suffix(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

/// The reference of one record, or its id if it does not exist. Only the records sharing its
/// number decide its letter, so this is one pass with nothing built for the others (an open
/// editor asks on every change to the register).
pub fn reference_of<R: Record>(register: &Register, id: &str) -> String {
    let collection = R::collection(register);
    let Some(number) = collection.get(id).map(Record::number) else { return id.to_string() };
    let (mut sharing, mut position) = (0, 0);
    for (other, _) in collection.iter().filter(|(_, r)| r.number() == number) {
        if other == id {
            position = sharing;
        }
        sharing += 1;
    }
    reference::<R>(number, sharing, position)
}

/// The record a reference names, case and spacing forgiven ("r-7" finds R-007).
pub fn find<R: Record>(register: &Register, reference: &str) -> Option<Id> {
    let wanted = normalise(reference)?;
    references::<R>(register)
        .into_iter()
        .find(|(_, r)| normalise(r).as_deref() == Some(wanted.as_str()))
        .map(|(id, _)| id)
}

fn normalise(reference: &str) -> Option<String> {
    let (prefix, rest) = reference.trim().split_once('-')?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let letters = &rest[digits.len()..];
    let number: u64 = digits.parse().ok()?;
    Some(format!("{}-{number}{}", prefix.to_ascii_uppercase(), letters.to_ascii_lowercase()))
}

/// The record of `kind` that holds `number`, archived ones included.
pub fn numbered(register: &Register, kind: Kind, number: u64) -> Option<Id> {
    struct Of<'a>(&'a Register, u64);
    impl ForKind for Of<'_> {
        type Output = Option<Id>;
        fn run<R: Record>(self) -> Self::Output {
            R::collection(self.0).iter().find(|(_, r)| r.number() == self.1).map(|(id, _)| id.clone())
        }
    }
    kind.run(Of(register, number))
}

/// Numbers given to more than one record of a kind, with those records' ids.
pub fn collisions<R: Record>(register: &Register) -> Vec<(u64, Vec<&Id>)> {
    by_number::<R>(register).into_iter().filter(|(_, ids)| ids.len() > 1).collect()
}

/// Record ids by number. The collection is a BTreeMap, so the ids of one number come out
/// sorted and the letters are the same on every replica.
fn by_number<R: Record>(register: &Register) -> BTreeMap<u64, Vec<&Id>> {
    let mut by_number: BTreeMap<u64, Vec<&Id>> = BTreeMap::new();
    for (id, record) in R::collection(register) {
        by_number.entry(record.number()).or_default().push(id);
    }
    by_number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Risk;

    fn register(numbers: &[(&str, u64)]) -> Register {
        let mut register = Register::default();
        for (id, n) in numbers {
            register.risks.insert(id.to_string(), Risk { number: *n, title: id.to_string(), ..Default::default() });
        }
        register
    }

    #[test]
    fn unique_numbers_are_plain_and_collisions_get_letters_by_id() {
        let r = register(&[("b", 7), ("a", 7), ("c", 8), ("z", 12)]);
        let refs = references::<Risk>(&r);
        assert_eq!(refs["a"], "R-007a");
        assert_eq!(refs["b"], "R-007b");
        assert_eq!(refs["c"], "R-008");
        assert_eq!(refs["z"], "R-012");
        assert_eq!(collisions::<Risk>(&r), vec![(7, vec![&"a".to_string(), &"b".to_string()])]);
        for id in ["a", "b", "c", "z"] {
            assert_eq!(reference_of::<Risk>(&r, id), refs[id], "one record's reference agrees with them all");
        }
        assert_eq!(reference_of::<Risk>(&r, "gone"), "gone");
    }

    #[test]
    fn letters_run_past_z() {
        assert_eq!(suffix(0), "a");
        assert_eq!(suffix(25), "z");
        assert_eq!(suffix(26), "aa");
        assert_eq!(suffix(27), "ab");
        assert_eq!(suffix(26 * 27), "aaa");
    }

    #[test]
    fn find_forgives_case_and_padding() {
        let r = register(&[("b", 7), ("a", 7), ("c", 1234)]);
        assert_eq!(find::<Risk>(&r, "r-7B").as_deref(), Some("b"));
        assert_eq!(find::<Risk>(&r, " R-007a ").as_deref(), Some("a"));
        assert_eq!(find::<Risk>(&r, "R-1234").as_deref(), Some("c"));
        assert_eq!(find::<Risk>(&r, "R-007"), None, "ambiguous: needs the letter");
        assert_eq!(find::<Risk>(&r, "nonsense"), None);
        assert_eq!(reference_of::<Risk>(&r, "gone"), "gone");
    }
}
