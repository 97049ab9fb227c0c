//! Identities: unique keys other than the primary key (Ash's `identities` section), and
//! upserts, which use one of them (or the primary key) as their conflict target.
//!
//! A resource declares its identities with
//! `#[identities(identity(unique_email, [email]), identity(unique_slug, [org_id, slug]))]`;
//! `#[resource]` lists them in [`Resource::IDENTITIES`] and gives each a typed handle
//! (`User::UNIQUE_EMAIL`, an [`Identity`]). A record's value of an identity is a typed,
//! hashable [`Resource::IdentityKey`], so a data layer can index it.
//!
//! Data layers are told about identities as descriptions ([`IdentityInfo`]) and enforce
//! them atomically with the write: the ETS layer keeps one unique index per identity,
//! PostgreSQL a unique index per identity. A write that would take a value another record
//! holds fails with [`IdentityTaken`], the same in every data
//! layer.

use crate::error::{ErrorKind, IdentityTaken};
use crate::filter::Filter;
use crate::resource::Resource;
use std::fmt;
use std::marker::PhantomData;

/// Static facts about one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityInfo {
    /// The identity's name, `unique_email`.
    pub name: &'static str,
    /// Its attributes, in declaration order; never empty.
    pub fields: &'static [&'static str],
    /// Ash's `nils_distinct?` (default `true`): a record with a nil in any of the fields
    /// takes no value of the identity, so any number of them may exist. With `false`, nil
    /// is a value like any other (PostgreSQL's `NULLS NOT DISTINCT`).
    pub nils_distinct: bool,
    /// The message of the error when the value is taken; `None` for Ash's
    /// "has already been taken".
    pub message: Option<&'static str>,
}

impl IdentityInfo {
    /// The message of the error when the value is taken.
    pub fn message(&self) -> &'static str {
        self.message.unwrap_or("has already been taken")
    }
}

/// A typed handle on one identity of `R`, as `#[resource]` generates them
/// (`User::UNIQUE_EMAIL`): what an [`Upsert`] names as its conflict target.
pub struct Identity<R: Resource> {
    index: usize,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource> Identity<R> {
    /// The identity at `index` of [`Resource::IDENTITIES`]. Generated code makes these;
    /// an index out of range names no identity, and an upsert on it is an error.
    #[doc(hidden)]
    pub const fn new(index: usize) -> Self {
        Identity {
            index,
            _resource: PhantomData,
        }
    }

    /// Its position in [`Resource::IDENTITIES`].
    pub const fn index(self) -> usize {
        self.index
    }

    /// Its static facts, if it is one of `R`'s.
    pub fn info(self) -> Option<&'static IdentityInfo> {
        R::IDENTITIES.get(self.index)
    }
}

impl<R: Resource> Clone for Identity<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Resource> Copy for Identity<R> {}

impl<R: Resource> PartialEq for Identity<R> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<R: Resource> Eq for Identity<R> {}

impl<R: Resource> fmt::Debug for Identity<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(info) => write!(f, "Identity({}.{})", R::NAME, info.name),
            None => write!(f, "Identity({}#{})", R::NAME, self.index),
        }
    }
}

/// The error of a write that would give a second record the value of identity `index`.
#[cold]
pub fn taken<R: Resource>(index: usize) -> ErrorKind {
    let Some(info) = R::IDENTITIES.get(index) else {
        return crate::error::ErrorKind::unknown(format!(
            "a unique value of {} is taken (identity #{index})",
            R::NAME
        ));
    };
    ErrorKind::IdentityTaken(IdentityTaken {
        resource: R::NAME,
        identity: info.name,
        field: info.fields.first().copied().unwrap_or(""),
        fields: info.fields,
        message: info.message(),
    })
}

/// The identity whose name is `name`, if `R` has one.
pub fn by_name<R: Resource>(name: &str) -> Option<usize> {
    R::IDENTITIES.iter().position(|i| i.name == name)
}

/// Which attributes the update half of an upsert writes.
#[derive(Debug, Clone, PartialEq)]
pub enum UpsertFields<R: Resource> {
    /// The action's `upsert_fields` (by default, the attributes it accepts).
    Action,
    /// Exactly these attributes.
    Replace(Vec<R::Field>),
}

/// A per-call upsert: `ash_rs::api::upsert(&domain, input, Upsert::on(User::UNIQUE_EMAIL))`.
///
/// A create that finds the conflict target's value taken updates the record holding it
/// instead (its `fields`, when its `condition` holds), in one atomic step of the data
/// layer. The action's own upsert options (`upsert = true, ...`) are the defaults; what
/// is set here wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert<R: Resource> {
    /// The conflict target: an identity, or `None` for the primary key.
    pub identity: Option<Identity<R>>,
    /// The attributes written on conflict.
    pub fields: UpsertFields<R>,
    /// Ash's `upsert_condition`: the stored record must match it, else the upsert is
    /// skipped with `StaleRecord` and nothing is written.
    pub condition: Option<Filter<R>>,
}

impl<R: Resource> Upsert<R> {
    /// An upsert on the primary key.
    pub fn primary_key() -> Self {
        Upsert {
            identity: None,
            fields: UpsertFields::Action,
            condition: None,
        }
    }

    /// An upsert on `identity`.
    pub fn on(identity: Identity<R>) -> Self {
        Upsert {
            identity: Some(identity),
            fields: UpsertFields::Action,
            condition: None,
        }
    }

    /// Writes exactly `fields` on conflict (Ash's `upsert_fields`).
    #[must_use]
    pub fn fields(mut self, fields: impl IntoIterator<Item = R::Field>) -> Self {
        self.fields = UpsertFields::Replace(fields.into_iter().collect());
        self
    }

    /// Updates only when the stored record matches `condition` (Ash's `upsert_condition`);
    /// otherwise the upsert fails with `StaleRecord` and writes nothing.
    #[must_use]
    pub fn condition(mut self, condition: Filter<R>) -> Self {
        self.condition = Some(condition);
        self
    }
}
