//! Create, update and destroy, and the transaction around an action's hooks.
//!
//! Each action has two forms of the same steps: `*_now`, run when the action is called
//! on a data layer that never waits and the action cannot add hooks (the hot path: no
//! state machine, no allocation), and `*_running`, the future that awaits the data layer
//! and runs hooks. Both start with [`start`] and the same checks, so they cannot drift.

use super::authorize::{authorize, check_created, has_policies, write_refused, write_refused_now};
use super::{
    not_immediate, start, Action, ActionFuture, CreateAction, DestroyAction, DomainRef,
    UpdateAction,
};
use crate::changeset::Changeset;
use crate::context::Context;
use crate::data_layer::{Atomic, AtomicExpr, DataLayer, UpsertOp};
use crate::error::{Error, ErrorKind, FrameworkError, InvalidAttribute};
use crate::filter::Filter;
use crate::identity::{Upsert, UpsertFields};
use crate::resource::Resource;

type Output<'a, A> = ActionFuture<'a, Result<<A as super::Action>::Resource, Error>>;

/// Runs a create action.
#[inline]
pub fn create<'a, A, L>(layer: &'a L, ctx: &'a Context, input: A) -> Output<'a, A>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    create_in(layer, ctx, None, input)
}

/// [`create`], showing `domain` to changes and hooks.
#[inline]
pub fn create_in<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    input: A,
) -> Output<'a, A>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if A::UPSERT {
        return upsert_in(layer, ctx, domain, input, None);
    }
    if L::IMMEDIATE && !A::MAY_ADD_HOOKS {
        return ActionFuture::ready(create_now(layer, ctx, domain, input));
    }
    ActionFuture::running(create_running(layer, ctx, domain, input))
}

/// Runs a create action as an upsert: `upsert`, or else the action's own
/// ([`CreateAction::upsert`]). On a conflict (the target's value taken) the stored record
/// gets the upsert's fields, when it matches the upsert's condition (and the optimistic
/// lock, where one applies to the create), in one atomic step of the data layer.
#[inline]
pub fn upsert_in<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    input: A,
    upsert: Option<Upsert<A::Resource>>,
) -> Output<'a, A>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    ActionFuture::settle(
        upsert_running(layer, ctx, domain, input, upsert),
        L::IMMEDIATE && !A::MAY_ADD_HOOKS,
        not_immediate::<A::Resource>,
    )
}

/// An upsert, resolved against its action: what the data layer is told.
pub(super) struct UpsertPlan<R: Resource> {
    identity: Option<usize>,
    fields: Vec<R::Field>,
    /// The action: for its policies.
    info: &'static super::ActionInfo,
    /// The filter the policies authorize the upsert under, if any: the created record
    /// must match it, and it joins the conflict's filter.
    policy: Option<Filter<R>>,
}

fn plan_upsert<A: CreateAction>(
    upsert: &Upsert<A::Resource>,
) -> Result<UpsertPlan<A::Resource>, Error> {
    let identity = match upsert.identity {
        Some(identity) if identity.info().is_none() => {
            return Err(ErrorKind::Framework(FrameworkError {
                message: format!(
                    "no identity #{} on {} to upsert on",
                    identity.index(),
                    <A::Resource as Resource>::NAME
                ),
            })
            .into())
        }
        Some(identity) => Some(identity.index()),
        None => None,
    };
    let fields = match &upsert.fields {
        UpsertFields::Action => A::UPSERT_FIELDS.to_vec(),
        UpsertFields::Replace(fields) => fields.clone(),
    };
    Ok(UpsertPlan {
        identity,
        fields,
        info: A::INFO,
        policy: None,
    })
}

