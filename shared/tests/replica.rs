//! The replica natively, with storage, other tabs, the relay and timers simulated in memory:
//! write coalescing, retries, compaction, tabs' chunks, the relay's confirmations, conflicts
//! in patches, and a property test over random interleavings of all of it on three replicas.
#![cfg(not(target_arch = "wasm32"))]

use automerge::AutoCommit;
use proptest::prelude::*;
use shared::protocol::{DocumentId, Message, SyncStates, answer_join, decode, encode};
use shared::replica::*;
use shared::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

const T0: i64 = 1_795_000_000;
const ID: DocumentId = DocumentId([7; 16]);

fn now(step: i64) -> Now {
    Now { seconds: T0 + step, today: Date::ymd(2026, 11, 18).unwrap() }
}

/// One browser's IndexedDB: chunks by key, shared by its tabs.
#[derive(Default, Clone, Debug)]
struct Storage {
    chunks: BTreeMap<u64, Vec<u8>>,
    next: u64,
    view: Option<Vec<u8>>,
}

impl Storage {
    fn load(&self) -> Vec<Chunk> {
        self.chunks.iter().map(|(k, b)| Chunk { key: ChunkKey(*k), bytes: b.clone() }).collect()
    }

    /// The register a fresh tab would read from this storage.
    fn register(&self) -> Register {
        let mut doc = RegisterDoc::empty();
        for bytes in self.chunks.values() {
            doc.automerge().load_incremental(bytes).unwrap();
        }
        doc.register().unwrap()
    }
}

/// A relay in miniature: one document, a sync state per device, every change offered to
/// every other joined device.
struct MiniRelay {
    doc: AutoCommit,
    states: HashMap<usize, SyncStates>,
    inbox: VecDeque<(usize, Vec<u8>)>,
}

/// A tab or device: the replica and everything its shell has been asked to do and not done.
struct Shell {
    replica: Replica,
    browser: usize,
    inbox: VecDeque<Event>,
    writes: VecDeque<(u64, Vec<u8>, Vec<ChunkKey>)>,
    reads: VecDeque<ChunkKey>,
    timers: Vec<Timer>,
    /// Bytes the relay sent this shell on the open connection.
    from_relay: VecDeque<Vec<u8>>,
    online: bool,
    /// A connection asked for and not yet opened.
    dialling: bool,
    status: Option<Status>,
    patches: Vec<RegisterPatch>,
    /// The page's copy of the register, kept only from patches.
    page: Register,
    /// Ids of the records this shell created, in order; per edit, the record it created.
    created: Vec<String>,
    edits: Vec<Option<String>>,
    stored_through: u64,
}

struct World {
    storages: Vec<Storage>,
    shells: Vec<Shell>,
    relay: MiniRelay,
    step: i64,
}

fn config(relay: bool, sample: bool) -> Config {
    Config { register: ID, relay, viewer: false, peer: format!("peer-{}", rand_id()), sample }
}

/// Unique peer ids within one test process.
fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn origin() -> RegisterDoc {
    let mut doc = RegisterDoc::new("Replica test", T0).unwrap();
    doc.create("shared", Risk::titled("Shared risk"), T0).unwrap();
    doc
}

impl World {
    /// `browsers[i]` is the browser of shell i; storage of browser 0 starts with the origin.
    fn new(browsers: &[usize], relay: bool) -> World {
        let mut origin = origin();
        let count = browsers.iter().max().map_or(0, |m| m + 1);
        let mut storages = vec![Storage::default(); count];
        storages[0].chunks.insert(0, origin.save());
        storages[0].next = 1;
        let shells = browsers
            .iter()
            .map(|&browser| Shell {
                replica: Replica::new(config(relay, false)),
                browser,
                inbox: VecDeque::new(),
                writes: VecDeque::new(),
                reads: VecDeque::new(),
                timers: Vec::new(),
                from_relay: VecDeque::new(),
                online: true,
                dialling: false,
                status: None,
                patches: Vec::new(),
                page: Register::default(),
                created: Vec::new(),
                edits: Vec::new(),
                stored_through: 0,
            })
            .collect();
        let relay = MiniRelay { doc: origin.automerge().clone(), states: HashMap::new(), inbox: VecDeque::new() };
        let mut world = World { storages, shells, relay, step: 0 };
        for i in 0..world.shells.len() {
            let chunks = world.storages[world.shells[i].browser].load();
            world.event(i, Event::Opened(Ok(chunks)));
        }
        world
    }

    /// Feeds one event to shell `i` and carries out what it asks.
    fn event(&mut self, i: usize, event: Event) {
        self.step += 1;
        let effects = self.shells[i].replica.handle(now(self.step), event);
        self.effects(i, effects);
    }

