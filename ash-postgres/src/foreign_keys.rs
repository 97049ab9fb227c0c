//! The foreign-key constraints of belongs_to relationships: their names and SQL, their
//! creation by `create_missing_tables`, and their violations as `ash-rs` errors.
//!
//! Each belongs_to is one constraint `{table}_{attribute}_fkey` (ash_postgres's default
//! name): `FOREIGN KEY (attribute) REFERENCES destination (destination_attribute) ON DELETE
//! RESTRICT | CASCADE | SET NULL`, from the relationship's `on_delete`. A violation
//! (SQLSTATE 23503) is recognised by that name: on an insert or update it is
//! [`ReferenceNotFound`], on a delete [`StillReferenced`], the errors the ETS layer gives.

use crate::error::SchemaError;
use crate::sql::quote_ident;
use crate::table::{qualified, table_from, truncate_identifier};
use crate::Pool;
use ash_core::context::Context;
use ash_core::error::{Error, ErrorKind, ReferenceNotFound, StillReferenced};
use ash_core::relationship::{OnDelete, RelationshipInfo, RelationshipKind};
use ash_core::resource::Resource;

/// The constraint of a belongs_to whose foreign key is `attribute` of `table`:
/// `{table}_{attribute}_fkey`, cut to the length PostgreSQL keeps.
pub(crate) fn constraint_name(table: &str, attribute: &str) -> String {
    truncate_identifier(format!("{table}_{attribute}_fkey"))
}

/// `ON DELETE`'s action for `on_delete`.
pub(crate) fn on_delete_sql(on_delete: OnDelete) -> &'static str {
    match on_delete {
        OnDelete::Restrict => "RESTRICT",
        OnDelete::Cascade => "CASCADE",
        OnDelete::Nilify => "SET NULL",
    }
}

/// The belongs_to relationships of `R`.
fn belongs_to<R: Resource>() -> impl Iterator<Item = &'static RelationshipInfo> {
    R::RELATIONSHIPS
        .iter()
        .filter(|r| r.kind == RelationshipKind::BelongsTo)
}

/// One constraint to create: its table, its name and its `ALTER TABLE`.
#[derive(Debug, Clone)]
pub(crate) struct PendingKey {
    /// The referencing table, qualified and quoted.
    source: String,
    /// The referenced table, qualified and quoted.
    destination: String,
    name: String,
    sql: String,
}

fn pending_keys<R: Resource>(pool_schema: Option<&str>) -> Result<Vec<PendingKey>, SchemaError> {
    let (schema, table) = table_from(R::NAME, R::DATA_LAYER_OPTIONS, pool_schema)?;
    let source = qualified(schema.as_deref(), &table);
    let mut keys = Vec::new();
    for info in belongs_to::<R>() {
        let (dest_schema, dest_table) = table_from(
            info.destination,
            info.destination_data_layer_options,
            pool_schema,
        )?;
        let destination = qualified(dest_schema.as_deref(), &dest_table);
        let name = constraint_name(&table, info.source_attribute);
        let sql = format!(
            "ALTER TABLE {source} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {destination} ({}) ON DELETE {}",
            quote_ident(&name),
            quote_ident(info.source_attribute),
            quote_ident(info.destination_attribute),
            on_delete_sql(info.on_delete),
        );
        keys.push(PendingKey {
            source: source.clone(),
            destination,
            name,
            sql,
        });
    }
    Ok(keys)
}

/// The `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY` statement of each belongs_to of
/// `R`, named `{table}_{attribute}_fkey` (as ash_postgres names them), for review or for
/// your migrations. `schema` is the pool's schema, if any.
pub fn create_foreign_key_sql<R: Resource>(
    schema: Option<&str>,
) -> Result<Vec<String>, SchemaError> {
    Ok(pending_keys::<R>(schema)?
        .into_iter()
        .map(|k| k.sql)
        .collect())
}

