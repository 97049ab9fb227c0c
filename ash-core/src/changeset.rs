//! The [`Changeset`]: what a running action builds before it reaches the data layer.

use crate::action::{ActionInfo, ActionType};
use crate::context::Context;
use crate::data_layer::{Atomic, AtomicExpr, Atomics, DestroyOp, Guard, Lock, UpdateOp};
use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::future::BoxFuture;
use crate::resource::Resource;
use std::any::Any;
use std::future::Future;

/// The state of one action run: the record it acts on, the call's context, the attribute
/// writes, the filter and atomic writes for the data layer, and the errors so far.
///
/// Changes and validations receive `&mut Changeset` / `&Changeset`. A changeset is `Send`:
/// an action's future can move between threads.
pub struct Changeset<'a, R: Resource> {
    action: &'static ActionInfo,
    data: Option<&'a R>,
    ctx: &'a Context,
    pub(crate) domain: Option<&'a (dyn Any + Send + Sync)>,
    arguments: Option<&'a (dyn Any + Send + Sync)>,
    changes: R::Changes,
    /// The optimistic lock's attribute: the stored record must hold the value `data` holds.
    /// Typed, so the hot update builds no [`Filter`] (and has nothing to drop).
    lock: Option<R::Field>,
    filter: Option<Filter<R>>,
    /// The filter the policies authorize the write under: its own slot, so joining it
    /// allocates nothing.
    policy: Option<Filter<R>>,
    atomics: Atomics<R>,
    /// Errors, hooks and the transaction's context, boxed: an action that succeeds without
    /// hooks (the hot path) has none, and should not build, carry or drop them.
    rare: Option<Box<Rare<'a, R>>>,
    // A field that owns memory must be tested in `owns_nothing` too.
}

struct Rare<'a, R: Resource> {
    errors: Vec<ErrorKind>,
    before_action: Vec<BeforeAction<'a, R>>,
    after_action: Vec<AfterAction<'a, R>>,
    /// The context while hooks run: the caller's, with the action's transaction.
    ctx: Option<Context>,
    /// Whether the create is an upsert.
    upsert: bool,
    /// Attributes an optimistic lock guards on the update half of an upsert.
    upsert_locks: Vec<R::Field>,
}

/// A hook that runs just before the write, inside the action's transaction. It takes the
/// changeset and gives it back (Ash's `before_action`), and may `.await`.
pub type BeforeAction<'a, R> =
    Box<dyn FnOnce(Changeset<'a, R>) -> BoxFuture<'a, Changeset<'a, R>> + Send + 'a>;

/// A hook that runs just after the write, inside the action's transaction, with the stored
/// record and the action's context (holding the transaction: actions run with it join the
/// transaction). It gives back the record the action returns, and may `.await`.
pub type AfterAction<'a, R> =
    Box<dyn FnOnce(R, Context) -> BoxFuture<'a, Result<R, Error>> + Send + 'a>;

impl<R: Resource> std::fmt::Debug for Changeset<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changeset")
            .field("action", &self.action.name)
            .field("has_data", &self.data.is_some())
            .field("changes", &self.changes)
            .field("lock", &self.lock.map(R::field_name))
            .field("filter", &self.filter.as_ref().map(Filter::to_dyn))
            .field("policy", &self.policy.as_ref().map(Filter::to_dyn))
            .field(
                "atomics",
                &self
                    .atomics
                    .iter()
                    .map(|a| (R::field_name(a.field), a.expr))
                    .collect::<Vec<_>>(),
            )
            .field("errors", &self.errors())
            .field(
                "before_action",
                &self.rare.as_ref().map_or(0, |h| h.before_action.len()),
            )
            .field(
                "after_action",
                &self.rare.as_ref().map_or(0, |h| h.after_action.len()),
            )
            .finish()
    }
}

impl<'a, R: Resource> Changeset<'a, R> {
    /// A changeset for `action`, acting on `data` (the caller's copy, for update and
    /// destroy), called with `ctx`.
    #[inline]
    pub fn new(action: &'static ActionInfo, data: Option<&'a R>, ctx: &'a Context) -> Self {
        Changeset {
            action,
            data,
            ctx,
            domain: None,
            arguments: None,
            changes: R::Changes::default(),
            lock: None,
            filter: None,
            policy: None,
            atomics: Atomics::new(),
            rare: None,
        }
    }