    fn effects(&mut self, i: usize, effects: Vec<Effect>) {
        for effect in effects {
            let shell = &mut self.shells[i];
            match effect {
                Effect::Write { write, bytes, replaces } => shell.writes.push_back((write, bytes, replaces)),
                Effect::Announce(key) => {
                    let browser = shell.browser;
                    for (j, other) in self.shells.iter_mut().enumerate() {
                        if j != i && other.browser == browser {
                            other.inbox.push_back(Event::Announced(key));
                        }
                    }
                }
                Effect::Read(key) => shell.reads.push_back(key),
                Effect::SaveView(bytes) => self.storages[shell.browser].view = Some(bytes),
                Effect::Connect => shell.dialling = true,
                Effect::Send(bytes) => {
                    if shell.online {
                        self.relay.inbox.push_back((i, bytes));
                    }
                }
                Effect::Patch(patch) => {
                    shell.patches.push(patch.clone());
                    patch.apply_to(&mut shell.page);
                }
                Effect::Status(status) => shell.status = Some(status),
                Effect::Stored { through_edit } => {
                    assert!(through_edit >= shell.stored_through, "stored edits only grow");
                    shell.stored_through = through_edit;
                }
                Effect::After { timer, .. } => shell.timers.push(timer),
            }
        }
    }

    /// Shell `i` edits: creates a record of its own.
    fn create(&mut self, i: usize) -> String {
        let id = format!("p-{i}-{}", self.shells[i].created.len());
        let person = Person { name: format!("Person {id}"), ..Default::default() };
        self.shells[i].created.push(id.clone());
        self.shells[i].edits.push(Some(id.clone()));
        self.event(i, Event::Edit(Edit::Create { id: id.clone(), record: person.any_record() }));
        id
    }

    /// Shell `i` sets the shared risk's controls, as its page shows the risk.
    fn set_controls(&mut self, i: usize, value: &str) {
        let old = self.shells[i].page.risks["shared"].clone();
        let new = Risk { controls: value.into(), ..old.clone() };
        self.shells[i].edits.push(None);
        self.event(i, Event::Edit(Edit::Update { id: "shared".into(), old: old.any_record(), new: new.any_record() }));
    }

    /// Finishes shell `i`'s oldest write, or fails it as a full disk would.
    fn finish_write(&mut self, i: usize, fail: bool) -> bool {
        let Some((write, bytes, replaces)) = self.shells[i].writes.pop_front() else { return false };
        let result = if fail {
            Err(StorageError::Full { what: "save the edit".into() })
        } else {
            let storage = &mut self.storages[self.shells[i].browser];
            let key = storage.next;
            storage.next += 1;
            storage.chunks.insert(key, bytes);
            for old in replaces {
                storage.chunks.remove(&old.0);
            }
            Ok(ChunkKey(key))
        };
        self.event(i, Event::Written { write, result });
        true
    }

    fn finish_read(&mut self, i: usize) -> bool {
        let Some(key) = self.shells[i].reads.pop_front() else { return false };
        let bytes = self.storages[self.shells[i].browser].chunks.get(&key.0).cloned();
        self.event(i, Event::Read { key, result: Ok(bytes) });
        true
    }

    fn next_inbox(&mut self, i: usize) -> bool {
        let Some(event) = self.shells[i].inbox.pop_front() else { return false };
        self.event(i, event);
        true
    }

    fn fire_timer(&mut self, i: usize) -> bool {
        if self.shells[i].timers.is_empty() {
            return false;
        }
        let timer = self.shells[i].timers.remove(0);
        self.event(i, Event::Fired(timer));
        true
    }

    fn dial(&mut self, i: usize) -> bool {
        if !self.shells[i].dialling {
            return false;
        }
        self.shells[i].dialling = false;
        if self.shells[i].online {
            self.relay.states.remove(&i);
            self.event(i, Event::RelayOpened);
        } else {
            self.event(i, Event::RelayClosed(None));
        }
        true
    }

    /// The connection drops: messages on the wire are lost.
    fn drop_connection(&mut self, i: usize) {
        self.shells[i].online = false;
        self.shells[i].from_relay.clear();
        self.relay.inbox.retain(|(from, _)| *from != i);
        self.relay.states.remove(&i);
        self.event(i, Event::RelayClosed(None));
    }

    fn deliver_from_relay(&mut self, i: usize) -> bool {
        let Some(bytes) = self.shells[i].from_relay.pop_front() else { return false };
        self.event(i, Event::RelayMessage(bytes));
        true
    }