async fn upsert_running<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    mut input: A,
    upsert: Option<Upsert<A::Resource>>,
) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let upsert = match upsert {
        Some(upsert) => upsert,
        None => input.upsert(),
    };
    let plan = plan_upsert::<A>(&upsert)?;
    let mut changeset = start(&mut input, None, ctx, domain);
    changeset.set_upsert();
    prepare_create::<A>(&mut changeset)?;
    if let Some(condition) = upsert.condition {
        changeset.add_filter(condition);
    }
    let plan = if has_policies::<A::Resource>() {
        let policy = authorize::<A::Resource>(A::INFO, ctx)?;
        if let Some(policy) = &policy {
            // The update half: the stored record must match too, in the same atomic step.
            changeset.add_filter(policy.clone());
        }
        UpsertPlan { policy, ..plan }
    } else {
        plan
    };
    if changeset.has_hooks() {
        return with_hooks(layer, &mut changeset, Write::Upsert(&plan)).await;
    }
    perform_upsert(layer, ctx, &mut changeset, &plan).await
}

/// The upsert the changeset describes, handed to the data layer.
async fn perform_upsert<R, L>(
    layer: &L,
    ctx: &Context,
    changeset: &mut Changeset<'_, R>,
    plan: &UpsertPlan<R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    let record = R::from_changes(changeset.changes_mut()).map_err(Error::from_errors)?;
    // A copy to find the conflicting record by, when the policies may refuse it.
    let probe = if has_policies::<R>() {
        check_created(plan.info, ctx, plan.policy.as_ref(), &record)?;
        plan.policy.as_ref().map(|_| record.clone())
    } else {
        None
    };
    let mut filter = changeset.filter().cloned();
    let mut atomics: Vec<Atomic<R>> = changeset.atomics().to_vec();
    for &field in changeset.upsert_locks() {
        let lock = Filter::eq(record.get(field));
        filter = Some(match filter {
            Some(existing) => existing.and(lock),
            None => lock,
        });
        if !atomics.iter().any(|a| a.field == field) {
            atomics.push(Atomic {
                field,
                expr: AtomicExpr::Add(1),
            });
        }
    }
    let op = UpsertOp {
        record,
        identity: plan.identity,
        fields: &plan.fields,
        filter: filter.as_ref(),
        atomics: &atomics,
    };
    let result = match layer.immediate_upsert(ctx, op) {
        Ok(done) => done,
        Err(op) => layer.upsert(ctx, op).await,
    };
    match (result, probe) {
        (Ok(record), _) => Ok(record),
        (Err(error), Some(probe)) => upsert_refused(layer, ctx, plan, &probe, error).await,
        (Err(error), None) => Err(error.into()),
    }
}

/// An upsert refused on conflict, under a policy filter: `Forbidden` when the stored
/// record holding the conflict target does not match the policies' filter.
#[cold]
async fn upsert_refused<R, L>(
    layer: &L,
    ctx: &Context,
    plan: &UpsertPlan<R>,
    probe: &R,
    error: ErrorKind,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    if !matches!(error, ErrorKind::StaleRecord(_)) {
        return Err(error.into());
    }
    let key = match plan.identity {
        Some(identity) => match probe.identity_key(identity) {
            Some(key) => Some(key),
            None => return Err(error.into()),
        },
        None => None,
    };
    let stored = match &key {
        Some(key) => layer.get_by_identity(ctx, key).await,
        None => layer.get(ctx, probe.primary_key()).await,
    };
    match (stored, &plan.policy) {
        (Ok(stored), Some(policy)) if stored.as_ref().is_none_or(|s| !policy.matches(s)) => Err(
            crate::policy::forbidden::<R>(plan.info, ctx, stored.as_ref()),
        ),
        _ => Err(error.into()),
    }
}

/// An update may not write the primary key: moving a record to another key is a destroy
/// and a create (the macro refuses it in `accept`; this catches a change that sets it).
#[inline(always)]
pub(super) fn refuse_primary_key_write<R: Resource>(changeset: &mut Changeset<'_, R>) {
    if R::changes_primary_key(changeset.changes()) {
        changeset.add_error(primary_key_write::<R>());
    }
}

#[cold]
fn primary_key_write<R: Resource>() -> ErrorKind {
    ErrorKind::InvalidAttribute(InvalidAttribute {
        field: R::field_name(R::PRIMARY_KEY).to_owned(),
        message: "is the primary key, which an update cannot change (destroy the record and create it with the new key)".into(),
        value: None,
    })
}

