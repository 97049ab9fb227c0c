//! Referential integrity: what a `belongs_to` promises about its foreign key.
//!
//! - A create, update or upsert that sets a belongs_to's foreign key (`post.author_id`) to
//!   a value no destination record holds fails with
//!   [`ReferenceNotFound`] and writes nothing. A nil key
//!   refers to nothing and is accepted (`allow_nil`, the default).
//! - A destroy of a record that others refer to does what the referring belongs_to's
//!   `on_delete` says ([`OnDelete`]): `restrict` (the default) refuses with
//!   [`StillReferenced`] and destroys nothing, `cascade`
//!   destroys the referring records too (and theirs, through any number of levels),
//!   `nilify` sets their foreign key to nil.
//!
//! `on_delete` is declared on the belongs_to (`belongs_to(post, Post, on_delete =
//! cascade)`), the relationship that owns the foreign key, as ash_postgres declares it in
//! the `references` block of the resource holding the belongs_to. The default is
//! `restrict`: ash_postgres leaves `on_delete` unset by default, which PostgreSQL runs as
//! `NO ACTION`, a refusal too.
//!
//! Referential actions are the data layer's, not actions: a cascaded destroy or a nilify
//! runs no change, validation, policy or hook of the referring resource, exactly like
//! PostgreSQL's `ON DELETE CASCADE` / `SET NULL`.
//!
//! PostgreSQL enforces all of this with foreign-key constraints; `ash-postgres` maps their
//! violations to the same errors. A data layer without foreign keys (ETS) does it itself
//! with the helpers here: [`check_written`] before a write, [`plan_destroy`] and
//! [`Plan::apply`] around a destroy. Both need the other resources' tables, which only the
//! domain knows: `ash_rs::api` (and so every function a domain defines) hands them to the
//! data layer in the call's [`Context`] ([`Context::references`]) for writes of resources
//! that have a belongs_to or are the destination of one. An action run on a bare data
//! layer (`ash_rs::action::create(&table, ..)`) carries no links, and ETS then checks
//! nothing.

use crate::attribute::AttributeValue;
use crate::context::Context;
use crate::data_layer::{DataLayer, DestroyOp};
use crate::domain::{HasResources, ResourceVisitor};
use crate::error::{ErrorKind, FrameworkError, ReferenceNotFound, StillReferenced};
use crate::query::Query;
use crate::relationship::{
    layer, Direct, FromRelated, LoadOp, OnDelete, Relationship, RelationshipInfo, Tables,
};
use crate::resource::Resource;
use crate::value::Value;
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

/// A belongs_to of resource `S`, type-erased over its destination: what
/// [`Resource::REFERENCES`] lists (generated from the `#[relationships]` of `S`).
pub trait Reference<S: Resource>: Send + Sync + 'static {
    /// The relationship's static facts (its `on_delete`, its names).
    fn info(&self) -> &'static RelationshipInfo;
    /// The foreign key, `author_id`.
    fn source_field(&self) -> S::Field;
    /// Whether a destination record holds `key` (a non-nil value of the foreign key), for a
    /// destination whose data layer answers at once (ETS); a framework error otherwise.
    fn exists_now(&self, tables: &dyn Tables, ctx: &Context, key: Value)
        -> Result<bool, ErrorKind>;
    /// The foreign-key value that refers to `parent` (a record of the destination), or
    /// `None` when `parent` is of another resource or its key is nil.
    fn referring_value(&self, parent: &dyn Any) -> Option<S::Value>;
}

impl<S, D, K, T> Reference<S> for Direct<S, D, K, T>
where
    S: Resource,
    D: Resource,
    K: AttributeValue + Eq + Hash,
    T: FromRelated<D> + 'static,
{
    fn info(&self) -> &'static RelationshipInfo {
        Relationship::info(self)
    }

    fn source_field(&self) -> S::Field {
        self.source_field
    }

    fn exists_now(
        &self,
        tables: &dyn Tables,
        ctx: &Context,
        key: Value,
    ) -> Result<bool, ErrorKind> {
        let key = K::from_value(key).map_err(framework)?;
        let Some(value) = (self.dest_value)(key) else {
            // Keys of different types: `SameKey` refuses them at compile time.
            return Err(framework(format!("a key of {} of another type", D::NAME)));
        };
        let layer = layer::<D>(tables)?;
        let found = match D::primary_key_of(&value) {
            Some(pk) => layer
                .immediate_get(ctx, pk)
                .map(|found| found.map(|record| record.is_some())),
            None => {
                let query = Query::new().filter(crate::filter::Filter::eq(value.clone()));
                layer
                    .immediate_count(ctx, &query)
                    .map(|count| count.map(|n| n > 0))
            }
        };
        found.unwrap_or_else(|| Err(waits(D::NAME)))
    }

    fn referring_value(&self, parent: &dyn Any) -> Option<S::Value> {
        let parent = parent.downcast_ref::<D>()?;
        (self.dest_key)(parent).map(self.source_value)
    }
}