    /// The relay handles the oldest message it has.
    fn relay_step(&mut self) -> bool {
        let Some((from, bytes)) = self.relay.inbox.pop_front() else { return false };
        let relay = &mut self.relay;
        match decode(&bytes).unwrap() {
            join @ Message::Join { .. } => {
                let (_, reply) = answer_join(join, "relay", None).unwrap();
                relay.states.insert(from, SyncStates::default());
                self.shells[from].from_relay.push_back(encode(&reply));
            }
            Message::Sync { data, .. } | Message::Request { data, .. } => {
                let Some(state) = relay.states.get_mut(&from) else { return true };
                state.receive(ID, &mut relay.doc, &data).unwrap();
                for (peer, state) in relay.states.iter_mut() {
                    if let Some(data) = state.generate(ID, &mut relay.doc) {
                        let message = Message::Sync {
                            document_id: ID.to_string(),
                            sender_id: "relay".into(),
                            target_id: format!("{peer}"),
                            data,
                        };
                        self.shells[*peer].from_relay.push_back(encode(&message));
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Runs everything to quiet with nothing failing.
    fn settle(&mut self) {
        for i in 0..self.shells.len() {
            if !self.shells[i].online {
                self.shells[i].online = true;
                self.event(i, Event::Online);
            }
        }
        for _ in 0..10_000 {
            let mut busy = self.relay_step();
            for i in 0..self.shells.len() {
                busy |= self.dial(i);
                busy |= self.finish_write(i, false);
                busy |= self.finish_read(i);
                busy |= self.next_inbox(i);
                busy |= self.deliver_from_relay(i);
                busy |= self.fire_timer(i);
            }
            if !busy {
                return;
            }
        }
        panic!("did not settle");
    }

    fn status(&self, i: usize) -> &Status {
        self.shells[i].status.as_ref().expect("a status was shown")
    }
}

#[test]
fn opening_shows_the_stored_register_and_edits_wait_for_it() {
    let mut replica = Replica::new(config(false, false));
    let edit =
        Edit::Create { id: "early".into(), record: Person { name: "Early".into(), ..Default::default() }.any_record() };
    let effects = replica.handle(now(0), Event::Edit(edit));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Write { .. })), "nothing is written before storage is read");
    let mut stored = origin();
    let effects = replica.handle(now(1), Event::Opened(Ok(vec![Chunk { key: ChunkKey(1), bytes: stored.save() }])));
    let Some(Effect::Patch(first)) = effects.iter().find(|e| matches!(e, Effect::Patch(_))) else { panic!() };
    assert!(first.whole && first.put.iter().any(|(id, _)| id == "shared"));
    assert!(replica.register().people.contains_key("early"), "the early edit was applied after loading");
    assert!(effects.iter().any(|e| matches!(e, Effect::Write { .. })));
    assert_eq!(replica.status().saved, Saved::Saving);
}

/// Opens a replica over `storage` as the browser's shell does: the view first, then chunks.
fn reopen(storage: &Storage) -> (Replica, Vec<Effect>, Vec<Effect>) {
    let mut replica = Replica::new(config(false, false));
    let viewed = storage.view.clone().map(|v| replica.handle(now(10), Event::View(v))).unwrap_or_default();
    let opened = replica.handle(now(11), Event::Opened(Ok(storage.load())));
    (replica, viewed, opened)
}

fn patches(effects: &[Effect]) -> Vec<&RegisterPatch> {
    effects.iter().filter_map(|e| if let Effect::Patch(p) = e { Some(p) } else { None }).collect()
}

#[test]
fn the_stored_view_is_shown_before_the_document_loads_and_put_right_after() {
    let mut w = World::new(&[0, 0], false);
    w.settle();
    w.create(0);
    w.settle();
    // Opening wrote a view (the register had none); the first tab's edit came after it.
    let storage = w.storages[0].clone();
    assert!(storage.view.is_some());
    let (replica, viewed, opened) = reopen(&storage);
    let shown = patches(&viewed);
    assert_eq!(shown.len(), 1);
    assert!(shown[0].whole, "the view is the whole register, shown before any chunk is read");
    let after = patches(&opened);
    assert!(after.iter().all(|p| !p.whole), "once loaded, only what changed since the view is read again");
    let mut page = Register::default();
    for p in shown.into_iter().chain(after) {
        p.clone().apply_to(&mut page);
    }
    assert_eq!(&page, replica.register());
    assert_eq!(page, storage.register());
    assert!(page.people.contains_key(&w.shells[0].created[0]), "the edit made after the view is there");

    // A view that cannot be read is ignored; a view of heads the document lacks is replaced.
    let junk = Storage { view: Some(b"not a view".to_vec()), ..storage.clone() };
    let (replica, viewed, opened) = reopen(&junk);
    assert!(patches(&viewed).is_empty());
    assert!(patches(&opened)[0].whole);
    assert_eq!(replica.register(), &storage.register());
    let mut elsewhere = World::new(&[0], false);
    elsewhere.settle();
    elsewhere.create(0);
    elsewhere.settle();
    let foreign = Storage { view: elsewhere.storages[0].view.clone(), ..storage.clone() };
    let (replica, _, opened) = reopen(&foreign);
    assert!(patches(&opened).iter().any(|p| p.whole), "heads this document does not hold: read everything");
    assert_eq!(replica.register(), &storage.register());
}

#[test]
fn a_register_with_no_copy_and_no_relay_starts_from_the_sample_only_when_asked() {
    let mut sample = Replica::new(config(false, true));
    sample.handle(now(0), Event::Opened(Ok(Vec::new())));
    assert!(sample.register().risks.len() >= 8);
    let mut empty = Replica::new(config(false, false));
    empty.handle(now(0), Event::Opened(Ok(Vec::new())));
    assert!(empty.register().risks.is_empty());
}

#[test]
fn a_blank_browser_starts_the_register_the_person_chooses_once_and_never_over_one_it_holds() {
    let mut blank = Replica::new(config(false, false));
    blank.handle(now(0), Event::Opened(Ok(Vec::new())));
    assert!(blank.status().blank, "nothing stored and no server: the person is asked");
    let edit =
        Edit::Create { id: "p".into(), record: Person { name: "Too early".into(), ..Default::default() }.any_record() };
    blank.handle(now(1), Event::Edit(edit));
    assert_eq!(blank.status().problem, Some(Problem::NoRegisterYet));
    blank.handle(now(2), Event::Start(Some("  ".into())));
    assert!(
        blank.status().blank && blank.status().problem.as_ref().is_some_and(|p| p.to_string().contains("firm's name"))
    );
    let effects = blank.handle(now(3), Event::Start(Some("Hollis & Vane LLP".into())));
    assert!(!blank.status().blank);
    assert_eq!(blank.register().name, "Hollis & Vane LLP");
    assert!(blank.register().risks.is_empty() && blank.register().people.is_empty(), "empty: nothing of the sample");
    assert!(effects.iter().any(|e| matches!(e, Effect::Write { .. })), "stored at once");
    assert!(patches(&effects).iter().any(|p| p.whole));
    // Asked again (another tab's stale screen, say): refused, the register kept.
    blank.handle(now(4), Event::Start(None));
    assert!(blank.status().problem.as_ref().is_some_and(|p| p.to_string().contains("already a register")));
    assert_eq!(blank.register().name, "Hollis & Vane LLP");

    let mut tryer = Replica::new(config(false, false));
    tryer.handle(now(0), Event::Opened(Ok(Vec::new())));
    tryer.handle(now(1), Event::Start(None));
    assert!(tryer.register().risks.len() >= 8, "the sample, when that is the choice");
    // With a server to bring the register, or something stored, nobody is asked.
    let mut joining = Replica::new(config(true, false));
    joining.handle(now(0), Event::Opened(Ok(Vec::new())));
    assert!(!joining.status().blank);
    joining.handle(now(1), Event::Start(Some("Mine".into())));
    assert!(joining.register().name.is_empty(), "never made over a register on its way from the server");
    let mut stored = origin();
    let mut holding = Replica::new(config(false, false));
    holding.handle(now(0), Event::Opened(Ok(vec![Chunk { key: ChunkKey(1), bytes: stored.save() }])));
    assert!(!holding.status().blank);
}

#[test]
fn edits_during_a_write_go_together_in_the_next_and_nothing_is_written_twice() {
    let mut w = World::new(&[0], false);
    w.settle();
    w.create(0);
    assert_eq!(w.shells[0].writes.len(), 1);
    w.create(0);
    w.create(0);
    assert_eq!(w.shells[0].writes.len(), 1, "one write at a time");
    assert!(w.finish_write(0, false));
    assert_eq!(w.shells[0].writes.len(), 1, "the two edits made meanwhile go in one write");
    assert_eq!(w.shells[0].stored_through, 1);
    assert!(w.finish_write(0, false));
    assert!(w.shells[0].writes.is_empty());
    assert_eq!(w.shells[0].stored_through, 3);
    assert!(matches!(w.status(0).saved, Saved::Saved(Some(_))));
    // Every change is stored exactly once: the chunks hold no change twice.
    let mut hashes = Vec::new();
    for bytes in w.storages[0].chunks.values() {
        let mut doc = AutoCommit::new();
        doc.load_incremental(bytes).unwrap();
        hashes.extend(doc.get_changes(&[]).iter().map(|c| c.hash()));
    }
    let unique: BTreeSet<_> = hashes.iter().collect();
    assert_eq!(unique.len(), hashes.len());
    assert_eq!(w.storages[0].register().people.len(), 3);
}

#[test]
fn a_failed_write_is_shown_retried_by_one_timer_and_cleared_when_it_goes_through() {
    let mut w = World::new(&[0], false);
    w.settle();
    w.create(0);
    w.finish_write(0, true);
    let status = w.status(0).clone();
    assert!(matches!(status.saved, Saved::Failed(StorageError::Full { .. })));
    assert!(status.problem.unwrap().to_string().contains("storage for the register is full"));
    w.create(0);
    w.finish_write(0, true);
    assert_eq!(w.shells[0].timers, vec![Timer::RetrySave], "one retry timer however many writes fail");
    assert!(w.shells[0].writes.is_empty(), "nothing is written until the timer fires");
    w.fire_timer(0);
    w.finish_write(0, false);
    assert!(matches!(w.status(0).saved, Saved::Saved(Some(_))));
    assert_eq!(w.status(0).problem, None, "the failure is no longer shown");
    assert_eq!(w.storages[0].register().people.len(), 2);
    assert_eq!(w.shells[0].stored_through, 2);
}

#[test]
fn with_no_storage_the_status_never_says_saved() {
    let mut replica = Replica::new(config(false, true));
    let failure = StorageError::Failed { what: "open the register".into(), detail: "blocked".into() };
    replica.handle(now(0), Event::Opened(Err(failure)));
    let edit = Edit::Create { id: "x".into(), record: Person { name: "X".into(), ..Default::default() }.any_record() };
    let effects = replica.handle(now(1), Event::Edit(edit));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Write { .. })));
    assert!(matches!(replica.status().saved, Saved::Failed(StorageError::Unavailable(_))));
    assert!(replica.status().problem.as_ref().unwrap().to_string().contains("kept only while this tab stays open"));
}

