//! `RegisterDoc`: the one Automerge document behind a register, and every way of changing it.
//! Edits read one record, apply a change and write back only the fields that differ, so an
//! edit costs the same in a register of ten records or ten thousand. The caller supplies the
//! time of every edit (seconds since the Unix epoch): this crate never reads a clock.

use crate::diff::map_at;
use crate::model::{ForKind, Id, Kind, Record, Register, SCHEMA_VERSION};
use crate::{Date, Invalid};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, PatchAction, Prop, ReadDoc, ScalarValue, Value, ValueRef,
};
use autosurgeon::{hydrate, reconcile_prop};
use chrono::{NaiveTime, TimeZone};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Why an edit or a load did not happen. Nothing is written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("there is no {kind} with id {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("a {kind} with id {id} already exists")]
    Exists { kind: &'static str, id: String },
    #[error(
        "this register was written by a newer version of Continuity Register (schema {found}, this version reads up to {SCHEMA_VERSION}); update the app"
    )]
    TooNew { found: u64 },
    #[error("this is not a register document: {0}")]
    NotARegister(String),
    #[error("this file holds a different register: only a copy of this register can be restored into it")]
    OtherRegister,
    #[error("there is no copy of the register here yet to restore into: open the register first")]
    NoRegisterYet,
    #[error("the {kind} with id {id} cannot be read: it holds {holds}")]
    UnreadableRecord { kind: &'static str, id: String, holds: String },
    #[error("the register document could not be changed: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for DocError {
    fn from(e: automerge::AutomergeError) -> Self {
        DocError::Automerge(e.to_string())
    }
}
impl From<autosurgeon::ReconcileError> for DocError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        DocError::Automerge(e.to_string())
    }
}
impl From<autosurgeon::HydrateError> for DocError {
    fn from(e: autosurgeon::HydrateError) -> Self {
        DocError::NotARegister(e.to_string())
    }
}

/// One change that touched a record: who, when, which field, the value before and after.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    /// Hash of the Automerge change, hex.
    pub change: String,
    /// Actor id, hex; `person` is who that actor is, when known.
    pub actor: String,
    pub person: Option<Id>,
    /// Seconds since the Unix epoch, as the editing device recorded it.
    pub time: i64,
    /// The field, with a path for nested values (`alternatives/<id>/viability`); empty
    /// when the change created the record.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The restore (its mark's hash, hex) whose backup held this change, when one did: a
    /// colleague's old change may reach the relay first from whoever restored it.
    #[serde(default)]
    pub restored_in: Option<String>,
}

/// A field that two people set at the same time without seeing each other's edit. Automerge
/// picks the same winner everywhere; the other values are kept and shown.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub field: String,
    /// Every concurrent value, the one shown (the winner) first.
    pub values: Vec<String>,
}

/// What changed in the document since a reader last looked (`RegisterDoc::changed_since`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// Read the whole register again.
    Everything,
    /// Only these records changed (by kind and id); `header` says the register's name,
    /// schema or actors did too.
    Records { header: bool, records: BTreeSet<(Kind, Id)> },
}

impl Changed {
    /// Notes a change at `path` (collection, record id, field...); `Some(Everything)` when a
    /// whole collection was replaced, which only a register that was never set up does.
    fn note(&mut self, path: &[String]) -> Option<Changed> {
        match path {
            [collection, id, ..] if let Some(kind) = Kind::of_collection(collection) => self.record(kind, id),
            [collection] if Kind::of_collection(collection).is_some() => return Some(Changed::Everything),
            _ => self.header(),
        }
        None
    }

    fn record(&mut self, kind: Kind, id: &str) {
        if let Changed::Records { records, .. } = self {
            records.insert((kind, id.to_string()));
        }
    }

    fn header(&mut self) {
        if let Changed::Records { header, .. } = self {
            *header = true;
        }
    }
}

/// The register document.
#[derive(Debug, Clone)]
pub struct RegisterDoc {
    doc: AutoCommit,
    /// The highest record number per collection, so that creating a record does not scan
    /// the collection.
    highest: Numbers,
    /// Which changes touched each object, so a record's history decodes only its own.
    index: ChangeIndex,
    /// Inside `batch`: the writes wait for its one commit.
    batching: bool,
}

/// The changes that touched each object (by its id as text), as positions in `changes`,
/// which lists every indexed change in the document's order (each after its dependencies).
/// Brought up to date with only the changes since `at` whenever history is read: Automerge
/// keeps no such index, and without it a record's history decodes every change there is.
#[derive(Debug, Clone, Default)]
struct ChangeIndex {
    changes: Vec<ChangeHash>,
    by_object: HashMap<String, Vec<u32>>,
    at: Vec<ChangeHash>,
    /// Each restore's mark and the backup's heads it names (`authorship::RESTORE_MARK`);
    /// `restored` the changes those backups held, each with the first restore that held it.
    restores: Vec<(ChangeHash, Vec<ChangeHash>)>,
    restored: Option<HashMap<ChangeHash, ChangeHash>>,
}

