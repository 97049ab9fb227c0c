//! The sync way in, and the `Send` promise of every future.
//!
//! - Sync code (a CLI, a script, a plain `#[test]`) drives the ETS layer with
//!   `ash_rs::block_on`, no runtime: the seed step by step.
//! - Every future the code interface and `ash_rs::api` return is `Send`, so it can be
//!   spawned on a multi-thread runtime; a domain value is `Send + Sync + Clone + 'static`.

use ash_rs::block_on;
use ash_rs::error::ErrorKind;
use ash_rs::prelude::*;

#[resource(domain = Domain, data_layer = Ets)]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
    destroy(destroy, change = optimistic_lock(version)),
    read(by_state, argument(state: String), filter = Address::STATE.eq(args.state.clone().unwrap_or_default())),
    read(only_one, get = true),
    read(pages, pagination(offset, keyset, default_limit = 2, countable)),
    update(hooked, accept = [county], change = async_hooks),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
}

/// Async hooks on both sides of the write: the action's future stays `Send` with them.
fn async_hooks(changeset: &mut Changeset<Address>) {
    changeset.before_action_async(|mut changeset| async move {
        if let Some(county) = &mut changeset.changes_mut().county {
            county.push_str(" (before)");
        }
        changeset
    });
    changeset.after_action_async(|mut record: Address, _ctx: Context| async move {
        record.county.push_str(" (after)");
        Ok(record)
    });
}

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(find_address, action = read, get_by = [id], not_found_error = false),
    define(create_address, action = create, args = [state, county]),
    define(create_address_from, action = create),
    define(update_address, action = update),
    define(update_address_by_id, action = update, get_by = [id]),
    define(destroy_address, action = destroy),
    define(destroy_address_by_id, action = destroy, get_by = [id]),
    define(list_addresses, action = read),
    define(addresses_in, action = by_state, args = [state]),
    define(only_one),
    define(address_pages, action = pages),
    define(hooked, args = [county]),
))]
pub struct Domain;

/// The seed from sync code: no runtime, one `block_on` per call.
#[test]
fn the_seed_through_block_on_without_a_runtime() {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "this test runs outside any runtime"
    );
    let domain = Domain::new();
    let address = block_on(domain.create_address("FL", "Pinellas")).unwrap();
    assert_eq!(
        (
            address.version,
            address.state.as_str(),
            address.county.as_str()
        ),
        (1, "FL", "Pinellas")
    );

    let updated = block_on(domain.update_address(
        &address,
        AddressUpdateInput::new().state("NC").county("Guilford"),
    ))
    .unwrap();
    assert_eq!((updated.version, updated.state.as_str()), (2, "NC"));

    // The stale copy is refused, and nothing is written.
    let err =
        block_on(domain.update_address(&address, AddressUpdateInput::new().county("Miami-Dade")))
            .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { errors } if matches!(&errors[..], [ErrorKind::StaleRecord(_)])),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Invalid Error\n\n* Attempted to update stale record of Address with filter: version == 1"
    );
    assert_eq!(block_on(domain.get_address(address.id)).unwrap(), updated);

    // Refetch and retry.
    let fresh = block_on(domain.get_address(address.id)).unwrap();
    let retried =
        block_on(domain.update_address(&fresh, AddressUpdateInput::new().county("Miami-Dade")))
            .unwrap();
    assert_eq!(retried.version, 3);

    // A destroy with the stale copy is refused too; with the fresh one it goes.
    assert!(block_on(domain.destroy_address(&updated))
        .unwrap_err()
        .is_stale());
    block_on(domain.destroy_address(&retried)).unwrap();
    assert!(block_on(domain.get_address(address.id))
        .unwrap_err()
        .is_not_found());
    assert_eq!(block_on(domain.find_address(address.id)).unwrap(), None);
    assert!(block_on(domain.list_addresses()).unwrap().is_empty());
}