#[test]
fn compaction_deletes_only_the_chunks_this_tab_has_folded_in() {
    let mut w = World::new(&[0, 0], false);
    w.settle();
    // The origin's chunk and these: the next write brings tab 0 to the limit.
    for _ in 0..COMPACT_AFTER - 1 {
        w.create(0);
        w.finish_write(0, false);
    }
    // The other tab writes a chunk tab 0 has not heard of yet.
    w.create(1);
    w.finish_write(1, false);
    let unseen = *w.storages[0].chunks.keys().last().unwrap();
    w.shells[0].inbox.clear();
    w.create(0);
    let (_, _, replaces) = w.shells[0].writes.front().cloned().unwrap();
    assert!(replaces.is_empty(), "the edit is written on its own, not held up by a snapshot");
    w.finish_write(0, false);
    assert_eq!(w.shells[0].timers, vec![Timer::Compact]);
    // Once storage stays quiet for a whole spell of the timer, the chunks are folded.
    while w.shells[0].writes.is_empty() && w.fire_timer(0) {}
    let (_, _, replaces) = w.shells[0].writes.front().cloned().expect("a compacting write");
    assert!(!replaces.is_empty(), "the write compacts");
    assert!(!replaces.contains(&ChunkKey(unseen)), "a chunk this tab never read is kept");
    w.finish_write(0, false);
    assert!(w.storages[0].chunks.contains_key(&unseen));
    assert_eq!(w.storages[0].chunks.len(), 2, "the snapshot and the chunk tab 0 never read");
    let stored = w.storages[0].register();
    assert_eq!(stored.people.len(), COMPACT_AFTER + 1);
    assert!(w.shells[0].created.iter().all(|id| stored.people.contains_key(id)), "nothing is lost by folding");
}

