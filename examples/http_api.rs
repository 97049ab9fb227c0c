//! The seed ("Prevent concurrent writes") as a JSON service.
//!
//! ```text
//! POST   /addresses        {"state":"FL","county":"Pinellas"}  -> 201, the record, ETag: "1"
//! GET    /addresses/{id}                                       -> 200, the record, ETag
//! PATCH  /addresses/{id}   If-Match: "<version>", {"county":..} -> 200, the record, new ETag
//!                          stale If-Match -> 412 (nothing written); none -> 428
//! DELETE /addresses/{id}   If-Match: "<version>"               -> 204; stale -> 412
//! ```
//!
//! Every error is JSON, `{"errors":[{"status":..,"class":..,"code":..,"message":..}]}`.
//!
//! Run it with `cargo run --features http --example http_api`. It listens on
//! `127.0.0.1:$PORT` (default 3000) and keeps the addresses in memory (ETS), or in
//! PostgreSQL when `DATABASE_URL` is set (missing tables are created). Tests build the
//! same routers through [`ets::router`] and `pg::router`.

use ash_rs::http::axum;
use ash_rs::prelude::*;

/// Declares the seed's `Address` and `Domain` on one data layer, plus the JSON routes over
/// them, in a module of their own. A resource has one data layer at compile time, so the
/// service declares it once per layer.
macro_rules! address_service {
    ($(#[$doc:meta])* $module:ident, data_layer = $($layer:tt)+) => {
        $(#[$doc])*
        pub mod $module {
            use super::axum::extract::State;
            use super::axum::http::{header::LOCATION, StatusCode};
            use super::axum::response::IntoResponse;
            use super::axum::routing::{get, post};
            use super::axum::{Json, Router};
            use ash_rs::http::{
                with_etag, ConditionalResult, HttpError, IfMatch, JsonInput, Path, Versioned,
            };
            use ash_rs::prelude::*;

            #[resource(domain = Domain, data_layer = $($layer)+)]
            #[actions(
                defaults(read, create = [state, county]),
                update(update, accept = [state, county], change = optimistic_lock(version)),
                destroy(destroy, change = optimistic_lock(version)),
            )]
            #[derive(Debug, Clone, PartialEq, serde::Serialize)]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = 1)]
                pub version: i64,
                pub state: String,
                pub county: String,
            }

            #[domain]
            #[resources(Address(
                define(get_address, action = read, get_by = [id]),
                define(create_address, action = create, args = [state, county]),
                define(update_address, action = update),
                define(destroy_address, action = destroy),
            ))]
            pub struct Domain;

            /// The routes over `domain`; every error, unknown paths and methods included,
            /// is a JSON error.
            pub fn router(domain: Domain) -> Router {
                Router::new()
                    .route("/addresses", post(create))
                    .route(
                        "/addresses/{id}",
                        get(show).patch(update).delete(destroy),
                    )
                    .fallback(ash_rs::http::not_found)
                    .method_not_allowed_fallback(ash_rs::http::method_not_allowed)
                    .with_state(domain)
            }

            /// `POST /addresses`: 201, `Location`, `ETag: "1"` and the record.
            async fn create(
                State(domain): State<Domain>,
                JsonInput(input): JsonInput<AddressCreateInput>,
            ) -> Result<impl IntoResponse, HttpError> {
                let record = ash_rs::api::create(&domain, input).await?;
                Ok((
                    StatusCode::CREATED,
                    [(LOCATION, format!("/addresses/{}", record.id))],
                    with_etag(record.version, Json(record)),
                ))
            }

            /// `GET /addresses/{id}`: the record and its `ETag`; unknown id 404.
            async fn show(
                State(domain): State<Domain>,
                Path(id): Path<Uuid>,
            ) -> Result<Versioned<Json<Address>>, HttpError> {
                let record = domain.get_address(id).await?;
                Ok(with_etag(record.version, Json(record)))
            }

            /// `PATCH /addresses/{id}` with `If-Match`: the client's version goes on the
            /// record and the locked update compares it in its one atomic step, so a stale
            /// one is 412 and nothing is written.
            async fn update(
                State(domain): State<Domain>,
                Path(id): Path<Uuid>,
                if_match: IfMatch,
                JsonInput(input): JsonInput<AddressUpdateInput>,
            ) -> Result<Versioned<Json<Address>>, HttpError> {
                let mut record = domain.get_address(id).await?;
                record.version = if_match.expected_version(record.version)?;
                let updated = domain.update_address(&record, input).await.conditional()?;
                Ok(with_etag(updated.version, Json(updated)))
            }

            /// `DELETE /addresses/{id}` with `If-Match`: 204; stale 412.
            async fn destroy(
                State(domain): State<Domain>,
                Path(id): Path<Uuid>,
                if_match: IfMatch,
            ) -> Result<StatusCode, HttpError> {
                let mut record = domain.get_address(id).await?;
                record.version = if_match.expected_version(record.version)?;
                domain.destroy_address(&record).await.conditional()?;
                Ok(StatusCode::NO_CONTENT)
            }
        }
    };
}

address_service!(
    /// The service in memory: the ETS data layer.
    ets,
    data_layer = Ets
);

#[cfg(feature = "postgres")]
address_service!(
    /// The service on PostgreSQL: table `addresses`.
    pg,
    data_layer = ash_rs::postgres::Postgres(table = "addresses")
);

/// The PostgreSQL service on `url`, creating missing tables.
#[cfg(feature = "postgres")]
pub async fn postgres_router(url: &str) -> Result<axum::Router, Error> {
    let pool = ash_rs::postgres::Pool::builder(url)
        .max_size(16)
        .create_missing_tables(true)
        .build()
        .await?;
    Ok(pg::router(pg::Domain::connect(&pool).await?))
}

#[cfg(not(feature = "postgres"))]
async fn postgres_router(_url: &str) -> Result<axum::Router, Error> {
    Err(
        ash_rs::error::ErrorKind::Framework(ash_rs::error::FrameworkError {
            message: "DATABASE_URL is set, but this build has no `postgres` feature".into(),
        })
        .into(),
    )
}

// Tests include this file as a module and build the routers themselves.
#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|e| format!("PORT={port:?}: {e}"))?,
        Err(_) => 3000,
    };
    let (app, layer) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (postgres_router(&url).await?, "PostgreSQL"),
        _ => (ets::router(ets::Domain::new()), "ETS (in memory)"),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{} ({layer})", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
