//! Bytes per stored record: the ETS table of the seed `Address` against a hand-written
//! `DashMap<Uuid, HandAddress>`, measured with a counting global allocator (live bytes
//! requested from the system allocator, so allocator overhead is not included on either
//! side). A plain `main` printing a table.
//!
//! The creates are awaited with `ash_rs::block_on`.
//!
//! Run it with `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use ash_rs::block_on;
use ash_rs::prelude::*;
use dashmap::DashMap;

mod common;

use common::seed::*;

/// The system allocator, counting live bytes and live allocations.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_ALLOCS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        LIVE_ALLOCS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The headline size (issue 7's memory bar), then the others for the curve.
const SIZES: [usize; 3] = [100_000, 10_000, 1_000_000];

fn live() -> (isize, isize) {
    (
        LIVE_BYTES.load(Ordering::Relaxed),
        LIVE_ALLOCS.load(Ordering::Relaxed),
    )
}

/// Live bytes and allocations per record after `n` creates through the code interface.
fn ash(n: usize) -> (f64, f64) {
    let (bytes, allocs) = live();
    let domain = Domain::new();
    for _ in 0..n {
        block_on(domain.create_address("FL", "Pinellas")).unwrap();
    }
    let (bytes_after, allocs_after) = live();
    let id = block_on(domain.create_address("FL", "Pinellas"))
        .unwrap()
        .id;
    assert!(block_on(domain.get_address(id)).is_ok());
    drop(domain);
    (
        (bytes_after - bytes) as f64 / n as f64,
        (allocs_after - allocs) as f64 / n as f64,
    )
}

/// The same records inserted into a hand-written map.
fn hand(n: usize) -> (f64, f64) {
    let (bytes, allocs) = live();
    let map: DashMap<Uuid, HandAddress> = DashMap::new();
    for _ in 0..n {
        let record = HandAddress {
            id: Uuid::new_v4(),
            version: 1,
            state: "FL".to_owned(),
            county: "Pinellas".to_owned(),
        };
        map.insert(record.id, record);
    }
    let (bytes_after, allocs_after) = live();
    drop(map);
    (
        (bytes_after - bytes) as f64 / n as f64,
        (allocs_after - allocs) as f64 / n as f64,
    )
}

fn main() {
    // `cargo bench` passes `--bench`; no other argument is taken.
    let mut markdown = String::from(
        "### Memory per stored record (`cargo bench --bench memory`)\n\n\
         Live bytes requested from the allocator after inserting N records, minus before, \
         divided by N (a counting `#[global_allocator]`; malloc's own overhead is not \
         included on either side). Each record is `FL` / `Pinellas`.\n\n\
         | records | ash (bytes/record) | hand (bytes/record) | ash / hand | ash allocs/record | hand allocs/record | bar |\n\
         |---:|---:|---:|---:|---:|---:|---|\n",
    );
    println!(
        "size_of::<Address>() = {}, size_of::<HandAddress>() = {}",
        std::mem::size_of::<Address>(),
        std::mem::size_of::<HandAddress>()
    );
    println!(
        "{:>9} {:>12} {:>12} {:>8} {:>11} {:>11}",
        "records", "ash B/rec", "hand B/rec", "ratio", "ash allocs", "hand allocs"
    );
    for n in SIZES {
        let (ash_bytes, ash_allocs) = ash(n);
        let (hand_bytes, hand_allocs) = hand(n);
        println!(
            "{n:>9} {ash_bytes:>12.1} {hand_bytes:>12.1} {:>7.3}x {ash_allocs:>11.2} {hand_allocs:>11.2}",
            ash_bytes / hand_bytes
        );
        let bar = if n == 100_000 {
            format!("1.1x: **{}**", common::verdict(ash_bytes / hand_bytes, 1.1))
        } else {
            "-".to_owned()
        };
        markdown.push_str(&format!(
            "| {n} | {ash_bytes:.1} | {hand_bytes:.1} | {:.3}x | {ash_allocs:.2} | {hand_allocs:.2} | {bar} |\n",
            ash_bytes / hand_bytes
        ));
    }
    markdown.push_str(&format!(
        "\n`size_of::<Address>()` = {}, `size_of::<HandAddress>()` = {}. The bytes per \
         record move with N because both maps grow their shards by doubling.\n\n",
        std::mem::size_of::<Address>(),
        std::mem::size_of::<HandAddress>()
    ));
    common::append_report(&markdown);
}
