//! Running any action of a domain's resources without a `define`: the input type picks
//! the action at compile time. The call carries the domain value's context
//! (`domain.with_actor(&user)`).
//!
//! ```ignore
//! let fl = ash_rs::api::read(&domain, AddressReadInput::new(), Query::new().filter(Address::STATE.eq("FL"))).await?;
//! ```

use crate::action::{self, CreateAction, DestroyAction, ReadAction, UpdateAction};
use crate::domain::HasResource;
use crate::error::Error;
use crate::query::{Page, PageRequest, Query};

/// Runs a create action.
#[inline]
pub async fn create<D, A>(domain: &D, input: A) -> Result<A::Resource, Error>
where
    A: CreateAction,
    D: HasResource<A::Resource>,
{
    action::create_in(domain.data_layer(), domain.context(), Some(domain), input).await
}

/// Runs an update action on `record`.
#[inline]
pub async fn update<D, A>(domain: &D, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    D: HasResource<A::Resource>,
{
    action::update_in(
        domain.data_layer(),
        domain.context(),
        Some(domain),
        record,
        input,
    )
    .await
}

/// Runs a destroy action on `record`; returns the destroyed record.
#[inline]
pub async fn destroy<D, A>(domain: &D, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    D: HasResource<A::Resource>,
{
    action::destroy_in(
        domain.data_layer(),
        domain.context(),
        Some(domain),
        record,
        input,
    )
    .await
}

/// Runs a read action with `query` on top of its own.
#[inline]
pub async fn read<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> Result<Vec<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read(domain.data_layer(), domain.context(), input, query).await
}

/// Runs a read action expecting at most one record.
#[inline]
pub async fn read_one<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read_one(domain.data_layer(), domain.context(), input, query).await
}

/// Runs a read action expecting exactly one record (`NotFound` otherwise).
#[inline]
pub async fn get<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> Result<A::Resource, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::get(domain.data_layer(), domain.context(), input, query).await
}

/// Runs a paginated read action, returning one page.
pub async fn read_page<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> Result<Page<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource>,
{
    action::read_page(domain.data_layer(), domain.context(), input, query, page).await
}