/// `block_on` runs whole async blocks too, with hooks, pages and `ash_rs::api`, and the
/// no-op ETS transaction.
#[test]
fn async_blocks_hooks_pages_and_transactions_through_block_on() {
    let domain = Domain::new();
    let result: Result<(), Error> = block_on(async {
        let a = domain.create_address("FL", "Pinellas").await?;
        domain.create_address("NC", "Guilford").await?;
        let hooked = domain.hooked(&a, "Dade").await?;
        assert_eq!(hooked.county, "Dade (before) (after)");
        let page = domain.address_pages(PageRequest::offset(0).count()).await?;
        assert_eq!((page.results.len(), page.count), (2, Some(2)));
        let fl = ash_rs::api::read(
            &domain,
            AddressReadInput::new(),
            Query::new().filter(Address::STATE.eq("FL")),
        )
        .await?;
        assert_eq!(fl.len(), 1);
        assert_eq!(domain.addresses_in("NC").await?.len(), 1);

        let tx = domain.begin().await?;
        assert!(!tx.is_real(), "ETS has no transactions");
        let d = domain.with_transaction(&tx);
        d.create_address("CA", "Marin").await?;
        tx.rollback().await?;
        Ok(())
    });
    result.unwrap();
    // On ETS a rolled-back transaction undoes nothing: each write stays as made.
    assert_eq!(block_on(domain.list_addresses()).unwrap().len(), 3);
}

/// Many OS threads, each driving its own calls with `block_on`, racing on one record:
/// exactly one writer per version wins.
#[test]
fn block_on_from_many_threads_loses_no_update() {
    const THREADS: usize = 4;
    const INCREMENTS: usize = 500;
    let domain = Domain::new();
    let id = block_on(domain.create_address("FL", "0")).unwrap().id;
    let barrier = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..INCREMENTS {
                    loop {
                        let current = block_on(domain.get_address(id)).unwrap();
                        let next: u64 = current.county.parse().unwrap();
                        let input = AddressUpdateInput::new().county((next + 1).to_string());
                        match block_on(domain.update_address(&current, input)) {
                            Ok(_) => break,
                            Err(e) if e.is_stale() => continue,
                            Err(e) => panic!("unexpected error: {e}"),
                        }
                    }
                }
            });
        }
    });
    let stored = block_on(domain.get_address(id)).unwrap();
    assert_eq!(stored.county, (THREADS * INCREMENTS).to_string());
    assert_eq!(stored.version as usize, 1 + THREADS * INCREMENTS);
}

fn assert_send<T: Send>(_: &T) {}

