//! The diff engine: from the snapshots' tables to the resources' tables, the changes and
//! the SQL that makes them (up), and the SQL that undoes them (down). Pure: no files, no
//! server.

use super::model::{Column, ForeignKey, Table, UniqueIndex};
use super::MigrationError;
use crate::sql::quote_ident;
use std::fmt;

/// What `generate` is told beyond the resources: renames, fills and drops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Tables and columns renamed since the snapshots (`--rename-table`,
    /// `--rename-column`). A table or column that disappears while another appears is
    /// refused without one (or `allow_drop`), never guessed.
    pub renames: Vec<Rename>,
    /// How existing rows get a value for a column that becomes required (`--fill`).
    pub fills: Vec<Fill>,
    /// Whether tables and columns may be dropped, with their data (`--allow-drop`).
    pub allow_drop: bool,
}

/// A rename, as `--rename-table old=new` and `--rename-column table.old=new` give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// Table `from` (as the snapshots name it, `schema.table` or `table`) is now `to`.
    Table {
        /// The old name.
        from: String,
        /// The new name (in the same schema).
        to: String,
    },
    /// Column `from` of `table` (as the resources name the table) is now `to`.
    Column {
        /// The table, by its current name.
        table: String,
        /// The old column name.
        from: String,
        /// The new column name.
        to: String,
    },
}

/// `--fill table.column=SQL`: existing rows where `column` is NULL get `sql` when it
/// becomes required (or is added as required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// The table, by its current name.
    pub table: String,
    /// The column.
    pub column: String,
    /// A SQL expression (`'unknown'`, `0`, `now()`), written into the migration as is.
    pub sql: String,
}

impl Options {
    /// The options read from `--rename-table`, `--rename-column`, `--fill` and
    /// `--allow-drop` values; see [`cli`](crate::migrations::cli).
    pub fn rename_table(mut self, from: &str, to: &str) -> Self {
        self.renames.push(Rename::Table {
            from: from.to_owned(),
            to: to.to_owned(),
        });
        self
    }

    /// Adds a column rename.
    pub fn rename_column(mut self, table: &str, from: &str, to: &str) -> Self {
        self.renames.push(Rename::Column {
            table: table.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
        });
        self
    }

    /// Adds a fill.
    pub fn fill(mut self, table: &str, column: &str, sql: &str) -> Self {
        self.fills.push(Fill {
            table: table.to_owned(),
            column: column.to_owned(),
            sql: sql.to_owned(),
        });
        self
    }

    /// Allows drops.
    pub fn allow_drop(mut self, allow: bool) -> Self {
        self.allow_drop = allow;
        self
    }
}

/// One detected change, as `check` and the migration's header list it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaChange {
    /// A new table.
    CreateTable {
        /// The table.
        table: String,
    },
    /// A table without a resource any more.
    DropTable {
        /// The table.
        table: String,
    },
    /// A renamed table.
    RenameTable {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A new column.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its type.
        sql_type: String,
        /// Whether it allows NULL.
        nullable: bool,
    },
    /// A column without an attribute any more.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A renamed column.
    RenameColumn {
        /// The table.
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A column of another type.
    AlterType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// A column that now allows NULL, or no longer does.
    Nullability {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether it allows NULL now.
        nullable: bool,
        /// How rows holding NULL are filled when it becomes required.
        fill: Option<String>,
    },
    /// A column with another `DEFAULT`.
    Default {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The old default.
        from: Option<String>,
        /// The new default.
        to: Option<String>,
    },
    /// Another primary key.
    PrimaryKey {
        /// The table.
        table: String,
        /// The new key's columns.
        columns: Vec<String>,
    },
    /// A new unique index (an identity).
    AddUniqueIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
    /// A unique index without its identity any more (or one that changed).
    DropUniqueIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
    /// A new foreign key (a `belongs_to`).
    AddForeignKey {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
    },
    /// A foreign key without its relationship any more (or one that changed).
    DropForeignKey {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
    },
}

fn or_none(default: &Option<String>) -> &str {
    default.as_deref().unwrap_or("none")
}

