//! Relationships between resources (Ash's `relationships` section) and loading them.
//!
//! A resource declares them with
//! `#[relationships(belongs_to(author, User), has_many(comments, Comment), ...)]`;
//! `#[resource]` lists them in [`Resource::RELATIONSHIPS`] (static descriptors a data layer
//! can read, for loads now and aggregates later), adds one [`Loaded`] field per
//! relationship to the struct, and gives each a typed handle (`Post::COMMENTS`): a
//! [`Direct`] (belongs_to, has_one, has_many) or a [`ManyToMany`].
//!
//! # Loading
//!
//! A load is a description: the relationship, the keys of the parents, and the query on
//! the related records ([`LoadOp`]). Each data layer answers one description with one
//! operation ([`DataLayer::load`]): PostgreSQL with one `= ANY($1)` statement (one array
//! parameter, whatever the number of keys; a per-parent limit as a window function), ETS
//! from an index by foreign key. A level of a nested load is one such operation for all the
//! parents of that level, so `Post::COMMENTS.load(Comment::AUTHOR)` on 1,000 posts is
//! 2 operations after the read of the posts.
//!
//! # The relationship's own filter and sort
//!
//! `has_many(comments, Comment, filter = Comment::APPROVED.eq(true), sort = [Comment::SCORE.desc()])`:
//! the `filter` limits the related records that every load, `exists` and path sees (it is
//! ANDed into the load's query and into the filter on the destination of an `exists`, so
//! PostgreSQL still renders one statement); `sort` is the order of a load whose per-load
//! query gives none (a per-load sort replaces it). See [`Relationship::filter`].
//!
//! An unloaded relationship is [`Loaded::get`] `Err(NotLoaded)`, never a silent empty
//! list (Ash's `%Ash.NotLoaded{}`). A relationship that is already loaded on every parent
//! is not loaded again (Ash's `lazy?: true`), unless the load has nested loads.

use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::error::{ErrorKind, FrameworkError};
use crate::filter::{DynFilter, Filter};
use crate::future::BoxFuture;
use crate::query::{Query, SortOrder};
use crate::resource::Resource;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

/// The four kinds of relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationshipKind {
    /// The source holds the destination's key (`post.author_id`); to-one.
    BelongsTo,
    /// The destination holds the source's key; to-one.
    HasOne,
    /// The destination holds the source's key; to-many.
    HasMany,
    /// A join resource holds both keys; to-many.
    ManyToMany,
}

impl RelationshipKind {
    /// Whether the relationship gives at most one record.
    pub fn is_to_one(self) -> bool {
        matches!(self, RelationshipKind::BelongsTo | RelationshipKind::HasOne)
    }
}

/// What a destroy of a record does to the records referring to it through a relationship
/// (ash_postgres' `references ... on_delete`), declared on the relationship that owns the
/// foreign key (`belongs_to(post, Post, on_delete = cascade)`); see [`crate::reference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnDelete {
    /// The destroy fails with [`ErrorKind::StillReferenced`] and destroys nothing: the
    /// default (ash_postgres leaves it unset, which PostgreSQL runs as `NO ACTION`, also a
    /// refusal).
    Restrict,
    /// The referring records are destroyed too.
    Cascade,
    /// The referring records' foreign key is set to nil.
    Nilify,
}

/// The join resource of a many_to_many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThroughInfo {
    /// The join resource's name.
    pub resource: &'static str,
    /// Its attribute holding the source's key (`post_id`).
    pub source_attribute_on_join_resource: &'static str,
    /// Its attribute holding the destination's key (`tag_id`).
    pub destination_attribute_on_join_resource: &'static str,
    /// The join resource's attributes and data-layer options (for SQL).
    pub attributes: &'static [crate::attribute::AttributeInfo],
    /// The join resource's data-layer options.
    pub data_layer_options: &'static [(&'static str, &'static str)],
}

/// Static facts about one relationship: what a data layer needs to load it, filter by it
/// or aggregate over it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelationshipInfo {
    /// Its name, `comments`.
    pub name: &'static str,
    /// Its kind.
    pub kind: RelationshipKind,
    /// The source resource's name.
    pub source: &'static str,
    /// The destination resource's name.
    pub destination: &'static str,
    /// The source's attribute matched with the destination's (`author_id` for a
    /// belongs_to, `id` for the others by default).
    pub source_attribute: &'static str,
    /// The destination's attribute (`id` for a belongs_to, `post_id` for a has_many).
    pub destination_attribute: &'static str,
    /// The join resource of a many_to_many.
    pub through: Option<ThroughInfo>,
    /// The destination's attributes (for SQL).
    pub destination_attributes: &'static [crate::attribute::AttributeInfo],
    /// The destination's data-layer options (its table, for SQL).
    pub destination_data_layer_options: &'static [(&'static str, &'static str)],
    /// A belongs_to: whether the foreign key may be nil.
    pub allow_nil: bool,
    /// What destroying the destination does to the source records (belongs_to only).
    pub on_delete: OnDelete,
}

/// Sort keys of `R` (a relationship's default sort).
pub type SortKeys<R> = Vec<(<R as Resource>::Field, SortOrder)>;

/// The records of a relationship, once loaded: `Err(NotLoaded)` before (Ash's
/// `%Ash.NotLoaded{}`). `Loaded<Vec<Comment>>` for a to-many relationship,
/// `Loaded<Option<User>>` for a to-one one.
pub struct Loaded<T>(Option<Box<T>>);

impl<T> Loaded<T> {
    /// Not loaded.
    pub const fn not_loaded() -> Self {
        Loaded(None)
    }

    /// Loaded with `value`.
    pub fn new(value: T) -> Self {
        Loaded(Some(Box::new(value)))
    }

    /// Whether it was loaded.
    pub fn is_loaded(&self) -> bool {
        self.0.is_some()
    }