    /// Adds a hook that runs just before the write, after every change and validation, in
    /// the order hooks were added. It may change attributes or add errors; an error aborts
    /// the action and nothing is written. For a hook that awaits, see
    /// [`Changeset::before_action_async`].
    pub fn before_action<F>(&mut self, hook: F)
    where
        F: FnOnce(&mut Changeset<'a, R>) + Send + 'a,
    {
        self.rare_mut()
            .before_action
            .push(Box::new(move |mut changeset: Changeset<'a, R>| {
                hook(&mut changeset);
                Box::pin(std::future::ready(changeset)) as BoxFuture<'a, Changeset<'a, R>>
            }));
    }

    /// [`Changeset::before_action`] for a hook that awaits: it takes the changeset and
    /// gives it back.
    ///
    /// ```ignore
    /// changeset.before_action_async(|mut changeset| async move {
    ///     let slug = slugs.next().await;
    ///     changeset.changes_mut().slug = Some(slug);
    ///     changeset
    /// });
    /// ```
    pub fn before_action_async<F, Fut>(&mut self, hook: F)
    where
        F: FnOnce(Changeset<'a, R>) -> Fut + Send + 'a,
        Fut: Future<Output = Changeset<'a, R>> + Send + 'a,
    {
        self.rare_mut()
            .before_action
            .push(Box::new(move |changeset: Changeset<'a, R>| {
                Box::pin(hook(changeset)) as BoxFuture<'a, Changeset<'a, R>>
            }));
    }

    /// Adds a hook that runs just after the write, with the stored record, in the order
    /// hooks were added. It may change the returned record. An error fails the action:
    /// where the data layer has transactions (PostgreSQL) the write is rolled back; the
    /// ETS layer has none, so there **the write stays** and the caller gets the error.
    /// For a hook that awaits (or runs other actions), see
    /// [`Changeset::after_action_async`].
    pub fn after_action<F>(&mut self, hook: F)
    where
        F: FnOnce(&mut R) -> Result<(), ErrorKind> + Send + 'a,
    {
        self.rare_mut()
            .after_action
            .push(Box::new(move |mut record: R, _ctx: Context| {
                let result = hook(&mut record).map(|()| record).map_err(Error::from);
                Box::pin(std::future::ready(result)) as BoxFuture<'a, Result<R, Error>>
            }));
    }

    /// [`Changeset::after_action`] for a hook that awaits. It receives the stored record
    /// and the action's [`Context`], which holds the action's transaction: actions run
    /// with that context (`domain.with_context(ctx)`) join the transaction, so on
    /// PostgreSQL an error rolls back their writes too.
    pub fn after_action_async<F, Fut>(&mut self, hook: F)
    where
        F: FnOnce(R, Context) -> Fut + Send + 'a,
        Fut: Future<Output = Result<R, ErrorKind>> + Send + 'a,
    {
        self.rare_mut()
            .after_action
            .push(Box::new(move |record: R, ctx: Context| {
                let done = hook(record, ctx);
                Box::pin(async move { done.await.map_err(Error::from) })
                    as BoxFuture<'a, Result<R, Error>>
            }));
    }

    /// [`Changeset::after_action_async`] for a hook that fails with a whole [`Error`]
    /// (every error of the actions it ran, as `manage_relationship` does).
    pub fn after_action_errors<F, Fut>(&mut self, hook: F)
    where
        F: FnOnce(R, Context) -> Fut + Send + 'a,
        Fut: Future<Output = Result<R, Error>> + Send + 'a,
    {
        self.rare_mut()
            .after_action
            .push(Box::new(move |record: R, ctx: Context| {
                Box::pin(hook(record, ctx)) as BoxFuture<'a, Result<R, Error>>
            }));
    }