#[test]
fn compaction_waits_for_storage_to_be_quiet_but_not_for_ever() {
    let mut w = World::new(&[0], false);
    w.settle();
    for _ in 0..COMPACT_AFTER {
        w.create(0);
        w.finish_write(0, false);
    }
    assert_eq!(w.shells[0].timers, vec![Timer::Compact]);
    // An edit before the timer fires: not quiet, so the timer is set again and nothing folds.
    w.create(0);
    w.finish_write(0, false);
    w.fire_timer(0);
    assert!(w.shells[0].writes.is_empty(), "no snapshot while edits are arriving");
    assert_eq!(w.shells[0].timers, vec![Timer::Compact], "one timer, set again");
    // Edited without a pause: the chunks are folded at the latest limit all the same.
    while w.storages[0].chunks.len() < COMPACT_AT_THE_LATEST {
        w.create(0);
        let (_, _, replaces) = w.shells[0].writes.front().cloned().unwrap();
        assert!(replaces.is_empty());
        w.finish_write(0, false);
    }
    w.create(0);
    let (_, _, replaces) = w.shells[0].writes.front().cloned().unwrap();
    assert_eq!(replaces.len(), COMPACT_AT_THE_LATEST, "every chunk folded with this edit");
    w.finish_write(0, false);
    assert_eq!(w.storages[0].chunks.len(), 1);
    assert_eq!(w.storages[0].register().people.len(), COMPACT_AT_THE_LATEST);
}

#[test]
fn another_tabs_chunk_is_read_and_shown_record_by_record() {
    let mut w = World::new(&[0, 0], false);
    w.settle();
    let id = w.create(0);
    w.finish_write(0, false);
    assert_eq!(w.shells[1].inbox.len(), 1, "the other tab is told");
    let patches = w.shells[1].patches.len();
    w.next_inbox(1);
    w.finish_read(1);
    let patch = &w.shells[1].patches[patches];
    assert!(!patch.whole);
    assert_eq!(patch.put.len(), 1, "only the new record crosses to the page");
    assert!(w.shells[1].page.people.contains_key(&id));
    // Tab 1 has nothing to write: what it read is stored already.
    assert!(w.shells[1].writes.is_empty());
    assert_eq!(w.shells[1].replica.folded().len(), 2);
}