    /// The loaded records, or `NotLoaded`.
    pub fn get(&self) -> Result<&T, NotLoaded> {
        self.0.as_deref().ok_or(NotLoaded)
    }

    /// The loaded records, or `None` when not loaded.
    pub fn loaded(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// The loaded records, mutably.
    pub fn loaded_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    /// Back to not loaded, giving what was loaded.
    pub fn take(&mut self) -> Option<T> {
        self.0.take().map(|b| *b)
    }
}

impl<T> Default for Loaded<T> {
    fn default() -> Self {
        Loaded(None)
    }
}

impl<T: Clone> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        Loaded(self.0.clone())
    }
}

impl<T: PartialEq> PartialEq for Loaded<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Loaded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("NotLoaded"),
        }
    }
}

/// Reading a relationship that was not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotLoaded;

impl fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("relationship not loaded: load it with `.load(...)` first")
    }
}

impl std::error::Error for NotLoaded {}

/// Reading an unloaded relationship with `?` in code returning [`Error`](crate::error::Error):
/// a framework error (the code forgot a load), never an empty result.
impl From<NotLoaded> for crate::error::Error {
    fn from(not_loaded: NotLoaded) -> Self {
        ErrorKind::Framework(FrameworkError {
            message: format!("{not_loaded}: load it first (`Query::load`, `domain.load`)"),
        })
        .into()
    }
}

/// The data layers of a domain value, looked up by resource type: what a load (which
/// crosses from one resource's data layer to another's) runs against. Implemented by
/// `#[domain]`.
pub trait Tables: Send + Sync {
    /// The data layer of the resource whose `TypeId` is `resource`, if listed.
    fn table_any(&self, resource: TypeId) -> Option<&(dyn Any + Send + Sync)>;
    /// The context calls carry.
    fn tables_context(&self) -> &Context;
}

/// The data layer of `R` in `tables`, or a framework error naming `R` when the domain does
/// not list it.
pub fn layer<R: Resource>(tables: &dyn Tables) -> Result<&R::DataLayer, ErrorKind> {
    tables
        .table_any(TypeId::of::<R>())
        .and_then(|any| any.downcast_ref::<R::DataLayer>())
        .ok_or_else(|| {
            ErrorKind::Framework(FrameworkError {
                message: format!(
                    "the domain does not list {}, which a relationship refers to",
                    R::NAME
                ),
            })
        })
}

/// A load, described for the data layer of the related resource `R`: the records whose
/// attribute `field` holds one of `keys`, matching `query`'s filter, in `query`'s sort
/// order (with an empty sort and no paging, in any order: the caller orders each
/// parent's records by primary key). `query`'s limit and offset apply **per key** (per
/// parent), after ordering by the sort, then the primary key.
#[derive(Debug)]
pub struct LoadOp<'a, R: Resource> {
    /// The attribute matched with the parents' keys (a has_many's `post_id`).
    pub field: R::Field,
    /// The parents' keys, distinct, none nil.
    pub keys: &'a [R::Value],
    /// Filter and sort of the related records; limit and offset per key.
    pub query: &'a Query<R>,
}

impl<R: Resource> LoadOp<'_, R> {
    /// The load as a plain query (`field in keys` and the filter, sorted, unpaged), for data
    /// layers that have no better way; pair it with [`LoadOp::page_per_key`].
    pub fn as_query(&self) -> Query<R> {
        let mut query = Query {
            filter: Some(Filter::In(self.field, self.keys.to_vec())),
            sort: self.query.sort.clone(),
            ..Query::default()
        };
        if let Some(filter) = &self.query.filter {
            query = query.filter(filter.clone());
        }
        query
    }

    /// Applies the per-key offset and limit to `records` (already sorted), in memory.
    /// Costs one comparison per record and key seen so far; data layers with native
    /// per-key paging do not need it.
    pub fn page_per_key(&self, records: Vec<R>) -> Vec<R> {
        if self.query.limit.is_none() && self.query.offset == 0 {
            return records;
        }
        let limit = self.query.limit.unwrap_or(usize::MAX);
        let mut seen: Vec<(R::Value, usize)> = Vec::new();
        let mut out = Vec::new();
        for record in records {
            let value = record.get(self.field);
            let n = match seen.iter_mut().find(|(v, _)| *v == value) {
                Some((_, n)) => n,
                None => {
                    seen.push((value, 0));
                    match seen.last_mut() {
                        Some((_, n)) => n,
                        None => continue,
                    }
                }
            };
            *n += 1;
            if *n > self.query.offset && *n - self.query.offset <= limit {
                out.push(record);
            }
        }
        out
    }
}

/// A typed relationship handle (`Post::COMMENTS`): what can be loaded and filtered
/// through.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relationship handle",
    note = "use a handle generated by `#[relationships(...)]`, like `Post::COMMENTS`"
)]
pub trait Relationship: Copy + Send + Sync + 'static {
    /// The resource declaring it.
    type Source: Resource;
    /// The related resource.
    type Destination: Resource;
    /// Its static facts.
    fn info(&self) -> &'static RelationshipInfo;
    /// Whether it is loaded on `record`.
    fn is_loaded(&self, record: &Self::Source) -> bool;
    /// The relationship's own filter (`filter = ...`): the related records every load,
    /// `exists` and path through it sees are those matching it. `None` without one.
    fn filter(&self) -> Option<Filter<Self::Destination>> {
        None
    }
    /// The relationship's default sort (`sort = [...]`): the order of a load whose query
    /// gives none. Empty without one.
    fn default_sort(&self) -> Vec<(<Self::Destination as Resource>::Field, SortOrder)> {
        Vec::new()
    }
    /// Loads it onto every record of `parents` with `query` on the related records
    /// (running `query`'s own loads on them, one operation per level).
    fn load_onto<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [Self::Source],
        query: &'a Query<Self::Destination>,
    ) -> BoxFuture<'a, Result<(), ErrorKind>>;
    /// The filter on the source matching records for which `inner` holds for some related
    /// record, with the keys found by reading the destination (for data layers that do not
    /// render [`Filter::Related`] natively).
    fn resolve_exists<'a>(
        &'a self,
        tables: &'a dyn Tables,
        inner: &'a Filter<Self::Destination>,
    ) -> BoxFuture<'a, Result<Filter<Self::Source>, ErrorKind>>;

    /// The filter on the source matching the records related to `record` through this
    /// relationship (what `relates_to_actor_via` ends with): by default
    /// `exists(relationship, primary key == record's)`; a belongs_to compares its own
    /// attribute, with no relationship filter (`author_id == record.id`; a nil key
    /// matches nothing).
    fn related_to(&self, record: &Self::Destination) -> Filter<Self::Source> {
        Filter::Related(RelatedFilter::new(
            *self,
            Filter::primary_key(record.primary_key()),
        ))
    }
}

