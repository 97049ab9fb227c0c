//! The storage model: what a resource needs from its table, as the snapshots store it.

use crate::table::{identity_index_name, table_of};
use crate::value::{column_type, to_json};
use crate::SchemaError;
use ash_core::attribute::ValueKind;
use ash_core::domain::{HasResources, ResourceVisitor};
use ash_core::resource::Resource;
use ash_core::value::Value;
use serde::{Deserialize, Serialize};

/// One table as a resource needs it: the contents of a snapshot file
/// (`DIR/snapshots/<table>.json`, or `<schema>.<table>.json`).
///
/// Lists keep the resource's declaration order (columns in attribute order, identities
/// and foreign keys as declared), so a snapshot's diff reads like the resource's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The table's name (the `table` data-layer option, or the resource's snake_case name).
    pub table: String,
    /// The `schema` data-layer option; `None` for the connection's (see `--schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The columns, one per attribute.
    pub columns: Vec<Column>,
    /// The primary key's columns.
    pub primary_key: Vec<String>,
    /// One unique index per identity.
    #[serde(default)]
    pub identities: Vec<UniqueIndex>,
    /// One foreign key per `belongs_to` relationship.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The attribute's name.
    pub name: String,
    /// The column type, as [`column_type`](crate::column_type) writes it (`bigint`).
    #[serde(rename = "type")]
    pub sql_type: String,
    /// Whether it allows NULL (the attribute is an `Option<_>`).
    pub nullable: bool,
    /// The column's `DEFAULT`, as SQL (`1`, `'FL'`): the attribute's default when it is
    /// a constant; `None` otherwise (no default, or one computed per record such as a
    /// random UUID or a timestamp, which the resource fills in itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The unique index of one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueIndex {
    /// The identity's name.
    pub identity: String,
    /// The index's name, `{table}_{identity}_index` (as ash_postgres names it).
    pub name: String,
    /// The identity's columns, in order.
    pub columns: Vec<String>,
    /// Ash's `nils_distinct?`: when `false`, the index is `NULLS NOT DISTINCT`.
    pub nulls_distinct: bool,
}

/// A foreign key: what a `belongs_to` relationship stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    /// The constraint's name, `{table}_{column}_fkey` by default (as ash_postgres).
    pub name: String,
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table's schema, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references_schema: Option<String>,
    /// The referenced table.
    pub references_table: String,
    /// The referenced columns (its primary key, normally).
    pub references_columns: Vec<String>,
    /// `ON DELETE` (`CASCADE`, `SET NULL`, `RESTRICT`, ...); `None` for PostgreSQL's
    /// `NO ACTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    /// `ON UPDATE`, the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
}

impl Table {
    /// The table resource `R` needs: its columns, primary key, identities and foreign
    /// keys. Fails only on invalid data-layer options.
    pub fn of<R: Resource>() -> Result<Table, SchemaError> {
        let (schema, table) = table_of::<R>(None)?;
        let defaults = constant_defaults::<R>();
        let columns = R::ATTRIBUTES
            .iter()
            .map(|info| Column {
                name: info.name.to_owned(),
                sql_type: column_type(info.kind).to_owned(),
                nullable: info.allow_nil,
                default: defaults
                    .iter()
                    .find(|(name, _)| *name == info.name)
                    .map(|(_, sql)| sql.clone()),
            })
            .collect();
        let primary_key = R::ATTRIBUTES
            .iter()
            .filter(|a| a.primary_key)
            .map(|a| a.name.to_owned())
            .collect();
        let identities = R::IDENTITIES
            .iter()
            .map(|identity| UniqueIndex {
                identity: identity.name.to_owned(),
                name: identity_index_name(&table, identity),
                columns: identity.fields.iter().map(|f| (*f).to_owned()).collect(),
                nulls_distinct: identity.nils_distinct,
            })
            .collect();
        let foreign_keys = foreign_keys::<R>(&table)?;
        Ok(Table {
            table,
            schema,
            columns,
            primary_key,
            identities,
            foreign_keys,
        })
    }

