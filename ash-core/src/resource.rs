//! The [`Resource`] trait, implemented by `#[resource]`.
//!
//! Everything here is typed: a resource has a generated `Field` enum (one variant per
//! attribute), a `Value` enum (one variant per attribute, holding that attribute's type)
//! and a `Changes` struct (one `Option` per attribute). Filters, atomic writes and
//! changesets are built from these, so the hot path never looks anything up by string.

use crate::attribute::{AttributeInfo, FieldSource};
use crate::data_layer::{Atomic, DataLayer};
use crate::error::ErrorKind;
use crate::filter::Filter;
use crate::identity::IdentityInfo;
use crate::policy::{Decision, PolicyInfo, Request};
use crate::value::Value;
use std::cmp::Ordering;
use std::fmt::Debug;
use std::hash::Hash;

/// A resource: a struct with attributes, actions and a data layer.
///
/// Implemented by `#[resource]`; implementing it by hand is possible but not the intent.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a resource",
    label = "not a resource",
    note = "add `#[resource]` above the struct `{Self}`"
)]
pub trait Resource: Sized + Clone + Send + Sync + 'static {
    /// The resource's name, as errors show it (`"Address"`).
    const NAME: &'static str;
    /// Static facts about each attribute, in declaration order.
    const ATTRIBUTES: &'static [AttributeInfo];
    /// The primary key attribute.
    const PRIMARY_KEY: Self::Field;
    /// The options given with the data layer, `data_layer = Postgres(table = "addresses")`
    /// gives `[("table", "addresses")]`.
    const DATA_LAYER_OPTIONS: &'static [(&'static str, &'static str)];
    /// The resource's identities (unique keys besides the primary key), in declaration
    /// order; see [`crate::identity`].
    const IDENTITIES: &'static [IdentityInfo] = &[];
    /// The resource's relationships, in declaration order; see [`crate::relationship`].
    const RELATIONSHIPS: &'static [crate::relationship::RelationshipInfo] = &[];
    /// The resource's belongs_to relationships, for the data layers that check foreign keys
    /// themselves; see [`crate::reference`].
    const REFERENCES: &'static [&'static dyn crate::reference::Reference<Self>] = &[];
    /// The attributes the ETS layer indexes for loads from the resource's own
    /// declaration: its belongs_to foreign keys. (The attributes other resources'
    /// has_one/has_many name are indexed when a domain lists both; see
    /// [`DataLayer::prepare_loads`].)
    const INDEXED_FIELDS: &'static [Self::Field] = &[];
    /// Every attribute, in [`Resource::ATTRIBUTES`] order (empty for a resource written by
    /// hand that does not list them).
    const FIELDS: &'static [Self::Field] = &[];
    /// The resource's policies (`#[policies(...)]`), in declaration order; see
    /// [`crate::policy`]. Without any, every action is authorized on the code path of a
    /// resource without policies (the pipeline tests this constant).
    const POLICIES: &'static [PolicyInfo] = &[];
    /// Whether a policy check may give a filter through a relationship (a
    /// `relates_to_actor_via` path or to-many hop, an `expr(...)` or a custom check): on a
    /// data layer that does not render relationship filters (ETS) the pipeline then
    /// resolves the policy filter to keys before the read or write. False: nothing is
    /// resolved, at no cost.
    const POLICY_RELATED_FILTERS: bool = false;

    /// The primary key's type.
    type PrimaryKey: Clone + Eq + Ord + Hash + Debug + Send + Sync + 'static;
    /// One variant per attribute.
    type Field: Copy + Eq + Hash + Debug + Send + Sync + 'static;
    /// One variant per attribute, holding a value of that attribute's type.
    type Value: Clone + Debug + PartialEq + Send + Sync + 'static;
    /// One `Option` per attribute: the writes an action makes.
    type Changes: Default + Debug + Send + 'static;
    /// The data layer that stores this resource.
    type DataLayer: DataLayer<Self>;
    /// A record's value of one of its identities: one variant per identity, holding a copy
    /// of the identity's attributes. Hashable, so a data layer can index it.
    type IdentityKey: Clone + Eq + Hash + Debug + Send + Sync + 'static;

    /// The record's primary key.
    fn primary_key(&self) -> &Self::PrimaryKey;
    /// The primary key as a typed value, for filters.
    fn primary_key_value(key: &Self::PrimaryKey) -> Self::Value;
    /// The primary key inside `value`, if `value` is of the primary key attribute.
    fn primary_key_of(value: &Self::Value) -> Option<&Self::PrimaryKey>;

    /// The attribute's name.
    fn field_name(field: Self::Field) -> &'static str;
    /// The attribute a value belongs to.
    fn value_field(value: &Self::Value) -> Self::Field;
    /// The value as a dynamic [`Value`] (for errors and SQL parameters).
    fn value_to_dynamic(value: &Self::Value) -> Value;

    /// A copy of the attribute's current value.
    fn get(&self, field: Self::Field) -> Self::Value;
    /// Sets an attribute.
    fn set(&mut self, value: Self::Value);
    /// Compares the record's attribute with `value` (of the same attribute).
    fn compare(&self, value: &Self::Value) -> Option<Ordering>;
    /// Whether the record's attribute equals `value` (nil equals nothing).
    fn equals(&self, value: &Self::Value) -> bool;
    /// Compares one attribute of two records, without copying either value.
    fn compare_field(&self, other: &Self, field: Self::Field) -> Option<Ordering>;
    /// Whether the attribute is nil.
    fn is_nil(&self, field: Self::Field) -> bool;
    /// Whether the record's attribute contains `value` (of the same attribute).
    fn contains(&self, value: &Self::Value) -> bool;

    /// Every attribute as a dynamic value, in [`Resource::ATTRIBUTES`] order (for data
    /// layers that store dynamically, such as SQL).
    fn to_values(&self) -> Vec<Value>;
    /// A record from dynamic values in [`Resource::ATTRIBUTES`] order: the values as a
    /// [`FieldSource`] for [`from_source`](Resource::from_source).
    fn from_values(values: Vec<Value>) -> Result<Self, ErrorKind> {
        let expected = Self::ATTRIBUTES.len();
        if values.len() != expected {
            return Err(crate::__private::wrong_value_count(
                Self::NAME,
                expected,
                values.len(),
            ));
        }
        Self::from_source(&mut ValueList(values.into_iter()))
    }
    /// A record read from `source`, attribute by attribute in [`Resource::ATTRIBUTES`]
    /// order. The generated impl takes each attribute straight from the source where it
    /// can ([`AttributeValue::take_from`](crate::attribute::AttributeValue::take_from)),
    /// else through its [`Value`].
    fn from_source<S: FieldSource + ?Sized>(source: &mut S) -> Result<Self, ErrorKind>;
    /// The attribute writes as dynamic values.
    fn changes_to_values(changes: &Self::Changes) -> Vec<(Self::Field, Value)>;

    /// Evaluates an atomic write against this (stored) record, giving the new value or an
    /// error (overflow, or an attribute that does not support it). Does not write.
    fn eval_atomic(&self, atomic: &Atomic<Self>) -> Result<Self::Value, ErrorKind>;
    /// Moves every set change into the record, leaving `changes` empty.
    fn apply_changes(&mut self, changes: &mut Self::Changes);
    /// Whether `changes` owns no memory: every value that needs dropping was moved out, or
    /// never set. The generated impl says so; this default (`false`) is always safe.
    #[inline(always)]
    fn changes_empty(_changes: &Self::Changes) -> bool {
        false
    }

    /// The record's value of identity `identity` (an index into
    /// [`Resource::IDENTITIES`]); `None` when the record takes no value of it (a nil field
    /// of an identity with `nils_distinct`) or there is no such identity.
    fn identity_key(&self, identity: usize) -> Option<Self::IdentityKey>;
    /// The identity a key is a value of (its index in [`Resource::IDENTITIES`]).
    fn identity_of_key(key: &Self::IdentityKey) -> usize;
    /// Whether a record holding `key` takes that value of its identity (no nil field of an
    /// identity with `nils_distinct`), so that an index can hold it.
    fn identity_key_is_indexed(key: &Self::IdentityKey) -> bool;
    /// The filter matching the records holding `key`: equality on each field, `is_nil`
    /// for a nil one.
    fn identity_filter(key: &Self::IdentityKey) -> Filter<Self>;
    /// Whether `changes` write an attribute of identity `identity`.
    fn changes_touch_identity(changes: &Self::Changes, identity: usize) -> bool;
    /// Whether `changes` write the primary key (which an update may not change).
    fn changes_primary_key(changes: &Self::Changes) -> bool;

    /// Decides the policy check numbered `check` ([`CheckKind::Generated`]): the checks
    /// that need typed code (an actor's attribute, a filter, a custom check).
    ///
    /// [`CheckKind::Generated`]: crate::policy::CheckKind::Generated
    #[inline]
    fn policy_check(check: u16, request: &Request<'_>) -> Decision<Self> {
        let _ = (check, request);
        Decision::False
    }

    /// Fills unset attributes with their create defaults.
    fn apply_create_defaults(changes: &mut Self::Changes);
    /// Fills unset attributes with their update defaults (`update_timestamp`).
    fn apply_update_defaults(changes: &mut Self::Changes);
    /// Builds a record from a create's changes; every unset non-nilable attribute is a
    /// `Required` error, all reported at once.
    /// The values are moved out of `changes`.
    fn from_changes(changes: &mut Self::Changes) -> Result<Self, Vec<ErrorKind>>;
}

/// Values of a whole record, in attribute order, read one after the other
/// ([`Resource::from_values`]).
struct ValueList(std::vec::IntoIter<Value>);

impl FieldSource for ValueList {
    fn next_value(&mut self) -> Result<Value, ErrorKind> {
        // `from_values` checked the count: only a `from_source` reading past its
        // attributes gets here.
        self.0.next().ok_or_else(|| {
            ErrorKind::Framework(crate::error::FrameworkError {
                message: "a record's values ran out before its attributes".into(),
            })
        })
    }
}
