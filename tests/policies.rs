//! Policies (issue 16), one suite expanded for ETS and for PostgreSQL (`policies!` below):
//! Ash's semantics (every applicable policy must pass, first decisive check wins, no
//! applicable policy forbids, bypasses), the actor from the call context, filter checks
//! that filter reads (in the one statement on PostgreSQL) and join the locked write (check
//! and write are one atomic step), and the `Forbidden` breakdown.
//!
//! PostgreSQL tests use `ASH_POSTGRES_URL` (see `pg_support`); without a server they print
//! one line and pass, unless `CI` is set.

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! policies {
    (data_layer = [$($data_layer:tt)*], rounds = $rounds:expr $(,)?) => {
        use ash_rs::policy::{PolicyResult, Request};
        use ash_rs::prelude::*;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Barrier};

        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Role {
            Admin,
            Editor,
            Member,
        }

        /// The actor: not a resource, any `Send + Sync` type.
        #[derive(Debug, Clone)]
        pub struct User {
            pub id: i64,
            pub role: Role,
            pub banned: bool,
        }

        fn user(id: i64, role: Role) -> User {
            User { id, role, banned: false }
        }

        /// A custom check: the actor is an editor.
        pub struct IsEditor;

        impl Check<Post> for IsEditor {
            type Actor = User;
            fn describe(&self) -> String {
                "actor is an editor".into()
            }
            fn check(&self, actor: Option<&User>, _: &Request<'_>) -> Decision<Post> {
                Decision::from_bool(actor.is_some_and(|u| u.role == Role::Editor))
            }
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            read(paged, pagination(offset = true, countable = true, default_limit = 100)),
            create(create, accept = [title, author_id, published]),
            update(update, accept = [title], change = optimistic_lock(version)),
            update(edit, change = increment(edits)),
            update(publish, change = set_attribute(published, true)),
            update(transfer, accept = [author_id]),
            update(archive, accept = [title]),
        )]
        #[policies(
            actor = User,
            bypass(actor_attribute_equals(role, Role::Admin), authorize_if(always())),
            policy(actor_attribute_equals(banned, true), forbid_if(always())),
            policy(
                action_type(read),
                authorize_if(expr(Post::PUBLISHED.eq(true))),
                authorize_if(attribute_equals_actor(author_id, id)),
            ),
            policy(action_type(create), authorize_if(expr(Post::AUTHOR_ID.eq(actor.id)))),
            policy(action([update, edit, destroy]), authorize_if(attribute_equals_actor(author_id, id))),
            policy(action(publish), forbid_unless(actor_present()), authorize_if(IsEditor)),
            policy(action(transfer), forbid_if(always())),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            #[attribute(default = 1)]
            pub version: i64,
            pub title: String,
            pub author_id: i64,
            #[attribute(default = false)]
            pub published: bool,
            #[attribute(default = 0)]
            pub edits: i64,
        }

        /// No policies: every call authorized, with or without an actor.
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [body]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Note {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
        }

        /// An actor that is a resource: `relates_to_actor_via` compares with its key.
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Member {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [title, author_id]), update(update, accept = [title]))]
        #[relationships(belongs_to(author, Member))]
        #[policies(
            actor = Member,
            policy(action_type(create), authorize_if(always())),
            policy(action_type([read, update, destroy]), authorize_if(relates_to_actor_via(author))),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Article {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[domain]
        #[resources(
            Member(define(create_member, action = create, args = [name])),
            Article(
                define(create_article, action = create, args = [title, author_id]),
                define(articles, action = read),
                define(update_article, action = update),
                define(destroy_article, action = destroy),
            ),
            Post(
                define(create_post, action = create, args = [title, author_id]),
                define(create_post_with, action = create),
                define(posts, action = read),
                define(get_post, action = read, get_by = [id]),
                define(update_post, action = update),
                define(update_post_by_id, action = update, get_by = [id]),
                define(edit_post, action = edit),
                define(publish_post, action = publish),
                define(transfer_post, action = transfer, args = [author_id]),
                define(archive_post, action = archive),
                define(destroy_post, action = destroy),
            ),
            Note(define(create_note, action = create, args = [body]), define(notes, action = read)),
        )]
        pub struct Blog;

        const ALICE: i64 = 1;
        const BOB: i64 = 2;

        fn admin() -> User {
            user(99, Role::Admin)
        }

        /// Alice: three posts (one published); Bob: two (one published). Created by an
        /// admin (the bypass), so every author is allowed.
        async fn seed(d: &Blog) -> Vec<Post> {
            let a = d.with_actor(&admin());
            let mut out = Vec::new();
            for (title, author, published) in [
                ("a1", ALICE, false),
                ("a2", ALICE, true),
                ("a3", ALICE, false),
                ("b1", BOB, false),
                ("b2", BOB, true),
            ] {
                let input = PostCreateInput::new().title(title).author_id(author).published(published);
                out.push(a.create_post_with(input).await.unwrap());
            }
            out
        }

        fn titles(mut posts: Vec<Post>) -> Vec<String> {
            posts.sort_by(|a, b| a.title.cmp(&b.title));
            posts.into_iter().map(|p| p.title).collect()
        }

        fn forbidden(err: &Error) -> &ash_rs::policy::Forbidden {
            assert!(matches!(err, Error::Forbidden { .. }), "expected Forbidden, got {err:?}");
            err.forbidden().unwrap_or_else(|| panic!("expected a breakdown, got {err:?}"))
        }

        async fn stored(d: &Blog, id: Uuid) -> Post {
            d.with_actor(&admin()).get_post(id).await.unwrap()
        }

        // -------------------------------------------------------------------------
        // Reads are filtered, not forbidden.

        #[tokio::test]
        async fn a_read_under_a_filter_policy_returns_exactly_the_actors_records() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            assert_eq!(titles(alice.posts().await.unwrap()), ["a1", "a2", "a3", "b2"]);
            let bob = d.with_actor(&user(BOB, Role::Member));
            assert_eq!(titles(bob.posts().await.unwrap()), ["a2", "b1", "b2"]);
        }

        #[tokio::test]
        async fn a_read_without_an_actor_sees_what_needs_no_actor() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            assert_eq!(titles(d.posts().await.unwrap()), ["a2", "b2"]);
        }

        #[tokio::test]
        async fn an_actor_of_another_type_counts_as_no_actor_for_typed_checks() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            let other = d.with_actor(&"alice".to_owned());
            assert_eq!(titles(other.posts().await.unwrap()), ["a2", "b2"]);
        }

        #[tokio::test]
        async fn a_bypass_that_passes_skips_every_later_policy() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            let mut banned_admin = admin();
            banned_admin.banned = true;
            let all = d.with_actor(&banned_admin).posts().await.unwrap();
            assert_eq!(titles(all), ["a1", "a2", "a3", "b1", "b2"]);
        }

        #[tokio::test]
        async fn the_policy_filter_joins_the_callers_query() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let query = Query::new().filter(Post::TITLE.is_in(["a1", "b1", "b2"]));
            let found = ash_rs::api::read(&alice, PostReadInput::new(), query).await.unwrap();
            assert_eq!(titles(found), ["a1", "b2"]);
        }

        #[tokio::test]
        async fn a_get_of_a_record_the_actor_cannot_see_is_not_found() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            assert_eq!(alice.get_post(posts[0].id).await.unwrap().title, "a1");
            let err = alice.get_post(posts[3].id).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
        }

        #[tokio::test]
        async fn a_page_and_its_count_hold_only_what_the_actor_may_see() {
            let Some((d, _env)) = setup().await else { return };
            seed(&d).await;
            let bob = d.with_actor(&user(BOB, Role::Member));
            let page = ash_rs::api::read_page(
                &bob,
                PostPagedInput::new(),
                Query::new().sort_by(Post::TITLE.asc()),
                PageRequest::offset(0).limit(2).count(),
            )
            .await
            .unwrap();
            assert_eq!(page.count, Some(3));
            assert_eq!(titles(page.results), ["a2", "b1"]);
            assert!(page.more);
        }

        #[tokio::test]
        async fn a_get_by_before_an_update_is_filtered_too() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let err = alice
                .update_post_by_id(posts[3].id, PostUpdateInput::new().title("mine now"))
                .await
                .unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            let done = alice
                .update_post_by_id(posts[0].id, PostUpdateInput::new().title("edited"))
                .await
                .unwrap();
            assert_eq!(done.title, "edited");
        }

        // -------------------------------------------------------------------------
        // Creates.

        #[tokio::test]
        async fn a_create_is_authorized_for_records_the_filter_allows() {
            let Some((d, _env)) = setup().await else { return };
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let post = alice.create_post("mine", ALICE, PostCreateInput::new()).await.unwrap();
            assert_eq!(post.author_id, ALICE);
            let err = alice.create_post("for bob", BOB, PostCreateInput::new()).await.unwrap_err();
            let f = forbidden(&err);
            assert_eq!(f.policy, Some("policy(action_type(create))"));
            assert_eq!(f.check, None, "the filter check did not hold for the new record");
            assert_eq!(titles(d.with_actor(&admin()).posts().await.unwrap()), ["mine"], "nothing written");
        }

        #[tokio::test]
        async fn a_create_without_an_actor_is_forbidden() {
            let Some((d, _env)) = setup().await else { return };
            let err = d.create_post("anon", ALICE, PostCreateInput::new()).await.unwrap_err();
            forbidden(&err);
            assert!(d.with_actor(&admin()).posts().await.unwrap().is_empty());
        }

        #[tokio::test]
        async fn a_resource_without_policies_needs_no_actor() {
            let Some((d, _env)) = setup().await else { return };
            d.create_note("hello").await.unwrap();
            assert_eq!(d.notes().await.unwrap().len(), 1);
            assert!(<Note as ash_rs::resource::Resource>::POLICIES.is_empty());
        }

        // -------------------------------------------------------------------------
        // Updates and destroys: the filter joins the write.

        #[tokio::test]
        async fn the_owner_updates_and_another_actor_is_forbidden_with_nothing_written() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let done = alice.update_post(&posts[0], PostUpdateInput::new().title("a1'")).await.unwrap();
            assert_eq!((done.title.as_str(), done.version), ("a1'", 2));
            let err = alice.update_post(&posts[3], PostUpdateInput::new().title("stolen")).await.unwrap_err();
            let f = forbidden(&err);
            assert_eq!(f.policy, Some("policy(action([update, edit, destroy]))"));
            assert_eq!(f.check, None, "the filter check did not hold, so no check decided");
            assert_eq!(stored(&d, posts[3].id).await, posts[3]);
        }

        #[tokio::test]
        async fn a_destroy_by_another_actor_is_forbidden_and_the_owners_succeeds() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let bob = d.with_actor(&user(BOB, Role::Member));
            forbidden(&bob.destroy_post(&posts[0]).await.unwrap_err());
            assert_eq!(stored(&d, posts[0].id).await, posts[0]);
            bob.destroy_post(&posts[3]).await.unwrap();
            assert_eq!(d.with_actor(&admin()).posts().await.unwrap().len(), 4);
        }

        #[tokio::test]
        async fn a_record_whose_owner_changed_after_the_read_is_not_written() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let copy = alice.get_post(posts[0].id).await.unwrap();
            d.with_actor(&admin()).transfer_post(&copy, BOB).await.unwrap();
            // Alice's copy still says she owns it: the stored record decides.
            let err = alice.edit_post(&copy).await.unwrap_err();
            forbidden(&err);
            let now = stored(&d, copy.id).await;
            assert_eq!((now.author_id, now.edits), (BOB, 0));
        }

        #[tokio::test]
        async fn a_stale_version_of_an_own_record_is_stale_not_forbidden() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            alice.update_post(&posts[0], PostUpdateInput::new().title("first")).await.unwrap();
            let err = alice.update_post(&posts[0], PostUpdateInput::new().title("second")).await.unwrap_err();
            assert!(err.is_stale(), "{err:?}");
            assert!(!err.is_forbidden());
            // The write's whole guard, as one filter: the lock, then the policy's filter.
            let stale = err.stale_record().unwrap_or_else(|| panic!("{err:?}"));
            assert_eq!(stale.operation, "update");
            assert_eq!(stale.filter.to_string(), format!("version == 1 and author_id == {ALICE}"));
            // What the actor may read is the read action's business: a resource with
            // policies never carries the stored record on a refusal.
            assert!(!stale.has_stored());
            assert_eq!(err.stored_record::<Post>(), None);
        }

        #[tokio::test]
        async fn a_deleted_record_the_actor_could_write_is_forbidden_like_any_refusal() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            d.with_actor(&admin()).destroy_post(&posts[0]).await.unwrap();
            let alice = d.with_actor(&user(ALICE, Role::Member));
            // As in Ash: no row matching `pk and filter` is Forbidden; it tells nothing
            // about whether the record exists.
            forbidden(&alice.edit_post(&posts[0]).await.unwrap_err());
        }

        // -------------------------------------------------------------------------
        // relates_to_actor_via.

        /// Ann: two articles; Ben: one.
        async fn seed_articles(d: &Blog) -> (Member, Member, Vec<Article>) {
            let ann = d.create_member("ann").await.unwrap();
            let ben = d.create_member("ben").await.unwrap();
            let mut out = Vec::new();
            for (title, author) in [("ann1", &ann), ("ann2", &ann), ("ben1", &ben)] {
                out.push(d.create_article(title, author.id).await.unwrap());
            }
            (ann, ben, out)
        }

        fn article_titles(mut articles: Vec<Article>) -> Vec<String> {
            articles.sort_by(|a, b| a.title.cmp(&b.title));
            articles.into_iter().map(|a| a.title).collect()
        }

        #[tokio::test]
        async fn relates_to_actor_via_a_belongs_to_reads_exactly_the_actors_records() {
            let Some((d, _env)) = setup().await else { return };
            let (ann, ben, _) = seed_articles(&d).await;
            assert_eq!(article_titles(d.with_actor(&ann).articles().await.unwrap()), ["ann1", "ann2"]);
            assert_eq!(article_titles(d.with_actor(&ben).articles().await.unwrap()), ["ben1"]);
            // No actor (or one of another type): the check is false, the read is forbidden.
            assert!(d.articles().await.unwrap_err().is_forbidden());
            let other = d.with_actor(&user(ALICE, Role::Member));
            assert!(other.articles().await.unwrap_err().is_forbidden());
        }

        #[test]
        fn relates_to_actor_via_a_belongs_to_is_the_attribute_filter() {
            let member = Member { id: Uuid::from_u128(7), name: "m".into() };
            let ctx = ash_rs::context::Context::new().with_actor(&member);
            let info = <ArticleReadInput as ash_rs::action::Action>::INFO;
            match ash_rs::policy::authorize::<Article>(info, &ctx) {
                ash_rs::policy::Authorization::Filter(f) => {
                    assert_eq!(f, Article::AUTHOR_ID.eq(member.id), "no relationship filter")
                }
                other => panic!("expected a filter, got {other:?}"),
            }
        }

        #[tokio::test]
        async fn relates_to_actor_via_refuses_another_users_record_and_writes_nothing() {
            let Some((d, _env)) = setup().await else { return };
            let (ann, ben, articles) = seed_articles(&d).await;
            let as_ann = d.with_actor(&ann);
            let err = as_ann
                .update_article(&articles[2], ArticleUpdateInput::new().title("stolen"))
                .await
                .unwrap_err();
            let f = forbidden(&err);
            assert_eq!(f.policy, Some("policy(action_type([read, update, destroy]))"));
            forbidden(&as_ann.destroy_article(&articles[2]).await.unwrap_err());
            assert_eq!(article_titles(d.with_actor(&ben).articles().await.unwrap()), ["ben1"], "nothing written");
            let done = as_ann
                .update_article(&articles[0], ArticleUpdateInput::new().title("ann1'"))
                .await
                .unwrap();
            assert_eq!(done.title, "ann1'");
        }

        // -------------------------------------------------------------------------
        // Ash's rules.

        #[tokio::test]
        async fn the_first_decisive_check_wins_and_a_custom_check_decides() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let editor = d.with_actor(&user(7, Role::Editor));
            assert!(editor.publish_post(&posts[0]).await.unwrap().published);
            let member = d.with_actor(&user(ALICE, Role::Member));
            let f = forbidden(&member.publish_post(&posts[2]).await.unwrap_err()).clone();
            assert_eq!(f.policy, Some("policy(action(publish))"));
            assert_eq!(f.check, None, "no check decided for a member");
            let err = d.publish_post(&posts[2]).await.unwrap_err();
            assert_eq!(forbidden(&err).check, Some("forbid_unless(actor_present())"));
            assert!(!stored(&d, posts[2].id).await.published);
        }

        #[tokio::test]
        async fn an_applicable_policy_that_forbids_is_named_with_its_check() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let err = alice.transfer_post(&posts[0], BOB).await.unwrap_err();
            let f = forbidden(&err);
            assert_eq!(f.policy, Some("policy(action(transfer))"));
            assert_eq!(f.check, Some("forbid_if(always())"));
            let outcome = f.policies.iter().find(|p| p.policy == "policy(action(transfer))").unwrap();
            assert_eq!(outcome.result, PolicyResult::Forbidden);
            let bypass = &f.policies[0];
            assert!(bypass.bypass);
            assert_eq!(bypass.applies, Some(false));
            // The bypass authorizes an admin.
            let moved = d.with_actor(&admin()).transfer_post(&posts[0], BOB).await.unwrap();
            assert_eq!(moved.author_id, BOB);
        }

        #[tokio::test]
        async fn no_applicable_policy_forbids() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let err = alice.archive_post(&posts[0], PostArchiveInput::new().title("old")).await.unwrap_err();
            let f = forbidden(&err);
            assert_eq!((f.policy, f.check), (None, None));
            assert_eq!(err.to_string(), "Forbidden Error\n\n* forbidden: Post.archive: no policy applies");
            assert!(f.policies.iter().all(|p| p.result == PolicyResult::NotApplicable));
        }

        #[tokio::test]
        async fn every_applicable_policy_must_pass() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let mut banned = user(ALICE, Role::Member);
            banned.banned = true;
            let alice = d.with_actor(&banned);
            // Her own post: the ownership policy passes, the ban policy forbids.
            let err = alice.edit_post(&posts[0]).await.unwrap_err();
            let f = forbidden(&err);
            assert_eq!(f.policy, Some("policy(actor_attribute_equals(banned, true))"));
            assert_eq!(f.check, Some("forbid_if(always())"));
            assert!(alice.posts().await.unwrap_err().is_forbidden(), "a statically false read is forbidden");
        }

        #[tokio::test]
        async fn the_forbidden_error_serializes_and_reveals_no_record() {
            let Some((d, _env)) = setup().await else { return };
            let posts = seed(&d).await;
            let alice = d.with_actor(&user(ALICE, Role::Member));
            let err = alice.update_post(&posts[3], PostUpdateInput::new().title("x")).await.unwrap_err();
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["class"], "forbidden");
            assert_eq!(json["errors"][0]["code"], "forbidden");
            assert_eq!(json["errors"][0]["resource"], "Post");
            assert_eq!(json["errors"][0]["action"], "update");
            assert_eq!(json["errors"][0]["policy"], "policy(action([update, edit, destroy]))");
            assert_eq!(json["errors"][0]["policies"][4]["result"], "no_check_decided");
            let text = json.to_string();
            for secret in [posts[3].id.to_string(), "b1".to_owned(), "\"author_id\":2".to_owned()] {
                assert!(!text.contains(&secret), "{secret} in {text}");
            }
        }

        // -------------------------------------------------------------------------
        // The race: the owner changes while writes of the old owner are in flight.

        #[test]
        fn a_concurrent_owner_change_never_lets_the_old_owner_write() {
            for _ in 0..$rounds {
                let Some((d, _env)) = block_on(setup()) else { return };
                let post = block_on(d.with_actor(&admin()).create_post("race", ALICE, PostCreateInput::new())).unwrap();
                let writers = 4;
                let attempts = 25;
                let barrier = Arc::new(Barrier::new(writers + 1));
                let ok = Arc::new(AtomicUsize::new(0));
                let refused = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..writers)
                    .map(|_| {
                        let (d, post, barrier, ok, refused) =
                            (d.clone(), post.clone(), barrier.clone(), ok.clone(), refused.clone());
                        std::thread::spawn(move || {
                            let alice = d.with_actor(&user(ALICE, Role::Member));
                            barrier.wait();
                            // Always the copy read before the race: it says Alice owns it.
                            for _ in 0..attempts {
                                match block_on(alice.edit_post(&post)) {
                                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                                    Err(e) => {
                                        assert!(e.is_forbidden(), "{e:?}");
                                        refused.fetch_add(1, Ordering::SeqCst)
                                    }
                                };
                            }
                        })
                    })
                    .collect();
                barrier.wait();
                let moved = block_on(d.with_actor(&admin()).transfer_post(&post, BOB)).unwrap();
                for h in handles {
                    h.join().unwrap();
                }
                let last = block_on(stored(&d, post.id));
                let (ok, refused) = (ok.load(Ordering::SeqCst), refused.load(Ordering::SeqCst));
                assert_eq!(ok + refused, writers * attempts);
                // Every successful edit was counted, and none landed after the transfer.
                assert_eq!(last.edits as usize, ok);
                assert_eq!(last.edits, moved.edits, "an edit landed after the owner changed");
                assert_eq!(last.author_id, BOB);
            }
        }
    };
}