impl fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaChange::CreateTable { table } => write!(f, "create table {table}"),
            SchemaChange::DropTable { table } => write!(f, "drop table {table}"),
            SchemaChange::RenameTable { from, to } => write!(f, "rename table {from} to {to}"),
            SchemaChange::AddColumn {
                table,
                column,
                sql_type,
                nullable,
            } => write!(
                f,
                "{table}: add column {column} {sql_type}{}",
                if *nullable { "" } else { " NOT NULL" }
            ),
            SchemaChange::DropColumn { table, column } => {
                write!(f, "{table}: drop column {column}")
            }
            SchemaChange::RenameColumn { table, from, to } => {
                write!(f, "{table}: rename column {from} to {to}")
            }
            SchemaChange::AlterType {
                table,
                column,
                from,
                to,
            } => write!(f, "{table}.{column}: type {from} -> {to}"),
            SchemaChange::Nullability {
                table,
                column,
                nullable: true,
                ..
            } => write!(f, "{table}.{column}: now allows NULL"),
            SchemaChange::Nullability {
                table,
                column,
                fill,
                ..
            } => {
                write!(f, "{table}.{column}: now NOT NULL")?;
                match fill {
                    Some(fill) => write!(f, " (rows holding NULL are set to {fill})"),
                    None => Ok(()),
                }
            }
            SchemaChange::Default {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "{table}.{column}: default {} -> {}",
                or_none(from),
                or_none(to)
            ),
            SchemaChange::PrimaryKey { table, columns } => {
                write!(f, "{table}: primary key ({})", columns.join(", "))
            }
            SchemaChange::AddUniqueIndex { table, index } => {
                write!(f, "{table}: add unique index {index}")
            }
            SchemaChange::DropUniqueIndex { table, index } => {
                write!(f, "{table}: drop unique index {index}")
            }
            SchemaChange::AddForeignKey { table, name } => {
                write!(f, "{table}: add foreign key {name}")
            }
            SchemaChange::DropForeignKey { table, name } => {
                write!(f, "{table}: drop foreign key {name}")
            }
        }
    }
}

impl SchemaChange {
    /// A short name for a migration made of this change (`add_items_note`).
    pub(crate) fn slug(&self) -> String {
        let s = match self {
            SchemaChange::CreateTable { table } => format!("create_{table}"),
            SchemaChange::DropTable { table } => format!("drop_{table}"),
            SchemaChange::RenameTable { to, .. } => format!("rename_to_{to}"),
            SchemaChange::AddColumn { table, column, .. } => format!("add_{table}_{column}"),
            SchemaChange::DropColumn { table, column } => format!("drop_{table}_{column}"),
            SchemaChange::RenameColumn { table, to, .. } => format!("rename_{table}_{to}"),
            SchemaChange::AlterType { table, column, .. } => format!("alter_{table}_{column}"),
            SchemaChange::Nullability {
                table,
                column,
                nullable,
                ..
            } => format!(
                "{}_{table}_{column}",
                if *nullable { "nullable" } else { "require" }
            ),
            SchemaChange::Default { table, column, .. } => format!("default_{table}_{column}"),
            SchemaChange::PrimaryKey { table, .. } => format!("primary_key_{table}"),
            SchemaChange::AddUniqueIndex { index, .. } => format!("add_{index}"),
            SchemaChange::DropUniqueIndex { index, .. } => format!("drop_{index}"),
            SchemaChange::AddForeignKey { name, .. } => format!("add_{name}"),
            SchemaChange::DropForeignKey { name, .. } => format!("drop_{name}"),
        };
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    }
}

/// What one migration does: the changes, and the statements that make them (`up`) and
/// undo them (`down`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes, in the order `up` makes them.
    pub changes: Vec<SchemaChange>,
    /// The statements from the snapshots' schema to the resources'.
    pub up: Vec<String>,
    /// The statements back.
    pub down: Vec<String>,
}

