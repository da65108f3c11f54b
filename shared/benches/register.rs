//! Criterion benchmarks of the register document at scale: a generated register of 10,000
//! records carrying 100,000 changes. Results and the command are in docs/BENCHMARKS.md.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use shared::*;
use std::hint::black_box;
use std::sync::OnceLock;

const T0: i64 = 1_795_000_000;

/// `records` records (`sample::generated`), then field edits until there are `changes` changes.
fn generate(records: usize, changes: usize) -> RegisterDoc {
    let mut doc = sample::generated(records, T0).unwrap();
    // Field edits spread over the risks, each its own change.
    let risks: Vec<usize> = (0..records).filter(|i| i % 10 <= 5).collect();
    for n in 0..changes.saturating_sub(records + 1) {
        let i = risks[(n * 7919) % risks.len()];
        edit(&mut doc, i, n);
    }
    doc
}

/// A record to create in the timed loop.
fn risk(i: usize) -> Risk {
    Risk::titled(format!("Risk {i}"))
}

fn edit(doc: &mut RegisterDoc, i: usize, n: usize) {
    let id = format!("rec-{i:05}");
    doc.update::<Risk>(&id, T0 + n as i64, |r| {
        r.residual_impact = (n % 5) as u8 + 1;
        r.controls = format!("Control revision {n}");
    })
    .unwrap();
}

fn big() -> &'static [u8] {
    static SAVED: OnceLock<Vec<u8>> = OnceLock::new();
    SAVED.get_or_init(|| generate(10_000, 100_000).save())
}

fn benches(c: &mut Criterion) {
    let saved = big();
    eprintln!("10,000 records, 100,000 changes: {} bytes saved", saved.len());
    let mut group = c.benchmark_group("register_10k");
    group.sample_size(10);

    let mut doc = RegisterDoc::load(saved).unwrap();
    group.bench_function("save", |b| b.iter(|| black_box(doc.save())));
    group.bench_function("load", |b| b.iter(|| black_box(RegisterDoc::load(saved).unwrap())));
    group.bench_function("hydrate whole register", |b| b.iter(|| black_box(doc.register().unwrap())));
    group.bench_function("read one record", |b| b.iter(|| black_box(doc.get::<Risk>("rec-04321").unwrap())));
    // The first history read after loading indexes every change by the objects it touched;
    // later reads decode only the record's own changes (and index what arrived since).
    group.bench_function("history of one record, first read after loading", |b| {
        b.iter_batched(
            || RegisterDoc::load(saved).unwrap(),
            |mut fresh| black_box(fresh.history::<Risk>("rec-04320").unwrap()),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("history of one record", |b| b.iter(|| black_box(doc.history::<Risk>("rec-04320").unwrap())));
    let mid = Date(chrono::DateTime::from_timestamp(T0 + 50_000, 0).unwrap().date_naive());
    group.bench_function("register as of a date", |b| b.iter(|| black_box(doc.as_of(mid).unwrap())));
    let mut n = 0;
    group.bench_function("one field edit", |b| {
        b.iter(|| {
            n += 1;
            doc.update::<Risk>("rec-04321", T0, |r| r.controls = format!("Edit {n}")).unwrap()
        })
    });
    let mut created = 0;
    group.bench_function("create one record", |b| {
        b.iter(|| {
            created += 1;
            doc.create(&format!("new-{created}"), risk(created), T0).unwrap()
        })
    });
    group.bench_function("merge 1,000 divergent edits each way", |b| {
        b.iter_batched(
            || {
                let mut a = RegisterDoc::load(saved).unwrap();
                let mut other = a.fork();
                for n in 0..1_000 {
                    edit(&mut a, (n * 13) % 6_000 / 6 * 10, n);
                    edit(&mut other, (n * 17) % 6_000 / 6 * 10 + 1, n + 1_000_000);
                }
                (a, other)
            },
            |(mut a, mut other)| {
                a.merge(&mut other).unwrap();
                other.merge(&mut a).unwrap();
                black_box((a, other))
            },
            BatchSize::PerIteration,
        )
    });
    // What the page works out from the whole register whenever it changes (the navigation's
    // counts, Today, Findings, the calendar).
    let register = doc.register().unwrap();
    let now = shared::date::Now::noon(Date::parse("2026-12-01").unwrap());
    group.bench_function("findings", |b| b.iter(|| black_box(findings(&register, now))));
    group.bench_function("obligations", |b| b.iter(|| black_box(calendar::obligations(&register, now.today))));

    // A colleague's edit arriving by the sync protocol, as the register worker takes it in:
    // the sync message applied, what changed found, the copy of the register brought up to
    // date, and the reply (the relay's acknowledgement) generated.
    {
        use automerge::sync::{self, SyncDoc};
        let mut mine = RegisterDoc::load(saved).unwrap();
        let mut theirs = RegisterDoc::load(saved).unwrap();
        theirs.automerge().set_actor(automerge::ActorId::from(b"colleague".as_slice()));
        let (mut my_state, mut their_state) = (sync::State::new(), sync::State::new());
        let sync_up = |mine: &mut RegisterDoc,
                       theirs: &mut RegisterDoc,
                       my_state: &mut sync::State,
                       their_state: &mut sync::State| loop {
            let a = mine.automerge().sync().generate_sync_message(my_state);
            let b = theirs.automerge().sync().generate_sync_message(their_state);
            if a.is_none() && b.is_none() {
                break;
            }
            if let Some(a) = a {
                theirs.automerge().sync().receive_sync_message(their_state, a).unwrap();
            }
            if let Some(b) = b {
                mine.automerge().sync().receive_sync_message(my_state, b).unwrap();
            }
        };
        sync_up(&mut mine, &mut theirs, &mut my_state, &mut their_state);
        let mut copy = mine.register().unwrap();
        // Both closures below reach the colleague's side: one edits, one acknowledges.
        let colleague = std::cell::RefCell::new((theirs, their_state));
        let mut n = 0;
        group.bench_function("take in a colleague's edit by sync", |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let (theirs, their_state) = &mut *colleague.borrow_mut();
                    edit(theirs, (n * 31) % 6_000 / 6 * 10, n + 2_000_000);
                    theirs.automerge().sync().generate_sync_message(their_state).unwrap()
                },
                |message| {
                    let before = mine.heads();
                    mine.automerge().sync().receive_sync_message(&mut my_state, message).unwrap();
                    let changed = mine.changed_since(&before);
                    mine.refresh(&mut copy, &changed).unwrap();
                    let reply = mine.automerge().sync().generate_sync_message(&mut my_state);
                    if let Some(reply) = reply.clone() {
                        let (theirs, their_state) = &mut *colleague.borrow_mut();
                        theirs.automerge().sync().receive_sync_message(their_state, reply).unwrap();
                    }
                    black_box(reply)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    // The same edit on a small register: the cost of an edit must not grow with the register.
    let mut small = generate(100, 1_000);
    let mut group = c.benchmark_group("register_100");
    let mut n = 0;
    group.bench_function("one field edit", |b| {
        b.iter(|| {
            n += 1;
            small.update::<Risk>("rec-00042", T0, |r| r.controls = format!("Edit {n}")).unwrap()
        })
    });
    let mut created = 0;
    group.bench_function("create one record", |b| {
        b.iter(|| {
            created += 1;
            small.create(&format!("new-{created}"), risk(created), T0).unwrap()
        })
    });
    group.finish();
}

criterion_group!(register, benches);
criterion_main!(register);