mod ets {
    policies! { data_layer = [Ets], rounds = 20 }

    struct Env;

    async fn setup() -> Option<(Blog, Env)> {
        Some((Blog::new(), Env))
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        ash_rs::block_on(future)
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    policies! { data_layer = [ash_rs::postgres::Postgres], rounds = 3 }

    async fn setup() -> Option<(Blog, crate::pg_support::TestDb)> {
        let db = crate::pg_support::TestDb::new().await?;
        let domain = Blog::connect(&db.pool).await.expect("connect the domain");
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
}

/// `relates_to_actor_via` through a path (`exists` through each hop, ending at the
/// actor's key) and through a to-many relationship, one suite for ETS and PostgreSQL:
/// PostgreSQL renders it as `EXISTS` in the read's and the write's one statement; ETS
/// resolves it to keys through the domain's tables before the read or the write's entry
/// guard.
macro_rules! paths {
    (data_layer = [$($data_layer:tt)*] $(,)?) => {
        use ash_rs::prelude::*;

        #[resource(domain = Forum, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name, board_id]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Member {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
            /// The board the member moderates, if any.
            pub board_id: Option<Uuid>,
        }

        #[resource(domain = Forum, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title, author_id]), update(update, accept = [author_id]))]
        #[relationships(belongs_to(author, Member))]
        // An `expr` through a relationship: resolved to keys on ETS as a path is.
        #[policies(
            policy(action_type([create, update]), authorize_if(always())),
            policy(action_type(read), authorize_if(expr(exists(Article::AUTHOR, Member::NAME.eq("ann"))))),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Article {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        /// Replies to an article: its author may read, edit and delete every one of them.
        #[resource(domain = Forum, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy, create = [body, article_id]),
            update(update, accept = [body]),
            update(move_to, accept = [article_id]),
        )]
        #[relationships(belongs_to(article, Article))]
        #[policies(
            actor = Member,
            policy(action_type(create), authorize_if(always())),
            policy(action_type([read, update, destroy]), authorize_if(relates_to_actor_via([article, author]))),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Reply {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
        }

        /// A board, read by its moderators only: a to-many hop (`has_many`).
        #[resource(domain = Forum, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name]))]
        #[relationships(has_many(moderators, Member))]
        #[policies(
            actor = Member,
            policy(action_type(create), authorize_if(always())),
            policy(action_type(read), authorize_if(relates_to_actor_via(moderators))),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Board {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[domain]
        #[resources(
            Member(define(create_member, action = create, args = [name, board_id])),
            Article(
                define(create_article, action = create, args = [title, author_id]),
                define(update_article, action = update),
                define(articles, action = read),
            ),
            Reply(
                define(create_reply, action = create, args = [body, article_id]),
                define(replies, action = read),
                define(get_reply, action = read, get_by = [id]),
                define(update_reply, action = update),
                define(move_reply, action = move_to),
                define(destroy_reply, action = destroy),
            ),
            Board(
                define(create_board, action = create, args = [name]),
                define(boards, action = read),
            ),
        )]
        pub struct Forum;