/// The highest numbers, valid while the document's heads are `at`: this replica's own edits
/// move `at` along; any change from elsewhere (sync, another tab, a merge) leaves the heads
/// somewhere else, and the numbers are counted again on the next create.
#[derive(Debug, Clone, Default)]
struct Numbers {
    highest: HashMap<&'static str, Taken>,
    at: Vec<ChangeHash>,
}

/// The numbers a collection's records hold, archived ones included, and the highest of them.
#[derive(Debug, Clone, Default)]
struct Taken {
    highest: u64,
    numbers: std::collections::BTreeSet<u64>,
}

/// The collections added since registers were first made, one step per version that added
/// some, oldest first. Never edit a step once released: a replica's upgrade change must be
/// byte for byte the same as everyone else's. A new collection is a new step at the end.
/// Written out rather than taken from `Kind::ALL`, which grows, and would change step 1.
const UPGRADES: &[&[&str]] = &[
    &[
        "risks",
        "suppliers",
        "people",
        "roles",
        "runbooks",
        "break_glass",
        "exercises",
        "actions",
        "policies",
        "plans",
        "actors",
    ],
    &["incidents"],
    &["services", "customers", "trainings"],
];

/// The actor of every upgrade change. No replica edits as it: replicas' actors are random.
const UPGRADE_ACTOR: [u8; 16] = *b"continuity-upgr1";

