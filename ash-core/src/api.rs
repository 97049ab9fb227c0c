//! Running any action of a domain's resources without a `define`: the input type picks
//! the action at compile time.
//!
//! ```ignore
//! let fl = ash_rs::api::read(&domain, AddressReadInput::new(), Query::new().filter(Address::STATE.eq("FL")))?;
//! ```

use crate::action::{self, CreateAction, DestroyAction, ReadAction, UpdateAction};
use crate::domain::HasResource;
use crate::error::Error;
use crate::query::{Page, PageRequest, Query};

/// Runs a create action.
#[inline]
pub fn create<D, A>(domain: &D, input: A) -> Result<A::Resource, Error>
where
    A: CreateAction,
    D: HasResource<A::Resource>,
{
    action::create(domain.data_layer(), input)
}

/// Runs an update action on `record`.
#[inline]
pub fn update<D, A>(domain: &D, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    D: HasResource<A::Resource>,
{
    action::update(domain.data_layer(), record, input)
}

/// Runs a destroy action on `record`; returns the destroyed record.
#[inline]
pub fn destroy<D, A>(domain: &D, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    D: HasResource<A::Resource>,
{
    action::destroy(domain.data_layer(), record, input)
}

/// Runs a read action with `query` on top of its own.
#[inline]
pub fn read<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> Result<Vec<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read(domain.data_layer(), input, query)
}

/// Runs a read action expecting at most one record.
#[inline]
pub fn read_one<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read_one(domain.data_layer(), input, query)
}

/// Runs a read action expecting exactly one record (`NotFound` otherwise).
#[inline]
pub fn get<D, A>(domain: &D, input: A, query: Query<A::Resource>) -> Result<A::Resource, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::get(domain.data_layer(), input, query)
}

/// Runs a paginated read action, returning one page.
pub fn read_page<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> Result<Page<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read_page(domain.data_layer(), input, query, page)
}