/// Every generated method's future and every `ash_rs::api` future is `Send`: checked on the
/// futures themselves (borrowing the domain), without running them.
#[test]
fn every_future_is_send() {
    fn assert_domain<T: Send + Sync + Clone + 'static>() {}
    assert_domain::<Domain>();

    let domain = Domain::new();
    let record = block_on(domain.create_address("FL", "Pinellas")).unwrap();
    let id = record.id;

    assert_send(&domain.get_address(id));
    assert_send(&domain.find_address(id));
    assert_send(&domain.create_address("FL", "Pinellas"));
    assert_send(&domain.create_address_from(AddressCreateInput::new()));
    assert_send(&domain.update_address(&record, AddressUpdateInput::new()));
    assert_send(&domain.update_address_by_id(id, AddressUpdateInput::new()));
    assert_send(&domain.destroy_address(&record));
    assert_send(&domain.destroy_address_by_id(id));
    assert_send(&domain.list_addresses());
    assert_send(&domain.addresses_in("FL"));
    assert_send(&domain.only_one());
    assert_send(&domain.address_pages(PageRequest::first()));
    assert_send(&domain.hooked(&record, "x"));
    assert_send(&domain.begin());
    assert_send(&Domain::connect(&()));

    assert_send(&ash_rs::api::create(&domain, AddressCreateInput::new()));
    assert_send(&ash_rs::api::update(
        &domain,
        &record,
        AddressUpdateInput::new(),
    ));
    assert_send(&ash_rs::api::update(
        &domain,
        &record,
        AddressHookedInput::new(),
    ));
    assert_send(&ash_rs::api::destroy(
        &domain,
        &record,
        AddressDestroyInput::new(),
    ));
    assert_send(&ash_rs::api::read(
        &domain,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::api::read_one(
        &domain,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::api::get(
        &domain,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::api::read_page(
        &domain,
        AddressPagesInput::new(),
        Query::new(),
        PageRequest::first(),
    ));

    // The lower-level pipeline too.
    let layer = ash_rs::domain::HasResource::<Address>::data_layer(&domain);
    let ctx = Context::new();
    assert_send(&ash_rs::action::create(
        layer,
        &ctx,
        AddressCreateInput::new(),
    ));
    assert_send(&ash_rs::action::update(
        layer,
        &ctx,
        &record,
        AddressUpdateInput::new(),
    ));
    assert_send(&ash_rs::action::destroy(
        layer,
        &ctx,
        &record,
        AddressDestroyInput::new(),
    ));
    assert_send(&ash_rs::action::read(
        layer,
        &ctx,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::action::read_one(
        layer,
        &ctx,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::action::get(
        layer,
        &ctx,
        AddressReadInput::new(),
        Query::new(),
    ));
    assert_send(&ash_rs::action::read_page(
        layer,
        &ctx,
        AddressPagesInput::new(),
        Query::new(),
        PageRequest::first(),
    ));
}

/// The same calls, spawned as tasks on a multi-thread runtime (which requires `Send +
/// 'static`), each awaited in a task that owns a clone of the domain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_runs_as_a_spawned_task() {
    let domain = Domain::new();
    let d = domain.clone();
    let record = tokio::spawn(async move { d.create_address("FL", "Pinellas").await })
        .await
        .unwrap()
        .unwrap();
    let id = record.id;

    // Runs `$body` in a spawned task owning a clone of the domain and of each `$v`.
    macro_rules! spawn {
        (|$d:ident $(, $v:ident)*| $body:expr) => {{
            let $d = domain.clone();
            $( let $v = $v.clone(); )*
            tokio::spawn(async move { $body.await })
                .await
                .expect("the task ran to completion")
        }};
    }

    let record = {
        let record =
            spawn!(|d, record| d.update_address(&record, AddressUpdateInput::new().state("NC")))
                .unwrap();
        assert_eq!(record.version, 2);
        record
    };
    assert_eq!(spawn!(|d| d.get_address(id)).unwrap(), record);
    assert_eq!(
        spawn!(|d| d.find_address(id)).unwrap(),
        Some(record.clone())
    );
    assert_eq!(spawn!(|d| d.list_addresses()).unwrap().len(), 1);
    assert_eq!(spawn!(|d| d.addresses_in("NC")).unwrap().len(), 1);
    assert_eq!(spawn!(|d| d.only_one()).unwrap(), record);
    assert_eq!(
        spawn!(|d| d.address_pages(PageRequest::first()))
            .unwrap()
            .results,
        vec![record.clone()]
    );
    let hooked = spawn!(|d, record| d.hooked(&record, "Dade")).unwrap();
    assert_eq!(hooked.county, "Dade (before) (after)");
    // `hooked` has no lock: the version is still 2; the update by id reads the fresh
    // record (with the hooked county) and bumps it.
    let record = spawn!(|d| d.update_address_by_id(id, AddressUpdateInput::new())).unwrap();
    assert_eq!(
        (record.version, record.county.as_str()),
        (3, "Dade (before)")
    );
    let created =
        spawn!(|d| d.create_address_from(AddressCreateInput::new().state("CA").county("Marin")))
            .unwrap();

    let read = spawn!(|d| ash_rs::api::read(&d, AddressReadInput::new(), Query::new())).unwrap();
    assert_eq!(read.len(), 2);
    let one = spawn!(|d| ash_rs::api::read_one(
        &d,
        AddressReadInput::new(),
        Query::new().filter(Address::ID.eq(id))
    ))
    .unwrap();
    assert_eq!(one, Some(record.clone()));
    let got = spawn!(|d| ash_rs::api::get(
        &d,
        AddressReadInput::new(),
        Query::new().filter(Address::STATE.eq("CA"))
    ))
    .unwrap();
    assert_eq!(got, created);
    let page = spawn!(|d| ash_rs::api::read_page(
        &d,
        AddressPagesInput::new(),
        Query::new(),
        PageRequest::offset(0).count()
    ))
    .unwrap();
    assert_eq!(page.count, Some(2));
    let made =
        spawn!(|d| ash_rs::api::create(&d, AddressCreateInput::new().state("NY").county("Kings")))
            .unwrap();
    let made = spawn!(|d, made| ash_rs::api::update(&d, &made, AddressUpdateInput::new())).unwrap();
    spawn!(|d, made| ash_rs::api::destroy(&d, &made, AddressDestroyInput::new())).unwrap();

    spawn!(|d, record| d.destroy_address(&record)).unwrap();
    spawn!(|d| d.destroy_address_by_id(created.id)).unwrap();
    assert!(spawn!(|d| d.list_addresses()).unwrap().is_empty());

    let tx = spawn!(|d| d.begin()).unwrap();
    tx.commit().await.unwrap();
    let connected = tokio::spawn(async { Domain::connect(&()).await })
        .await
        .unwrap()
        .unwrap();
    assert!(connected.list_addresses().await.unwrap().is_empty());
}
