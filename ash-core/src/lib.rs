//! Runtime of `ash-rs`: the pieces that generated code and data layers share.
//!
//! Users normally depend on the `ash-rs` facade and never name this crate. The modules
//! follow Ash's vocabulary so that a behaviour is found from the folder name alone:
//!
//! | module | holds |
//! |---|---|
//! | [`resource`] | the [`Resource`](resource::Resource) trait the `#[resource]` macro implements |
//! | [`action`] | action descriptions and the one pipeline every action runs through |
//! | [`api`] | running any action of a domain without a `define` |
//! | [`changeset`] | the [`Changeset`](changeset::Changeset) a running action builds |
//! | [`change`] | the [`Change`](change::Change) trait and builtin changes (`optimistic_lock`) |
//! | [`validation`] | the [`Validation`](validation::Validation) trait |
//! | [`filter`] | declarative filters that cross the data-layer boundary as data |
//! | [`identity`] | identities (unique keys) and upserts |
//! | [`policy`] | policies: authorization with an actor, filter checks |
//! | [`query`] | read queries: filter, sort, limit, offset, loads |
//! | [`manage`] | `manage_relationship`: writing related records from an action's argument |
//! | [`relationship`] | relationships, typed handles, batched loads, filters across them |
//! | [`aggregate`] | aggregates over relationships: count, sum, ..., loaded and filtered on |
//! | [`data_layer`] | the [`DataLayer`](data_layer::DataLayer) contract (async) |
//! | [`context`] | the call [`Context`](context::Context): actor, tenant, open transaction |
//! | [`transaction`] | [`Transaction`](transaction::Transaction) handles |
//! | [`future`] | [`block_on`](future::block_on) for sync callers, `BoxFuture` |
//! | [`domain`] | what a `#[domain]` value provides |
//! | [`error`] | Ash's error classes and the errors inside them |
//! | [`value`] | dynamic values, used only at the edges (errors, JSON, SQL parameters) |
//! | [`input`] | JSON input for actions |
#![warn(missing_docs)]

pub mod action;
pub mod aggregate;
pub mod api;
pub mod attribute;
pub mod change;
pub mod changeset;
pub mod context;
pub mod data_layer;
pub mod domain;
pub mod error;
pub mod filter;
pub mod future;
pub mod identity;
pub mod input;
pub mod manage;
pub mod policy;
pub mod query;
pub mod reference;
pub mod relationship;
pub mod resource;
pub mod transaction;
pub mod validation;
pub mod value;

#[doc(hidden)]
pub mod __private;
