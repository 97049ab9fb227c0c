//! Threads racing on one record: the compare and the write are one atomic step, so exactly
//! one writer per version wins and no update is ever lost.

use ash_rs::prelude::*;
use std::sync::{Arc, Barrier};
use std::thread;

#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [name]),
    update(update, accept = [name, counter], change = optimistic_lock(version)),
    destroy(destroy, change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    #[attribute(default = 0)]
    pub counter: i64,
    pub name: String,
}

#[domain]
#[resources(Counter(
    define(create_counter, action = create, args = [name]),
    define(get_counter, action = read, get_by = [id]),
    define(update_counter, action = update),
    define(destroy_counter, action = destroy),
))]
pub struct Domain;

#[test]
fn eight_writers_with_the_same_snapshot_give_one_success() {
    for _round in 0..20 {
        let domain = Domain::new();
        let snapshot = domain.create_counter("c").unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (domain, snapshot, barrier) =
                    (domain.clone(), snapshot.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    domain.update_counter(
                        &snapshot,
                        CounterUpdateInput::new().name(format!("writer {i}")),
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let successes: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let stale = results
            .iter()
            .filter(|r| r.as_ref().is_err_and(Error::is_stale))
            .count();
        assert_eq!(successes.len(), 1);
        assert_eq!(stale, 7);
        let stored = domain.get_counter(snapshot.id).unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(&stored, successes[0]);
    }
}

#[test]
fn retrying_increments_lose_no_update() {
    const THREADS: usize = 4;
    const INCREMENTS: usize = 5_000;
    let domain = Domain::new();
    let id = domain.create_counter("c").unwrap().id;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (domain, barrier) = (domain.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let (mut successes, mut retries) = (0u64, 0u64);
                for _ in 0..INCREMENTS {
                    loop {
                        let current = domain.get_counter(id).unwrap();
                        let next = CounterUpdateInput::new().counter(current.counter + 1);
                        match domain.update_counter(&current, next) {
                            Ok(_) => {
                                successes += 1;
                                break;
                            }
                            Err(e) if e.is_stale() => retries += 1,
                            Err(e) => panic!("unexpected error: {e}"),
                        }
                    }
                }
                (successes, retries)
            })
        })
        .collect();
    let totals: Vec<(u64, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let successes: u64 = totals.iter().map(|t| t.0).sum();
    assert_eq!(successes, (THREADS * INCREMENTS) as u64);
    let stored = domain.get_counter(id).unwrap();
    assert_eq!(
        stored.counter as u64, successes,
        "every acknowledged increment is stored"
    );
    assert_eq!(stored.version as u64, 1 + successes);
}

#[test]
fn racing_stale_destroys_and_updates_leave_a_consistent_table() {
    for _round in 0..20 {
        let domain = Domain::new();
        let snapshot = domain.create_counter("c").unwrap();
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (domain, snapshot, barrier) =
                    (domain.clone(), snapshot.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    if i % 2 == 0 {
                        domain.destroy_counter(&snapshot).map(|_| ())
                    } else {
                        domain
                            .update_counter(&snapshot, CounterUpdateInput::new())
                            .map(|_| ())
                    }
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(Error::is_stale));
        match domain.get_counter(snapshot.id) {
            Ok(stored) => assert_eq!(stored.version, 2, "the update won"),
            Err(e) => assert!(e.is_not_found(), "the destroy won"),
        }
    }
}