#[test]
fn an_unreadable_chunk_is_reported_the_rest_loads_and_new_edits_are_stored() {
    let mut stored = origin();
    let base = stored.save();
    let heads = stored.heads();
    stored.create("later", Person { name: "Later".into(), ..Default::default() }, T0).unwrap();
    let after = stored.save_after(&heads);
    let mut damaged = after.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    // Junk first, a good save, junk and a damaged chunk after it (which Automerge itself would
    // skip without a word), and a good incremental chunk.
    let chunks = vec![
        Chunk { key: ChunkKey(1), bytes: b"junkjunk".to_vec() },
        Chunk { key: ChunkKey(2), bytes: base },
        Chunk { key: ChunkKey(3), bytes: b"junkjunk".to_vec() },
        Chunk { key: ChunkKey(4), bytes: damaged },
        Chunk { key: ChunkKey(5), bytes: after },
    ];
    let mut replica = Replica::new(config(false, true));
    replica.handle(now(0), Event::Opened(Ok(chunks)));
    assert!(replica.register().risks.contains_key("shared"));
    assert!(replica.register().people.contains_key("later"));
    assert_eq!(replica.register().risks.len(), 1, "the sample never goes over a register that exists");
    let Some(Problem::Unreadable(why)) = &replica.status().problem else { panic!("{:?}", replica.status()) };
    assert!(why.starts_with("3 of 5 stored parts"), "{why}");
    assert!(why.contains("kept aside") && why.contains("missing"), "{why}");
    assert_eq!(replica.folded(), &[ChunkKey(2), ChunkKey(5)], "bad chunks are never folded, so never deleted");
    let edit = Edit::Create { id: "x".into(), record: Person { name: "X".into(), ..Default::default() }.any_record() };
    let effects = replica.handle(now(1), Event::Edit(edit));
    assert!(effects.iter().any(|e| matches!(e, Effect::Write { .. })));
}

#[test]
fn a_browser_whose_every_chunk_is_unreadable_never_gets_the_sample() {
    let mut replica = Replica::new(config(false, true));
    let chunks = vec![Chunk { key: ChunkKey(1), bytes: b"junkjunk".to_vec() }];
    replica.handle(now(0), Event::Opened(Ok(chunks)));
    assert!(replica.register().risks.is_empty());
    assert!(replica.heads().is_empty());
    assert!(matches!(replica.status().problem, Some(Problem::Unreadable(_))));
    let refused = replica.register_to_export().unwrap_err();
    assert!(refused.starts_with("Nothing was exported"), "{refused}");
}

#[test]
fn the_relay_confirms_edits_and_the_unsent_count_follows() {
    let mut w = World::new(&[0, 1], true);
    w.settle();
    assert_eq!(w.status(0).sync, SyncStatus::Connected);
    assert_eq!(w.shells[1].page.risks.len(), 1, "the second device received the register");
    let (_, viewed, _) = reopen(&w.storages[1]);
    assert!(patches(&viewed).first().is_some_and(|p| p.whole && p.put.len() == 1), "and stored a view of it");
    w.drop_connection(0);
    assert!(matches!(w.status(0).sync, SyncStatus::Offline { retry_in: 1 }));
    w.create(0);
    w.create(0);
    assert_eq!(w.status(0).unsent, 2);
    w.settle();
    assert_eq!(w.status(0).sync, SyncStatus::Connected);
    assert_eq!(w.status(0).unsent, 0);
    assert!(w.status(0).last_sync.is_some());
    assert_eq!(w.shells[1].page.people.len(), 2);
    assert_eq!(w.shells[0].replica.relay_heads(), Some(w.shells[0].replica.heads()));
}

#[test]
fn reconnecting_backs_off_and_coming_online_tries_at_once() {
    let mut w = World::new(&[0], true);
    w.settle();
    w.drop_connection(0);
    w.fire_timer(0);
    w.dial(0); // still offline: fails
    assert!(matches!(w.status(0).sync, SyncStatus::Offline { retry_in: 2 }));
    w.fire_timer(0);
    w.dial(0);
    assert!(matches!(w.status(0).sync, SyncStatus::Offline { retry_in: 4 }));
    w.shells[0].online = true;
    w.event(0, Event::Online);
    assert!(w.shells[0].dialling, "back online: dial now");
    w.settle();
    assert_eq!(w.status(0).sync, SyncStatus::Connected);
}