/// Source resource `Self` has a relationship whose name hashes to `K` (generated for
/// every relationship): how a relationship path (`relates_to_actor_via([post, author])`)
/// names the relationships of the resources along it in generated code.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no relationship of the name this path gives",
    label = "not a relationship of `{Self}`",
    note = "each name of a relationship path (`relates_to_actor_via([...])`, an aggregate's `[posts, comments]`) is a relationship of the resource the previous one leads to"
)]
pub trait HasRelationship<const K: u128>: Resource {
    /// The relationship's handle type.
    type Handle: Relationship<Source = Self>;
    /// The related resource (the handle's destination, named without its impl, so that
    /// the types of a struct's fields can name it without a cycle).
    type Destination: Resource;
    /// The handle (`Post::AUTHOR`).
    const HANDLE: Self::Handle;
    /// Its static facts (an aggregate's path names them in a constant).
    const INFO: &'static RelationshipInfo;
}

/// What a loaded relationship holds, built from the related records of one parent.
pub trait FromRelated<D>: Sized + Send + 'static {
    /// From the related records, in order. A to-one takes the first (Ash logs a warning
    /// when there are more; use a sort to choose).
    fn from_related(records: Vec<D>) -> Self;
}

impl<D: Send + 'static> FromRelated<D> for Vec<D> {
    fn from_related(records: Vec<D>) -> Self {
        records
    }
}

impl<D: Send + 'static> FromRelated<D> for Option<D> {
    fn from_related(records: Vec<D>) -> Self {
        records.into_iter().next()
    }
}

/// The key type a relationship matches on: `T` for an attribute of type `T` or
/// `Option<T>`. The source and destination attributes must have the same key type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a relationship key",
    label = "not a key type",
    note = "relationship keys are hashed to group related records: use an integer, a string or a Uuid"
)]
pub trait RelationshipKey: Clone + Send + Sync + 'static {
    /// The key type.
    type Key: Clone + Eq + Hash + fmt::Debug + Send + Sync + 'static;
    /// The key, `None` when nil.
    fn key(&self) -> Option<Self::Key>;
    /// The attribute value holding `key`.
    fn from_key(key: Self::Key) -> Self;
}

macro_rules! key_impls {
    ($($t:ty),*) => {$(
        impl RelationshipKey for $t {
            type Key = $t;
            #[inline]
            fn key(&self) -> Option<$t> {
                Some(self.clone())
            }
            #[inline]
            fn from_key(key: $t) -> $t {
                key
            }
        }
    )*};
}
key_impls!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    isize,
    bool,
    String,
    uuid::Uuid
);

impl<T: RelationshipKey<Key = T> + Eq + Hash + fmt::Debug> RelationshipKey for Option<T> {
    type Key = T;
    #[inline]
    fn key(&self) -> Option<T> {
        self.clone()
    }
    #[inline]
    fn from_key(key: T) -> Self {
        Some(key)
    }
}

/// Resource `Self` has an attribute whose name hashes to `K` (generated for every
/// attribute): how a relationship names the other resource's attributes in generated
/// code.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no attribute of the name this relationship gives",
    label = "not an attribute of `{Self}`",
    note = "name one of `{Self}`'s attributes (`destination_attribute = ...`, or the `*_on_join_resource` options)"
)]
pub trait HasField<const K: u128>: Resource {
    /// The attribute's type.
    type Type: Clone;
    /// The attribute.
    const FIELD: Self::Field;
    /// The record's value of it.
    fn get(&self) -> &Self::Type;
    /// A typed value of it.
    fn wrap(value: Self::Type) -> Self::Value;
}

/// The key of `value` as `K`: `value`'s own key when its key type is `K` (what
/// [`SameKey`] checks at compile time), else `None`. Generated handles read the other
/// resource's attribute through it, so attributes of different types give the one
/// [`SameKey`] error, not a cascade of type errors in generated code. (The type
/// comparison is resolved when the function is compiled.)
#[doc(hidden)]
#[inline(always)]
pub fn key_as<K: 'static, T: RelationshipKey>(value: &T) -> Option<K> {
    let mut slot = value.key();
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<K>>()
        .and_then(Option::take)
}

/// The attribute value of type `T` holding `key`, when `T`'s key type is `K` (see
/// [`key_as`]).
#[doc(hidden)]
#[inline(always)]
pub fn from_key_as<T: RelationshipKey, K: 'static>(key: K) -> Option<T> {
    let mut slot = Some(key);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T::Key>>()
        .and_then(Option::take)
        .map(T::from_key)
}

/// Checks, at compile time, that a relationship's two attributes have one key type.
#[diagnostic::on_unimplemented(
    message = "the relationship's attributes have different types: `{Self}` on one side, `{Other}` on the other",
    label = "this attribute's type differs from the related attribute's",
    note = "a relationship matches its source and destination attributes by equality: give both the same type (either may be an `Option` of it)"
)]
pub trait SameKey<Other> {}

