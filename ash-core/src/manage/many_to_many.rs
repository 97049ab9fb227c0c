//! A managed many_to_many: the destination records and the join records that relate
//! them to the source (Ash's `manage_relationship` through a join resource).
//!
//! - `on_lookup = relate`: the destination is read by primary key, then a join record is
//!   created through the join resource's primary create action.
//! - `on_no_match = create`: the destination is created through its create action, then
//!   its join record as above.
//! - `on_match = update`: the destination is updated through its update action (the join
//!   record stays); `on_match = unrelate`: its join record is destroyed through the join
//!   resource's primary destroy action.
//! - `on_missing = unrelate`: the join record is destroyed; `on_missing = destroy`: the
//!   join record, then the destination (its destroy action).
//!
//! Join records are written through the join resource's own primary actions, not raw
//! data-layer writes, so that its changes, validations and policies run (as Ash's
//! `relate`/`unrelate` shorthands do); without hooks they are built and checked first,
//! then written together with one [`DataLayer::create_many`](crate::data_layer::DataLayer::create_many).

use super::{
    no_action, no_domain, ManageOptions, Managed, OnLookup, OnMatch, OnMissing, OnNoMatch,
};
use crate::action::related::{self, Force};
use crate::action::{self, CreateAction, DestroyAction, DomainRef, UpdateAction};
use crate::changeset::Changeset;
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::domain::HasResource;
use crate::error::{Error, ErrorKind, FrameworkError, NotFound, PathSegment};
use crate::filter::Filter;
use crate::query::Query;
use crate::relationship::{Loaded, ManyToMany};
use crate::resource::Resource;
use std::collections::HashSet;
use std::hash::Hash;

/// What generated code passes for one `manage_relationship` of a many_to_many from `S`
/// to `T` through `J`: `U` and `X` are the destination's update and destroy actions, `JC`
/// and `JX` the join resource's primary create and destroy actions.
pub struct ManyToManyPlan<S: Resource, J: Resource, T: Resource, K, K2, U, X, JC, JX> {
    /// The relationship.
    pub relationship: ManyToMany<S, J, T, K, K2>,
    /// The argument's name, for error paths.
    pub argument: &'static str,
    /// The options after the type's defaults.
    pub options: ManageOptions,
    /// Sets a join record's source and destination keys.
    pub set_join_keys: fn(&mut J::Changes, K, K2),
    /// An empty input of the destination's update action (`on_match = update`), when the
    /// options name one.
    pub new_update: Option<fn() -> U>,
    /// An empty input of the destination's destroy action (`on_missing = destroy`), when
    /// the options name one.
    pub new_destroy: Option<fn() -> X>,
    /// An empty input of the join resource's primary create action (relate, create),
    /// when the options relate or create.
    pub new_join: Option<fn() -> JC>,
    /// An empty input of the join resource's primary destroy action (unrelate, destroy),
    /// when the options unrelate or destroy.
    pub new_unjoin: Option<fn() -> JX>,
}

/// Manages a many_to_many from the argument `items` (`None`: not supplied, nothing
/// happens; an explicit empty list runs `on_missing` on every related record): adds the
/// hook that runs after the action's write, in its transaction. The returned record has
/// the relationship loaded with the result, in input order (then the records kept).
pub fn many_to_many<'a, Dm, S, J, T, K, K2, C, U, X, JC, JX>(
    changeset: &mut Changeset<'a, S>,
    items: Option<Vec<Managed<T, C, U>>>,
    plan: ManyToManyPlan<S, J, T, K, K2, U, X, JC, JX>,
) where
    Dm: HasResource<T> + HasResource<J>,
    S: Resource,
    J: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    K2: Clone + Eq + Hash + Send + Sync + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
    JC: CreateAction<Resource = J>,
    JX: DestroyAction<Resource = J>,
{
    let Some(items) = items else { return };
    let Some(domain) = changeset.domain::<Dm>() else {
        changeset.add_error(no_domain(plan.argument));
        return;
    };
    let is_update = changeset.data().is_some();
    changeset.after_action_errors(move |record, ctx| async move {
        manage_after::<Dm, S, J, T, K, K2, C, U, X, JC, JX>(
            domain, record, ctx, items, plan, is_update,
        )
        .await
    });
}