/// With `create_missing_tables`, after `R`'s table was created: queues its foreign keys,
/// then creates every queued one whose two tables exist (resources may refer to each other
/// in any order, so a key waits for its referenced table). A key whose constraint exists
/// already is left as it is.
pub(crate) async fn create_pending<R: Resource>(pool: &Pool, created: bool) -> Result<(), Error> {
    if created {
        let keys = pending_keys::<R>(pool.schema())?;
        if let Ok(mut pending) = pool.inner.pending_foreign_keys.lock() {
            pending.extend(keys);
        }
    }
    let pending: Vec<PendingKey> = match pool.inner.pending_foreign_keys.lock() {
        Ok(pending) => pending.clone(),
        Err(_) => return Ok(()),
    };
    if pending.is_empty() {
        return Ok(());
    }
    let mut connection = pool.get().await?;
    let mut done = Vec::new();
    for key in &pending {
        let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let sql = format!(
            "DO $ash$ BEGIN \
               IF to_regclass({src}) IS NOT NULL AND to_regclass({dst}) IS NOT NULL \
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint \
                                  WHERE conname = {name} AND conrelid = to_regclass({src})) THEN \
                 {alter}; \
               END IF; \
             EXCEPTION WHEN duplicate_object OR duplicate_table THEN NULL; \
             END $ash$",
            src = literal(&key.source),
            dst = literal(&key.destination),
            name = literal(&key.name),
            alter = key.sql,
        );
        connection.batch_execute(&sql).await?;
        let exists = connection
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint \
                 WHERE conname = $1 AND conrelid = to_regclass($2))",
                &[&key.name, &key.source],
            )
            .await?;
        if exists.try_get::<_, bool>(0).unwrap_or(false) {
            done.push(key.name.clone());
        }
    }
    if let Ok(mut pending) = pool.inner.pending_foreign_keys.lock() {
        pending.retain(|k| !done.contains(&k.name));
    }
    Ok(())
}

/// The constraint a foreign-key violation names.
fn violated(error: &tokio_postgres::Error) -> Option<&str> {
    error.as_db_error()?.constraint()
}

/// An insert's or update's violation of one of `R`'s own foreign keys (`table` is its
/// unqualified table), as `ReferenceNotFound`.
pub(crate) fn reference_not_found<R: Resource>(
    table: &str,
    error: &tokio_postgres::Error,
) -> Option<ErrorKind> {
    let constraint = violated(error)?;
    let info = belongs_to::<R>()
        .find(|info| constraint_name(table, info.source_attribute) == constraint)?;
    Some(ErrorKind::ReferenceNotFound(ReferenceNotFound {
        resource: R::NAME,
        relationship: info.name,
        field: info.source_attribute,
        destination: info.destination,
        destination_attribute: info.destination_attribute,
    }))
}

/// A delete's violation (of `R`, or of a record a cascade reached), as `StillReferenced`:
/// the constraint is looked up among the belongs_to relationships of the domain the call
/// came through; without the domain, it is named by its table and constraint.
pub(crate) fn still_referenced<R: Resource>(
    ctx: &Context,
    pool_schema: Option<&str>,
    error: &tokio_postgres::Error,
) -> Option<ErrorKind> {
    let constraint = violated(error)?;
    if let Some(links) = ctx.references() {
        for referrer in links.referrers(None) {
            let info = referrer.info();
            let Ok((_, table)) = table_from(
                info.source,
                referrer.source_data_layer_options(),
                pool_schema,
            ) else {
                continue;
            };
            if constraint_name(&table, info.source_attribute) == constraint {
                return Some(ErrorKind::StillReferenced(StillReferenced {
                    resource: info.destination,
                    referencing: info.source.to_owned(),
                    relationship: info.name.to_owned(),
                    field: info.source_attribute.to_owned(),
                }));
            }
        }
    }
    let db = error.as_db_error()?;
    Some(ErrorKind::StillReferenced(StillReferenced {
        resource: R::NAME,
        referencing: db.table().unwrap_or_default().to_owned(),
        relationship: constraint.to_owned(),
        field: db.column().unwrap_or_default().to_owned(),
    }))
}