impl<A, B> SameKey<B> for A
where
    A: RelationshipKey,
    B: RelationshipKey<Key = A::Key>,
{
}

/// Generated code's check of [`SameKey`].
#[doc(hidden)]
pub const fn assert_same_key<A: SameKey<B>, B>() {}

/// A belongs_to, has_one or has_many: the destination's attribute matched with the
/// source's. Generated as an associated constant (`Post::COMMENTS`); the fields are for
/// generated code.
pub struct Direct<S: Resource, D: Resource, K, T> {
    #[doc(hidden)]
    pub info: &'static RelationshipInfo,
    #[doc(hidden)]
    pub source_key: fn(&S) -> Option<K>,
    #[doc(hidden)]
    pub source_field: S::Field,
    #[doc(hidden)]
    pub source_value: fn(K) -> S::Value,
    #[doc(hidden)]
    pub dest_key: fn(&D) -> Option<K>,
    #[doc(hidden)]
    pub dest_field: D::Field,
    #[doc(hidden)]
    pub dest_value: fn(K) -> Option<D::Value>,
    #[doc(hidden)]
    pub slot: fn(&mut S) -> &mut Loaded<T>,
    #[doc(hidden)]
    pub get: fn(&S) -> &Loaded<T>,
    #[doc(hidden)]
    pub filter: Option<fn() -> Filter<D>>,
    #[doc(hidden)]
    pub sort: Option<fn() -> SortKeys<D>>,
}

impl<S: Resource, D: Resource, K, T> Clone for Direct<S, D, K, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: Resource, D: Resource, K, T> Copy for Direct<S, D, K, T> {}

impl<S: Resource, D: Resource, K, T> fmt::Debug for Direct<S, D, K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relationship({}.{})", S::NAME, self.info.name)
    }
}

/// The distinct non-nil keys of `parents` that need loading (all parents when `all`).
fn distinct_keys<S, K: Clone + Eq + Hash>(parents: &[S], key: impl Fn(&S) -> Option<K>) -> Vec<K> {
    let mut seen = std::collections::HashSet::with_capacity(parents.len());
    let mut keys = Vec::with_capacity(parents.len());
    for parent in parents {
        if let Some(k) = key(parent) {
            if seen.insert(k.clone()) {
                keys.push(k);
            }
        }
    }
    keys
}

/// Groups `records` (in order) by key.
fn group<D, K: Eq + Hash>(
    records: Vec<D>,
    keys: usize,
    key: impl Fn(&D) -> Option<K>,
) -> HashMap<K, Vec<D>> {
    let mut groups: HashMap<K, Vec<D>> = HashMap::with_capacity(keys);
    for record in records {
        if let Some(k) = key(&record) {
            groups.entry(k).or_default().push(record);
        }
    }
    groups
}

/// Gives each parent its group: the last parent with a key takes the group, the others a
/// copy (a belongs_to shared by many parents).
fn distribute<S, D: Clone, K: Eq + Hash + Clone, T: FromRelated<D>>(
    parents: &mut [S],
    mut groups: HashMap<K, Vec<D>>,
    key: impl Fn(&S) -> Option<K>,
    slot: fn(&mut S) -> &mut Loaded<T>,
    distinct: bool,
) {
    if distinct {
        // Each key is one parent's (a has_many's parents): each takes its group.
        for parent in parents.iter_mut() {
            let related = key(parent)
                .and_then(|k| groups.remove(&k))
                .unwrap_or_default();
            *slot(parent) = Loaded::new(T::from_related(related));
        }
        return;
    }
    let mut remaining: HashMap<K, usize> = HashMap::new();
    for parent in parents.iter() {
        if let Some(k) = key(parent) {
            *remaining.entry(k).or_default() += 1;
        }
    }
    for parent in parents.iter_mut() {
        let related = match key(parent) {
            None => Vec::new(),
            Some(k) => {
                let left = remaining.get_mut(&k).map(|n| {
                    *n -= 1;
                    *n
                });
                match left {
                    Some(0) => groups.remove(&k).unwrap_or_default(),
                    _ => groups.get(&k).cloned().unwrap_or_default(),
                }
            }
        };
        *slot(parent) = Loaded::new(T::from_related(related));
    }
}

/// Runs the loads of `query` on `records`.
pub fn run_loads<'a, R: Resource>(
    tables: &'a dyn Tables,
    records: &'a mut [R],
    query: &'a Query<R>,
) -> BoxFuture<'a, Result<(), ErrorKind>> {
    Box::pin(async move {
        if records.is_empty() {
            return Ok(());
        }
        for load in &query.loads {
            load.0.run(tables, records).await?;
        }
        Ok(())
    })
}

/// The query a load runs on the related records: the per-load query with the
/// relationship's own filter ANDed in and its sort when the query gives none, without its
/// loads (run after, one level at a time), and with relationship filters resolved for
/// data layers that do not render them.
async fn related_query<Rel: Relationship>(
    tables: &dyn Tables,
    rel: &Rel,
    query: &Query<Rel::Destination>,
) -> Result<Query<Rel::Destination>, ErrorKind> {
    let combined = match (rel.filter(), &query.filter) {
        (Some(own), Some(given)) => Some(own.and(given.clone())),
        (Some(own), None) => Some(own),
        (None, given) => given.clone(),
    };
    let filter = match &combined {
        Some(f) => Some(resolve_filter(tables, f).await?),
        None => None,
    };
    let sort = if query.sort.is_empty() {
        rel.default_sort()
    } else {
        query.sort.clone()
    };
    Ok(Query {
        filter,
        sort,
        limit: query.limit,
        offset: query.offset,
        loads: Vec::new(),
        aggregate_sort: Vec::new(),
    })
}