#[allow(clippy::too_many_lines)]
async fn manage_after<Dm, S, J, T, K, K2, C, U, X, JC, JX>(
    domain: &Dm,
    mut record: S,
    ctx: Context,
    items: Vec<Managed<T, C, U>>,
    plan: ManyToManyPlan<S, J, T, K, K2, U, X, JC, JX>,
    is_update: bool,
) -> Result<S, Error>
where
    Dm: HasResource<T> + HasResource<J>,
    S: Resource,
    J: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    K2: Clone + Eq + Hash + Send + Sync + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
    JC: CreateAction<Resource = J>,
    JX: DestroyAction<Resource = J>,
{
    let ManyToManyPlan {
        relationship: rel,
        argument,
        options,
        set_join_keys,
        new_update,
        new_destroy,
        new_join,
        new_unjoin,
    } = plan;
    let ctx = &ctx;
    let path = |index: Option<usize>| {
        let mut path = vec![PathSegment::Name(argument)];
        if let Some(i) = index {
            path.push(PathSegment::Index(i));
        }
        path
    };
    let fail = |errors: Vec<(Option<usize>, ErrorKind)>| {
        Error::from_errors(
            errors
                .into_iter()
                .map(|(i, e)| e.at_path(path(i)))
                .collect(),
        )
    };
    let new_update = || {
        new_update
            .map(|f| f())
            .ok_or_else(|| no_action(argument, "update"))
    };
    let new_destroy = || {
        new_destroy
            .map(|f| f())
            .ok_or_else(|| no_action(argument, "destroy"))
    };
    let new_unjoin = || {
        new_unjoin
            .map(|f| f())
            .ok_or_else(|| no_action(argument, "join destroy"))
    };
    let Some(parent_key) = (rel.source_key)(&record) else {
        return Err(fail(vec![(
            None,
            ErrorKind::Framework(FrameworkError {
                message: format!(
                    "{} has no value of `{}` to relate {} records by",
                    S::NAME,
                    rel.info.source_attribute,
                    T::NAME
                ),
            }),
        )]));
    };
    let dom: &DomainRef = domain;
    let dest_layer = HasResource::<T>::data_layer(domain);
    let join_layer = HasResource::<J>::data_layer(domain);

    // The join records of the parent and the destinations they name: two reads, on an
    // update only (a created record has none). It reads them always: besides matching and on_missing, the record returned
    // lists the related records afterwards, which includes those kept as they were.
    let needs_current = is_update;
    // (The `*_value` functions give `None` only for keys of different types: a compile
    // error.)
    let join_value = needs_current
        .then(|| (rel.join_source_value)(parent_key.clone()))
        .flatten();
    let (joins, current): (Vec<J>, Vec<T>) = if let Some(join_value) = join_value {
        let query = Query::new().filter(Filter::eq(join_value));
        let joins = join_layer
            .read(ctx, &query)
            .await
            .map_err(|e| fail(vec![(None, e)]))?;
        let keys: Vec<T::Value> = joins
            .iter()
            .filter_map(rel.join_dest_key)
            .collect::<HashSet<K2>>()
            .into_iter()
            .filter_map(rel.dest_value)
            .collect();
        let current = if keys.is_empty() {
            Vec::new()
        } else {
            dest_layer
                .read(ctx, &Query::new().filter(Filter::In(rel.dest_field, keys)))
                .await
                .map_err(|e| fail(vec![(None, e)]))?
        };
        (joins, current)
    } else {
        (Vec::new(), Vec::new())
    };
    // The join records of a destination (one, unless the join table repeats a pair).
    let joins_of = |dest: &T| -> Vec<J> {
        let key = (rel.dest_key)(dest);
        joins
            .iter()
            .filter(|j| key.is_some() && (rel.join_dest_key)(j) == key)
            .cloned()
            .collect()
    };
    let unjoin = |dest: T| {
        let rows = joins_of(&dest);
        async move {
            for row in rows {
                let input = new_unjoin()?;
                action::destroy_in(join_layer, ctx, Some(dom), &row, input).await?;
            }
            Ok::<(), Error>(())
        }
    };
    let named: HashSet<&T::PrimaryKey> = items.iter().filter_map(Managed::key).collect();

    // on_missing first, as for the other kinds.
    let mut kept = Vec::new();
    for stored in &current {
        if named.contains(stored.primary_key()) {
            continue;
        }
        let result = match options.on_missing {
            OnMissing::Ignore => {
                kept.push(stored.clone());
                continue;
            }
            OnMissing::Unrelate => unjoin(stored.clone()).await,
            OnMissing::Destroy => match unjoin(stored.clone()).await {
                Ok(()) => match new_destroy() {
                    Ok(input) => action::destroy_in(dest_layer, ctx, Some(dom), stored, input)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            OnMissing::Error => Err(super::refused(
                argument,
                format!(
                    "changes would destroy a record: {} {:?} is related and not in the input",
                    T::NAME,
                    stored.primary_key()
                ),
            )),
        };
        result.map_err(|e| fail(related::at(None, e)))?;
    }

    // The inputs, in order. Destinations to create and join records to write are
    // gathered and written together at the end.
    let mut results: Vec<Option<T>> = Vec::with_capacity(items.len());
    let mut creates: Vec<(usize, C)> = Vec::new();
    let mut relates: Vec<(usize, K2)> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let matched = item
            .key()
            .and_then(|k| current.iter().find(|c| c.primary_key() == k));
        let outcome: Result<Option<T>, Error> = match (item, matched) {
            (Managed::Create(input), _) => match options.on_no_match {
                OnNoMatch::Create => {
                    creates.push((index, input));
                    Ok(None)
                }
                OnNoMatch::Ignore => Ok(None),
                OnNoMatch::Error => Err(super::refused(
                    argument,
                    format!(
                        "no new {} may be created here (on_no_match is error)",
                        T::NAME
                    ),
                )),
            },
            (item, Some(stored)) => match options.on_match {
                OnMatch::Ignore => Ok(Some(stored.clone())),
                OnMatch::Update => {
                    let pair = match item {
                        Managed::Update(copy, input) => Ok((copy, input)),
                        _ => new_update().map(|input| (stored.clone(), input)),
                    };
                    match pair {
                        Ok((copy, input)) => {
                            related::update_one(dest_layer, ctx, Some(dom), &copy, input, None)
                                .await
                                .map(Some)
                        }
                        Err(e) => Err(e),
                    }
                }
                OnMatch::Unrelate => unjoin(stored.clone()).await.map(|()| None),
                OnMatch::Error => Err(super::refused(
                    argument,
                    format!("{} {:?} is already related", T::NAME, stored.primary_key()),
                )),
            },
            (item, None) => {
                let key = item.key().cloned();
                let found = match (options.on_lookup, &key) {
                    (OnLookup::Relate, Some(key)) => dest_layer
                        .get(ctx, key)
                        .await
                        .map_err(|e| fail(vec![(Some(index), e)]))?,
                    _ => None,
                };
                match (found, options.on_no_match) {
                    (Some(found), _) => match (rel.dest_key)(&found) {
                        Some(k2) => {
                            relates.push((index, k2));
                            Ok(Some(found))
                        }
                        None => Err(ErrorKind::Framework(FrameworkError {
                            message: format!(
                                "{} has no value of `{}` to relate it by",
                                T::NAME,
                                rel.info.destination_attribute
                            ),
                        })
                        .into()),
                    },
                    (None, OnNoMatch::Ignore) => Ok(None),
                    (None, _) => Err(ErrorKind::NotFound(NotFound {
                        resource: T::NAME,
                        filter: key.map(|k| Filter::<T>::primary_key(&k).to_dyn()),
                    })
                    .into()),
                }
            }
        };
        match outcome {
            Ok(done) => results.push(done),
            Err(e) => return Err(fail(related::at(Some(index), e))),
        }
    }
    if !creates.is_empty() {
        let positions: Vec<usize> = creates.iter().map(|(i, _)| *i).collect();
        let no_key = |_: &mut T::Changes| {};
        let created = related::create_many(dest_layer, ctx, Some(dom), creates, &no_key)
            .await
            .map_err(fail)?;
        for (index, record) in positions.into_iter().zip(created) {
            if let Some(k2) = (rel.dest_key)(&record) {
                relates.push((index, k2));
            }
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(record);
            }
        }
    }
    if !relates.is_empty() {
        // Join records in input order, all in one write.
        relates.sort_by_key(|(index, _)| *index);
        let Some(new_join) = new_join else {
            return Err(fail(related::at(None, no_action(argument, "join create"))));
        };
        // Each join input carries its own keys: forced before the join action's changes.
        let mut joined = Vec::with_capacity(relates.len());
        for (index, k2) in relates {
            let parent = parent_key.clone();
            let keys = move |changes: &mut J::Changes| {
                set_join_keys(changes, parent.clone(), k2.clone());
            };
            joined.push((index, keys));
        }
        for (index, keys) in &joined {
            // One write per join record when the join action may add hooks; otherwise
            // the records are checked one by one and written together below.
            if JC::MAY_ADD_HOOKS {
                let force: Force<'_, J> = keys;
                related::create_one(join_layer, ctx, Some(dom), new_join(), force)
                    .await
                    .map_err(|e| fail(related::at(Some(*index), e)))?;
            }
        }
        if !JC::MAY_ADD_HOOKS {
            let mut rows = Vec::with_capacity(joined.len());
            let mut positions = Vec::with_capacity(joined.len());
            for (index, keys) in &joined {
                let force: Force<'_, J> = keys;
                let row = related::build_one(ctx, Some(dom), new_join(), force)
                    .map_err(|e| fail(related::at(Some(*index), e)))?;
                rows.push(row);
                positions.push(*index);
            }
            join_layer
                .create_many(ctx, rows)
                .await
                .map_err(|(i, e)| fail(vec![(i.and_then(|i| positions.get(i).copied()), e)]))?;
        }
    }
    let mut final_records: Vec<T> = results.into_iter().flatten().collect();
    final_records.extend(kept);
    *(rel.slot)(&mut record) = Loaded::new(final_records);
    Ok(record)
}