/// Builds the create's changeset and runs its changes and validations.
#[inline(always)]
fn prepare_create<A: CreateAction>(
    changeset: &mut Changeset<'_, A::Resource>,
) -> Result<(), Error> {
    <A::Resource as Resource>::apply_create_defaults(changeset.changes_mut());
    A::run_changes(changeset);
    changeset.check()
}

#[inline(always)]
fn create_now<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, None, ctx, domain);
    prepare_create::<A>(&mut changeset)?;
    let policy = authorize::<A::Resource>(A::INFO, ctx)?;
    let record = <A::Resource as Resource>::from_changes(changeset.changes_mut())
        .map_err(Error::from_errors)?;
    if changeset.owns_nothing() {
        // Its changes are in the record now; see `update_now`.
        std::mem::forget(changeset);
    }
    if has_policies::<A::Resource>() {
        check_created(A::INFO, ctx, policy.as_ref(), &record)?;
    }
    match layer.immediate_create(ctx, record) {
        Ok(done) => done.map_err(Error::from),
        Err(_) => Err(not_immediate::<A::Resource>()),
    }
}

async fn create_running<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, None, ctx, domain);
    prepare_create::<A>(&mut changeset)?;
    let policy = authorize::<A::Resource>(A::INFO, ctx)?;
    if changeset.has_hooks() {
        return with_hooks(
            layer,
            &mut changeset,
            Write::Create(A::INFO, policy.as_ref()),
        )
        .await;
    }
    let record = <A::Resource as Resource>::from_changes(changeset.changes_mut())
        .map_err(Error::from_errors)?;
    if has_policies::<A::Resource>() {
        check_created(A::INFO, ctx, policy.as_ref(), &record)?;
    }
    match layer.immediate_create(ctx, record) {
        Ok(done) => done.map_err(Error::from),
        Err(record) => layer.create(ctx, record).await.map_err(Error::from),
    }
}

/// Runs an update action on `record` (the caller's copy).
#[inline]
pub fn update<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    record: &'a A::Resource,
    input: A,
) -> Output<'a, A>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    update_in(layer, ctx, None, record, input)
}

/// [`update`], showing `domain` to changes and hooks.
#[inline]
pub fn update_in<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    record: &'a A::Resource,
    input: A,
) -> Output<'a, A>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE && !A::MAY_ADD_HOOKS {
        return ActionFuture::ready(update_now(layer, ctx, domain, record, input));
    }
    ActionFuture::running(update_running(layer, ctx, domain, record, input))
}

#[inline(always)]
fn prepare_update<A: UpdateAction>(
    changeset: &mut Changeset<'_, A::Resource>,
) -> Result<(), Error> {
    <A::Resource as Resource>::apply_update_defaults(changeset.changes_mut());
    A::run_changes(changeset);
    refuse_primary_key_write(changeset);
    changeset.check()?;
    authorize_write::<A>(changeset)
}

/// The authorize step of an update or destroy: a policy filter joins the write's filter,
/// so the check and the write are one atomic step of the data layer.
#[inline(always)]
fn authorize_write<A: Action>(changeset: &mut Changeset<'_, A::Resource>) -> Result<(), Error> {
    if has_policies::<A::Resource>() {
        // Straight into the changeset's policy slot: no filter joined, nothing allocated.
        match crate::policy::authorize::<A::Resource>(A::INFO, changeset.context()) {
            crate::policy::Authorization::Authorized => {}
            crate::policy::Authorization::Filter(filter) => {
                // A filter through a relationship is resolved to keys first on ETS; other
                // resources' filters go in as they are.
                let filter = if <A::Resource as Resource>::POLICY_RELATED_FILTERS {
                    super::authorize::resolved(changeset.context(), filter)?
                } else {
                    filter
                };
                changeset.set_policy_filter(filter)
            }
            crate::policy::Authorization::Forbidden => {
                return Err(crate::policy::forbidden::<A::Resource>(
                    A::INFO,
                    changeset.context(),
                    None,
                ))
            }
        }
    }
    Ok(())
}