fn framework(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: message.into(),
    })
}

#[cold]
fn waits(resource: &str) -> ErrorKind {
    framework(format!(
        "foreign keys are checked by the data layer here, which needs {resource}'s data layer \
         to answer at once (ETS); a belongs_to between an ETS resource and a PostgreSQL one \
         is not supported"
    ))
}

/// Polls a future once: its output when it is ready at once (every ETS operation).
fn now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// Checks every belongs_to of `R` whose foreign key the write sets: `key_of(field)` is the
/// value written (`None`: not written; nil: refers to nothing). `ReferenceNotFound` for the
/// first key no destination record holds. Call it with the domain's links, under whatever
/// keeps the destinations from being destroyed until the write is done (ETS: its
/// reference gate).
pub fn check_written<R: Resource>(
    links: &dyn Links,
    ctx: &Context,
    key_of: impl Fn(R::Field) -> Option<Value>,
) -> Result<(), ErrorKind> {
    for reference in R::REFERENCES {
        let Some(value) = key_of(reference.source_field()) else {
            continue;
        };
        if value == Value::Null {
            continue;
        }
        if !reference.exists_now(links.tables(), ctx, value)? {
            let info = reference.info();
            return Err(ErrorKind::ReferenceNotFound(ReferenceNotFound {
                resource: R::NAME,
                relationship: info.name,
                field: info.source_attribute,
                destination: info.destination,
                destination_attribute: info.destination_attribute,
            }));
        }
    }
    Ok(())
}

/// The domain a call came through, as a data layer sees it: its tables, and the
/// belongs_to relationships of all its resources. Implemented by [`Linked`].
pub trait Links: Send + Sync {
    /// The domain's data layers.
    fn tables(&self) -> &dyn Tables;
    /// Whether a belongs_to of the domain has `resource` as destination.
    fn is_referenced(&self, resource: &str) -> bool;
    /// The belongs_to relationships whose destination is `resource` (every one when
    /// `None`), in the order the domain lists their resources.
    fn referrers(&self, resource: Option<&str>) -> Vec<Box<dyn Referrer>>;
}

/// A domain value as [`Links`].
pub struct Linked<D>(pub D);

struct Collect<'a> {
    destination: Option<&'a str>,
    found: Vec<Box<dyn Referrer>>,
}

impl ResourceVisitor for Collect<'_> {
    fn visit<S: Resource>(&mut self) {
        for reference in S::REFERENCES {
            if self
                .destination
                .is_none_or(|d| reference.info().destination == d)
            {
                self.found.push(Box::new(ReferrerOf::<S>(*reference)));
            }
        }
    }
}

struct AnyReferrer<'a>(&'a str, bool);

impl ResourceVisitor for AnyReferrer<'_> {
    fn visit<S: Resource>(&mut self) {
        self.1 |= S::REFERENCES
            .iter()
            .any(|reference| reference.info().destination == self.0);
    }
}

/// Whether a belongs_to of domain `D` has `R` as destination (a static fact, computed from
/// the listed resources' descriptors).
pub fn is_referenced<D: HasResources, R: Resource>() -> bool {
    let mut any = AnyReferrer(R::NAME, false);
    D::visit_resources(&mut any);
    any.1
}

impl<D: Tables + HasResources + 'static> Links for Linked<D> {
    fn tables(&self) -> &dyn Tables {
        &self.0
    }

    fn is_referenced(&self, resource: &str) -> bool {
        let mut any = AnyReferrer(resource, false);
        D::visit_resources(&mut any);
        any.1
    }

    fn referrers(&self, resource: Option<&str>) -> Vec<Box<dyn Referrer>> {
        let mut collect = Collect {
            destination: resource,
            found: Vec::new(),
        };
        D::visit_resources(&mut collect);
        collect.found
    }
}

/// A referential action on one record, run by [`Plan::apply`].
type Step = Box<dyn FnOnce(&dyn Tables, &Context) -> Result<(), ErrorKind> + Send + Sync>;