impl<S, D, K, T> Relationship for Direct<S, D, K, T>
where
    S: Resource,
    D: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    T: FromRelated<D> + 'static,
{
    type Source = S;
    type Destination = D;

    fn info(&self) -> &'static RelationshipInfo {
        self.info
    }

    fn is_loaded(&self, record: &S) -> bool {
        (self.get)(record).is_loaded()
    }

    fn filter(&self) -> Option<Filter<D>> {
        self.filter.map(|f| f())
    }

    fn default_sort(&self) -> Vec<(D::Field, SortOrder)> {
        self.sort.map(|f| f()).unwrap_or_default()
    }

    fn load_onto<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [S],
        query: &'a Query<D>,
    ) -> BoxFuture<'a, Result<(), ErrorKind>> {
        Box::pin(async move {
            let keys = distinct_keys(parents, self.source_key);
            let key_count = keys.len();
            let mut related = if keys.is_empty() {
                Vec::new()
            } else {
                let values: Vec<D::Value> = keys.into_iter().filter_map(self.dest_value).collect();
                let own = related_query(tables, self, query).await?;
                let op = LoadOp {
                    field: self.dest_field,
                    keys: &values,
                    query: &own,
                };
                let ctx = tables.tables_context();
                layer::<D>(tables)?.load(ctx, &op).await?
            };
            run_loads(tables, &mut related, query).await?;
            let mut groups = group(related, key_count, self.dest_key);
            if query.sort.is_empty() && self.sort.is_none() {
                // Unsorted: each parent's records by primary key, whatever order the data
                // layer returned them in (PostgreSQL does not sort an unsorted load).
                for records in groups.values_mut() {
                    if records.len() > 1 {
                        records.sort_unstable_by(|a, b| a.primary_key().cmp(b.primary_key()));
                    }
                }
            }
            // Every parent has its own key unless some share one (or have none).
            let distinct = key_count == parents.len();
            distribute(parents, groups, self.source_key, self.slot, distinct);
            Ok(())
        })
    }

    fn resolve_exists<'a>(
        &'a self,
        tables: &'a dyn Tables,
        inner: &'a Filter<D>,
    ) -> BoxFuture<'a, Result<Filter<S>, ErrorKind>> {
        Box::pin(async move {
            let inner = resolve_filter(tables, inner).await?;
            let query = Query::new().filter(inner);
            let ctx = tables.tables_context();
            let found = layer::<D>(tables)?.read(ctx, &query).await?;
            let keys = distinct_keys(&found, self.dest_key);
            Ok(Filter::In(
                self.source_field,
                keys.into_iter().map(self.source_value).collect(),
            ))
        })
    }

    fn related_to(&self, record: &D) -> Filter<S> {
        if self.info.kind != RelationshipKind::BelongsTo || self.filter.is_some() {
            return Filter::Related(RelatedFilter::new(
                *self,
                Filter::primary_key(record.primary_key()),
            ));
        }
        match (self.dest_key)(record) {
            Some(key) => Filter::eq((self.source_value)(key)),
            None => Filter::Or(Vec::new()),
        }
    }
}

/// A many_to_many through join resource `J`: the source's key `K` on `J`, `J`'s key `K2`
/// of the destination. Generated as an associated constant (`Post::TAGS`).
pub struct ManyToMany<S: Resource, J: Resource, D: Resource, K, K2> {
    #[doc(hidden)]
    pub info: &'static RelationshipInfo,
    #[doc(hidden)]
    pub source_key: fn(&S) -> Option<K>,
    #[doc(hidden)]
    pub source_field: S::Field,
    #[doc(hidden)]
    pub source_value: fn(K) -> S::Value,
    #[doc(hidden)]
    pub join_source_key: fn(&J) -> Option<K>,
    #[doc(hidden)]
    pub join_source_field: J::Field,
    #[doc(hidden)]
    pub join_source_value: fn(K) -> Option<J::Value>,
    #[doc(hidden)]
    pub join_dest_key: fn(&J) -> Option<K2>,
    #[doc(hidden)]
    pub join_dest_field: J::Field,
    #[doc(hidden)]
    pub join_dest_value: fn(K2) -> Option<J::Value>,
    #[doc(hidden)]
    pub dest_key: fn(&D) -> Option<K2>,
    #[doc(hidden)]
    pub dest_field: D::Field,
    #[doc(hidden)]
    pub dest_value: fn(K2) -> Option<D::Value>,
    #[doc(hidden)]
    pub slot: fn(&mut S) -> &mut Loaded<Vec<D>>,
    #[doc(hidden)]
    pub get: fn(&S) -> &Loaded<Vec<D>>,
    #[doc(hidden)]
    pub filter: Option<fn() -> Filter<D>>,
    #[doc(hidden)]
    pub sort: Option<fn() -> SortKeys<D>>,
}

impl<S: Resource, J: Resource, D: Resource, K, K2> Clone for ManyToMany<S, J, D, K, K2> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: Resource, J: Resource, D: Resource, K, K2> Copy for ManyToMany<S, J, D, K, K2> {}

impl<S: Resource, J: Resource, D: Resource, K, K2> fmt::Debug for ManyToMany<S, J, D, K, K2> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relationship({}.{})", S::NAME, self.info.name)
    }
}