#[inline(always)]
fn update_now<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    prepare_update::<A>(&mut changeset)?;
    let key = record.primary_key();
    let result = match layer.immediate_update(ctx, changeset.update_op(key)) {
        Ok(done) if has_policies::<A::Resource>() => {
            done.map_err(|e| write_refused_now(layer, A::INFO, ctx, key, e))
        }
        Ok(done) => done.map_err(Error::from),
        Err(_) => Err(not_immediate::<A::Resource>()),
    };
    if changeset.owns_nothing() {
        // Tested in place (a call taking it by value would copy it).
        std::mem::forget(changeset);
    }
    result
}

async fn update_running<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    prepare_update::<A>(&mut changeset)?;
    let key = record.primary_key();
    if changeset.has_hooks() {
        return with_hooks(layer, &mut changeset, Write::Update(A::INFO, key)).await;
    }
    if !has_policies::<A::Resource>() {
        return match layer.immediate_update(ctx, changeset.update_op(key)) {
            Ok(done) => done.map_err(Error::from),
            Err(op) => layer.update(ctx, op).await.map_err(Error::from),
        };
    }
    let result = match layer.immediate_update(ctx, changeset.update_op(key)) {
        Ok(done) => done,
        Err(op) => layer.update(ctx, op).await,
    };
    match result {
        Err(e) => Err(write_refused(layer, A::INFO, ctx, key, e).await),
        Ok(record) => Ok(record),
    }
}

/// Runs a destroy action on `record` (the caller's copy); returns the destroyed record.
#[inline]
pub fn destroy<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    record: &'a A::Resource,
    input: A,
) -> Output<'a, A>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    destroy_in(layer, ctx, None, record, input)
}

/// [`destroy`], showing `domain` to changes and hooks.
#[inline]
pub fn destroy_in<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    record: &'a A::Resource,
    input: A,
) -> Output<'a, A>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE && !A::MAY_ADD_HOOKS {
        return ActionFuture::ready(destroy_now(layer, ctx, domain, record, input));
    }
    ActionFuture::running(destroy_running(layer, ctx, domain, record, input))
}

#[inline(always)]
fn prepare_destroy<A: DestroyAction>(
    changeset: &mut Changeset<'_, A::Resource>,
) -> Result<(), Error> {
    A::run_changes(changeset);
    changeset.check()?;
    authorize_write::<A>(changeset)
}

#[inline(always)]
fn destroy_now<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    prepare_destroy::<A>(&mut changeset)?;
    let key = record.primary_key();
    match layer.immediate_destroy(ctx, changeset.destroy_op(key)) {
        Ok(done) if has_policies::<A::Resource>() => {
            done.map_err(|e| write_refused_now(layer, A::INFO, ctx, key, e))
        }
        Ok(done) => done.map_err(Error::from),
        Err(_) => Err(not_immediate::<A::Resource>()),
    }
}

async fn destroy_running<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    mut input: A,
) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    prepare_destroy::<A>(&mut changeset)?;
    let key = record.primary_key();
    if changeset.has_hooks() {
        return with_hooks(layer, &mut changeset, Write::Destroy(A::INFO, key)).await;
    }
    if !has_policies::<A::Resource>() {
        return match layer.immediate_destroy(ctx, changeset.destroy_op(key)) {
            Ok(done) => done.map_err(Error::from),
            Err(op) => layer.destroy(ctx, op).await.map_err(Error::from),
        };
    }
    let result = match layer.immediate_destroy(ctx, changeset.destroy_op(key)) {
        Ok(done) => done,
        Err(op) => layer.destroy(ctx, op).await,
    };
    match result {
        Err(e) => Err(write_refused(layer, A::INFO, ctx, key, e).await),
        Ok(record) => Ok(record),
    }
}

/// Finds the record by `filter` through the read action `read` (the primary read), then
/// runs the update action on it: a `define` with `get_by` on an update.
#[inline]
pub fn update_by<'a, Q, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    read: Q,
    filter: crate::filter::Filter<A::Resource>,
    input: A,
) -> Output<'a, A>
where
    Q: super::ReadAction<Resource = A::Resource>,
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE && !A::MAY_ADD_HOOKS {
        let found = match super::get_by(layer, ctx, read, filter).into_ready() {
            Some(Ok(found)) => found,
            Some(Err(error)) => return ActionFuture::ready(Err(error)),
            None => return ActionFuture::ready(Err(not_immediate::<A::Resource>())),
        };
        return ActionFuture::ready(update_now(layer, ctx, domain, &found, input));
    }
    ActionFuture::running(async move {
        let found = super::get_by(layer, ctx, read, filter).await?;
        update_running(layer, ctx, domain, &found, input).await
    })
}

