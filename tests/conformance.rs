//! One conformance suite for every data layer: the same resources, domain and test bodies,
//! expanded once for ETS and once for PostgreSQL (`conformance!` below). It covers the
//! behaviour table of DESIGN.md section 4, writers racing on one record (OS threads on the
//! sync path, and tasks on a multi-thread runtime), reads (filters, sort, limit, offset) and
//! hostile strings. Tests are `#[tokio::test]`s; the OS-thread ones are plain `#[test]`s
//! calling each layer's `block_on`.
//!
//! The ETS half always runs; the PostgreSQL half needs the `postgres` feature (on by
//! default). PostgreSQL tests use `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! each in a schema of its own; without a server they print one line and pass, unless `CI`
//! is set.

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! conformance {
    (
        data_layer = [$($data_layer:tt)*],
        stale_rounds = $stale_rounds:expr,
        threads = $threads:expr,
        increments = $increments:expr $(,)?
    ) => {
        use ash_rs::error::{ErrorKind, InputType};
        use ash_rs::data_layer::DataLayer;
        use ash_rs::filter::CmpOp;
        use ash_rs::prelude::*;
        use ash_rs::value::Value;
        use std::sync::{Arc, Barrier};
        use std::thread;

        // Action-level locks on update and destroy, plus unlocked actions of both types.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, create = [title]),
            update(update, accept = [title], change = optimistic_lock(version)),
            update(rename, accept = [title]),
            destroy(destroy, change = optimistic_lock(version)),
            destroy(force_destroy),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Doc {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
            pub summary: Option<String>,
        }

        // A global lock on every action type.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title], update = [title], destroy))]
        #[changes(optimistic_lock(version, on = [create, update, destroy]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Note {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
        }

        // A global lock with the default `on`: create and update, not destroy.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title], update = [title], destroy))]
        #[changes(optimistic_lock(version))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Memo {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
        }

        // A global lock on a list of actions; `action_is` is still limited by `on` (naming
        // `archive` here, a destroy action, would be a compile error: see
        // tests/ui/changes/action_is_excluded_by_on.rs), so `archive` is not locked.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, create = [title]),
            update(publish, accept = [title]),
            update(edit, accept = [title]),
            destroy(archive),
        )]
        #[changes(optimistic_lock(version, where = action_is([publish])))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
        }

        // `on` widened to destroy, with `action_is`.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title]), destroy(archive), destroy(purge))]
        #[changes(optimistic_lock(version, on = [destroy], where = action_is([archive])))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Page {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
        }

        // A natural primary key, to create duplicates; the version is writable to test
        // overflow.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, create = [code, name, version]),
            update(update, accept = [name], change = optimistic_lock(version)),
            update(recode, accept = [name], change = recode_to_de),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Country {
            #[primary_key]
            pub code: String,
            #[attribute(default = 1)]
            pub version: i64,
            pub name: String,
        }

        /// A change writing the primary key: an update must refuse it, the same way in
        /// every data layer (the macro refuses it in `accept` at compile time).
        fn recode_to_de(changeset: &mut Changeset<Country>) {
            changeset.changes_mut().code = Some("DE".into());
        }

        // Identities and an upsert on one of them.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, create = [email, name]),
            create(join, accept = [email, name], upsert = true, upsert_identity = unique_email, upsert_fields = [name]),
            update(update, accept = [email, name]),
        )]
        #[identities(identity(unique_email, [email]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Member {
            #[uuid_primary_key]
            pub id: Uuid,
            pub email: String,
            pub name: String,
        }

        // The record threads race on.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
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

        // Records to query: a nilable column, a list, strings that sort by code point.
        #[resource(domain = Locks, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name, rank, score, tags], update = [name]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Item {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
            pub rank: i64,
            pub score: Option<i64>,
            pub tags: Vec<String>,
        }

        #[domain]
        #[resources(
            Doc(
                define(create_doc, action = create, args = [title]),
                define(create_doc_from, action = create),
                define(get_doc, action = read, get_by = [id]),
                define(find_doc_by_title, action = read, get_by = [title], not_found_error = false),
                define(get_doc_by_title, action = read, get_by = [title]),
                define(list_docs, action = read),
                define(update_doc, action = update),
                define(update_doc_by_id, action = update, get_by = [id]),
                define(rename_doc, action = rename, args = [title]),
                define(destroy_doc, action = destroy),
                define(force_destroy_doc, action = force_destroy),
            ),
            Note(
                define(create_note, action = create, args = [title]),
                define(get_note, action = read, get_by = [id]),
                define(update_note, action = update, args = [title]),
                define(destroy_note, action = destroy),
            ),
            Memo(
                define(create_memo, action = create, args = [title]),
                define(update_memo, action = update, args = [title]),
                define(destroy_memo, action = destroy),
                define(get_memo, action = read, get_by = [id], not_found_error = false),
            ),
            Post(
                define(create_post, action = create, args = [title]),
                define(publish, args = [title]),
                define(edit, args = [title]),
                define(archive),
                define(get_post, action = read, get_by = [id], not_found_error = false),
            ),
            Page(
                define(create_page, action = create, args = [title]),
                define(archive_page, action = archive),
                define(purge_page, action = purge),
                define(get_page, action = read, get_by = [id], not_found_error = false),
            ),
            Country(
                define(create_country, action = create, args = [code, name]),
                define(create_country_with, action = create),
                define(get_country, action = read, get_by = [code]),
                define(update_country, action = update, args = [name]),
                define(recode_country, action = recode, args = [name]),
            ),
            Member(
                define(create_member, action = create, args = [email, name]),
                define(join, args = [email, name]),
                define(member_by_email, action = read, get_by_identity = unique_email, not_found_error = false),
                define(members, action = read),
                define(update_member, action = update, args = [email, name]),
            ),
            Counter(
                define(create_counter, action = create, args = [name]),
                define(get_counter, action = read, get_by = [id]),
                define(update_counter, action = update),
                define(destroy_counter, action = destroy),
            ),
            Item(
                define(create_item, action = create, args = [name, rank]),
                define(get_item, action = read, get_by = [id]),
                define(update_item, action = update, args = [name]),
            ),
        )]
        pub struct Locks;

        fn stale(err: &Error) -> &ash_rs::error::StaleRecord {
            assert!(
                matches!(err, Error::Invalid { .. }),
                "expected Invalid, got {err:?}"
            );
            assert_eq!(err.errors().len(), 1, "{err:?}");
            err.stale_record()
                .unwrap_or_else(|| panic!("expected StaleRecord, got {err:?}"))
        }

        // -------------------------------------------------------------------------------
        // The behaviour table (DESIGN.md section 4).

        #[tokio::test]
        async fn create_stores_the_default_version() {
            let Some((d, _env)) = setup().await else { return };
            assert_eq!(d.create_doc("a").await.unwrap().version, 1);
            // Even with the lock applied to create, the version keeps its default.
            assert_eq!(d.create_note("a").await.unwrap().version, 1);
            assert_eq!(d.create_memo("a").await.unwrap().version, 1);
        }

        #[tokio::test]
        async fn update_with_matching_version_bumps_it_also_when_nothing_else_changes() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            let same = d.update_doc(&doc, DocUpdateInput::new()).await.unwrap();
            assert_eq!((same.version, same.title.as_str()), (2, "a"));
            let changed = d
                .update_doc(&same, DocUpdateInput::new().title("b"))
                .await
                .unwrap();
            assert_eq!((changed.version, changed.title.as_str()), (3, "b"));
            assert_eq!(d.get_doc(doc.id).await.unwrap(), changed);
        }

        /// A doc updated once (`a` -> `b`), then its first copy's refused update to `c`:
        /// the stale copy, the stored doc and the error.
        async fn refused_update(d: &Locks) -> (Doc, Doc, Error) {
            let doc = d.create_doc("a").await.unwrap();
            let fresh = d
                .update_doc(&doc, DocUpdateInput::new().title("b"))
                .await
                .unwrap();
            let err = d
                .update_doc(&doc, DocUpdateInput::new().title("c"))
                .await
                .unwrap_err();
            (doc, fresh, err)
        }

        #[tokio::test]
        async fn stale_update_is_refused_and_writes_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let (doc, fresh, err) = refused_update(&d).await;
            let s = stale(&err);
            assert_eq!(s.resource, "Doc");
            assert_eq!(s.filter.get("version"), Some(&Value::Int(1)));
            assert_eq!(
                s.to_string(),
                "Attempted to update stale record of Doc with filter: version == 1"
            );
            assert_eq!(d.get_doc(doc.id).await.unwrap(), fresh);
            assert!(d
                .update_doc(&doc, DocUpdateInput::new())
                .await
                .unwrap_err()
                .is_stale());
            assert_eq!(d.get_doc(doc.id).await.unwrap(), fresh);
        }

        #[tokio::test]
        async fn a_stale_refusal_carries_the_stored_record_to_retry_from() {
            let Some((d, _env)) = setup().await else { return };
            let (doc, fresh, err) = refused_update(&d).await;
            assert_eq!(err.stored_record::<Doc>(), Some(&fresh));
            // Only as its own type; not in what the error shows.
            assert_eq!(err.stored_record::<Note>(), None);
            assert!(!format!("{err:?}").contains("\"b\""), "{err:?}");
            assert!(!serde_json::to_string(&err).unwrap().contains("\"b\""));
            // The retry starts from it, with no read in between.
            let retried = d
                .update_doc(err.stored_record::<Doc>().unwrap(), DocUpdateInput::new().title("c"))
                .await
                .unwrap();
            assert_eq!((retried.version, retried.title.as_str()), (3, "c"));
            // A stale destroy carries it too, and leaves the row.
            let err = d.destroy_doc(&fresh).await.unwrap_err();
            assert_eq!(err.stored_record::<Doc>(), Some(&retried));
            assert_eq!(d.get_doc(doc.id).await.unwrap(), retried);
            // A record that no longer exists has none.
            d.force_destroy_doc(&retried).await.unwrap();
            let err = d.update_doc(&retried, DocUpdateInput::new()).await.unwrap_err();
            assert!(err.is_stale());
            assert_eq!(err.stored_record::<Doc>(), None);
            let err = d.destroy_doc(&retried).await.unwrap_err();
            assert_eq!(err.stored_record::<Doc>(), None);
        }

        #[tokio::test]
        async fn actions_without_the_lock_do_not_check_or_bump() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            let renamed = d.rename_doc(&doc, "b").await.unwrap();
            assert_eq!(renamed.version, 1);
            let again = d.rename_doc(&doc, "c").await.unwrap();
            assert_eq!((again.version, again.title.as_str()), (1, "c"));
        }

        #[tokio::test]
        async fn update_or_destroy_of_a_missing_record_is_stale_with_the_primary_key() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            d.force_destroy_doc(&doc).await.unwrap();
            let err = d
                .update_doc(&doc, DocUpdateInput::new().title("b"))
                .await
                .unwrap_err();
            let s = stale(&err);
            assert_eq!(s.filter.get("id"), Some(&Value::Uuid(doc.id)));
            assert_eq!(
                s.to_string(),
                format!(
                    "Attempted to update stale record of Doc with filter: id == \"{}\"",
                    doc.id
                )
            );
            // An unlocked update of a missing record too.
            let err = d.rename_doc(&doc, "x").await.unwrap_err();
            assert_eq!(stale(&err).filter.get("id"), Some(&Value::Uuid(doc.id)));
            let err = d.destroy_doc(&doc).await.unwrap_err();
            assert_eq!(stale(&err).operation, "destroy");
            assert_eq!(stale(&err).filter.get("id"), Some(&Value::Uuid(doc.id)));
            assert!(d.force_destroy_doc(&doc).await.unwrap_err().is_stale());
            assert!(d.list_docs().await.unwrap().is_empty());
        }

        #[tokio::test]
        async fn destroy_with_the_lock_compares_only() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            let fresh = d
                .update_doc(&doc, DocUpdateInput::new().title("b"))
                .await
                .unwrap();
            let err = d.destroy_doc(&doc).await.unwrap_err();
            let s = stale(&err);
            assert_eq!(
                s.to_string(),
                "Attempted to destroy stale record of Doc with filter: version == 1"
            );
            assert_eq!(d.get_doc(doc.id).await.unwrap(), fresh, "the row stays");
            d.destroy_doc(&fresh).await.unwrap();
            assert!(d.get_doc(doc.id).await.unwrap_err().is_not_found());
        }

        #[tokio::test]
        async fn global_lock_on_all_types() {
            let Some((d, _env)) = setup().await else { return };
            let note = d.create_note("a").await.unwrap();
            let fresh = d.update_note(&note, "b").await.unwrap();
            assert_eq!(fresh.version, 2);
            assert!(d.update_note(&note, "c").await.unwrap_err().is_stale());
            let err = d.destroy_note(&note).await.unwrap_err();
            assert_eq!(stale(&err).operation, "destroy");
            assert_eq!(d.get_note(note.id).await.unwrap(), fresh);
            d.destroy_note(&fresh).await.unwrap();
            assert!(d.get_note(note.id).await.unwrap_err().is_not_found());
        }

        #[tokio::test]
        async fn global_lock_defaults_to_create_and_update() {
            let Some((d, _env)) = setup().await else { return };
            let memo = d.create_memo("a").await.unwrap();
            let fresh = d.update_memo(&memo, "b").await.unwrap();
            assert!(d.update_memo(&memo, "c").await.unwrap_err().is_stale());
            assert_eq!(d.get_memo(memo.id).await.unwrap(), Some(fresh));
            d.destroy_memo(&memo).await.unwrap();
            assert_eq!(d.get_memo(memo.id).await.unwrap(), None);
        }

        #[tokio::test]
        async fn global_lock_where_action_is_is_limited_by_on() {
            let Some((d, _env)) = setup().await else { return };
            let post = d.create_post("a").await.unwrap();
            let published = d.publish(&post, "b").await.unwrap();
            assert_eq!(published.version, 2);
            assert!(d.publish(&post, "c").await.unwrap_err().is_stale());
            let edited = d.edit(&post, "d").await.unwrap();
            assert_eq!(edited.version, 2);
            d.archive(&post).await.unwrap();
            assert_eq!(d.get_post(post.id).await.unwrap(), None);

            let page = d.create_page("a").await.unwrap();
            let other = d.create_page("b").await.unwrap();
            let stale_page = Page {
                version: 0,
                ..page.clone()
            };
            assert!(d.archive_page(&stale_page).await.unwrap_err().is_stale());
            assert!(d.get_page(page.id).await.unwrap().is_some());
            d.archive_page(&page).await.unwrap();
            d.purge_page(&Page {
                version: 0,
                ..other.clone()
            })
            .await
            .unwrap();
            assert_eq!(d.get_page(other.id).await.unwrap(), None);
        }

        #[tokio::test]
        async fn duplicate_primary_key_on_create_is_invalid_and_never_overwrites() {
            let Some((d, _env)) = setup().await else { return };
            let fr = d
                .create_country("FR", "France", CountryCreateInput::new())
                .await
                .unwrap();
            let err = d
                .create_country("FR", "Frankreich", CountryCreateInput::new())
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }));
            assert!(
                matches!(err.errors(), [ErrorKind::AlreadyExists(_)]),
                "{err:?}"
            );
            assert_eq!(
                err.errors()[0].to_string(),
                "Country with code == \"FR\" already exists"
            );
            assert_eq!(d.get_country("FR").await.unwrap(), fr);
        }

        #[tokio::test]
        async fn get_by_returns_exactly_one() {
            let Some((d, _env)) = setup().await else { return };
            let a = d.create_doc("same").await.unwrap();
            d.create_doc("same").await.unwrap();
            let c = d.create_doc("unique").await.unwrap();

            assert_eq!(d.get_doc_by_title("unique").await.unwrap(), c);
            assert_eq!(d.find_doc_by_title("unique").await.unwrap(), Some(c));
            assert_eq!(d.find_doc_by_title("none").await.unwrap(), None);

            let err = d.get_doc_by_title("none").await.unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }));
            assert!(err.is_not_found());
            assert_eq!(
                err.errors()[0].to_string(),
                "record of Doc with title == \"none\" not found"
            );

            let err = d.get_doc_by_title("same").await.unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }));
            assert!(matches!(&err.errors()[0], ErrorKind::MultipleResults(m) if m.count == 2));
            assert!(matches!(
                d.find_doc_by_title("same").await.unwrap_err().errors(),
                [ErrorKind::MultipleResults(_)]
            ));

            assert_eq!(d.get_doc(a.id).await.unwrap(), a);
            assert!(d.get_doc(Uuid::new_v4()).await.unwrap_err().is_not_found());
            assert_eq!(d.list_docs().await.unwrap().len(), 3);
        }

        #[tokio::test]
        async fn update_through_get_by_reads_the_fresh_record() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            d.update_doc(&doc, DocUpdateInput::new().title("b"))
                .await
                .unwrap();
            let updated = d
                .update_doc_by_id(doc.id, DocUpdateInput::new().title("c"))
                .await
                .unwrap();
            assert_eq!((updated.version, updated.title.as_str()), (3, "c"));
            assert!(d
                .update_doc_by_id(Uuid::new_v4(), DocUpdateInput::new())
                .await
                .unwrap_err()
                .is_not_found());
        }

        #[tokio::test]
        async fn missing_required_attribute_on_create() {
            let Some((d, _env)) = setup().await else { return };
            let err = d.create_doc_from(DocCreateInput::new()).await.unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }));
            let [ErrorKind::Required(required)] = err.errors() else {
                panic!("{err:?}")
            };
            assert_eq!(required.field, "title");
            assert_eq!(required.r#type, InputType::Attribute);
            assert_eq!(required.resource, "Doc");
            assert!(d.list_docs().await.unwrap().is_empty(), "nothing stored");

            let err = d
                .create_country_with(CountryCreateInput::new())
                .await
                .unwrap_err();
            let fields: Vec<_> = err.errors().iter().filter_map(ErrorKind::field).collect();
            assert_eq!(fields, ["code", "name"]);
        }

        #[tokio::test]
        async fn nilable_attributes_default_to_none() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            assert_eq!(doc.summary, None);
            assert_eq!(d.get_doc(doc.id).await.unwrap().summary, None);
        }

        #[tokio::test]
        async fn version_overflow_is_an_error_and_writes_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let max = d
                .create_country_with(
                    CountryCreateInput::new()
                        .code("XX")
                        .name("Max")
                        .version(i64::MAX),
                )
                .await
                .unwrap();
            let err = d.update_country(&max, "Wrapped").await.unwrap_err();
            assert!(
                matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "version" && o.value == Value::Int(i64::MAX) && o.by == 1),
                "{err:?}"
            );
            assert_eq!(d.get_country("XX").await.unwrap(), max);
            // One below the maximum still works, and lands on the maximum.
            let near = d
                .create_country_with(
                    CountryCreateInput::new()
                        .code("YY")
                        .name("Near")
                        .version(i64::MAX - 1),
                )
                .await
                .unwrap();
            assert_eq!(d.update_country(&near, "Top").await.unwrap().version, i64::MAX);
        }

        #[tokio::test]
        async fn errors_serialize_with_their_class_and_fields() {
            let Some((d, _env)) = setup().await else { return };
            let doc = d.create_doc("a").await.unwrap();
            d.update_doc(&doc, DocUpdateInput::new()).await.unwrap();
            let err = d.update_doc(&doc, DocUpdateInput::new()).await.unwrap_err();
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["class"], "invalid");
            assert_eq!(json["errors"][0]["code"], "stale_record");
            assert_eq!(json["errors"][0]["resource"], "Doc");
            assert_eq!(json["errors"][0]["filter"]["cmp"]["field"], "version");
            assert_eq!(json["errors"][0]["filter"]["cmp"]["value"], 1);
        }

        // -------------------------------------------------------------------------------
        // Writers racing on one record: OS threads through the sync path (each layer's
        // `block_on`, below), and tasks on a multi-thread runtime.

        /// Of eight writers holding the same snapshot, exactly one won and seven were
        /// stale; the stored record is the winner's.
        async fn assert_one_of_eight_won(
            domain: &Locks,
            snapshot: &Counter,
            results: Vec<Result<Counter, Error>>,
        ) {
            let successes: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            let stale = results
                .iter()
                .filter(|r| r.as_ref().is_err_and(Error::is_stale))
                .count();
            assert_eq!(successes.len(), 1, "{results:?}");
            assert_eq!(stale, 7, "{results:?}");
            let stored = domain.get_counter(snapshot.id).await.unwrap();
            assert_eq!(stored.version, 2);
            assert_eq!(&stored, successes[0]);
        }

        #[test]
        fn eight_writer_threads_with_the_same_snapshot_give_one_success() {
            for _round in 0..$stale_rounds {
                let Some((domain, _env)) = block_on(setup()) else { return };
                let snapshot = block_on(domain.create_counter("c")).unwrap();
                let barrier = Arc::new(Barrier::new(8));
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let (domain, snapshot, barrier) =
                            (domain.clone(), snapshot.clone(), barrier.clone());
                        thread::spawn(move || {
                            barrier.wait();
                            block_on(domain.update_counter(
                                &snapshot,
                                CounterUpdateInput::new().name(format!("writer {i}")),
                            ))
                        })
                    })
                    .collect();
                let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
                block_on(assert_one_of_eight_won(&domain, &snapshot, results));
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn eight_writer_tasks_with_the_same_snapshot_give_one_success() {
            for _round in 0..$stale_rounds {
                let Some((domain, _env)) = setup().await else { return };
                let snapshot = domain.create_counter("c").await.unwrap();
                let barrier = Arc::new(tokio::sync::Barrier::new(8));
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let (domain, snapshot, barrier) =
                            (domain.clone(), snapshot.clone(), barrier.clone());
                        tokio::spawn(async move {
                            barrier.wait().await;
                            domain
                                .update_counter(
                                    &snapshot,
                                    CounterUpdateInput::new().name(format!("writer {i}")),
                                )
                                .await
                        })
                    })
                    .collect();
                let mut results = Vec::new();
                for handle in handles {
                    results.push(handle.await.unwrap());
                }
                assert_one_of_eight_won(&domain, &snapshot, results).await;
            }
        }

        /// After `successes` acknowledged increments of a counter starting at 0, each one is
        /// stored.
        async fn assert_every_increment_stored(domain: &Locks, id: Uuid, successes: u64) {
            assert_eq!(successes, ($threads * $increments) as u64);
            let stored = domain.get_counter(id).await.unwrap();
            assert_eq!(stored.counter as u64, successes, "every acknowledged increment is stored");
            assert_eq!(stored.version as u64, 1 + successes);
        }

        #[test]
        fn retrying_increments_on_threads_lose_no_update() {
            const THREADS: usize = $threads;
            const INCREMENTS: usize = $increments;
            let Some((domain, _env)) = block_on(setup()) else { return };
            let id = block_on(domain.create_counter("c")).unwrap().id;
            let barrier = Arc::new(Barrier::new(THREADS));
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (domain, barrier) = (domain.clone(), barrier.clone());
                    thread::spawn(move || {
                        barrier.wait();
                        let mut successes = 0u64;
                        for _ in 0..INCREMENTS {
                            loop {
                                let current = block_on(domain.get_counter(id)).unwrap();
                                let next = CounterUpdateInput::new().counter(current.counter + 1);
                                match block_on(domain.update_counter(&current, next)) {
                                    Ok(_) => {
                                        successes += 1;
                                        break;
                                    }
                                    Err(e) if e.is_stale() => continue,
                                    Err(e) => panic!("unexpected error: {e}"),
                                }
                            }
                        }
                        successes
                    })
                })
                .collect();
            let successes: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            block_on(assert_every_increment_stored(&domain, id, successes));
        }

        /// `tasks` spawned tasks, each running `task(domain)` once all have started; their
        /// outputs.
        async fn released_together<T, Fut>(
            domain: &Locks,
            tasks: usize,
            task: impl Fn(Locks) -> Fut,
        ) -> Vec<T>
        where
            T: Send + 'static,
            Fut: std::future::Future<Output = T> + Send + 'static,
        {
            let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let (barrier, work) = (barrier.clone(), task(domain.clone()));
                    tokio::spawn(async move {
                        barrier.wait().await;
                        work.await
                    })
                })
                .collect();
            let mut outputs = Vec::with_capacity(tasks);
            for handle in handles {
                outputs.push(handle.await.unwrap());
            }
            outputs
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn retrying_increment_tasks_lose_no_update() {
            const TASKS: usize = $threads;
            const INCREMENTS: usize = $increments;
            let Some((domain, _env)) = setup().await else { return };
            let id = domain.create_counter("c").await.unwrap().id;
            let outputs = released_together(&domain, TASKS, |domain| async move {
                let mut successes = 0u64;
                for _ in 0..INCREMENTS {
                    loop {
                        let current = domain.get_counter(id).await.unwrap();
                        let next = CounterUpdateInput::new().counter(current.counter + 1);
                        match domain.update_counter(&current, next).await {
                            Ok(_) => {
                                successes += 1;
                                break;
                            }
                            Err(e) if e.is_stale() => continue,
                            Err(e) => panic!("unexpected error: {e}"),
                        }
                    }
                }
                successes
            })
            .await;
            assert_every_increment_stored(&domain, id, outputs.iter().sum()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn increments_retrying_from_the_refusals_record_lose_no_update() {
            const TASKS: usize = $threads;
            const INCREMENTS: usize = $increments;
            let Some((domain, _env)) = setup().await else { return };
            let id = domain.create_counter("c").await.unwrap().id;
            let outputs = released_together(&domain, TASKS, |domain| async move {
                let (mut successes, mut retries) = (0u64, 0u64);
                let mut current = domain.get_counter(id).await.unwrap();
                for _ in 0..INCREMENTS {
                    loop {
                        let next = CounterUpdateInput::new().counter(current.counter + 1);
                        match domain.update_counter(&current, next).await {
                            Ok(updated) => {
                                successes += 1;
                                current = updated;
                                break;
                            }
                            Err(e) => {
                                // Every refusal here is stale, on a record that exists: it
                                // always brings the record.
                                current = e
                                    .stored_record::<Counter>()
                                    .unwrap_or_else(|| panic!("no stored record: {e:?}"))
                                    .clone();
                                retries += 1;
                            }
                        }
                    }
                }
                (successes, retries)
            })
            .await;
            let successes: u64 = outputs.iter().map(|(s, _)| s).sum();
            let retries: u64 = outputs.iter().map(|(_, r)| r).sum();
            assert_eq!(successes, (TASKS * INCREMENTS) as u64);
            assert_every_increment_stored(&domain, id, successes).await;
            // Not asserted (it depends on the scheduler), but shown with --nocapture.
            println!("{retries} retries for {successes} increments");
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn racing_stale_destroys_and_updates_leave_a_consistent_table() {
            for _round in 0..$stale_rounds {
                let Some((domain, _env)) = setup().await else { return };
                let snapshot = domain.create_counter("c").await.unwrap();
                let barrier = Arc::new(tokio::sync::Barrier::new(4));
                let handles: Vec<_> = (0..4)
                    .map(|i| {
                        let (domain, snapshot, barrier) =
                            (domain.clone(), snapshot.clone(), barrier.clone());
                        tokio::spawn(async move {
                            barrier.wait().await;
                            if i % 2 == 0 {
                                domain.destroy_counter(&snapshot).await.map(|_| ())
                            } else {
                                domain
                                    .update_counter(&snapshot, CounterUpdateInput::new())
                                    .await
                                    .map(|_| ())
                            }
                        })
                    })
                    .collect();
                let mut results = Vec::new();
                for handle in handles {
                    results.push(handle.await.unwrap());
                }
                assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
                assert!(results
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .all(Error::is_stale), "{results:?}");
                match domain.get_counter(snapshot.id).await {
                    Ok(stored) => assert_eq!(stored.version, 2, "the update won"),
                    Err(e) => assert!(e.is_not_found(), "the destroy won"),
                }
            }
        }

        // -------------------------------------------------------------------------------
        // Reads: filters, sort, limit and offset through the read action.

        async fn items(d: &Locks) -> Vec<Item> {
            let seed: [(&str, i64, Option<i64>, &[&str]); 5] = [
                ("beta", 2, Some(20), &["x", "y"]),
                ("alpha", 1, None, &["x"]),
                ("Gamma", 3, Some(10), &[]),
                ("alphabet", 4, Some(30), &["y"]),
                ("épée", 0, None, &["z"]),
            ];
            let mut created = Vec::new();
            for (name, rank, score, tags) in seed {
                let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
                created.push(
                    d.create_item(name, rank, ItemCreateInput::new().score(score).tags(tags))
                        .await
                        .unwrap(),
                );
            }
            created
        }

        async fn read(d: &Locks, query: Query<Item>) -> Vec<Item> {
            let layer = ash_rs::domain::HasResource::<Item>::data_layer(d);
            ash_rs::action::read(layer, d.context(), ItemReadInput::default(), query)
                .await
                .unwrap()
        }

        fn names(records: &[Item]) -> Vec<&str> {
            records.iter().map(|r| r.name.as_str()).collect()
        }

        fn by_rank() -> Query<Item> {
            Query::new().sort(ItemField::Rank, SortOrder::Asc)
        }

        #[tokio::test]
        async fn read_filters_compare_like_in_memory() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            let cmp = |op, v| Filter::Cmp(op, v);
            let q = |f| by_rank().filter(f);
            assert_eq!(names(&read(&d, q(Filter::eq(ItemValue::Name("alpha".into())))).await), ["alpha"]);
            assert_eq!(
                names(&read(&d, q(cmp(CmpOp::NotEq, ItemValue::Name("alpha".into())))).await),
                ["épée", "beta", "Gamma", "alphabet"]
            );
            assert_eq!(names(&read(&d, q(cmp(CmpOp::Lt, ItemValue::Rank(2)))).await), ["épée", "alpha"]);
            assert_eq!(names(&read(&d, q(cmp(CmpOp::Lte, ItemValue::Rank(2)))).await), ["épée", "alpha", "beta"]);
            assert_eq!(names(&read(&d, q(cmp(CmpOp::Gt, ItemValue::Rank(2)))).await), ["Gamma", "alphabet"]);
            assert_eq!(names(&read(&d, q(cmp(CmpOp::Gte, ItemValue::Rank(3)))).await), ["Gamma", "alphabet"]);
            // Strings compare by code point: "Gamma" < "alpha" < "beta" < "épée".
            assert_eq!(
                names(&read(&d, q(cmp(CmpOp::Lt, ItemValue::Name("alpha".into())))).await),
                ["Gamma"]
            );
            assert_eq!(
                names(&read(&d, q(cmp(CmpOp::Gt, ItemValue::Name("beta".into())))).await),
                ["épée"]
            );
            // Comparisons with a nil column, or with nil, are false; `not` of them is true.
            assert_eq!(
                names(&read(&d, q(cmp(CmpOp::NotEq, ItemValue::Score(Some(20))))).await),
                ["Gamma", "alphabet"]
            );
            assert_eq!(names(&read(&d, q(cmp(CmpOp::Eq, ItemValue::Score(None)))).await), Vec::<&str>::new());
            assert_eq!(names(&read(&d, q(cmp(CmpOp::NotEq, ItemValue::Score(None)))).await), Vec::<&str>::new());
            assert_eq!(
                names(&read(&d, q(Filter::Not(Box::new(cmp(CmpOp::Eq, ItemValue::Score(Some(20))))))).await),
                ["épée", "alpha", "Gamma", "alphabet"]
            );
            assert_eq!(names(&read(&d, q(Filter::IsNil(ItemField::Score))).await), ["épée", "alpha"]);
            assert_eq!(
                names(&read(&d, q(Filter::Not(Box::new(Filter::IsNil(ItemField::Score))))).await),
                ["beta", "Gamma", "alphabet"]
            );
        }

        #[tokio::test]
        async fn read_filters_in_contains_and_or_not() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            let q = |f| by_rank().filter(f);
            let name = |s: &str| ItemValue::Name(s.into());
            assert_eq!(
                names(&read(&d, q(Filter::In(ItemField::Name, vec![name("Gamma"), name("alpha"), name("nope")]))).await),
                ["alpha", "Gamma"]
            );
            assert_eq!(names(&read(&d, q(Filter::In(ItemField::Name, vec![]))).await), Vec::<&str>::new());
            assert_eq!(
                names(&read(&d, q(Filter::In(ItemField::Score, vec![ItemValue::Score(None), ItemValue::Score(Some(10))]))).await),
                ["Gamma"]
            );
            assert_eq!(names(&read(&d, q(Filter::Contains(name("alpha")))).await), ["alpha", "alphabet"]);
            assert_eq!(read(&d, q(Filter::Contains(name("")))).await.len(), 5);
            assert_eq!(names(&read(&d, q(Filter::Contains(name("%")))).await), Vec::<&str>::new());
            assert_eq!(
                names(&read(&d, q(Filter::Contains(ItemValue::Tags(vec!["x".into()])))).await),
                ["alpha", "beta"]
            );
            assert_eq!(
                names(&read(&d, q(Filter::Contains(ItemValue::Tags(vec!["x".into(), "y".into()])))).await),
                ["beta"]
            );
            assert_eq!(names(&read(&d, q(Filter::Contains(ItemValue::Rank(1)))).await), Vec::<&str>::new());
            let and = Filter::And(vec![
                Filter::Cmp(CmpOp::Gte, ItemValue::Rank(1)),
                Filter::Contains(name("a")),
            ]);
            assert_eq!(names(&read(&d, q(and)).await), ["alpha", "beta", "Gamma", "alphabet"]);
            let or = Filter::Or(vec![
                Filter::eq(name("épée")),
                Filter::Cmp(CmpOp::Gt, ItemValue::Score(Some(15))),
            ]);
            assert_eq!(names(&read(&d, q(or)).await), ["épée", "beta", "alphabet"]);
            let not_or = Filter::Not(Box::new(Filter::Or(vec![
                Filter::IsNil(ItemField::Score),
                Filter::Cmp(CmpOp::Lt, ItemValue::Score(Some(15))),
            ])));
            assert_eq!(names(&read(&d, q(not_or)).await), ["beta", "alphabet"]);
            assert_eq!(read(&d, q(Filter::And(vec![]))).await.len(), 5);
            assert_eq!(read(&d, q(Filter::Or(vec![]))).await.len(), 0);
            let by_key = read(&d, Query::new().filter(Filter::Not(Box::new(Filter::Not(Box::new(Filter::IsNil(ItemField::Score))))))).await;
            assert_eq!(by_key.len(), 2);
        }

        #[tokio::test]
        async fn read_sorts_with_nils_last_ascending_and_first_descending() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            assert_eq!(
                names(&read(&d, Query::new().sort(ItemField::Name, SortOrder::Asc)).await),
                ["Gamma", "alpha", "alphabet", "beta", "épée"]
            );
            assert_eq!(
                names(&read(&d, Query::new().sort(ItemField::Name, SortOrder::Desc)).await),
                ["épée", "beta", "alphabet", "alpha", "Gamma"]
            );
            let asc = read(
                &d,
                Query::new()
                    .sort(ItemField::Score, SortOrder::Asc)
                    .sort(ItemField::Rank, SortOrder::Desc),
            ).await;
            assert_eq!(names(&asc), ["Gamma", "beta", "alphabet", "alpha", "épée"]);
            let desc = read(
                &d,
                Query::new()
                    .sort(ItemField::Score, SortOrder::Desc)
                    .sort(ItemField::Rank, SortOrder::Asc),
            ).await;
            assert_eq!(names(&desc), ["épée", "alpha", "alphabet", "beta", "Gamma"]);
        }

        #[tokio::test]
        async fn read_breaks_ties_by_primary_key_and_pages_deterministically() {
            let Some((d, _env)) = setup().await else { return };
            let mut ids: Vec<Uuid> = Vec::new();
            for i in 0..6 {
                let input = ItemCreateInput::new().tags(Vec::<String>::new());
                ids.push(d.create_item(format!("same {}", i % 2), 7, input).await.unwrap().id);
            }
            ids.sort();
            let all = read(&d, Query::new().sort(ItemField::Rank, SortOrder::Asc)).await;
            assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
            let unsorted = read(&d, Query::new()).await;
            assert_eq!(unsorted.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
            let page = read(&d, Query::new().sort(ItemField::Name, SortOrder::Desc).offset(1).limit(2)).await;
            let mut expected: Vec<&Item> = all.iter().collect();
            expected.sort_by(|a, b| b.name.cmp(&a.name).then(a.id.cmp(&b.id)));
            assert_eq!(page.iter().collect::<Vec<_>>(), expected[1..3].to_vec());
        }

        #[tokio::test]
        async fn count_ignores_sort_limit_and_offset() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            let layer = ash_rs::domain::HasResource::<Item>::data_layer(&d);
            assert_eq!(layer.count(d.context(), &Query::new()).await.unwrap(), 5);
            let query = by_rank()
                .filter(Filter::IsNil(ItemField::Score).not())
                .offset(1)
                .limit(1);
            assert_eq!(layer.count(d.context(), &query).await.unwrap(), 3);
        }

        #[tokio::test]
        async fn read_limit_and_offset() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            assert_eq!(names(&read(&d, by_rank().limit(2)).await), ["épée", "alpha"]);
            assert_eq!(names(&read(&d, by_rank().offset(1).limit(2)).await), ["alpha", "beta"]);
            assert_eq!(names(&read(&d, by_rank().offset(3)).await), ["Gamma", "alphabet"]);
            assert_eq!(read(&d, by_rank().offset(5)).await.len(), 0);
            assert_eq!(read(&d, by_rank().offset(usize::MAX)).await.len(), 0);
            assert_eq!(read(&d, by_rank().limit(0)).await.len(), 0);
            assert_eq!(read(&d, by_rank().limit(usize::MAX)).await.len(), 5);
            let filtered = by_rank()
                .filter(Filter::Cmp(CmpOp::Gte, ItemValue::Rank(1)))
                .offset(1)
                .limit(2);
            assert_eq!(names(&read(&d, filtered).await), ["beta", "Gamma"]);
        }

        // -------------------------------------------------------------------------------
        // Hostile strings: stored and matched as data, never as SQL.

        const HOSTILE: [&str; 8] = [
            "O'Brien",
            "Robert'); DROP TABLE doc; --",
            "\"quoted\" \"identifier\"",
            "back\\slash \\' \\\" \\\\",
            "semi;colon; ; ;;",
            "$1 $2 ? %s %% _",
            "multi\nline\r\ttabs",
            "ünïcödé 🦀 ∑",
        ];

        #[tokio::test]
        async fn hostile_strings_round_trip_unchanged() {
            let Some((d, _env)) = setup().await else { return };
            for s in HOSTILE {
                let doc = d.create_doc(s).await.unwrap();
                assert_eq!(doc.title, s);
                assert_eq!(d.get_doc(doc.id).await.unwrap().title, s);
                assert_eq!(d.get_doc_by_title(s).await.unwrap().id, doc.id);
                let updated = d.update_doc(&doc, DocUpdateInput::new().title(format!("{s}{s}"))).await.unwrap();
                assert_eq!(updated.title, format!("{s}{s}"));
                let country = d.create_country(s, s, CountryCreateInput::new()).await.unwrap();
                assert_eq!(d.get_country(s).await.unwrap(), country);
            }
            assert_eq!(d.list_docs().await.unwrap().len(), HOSTILE.len());
            let item = d
                .create_item("tags", 1, ItemCreateInput::new().tags(HOSTILE.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
                .await
                .unwrap();
            assert_eq!(d.get_item(item.id).await.unwrap(), item);
            assert_eq!(item.tags.len(), HOSTILE.len());
        }

        #[tokio::test]
        async fn hostile_filter_values_match_nothing_and_alter_nothing() {
            let Some((d, _env)) = setup().await else { return };
            items(&d).await;
            for s in HOSTILE {
                let name = ItemValue::Name(s.into());
                assert_eq!(read(&d, Query::new().filter(Filter::eq(name.clone()))).await.len(), 0);
                assert_eq!(read(&d, Query::new().filter(Filter::Contains(name.clone()))).await.len(), 0);
                assert_eq!(read(&d, Query::new().filter(Filter::In(ItemField::Name, vec![name.clone()]))).await.len(), 0);
                assert_eq!(read(&d, Query::new().filter(Filter::Cmp(CmpOp::NotEq, name))).await.len(), 5);
            }
            assert_eq!(read(&d, Query::new()).await.len(), 5, "nothing was dropped or changed");
        }

        #[tokio::test]
        async fn an_update_writing_the_primary_key_is_refused_and_corrupts_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let fr = d.create_country("FR", "France", CountryCreateInput::new()).await.unwrap();
            let err = d.recode_country(&fr, "Frankreich").await.unwrap_err();
            assert!(
                matches!(&err.errors()[..], [ErrorKind::InvalidAttribute(e)] if e.field == "code"),
                "{err:?}"
            );
            assert_eq!(d.get_country("FR").await.unwrap(), fr);
            assert!(d.get_country("DE").await.unwrap_err().is_not_found());
            d.create_country("DE", "Germany", CountryCreateInput::new()).await.unwrap();
            let codes: Vec<String> = ash_rs::api::read(&d, CountryReadInput::new(), Query::new().sort_by(Country::CODE.asc()))
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.code)
                .collect();
            assert_eq!(codes, ["DE", "FR"]);
        }

        #[tokio::test]
        async fn identities_are_unique_and_their_violation_is_typed() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_member("ann@x", "Ann").await.unwrap();
            let bob = d.create_member("bob@x", "Bob").await.unwrap();
            let err = d.create_member("ann@x", "Other").await.unwrap_err();
            let taken = err.identity_taken().unwrap_or_else(|| panic!("{err:?}"));
            assert_eq!((taken.identity, taken.field), ("unique_email", "email"));
            let err = d.update_member(&bob, "ann@x", "Bob").await.unwrap_err();
            assert!(err.identity_taken().is_some(), "{err:?}");
            assert_eq!(d.members().await.unwrap().len(), 2);
            assert_eq!(d.member_by_email("ann@x").await.unwrap(), Some(ann));
            assert_eq!(d.member_by_email("bob@x").await.unwrap(), Some(bob));
        }

        #[tokio::test]
        async fn an_upsert_creates_or_updates_in_one_step() {
            let Some((d, _env)) = setup().await else { return };
            let first = d.join("ann@x", "Ann").await.unwrap();
            let second = d.join("ann@x", "Ann B").await.unwrap();
            assert_eq!((second.id, second.name.as_str()), (first.id, "Ann B"));
            assert_eq!(d.members().await.unwrap(), vec![second]);
        }

        #[tokio::test]
        async fn one_megabyte_strings_round_trip() {
            let Some((d, _env)) = setup().await else { return };
            let big: String = "ab'\";\\🦀".repeat(1024 * 1024 / 10);
            assert!(big.len() >= 1_000_000);
            let doc = d.create_doc(big.clone()).await.unwrap();
            assert_eq!(d.get_doc(doc.id).await.unwrap().title, big);
            let bigger = format!("{big}{big}");
            let updated = d.update_doc(&doc, DocUpdateInput::new().title(bigger.clone())).await.unwrap();
            assert_eq!(updated.title, bigger);
            assert_eq!(d.get_doc(doc.id).await.unwrap().title, bigger);
            assert_eq!(d.get_doc_by_title(bigger.as_str()).await.unwrap().id, doc.id);
        }
    };
}