/// A record referring to a destroyed one, found by [`Referrer::find`].
pub struct Found {
    /// Its resource's name.
    pub resource: &'static str,
    /// Its primary key, as text (to recognise it when met twice).
    pub key: String,
    /// The record (of `resource`'s type).
    pub record: Box<dyn Any + Send + Sync>,
    destroy: Step,
    nilify: Step,
}

/// One belongs_to of some resource, type-erased over it: finds the records referring to a
/// record of its destination.
pub trait Referrer: Send + Sync {
    /// The relationship's static facts.
    fn info(&self) -> &'static RelationshipInfo;
    /// The data-layer options of the resource holding the belongs_to (its table).
    fn source_data_layer_options(&self) -> &'static [(&'static str, &'static str)];
    /// The records referring to `parent` (a record of the destination), through the
    /// source's data layer (which must answer at once).
    fn find(
        &self,
        tables: &dyn Tables,
        ctx: &Context,
        parent: &dyn Any,
    ) -> Result<Vec<Found>, ErrorKind>;
}

struct ReferrerOf<S: Resource>(&'static dyn Reference<S>);

impl<S: Resource> Referrer for ReferrerOf<S> {
    fn info(&self) -> &'static RelationshipInfo {
        self.0.info()
    }

    fn source_data_layer_options(&self) -> &'static [(&'static str, &'static str)] {
        S::DATA_LAYER_OPTIONS
    }

    fn find(
        &self,
        tables: &dyn Tables,
        ctx: &Context,
        parent: &dyn Any,
    ) -> Result<Vec<Found>, ErrorKind> {
        let Some(value) = self.0.referring_value(parent) else {
            return Ok(Vec::new());
        };
        let field = self.0.source_field();
        let query = Query::new();
        let op = LoadOp {
            field,
            keys: std::slice::from_ref(&value),
            query: &query,
        };
        let records = now(layer::<S>(tables)?.load(ctx, &op)).ok_or_else(|| waits(S::NAME))??;
        let mut found = Vec::with_capacity(records.len());
        for record in records {
            let key = record.primary_key().clone();
            // Only a nilify needs it (a key that cannot be nil has none).
            let nil = match self.0.info().on_delete {
                OnDelete::Nilify => Some(nil_value(&record, field)?),
                _ => None,
            };
            let (k1, k2) = (key.clone(), key.clone());
            found.push(Found {
                resource: S::NAME,
                key: format!("{key:?}"),
                record: Box::new(record),
                destroy: Box::new(move |tables, ctx| {
                    let op = DestroyOp {
                        primary_key: &k1,
                        guard: crate::data_layer::Guard::NONE,
                    };
                    match layer::<S>(tables)?.immediate_destroy(ctx, op) {
                        Ok(Ok(_)) | Ok(Err(ErrorKind::StaleRecord(_))) => Ok(()),
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(waits(S::NAME)),
                    }
                }),
                nilify: Box::new(move |tables, ctx| {
                    let Some(nil) = nil else {
                        return Err(framework(format!("{} cannot be nilified", S::NAME)));
                    };
                    match layer::<S>(tables)?.immediate_write_value(ctx, &k2, nil) {
                        Some(Ok(())) | Some(Err(ErrorKind::StaleRecord(_))) => Ok(()),
                        Some(Err(e)) => Err(e),
                        None => Err(waits(S::NAME)),
                    }
                }),
            });
        }
        Ok(found)
    }
}

/// The nil value of `field` (an `Option` attribute), as `S`'s typed value.
fn nil_value<S: Resource>(record: &S, field: S::Field) -> Result<S::Value, ErrorKind> {
    let name = S::field_name(field);
    let index = S::ATTRIBUTES
        .iter()
        .position(|a| a.name == name)
        .ok_or_else(|| framework(format!("{} has no attribute {name}", S::NAME)))?;
    let mut values = record.to_values();
    values[index] = Value::Null;
    Ok(S::from_values(values)?.get(field))
}

/// What destroying one record does to the records referring to it, worked out before
/// anything is written ([`plan_destroy`]) and applied after the record itself is destroyed
/// ([`Plan::apply`]).
#[derive(Default)]
pub struct Plan {
    nilify: Vec<Step>,
    /// In the order found (breadth first); applied in reverse, deepest first.
    destroy: Vec<Step>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("nilify", &self.nilify.len())
            .field("destroy", &self.destroy.len())
            .finish()
    }
}