/// [`update_by`] for a destroy action.
#[inline]
pub fn destroy_by<'a, Q, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
    read: Q,
    filter: crate::filter::Filter<A::Resource>,
    input: A,
) -> Output<'a, A>
where
    Q: super::ReadAction<Resource = A::Resource>,
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE && !A::MAY_ADD_HOOKS {
        let found = match super::get_by(layer, ctx, read, filter).into_ready() {
            Some(Ok(found)) => found,
            Some(Err(error)) => return ActionFuture::ready(Err(error)),
            None => return ActionFuture::ready(Err(not_immediate::<A::Resource>())),
        };
        return ActionFuture::ready(destroy_now(layer, ctx, domain, &found, input));
    }
    ActionFuture::running(async move {
        let found = super::get_by(layer, ctx, read, filter).await?;
        destroy_running(layer, ctx, domain, &found, input).await
    })
}

/// Which write the changeset becomes.
pub(super) enum Write<'k, R: Resource> {
    /// A create, with the filter its policies authorize it under.
    Create(&'static super::ActionInfo, Option<&'k Filter<R>>),
    Upsert(&'k UpsertPlan<R>),
    Update(&'static super::ActionInfo, &'k R::PrimaryKey),
    Destroy(&'static super::ActionInfo, &'k R::PrimaryKey),
}

/// The hook path of every write, boxed: its state stays out of every action's future.
#[cold]
pub(super) fn with_hooks<'f, R, L>(
    layer: &'f L,
    changeset: &'f mut Changeset<'_, R>,
    write: Write<'f, R>,
) -> crate::future::BoxFuture<'f, Result<R, Error>>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    Box::pin(write_with_hooks(layer, changeset, write))
}

/// The hooks and the write, sharing one transaction: an error from any of them (or a
/// panic, or the future being dropped) rolls back where the data layer has transactions.
async fn write_with_hooks<R, L>(
    layer: &L,
    changeset: &mut Changeset<'_, R>,
    write: Write<'_, R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    let tx = layer.begin(changeset.context()).await?;
    let ctx = if tx.is_real() {
        changeset.context().clone().with_transaction(&tx)
    } else {
        changeset.context().clone()
    };
    changeset.set_hook_context(ctx.clone());
    let result = async {
        changeset.run_before_action().await;
        if matches!(write, Write::Update(..)) {
            refuse_primary_key_write(changeset);
        }
        changeset.check()?;
        let after = changeset.take_after_action();
        let mut record = perform(layer, &ctx, changeset, write).await?;
        for hook in after {
            record = hook(record, ctx.clone()).await?;
        }
        Ok(record)
    }
    .await;
    tx.finish(result).await
}

/// Hands the data layer the write the changeset describes (the hook path).
async fn perform<R, L>(
    layer: &L,
    ctx: &Context,
    changeset: &mut Changeset<'_, R>,
    write: Write<'_, R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    match write {
        Write::Create(info, policy) => {
            let record = R::from_changes(changeset.changes_mut()).map_err(Error::from_errors)?;
            if has_policies::<R>() {
                check_created(info, ctx, policy, &record)?;
            }
            layer.create(ctx, record).await.map_err(Error::from)
        }
        Write::Upsert(plan) => perform_upsert(layer, ctx, changeset, plan).await,
        Write::Update(info, key) => {
            let result = layer.update(ctx, changeset.update_op(key)).await;
            match result {
                Err(e) if has_policies::<R>() => Err(write_refused(layer, info, ctx, key, e).await),
                other => other.map_err(Error::from),
            }
        }
        Write::Destroy(info, key) => {
            let result = layer.destroy(ctx, changeset.destroy_op(key)).await;
            match result {
                Err(e) if has_policies::<R>() => Err(write_refused(layer, info, ctx, key, e).await),
                other => other.map_err(Error::from),
            }
        }
    }
}
