//! HTTP for `ash-rs`, on [axum] 0.8: the pieces a JSON service over a domain needs.
//!
//! | item | does |
//! |---|---|
//! | [`HttpError`] | an [`ash_core::error::Error`] (or a protocol error) as a JSON response with the right status; handlers return `Result<_, HttpError>` and use `?` |
//! | [`ErrorBody`], [`ErrorObject`] | the body of every error response, `{"errors":[{...}]}` |
//! | [`IfMatch`] | reads `If-Match: "<version>"`; missing is 428, malformed 400 |
//! | [`Versioned`], [`with_etag`] | writes `ETag: "<version>"` on a response |
//! | [`JsonInput`], [`JsonConfig`] | an action input from a JSON body: size limit (413), read timeout (408), bad JSON (400), Ash's `NoSuchInput` / `InvalidAttribute` (422) |
//! | [`Path`] | axum's path extractor with a JSON 400 instead of a text one |
//! | [`not_found`], [`method_not_allowed`] | JSON fallbacks for the router |
//!
//! The record's optimistic-lock `version` is its strong entity tag: a response carries
//! `ETag: "3"`, and a write sends it back as `If-Match: "3"`. A handler puts the client's
//! version on the record and runs the locked action, so the comparison happens in the data
//! layer's one atomic step, never as a read-compare-write in the handler:
//!
//! ```
//! use ash_http::axum::{extract::State, Json};
//! use ash_http::{with_etag, ConditionalResult, HttpError, IfMatch, JsonInput, Path, Versioned};
//! # use ash_core::error::Error;
//! # #[derive(Clone)] struct Domain;
//! # #[derive(Clone, serde::Serialize)] struct Address { version: i64 }
//! # struct AddressUpdateInput;
//! # impl Domain {
//! #     async fn get_address(&self, _: u64) -> Result<Address, Error> { Ok(Address { version: 1 }) }
//! #     async fn update_address(&self, a: &Address, _: AddressUpdateInput) -> Result<Address, Error> { Ok(a.clone()) }
//! # }
//!
//! /// `PATCH /addresses/{id}` with `If-Match: "<version>"` and a JSON object of inputs.
//! async fn update(
//!     State(domain): State<Domain>,
//!     Path(id): Path<u64>,                           // malformed: 400
//!     if_match: IfMatch,                             // missing: 428, malformed: 400
//!     JsonInput(input): JsonInput<AddressUpdateInput>, // bad JSON 400, unknown key 422
//! ) -> Result<Versioned<Json<Address>>, HttpError> {
//!     let mut record = domain.get_address(id).await?; // unknown id: 404
//!     record.version = if_match.expected_version(record.version)?;
//!     let updated = domain.update_address(&record, input).await.conditional()?; // stale: 412
//!     Ok(with_etag(updated.version, Json(updated)))   // ETag: "<new version>"
//! }
//! ```
//!
//! `examples/http_api.rs` in the `ash-rs` repository is a whole service.
//!
//! Statuses of an [`Error`](ash_core::error::Error) (see [`status_for`]):
//!
//! | error | status |
//! |---|---|
//! | `Invalid` holding `StaleRecord` | 412 when the request was conditional ([`HttpError::conditional`]), else 409 |
//! | `Invalid` holding `NotFound` | 404 |
//! | any other `Invalid` | 422 |
//! | `Forbidden` | 403, with a generic message |
//! | `Framework` holding only `Unavailable` (no pooled connection came free in time) | 503 with `Retry-After: 1` and a generic message; the real error goes to `tracing::warn!` |
//! | any other `Framework`, `Unknown` | 500, with a generic message; the real error goes to `tracing::error!` |
#![warn(missing_docs)]

mod error;
mod etag;
mod input;
mod path;

pub use error::{
    method_not_allowed, not_found, status_for, ConditionalResult, ErrorBody, ErrorObject,
    HttpError, HttpResult,
};
pub use etag::{etag, with_etag, IfMatch, Versioned};
pub use input::{JsonConfig, JsonInput};
pub use path::Path;

/// The axum this crate is built on, so that a service uses the same version.
pub use axum;
