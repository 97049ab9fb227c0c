//! Identities and upserts, one suite expanded for ETS and for PostgreSQL (`identities!`
//! below), like `tests/conformance.rs`: unique keys (single and multi-attribute, with and
//! without `nils_distinct`), the typed `IdentityTaken` error, updates and destroys moving
//! and freeing values, lookups by identity, upserts (on an identity, on the primary key,
//! with `upsert_fields`, `upsert_condition` and the optimistic lock), racing creates and
//! upserts, and primary-key writes.
//!
//! PostgreSQL tests use `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! each in a schema of its own; without a server they print one line and pass, unless `CI`
//! is set.

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! identities {
    (data_layer = [$($data_layer:tt)*], rounds = $rounds:expr $(,)?) => {
        use ash_rs::error::{ErrorKind, IdentityTaken};
        use ash_rs::prelude::*;
        use std::sync::{Arc, Barrier};
        use std::thread;

        #[resource(domain = Accounts, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [email, name, org_id, slug, handle, active]),
            create(signup, accept = [email, name]),
            create(
                register,
                accept = [email, name, active],
                upsert = true,
                upsert_identity = unique_email,
                upsert_fields = [name],
            ),
            create(
                register_active,
                accept = [email, name],
                upsert = true,
                upsert_identity = unique_email,
                upsert_condition = User::ACTIVE.eq(true),
            ),
            create(claim_slug, accept = [email, name, org_id, slug], upsert = true, upsert_identity = unique_email),
            update(update, accept = [email, name, org_id, slug, handle, active]),
        )]
        #[identities(
            identity(unique_email, [email]),
            identity(unique_slug, [org_id, slug], nils_distinct = false, message = "is taken in this organisation"),
            identity(unique_handle, [handle]),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct User {
            #[uuid_primary_key]
            pub id: Uuid,
            pub email: String,
            pub name: String,
            #[attribute(default = 0)]
            pub org_id: i64,
            pub slug: Option<String>,
            pub handle: Option<String>,
            #[attribute(default = true)]
            pub active: bool,
        }

        /// The optimistic lock on an upserting create (Ash 3.32 semantics, see README).
        #[resource(domain = Accounts, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read),
            create(upsert_tag, accept = [label, note], upsert = true, upsert_identity = unique_label,
                   change = optimistic_lock(version)),
            update(update, accept = [note], change = optimistic_lock(version)),
        )]
        #[identities(identity(unique_label, [label]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Tag {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub label: String,
            #[attribute(default = String::new())]
            pub note: String,
        }

        /// A natural primary key, an identity beside it, upserts on the primary key.
        #[resource(domain = Accounts, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [code, name]),
            create(put, accept = [code, name], upsert = true),
            update(rename, accept = [name]),
            update(recode, accept = [name], change = set_code_to_de),
        )]
        #[identities(identity(unique_name, [name]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Country {
            #[primary_key]
            pub code: String,
            pub name: String,
        }

        /// A change that writes the primary key: what an update must refuse.
        fn set_code_to_de(changeset: &mut Changeset<Country>) {
            changeset.changes_mut().code = Some("DE".into());
        }

        #[domain]
        #[resources(
            User(
                define(create_user, action = signup, args = [email, name]),
                define(create_user_with, action = create),
                define(register, args = [email, name]),
                define(register_active, args = [email, name]),
                define(claim_slug),
                define(user_by_email, action = read, get_by_identity = unique_email),
                define(find_user_by_email, action = read, get_by_identity = unique_email, not_found_error = false),
                define(user_by_slug, action = read, get_by = [slug, org_id]),
                define(get_user, action = read, get_by = [id]),
                define(users, action = read),
                define(update_user, action = update),
                define(destroy_user, action = destroy),
            ),
            Tag(
                define(upsert_tag, args = [label, note]),
                define(update_tag, action = update, args = [note]),
                define(tags, action = read),
            ),
            Country(
                define(create_country, action = create, args = [code, name]),
                define(put_country, action = put, args = [code, name]),
                define(get_country, action = read, get_by = [code], not_found_error = false),
                define(countries, action = read),
                define(rename_country, action = rename, args = [name]),
                define(recode_country, action = recode, args = [name]),
                define(destroy_country, action = destroy),
            ),
        )]
        pub struct Accounts;

        fn taken(err: &Error) -> &IdentityTaken {
            assert!(matches!(err, Error::Invalid { .. }), "expected Invalid, got {err:?}");
            assert_eq!(err.errors().len(), 1, "{err:?}");
            err.identity_taken()
                .unwrap_or_else(|| panic!("expected IdentityTaken, got {err:?}"))
        }

        fn user(email: &str) -> UserCreateInput {
            UserCreateInput::new().email(email).name(email)
        }

        // ---------------------------------------------------------------------------
        // Identities.

        #[tokio::test]
        async fn a_taken_value_is_a_typed_error_naming_the_identity_and_its_fields() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_user("ann@example.com", "Ann").await.unwrap();
            // Another org, so that only the email is taken.
            let err = d
                .create_user_with(user("ann@example.com").name("Other Ann").org_id(1))
                .await
                .unwrap_err();
            let t = taken(&err);
            assert_eq!(
                (t.resource, t.identity, t.field, t.fields, t.message),
                ("User", "unique_email", "email", &["email"][..], "has already been taken")
            );
            assert_eq!(err.errors()[0].field(), Some("email"));
            assert_eq!(err.to_string(), "Invalid Error\n\n* email: has already been taken");
            assert_eq!(d.users().await.unwrap(), vec![ann], "nothing was written");
        }

        #[tokio::test]
        async fn the_error_serializes_the_same_in_every_data_layer() {
            let Some((d, _env)) = setup().await else { return };
            d.create_user_with(user("a@x").org_id(1)).await.unwrap();
            let err = d.create_user_with(user("a@x").org_id(2)).await.unwrap_err();
            assert_eq!(
                serde_json::to_value(&err).unwrap(),
                serde_json::json!({"class": "invalid", "errors": [{
                    "code": "identity_taken", "resource": "User", "identity": "unique_email",
                    "field": "email", "fields": ["email"], "message": "has already been taken",
                }]})
            );
        }

        #[tokio::test]
        async fn several_identities_each_hold_and_a_custom_message_is_used() {
            let Some((d, _env)) = setup().await else { return };
            d.create_user_with(user("a@x").org_id(1).slug(Some("ann".to_owned())))
                .await
                .unwrap();
            let err = d
                .create_user_with(user("b@x").org_id(1).slug(Some("ann".to_owned())))
                .await
                .unwrap_err();
            let t = taken(&err);
            assert_eq!(
                (t.identity, t.field, t.fields, t.message),
                ("unique_slug", "org_id", &["org_id", "slug"][..], "is taken in this organisation")
            );
            assert_eq!(d.users().await.unwrap().len(), 1);
        }

        #[tokio::test]
        async fn a_multi_attribute_identity_is_unique_only_as_a_whole() {
            let Some((d, _env)) = setup().await else { return };
            for (i, org) in [1, 2].into_iter().enumerate() {
                d.create_user_with(user(&format!("{i}@x")).org_id(org).slug(Some("s".to_owned())))
                    .await
                    .unwrap();
            }
            d.create_user_with(user("3@x").org_id(1).slug(Some("t".to_owned())))
                .await
                .unwrap();
            assert!(d
                .create_user_with(user("4@x").org_id(2).slug(Some("s".to_owned())))
                .await
                .unwrap_err()
                .identity_taken()
                .is_some());
            assert_eq!(d.users().await.unwrap().len(), 3);
        }

        #[tokio::test]
        async fn nils_are_distinct_by_default() {
            let Some((d, _env)) = setup().await else { return };
            // `handle` is nilable and its identity keeps Ash's default `nils_distinct? true`.
            d.create_user_with(user("a@x").org_id(1)).await.unwrap();
            d.create_user_with(user("b@x").org_id(2)).await.unwrap();
            d.create_user_with(user("c@x").org_id(3).handle(Some("h".to_owned())))
                .await
                .unwrap();
            let err = d
                .create_user_with(user("d@x").org_id(4).handle(Some("h".to_owned())))
                .await
                .unwrap_err();
            assert_eq!(taken(&err).identity, "unique_handle");
        }

        #[tokio::test]
        async fn nils_distinct_false_makes_nil_a_value() {
            let Some((d, _env)) = setup().await else { return };
            // `[org_id, slug]` with `nils_distinct = false`: a nil slug is taken once per org.
            d.create_user_with(user("a@x").org_id(7)).await.unwrap();
            let err = d.create_user_with(user("b@x").org_id(7)).await.unwrap_err();
            assert_eq!(taken(&err).identity, "unique_slug");
            d.create_user_with(user("c@x").org_id(8)).await.unwrap();
        }

        #[tokio::test]
        async fn an_update_to_a_taken_value_is_refused_and_writes_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let _ann = d.create_user("ann@x", "Ann").await.unwrap();
            let bob = d.create_user_with(user("bob@x").org_id(1)).await.unwrap();
            let err = d
                .update_user(&bob, UserUpdateInput::new().email("ann@x").name("Bobby"))
                .await
                .unwrap_err();
            assert_eq!(taken(&err).identity, "unique_email");
            assert_eq!(d.get_user(bob.id).await.unwrap(), bob);
            assert_eq!(d.user_by_email("bob@x").await.unwrap(), bob);
            assert_eq!(d.user_by_email("ann@x").await.unwrap().name, "Ann");
        }

        #[tokio::test]
        async fn an_update_moves_a_value_and_frees_the_old_one() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_user("ann@x", "Ann").await.unwrap();
            let moved = d
                .update_user(&ann, UserUpdateInput::new().email("anna@x"))
                .await
                .unwrap();
            assert_eq!(moved.email, "anna@x");
            assert_eq!(d.user_by_email("anna@x").await.unwrap(), moved);
            assert!(d.find_user_by_email("ann@x").await.unwrap().is_none());
            // The old value is free again (and the org-0 nil slug moves with its record).
            let err = d.create_user("ann@x", "New Ann").await.unwrap_err();
            assert_eq!(taken(&err).identity, "unique_slug", "org 0 keeps one nil slug");
            d.create_user_with(user("ann@x").org_id(5)).await.unwrap();
        }

        #[tokio::test]
        async fn an_update_that_keeps_its_values_is_not_refused_by_them() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_user("ann@x", "Ann").await.unwrap();
            let same = d
                .update_user(&ann, UserUpdateInput::new().email("ann@x").name("Ann B"))
                .await
                .unwrap();
            assert_eq!(same.name, "Ann B");
            assert_eq!(d.user_by_email("ann@x").await.unwrap(), same);
        }

        #[tokio::test]
        async fn destroy_frees_the_values() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_user("ann@x", "Ann").await.unwrap();
            d.destroy_user(&ann).await.unwrap();
            assert!(d.find_user_by_email("ann@x").await.unwrap().is_none());
            let again = d.create_user("ann@x", "Ann again").await.unwrap();
            assert_eq!(d.user_by_email("ann@x").await.unwrap(), again);
        }

        #[tokio::test]
        async fn a_failed_create_leaves_no_value_taken() {
            let Some((d, _env)) = setup().await else { return };
            // The email is free and claimed, then the slug is found taken: the email must
            // not stay claimed.
            d.create_user_with(user("a@x").org_id(1).slug(Some("s".to_owned()))).await.unwrap();
            let err = d
                .create_user_with(user("b@x").org_id(1).slug(Some("s".to_owned())))
                .await
                .unwrap_err();
            assert_eq!(taken(&err).identity, "unique_slug");
            assert!(d.find_user_by_email("b@x").await.unwrap().is_none());
            d.create_user_with(user("b@x").org_id(2)).await.unwrap();
            d.create_country("FR", "France").await.unwrap();
            // The primary key is taken: refused after the name could have been claimed.
            let err = d.create_country("FR", "Germany").await.unwrap_err();
            assert!(matches!(err.errors(), [ErrorKind::AlreadyExists(_)]), "{err:?}");
            // "Germany" was not left taken.
            d.create_country("DE", "Germany").await.unwrap();
            let err = d.create_country("AT", "France").await.unwrap_err();
            assert_eq!(taken(&err).identity, "unique_name");
            assert_eq!(d.countries().await.unwrap().len(), 2);
        }

        #[tokio::test]
        async fn get_by_identity_finds_the_record_or_reports_not_found() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d
                .create_user_with(user("ann@x").org_id(3).slug(Some("ann".to_owned())))
                .await
                .unwrap();
            assert_eq!(d.user_by_email("ann@x").await.unwrap(), ann);
            assert_eq!(d.find_user_by_email("ann@x").await.unwrap(), Some(ann.clone()));
            // `get_by` naming exactly an identity's attributes uses it too, in any order.
            assert_eq!(d.user_by_slug(Some("ann".to_owned()), 3).await.unwrap(), ann);
            let err = d.user_by_email("nobody@x").await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(
                err.to_string(),
                "Invalid Error\n\n* record of User with email == \"nobody@x\" not found"
            );
            assert!(d.find_user_by_email("nobody@x").await.unwrap().is_none());
        }

        #[tokio::test]
        async fn get_by_identity_with_a_nil_key() {
            let Some((d, _env)) = setup().await else { return };
            // `nils_distinct = false`: the record holding a nil slug in org 4 is found.
            let ann = d.create_user_with(user("ann@x").org_id(4)).await.unwrap();
            assert_eq!(d.user_by_slug(None::<String>, 4).await.unwrap(), ann);
            assert!(d.user_by_slug(None::<String>, 5).await.unwrap_err().is_not_found());
        }

        #[test]
        fn racing_creates_of_one_value_give_exactly_one_success_per_round() {
            let Some((d, _env)) = block_on(setup()) else { return };
            for round in 0..$rounds {
                let barrier = Arc::new(Barrier::new(16));
                let handles: Vec<_> = (0..16)
                    .map(|i| {
                        let (d, barrier) = (d.clone(), barrier.clone());
                        thread::spawn(move || {
                            barrier.wait();
                            block_on(d.create_user_with(
                                UserCreateInput::new()
                                    .email(format!("race{round}@x"))
                                    .name(format!("writer {i}"))
                                    .org_id(1000 * round + i),
                            ))
                        })
                    })
                    .collect();
                let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
                let ok = results.iter().filter(|r| r.is_ok()).count();
                assert_eq!(ok, 1, "round {round}: {results:?}");
                for err in results.iter().filter_map(|r| r.as_ref().err()) {
                    assert_eq!(taken(err).identity, "unique_email");
                }
            }
            assert_eq!(block_on(d.users()).unwrap().len(), $rounds as usize);
        }

        // ---------------------------------------------------------------------------
        // Upserts.

        #[tokio::test]
        async fn an_upsert_creates_then_updates_its_upsert_fields() {
            let Some((d, _env)) = setup().await else { return };
            let created = d.register("ann@x", "Ann", UserRegisterInput::new()).await.unwrap();
            let updated = d
                .register("ann@x", "Ann B", UserRegisterInput::new().active(false))
                .await
                .unwrap();
            // The same record; `name` is an upsert field, `active` is not.
            assert_eq!(updated.id, created.id);
            assert_eq!((updated.name.as_str(), updated.active), ("Ann B", true));
            assert_eq!(d.users().await.unwrap(), vec![updated]);
        }

        #[tokio::test]
        async fn an_upsert_condition_that_fails_skips_with_stale_record() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.register_active("ann@x", "Ann").await.unwrap();
            let renamed = d.register_active("ann@x", "Ann B").await.unwrap();
            assert_eq!((renamed.id, renamed.name.as_str()), (ann.id, "Ann B"));
            d.update_user(&renamed, UserUpdateInput::new().active(false))
                .await
                .unwrap();
            let err = d.register_active("ann@x", "Ann C").await.unwrap_err();
            let stale = err.stale_record().unwrap_or_else(|| panic!("{err:?}"));
            assert_eq!(stale.operation, "upsert");
            assert_eq!(
                err.to_string(),
                "Invalid Error\n\n* Attempted to upsert stale record of User with filter: active == true"
            );
            assert_eq!(d.user_by_email("ann@x").await.unwrap().name, "Ann B");
        }

        #[tokio::test]
        async fn an_upsert_chosen_per_call() {
            let Some((d, _env)) = setup().await else { return };
            let ann = d.create_user("ann@x", "Ann").await.unwrap();
            // The plain `create` action, upserting on `unique_email` for this call only.
            let input = user("ann@x").name("Ann B").org_id(9);
            let upsert = Upsert::on(User::UNIQUE_EMAIL).fields([UserField::Name]);
            let up = ash_rs::api::upsert(&d, input, upsert).await.unwrap();
            assert_eq!((up.id, up.name.as_str(), up.org_id), (ann.id, "Ann B", 0));
            // With the action's fields (all it accepts) and a condition.
            let input = user("ann@x").name("Ann C").org_id(9);
            let upsert = Upsert::on(User::UNIQUE_EMAIL).condition(User::NAME.eq("nobody"));
            assert!(ash_rs::api::upsert(&d, input, upsert).await.unwrap_err().is_stale());
            let input = user("ann@x").name("Ann C").org_id(9);
            let up = ash_rs::api::upsert(&d, input, Upsert::on(User::UNIQUE_EMAIL)).await.unwrap();
            assert_eq!((up.id, up.name.as_str(), up.org_id), (ann.id, "Ann C", 9));
            // Without the conflict, a create.
            let bob = ash_rs::api::upsert(&d, user("bob@x"), Upsert::on(User::UNIQUE_EMAIL)).await;
            assert_ne!(bob.unwrap().id, ann.id);
        }

        #[tokio::test]
        async fn an_upsert_on_the_primary_key() {
            let Some((d, _env)) = setup().await else { return };
            let fr = d.put_country("FR", "France").await.unwrap();
            let again = d.put_country("FR", "République française").await.unwrap();
            assert_eq!((again.code.as_str(), again.name.as_str()), ("FR", "République française"));
            assert_eq!(d.countries().await.unwrap(), vec![again]);
            assert_eq!(fr.code, "FR");
        }

        #[tokio::test]
        async fn an_upsert_whose_update_would_take_another_identity_is_refused() {
            let Some((d, _env)) = setup().await else { return };
            d.create_user_with(user("a@x").org_id(1).slug(Some("s".to_owned()))).await.unwrap();
            let b = d.create_user_with(user("b@x").org_id(1)).await.unwrap();
            // Upserting b@x with org 1 / slug s: its update half would take a@x's slug.
            let input = UserClaimSlugInput::new().email("b@x").name("B").org_id(1).slug(Some("s".to_owned()));
            let err = d.claim_slug(input).await.unwrap_err();
            assert_eq!(taken(&err).identity, "unique_slug");
            assert_eq!(d.get_user(b.id).await.unwrap(), b, "nothing written");
        }

        #[tokio::test]
        async fn an_upsert_with_a_nil_key_of_a_nils_distinct_identity_creates() {
            let Some((d, _env)) = setup().await else { return };
            // Upserting on `unique_handle` (nils distinct) with no handle: plain creates.
            for email in ["a@x", "b@x"] {
                let input = user(email).org_id(email.len() as i64 + i64::from(email.as_bytes()[0]));
                ash_rs::api::upsert(&d, input, Upsert::on(User::UNIQUE_HANDLE)).await.unwrap();
            }
            assert_eq!(d.users().await.unwrap().len(), 2);
        }

        #[tokio::test]
        async fn an_upsert_with_the_optimistic_lock_follows_ash() {
            let Some((d, _env)) = setup().await else { return };
            // Created: the version keeps its default, as on any create.
            let tag = d.upsert_tag("rust", "first").await.unwrap();
            assert_eq!((tag.version, tag.note.as_str()), (1, "first"));
            // On conflict the lock's filter is `version == 1` (the new record's default):
            // the stored record still has it, so the update half runs and bumps the version.
            let again = d.upsert_tag("rust", "second").await.unwrap();
            assert_eq!((again.id, again.version, again.note.as_str()), (tag.id, 2, "second"));
            // Now the stored version is 2: every further upsert is stale (Ash 3.32 does the
            // same), and nothing is written.
            let err = d.upsert_tag("rust", "third").await.unwrap_err();
            let stale = err.stale_record().unwrap_or_else(|| panic!("{err:?}"));
            assert_eq!(stale.operation, "upsert");
            // The stored record the upsert was skipped on comes with the refusal.
            assert_eq!(err.stored_record::<Tag>(), Some(&again));
            assert_eq!(stale.to_string(), "Attempted to upsert stale record of Tag with filter: version == 1");
            assert_eq!(d.tags().await.unwrap(), vec![again.clone()]);
            // A locked update still works on the fresh record.
            let updated = d.update_tag(&again, "fourth").await.unwrap();
            assert_eq!(updated.version, 3);
        }

        #[test]
        fn a_hundred_concurrent_upserts_of_one_key_give_one_row_and_no_error() {
            let Some((d, _env)) = block_on(setup()) else { return };
            let barrier = Arc::new(Barrier::new(100));
            let handles: Vec<_> = (0..100)
                .map(|i| {
                    let (d, barrier) = (d.clone(), barrier.clone());
                    thread::spawn(move || {
                        barrier.wait();
                        block_on(d.register("same@x", format!("writer {i}"), UserRegisterInput::new()))
                    })
                })
                .collect();
            let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(errors.is_empty(), "{errors:?}");
            let rows = block_on(d.users()).unwrap();
            assert_eq!(rows.len(), 1);
            let names: Vec<String> = (0..100).map(|i| format!("writer {i}")).collect();
            assert!(names.contains(&rows[0].name), "{:?}", rows[0]);
            assert_eq!(rows[0].email, "same@x");
        }

        #[test]
        fn racing_upserts_of_one_new_key_never_fail_on_another_identity() {
            // Writers of one round upsert the same new email with the same slug: besides the
            // upsert's own identity (`unique_email`) they also collide on `unique_slug`.
            let Some((d, _env)) = block_on(setup()) else { return };
            for round in 0..25_i64 {
                let barrier = Arc::new(Barrier::new(8));
                let handles: Vec<_> = (0..8)
                    .map(|i| {
                        let (d, barrier) = (d.clone(), barrier.clone());
                        thread::spawn(move || {
                            let input = UserClaimSlugInput::new()
                                .email(format!("r{round}@x"))
                                .name(format!("w{i}"))
                                .org_id(round)
                                .slug(Some("same".to_owned()));
                            barrier.wait();
                            block_on(d.claim_slug(input))
                        })
                    })
                    .collect();
                for handle in handles {
                    let result = handle.join().unwrap();
                    assert!(result.is_ok(), "round {round}: {result:?}");
                }
            }
            assert_eq!(block_on(d.users()).unwrap().len(), 25, "one row per round");
        }

        // ---------------------------------------------------------------------------
        // Primary-key writes.

        #[tokio::test]
        async fn an_update_that_writes_the_primary_key_is_refused_and_corrupts_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let fr = d.create_country("FR", "France").await.unwrap();
            // The scenario: create FR, update its code to DE.
            let err = d.recode_country(&fr, "Frankreich").await.unwrap_err();
            assert!(
                matches!(&err.errors()[..], [ErrorKind::InvalidAttribute(e)] if e.field == "code"),
                "{err:?}"
            );
            assert_eq!(d.get_country("FR").await.unwrap(), Some(fr.clone()));
            assert_eq!(d.get_country("DE").await.unwrap(), None);
            d.create_country("DE", "Germany").await.unwrap();
            let codes: Vec<String> = d.countries().await.unwrap().into_iter().map(|c| c.code).collect();
            let mut sorted = codes.clone();
            sorted.sort();
            assert_eq!(sorted, ["DE", "FR"]);
            // Other updates keep working.
            let renamed = d.rename_country(&fr, "La France").await.unwrap();
            assert_eq!(renamed.code, "FR");
        }
    };
}

