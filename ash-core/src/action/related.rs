//! The writes of related records that `manage_relationship` makes: each runs the related
//! resource's own action pipeline (defaults, changes, validations, policies, optimistic
//! lock, hooks), with the relationship's foreign key forced onto it, as Ash's
//! `force_change_attribute` does. See [`crate::manage`].

use super::authorize::{authorize, check_created, has_policies, write_refused};
use super::write::{refuse_primary_key_write, with_hooks, Write};
use super::{start, CreateAction, DomainRef, UpdateAction};
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::error::{Error, ErrorKind};
use crate::resource::Resource;

/// Writes the relationship's key onto a related record's changes.
pub(crate) type Force<'f, R> = &'f (dyn Fn(&mut <R as Resource>::Changes) + Send + Sync);

/// Builds a create's record: input, defaults, the forced key, then the action's changes
/// and validations (they see the key), policies and required attributes.
fn build_record<A: CreateAction>(
    ctx: &Context,
    domain: Option<&DomainRef>,
    input: &mut A,
    force: Force<'_, A::Resource>,
) -> Result<A::Resource, Error> {
    let mut changeset = start(input, None, ctx, domain);
    <A::Resource as Resource>::apply_create_defaults(changeset.changes_mut());
    force(changeset.changes_mut());
    A::run_changes(&mut changeset);
    changeset.check()?;
    let policy = authorize::<A::Resource>(A::INFO, ctx)?;
    let record = <A::Resource as Resource>::from_changes(changeset.changes_mut())
        .map_err(Error::from_errors)?;
    if has_policies::<A::Resource>() {
        check_created(A::INFO, ctx, policy.as_ref(), &record)?;
    }
    Ok(record)
}

/// Builds and checks one record of the create action `A` (its key forced) without
/// writing it: for a caller that writes several together.
pub(crate) fn build_one<A: CreateAction>(
    ctx: &Context,
    domain: Option<&DomainRef>,
    mut input: A,
    force: Force<'_, A::Resource>,
) -> Result<A::Resource, Error> {
    build_record(ctx, domain, &mut input, force)
}

/// Runs the create action `A` for one related record, with its key forced.
pub(crate) async fn create_one<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    mut input: A,
    force: Force<'_, A::Resource>,
) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, None, ctx, domain);
    <A::Resource as Resource>::apply_create_defaults(changeset.changes_mut());
    force(changeset.changes_mut());
    A::run_changes(&mut changeset);
    changeset.check()?;
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

/// Runs the create action `A` for several related records. Without hooks (`A` runs no
/// user change) every record is built and checked first, then all are written with one
/// [`DataLayer::create_many`] (one `INSERT` on PostgreSQL); otherwise one by one.
/// Errors carry the position of the input they concern.
pub(crate) async fn create_many<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    inputs: Vec<(usize, A)>,
    force: Force<'_, A::Resource>,
) -> Result<Vec<A::Resource>, Vec<(Option<usize>, ErrorKind)>>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if A::MAY_ADD_HOOKS {
        let mut stored = Vec::with_capacity(inputs.len());
        for (index, input) in inputs {
            match create_one(layer, ctx, domain, input, force).await {
                Ok(record) => stored.push(record),
                Err(e) => return Err(at(Some(index), e)),
            }
        }
        return Ok(stored);
    }
    let mut records = Vec::with_capacity(inputs.len());
    let mut positions = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for (index, mut input) in inputs {
        match build_record(ctx, domain, &mut input, force) {
            Ok(record) => {
                records.push(record);
                positions.push(index);
            }
            Err(e) => errors.extend(at(Some(index), e)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if records.is_empty() {
        return Ok(records);
    }
    layer
        .create_many(ctx, records)
        .await
        .map_err(|(i, e)| vec![(i.and_then(|i| positions.get(i).copied()), e)])
}

/// Runs the update action `A` on a related record (the copy given, whose lock is
/// compared), with `force` applied to its changes first (relate and unrelate set the
/// key; a plain update forces nothing).
pub(crate) async fn update_one<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    mut input: A,
    force: Option<Force<'_, A::Resource>>,
) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    <A::Resource as Resource>::apply_update_defaults(changeset.changes_mut());
    if let Some(force) = force {
        force(changeset.changes_mut());
    }
    A::run_changes(&mut changeset);
    refuse_primary_key_write(&mut changeset);
    changeset.check()?;
    if has_policies::<A::Resource>() {
        if let Some(filter) = authorize::<A::Resource>(A::INFO, changeset.context())? {
            changeset.add_filter(filter);
        }
    }
    let key = record.primary_key();
    if changeset.has_hooks() {
        return with_hooks(layer, &mut changeset, Write::Update(A::INFO, key)).await;
    }
    let result = match layer.immediate_update(ctx, changeset.update_op(key)) {
        Ok(done) => done,
        Err(op) => layer.update(ctx, op).await,
    };
    match result {
        Err(e) if has_policies::<A::Resource>() => {
            Err(write_refused(layer, A::INFO, ctx, key, e).await)
        }
        other => other.map_err(Error::from),
    }
}

/// Every error of `error`, at position `index`.
pub(crate) fn at(index: Option<usize>, error: Error) -> Vec<(Option<usize>, ErrorKind)> {
    error
        .into_errors()
        .into_iter()
        .map(|e| (index, e))
        .collect()
}