    /// The table's name as messages and `--rename-table` write it: `schema.table`, or
    /// `table`.
    pub fn display_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.clone(),
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One foreign key per belongs_to of `R`: `{table}_{attribute}_fkey`, referring to the
/// destination's table and attribute, with the relationship's `on_delete` (`RESTRICT`,
/// `CASCADE` or `SET NULL`), as `create_missing_tables` creates them.
fn foreign_keys<R: Resource>(table: &str) -> Result<Vec<ForeignKey>, SchemaError> {
    let mut keys = Vec::new();
    for info in R::RELATIONSHIPS
        .iter()
        .filter(|r| r.kind == ash_core::relationship::RelationshipKind::BelongsTo)
    {
        let (schema, references_table) =
            crate::table::table_from(info.destination, info.destination_data_layer_options, None)?;
        keys.push(ForeignKey {
            name: crate::foreign_keys::constraint_name(table, info.source_attribute),
            columns: vec![info.source_attribute.to_owned()],
            references_schema: schema,
            references_table,
            references_columns: vec![info.destination_attribute.to_owned()],
            on_delete: Some(crate::foreign_keys::on_delete_sql(info.on_delete).to_owned()),
            on_update: None,
        });
    }
    Ok(keys)
}

/// The tables of every resource a domain lists, from
/// [`migrations::domain`](crate::migrations::domain).
#[derive(Debug, Clone)]
pub struct DomainTables {
    pub(crate) name: &'static str,
    pub(crate) tables: Result<Vec<(&'static str, Table)>, SchemaError>,
}

impl DomainTables {
    /// The domain's type name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Each resource's name and table, in the order the domain lists them (or the first
    /// resource's invalid data-layer options).
    pub fn tables(&self) -> Result<&[(&'static str, Table)], &SchemaError> {
        self.tables.as_deref()
    }
}

struct Collect(Result<Vec<(&'static str, Table)>, SchemaError>);

impl ResourceVisitor for Collect {
    fn visit<R: Resource>(&mut self) {
        if let Ok(tables) = &mut self.0 {
            match Table::of::<R>() {
                Ok(table) => tables.push((R::NAME, table)),
                Err(e) => self.0 = Err(e),
            }
        }
    }
}

/// The tables of domain `D`'s resources, for [`cli`](crate::migrations::cli) and
/// [`collect`](crate::migrations::collect).
pub fn domain<D: HasResources>() -> DomainTables {
    let mut collect = Collect(Ok(Vec::new()));
    D::visit_resources(&mut collect);
    DomainTables {
        name: std::any::type_name::<D>(),
        tables: collect.0,
    }
}

/// The SQL `DEFAULT` of each attribute of `R` whose create default is a constant: the
/// defaults are evaluated twice and kept where both agree (a random UUID or the current
/// time differ, and are left to the resource). Timestamps never get one.
pub(crate) fn constant_defaults<R: Resource>() -> Vec<(&'static str, String)> {
    let eval = || {
        let mut changes = R::Changes::default();
        R::apply_create_defaults(&mut changes);
        R::changes_to_values(&changes)
    };
    let first = eval();
    let second = eval();
    first
        .into_iter()
        .filter(|value| second.contains(value))
        .filter_map(|(field, value)| {
            let name = R::field_name(field);
            let info = R::ATTRIBUTES.iter().find(|a| a.name == name)?;
            if info.primary_key || info.kind == ValueKind::Timestamp {
                return None;
            }
            Some((name, sql_literal(&value, info.kind)?))
        })
        .collect()
}

/// `value` as a SQL literal for a column of `kind`; `None` for what has none (NULL, a
/// string holding NUL, a non-finite float).
pub(crate) fn sql_literal(value: &Value, kind: ValueKind) -> Option<String> {
    let quoted = |s: &str| (!s.contains('\0')).then(|| format!("'{}'", s.replace('\'', "''")));
    match (kind, value) {
        (_, Value::Null) => None,
        (ValueKind::List | ValueKind::Custom, v) => {
            let json = to_json(v).ok()?.to_string();
            Some(format!("{}::jsonb", quoted(&json)?))
        }
        (_, Value::Bool(b)) => Some(b.to_string()),
        (_, Value::Int(i)) => Some(i.to_string()),
        (_, Value::UInt(u)) => Some(u.to_string()),
        (_, Value::Float(f)) if f.is_finite() => Some(format!("{f:?}")),
        (_, Value::Float(_)) => None,
        (_, Value::String(s)) => quoted(s),
        (_, Value::Uuid(u)) => Some(format!("'{u}'::uuid")),
        (_, Value::Timestamp(_)) => None,
        (_, Value::List(_)) => None,
    }
}