impl Plan {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The migration from the tables `old` (the snapshots) to `new` (the resources).
///
/// Refuses, with every reason at once ([`MigrationError::Refused`]), a table or column
/// that would be dropped without `allow_drop` (saying when it looks like a rename), a
/// column that becomes required with no way to fill existing rows (no constant default
/// and no [`Fill`]), and renames or fills that do not apply.
pub fn plan(old: &[Table], new: &[Table], options: &Options) -> Result<Plan, MigrationError> {
    let mut up = Pass::run(old, new, options, true);
    if !up.problems.is_empty() {
        return Err(MigrationError::Refused {
            problems: up.problems,
        });
    }
    let down = Pass::run(new, old, &options.inverted(), false);
    let changes = std::mem::take(&mut up.changes);
    Ok(Plan {
        changes,
        up: up.statements(),
        down: down.statements(),
    })
}

/// Every difference between `old` and `new`, without refusing anything (what `check`
/// reports). Drops are listed as drops: renames need `generate`'s options.
pub fn differences(old: &[Table], new: &[Table]) -> Vec<SchemaChange> {
    Pass::run(old, new, &Options::default().allow_drop(true), false).changes
}

impl Options {
    /// The renames of the way back, for the down migration.
    fn inverted(&self) -> Options {
        let table_renames: Vec<(String, String)> = self
            .renames
            .iter()
            .filter_map(|r| match r {
                Rename::Table { from, to } => Some((from.clone(), to.clone())),
                Rename::Column { .. } => None,
            })
            .collect();
        let renames = self
            .renames
            .iter()
            .map(|r| match r {
                Rename::Table { from, to } => {
                    let (schema, old_table) = split_table(from);
                    let to_key = join(schema, to);
                    Rename::Table {
                        from: to_key,
                        to: old_table.to_owned(),
                    }
                }
                Rename::Column { table, from, to } => {
                    // After the way back's table renames, the table has its old name.
                    let table = table_renames
                        .iter()
                        .find(|(old, new)| join(split_table(old).0, new) == *table)
                        .map_or_else(|| table.clone(), |(old, _)| old.clone());
                    Rename::Column {
                        table,
                        from: to.clone(),
                        to: from.clone(),
                    }
                }
            })
            .collect();
        Options {
            renames,
            fills: Vec::new(),
            allow_drop: true,
        }
    }
}

/// `schema.table` -> (`Some(schema)`, `table`); `table` -> (`None`, `table`).
fn split_table(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    }
}

fn join(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{table}"),
        None => table.to_owned(),
    }
}

/// PostgreSQL's longest identifier, in bytes.
const MAX_IDENTIFIER: usize = 63;

/// The name PostgreSQL gives a table's primary key constraint: `{table}_pkey`, the table
/// part cut so that the whole fits.
pub(crate) fn pkey_name(table: &str) -> String {
    let mut end = table.len().min(MAX_IDENTIFIER - "_pkey".len());
    while !table.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}_pkey", &table[..end])
}

/// `"schema"."name"` or `"name"`.
fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name),
    }
}

fn q(table: &Table) -> String {
    qualified(table.schema.as_deref(), &table.table)
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column's definition in `CREATE TABLE` and `ADD COLUMN`, without `NOT NULL`.
fn column_def(column: &Column) -> String {
    let mut sql = format!("{} {}", quote_ident(&column.name), column.sql_type);
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(default);
    }
    sql
}

/// `CREATE TABLE` for `table`, as [`create_table_sql`](crate::create_table_sql) writes it
/// (without `IF NOT EXISTS`: a migration expects the schema it was generated for).
pub(crate) fn create_table(table: &Table) -> String {
    let mut sql = format!("CREATE TABLE {} (\n", q(table));
    for column in &table.columns {
        sql.push_str("    ");
        sql.push_str(&column_def(column));
        sql.push_str(",\n");
    }
    sql.push_str(&format!(
        "    PRIMARY KEY ({})\n)",
        idents(&table.primary_key)
    ));
    sql
}

fn create_index(table: &Table, index: &UniqueIndex) -> String {
    format!(
        "CREATE UNIQUE INDEX {} ON {} ({}){}",
        quote_ident(&index.name),
        q(table),
        idents(&index.columns),
        if index.nulls_distinct {
            ""
        } else {
            " NULLS NOT DISTINCT"
        }
    )
}

/// The referential actions a foreign key may name.
const ACTIONS: [&str; 5] = [
    "NO ACTION",
    "RESTRICT",
    "CASCADE",
    "SET NULL",
    "SET DEFAULT",
];

fn action(action: &Option<String>) -> Result<Option<String>, String> {
    match action {
        None => Ok(None),
        Some(a) => {
            let upper = a.trim().to_ascii_uppercase();
            if ACTIONS.contains(&upper.as_str()) {
                Ok(Some(upper))
            } else {
                Err(format!(
                    "unknown referential action `{a}`; valid: {}",
                    ACTIONS.join(", ")
                ))
            }
        }
    }
}