impl<S, J, D, K, K2> Relationship for ManyToMany<S, J, D, K, K2>
where
    S: Resource,
    J: Resource,
    D: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    K2: Clone + Eq + Hash + Send + Sync + 'static,
{
    type Source = S;
    type Destination = D;

    fn info(&self) -> &'static RelationshipInfo {
        self.info
    }

    fn is_loaded(&self, record: &S) -> bool {
        (self.get)(record).is_loaded()
    }

    fn filter(&self) -> Option<Filter<D>> {
        self.filter.map(|f| f())
    }

    fn default_sort(&self) -> Vec<(D::Field, SortOrder)> {
        self.sort.map(|f| f()).unwrap_or_default()
    }

    /// Two operations: the join records of the parents' keys, then the destination records
    /// of their keys; the per-parent limit and offset are applied in memory.
    fn load_onto<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [S],
        query: &'a Query<D>,
    ) -> BoxFuture<'a, Result<(), ErrorKind>> {
        Box::pin(async move {
            let ctx = tables.tables_context();
            let keys = distinct_keys(parents, self.source_key);
            let joins = if keys.is_empty() {
                Vec::new()
            } else {
                let values: Vec<J::Value> = keys
                    .into_iter()
                    .filter_map(self.join_source_value)
                    .collect();
                let unpaged = Query::new();
                let op = LoadOp {
                    field: self.join_source_field,
                    keys: &values,
                    query: &unpaged,
                };
                layer::<J>(tables)?.load(ctx, &op).await?
            };
            let dest_keys = distinct_keys(&joins, self.join_dest_key);
            let mut related = if dest_keys.is_empty() {
                Vec::new()
            } else {
                let values: Vec<D::Value> =
                    dest_keys.into_iter().filter_map(self.dest_value).collect();
                let mut own = related_query(tables, self, query).await?;
                own.limit = None;
                own.offset = 0;
                let op = LoadOp {
                    field: self.dest_field,
                    keys: &values,
                    query: &own,
                };
                // A load orders records within each key; across the destination keys the
                // order is the data layer's, so the query's sort is applied here.
                own.finish_in_memory(layer::<D>(tables)?.load(ctx, &op).await?)
            };
            run_loads(tables, &mut related, query).await?;
            // Destination position by key, then each parent's positions in sorted order.
            let position: HashMap<K2, usize> = related
                .iter()
                .enumerate()
                .filter_map(|(i, d)| (self.dest_key)(d).map(|k| (k, i)))
                .collect();
            let mut per_parent: HashMap<K, Vec<usize>> = HashMap::new();
            for join in &joins {
                if let (Some(k), Some(k2)) =
                    ((self.join_source_key)(join), (self.join_dest_key)(join))
                {
                    if let Some(&i) = position.get(&k2) {
                        per_parent.entry(k).or_default().push(i);
                    }
                }
            }
            let limit = query.limit.unwrap_or(usize::MAX);
            for parent in parents.iter_mut() {
                let mut found = (self.source_key)(parent)
                    .and_then(|k| per_parent.get(&k).cloned())
                    .unwrap_or_default();
                found.sort_unstable();
                found.dedup();
                let records: Vec<D> = found
                    .into_iter()
                    .skip(query.offset)
                    .take(limit)
                    .map(|i| related[i].clone())
                    .collect();
                *(self.slot)(parent) = Loaded::new(records);
            }
            Ok(())
        })
    }

    fn resolve_exists<'a>(
        &'a self,
        tables: &'a dyn Tables,
        inner: &'a Filter<D>,
    ) -> BoxFuture<'a, Result<Filter<S>, ErrorKind>> {
        Box::pin(async move {
            let ctx = tables.tables_context();
            let inner = resolve_filter(tables, inner).await?;
            let found = layer::<D>(tables)?
                .read(ctx, &Query::new().filter(inner))
                .await?;
            let dest_keys = distinct_keys(&found, self.dest_key);
            let joins = if dest_keys.is_empty() {
                Vec::new()
            } else {
                let values = dest_keys
                    .into_iter()
                    .filter_map(self.join_dest_value)
                    .collect();
                layer::<J>(tables)?
                    .read(
                        ctx,
                        &Query::new().filter(Filter::In(self.join_dest_field, values)),
                    )
                    .await?
            };
            let keys = distinct_keys(&joins, self.join_source_key);
            Ok(Filter::In(
                self.source_field,
                keys.into_iter().map(self.source_value).collect(),
            ))
        })
    }
}

/// One load of a query, type-erased so that a `Query<Post>` can hold loads of relationships
/// to different resources.
pub struct Load<S: Resource>(pub(crate) Arc<dyn LoadNode<S>>);

impl<S: Resource> Clone for Load<S> {
    fn clone(&self) -> Self {
        Load(self.0.clone())
    }
}

impl<S: Resource> fmt::Debug for Load<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "load({})", self.0.name())
    }
}

impl<S: Resource> PartialEq for Load<S> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.name() == other.0.name()
    }
}

impl<S: Resource> Load<S> {
    /// The relationship's (or aggregate's) name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The aggregate, when this loads one (see [`crate::aggregate`]): a data layer that
    /// computes aggregates in its read ([`DataLayer::NATIVE_AGGREGATES`]) renders it.
    pub fn aggregate(&self) -> Option<&crate::aggregate::AggregateRef<S>> {
        self.0.aggregate()
    }
}

/// A load, run on records of `S`.
pub(crate) trait LoadNode<S: Resource>: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn run<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [S],
    ) -> BoxFuture<'a, Result<(), ErrorKind>>;
    fn aggregate(&self) -> Option<&crate::aggregate::AggregateRef<S>> {
        None
    }
}

/// A relationship with the query on its related records (filter, sort, per-parent limit
/// and offset, nested loads): `Post::COMMENTS.query(Query::new().limit(3))`,
/// `Post::COMMENTS.load(Comment::AUTHOR)`.
pub struct RelatedLoad<Rel: Relationship> {
    relationship: Rel,
    query: Query<Rel::Destination>,
}

impl<Rel: Relationship> Clone for RelatedLoad<Rel> {
    fn clone(&self) -> Self {
        RelatedLoad {
            relationship: self.relationship,
            query: self.query.clone(),
        }
    }
}

impl<Rel: Relationship> fmt::Debug for RelatedLoad<Rel> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "load({})", self.relationship.info().name)
    }
}

