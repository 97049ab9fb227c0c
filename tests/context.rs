//! The call context (actor, tenant, transaction) reaching changes, validations, hooks and
//! nested actions; async hooks; domain values with a context. ETS (the PostgreSQL
//! transaction cases are in `tests/postgres.rs`).

use ash_rs::error::{ErrorKind, InvalidAttribute};
use ash_rs::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub name: String,
}

/// Stamps the actor's name on the post; a post needs an actor.
fn stamp_author(changeset: &mut Changeset<Post>) {
    let name = changeset.context().actor::<User>().map(|u| u.name.clone());
    if let Some(name) = name {
        changeset.changes_mut().author = Some(name);
    }
}

fn actor_present(changeset: &Changeset<Post>) -> Result<(), ErrorKind> {
    if changeset.context().has_actor() {
        Ok(())
    } else {
        Err(ErrorKind::InvalidAttribute(InvalidAttribute {
            field: "author".into(),
            message: "an actor is required".into(),
            value: None,
        }))
    }
}

/// The tenant, when there is one, prefixes the title.
fn tenant_prefix(changeset: &mut Changeset<Post>) {
    let tenant = changeset.context().tenant().map(str::to_owned);
    if let (Some(tenant), Some(title)) = (tenant, &mut changeset.changes_mut().title) {
        *title = format!("[{tenant}] {title}");
    }
}

/// A before hook that awaits (a timer: the action's future really suspends) and then
/// sets the slug; an after hook that creates an audit entry through the domain, with the
/// action's context.
fn slug_and_audit(changeset: &mut Changeset<Post>) {
    changeset.before_action_async(|mut changeset| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let slug = changeset
            .changes()
            .title
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .replace(' ', "-");
        changeset.changes_mut().slug = Some(slug);
        changeset
    });
    let Some(blog) = changeset.domain::<Blog>().cloned() else {
        changeset.add_error(ErrorKind::unknown(
            "posts are created through the Blog domain",
        ));
        return;
    };
    changeset.after_action_async(move |post: Post, ctx: Context| async move {
        tokio::task::yield_now().await;
        blog.with_context(ctx)
            .log(format!("created {}", post.slug))
            .await
            .map_err(|e| ErrorKind::unknown(e.to_string()))?;
        Ok(post)
    });
}

/// Audit entries record who acted, from the context of the action that creates them.
fn audit_actor(changeset: &mut Changeset<Audit>) {
    let who = changeset
        .context()
        .actor::<User>()
        .map_or_else(|| "nobody".to_owned(), |u| u.name.clone());
    changeset.changes_mut().actor = Some(who);
}

/// Hooks run in the order added, sync and async alike.
fn ordered_hooks(changeset: &mut Changeset<Post>) {
    changeset.before_action(|c| c.changes_mut().slug = Some("1".into()));
    changeset.before_action_async(|mut c| async move {
        tokio::task::yield_now().await;
        if let Some(slug) = &mut c.changes_mut().slug {
            slug.push('2');
        }
        c
    });
    changeset.before_action(|c| {
        if let Some(slug) = &mut c.changes_mut().slug {
            slug.push('3');
        }
    });
    changeset.after_action(|post| {
        post.slug.push('4');
        Ok(())
    });
    changeset.after_action_async(|mut post: Post, _ctx| async move {
        post.slug.push('5');
        Ok(post)
    });
}

fn failing_after_hook(changeset: &mut Changeset<Post>) {
    changeset.after_action_async(|_post: Post, _ctx| async move {
        tokio::task::yield_now().await;
        Err(ErrorKind::unknown("the after hook failed"))
    });
}

#[resource(domain = Blog)]
#[actions(
    defaults(read),
    create(create, accept = [title], change = stamp_author, change = tenant_prefix, validate = actor_present),
    create(create_with_hooks, accept = [title], change = slug_and_audit),
    create(create_ordered, accept = [title], change = ordered_hooks),
    create(create_failing, accept = [title], change = failing_after_hook),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
    #[attribute(default = String::new())]
    pub author: String,
    #[attribute(default = String::new())]
    pub slug: String,
}

#[resource(domain = Blog)]
#[actions(defaults(read), create(create, accept = [message], change = audit_actor))]
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    #[uuid_primary_key]
    pub id: Uuid,
    pub message: String,
    #[attribute(default = String::new())]
    pub actor: String,
}

#[domain]
#[resources(
    Post(
        define(write_post, action = create, args = [title]),
        define(write_post_with_hooks, action = create_with_hooks, args = [title]),
        define(write_post_ordered, action = create_ordered, args = [title]),
        define(write_post_failing, action = create_failing, args = [title]),
        define(posts, action = read),
    ),
    Audit(define(log, action = create, args = [message]), define(audits, action = read)),
)]
pub struct Blog;

fn ann() -> User {
    User { name: "ann".into() }
}

#[tokio::test]
async fn the_actor_reaches_changes_and_validations() {
    let blog = Blog::new();
    let post = blog.with_actor(&ann()).write_post("Hello").await.unwrap();
    assert_eq!(post.author, "ann");

    // Without an actor the validation fails, and nothing is written.
    let err = blog.write_post("Anonymous").await.unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { errors } if matches!(&errors[..], [ErrorKind::InvalidAttribute(e)] if e.field == "author")),
        "{err:?}"
    );
    assert_eq!(blog.posts().await.unwrap(), vec![post]);
}