impl RegisterDoc {
    /// A new, empty register. Every collection map is made here, once, so that replicas forked
    /// from this document never create one concurrently (two concurrent maps under one key
    /// would hide each other's records).
    pub fn new(name: &str, now: i64) -> Result<Self, DocError> {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "schema_version", SCHEMA_VERSION)?;
        doc.put(automerge::ROOT, "name", name)?;
        for collection in Kind::ALL.iter().map(|k| k.collection()).chain(["actors"]) {
            doc.put_object(automerge::ROOT, collection, ObjType::Map)?;
        }
        let mut this = RegisterDoc::wrap(doc);
        this.commit(now, "create register");
        Ok(this)
    }

    /// A document with nothing known about it yet: no record numbers counted, nothing indexed.
    fn wrap(doc: AutoCommit) -> Self {
        RegisterDoc { doc, highest: Numbers::default(), index: ChangeIndex::default(), batching: false }
    }

    /// A replica that has not received its register yet: it fills in by sync. Until then it
    /// reads as an empty register.
    pub fn empty() -> Self {
        RegisterDoc::wrap(AutoCommit::new())
    }

    /// Loads a saved register, refusing bytes that are not one or that a newer version wrote.
    pub fn load(bytes: &[u8]) -> Result<Self, DocError> {
        let doc = AutoCommit::load(bytes).map_err(|e| DocError::NotARegister(e.to_string()))?;
        let this = RegisterDoc::wrap(doc);
        this.check_schema()?;
        Ok(this)
    }

    /// Takes in one stored chunk (a whole save or the changes after one), or refuses it whole
    /// and changes nothing (`load_strictly`).
    pub fn load_chunk(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        load_strictly(&mut self.doc, bytes).map_err(|e| DocError::NotARegister(e.to_string()))
    }

    /// Wraps a document that arrived by sync, with the same checks as `load`.
    pub fn from_automerge(doc: AutoCommit) -> Result<Self, DocError> {
        let this = RegisterDoc::wrap(doc);
        this.check_schema()?;
        Ok(this)
    }

    fn check_schema(&self) -> Result<(), DocError> {
        let found = match self.doc.get(automerge::ROOT, "schema_version")? {
            Some((Value::Scalar(v), _)) => match v.as_ref() {
                ScalarValue::Uint(n) => *n,
                ScalarValue::Int(n) if *n >= 0 => *n as u64,
                _ => return Err(DocError::NotARegister("its schema version is not a number".into())),
            },
            _ => return Err(DocError::NotARegister("it has no schema version".into())),
        };
        if found > SCHEMA_VERSION {
            return Err(DocError::TooNew { found });
        }
        Ok(())
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// Takes in a saved copy of this register (a backup downloaded earlier, `save`): every
    /// change in it that this replica lacks is merged in, so nothing either side holds is
    /// lost, and edits made since the backup stay. Returns how many changes were new. A file
    /// that is not a register, or holds a different register, is refused and nothing changes;
    /// so is any file while this replica holds no register yet.
    pub fn restore_backup(&mut self, bytes: &[u8], now: i64) -> Result<usize, DocError> {
        let mut backup = RegisterDoc::load(bytes)?;
        // Replicas of one register share the collection maps made when it was created; an
        // independently made register has its own, and merging the two would hide records.
        let lineage = |doc: &AutoCommit| doc.get(automerge::ROOT, "risks").map(|found| found.map(|(_, id)| id));
        // A copy with nothing yet cannot tell which register it is meant to be: restoring
        // another register into it would mix two registers once it syncs.
        let Some(ours) = lineage(&self.doc)? else { return Err(DocError::NoRegisterYet) };
        if lineage(&backup.doc)? != Some(ours) {
            return Err(DocError::OtherRegister);
        }
        let added = self.doc.get_changes_added(&mut backup.doc);
        let count = added.len();
        self.doc.apply_changes(added)?;
        if count > 0 {
            // The mark says which changes came from the backup, so History can show a
            // colleague's change sent by whoever restored it as restored, not as forged.
            let heads: Vec<String> = backup.doc.get_heads().iter().map(ChangeHash::to_string).collect();
            let mark = format!("{}{}", crate::authorship::RESTORE_MARK, heads.join(","));
            self.doc.empty_change(CommitOptions::default().with_time(now).with_message(mark));
        }
        Ok(count)
    }

    /// The changes made since `heads`, for incremental storage.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// How many changes this replica has that a peer at `heads` lacks.
    pub fn changes_after(&mut self, heads: &[ChangeHash]) -> usize {
        self.doc.get_changes(heads).len()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The underlying document, for the sync protocol.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Gives this replica a fixed actor id (tests, benchmarks and devices that keep theirs).
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    pub fn actor_hex(&self) -> String {
        self.doc.get_actor().to_hex_string()
    }

    /// A copy that edits as a different actor, as a second device would.
    pub fn fork(&mut self) -> RegisterDoc {
        RegisterDoc { doc: self.doc.fork(), highest: self.highest.clone(), index: self.index.clone(), batching: false }
    }

    /// Takes in every change the other replica has that this one lacks.
    pub fn merge(&mut self, other: &mut RegisterDoc) -> Result<(), DocError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    /// The whole register. Costs time in proportion to its size: for one record use `get`.
    pub fn register(&self) -> Result<Register, DocError> {
        Ok(hydrate(&self.doc)?)
    }

    /// One record, read without touching the rest of the register.
    pub fn get<R: Record>(&self, id: &str) -> Result<Option<R>, DocError> {
        let Some(collection) = map_at(&self.doc, &automerge::ROOT, R::COLLECTION)? else {
            return Ok(None);
        };
        if self.doc.get(&collection, id)?.is_none() {
            return Ok(None);
        }
        match self.doc.get(&collection, id)? {
            Some((Value::Object(ObjType::Map | ObjType::Table), map)) => Ok(Some(R::hydrate_map(&self.doc, &map)?)),
            _ => Err(DocError::UnreadableRecord {
                kind: R::LABEL,
                id: id.into(),
                holds: crate::lenient::describe(&self.doc, &collection, id),
            }),
        }
    }

    /// The records that changed between `before` and now (changes merged from another device
    /// or tab, say), for a reader's copy of the register to take in with `refresh`. Reads the
    /// new changes' operations and where each lands in the document: Automerge's own diff
    /// walks far more than the changes (tens of milliseconds for one edit at 10,000 records).
    pub fn changed_since(&mut self, before: &[ChangeHash]) -> Changed {
        if before.is_empty() {
            return Changed::Everything;
        }
        let changes = self.doc.get_changes(before);
        // Past this many, one diff is cheaper than finding where every operation lands.
        if changes.len() > 1_000 {
            return self.changed_by_diff(before);
        }
        let mut changed = Changed::Records { header: false, records: BTreeSet::new() };
        for change in &changes {
            for op in change.decode().operations {
                let mut path: Vec<String> = match &op.obj {
                    automerge::legacy::ObjectId::Root => Vec::new(),
                    obj => {
                        let parents = self.doc.import_obj(&obj.to_string()).and_then(|o| self.doc.parents(o));
                        match parents {
                            Ok(parents) => parents.path().into_iter().map(|(_, prop)| prop_text(prop)).collect(),
                            // An object this document cannot place: fall back to the diff.
                            Err(_) => return self.changed_by_diff(before),
                        }
                    }
                };
                if let automerge::legacy::Key::Map(key) = &op.key {
                    path.push(key.to_string());
                }
                if let Some(everything) = changed.note(&path) {
                    return everything;
                }
            }
        }
        changed
    }

    /// `changed_since` by Automerge's diff between the two sets of heads.
    fn changed_by_diff(&mut self, before: &[ChangeHash]) -> Changed {
        let after = self.doc.get_heads();
        let mut changed = Changed::Records { header: false, records: BTreeSet::new() };
        for patch in self.doc.diff(before, &after) {
            let key = match &patch.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => Some(key.clone()),
                PatchAction::Conflict { prop: Prop::Map(key) } => Some(key.clone()),
                _ => None,
            };
            let path: Vec<String> = patch.path.iter().map(|(_, prop)| prop_text(prop.clone())).chain(key).collect();
            if let Some(everything) = changed.note(&path) {
                return everything;
            }
        }
        changed
    }

    /// Brings a reader's copy of the register up to date with what `changed_since` found:
    /// only the records named are read again, so taking in a colleague's edit costs the same
    /// in a register of any size.
    pub fn refresh(&self, register: &mut Register, changed: &Changed) -> Result<(), DocError> {
        let (header, records) = match changed {
            Changed::Everything => {
                *register = self.register()?;
                return Ok(());
            }
            Changed::Records { header, records } => (header, records),
        };
        if *header {
            register.read_header(&self.doc);
        }
        struct Reread<'a> {
            doc: &'a RegisterDoc,
            register: &'a mut Register,
            id: &'a str,
        }
        impl ForKind for Reread<'_> {
            type Output = Result<(), DocError>;
            fn run<R: Record>(self) -> Self::Output {
                self.doc.reread::<R>(self.register, self.id)
            }
        }
        for (kind, id) in records {
            kind.run(Reread { doc: self, register: &mut *register, id })?;
        }
        Ok(())
    }

    fn reread<R: Record>(&self, register: &mut Register, id: &str) -> Result<(), DocError> {
        let path = format!("{}/{id}", R::COLLECTION);
        register.unreadable.0.remove(&path);
        match self.get::<R>(id) {
            Ok(Some(record)) => R::collection_mut(register).insert(id.to_string(), record),
            Ok(None) => R::collection_mut(register).remove(id),
            // A record that is not a map at all: left out and reported, never fatal.
            Err(DocError::UnreadableRecord { holds, .. }) => {
                register.unreadable.0.insert(path, holds);
                R::collection_mut(register).remove(id)
            }
            Err(e) => return Err(e),
        };
        Ok(())
    }

    /// Renames the register (the firm's name it shows).
    pub fn update_name(&mut self, name: &str, now: i64) -> Result<(), DocError> {
        if name.trim().is_empty() {
            return Err(Invalid("A register needs the firm's name".into()).into());
        }
        self.doc.put(automerge::ROOT, "name", name.trim())?;
        self.commit(now, "rename register");
        Ok(())
    }

    /// Says which person this device's edits come from, so history can name them.
    pub fn identify(&mut self, person: &str, now: i64) -> Result<(), DocError> {
        let actors = self.collection("actors")?;
        let actor = self.actor_hex();
        if self.doc.get(&actors, actor.as_str())?.is_some_and(|(v, _)| v.as_str() == Some(person)) {
            return Ok(());
        }
        self.doc.put(&actors, actor.as_str(), person)?;
        self.commit(now, "identify");
        Ok(())
    }

    /// Adds a record under a new stable id and gives it the next number in its collection.
    /// Returns the number.
    pub fn create<R: Record>(&mut self, id: &str, record: R, now: i64) -> Result<u64, DocError> {
        self.insert(id, record, now, false)
    }

    /// Creates a record under the number it carries when it carries one (an import keeping a
    /// file's own references, so that links made by reference still hold), or the next free
    /// one. A number already taken is refused: two records must not share a reference.
    pub(crate) fn create_keeping_number<R: Record>(&mut self, id: &str, record: R, now: i64) -> Result<u64, DocError> {
        self.insert(id, record, now, true)
    }

    fn insert<R: Record>(&mut self, id: &str, mut record: R, now: i64, keep: bool) -> Result<u64, DocError> {
        record.check()?;
        let collection = self.collection(R::COLLECTION)?;
        if self.doc.get(&collection, id)?.is_some() {
            return Err(DocError::Exists { kind: R::LABEL, id: id.into() });
        }
        let number = if keep && record.number() > 0 {
            let number = record.number();
            let taken = self.taken(R::COLLECTION, &collection)?;
            if !taken.numbers.insert(number) {
                return Err(Invalid(format!(
                    "{}-{number:03} is already a {} in the register: two records cannot share a reference",
                    R::PREFIX,
                    R::LABEL
                ))
                .into());
            }
            taken.highest = taken.highest.max(number);
            number
        } else {
            self.next_number(R::COLLECTION, &collection)?
        };
        record.set_number(number);
        reconcile_prop(&mut self.doc, &collection, id, &record)?;
        self.commit(now, &format!("create {}/{id}", R::COLLECTION));
        Ok(number)
    }

    /// The next free number: one more than any number in the collection, archived included,
    /// so a number is never reused on this replica. Two replicas offline can still pick the
    /// same one; `refs` tells such records apart.
    fn next_number(&mut self, name: &'static str, collection: &ObjId) -> Result<u64, DocError> {
        let taken = self.taken(name, collection)?;
        taken.highest += 1;
        taken.numbers.insert(taken.highest);
        Ok(taken.highest)
    }

    /// The numbers taken in a collection, counted once and then kept up to date while only
    /// this replica's own edits come in.
    fn taken(&mut self, name: &'static str, collection: &ObjId) -> Result<&mut Taken, DocError> {
        // Inside a batch the numbers were made valid when it began (`batch`), and reading the
        // heads would commit what the batch has written so far as a change of its own.
        if !self.batching {
            let heads = self.doc.get_heads();
            if heads != self.highest.at {
                self.highest = Numbers { highest: HashMap::new(), at: heads };
            }
        }
        if !self.highest.highest.contains_key(name) {
            let mut taken = Taken::default();
            for item in self.doc.map_range(collection, ..) {
                if let ValueRef::Object(ObjType::Map) = item.value
                    && let Some((Value::Scalar(n), _)) = self.doc.get(item.id(), "number")?
                    && let Some(n) = n.as_u64()
                {
                    taken.highest = taken.highest.max(n);
                    taken.numbers.insert(n);
                }
            }
            self.highest.highest.insert(name, taken);
        }
        Ok(self.highest.highest.get_mut(name).expect("counted above"))
    }

    /// Changes one record: `edit` gets the record as it stands and changes what the person
    /// changed. Only fields that differ are written. The number cannot be changed here.
    pub fn update<R: Record>(&mut self, id: &str, now: i64, edit: impl FnOnce(&mut R)) -> Result<(), DocError> {
        let old: R = self.get(id)?.ok_or_else(|| DocError::NotFound { kind: R::LABEL, id: id.into() })?;
        let mut new = old.clone();
        edit(&mut new);
        self.write_update(id, old, new, now)
    }

    /// Changes one record from `old` (as the person saw it) to `new`: only the fields where the
    /// two differ are written, so fields someone else changed meanwhile keep their value.
    pub fn update_from<R: Record>(&mut self, id: &str, old: R, new: R, now: i64) -> Result<(), DocError> {
        if self.get::<R>(id)?.is_none() {
            return Err(DocError::NotFound { kind: R::LABEL, id: id.into() });
        }
        self.write_update(id, old, new, now)
    }

    fn write_update<R: Record>(&mut self, id: &str, old: R, mut new: R, now: i64) -> Result<(), DocError> {
        new.set_number(old.number());
        if new == old {
            return Ok(());
        }
        new.check()?;
        new.check_change(&old)?;
        let collection = self.collection(R::COLLECTION)?;
        let written = new.write_diff(&old, &mut self.doc, &collection, id);
        if let Err(e) = written {
            // Leave nothing half-written behind.
            self.doc.rollback();
            return Err(e.into());
        }
        self.commit(now, &format!("update {}/{id}", R::COLLECTION));
        Ok(())
    }

    /// Hides a record; it stays in the document and `restore` brings it back.
    pub fn archive<R: Record>(&mut self, id: &str, now: i64) -> Result<(), DocError> {
        self.update::<R>(id, now, |r| r.set_archived(true))
    }

    pub fn restore<R: Record>(&mut self, id: &str, now: i64) -> Result<(), DocError> {
        self.update::<R>(id, now, |r| r.set_archived(false))
    }

    /// Gives a record a fresh number: how people settle two records that were given the same
    /// reference offline.
    pub fn renumber<R: Record>(&mut self, id: &str, now: i64) -> Result<u64, DocError> {
        let collection = self.collection(R::COLLECTION)?;
        let record =
            map_at(&self.doc, &collection, id)?.ok_or_else(|| DocError::NotFound { kind: R::LABEL, id: id.into() })?;
        let number = self.next_number(R::COLLECTION, &collection)?;
        self.doc.put(&record, "number", number)?;
        self.commit(now, &format!("renumber {}/{id}", R::COLLECTION));
        Ok(number)
    }

    fn collection(&mut self, name: &str) -> Result<ObjId, DocError> {
        if let Some(map) = map_at(&self.doc, &automerge::ROOT, name)? {
            return Ok(map);
        }
        // Only a register written before this collection existed gets here.
        self.upgrade()?;
        map_at(&self.doc, &automerge::ROOT, name)?
            .ok_or_else(|| DocError::NotARegister(format!("it has no {name} and none could be added")))
    }

    /// Adds the collections a register written by an older version lacks, with changes that
    /// are the same bytes on every replica: each step is made on a copy of the document as
    /// it was created (plus the steps before it), by one fixed actor at time 0, so two people
    /// upgrading offline make one change between them, not two maps under one key (of which
    /// Automerge would show one, hiding the other's records). Additive only: an older app
    /// still opens the register. Returns whether anything was added.
    pub fn upgrade(&mut self) -> Result<bool, DocError> {
        let root = automerge::ROOT;
        let lacks = |doc: &AutoCommit, name: &str| !matches!(map_at(doc, &root, name), Ok(Some(_)));
        if !UPGRADES.iter().flat_map(|step| step.iter()).any(|name| lacks(&self.doc, name)) {
            return Ok(false);
        }
        // The change (or changes) the register began with: none yet, nothing to upgrade.
        let mut heads: Vec<ChangeHash> =
            self.doc.get_changes(&[]).iter().filter(|c| c.deps().is_empty()).map(|c| c.hash()).collect();
        if heads.is_empty() {
            return Ok(false);
        }
        heads.sort();
        let mut upgraded = self.doc.fork_at(&heads)?;
        upgraded.set_actor(ActorId::from(UPGRADE_ACTOR));
        for (i, step) in UPGRADES.iter().enumerate() {
            let absent: Vec<&str> = step.iter().copied().filter(|name| lacks(&upgraded, name)).collect();
            for name in absent {
                upgraded.put_object(&root, name, ObjType::Map)?;
            }
            let message = format!("upgrade {}: {}", i + 1, step.join(", "));
            upgraded.commit_with(CommitOptions::default().with_time(0).with_message(message));
        }
        self.doc.merge(&mut upgraded)?;
        Ok(true)
    }

    /// Runs several writes as one change: all of them, or (on an error) none. The record
    /// numbers are brought up to date first, so that creating records inside reads no heads
    /// (which would commit what is pending).
    pub(crate) fn batch(
        &mut self,
        now: i64,
        message: &str,
        writes: impl FnOnce(&mut Self) -> Result<(), DocError>,
    ) -> Result<(), DocError> {
        let heads = self.doc.get_heads();
        if heads != self.highest.at {
            self.highest = Numbers { highest: HashMap::new(), at: heads };
        }
        self.batching = true;
        let done = writes(self);
        self.batching = false;
        match done {
            Ok(()) => {
                self.commit(now, message);
                Ok(())
            }
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    fn commit(&mut self, now: i64, message: &str) {
        if self.batching {
            return;
        }
        let change = self.doc.commit_with(CommitOptions::default().with_time(now).with_message(message.to_string()));
        // An edit of this replica's own, made on top of the heads the numbers were counted
        // at, keeps them valid (a create has already counted its own number).
        if let Some(hash) = change
            && let Some(made) = self.doc.get_change_meta_by_hash(&hash)
        {
            let mut deps = made.deps;
            deps.sort();
            if deps == self.highest.at {
                self.highest.at = vec![hash];
            }
        }
    }

    /// Every object inside a record (the record itself included), with its path from the record.
    fn objects_of(&self, record: ObjId) -> Vec<(ObjId, String)> {
        let mut out = vec![(record, String::new())];
        let mut i = 0;
        while i < out.len() {
            let (obj, path) = out[i].clone();
            let children: Vec<(ObjId, String)> = match self.doc.object_type(&obj) {
                Ok(ObjType::Map) => self
                    .doc
                    .map_range(&obj, ..)
                    .filter(|item| matches!(item.value, ValueRef::Object(_)))
                    .map(|item| (item.id(), join(&path, item.key.as_ref())))
                    .collect(),
                Ok(ObjType::List) => self
                    .doc
                    .list_range(&obj, ..)
                    .filter(|item| matches!(item.value, ValueRef::Object(_)))
                    .map(|item| (item.id(), join(&path, &item.index.to_string())))
                    .collect(),
                _ => Vec::new(),
            };
            out.extend(children);
            i += 1;
        }
        out
    }

    /// Fields of a record (nested ones included) that hold concurrent values.
    pub fn conflicts<R: Record>(&self, id: &str) -> Result<Vec<Conflict>, DocError> {
        let Some(collection) = map_at(&self.doc, &automerge::ROOT, R::COLLECTION)? else {
            return Ok(Vec::new());
        };
        let Some(record) = map_at(&self.doc, &collection, id)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (obj, path) in self.objects_of(record) {
            if self.doc.object_type(&obj)? != ObjType::Map {
                continue;
            }
            let keys: Vec<String> = self.doc.keys(&obj).collect();
            for key in keys {
                let all = self.doc.get_all(&obj, key.as_str())?;
                if all.len() > 1 {
                    // get_all lists the winner last.
                    let values = all.iter().rev().map(|(v, _)| render(v).unwrap_or_else(|| "(empty)".into())).collect();
                    out.push(Conflict { field: join(&path, &key), values });
                }
            }
        }
        Ok(out)
    }

    /// Every change that touched one record, oldest first.
    pub fn history<R: Record>(&mut self, id: &str) -> Result<Vec<HistoryEntry>, DocError> {
        let Some(collection) = map_at(&self.doc, &automerge::ROOT, R::COLLECTION)? else {
            return Ok(Vec::new());
        };
        let Some(record) = map_at(&self.doc, &collection, id)? else {
            return Err(DocError::NotFound { kind: R::LABEL, id: id.into() });
        };
        // Only the names of the people behind the actors: hydrating the whole register here
        // would cost more than the rest of the history.
        let actors: BTreeMap<String, Id> =
            crate::lenient::entries(&self.doc, &automerge::ROOT, "actors", &mut Default::default());
        let objects: HashMap<String, (ObjId, String)> =
            self.objects_of(record).into_iter().map(|(obj, path)| (obj.to_string(), (obj, path))).collect();
        let collection_name = collection.to_string();
        self.index_new_changes();
        let mut touching: Vec<u32> =
            objects.keys().filter_map(|obj| self.index.by_object.get(obj)).flatten().copied().collect();
        touching.sort_unstable();
        touching.dedup();
        // Taken out while the changes are read (and put back): an early return only costs
        // working it out again.
        self.index_restores();
        let restored = self.index.restored.take().unwrap_or_default();
        let mut entries = Vec::new();
        for position in touching {
            let Some(change) = self.doc.get_change_by_hash(&self.index.changes[position as usize]) else { continue };
            let change = change.clone();
            let (hash, deps, time) = (change.hash(), change.deps().to_vec(), change.timestamp());
            let actor = change.actor_id().to_hex_string();
            let person = actors.get(&actor).cloned();
            let restored_in = restored.get(&hash).map(ChangeHash::to_string);
            let entry = |field: String, old: Option<String>, new: Option<String>| HistoryEntry {
                change: hash.to_string(),
                actor: actor.clone(),
                person: person.clone(),
                time,
                field,
                old,
                new,
                restored_in: restored_in.clone(),
            };
            let mut created = false;
            let mut seen = HashSet::new();
            for op in change.decode().operations {
                let obj = op.obj.to_string();
                let key = match &op.key {
                    automerge::legacy::Key::Map(k) => Some(k.to_string()),
                    automerge::legacy::Key::Seq(_) => None,
                };
                if obj == collection_name && key.as_deref() == Some(id) {
                    if !created {
                        entries.push(entry(String::new(), None, Some("created".into())));
                    }
                    created = true;
                    continue;
                }
                let Some((exid, path)) = objects.get(&obj) else { continue };
                if created {
                    continue;
                }
                match key {
                    Some(key) => {
                        let old = self.doc.get_at(exid, key.as_str(), &deps)?.and_then(|(v, _)| render(&v));
                        let new = match &op.action {
                            automerge::legacy::OpType::Put(v) => render_scalar(v),
                            automerge::legacy::OpType::Make(t) => Some(format!("(new {t:?})").to_lowercase()),
                            _ => None,
                        };
                        entries.push(entry(join(path, &key), old, new));
                    }
                    // A list (the deputies): show the whole list before and after, once per change.
                    None if seen.insert(obj.clone()) => {
                        let old = list_text(&self.doc, exid, &deps);
                        let new = list_text(&self.doc, exid, &[hash]);
                        entries.push(entry(path.clone(), Some(old), Some(new)));
                    }
                    None => {}
                }
            }
        }
        self.index.restored = Some(restored);
        Ok(entries)
    }

    /// Indexes the changes made or received since the index was last brought up to date.
    fn index_new_changes(&mut self) {
        let heads = self.doc.get_heads();
        if heads == self.index.at {
            return;
        }
        let index = &mut self.index;
        for change in self.doc.get_changes(&index.at) {
            let position = index.changes.len() as u32;
            index.changes.push(change.hash());
            let mut objects: Vec<String> = change.decode().operations.iter().map(|op| op.obj.to_string()).collect();
            objects.sort_unstable();
            objects.dedup();
            for obj in objects {
                index.by_object.entry(obj).or_default().push(position);
            }
            if let Some(heads) = change.message().and_then(crate::authorship::restored_heads) {
                let heads = heads.iter().filter_map(|h| h.parse().ok()).collect();
                index.restores.push((change.hash(), heads));
                index.restored = None;
            }
        }
        index.at = heads;
    }

    /// The changes restored backups held, each with the mark of the first restore that held
    /// it; worked out once per new restore (a walk back from the backup's heads).
    fn index_restores(&mut self) {
        if self.index.restored.is_none() {
            let mut restored = HashMap::new();
            for (mark, heads) in &self.index.restores {
                let mut todo = heads.clone();
                while let Some(hash) = todo.pop() {
                    if restored.contains_key(&hash) {
                        continue;
                    }
                    let Some(change) = self.doc.get_change_by_hash(&hash) else { continue };
                    todo.extend(change.deps().iter().copied());
                    restored.insert(hash, *mark);
                }
            }
            self.index.restored = Some(restored);
        }
    }

    /// The register as it stood at the end of `date` in the UK: every change made by then,
    /// and nothing that depends on a later one (a device's clock can be wrong).
    pub fn as_of(&mut self, date: Date) -> Result<Register, DocError> {
        let end = date.0.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
        let cutoff = chrono_tz::Europe::London
            .from_local_datetime(&end)
            .latest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| end.and_utc().timestamp());
        let mut included: HashSet<ChangeHash> = HashSet::new();
        let mut depended: HashSet<ChangeHash> = HashSet::new();
        // Only each change's hash, time and dependencies are needed: the metadata, not the
        // changes themselves (rebuilding all 100,000 from the operations was three quarters
        // of the time). It lists every change after all of its dependencies, as
        // `get_changes` does.
        for change in self.doc.get_changes_meta(&[]) {
            if change.timestamp <= cutoff && change.deps.iter().all(|d| included.contains(d)) {
                included.insert(change.hash);
                depended.extend(change.deps.iter().copied());
            }
        }
        let heads: Vec<ChangeHash> = included.difference(&depended).copied().collect();
        if heads.is_empty() {
            return Ok(Register::default());
        }
        Ok(hydrate(&AtHeads { doc: &self.doc, heads: &heads })?)
    }
}