impl<Rel: Relationship> RelatedLoad<Rel> {
    /// Also loads `load` on the related records.
    #[must_use]
    pub fn load(mut self, load: impl IntoLoad<Rel::Destination>) -> Self {
        self.query.loads.push(load.into_load());
        self
    }

    /// Uses `query` on the related records (its loads are kept with those already given).
    #[must_use]
    pub fn query(mut self, query: Query<Rel::Destination>) -> Self {
        let mut loads = std::mem::take(&mut self.query.loads);
        self.query = query;
        loads.append(&mut self.query.loads);
        self.query.loads = loads;
        self
    }
}

impl<Rel: Relationship> LoadNode<Rel::Source> for RelatedLoad<Rel> {
    fn name(&self) -> &'static str {
        self.relationship.info().name
    }

    fn run<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [Rel::Source],
    ) -> BoxFuture<'a, Result<(), ErrorKind>> {
        let all_loaded = self.query.loads.is_empty()
            && self.query.is_empty()
            && parents.iter().all(|p| self.relationship.is_loaded(p));
        if all_loaded {
            return Box::pin(std::future::ready(Ok(())));
        }
        self.relationship.load_onto(tables, parents, &self.query)
    }
}

/// What `Query::load` takes: a relationship handle of the query's resource
/// (`Post::COMMENTS`), or one with a query (`Post::COMMENTS.load(Comment::AUTHOR)`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relationship of `{S}`, so it cannot be loaded on `{S}` records",
    label = "a relationship of another resource",
    note = "load a relationship handle of `{S}` itself (`{S}::NAME_OF_RELATIONSHIP`); to load deeper, nest it: `{S}::REL.load(Other::REL)`"
)]
pub trait IntoLoad<S: Resource> {
    /// The load.
    fn into_load(self) -> Load<S>;
}

impl<Rel: Relationship> IntoLoad<Rel::Source> for RelatedLoad<Rel> {
    fn into_load(self) -> Load<Rel::Source> {
        Load(Arc::new(self))
    }
}

impl<Rel: Relationship> IntoLoad<Rel::Source> for Rel {
    fn into_load(self) -> Load<Rel::Source> {
        Load(Arc::new(RelatedLoad {
            relationship: self,
            query: Query::new(),
        }))
    }
}

/// Loading, filtering and sorting through a relationship handle.
pub trait RelationshipExt: Relationship {
    /// The relationship with a nested load on its related records.
    fn load(self, load: impl IntoLoad<Self::Destination>) -> RelatedLoad<Self> {
        RelatedLoad {
            relationship: self,
            query: Query::new(),
        }
        .load(load)
    }

    /// The relationship with a query on its related records: filter, sort, and limit and
    /// offset **per parent**.
    fn query(self, query: Query<Self::Destination>) -> RelatedLoad<Self> {
        RelatedLoad {
            relationship: self,
            query,
        }
    }

    /// `exists(relationship, filter)`: the source records for which some related record
    /// matches `filter` (a to-one: the related record matches). A nil foreign key, or a
    /// dangling one, matches nothing.
    fn exists(self, filter: Filter<Self::Destination>) -> Filter<Self::Source> {
        Filter::Related(RelatedFilter::new(self, filter))
    }

    /// A path through the relationship to an attribute of the destination:
    /// `Post::AUTHOR.then(User::NAME).eq("ann")`, which is
    /// `exists(Post::AUTHOR, User::NAME.eq("ann"))`.
    fn then<T>(self, attr: crate::filter::Attr<Self::Destination, T>) -> Path<Self, T> {
        Path {
            relationship: self,
            attr,
        }
    }
}

impl<Rel: Relationship> RelationshipExt for Rel {}

/// `Post::AUTHOR.then(User::NAME)`: an attribute reached through a relationship; its
/// comparisons are filters on the source.
pub struct Path<Rel: Relationship, T> {
    relationship: Rel,
    attr: crate::filter::Attr<Rel::Destination, T>,
}

impl<Rel: Relationship, T> Path<Rel, T> {
    fn wrap(self, inner: Filter<Rel::Destination>) -> Filter<Rel::Source> {
        self.relationship.exists(inner)
    }
    /// `path == value`.
    pub fn eq(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.eq(value);
        self.wrap(inner)
    }
    /// `path != value`.
    pub fn not_eq(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.not_eq(value);
        self.wrap(inner)
    }
    /// `path < value`.
    pub fn lt(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.lt(value);
        self.wrap(inner)
    }
    /// `path <= value`.
    pub fn lte(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.lte(value);
        self.wrap(inner)
    }
    /// `path > value`.
    pub fn gt(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.gt(value);
        self.wrap(inner)
    }
    /// `path >= value`.
    pub fn gte(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.gte(value);
        self.wrap(inner)
    }
    /// `contains(path, value)`.
    pub fn contains(self, value: impl Into<T>) -> Filter<Rel::Source> {
        let inner = self.attr.contains(value);
        self.wrap(inner)
    }
}

/// A filter through a relationship (`exists(relationship, filter)`), as data: the
/// relationship's static facts and the filter on the destination ([`DynFilter::Exists`]
/// for SQL), plus how to resolve it into a key filter for in-memory data layers.
pub struct RelatedFilter<S: Resource> {
    info: &'static RelationshipInfo,
    // Boxed: kept inline it made every `Filter` (the hot paths' lock, policy and query
    // filters) 80 bytes instead of 48.
    inner: Box<DynFilter>,
    resolver: Arc<dyn Resolve<S>>,
}

impl<S: Resource> RelatedFilter<S> {
    fn new<Rel: Relationship<Source = S>>(rel: Rel, inner: Filter<Rel::Destination>) -> Self {
        // The relationship's own filter limits what `exists` sees.
        let inner = match rel.filter() {
            Some(own) => own.and(inner),
            None => inner,
        };
        RelatedFilter {
            info: rel.info(),
            inner: Box::new(inner.to_dyn()),
            resolver: Arc::new(Resolver { rel, inner }),
        }
    }