mod ets {
    identities! { data_layer = [Ets], rounds = 50 }

    struct Env;

    async fn setup() -> Option<(Accounts, Env)> {
        Some((Accounts::new(), Env))
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        ash_rs::block_on(future)
    }

    #[test]
    fn the_index_holds_exactly_the_stored_values() {
        let d = Accounts::new();
        block_on(d.create_user("a@x", "A")).unwrap();
        assert!(block_on(d.create_user("a@x", "B")).is_err());
        let table = <Accounts as ash_rs::domain::HasResource<User>>::data_layer(&d);
        // email, [org_id, slug] (nil distinct off), handle (nil: not indexed).
        assert_eq!(
            (
                table.identity_len(0),
                table.identity_len(1),
                table.identity_len(2)
            ),
            (1, 1, 0)
        );
    }

    /// A value whose clone panics ("boom"), to panic inside the data layer's write.
    #[derive(Debug, PartialEq, Eq, Hash, serde::Deserialize)]
    pub struct Tricky(String);

    impl Clone for Tricky {
        fn clone(&self) -> Self {
            assert!(self.0 != "boom", "boom");
            Tricky(self.0.clone())
        }
    }

    impl ash_rs::AttributeValue for Tricky {
        const KIND: ash_rs::attribute::ValueKind = ash_rs::attribute::ValueKind::String;
        fn to_value(&self) -> ash_rs::value::Value {
            ash_rs::value::Value::String(self.0.clone())
        }
        fn from_value(value: ash_rs::value::Value) -> Result<Self, String> {
            match value {
                ash_rs::value::Value::String(s) => Ok(Tricky(s)),
                other => Err(format!("expected a string, got {other:?}")),
            }
        }
        fn compare(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.0.cmp(&other.0))
        }
    }

    #[resource(domain = Panics)]
    #[actions(defaults(read, create = [name, code]))]
    #[identities(identity(unique_name, [name]), identity(unique_code, [code]))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Gadget {
        #[uuid_primary_key]
        pub id: Uuid,
        pub name: String,
        pub code: Tricky,
    }

    #[domain]
    #[resources(Gadget(define(create_gadget, action = create, args = [name, code]), define(gadgets, action = read)))]
    pub struct Panics;

    #[test]
    fn a_panic_inside_the_write_leaves_no_value_taken() {
        let d = Panics::new();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // `name` is claimed, then cloning `code` for its index panics.
            let _ = block_on(d.create_gadget("g", Tricky("boom".into())));
        }));
        assert!(panicked.is_err());
        let table = <Panics as ash_rs::domain::HasResource<Gadget>>::data_layer(&d);
        assert_eq!(
            (table.identity_len(0), table.identity_len(1), table.len()),
            (0, 0, 0)
        );
        // The table is usable and the name free.
        block_on(d.create_gadget("g", Tricky("fine".into()))).unwrap();
        assert_eq!(block_on(d.gadgets()).unwrap().len(), 1);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    identities! { data_layer = [ash_rs::postgres::Postgres], rounds = 50 }

    async fn setup() -> Option<(Accounts, crate::pg_support::TestDb)> {
        let db = crate::pg_support::TestDb::new().await?;
        let domain = Accounts::connect(&db.pool)
            .await
            .expect("connect the domain");
        Some((domain, db))
    }

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

    #[tokio::test]
    async fn create_missing_tables_makes_a_unique_index_per_identity() {
        let Some((_d, db)) = setup().await else {
            return;
        };
        let admin = crate::pg_support::admin().await.unwrap();
        let rows = admin
            .query(
                "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = $1 AND tablename = 'user' ORDER BY indexname",
                &[&db.schema],
            )
            .await
            .unwrap();
        let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "user_pkey",
                "user_unique_email_index",
                "user_unique_handle_index",
                "user_unique_slug_index"
            ]
        );
        assert!(
            found[3].1.contains("UNIQUE") && found[3].1.contains("NULLS NOT DISTINCT"),
            "{found:?}"
        );
        assert!(!found[1].1.contains("NULLS NOT DISTINCT"), "{found:?}");
    }
}