/// The in-memory layer; `Locks::connect(&())` builds fresh tables like `Locks::new()`.
mod ets {
    conformance! {
        data_layer = [Ets],
        stale_rounds = 20,
        threads = 4,
        increments = 5_000,
    }

    struct Env;

    async fn setup() -> Option<(Locks, Env)> {
        Some((Locks::connect(&()).await.expect("ETS tables"), Env))
    }

    /// The sync path on ETS: `ash_rs::block_on`, no runtime.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        ash_rs::block_on(future)
    }
}

/// PostgreSQL, one schema per test.
#[cfg(feature = "postgres")]
mod postgres {
    conformance! {
        data_layer = [ash_rs::postgres::Postgres],
        stale_rounds = 5,
        threads = 4,
        increments = 200,
    }

    async fn setup() -> Option<(Locks, crate::pg_support::TestDb)> {
        let db = crate::pg_support::TestDb::new().await?;
        let domain = Locks::connect(&db.pool).await.expect("connect the domain");
        Some((domain, db))
    }

    /// The sync path on PostgreSQL: a tokio runtime's `block_on` (`ash_rs::block_on` drives
    /// no reactor), on one multi-thread runtime shared by the OS-thread tests; their
    /// pools are built on it too, so its workers drive the connections.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        RUNTIME
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the OS-thread tests")
            })
            .block_on(future)
    }
}