/// The document read as it stood at `heads`, without copying it. `fork_at` would replay
/// every change into a new document (seconds at 100,000 changes); Automerge's `*_at` reads
/// answer from the one already loaded. autosurgeon has no reader for a past state, so this
/// adapter supplies one.
struct AtHeads<'a> {
    doc: &'a AutoCommit,
    heads: &'a [ChangeHash],
}

impl autosurgeon::ReadDoc for AtHeads<'_> {
    type Parents<'b>
        = automerge::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<ChangeHash> {
        self.heads.to_vec()
    }

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, automerge::AutomergeError> {
        self.doc.get_at(obj, prop, self.heads)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        ReadDoc::object_type(self.doc, obj).ok()
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> automerge::iter::MapRange<'b>
    where
        R: std::ops::RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
    {
        self.doc.map_range_at(obj, range, self.heads)
    }

    fn list_range<O: AsRef<ObjId>, R: std::ops::RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> automerge::iter::ListRange<'_> {
        self.doc.list_range_at(obj, range, self.heads)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        self.doc.length_at(obj, self.heads)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, automerge::AutomergeError> {
        self.doc.text_at(obj, self.heads)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, automerge::AutomergeError> {
        self.doc.parents_at(obj, self.heads)
    }

    fn is_empty(&self) -> bool {
        self.doc.keys_at(automerge::ROOT, self.heads).next().is_none()
    }
}

/// Takes one stored chunk into `doc`, or refuses it whole and changes nothing. Automerge's
/// `load_incremental` skips what it cannot parse without a word once the document holds
/// anything, so the chunk is first read strictly on its own: one that is junk or damaged is
/// an error, never half taken in. (The relay loads its stored chunks this way too.)
pub fn load_strictly(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), automerge::AutomergeError> {
    use automerge::{AutomergeError, LoadOptions, OnPartialLoad};
    let strict = || LoadOptions::new().on_partial_load(OnPartialLoad::Error);
    // Empty means no changes, not even ones waiting for their dependencies.
    if doc.is_empty() {
        match AutoCommit::load_with_options(bytes, strict()) {
            Ok(mut loaded) => {
                loaded.set_actor(doc.get_actor().clone());
                *doc = loaded;
                return Ok(());
            }
            // Changes that build on others this chunk does not hold: read whole all the same.
            Err(AutomergeError::MissingDeps) => {}
            Err(e) => return Err(e),
        }
    } else {
        match automerge::Automerge::load_with_options(bytes, strict()) {
            Ok(_) | Err(AutomergeError::MissingDeps) => {}
            Err(e) => return Err(e),
        }
    }
    doc.load_incremental(bytes)?;
    Ok(())
}

fn prop_text(prop: Prop) -> String {
    match prop {
        Prop::Map(key) => key,
        Prop::Seq(index) => index.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}/{key}") }
}

fn render(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Scalar(s) => render_scalar(s),
        Value::Object(t) => Some(format!("({t:?})").to_lowercase()),
    }
}

fn render_scalar(value: &ScalarValue) -> Option<String> {
    Some(match value {
        ScalarValue::Null => return None,
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Boolean(b) => if *b { "yes" } else { "no" }.to_string(),
        other => other.to_string(),
    })
}

fn list_text(doc: &AutoCommit, list: &ObjId, heads: &[ChangeHash]) -> String {
    doc.list_range_at(list, .., heads).filter_map(|i| render(&i.value.into_value())).collect::<Vec<_>>().join(", ")
}