impl Plan {
    /// Whether the destroy touches no other record.
    pub fn is_empty(&self) -> bool {
        self.nilify.is_empty() && self.destroy.is_empty()
    }

    /// How many records the plan destroys (cascades, every level) and nilifies.
    pub fn counts(&self) -> (usize, usize) {
        (self.destroy.len(), self.nilify.len())
    }

    /// The plan's nilifies and its cascaded destroys as two plans, for a data layer that
    /// runs them on either side of the destroy of the record itself.
    pub fn split(self) -> (Plan, Plan) {
        (
            Plan {
                nilify: self.nilify,
                destroy: Vec::new(),
            },
            Plan {
                nilify: Vec::new(),
                destroy: self.destroy,
            },
        )
    }

    /// Applies the plan: nilifies (by resource, then primary key), then destroys (deepest level first), each on its own
    /// through the referring resource's data layer, with `ctx` minus its links (so those
    /// writes check nothing again). A record already gone is skipped. The first error stops
    /// it: the steps done stay done (a data layer without transactions cannot undo them).
    pub fn apply(self, links: &dyn Links, ctx: &Context) -> Result<(), ErrorKind> {
        let inner = ctx.clone().without_references();
        let tables = links.tables();
        for step in self.nilify {
            step(tables, &inner)?;
        }
        for step in self.destroy.into_iter().rev() {
            step(tables, &inner)?;
        }
        Ok(())
    }
}

/// Works out what destroying `record` (of resource `resource`, primary key `key` as
/// text) does to the records referring to it, through every level of `cascade`. Writes
/// nothing. Fails with `StillReferenced` when a record that would remain (one not
/// destroyed by the cascade itself) refers to `record` or to a cascaded record through a
/// belongs_to with `on_delete = restrict`: the whole destroy is then refused.
///
/// The caller keeps new referring records from appearing until it has applied the plan
/// (ETS: its reference gate, taken exclusively).
pub fn plan_destroy(
    links: &dyn Links,
    ctx: &Context,
    resource: &'static str,
    key: String,
    record: Box<dyn Any + Send + Sync>,
) -> Result<Plan, ErrorKind> {
    let tables = links.tables();
    let mut referrers: HashMap<&'static str, Arc<Vec<Box<dyn Referrer>>>> = HashMap::new();
    let mut destroyed: HashSet<(&'static str, String)> = HashSet::new();
    destroyed.insert((resource, key));
    let mut nodes: Vec<(&'static str, Box<dyn Any + Send + Sync>)> = vec![(resource, record)];
    let mut plan = Plan::default();
    let mut restricted: Vec<(
        &'static str,
        &'static RelationshipInfo,
        (&'static str, String),
    )> = Vec::new();
    let mut nilified: Vec<(Found, &'static RelationshipInfo)> = Vec::new();
    let mut next = 0;
    while next < nodes.len() {
        let (resource, _) = &nodes[next];
        let resource = *resource;
        let list = referrers
            .entry(resource)
            .or_insert_with(|| Arc::new(links.referrers(Some(resource))))
            .clone();
        for referrer in list.iter() {
            let info = referrer.info();
            let found = referrer.find(tables, ctx, &*nodes[next].1)?;
            for f in found {
                match info.on_delete {
                    OnDelete::Cascade => {
                        if destroyed.insert((f.resource, f.key.clone())) {
                            plan.destroy.push(f.destroy);
                            nodes.push((f.resource, f.record));
                        }
                    }
                    OnDelete::Restrict => restricted.push((resource, info, (f.resource, f.key))),
                    OnDelete::Nilify => nilified.push((f, info)),
                }
            }
        }
        next += 1;
    }
    // "End of statement": a referring record the cascade destroys does not restrict.
    if let Some((resource, info, _)) = restricted
        .into_iter()
        .find(|(_, _, referring)| !destroyed.contains(referring))
    {
        return Err(ErrorKind::StillReferenced(StillReferenced {
            resource,
            referencing: info.source.to_owned(),
            relationship: info.name.to_owned(),
            field: info.source_attribute.to_owned(),
        }));
    }
    // In a stable order (resource, then primary key), whatever order the layer found them.
    nilified.sort_by(|(a, _), (b, _)| (a.resource, &a.key).cmp(&(b.resource, &b.key)));
    for (f, _) in nilified {
        if !destroyed.contains(&(f.resource, f.key.clone())) {
            plan.nilify.push(f.nilify);
        }
    }
    Ok(plan)
}