    fn rare_mut(&mut self) -> &mut Rare<'a, R> {
        self.rare.get_or_insert_with(|| {
            Box::new(Rare {
                errors: Vec::new(),
                before_action: Vec::new(),
                after_action: Vec::new(),
                ctx: None,
                upsert: false,
                upsert_locks: Vec::new(),
            })
        })
    }

    /// Whether any hook was added.
    #[inline]
    pub fn has_hooks(&self) -> bool {
        self.rare
            .as_ref()
            .is_some_and(|r| !r.before_action.is_empty() || !r.after_action.is_empty())
    }

    /// Runs the `before_action` hooks, including hooks they add, in order.
    pub(crate) async fn run_before_action(&mut self) {
        loop {
            let hooks = match &mut self.rare {
                Some(h) if !h.before_action.is_empty() => std::mem::take(&mut h.before_action),
                _ => break,
            };
            for hook in hooks {
                // The hook owns the changeset while it runs; an empty one holds its place.
                let mut placeholder = Changeset::new(self.action, self.data, self.ctx);
                placeholder.domain = self.domain;
                let taken = std::mem::replace(self, placeholder);
                *self = hook(taken).await;
            }
        }
    }

    /// Takes the `after_action` hooks.
    pub(crate) fn take_after_action(&mut self) -> Vec<AfterAction<'a, R>> {
        self.rare
            .as_mut()
            .map(|h| std::mem::take(&mut h.after_action))
            .unwrap_or_default()
    }

    /// Sets the context hooks and the write see: the caller's, with the action's
    /// transaction.
    pub(crate) fn set_hook_context(&mut self, ctx: Context) {
        self.rare_mut().ctx = Some(ctx);
    }

    /// Marks the create as an upsert.
    pub(crate) fn set_upsert(&mut self) {
        self.rare_mut().upsert = true;
    }

    /// Whether the running create is an upsert: on a conflict it updates the stored record.
    #[inline]
    pub fn is_upsert(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.upsert)
    }

    /// Guards the update half of an upsert with an optimistic lock on `field` (what
    /// `optimistic_lock` does on an upserting create, following Ash 3.32): the stored
    /// record must hold the version the new record carries (its default), and the version
    /// becomes stored + 1. A plain create ignores it.
    pub fn lock_upsert(&mut self, field: R::Field) {
        let rare = self.rare_mut();
        if !rare.upsert_locks.contains(&field) {
            rare.upsert_locks.push(field);
        }
    }

    /// The attributes [`Changeset::lock_upsert`] guards.
    pub(crate) fn upsert_locks(&self) -> &[R::Field] {
        self.rare.as_ref().map_or(&[], |r| &r.upsert_locks)
    }

    /// The call's context: actor, tenant, open transaction. While hooks run, it holds the
    /// action's transaction.
    #[inline]
    pub fn context(&self) -> &Context {
        match &self.rare {
            Some(rare) => rare.ctx.as_ref().unwrap_or(self.ctx),
            None => self.ctx,
        }
    }

    /// The running action.
    #[inline]
    pub fn action(&self) -> &'static ActionInfo {
        self.action
    }

    /// The running action's type.
    #[inline]
    pub fn action_type(&self) -> ActionType {
        self.action.kind
    }

    /// The record as the caller holds it (update and destroy); `None` on create.
    #[inline]
    pub fn data(&self) -> Option<&'a R> {
        self.data
    }

    /// Makes the domain value the action runs in visible to changes and hooks.
    #[inline]
    pub fn set_domain(&mut self, domain: &'a (dyn Any + Send + Sync)) {
        self.domain = Some(domain);
    }

    /// The domain value the action runs in, if it is a `D` (the action was called through
    /// a domain: its code interface or `ash_rs::api`). A hook clones it to run further
    /// actions: `domain.with_context(ctx).create_comment(..)` inside
    /// [`after_action_async`](Self::after_action_async) joins the action's transaction.
    #[inline]
    pub fn domain<D: Any>(&self) -> Option<&'a D> {
        self.domain.and_then(|d| d.downcast_ref::<D>())
    }

    /// Makes the action's input (its arguments) visible to changes and validations.
    #[inline]
    pub fn set_arguments<A: Any + Send + Sync>(&mut self, input: &'a A) {
        self.arguments = Some(input);
    }

    /// The action's input, holding its arguments, if it is of type `A` (the generated
    /// `{Resource}{Action}Input`): `changeset.arguments::<PostPublishInput>()`.
    #[inline]
    pub fn arguments<A: Any>(&self) -> Option<&'a A> {
        self.arguments.and_then(|a| a.downcast_ref::<A>())
    }

    /// The attribute writes so far.
    #[inline]
    pub fn changes(&self) -> &R::Changes {
        &self.changes
    }

    /// The attribute writes, to change them.
    #[inline]
    pub fn changes_mut(&mut self) -> &mut R::Changes {
        &mut self.changes
    }

    /// Requires the stored record to match `filter` when the write happens (ANDed with any
    /// filter already added). A mismatch fails the action with `StaleRecord`.
    #[inline]
    pub fn add_filter(&mut self, filter: Filter<R>) {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
    }

    /// Requires the stored record's `field` to equal the one of the record acted on (its
    /// `data`) when the write happens: the optimistic lock. A second lock joins the filter.
    #[inline(always)]
    pub(crate) fn add_lock(&mut self, field: R::Field) {
        match (self.lock, self.data) {
            (None, Some(_)) => self.lock = Some(field),
            (_, Some(data)) => self.add_filter(Filter::eq(data.get(field))),
            (_, None) => {}
        }
    }

    /// Requires the stored record to match the policies' filter when the write happens.
    #[inline(always)]
    pub(crate) fn set_policy_filter(&mut self, filter: Filter<R>) {
        self.policy = Some(filter);
    }

    /// The lock's precondition, against the record acted on.
    #[inline(always)]
    fn lock(&self) -> Option<Lock<'a, R>> {
        match (self.lock, self.data) {
            (Some(field), Some(record)) => Some(Lock { field, record }),
            _ => None,
        }
    }

    /// What the stored record must match when the write happens: the lock, the filters
    /// changes added and the policies' filter.
    #[inline(always)]
    pub fn guard(&self) -> Guard<'_, R> {
        Guard {
            lock: self.lock(),
            filter: self.filter.as_ref(),
            policy: self.policy.as_ref(),
        }
    }

    /// The filter changes added, which the stored record must match (with the lock and the
    /// policies' filter: see [`Changeset::guard`]).
    pub fn filter(&self) -> Option<&Filter<R>> {
        self.filter.as_ref()
    }

    /// Adds an atomic write, computed from the stored record by the data layer.
    #[inline]
    pub fn add_atomic(&mut self, field: R::Field, expr: AtomicExpr) {
        self.atomics.push(Atomic { field, expr });
    }

    /// The atomic writes so far.
    pub fn atomics(&self) -> &[Atomic<R>] {
        &self.atomics
    }

    /// Records an error; the action will fail with every error recorded.
    #[inline]
    pub fn add_error(&mut self, error: ErrorKind) {
        self.rare_mut().errors.push(error);
    }

    /// Records several errors.
    pub fn extend_errors(&mut self, errors: impl IntoIterator<Item = ErrorKind>) {
        let mut errors = errors.into_iter().peekable();
        if errors.peek().is_some() {
            self.rare_mut().errors.extend(errors);
        }
    }

    /// The errors so far.
    pub fn errors(&self) -> &[ErrorKind] {
        self.rare.as_ref().map_or(&[], |r| &r.errors)
    }

    /// Whether no error has been recorded.
    #[inline]
    pub fn is_valid(&self) -> bool {
        self.rare.as_ref().is_none_or(|r| r.errors.is_empty())
    }

    /// Fails with the error class of every recorded error (taking them), if any.
    #[inline]
    pub(crate) fn check(&mut self) -> Result<(), Error> {
        match &mut self.rare {
            Some(rare) if !rare.errors.is_empty() => {
                Err(Error::from_errors(std::mem::take(&mut rare.errors)))
            }
            _ => Ok(()),
        }
    }

    /// Whether the changeset owns nothing any more (no filter, no hooks or errors, atomics
    /// inline, every change moved into the record): after its write it can then be
    /// forgotten, which leaks nothing and costs a few compares instead of a call to the
    /// drop glue.
    #[inline(always)]
    pub(crate) fn owns_nothing(&self) -> bool {
        self.filter.is_none()
            && self.policy.is_none()
            && self.rare.is_none()
            && !self.atomics.spilled()
            && R::changes_empty(&self.changes)
    }

    /// The update the data layer receives, borrowing this changeset.
    #[inline]
    pub(crate) fn update_op<'s>(&'s mut self, primary_key: &'s R::PrimaryKey) -> UpdateOp<'s, R> {
        UpdateOp {
            primary_key,
            guard: Guard {
                lock: self.lock(),
                filter: self.filter.as_ref(),
                policy: self.policy.as_ref(),
            },
            changes: &mut self.changes,
            atomics: &self.atomics,
        }
    }

    /// The destroy the data layer receives, borrowing this changeset.
    #[inline]
    pub(crate) fn destroy_op<'s>(&'s self, primary_key: &'s R::PrimaryKey) -> DestroyOp<'s, R> {
        DestroyOp {
            primary_key,
            guard: self.guard(),
        }
    }
}