/// The relay's `error` and the close code after it: a passing one (it could not store a
/// change) is shown and retried with backoff until the connection works again; a final one
/// (access revoked) stops the retrying and says why.
#[test]
fn a_passing_error_from_the_relay_is_retried_and_a_final_one_is_not() {
    use shared::protocol::{CLOSE_REFUSED, CLOSE_RETRY};
    let mut w = World::new(&[0], true);
    w.settle();
    let error = |reason: &str| encode(&Message::error(reason));
    w.event(0, Event::RelayMessage(error("storage failed: database or disk is full; the changes were not accepted")));
    w.shells[0].online = false;
    w.event(0, Event::RelayClosed(Some(CLOSE_RETRY)));
    match &w.status(0).sync {
        SyncStatus::Interrupted { reason, retry_in: 1 } => assert!(reason.contains("disk is full")),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.shells[0].timers, vec![Timer::Reconnect]);
    w.create(0);
    w.shells[0].online = true;
    w.settle();
    assert_eq!(w.status(0).sync, SyncStatus::Connected, "the relay took this browser back");
    assert_eq!(w.status(0).unsent, 0, "and the edit made meanwhile");

    w.event(0, Event::RelayMessage(error("this member's access has been revoked")));
    w.event(0, Event::RelayClosed(Some(CLOSE_REFUSED)));
    assert_eq!(w.status(0).sync, SyncStatus::Refused("this member's access has been revoked".into()));
    assert!(w.shells[0].timers.is_empty(), "no retry after a final refusal");
    w.event(0, Event::Online);
    assert!(!w.shells[0].dialling, "not even when the network comes back");
}

#[test]
fn concurrent_values_travel_with_the_patch_of_the_record() {
    let mut w = World::new(&[0, 1], true);
    w.settle();
    w.drop_connection(0);
    w.drop_connection(1);
    w.set_controls(0, "Failover runbook");
    w.set_controls(1, "Second region");
    let before = w.shells[0].patches.len();
    w.settle();
    let carried: Vec<_> = w.shells[0].patches[before..]
        .iter()
        .flat_map(|p| p.conflicts.iter())
        .filter(|(c, id, found)| *c == Kind::Risk && id == "shared" && !found.is_empty())
        .collect();
    let (_, _, found) = carried.last().expect("the merge's patch carries the record's concurrent values");
    assert_eq!(found[0].field, "controls");
    assert_eq!(found[0].values.len(), 2);
    assert_eq!(w.shells[0].page.risks["shared"].controls, w.shells[1].page.risks["shared"].controls);
}

#[test]
fn a_refused_edit_writes_nothing_and_puts_the_record_back() {
    let mut w = World::new(&[0], false);
    w.settle();
    let old = w.shells[0].page.risks["shared"].clone();
    let blank = Risk { title: "  ".into(), ..old.clone() };
    w.event(
        0,
        Event::Edit(Edit::Update { id: "shared".into(), old: old.clone().any_record(), new: blank.any_record() }),
    );
    assert!(w.shells[0].writes.is_empty());
    assert!(matches!(&w.status(0).problem, Some(Problem::Refused(why)) if why.contains("needs a title")));
    let last = w.shells[0].patches.last().unwrap();
    assert!(last.put.iter().any(|(id, r)| id == "shared" && *r == *old.clone().any_record()));
}

#[test]
fn nothing_is_edited_before_the_register_arrives() {
    let mut w = World::new(&[0, 1], true);
    // Device 1 has opened its empty storage but not yet heard from the relay.
    let edit =
        Edit::Create { id: "early".into(), record: Person { name: "Early".into(), ..Default::default() }.any_record() };
    w.event(1, Event::Edit(edit));
    assert_eq!(w.status(1).problem, Some(Problem::NoRegisterYet));
    assert!(w.shells[1].replica.heads().is_empty(), "no collection was made on this device");
    w.settle();
    assert!(w.shells[1].page.risks.contains_key("shared"));
    w.create(1);
    w.settle();
    assert_eq!(w.status(1).problem, None);
    assert_eq!(w.shells[0].page.people.len(), 1, "an edit after the register arrived syncs");
}

#[test]
fn a_viewer_cannot_change_the_register() {
    let mut replica = Replica::new(Config { viewer: true, ..config(false, false) });
    replica.handle(now(0), Event::Opened(Ok(vec![Chunk { key: ChunkKey(1), bytes: origin().save() }])));
    let edit = Edit::Archive { kind: Kind::Risk, id: "shared".into(), archived: true };
    let effects = replica.handle(now(1), Event::Edit(edit));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Write { .. } | Effect::Send(_))));
    assert_eq!(replica.status().problem, Some(Problem::ReadOnly));
    assert!(!replica.register().risks["shared"].archived);
}