#[tokio::test]
async fn the_tenant_reaches_changes() {
    let blog = Blog::new().with_actor(&ann());
    let post = blog.with_tenant("acme").write_post("Hello").await.unwrap();
    assert_eq!(post.title, "[acme] Hello");
    let plain = blog.write_post("Hello").await.unwrap();
    assert_eq!(plain.title, "Hello");
}

#[tokio::test]
async fn a_domain_with_a_context_shares_the_tables_and_leaves_the_original_alone() {
    let blog = Blog::new();
    let as_ann = blog.with_actor(&ann());
    assert!(!blog.context().has_actor());
    assert_eq!(as_ann.context().actor::<User>(), Some(&ann()));
    // An actor of another type is not mistaken for a `User`.
    let other = blog.with_actor(&"a string actor");
    assert_eq!(other.context().actor::<User>(), None);
    assert!(other.context().has_actor());

    let post = as_ann.write_post("Shared").await.unwrap();
    assert_eq!(blog.posts().await.unwrap(), vec![post]);
    // Debug shows the actor's type, never its contents.
    let shown = format!("{:?}", as_ann.context());
    assert!(shown.contains("User"), "{shown}");
    assert!(!shown.contains("ann"), "{shown}");
}

#[tokio::test]
async fn async_hooks_await_and_an_after_hook_runs_an_action_with_the_actions_context() {
    let blog = Blog::new();
    let post = blog
        .with_actor(&ann())
        .write_post_with_hooks("Hello World")
        .await
        .unwrap();
    assert_eq!(post.slug, "hello-world");
    let audits = blog.audits().await.unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].message, "created hello-world");
    // The nested action saw the outer call's actor.
    assert_eq!(audits[0].actor, "ann");
}

#[tokio::test]
async fn a_change_sees_the_domain_only_when_called_through_one() {
    // Called through the low-level pipeline with no domain, the change reports it.
    let blog = Blog::new();
    let layer = <Blog as ash_rs::domain::HasResource<Post>>::data_layer(&blog);
    let err = ash_rs::action::create(
        layer,
        &Context::new(),
        PostCreateWithHooksInput::new().title("x"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("through the Blog domain"), "{err}");
    assert!(blog.posts().await.unwrap().is_empty());
    assert!(blog.audits().await.unwrap().is_empty());
}

#[tokio::test]
async fn hooks_run_in_the_order_added_sync_and_async_alike() {
    let post = Blog::new().write_post_ordered("x").await.unwrap();
    assert_eq!(post.slug, "12345");
}

#[tokio::test]
async fn an_after_hook_error_fails_the_action_and_on_ets_the_write_stays() {
    let blog = Blog::new();
    let err = blog.write_post_failing("kept").await.unwrap_err();
    assert!(err.to_string().contains("the after hook failed"), "{err}");
    // ETS has no transactions: documented, the write stays.
    let posts = blog.posts().await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].title, "kept");
}

#[tokio::test]
async fn ets_transactions_do_nothing_and_say_so() {
    let blog = Blog::new().with_actor(&ann());
    let tx = blog.begin().await.unwrap();
    assert!(!tx.is_real());
    let in_tx = blog.with_transaction(&tx);
    assert!(in_tx.context().transaction().is_some());
    in_tx.write_post("in a transaction").await.unwrap();
    tx.rollback().await.unwrap();
    // Each ETS write is atomic on its own; a rollback cannot undo it.
    assert_eq!(blog.posts().await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_with_suspending_hooks_run_as_spawned_tasks() {
    let blog = Blog::new().with_actor(&ann());
    let mut tasks = Vec::new();
    for i in 0..32 {
        let blog = blog.clone();
        tasks.push(tokio::spawn(async move {
            blog.write_post_with_hooks(format!("post {i}")).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(blog.posts().await.unwrap().len(), 32);
    assert_eq!(blog.audits().await.unwrap().len(), 32);
}

#[test]
fn block_on_drives_actions_whose_hooks_need_no_reactor() {
    // `ordered_hooks` only yields to the executor (tokio's yield_now needs no reactor).
    let blog = Blog::new();
    let post = ash_rs::block_on(blog.write_post_ordered("x")).unwrap();
    assert_eq!(post.slug, "12345");
}

/// Polls `future` once with a waker that does nothing: ETS calls never suspend.
fn first_poll<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

#[test]
fn ets_calls_complete_in_their_first_poll() {
    let blog = Blog::new().with_actor(&ann());
    // An action with user changes (which could add hooks, and here add none).
    let post = first_poll(blog.write_post("first poll"))
        .expect("ready")
        .unwrap();
    // Reads, and an action of only builtins.
    let all = first_poll(blog.posts()).expect("ready").unwrap();
    assert_eq!(all, vec![post]);
    let audit = first_poll(blog.log("x")).expect("ready").unwrap();
    assert_eq!(audit.actor, "ann");
    // A hook that sleeps on a timer does suspend: the first poll is not the end.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();
    assert!(first_poll(blog.write_post_with_hooks("sleeps")).is_none());
}