/// One direction's statements, in phases so that each statement finds what it needs:
/// renames, dropped foreign keys and indexes, new tables, column changes, new indexes
/// and foreign keys, dropped tables.
#[derive(Default)]
struct Pass {
    strict: bool,
    renames: Vec<String>,
    drop_constraints: Vec<String>,
    create_tables: Vec<String>,
    alter: Vec<String>,
    create_indexes: Vec<String>,
    add_foreign_keys: Vec<String>,
    drop_tables: Vec<String>,
    changes: Vec<SchemaChange>,
    problems: Vec<String>,
}

impl Pass {
    fn statements(self) -> Vec<String> {
        [
            self.renames,
            self.drop_constraints,
            self.create_tables,
            self.alter,
            self.create_indexes,
            self.add_foreign_keys,
            self.drop_tables,
        ]
        .concat()
    }

    fn run(old: &[Table], new: &[Table], options: &Options, strict: bool) -> Pass {
        let mut pass = Pass {
            strict,
            ..Pass::default()
        };
        let mut old = old.to_vec();
        pass.rename_tables(&mut old, new, options);
        pass.rename_columns(&mut old, new, options);
        let mut used_fills = vec![false; options.fills.len()];

        let added: Vec<&Table> = new
            .iter()
            .filter(|n| !old.iter().any(|o| o.display_name() == n.display_name()))
            .collect();
        let removed: Vec<&Table> = old
            .iter()
            .filter(|o| !new.iter().any(|n| n.display_name() == o.display_name()))
            .collect();
        if strict && !options.allow_drop {
            let added_names: Vec<String> = added.iter().map(|t| t.display_name()).collect();
            for table in &removed {
                let name = table.display_name();
                pass.problems.push(match added_names.first() {
                    Some(first) => format!(
                        "table `{name}` is gone and {} new: if it was renamed, pass \
                         `--rename-table {name}={first}`; to drop it with its rows, pass `--allow-drop`",
                        list("table", &added_names)
                    ),
                    None => format!(
                        "table `{name}` has no resource any more and would be dropped with its rows: \
                         pass `--allow-drop` to drop it"
                    ),
                });
            }
        }

        for n in new {
            match old.iter().find(|o| o.display_name() == n.display_name()) {
                Some(o) => pass.alter_table(o, n, options, &mut used_fills),
                None => pass.create(n),
            }
        }
        for table in &removed {
            for fk in &table.foreign_keys {
                pass.drop_foreign_key(table, fk);
            }
            pass.drop_tables.push(format!("DROP TABLE {}", q(table)));
            pass.changes.push(SchemaChange::DropTable {
                table: table.display_name(),
            });
        }
        if strict {
            for (fill, used) in options.fills.iter().zip(used_fills) {
                if !used {
                    pass.problems.push(format!(
                        "`--fill {}.{}=...`: no column `{}` becomes required in table `{}`",
                        fill.table, fill.column, fill.column, fill.table
                    ));
                }
            }
        }
        pass
    }