#[derive(Clone, Debug)]
enum Op {
    Create(usize),
    Controls(usize),
    Write(usize, bool),
    Read(usize),
    Inbox(usize),
    Timer(usize),
    Dial(usize),
    FromRelay(usize),
    Relay,
    Drop(usize),
    Online(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let shell = 0..3usize;
    prop_oneof![
        3 => shell.clone().prop_map(Op::Create),
        2 => shell.clone().prop_map(Op::Controls),
        4 => (shell.clone(), prop::bool::weighted(0.25)).prop_map(|(s, f)| Op::Write(s, f)),
        2 => shell.clone().prop_map(Op::Read),
        2 => shell.clone().prop_map(Op::Inbox),
        1 => shell.clone().prop_map(Op::Timer),
        2 => shell.clone().prop_map(Op::Dial),
        4 => shell.clone().prop_map(Op::FromRelay),
        4 => Just(Op::Relay),
        1 => shell.clone().prop_map(Op::Drop),
        1 => shell.prop_map(Op::Online),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    /// Two tabs of one browser and a second device, through random interleavings of edits,
    /// writes (some failing), tab chunks, relay messages, dropped connections and timers:
    /// once the faults stop they all show the same register, and every edit a replica
    /// reported stored is in its browser's storage.
    #[test]
    fn three_replicas_converge_and_keep_every_stored_edit(ops in prop::collection::vec(op(), 1..120)) {
        let mut w = World::new(&[0, 0, 1], true);
        let mut n = 0;
        for op in ops {
            n += 1;
            match op {
                // A device that has not received the register yet has nothing to edit.
                Op::Create(i) | Op::Controls(i) if !w.shells[i].page.risks.contains_key("shared") => {}
                Op::Create(i) => { w.create(i); }
                Op::Controls(i) => w.set_controls(i, &format!("controls {n}")),
                Op::Write(i, fail) => { w.finish_write(i, fail); }
                Op::Read(i) => { w.finish_read(i); }
                Op::Inbox(i) => { w.next_inbox(i); }
                Op::Timer(i) => { w.fire_timer(i); }
                Op::Dial(i) => { w.dial(i); }
                Op::FromRelay(i) => { w.deliver_from_relay(i); }
                Op::Relay => { w.relay_step(); }
                Op::Drop(i) => if w.shells[i].online { w.drop_connection(i) },
                Op::Online(i) => if !w.shells[i].online {
                    w.shells[i].online = true;
                    w.event(i, Event::Online);
                },
            }
            // Whatever a replica said is stored is in its browser's storage, now.
            for shell in &w.shells {
                let stored = w.storages[shell.browser].register();
                for id in shell.edits.iter().take(shell.stored_through as usize).flatten() {
                    prop_assert!(stored.people.contains_key(id), "{} was reported stored", id);
                }
            }
        }
        w.settle();
        let heads: Vec<_> = w.shells.iter_mut().map(|s| s.replica.heads()).collect();
        prop_assert_eq!(&heads[0], &heads[1]);
        prop_assert_eq!(&heads[0], &heads[2]);
        for shell in &w.shells {
            prop_assert_eq!(&shell.page, shell.replica.register(), "the page's copy, from patches alone, is the register");
            prop_assert_eq!(shell.status.as_ref().unwrap().unsent, 0);
            for s in &w.shells {
                for id in &s.created {
                    prop_assert!(shell.page.people.contains_key(id));
                }
            }
            prop_assert_eq!(&w.storages[shell.browser].register(), shell.replica.register());
        }
        // A reload, with whatever view the tabs last stored, shows what storage holds.
        for storage in &w.storages {
            let (replica, viewed, opened) = reopen(storage);
            let mut page = Register::default();
            for p in patches(&viewed).into_iter().chain(patches(&opened)) {
                p.clone().apply_to(&mut page);
            }
            prop_assert_eq!(&page, &storage.register());
            prop_assert_eq!(replica.register(), &storage.register());
        }
    }
}

#[test]
fn edits_carry_who_made_them_once_the_person_says_and_reading_writes_nothing() {
    let mut replica = Replica::new(config(false, false));
    let mut stored = origin();
    stored.create("p1", Person { name: "Priya Shah".into(), ..Default::default() }, T0).unwrap();
    replica.handle(now(0), Event::Opened(Ok(vec![Chunk { key: ChunkKey(1), bytes: stored.save() }])));
    replica.handle(now(1), Event::Written { write: 1, result: Ok(ChunkKey(2)) });
    let effects = replica.handle(now(2), Event::Identity(Some("p1".into())));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Write { .. })), "saying who you are writes nothing by itself");
    let shared = replica.register().risks["shared"].clone();
    let edited = Risk { controls: "Checked by Priya".into(), ..shared.clone() };
    let edit = Edit::Update { id: "shared".into(), old: shared.any_record(), new: edited.any_record() };
    replica.handle(now(3), Event::Edit(edit));
    let (history, _) = replica.history(Kind::Risk, "shared").unwrap();
    let edit = history.iter().find(|e| e.new.as_deref() == Some("Checked by Priya")).unwrap();
    assert_eq!(edit.person.as_deref(), Some("p1"));
    assert_eq!(replica.register().actors.values().filter(|p| *p == "p1").count(), 1);
}