    /// The relationship filtered through.
    pub fn info(&self) -> &'static RelationshipInfo {
        self.info
    }

    /// The filter on the destination.
    pub fn inner(&self) -> &DynFilter {
        &self.inner
    }
}

impl<S: Resource> Clone for RelatedFilter<S> {
    fn clone(&self) -> Self {
        RelatedFilter {
            info: self.info,
            inner: self.inner.clone(),
            resolver: self.resolver.clone(),
        }
    }
}

impl<S: Resource> PartialEq for RelatedFilter<S> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.info, other.info) && self.inner == other.inner
    }
}

impl<S: Resource> fmt::Debug for RelatedFilter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exists({}, {})", self.info.name, self.inner)
    }
}

trait Resolve<S: Resource>: Send + Sync + 'static {
    fn resolve<'a>(&'a self, tables: &'a dyn Tables)
        -> BoxFuture<'a, Result<Filter<S>, ErrorKind>>;
}

struct Resolver<Rel: Relationship> {
    rel: Rel,
    inner: Filter<Rel::Destination>,
}

impl<Rel: Relationship> Resolve<Rel::Source> for Resolver<Rel> {
    fn resolve<'a>(
        &'a self,
        tables: &'a dyn Tables,
    ) -> BoxFuture<'a, Result<Filter<Rel::Source>, ErrorKind>> {
        self.rel.resolve_exists(tables, &self.inner)
    }
}

/// `filter` with every relationship filter replaced by the key filter it comes to (one read
/// of the destination each), for data layers that do not render them natively
/// ([`DataLayer::NATIVE_RELATED_FILTERS`]).
pub fn resolve_filter<'a, R: Resource>(
    tables: &'a dyn Tables,
    filter: &'a Filter<R>,
) -> BoxFuture<'a, Result<Filter<R>, ErrorKind>> {
    Box::pin(async move {
        if <R::DataLayer as DataLayer<R>>::NATIVE_RELATED_FILTERS || !filter.has_related() {
            return Ok(filter.clone());
        }
        Ok(match filter {
            Filter::Related(related) => related.resolver.resolve(tables).await?,
            Filter::Aggregate(aggregate) => aggregate.resolve(tables).await?,
            Filter::And(all) => {
                let mut out = Vec::with_capacity(all.len());
                for f in all {
                    out.push(resolve_filter(tables, f).await?);
                }
                Filter::And(out)
            }
            Filter::Or(any) => {
                let mut out = Vec::with_capacity(any.len());
                for f in any {
                    out.push(resolve_filter(tables, f).await?);
                }
                Filter::Or(out)
            }
            Filter::Not(inner) => Filter::Not(Box::new(resolve_filter(tables, inner).await?)),
            other => other.clone(),
        })
    })
}

/// Reads `query` on `R` through `tables`: relationship filters resolved (for data layers
/// that need it), then the read, then the loads.
pub async fn read<R: Resource>(tables: &dyn Tables, query: &Query<R>) -> Result<Vec<R>, ErrorKind> {
    let filter = match &query.filter {
        Some(f) => Some(resolve_filter(tables, f).await?),
        None => None,
    };
    let own = Query {
        filter,
        sort: query.sort.clone(),
        limit: query.limit,
        offset: query.offset,
        loads: Vec::new(),
        aggregate_sort: Vec::new(),
    };
    let ctx = tables.tables_context();
    let mut records = layer::<R>(tables)?.read(ctx, &own).await?;
    run_loads(tables, &mut records, query).await?;
    Ok(records)
}

/// Loads `load` onto `records` (already read), in place: `domain.load(&posts, ...)` and
/// `domain.load_into(&mut posts, ...)` call it.
pub async fn load_into<R: Resource>(
    tables: &dyn Tables,
    records: &mut [R],
    load: Load<R>,
) -> Result<(), crate::error::Error> {
    let query = Query {
        loads: vec![load],
        ..Query::default()
    };
    run_loads(tables, records, &query).await?;
    Ok(())
}

/// What a read returns, as records to load onto: one record, an optional one, a list or
/// a page.
pub trait Records<R: Resource>: Send {
    /// The records, in place.
    fn records_mut(&mut self) -> &mut [R];
}

impl<R: Resource> Records<R> for R {
    fn records_mut(&mut self) -> &mut [R] {
        std::slice::from_mut(self)
    }
}

impl<R: Resource> Records<R> for Option<R> {
    fn records_mut(&mut self) -> &mut [R] {
        self.as_mut_slice()
    }
}

impl<R: Resource> Records<R> for Vec<R> {
    fn records_mut(&mut self) -> &mut [R] {
        self.as_mut_slice()
    }
}

impl<R: Resource> Records<R> for crate::query::Page<R> {
    fn records_mut(&mut self) -> &mut [R] {
        self.results.as_mut_slice()
    }
}

/// `read`, then the loads of `loads` on what it returns (one operation per relationship
/// and level): what a `define(.., load = [comments, author])` runs.
pub fn with_loads<'a, R, T>(
    tables: &'a dyn Tables,
    read: crate::action::ActionFuture<'a, Result<T, crate::error::Error>>,
    loads: Query<R>,
) -> crate::action::ActionFuture<'a, Result<T, crate::error::Error>>
where
    R: Resource,
    T: Records<R> + 'a,
{
    crate::action::ActionFuture::running(async move {
        let mut found = read.await?;
        run_loads(tables, found.records_mut(), &loads).await?;
        Ok(found)
    })
}

/// `exists(relationship, filter)`: `exists(Post::COMMENTS, Comment::SCORE.gt(3))`; see
/// [`RelationshipExt::exists`].
pub fn exists<Rel: Relationship>(
    relationship: Rel,
    filter: Filter<Rel::Destination>,
) -> Filter<Rel::Source> {
    relationship.exists(filter)
}