    fn rename_tables(&mut self, old: &mut [Table], new: &[Table], options: &Options) {
        for rename in &options.renames {
            let Rename::Table { from, to } = rename else {
                continue;
            };
            let flag = format!("`--rename-table {from}={to}`");
            let (to_schema, to_table) = split_table(to);
            let Some(i) = old.iter().position(|t| t.display_name() == *from) else {
                self.problems
                    .push(format!("{flag}: the snapshots have no table `{from}`"));
                continue;
            };
            let schema = old[i].schema.clone();
            if to_schema.is_some() && to_schema != schema.as_deref() {
                self.problems.push(format!(
                    "{flag}: moving a table to another schema is not supported"
                ));
                continue;
            }
            let to_key = join(schema.as_deref(), to_table);
            let Some(target) = new.iter().find(|t| t.display_name() == to_key) else {
                self.problems
                    .push(format!("{flag}: no resource has table `{to_key}`"));
                continue;
            };
            if old.iter().any(|t| t.display_name() == to_key) {
                self.problems.push(format!(
                    "{flag}: the snapshots already have table `{to_key}`"
                ));
                continue;
            }
            let table = &mut old[i];
            self.renames.push(format!(
                "ALTER TABLE {} RENAME TO {}",
                q(table),
                quote_ident(to_table)
            ));
            let (old_pkey, new_pkey) = (pkey_name(&table.table), pkey_name(to_table));
            if old_pkey != new_pkey {
                self.renames.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    qualified(schema.as_deref(), &old_pkey),
                    quote_ident(&new_pkey)
                ));
            }
            for index in &mut table.identities {
                if let Some(target) = target
                    .identities
                    .iter()
                    .find(|t| t.identity == index.identity && t.name != index.name)
                {
                    self.renames.push(format!(
                        "ALTER INDEX {} RENAME TO {}",
                        qualified(schema.as_deref(), &index.name),
                        quote_ident(&target.name)
                    ));
                    index.name = target.name.clone();
                }
            }
            let old_name = std::mem::replace(&mut table.table, to_table.to_owned());
            self.changes.push(SchemaChange::RenameTable {
                from: from.clone(),
                to: to_key,
            });
            for t in old.iter_mut() {
                for fk in &mut t.foreign_keys {
                    if fk.references_table == old_name && fk.references_schema == schema {
                        fk.references_table = to_table.to_owned();
                    }
                }
            }
        }
    }

    fn rename_columns(&mut self, old: &mut [Table], new: &[Table], options: &Options) {
        for rename in &options.renames {
            let Rename::Column { table, from, to } = rename else {
                continue;
            };
            let flag = format!("`--rename-column {table}.{from}={to}`");
            let Some(i) = old.iter().position(|t| t.display_name() == *table) else {
                self.problems
                    .push(format!("{flag}: the snapshots have no table `{table}`"));
                continue;
            };
            let Some(target) = new.iter().find(|t| t.display_name() == *table) else {
                self.problems
                    .push(format!("{flag}: no resource has table `{table}`"));
                continue;
            };
            if old[i].column(from).is_none() {
                self.problems.push(format!(
                    "{flag}: the snapshot of `{table}` has no column `{from}`"
                ));
                continue;
            }
            if target.column(to).is_none() {
                self.problems.push(format!(
                    "{flag}: the resource of `{table}` has no attribute `{to}`"
                ));
                continue;
            }
            if old[i].column(to).is_some() {
                self.problems.push(format!(
                    "{flag}: the snapshot of `{table}` already has a column `{to}`"
                ));
                continue;
            }
            let t = &mut old[i];
            self.renames.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(t),
                quote_ident(from),
                quote_ident(to)
            ));
            self.changes.push(SchemaChange::RenameColumn {
                table: table.clone(),
                from: from.clone(),
                to: to.clone(),
            });
            let rename = |names: &mut Vec<String>| {
                for name in names.iter_mut() {
                    if name == from {
                        *name = to.clone();
                    }
                }
            };
            for column in &mut t.columns {
                if column.name == *from {
                    column.name = to.clone();
                }
            }
            rename(&mut t.primary_key);
            for index in &mut t.identities {
                rename(&mut index.columns);
            }
            for fk in &mut t.foreign_keys {
                rename(&mut fk.columns);
            }
            let (schema, name) = (t.schema.clone(), t.table.clone());
            for other in old.iter_mut() {
                for fk in &mut other.foreign_keys {
                    if fk.references_table == name && fk.references_schema == schema {
                        rename(&mut fk.references_columns);
                    }
                }
            }
        }
    }

    fn create(&mut self, table: &Table) {
        self.create_tables.push(create_table(table));
        self.changes.push(SchemaChange::CreateTable {
            table: table.display_name(),
        });
        for index in &table.identities {
            self.add_index(table, index);
        }
        for fk in &table.foreign_keys {
            self.add_foreign_key(table, fk);
        }
    }

    fn add_index(&mut self, table: &Table, index: &UniqueIndex) {
        self.create_indexes.push(create_index(table, index));
        self.changes.push(SchemaChange::AddUniqueIndex {
            table: table.display_name(),
            index: index.name.clone(),
        });
    }

    fn drop_index(&mut self, table: &Table, index: &UniqueIndex) {
        self.drop_constraints.push(format!(
            "DROP INDEX {}",
            qualified(table.schema.as_deref(), &index.name)
        ));
        self.changes.push(SchemaChange::DropUniqueIndex {
            table: table.display_name(),
            index: index.name.clone(),
        });
    }

    fn add_foreign_key(&mut self, table: &Table, fk: &ForeignKey) {
        let (on_delete, on_update) = match (action(&fk.on_delete), action(&fk.on_update)) {
            (Ok(d), Ok(u)) => (d, u),
            (Err(e), _) | (_, Err(e)) => {
                if self.strict {
                    self.problems.push(format!(
                        "foreign key `{}` of `{}`: {e}",
                        fk.name,
                        table.display_name()
                    ));
                }
                return;
            }
        };
        let mut sql = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            q(table),
            quote_ident(&fk.name),
            idents(&fk.columns),
            qualified(fk.references_schema.as_deref(), &fk.references_table),
            idents(&fk.references_columns)
        );
        if let Some(a) = on_delete {
            sql.push_str(" ON DELETE ");
            sql.push_str(&a);
        }
        if let Some(a) = on_update {
            sql.push_str(" ON UPDATE ");
            sql.push_str(&a);
        }
        self.add_foreign_keys.push(sql);
        self.changes.push(SchemaChange::AddForeignKey {
            table: table.display_name(),
            name: fk.name.clone(),
        });
    }

    fn drop_foreign_key(&mut self, table: &Table, fk: &ForeignKey) {
        self.drop_constraints.push(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            q(table),
            quote_ident(&fk.name)
        ));
        self.changes.push(SchemaChange::DropForeignKey {
            table: table.display_name(),
            name: fk.name.clone(),
        });
    }

    fn fill<'a>(
        options: &'a Options,
        used: &mut [bool],
        table: &str,
        column: &str,
    ) -> Option<&'a str> {
        let i = options
            .fills
            .iter()
            .position(|f| f.table == table && f.column == column)?;
        used[i] = true;
        Some(&options.fills[i].sql)
    }

    fn alter_table(&mut self, old: &Table, new: &Table, options: &Options, used: &mut [bool]) {
        let name = new.display_name();
        let table = q(new);
        for fk in &old.foreign_keys {
            if !new.foreign_keys.contains(fk) {
                self.drop_foreign_key(old, fk);
            }
        }
        for index in &old.identities {
            if !new.identities.contains(index) {
                self.drop_index(old, index);
            }
        }

        let added: Vec<&Column> = new
            .columns
            .iter()
            .filter(|c| old.column(&c.name).is_none())
            .collect();
        let removed: Vec<&Column> = old
            .columns
            .iter()
            .filter(|c| new.column(&c.name).is_none())
            .collect();

        for column in &added {
            let c = quote_ident(&column.name);
            let fill = Self::fill(options, used, &name, &column.name);
            match (column.nullable, &column.default, fill) {
                // Existing rows get the default, or stay NULL.
                (true, _, _) | (false, Some(_), None) => self.alter.push(format!(
                    "ALTER TABLE {table} ADD COLUMN {}",
                    column_def(column)
                )),
                (false, _, Some(fill)) => {
                    let nullable = Column {
                        nullable: true,
                        ..(*column).clone()
                    };
                    self.alter.push(format!(
                        "ALTER TABLE {table} ADD COLUMN {}",
                        column_def(&nullable)
                    ));
                    self.alter.push(format!(
                        "UPDATE {table} SET {c} = ({fill}) WHERE {c} IS NULL"
                    ));
                    self.alter
                        .push(format!("ALTER TABLE {table} ALTER COLUMN {c} SET NOT NULL"));
                }
                (false, None, None) => {
                    // When a column also disappears, the rename question comes first.
                    let rename_asked = !options.allow_drop && !removed.is_empty();
                    if self.strict && !rename_asked {
                        self.problems.push(format!(
                            "column `{name}.{}` is new and required (its attribute is not an `Option`), \
                             and existing rows have no value for it: give the attribute a default \
                             (`#[attribute(default = ...)]`) or pass `--fill {name}.{}=<SQL>` to set \
                             it on existing rows",
                            column.name, column.name
                        ));
                    }
                    self.alter.push(format!(
                        "ALTER TABLE {table} ADD COLUMN {}",
                        column_def(column)
                    ));
                }
            }
            self.changes.push(SchemaChange::AddColumn {
                table: name.clone(),
                column: column.name.clone(),
                sql_type: column.sql_type.clone(),
                nullable: column.nullable,
            });
        }

        for n in &new.columns {
            let Some(o) = old.column(&n.name) else {
                continue;
            };
            let c = quote_ident(&n.name);
            if o.sql_type != n.sql_type {
                if o.default.is_some() {
                    self.alter
                        .push(format!("ALTER TABLE {table} ALTER COLUMN {c} DROP DEFAULT"));
                }
                self.alter.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {c} TYPE {ty} USING {c}::{ty}",
                    ty = n.sql_type
                ));
                if let Some(default) = &n.default {
                    self.alter.push(format!(
                        "ALTER TABLE {table} ALTER COLUMN {c} SET DEFAULT {default}"
                    ));
                }
                self.changes.push(SchemaChange::AlterType {
                    table: name.clone(),
                    column: n.name.clone(),
                    from: o.sql_type.clone(),
                    to: n.sql_type.clone(),
                });
            }
            if o.default != n.default {
                if o.sql_type == n.sql_type {
                    self.alter.push(match &n.default {
                        Some(default) => {
                            format!("ALTER TABLE {table} ALTER COLUMN {c} SET DEFAULT {default}")
                        }
                        None => format!("ALTER TABLE {table} ALTER COLUMN {c} DROP DEFAULT"),
                    });
                }
                self.changes.push(SchemaChange::Default {
                    table: name.clone(),
                    column: n.name.clone(),
                    from: o.default.clone(),
                    to: n.default.clone(),
                });
            }
            if o.nullable != n.nullable {
                let mut fill_used = None;
                if n.nullable {
                    self.alter.push(format!(
                        "ALTER TABLE {table} ALTER COLUMN {c} DROP NOT NULL"
                    ));
                } else {
                    let fill = Self::fill(options, used, &name, &n.name)
                        .map(str::to_owned)
                        .or_else(|| n.default.clone());
                    match &fill {
                        Some(fill) => self.alter.push(format!(
                            "UPDATE {table} SET {c} = ({fill}) WHERE {c} IS NULL"
                        )),
                        None if self.strict => self.problems.push(format!(
                            "column `{name}.{}` becomes required (its attribute is no longer an \
                             `Option`): rows where it is NULL need a value; give the attribute a \
                             default (`#[attribute(default = ...)]`) or pass `--fill {name}.{}=<SQL>`",
                            n.name, n.name
                        )),
                        None => {}
                    }
                    self.alter
                        .push(format!("ALTER TABLE {table} ALTER COLUMN {c} SET NOT NULL"));
                    fill_used = fill;
                }
                self.changes.push(SchemaChange::Nullability {
                    table: name.clone(),
                    column: n.name.clone(),
                    nullable: n.nullable,
                    fill: fill_used,
                });
            }
        }

        if old.primary_key != new.primary_key {
            self.alter.push(format!(
                "ALTER TABLE {table} DROP CONSTRAINT {}, ADD PRIMARY KEY ({})",
                quote_ident(&pkey_name(&old.table)),
                idents(&new.primary_key)
            ));
            self.changes.push(SchemaChange::PrimaryKey {
                table: name.clone(),
                columns: new.primary_key.clone(),
            });
        }

        if self.strict && !options.allow_drop {
            let added_names: Vec<String> = added.iter().map(|c| c.name.clone()).collect();
            for column in &removed {
                let col = &column.name;
                self.problems.push(match added_names.first() {
                    Some(first) => format!(
                        "column `{name}.{col}` is gone and {} new: if it was renamed, pass \
                         `--rename-column {name}.{col}={first}`; to drop it with its values, pass `--allow-drop`",
                        list("column", &added_names)
                    ),
                    None => format!(
                        "column `{name}.{col}` has no attribute any more and would be dropped with \
                         its values: pass `--allow-drop` to drop it"
                    ),
                });
            }
        }
        for column in &removed {
            self.alter.push(format!(
                "ALTER TABLE {table} DROP COLUMN {}",
                quote_ident(&column.name)
            ));
            self.changes.push(SchemaChange::DropColumn {
                table: name.clone(),
                column: column.name.clone(),
            });
        }

        for index in &new.identities {
            if !old.identities.contains(index) {
                self.add_index(new, index);
            }
        }
        for fk in &new.foreign_keys {
            if !old.foreign_keys.contains(fk) {
                self.add_foreign_key(new, fk);
            }
        }
    }
}

/// "table `b` is" / "tables `b`, `c` are".
fn list(kind: &str, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if quoted.len() == 1 {
        format!("{kind} {} is", quoted[0])
    } else {
        format!("{kind}s {} are", quoted.join(", "))
    }
}
