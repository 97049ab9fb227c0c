//! Create, update and destroy, and the transaction around an action's hooks.
//!
//! Each action has two forms of the same steps: `*_now`, run when the action is called
//! on a data layer that never waits and the action cannot add hooks (the hot path: no
//! state machine, no allocation), and `*_running`, the future that awaits the data layer
//! and runs hooks. Both start with [`start`] and the same checks, so they cannot drift.

use super::{
    not_immediate, start, ActionFuture, CreateAction, DestroyAction, DomainRef, UpdateAction,
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
struct UpsertPlan<R: Resource> {
    identity: Option<usize>,
    fields: Vec<R::Field>,
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
    Ok(UpsertPlan { identity, fields })
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
    match layer.immediate_upsert(ctx, op) {
        Ok(done) => done.map_err(Error::from),
        Err(op) => layer.upsert(ctx, op).await.map_err(Error::from),
    }
}

/// An update may not write the primary key: moving a record to another key is a destroy
/// and a create (the macro refuses it in `accept`; this catches a change that sets it).
#[inline(always)]
fn refuse_primary_key_write<R: Resource>(changeset: &mut Changeset<'_, R>) {
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
    let record = <A::Resource as Resource>::from_changes(changeset.changes_mut())
        .map_err(Error::from_errors)?;
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
    if changeset.has_hooks() {
        return with_hooks(layer, &mut changeset, Write::Create).await;
    }
    let record = <A::Resource as Resource>::from_changes(changeset.changes_mut())
        .map_err(Error::from_errors)?;
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
    changeset.check()
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
    let result = match layer.immediate_update(ctx, changeset.update_op(record.primary_key())) {
        Ok(done) => done.map_err(Error::from),
        Err(_) => Err(not_immediate::<A::Resource>()),
    };
    changeset.discard_filter();
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
        return with_hooks(layer, &mut changeset, Write::Update(key)).await;
    }
    match layer.immediate_update(ctx, changeset.update_op(key)) {
        Ok(done) => done.map_err(Error::from),
        Err(op) => layer.update(ctx, op).await.map_err(Error::from),
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
    changeset.check()
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
    match layer.immediate_destroy(ctx, changeset.destroy_op(record.primary_key())) {
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
        return with_hooks(layer, &mut changeset, Write::Destroy(key)).await;
    }
    match layer.immediate_destroy(ctx, changeset.destroy_op(key)) {
        Ok(done) => done.map_err(Error::from),
        Err(op) => layer.destroy(ctx, op).await.map_err(Error::from),
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
enum Write<'k, R: Resource> {
    Create,
    Upsert(&'k UpsertPlan<R>),
    Update(&'k R::PrimaryKey),
    Destroy(&'k R::PrimaryKey),
}

/// The hook path of every write, boxed: its state stays out of every action's future.
#[cold]
fn with_hooks<'f, R, L>(
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
        if matches!(write, Write::Update(_)) {
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
        Write::Create => {
            let record = R::from_changes(changeset.changes_mut()).map_err(Error::from_errors)?;
            layer.create(ctx, record).await.map_err(Error::from)
        }
        Write::Upsert(plan) => perform_upsert(layer, ctx, changeset, plan).await,
        Write::Update(key) => layer
            .update(ctx, changeset.update_op(key))
            .await
            .map_err(Error::from),
        Write::Destroy(key) => layer
            .destroy(ctx, changeset.destroy_op(key))
            .await
            .map_err(Error::from),
    }
}
