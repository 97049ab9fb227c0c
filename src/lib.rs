//! # ash-rs
//!
//! Declarative resources, actions and domains in the style of Elixir's
//! [Ash Framework](https://ash-hq.org), as Rust proc macros over typed, static code.
//!
//! ```
//! use ash_rs::prelude::*;
//!
//! #[resource(domain = Domain, data_layer = Ets)]
//! #[actions(
//!     defaults(read, create = [state, county]),
//!     update(update, accept = [state, county], change = optimistic_lock(version)),
//! )]
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Address {
//!     #[uuid_primary_key]
//!     pub id: Uuid,
//!     #[attribute(default = 1)]
//!     pub version: i64,
//!     pub state: String,
//!     pub county: String,
//! }
//!
//! #[domain]
//! #[resources(Address(
//!     define(get_address, action = read, get_by = [id]),
//!     define(create_address, action = create, args = [state, county]),
//!     define(update_address, action = update),
//! ))]
//! pub struct Domain;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Error> {
//! let domain = Domain::new();
//! let address = domain.create_address("FL", "Pinellas").await?;
//! domain
//!     .update_address(&address, AddressUpdateInput::new().state("NC").county("Guilford"))
//!     .await?;
//!
//! // `address` still has version 1, so the optimistic lock catches it:
//! let err = domain
//!     .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
//!     .await
//!     .unwrap_err();
//! assert!(err.is_stale());
//! assert_eq!(
//!     err.to_string(),
//!     "Invalid Error\n\n* Attempted to update stale record of Address with filter: version == 1"
//! );
//!
//! // Refetch and retry:
//! let fresh = domain.get_address(address.id).await?;
//! let updated = domain
//!     .update_address(&fresh, AddressUpdateInput::new().county("Miami-Dade"))
//!     .await?;
//! assert_eq!(updated.version, 3);
//! # Ok(())
//! # }
//! ```
//!
//! The code interface is async: `.await` it (every future is `Send`), or, from sync code
//! with no runtime, run a call with [`block_on`]: `ash_rs::block_on(domain.get_address(id))`
//! (ETS futures never suspend). See the README for the DSL reference, the call context
//! (actor, tenant, transactions), async hooks and the behaviour contract.
#![warn(missing_docs)]

pub use ash_core::{
    action, aggregate, api, attribute, change, changeset, context, data_layer, domain, error,
    filter, future, identity, input, manage, policy, query, reference, relationship, resource,
    transaction, validation, value,
};
pub use ash_macros::{domain, resource};

pub use ash_core::attribute::AttributeValue;
pub use ash_core::error::Error;
pub use ash_core::future::block_on;

/// The ETS data layer: in-memory, concurrent tables on `dashmap`.
pub mod ets {
    pub use ash_ets::{Ets, EtsTable};
}

/// The PostgreSQL data layer, async on `tokio-postgres`: one SQL statement per action, the
/// optimistic lock in the `WHERE` clause, transactions as handles on one pooled connection.
///
/// ```ignore
/// #[resource(domain = Domain, data_layer = ash_rs::postgres::Postgres(table = "addresses"))]
/// // ...
/// let pool = ash_rs::postgres::Pool::connect("postgres://postgres@127.0.0.1:5432/app").await?;
/// let domain = Domain::connect(&pool).await?;
/// ```
///
/// Enabled by the feature `postgres` (`ash-rs = { ..., features = ["postgres"] }`). See the
/// `ash-rs-postgres` crate for the
/// details.
#[cfg(feature = "postgres")]
pub mod postgres {
    pub use ash_postgres::*;
}

/// HTTP on axum: Ash errors as JSON responses, `If-Match`/`ETag` on the record version,
/// JSON action inputs. See the `ash-rs-http` crate, and `examples/http_api.rs` for a
/// service.
///
/// Enabled by the feature `http` (not default).
#[cfg(feature = "http")]
pub mod http {
    pub use ash_http::*;
}

/// Everything a resource or domain declaration needs, in one import.
pub mod prelude {
    pub use crate::ets::Ets;
    pub use ash_core::__private::uuid::Uuid;
    pub use ash_core::action::ActionType;
    pub use ash_core::change::Change;
    pub use ash_core::changeset::Changeset;
    pub use ash_core::context::Context;
    pub use ash_core::error::{Error, ErrorKind};
    pub use ash_core::filter::{Attr, Filter};
    pub use ash_core::identity::Upsert;
    pub use ash_core::manage::Managed;
    pub use ash_core::policy::{Check, Decision};
    pub use ash_core::query::{Page, PageRequest, Query, SortOrder};
    pub use ash_core::relationship::{exists, Loaded, NotLoaded, RelationshipExt};
    pub use ash_core::resource::Resource;
    pub use ash_core::transaction::Transaction;
    pub use ash_core::validation::Validation;
    pub use ash_macros::{domain, resource};
}

#[doc(hidden)]
pub mod __private {
    pub use ash_core::__private::*;
    pub use ash_macros::__interface as interface;
}

/// Compiles and runs the README's examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