        fn bodies(mut replies: Vec<Reply>) -> Vec<String> {
            replies.sort_by(|a, b| a.body.cmp(&b.body));
            replies.into_iter().map(|r| r.body).collect()
        }

        /// Ann's article has two replies, Ben's one.
        async fn seed(d: &Forum) -> (Member, Member, Vec<Article>, Vec<Reply>) {
            let ann = d.create_member("ann", None::<Uuid>).await.unwrap();
            let ben = d.create_member("ben", None::<Uuid>).await.unwrap();
            let a = d.create_article("by ann", ann.id).await.unwrap();
            let b = d.create_article("by ben", ben.id).await.unwrap();
            let mut out = Vec::new();
            for (body, article) in [("on ann 1", &a), ("on ann 2", &a), ("on ben", &b)] {
                out.push(d.create_reply(body, article.id).await.unwrap());
            }
            (ann, ben, vec![a, b], out)
        }

        #[tokio::test]
        async fn a_two_hop_path_reads_exactly_the_replies_to_the_actors_articles() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let (ann, ben, _, replies) = seed(&d).await;
            assert_eq!(
                bodies(d.with_actor(&ann).replies().await.unwrap()),
                ["on ann 1", "on ann 2"]
            );
            assert_eq!(
                bodies(d.with_actor(&ben).replies().await.unwrap()),
                ["on ben"]
            );
            assert!(
                d.replies().await.unwrap_err().is_forbidden(),
                "no actor: the check is false"
            );
            // A get of a reply the actor may not see is NotFound, of one it may see the reply.
            let err = d.with_actor(&ann).get_reply(replies[2].id).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(d.with_actor(&ann).get_reply(replies[0].id).await.unwrap(), replies[0]);
        }

        #[tokio::test]
        async fn a_two_hop_path_joins_the_write_and_refuses_another_users_record() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let (ann, ben, _, replies) = seed(&d).await;
            let as_ann = d.with_actor(&ann);
            let err = as_ann
                .update_reply(&replies[2], ReplyUpdateInput::new().body("stolen"))
                .await
                .unwrap_err();
            assert!(err.is_forbidden(), "{err:?}");
            assert_eq!(
                bodies(d.with_actor(&ben).replies().await.unwrap()),
                ["on ben"],
                "nothing written"
            );
            let done = as_ann
                .update_reply(&replies[0], ReplyUpdateInput::new().body("on ann 1'"))
                .await
                .unwrap();
            assert_eq!(done.body, "on ann 1'");
        }

        #[tokio::test]
        async fn a_two_hop_path_guards_the_destroy() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let (ann, ben, _, replies) = seed(&d).await;
            let err = d.with_actor(&ann).destroy_reply(&replies[2]).await.unwrap_err();
            assert!(err.is_forbidden(), "{err:?}");
            assert_eq!(bodies(d.with_actor(&ben).replies().await.unwrap()), ["on ben"]);
            d.with_actor(&ann).destroy_reply(&replies[1]).await.unwrap();
            assert_eq!(bodies(d.with_actor(&ann).replies().await.unwrap()), ["on ann 1"]);
        }

        /// The path is evaluated against the stored records at the write: a reply moved to
        /// Ben's article (by Ben) is no longer Ann's to edit, and an article given to Ben
        /// takes its replies with it.
        #[tokio::test]
        async fn a_two_hop_path_follows_the_stored_records() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let (ann, ben, articles, replies) = seed(&d).await;
            // Ben may not move Ann's reply; Ann may (the policy holds before the move).
            let err = d
                .with_actor(&ben)
                .move_reply(&replies[0], ReplyMoveToInput::new().article_id(articles[1].id))
                .await
                .unwrap_err();
            assert!(err.is_forbidden(), "{err:?}");
            let moved = d
                .with_actor(&ann)
                .move_reply(&replies[0], ReplyMoveToInput::new().article_id(articles[1].id))
                .await
                .unwrap();
            // Ann's stale copy of the moved reply: refused, the stored reply is Ben's now.
            let err = d
                .with_actor(&ann)
                .update_reply(&replies[0], ReplyUpdateInput::new().body("late"))
                .await
                .unwrap_err();
            assert!(err.is_forbidden(), "{err:?}");
            assert_eq!(bodies(d.with_actor(&ben).replies().await.unwrap()), ["on ann 1", "on ben"]);
            // The article changes author: its reply follows.
            d.update_article(&articles[0], ArticleUpdateInput::new().author_id(ben.id))
                .await
                .unwrap();
            assert!(d.with_actor(&ann).replies().await.unwrap().is_empty());
            let done = d
                .with_actor(&ben)
                .update_reply(&replies[1], ReplyUpdateInput::new().body("kept"))
                .await
                .unwrap();
            assert_eq!(done.body, "kept");
            assert_eq!(moved.body, "on ann 1");
        }

        #[tokio::test]
        async fn an_expr_check_through_a_relationship_filters_the_read() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let (_, ben, _, _) = seed(&d).await;
            let titles = |articles: Vec<Article>| articles.into_iter().map(|a| a.title).collect::<Vec<_>>();
            assert_eq!(titles(d.articles().await.unwrap()), ["by ann"]);
            assert_eq!(titles(d.with_actor(&ben).articles().await.unwrap()), ["by ann"]);
        }

        #[tokio::test]
        async fn a_to_many_hop_reads_exactly_the_boards_the_actor_moderates() {
            let Some((d, _env)) = setup().await else {
                return;
            };
            let rust = d.create_board("rust").await.unwrap();
            let elixir = d.create_board("elixir").await.unwrap();
            let ann = d.create_member("ann", Some(rust.id)).await.unwrap();
            let ben = d.create_member("ben", Some(elixir.id)).await.unwrap();
            let cy = d.create_member("cy", None::<Uuid>).await.unwrap();
            let names = |boards: Vec<Board>| boards.into_iter().map(|b| b.name).collect::<Vec<_>>();
            assert_eq!(names(d.with_actor(&ann).boards().await.unwrap()), ["rust"]);
            assert_eq!(names(d.with_actor(&ben).boards().await.unwrap()), ["elixir"]);
            assert!(d.with_actor(&cy).boards().await.unwrap().is_empty());
        }
    };
}

mod ets_paths {
    paths! { data_layer = [Ets] }

    struct Env;

    async fn setup() -> Option<(Forum, Env)> {
        Some((Forum::new(), Env))
    }
}

#[cfg(feature = "postgres")]
mod postgres_paths {
    paths! { data_layer = [ash_rs::postgres::Postgres] }

    async fn setup() -> Option<(Forum, crate::pg_support::TestDb)> {
        let db = crate::pg_support::TestDb::new().await?;
        let domain = Forum::connect(&db.pool).await.expect("connect the domain");
        Some((domain, db))
    }
}
