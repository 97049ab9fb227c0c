//! SQL text. Every identifier is quoted here and every value is a bound parameter: no
//! user data is ever part of a statement's text.

use crate::value::{has_nul, Param};
use ash_core::attribute::{AttributeInfo, ValueKind};
use ash_core::error::{ErrorKind, InvalidAttribute};
use ash_core::filter::{CmpOp, DynFilter};
use ash_core::query::SortOrder;
use ash_core::relationship::RelationshipInfo;
use ash_core::value::Value;
use std::fmt::Write;
use tokio_postgres::types::ToSql;

/// `name` as a quoted identifier: `"name"`, with `"` doubled.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

/// Appends `name` as a quoted identifier (see [`quote_ident`]) without an allocation of
/// its own: statements are rendered on every call.
pub(crate) fn push_ident(out: &mut String, name: &str) {
    out.push('"');
    if name.contains('"') {
        for c in name.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
    } else {
        out.push_str(name);
    }
    out.push('"');
}

/// A bound parameter's placeholder, `$n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placeholder(usize);

impl Placeholder {
    /// Appends `$n` (no formatting machinery: this runs for every parameter of every
    /// statement).
    pub(crate) fn write_to(self, out: &mut String) {
        out.push('$');
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = self.0;
        loop {
            at -= 1;
            // `n % 10` is a digit.
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in &digits[at..] {
            out.push(char::from(d));
        }
    }
}

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.0)
    }
}

/// The parameters of one statement, numbered as they are pushed. It borrows its scope's
/// table and schema names: building one allocates nothing until a parameter is pushed.
#[derive(Debug, Default)]
pub(crate) struct Params<'a>(Vec<Param>, Scope<'a>);

/// Where a filter is rendered: the table (or alias) its columns belong to, outermost
/// first, and the schema of tables named by relationship filters (`EXISTS` subqueries).
#[derive(Debug, Default)]
pub(crate) struct Scope<'a> {
    /// The statement's own table, if its filters may name columns of it.
    table: Option<&'a str>,
    /// Aliases of the subqueries entered since, innermost last.
    entered: Vec<String>,
    schema: Option<&'a str>,
    /// Aliases handed out for aggregate subqueries.
    aliases: usize,
}

/// Parameters most statements fit in without growing their vector.
const USUAL_PARAMS: usize = 8;

impl<'a> Params<'a> {
    /// Parameters of a statement on `table` (qualified), whose relationship filters name
    /// tables in `schema`.
    pub fn scoped(table: &'a str, schema: Option<&'a str>) -> Params<'a> {
        Params(
            Vec::new(),
            Scope {
                table: Some(table),
                entered: Vec::new(),
                schema,
                aliases: 0,
            },
        )
    }
}

/// Scopes for aggregate subqueries (see `crate::aggregate`).
impl Params<'_> {
    /// The schema of related tables.
    pub(crate) fn schema(&self) -> Option<&str> {
        self.1.schema
    }

    /// Columns of a filter rendered from now on belong to `alias`.
    pub(crate) fn enter(&mut self, alias: &str) {
        self.1.entered.push(alias.to_owned());
    }

    /// Back to the enclosing table.
    pub(crate) fn leave(&mut self) {
        self.1.entered.pop();
    }

    /// A fresh alias for a subquery's table.
    pub(crate) fn next_alias(&mut self) -> String {
        self.1.aliases += 1;
        format!("__ash_g{}", self.1.aliases)
    }

    /// `name` qualified with the innermost table.
    pub(crate) fn outer_column(&self, name: &str) -> Result<String, ErrorKind> {
        let table = match self.1.entered.last() {
            Some(alias) => alias.as_str(),
            None => self.1.table.ok_or_else(|| {
                crate::pool::framework("an aggregate filter cannot be used in this statement")
            })?,
        };
        Ok(format!("{table}.{}", quote_ident(name)))
    }
}

impl Params<'_> {
    /// Binds `value` (written to or compared with `field`) and returns its placeholder.
    /// PostgreSQL text cannot hold NUL: such a value is an `InvalidAttribute` error.
    pub fn push(&mut self, field: &str, value: Value) -> Result<Placeholder, ErrorKind> {
        if has_nul(&value) {
            return Err(ErrorKind::InvalidAttribute(InvalidAttribute {
                field: field.to_owned(),
                message: "PostgreSQL cannot store a NUL character (\\0) in text".into(),
                value: None,
            }));
        }
        if self.0.capacity() == 0 {
            self.0.reserve_exact(USUAL_PARAMS);
        }
        self.0.push(Param(value));
        Ok(Placeholder(self.0.len()))
    }

    /// The parameters as the client takes them: on the stack when there are few.
    pub fn refs(&self) -> Refs<'_> {
        let mut refs = Refs {
            inline: [&NO_PARAM; USUAL_PARAMS],
            len: self.0.len(),
            spilled: Vec::new(),
        };
        if self.0.len() <= USUAL_PARAMS {
            for (slot, p) in refs.inline.iter_mut().zip(&self.0) {
                *slot = p;
            }
        } else {
            refs.spilled = self.0.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        }
        refs
    }
}

/// Fills the unused slots of [`Refs`]; never sent.
static NO_PARAM: Param = Param(Value::Null);

/// A statement's parameters as `&dyn ToSql`, without a vector for the usual few.
pub(crate) struct Refs<'a> {
    inline: [&'a (dyn ToSql + Sync); USUAL_PARAMS],
    len: usize,
    spilled: Vec<&'a (dyn ToSql + Sync)>,
}

impl<'a> std::ops::Deref for Refs<'a> {
    type Target = [&'a (dyn ToSql + Sync)];

    fn deref(&self) -> &Self::Target {
        if self.len <= USUAL_PARAMS {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }
}

pub(crate) fn attribute<'a>(
    attributes: &'a [AttributeInfo],
    field: &str,
) -> Result<&'a AttributeInfo, ErrorKind> {
    attributes
        .iter()
        .find(|a| a.name == field)
        .ok_or_else(|| crate::pool::framework(format!("no attribute `{field}`")))
}

/// Appends the column with `COLLATE "C"` for strings, so that ordering is by code point
/// as in Rust (`String: Ord`) whatever the database's collation.
fn push_ordered_column(out: &mut String, info: &AttributeInfo) {
    push_ident(out, info.name);
    if info.kind == ValueKind::String {
        out.push_str(" COLLATE \"C\"");
    }
}

pub(crate) fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::NotEq => "<>",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
    }
}

/// Renders `filter` as a boolean SQL expression with the semantics of
/// [`Filter::matches`](ash_core::filter::Filter::matches): a comparison with nil (or with a
/// nil column) is false, never unknown, so `not(...)` of it is true.
pub(crate) fn render_filter(
    filter: &DynFilter,
    attributes: &[AttributeInfo],
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    match filter {
        DynFilter::Cmp { field, op, value } => {
            let info = attribute(attributes, field)?;
            if matches!(value, Value::Null) {
                out.push_str("FALSE");
                return Ok(());
            }
            let p = params.push(field, value.clone())?;
            match op {
                CmpOp::Eq | CmpOp::NotEq => push_ident(out, info.name),
                _ => push_ordered_column(out, info),
            }
            out.push(' ');
            out.push_str(operator(*op));
            out.push(' ');
            p.write_to(out);
        }
        DynFilter::IsNil { field } => {
            let info = attribute(attributes, field)?;
            push_ident(out, info.name);
            out.push_str(" IS NULL");
        }
        DynFilter::In { field, values } => {
            let info = attribute(attributes, field)?;
            let values: Vec<&Value> = values.iter().filter(|v| **v != Value::Null).collect();
            if values.is_empty() {
                out.push_str("FALSE");
                return Ok(());
            }
            push_ident(out, info.name);
            out.push_str(" IN (");
            for (i, value) in values.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                params.push(field, value.clone())?.write_to(out);
            }
            out.push(')');
        }
        DynFilter::Contains { field, value } => {
            let info = attribute(attributes, field)?;
            if matches!(value, Value::Null) {
                out.push_str("FALSE");
                return Ok(());
            }
            match info.kind {
                ValueKind::String => {
                    let p = params.push(field, value.clone())?;
                    let _ = write!(out, "strpos({}, {p}) > 0", quote_ident(info.name));
                }
                ValueKind::List => {
                    let p = params.push(field, value.clone())?;
                    let _ = write!(out, "{} @> {p}", quote_ident(info.name));
                }
                // `contains` is false for every other type, as in memory.
                _ => out.push_str("FALSE"),
            }
        }
        DynFilter::And(all) => render_list(all, " AND ", "TRUE", attributes, params, out)?,
        DynFilter::Or(any) => render_list(any, " OR ", "FALSE", attributes, params, out)?,
        DynFilter::Exists { info, filter, .. } => render_exists(info, filter, params, out)?,
        DynFilter::Aggregate(_) => crate::aggregate::render_filter_on(filter, params, out)?,
        DynFilter::Not(inner) => {
            // NULL (unknown) counts as false inside, so NOT gives true like `!matches`.
            out.push_str("NOT COALESCE((");
            render_filter(inner, attributes, params, out)?;
            out.push_str("), FALSE)");
        }
    }
    Ok(())
}

/// `exists(relationship, filter)` as a correlated `EXISTS` subquery (a many_to_many: one
/// on the join table holding one on the destination). The filter's columns are left
/// unqualified: inside the subquery they name the destination's.
fn render_exists(
    info: &RelationshipInfo,
    filter: &DynFilter,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    let scope = &params.1;
    let Some(outer) = scope
        .entered
        .last()
        .map(String::as_str)
        .or(scope.table)
        .map(str::to_owned)
    else {
        return Err(ErrorKind::Framework(ash_core::error::FrameworkError {
            message: format!(
                "a filter through relationship `{}` cannot be used in this statement",
                info.name
            ),
        }));
    };
    // The statement's table, then each subquery entered.
    let depth = usize::from(params.1.table.is_some()) + params.1.entered.len();
    let schema = params.1.schema;
    let dest = crate::table::table_named(
        info.destination,
        info.destination_data_layer_options,
        schema,
    )?;
    let alias = format!("__ash_r{depth}");
    let mut correlated = outer.clone();
    let mut source_attribute = info.source_attribute;
    if let Some(through) = &info.through {
        let join = crate::table::table_named(through.resource, through.data_layer_options, schema)?;
        let join_alias = format!("__ash_j{depth}");
        let _ = write!(
            out,
            "EXISTS (SELECT 1 FROM {join} AS {join_alias} WHERE {join_alias}."
        );
        push_ident(out, through.source_attribute_on_join_resource);
        let _ = write!(out, " = {outer}.");
        push_ident(out, info.source_attribute);
        out.push_str(" AND ");
        correlated = join_alias;
        source_attribute = through.destination_attribute_on_join_resource;
    }
    let _ = write!(
        out,
        "EXISTS (SELECT 1 FROM {dest} AS {alias} WHERE {alias}."
    );
    push_ident(out, info.destination_attribute);
    let _ = write!(out, " = {correlated}.");
    push_ident(out, source_attribute);
    out.push_str(" AND (");
    params.1.entered.push(alias);
    let rendered = render_filter(filter, info.destination_attributes, params, out);
    params.1.entered.pop();
    rendered?;
    out.push_str("))");
    if info.through.is_some() {
        out.push(')');
    }
    Ok(())
}

fn render_list(
    parts: &[DynFilter],
    separator: &str,
    empty: &str,
    attributes: &[AttributeInfo],
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    if parts.is_empty() {
        out.push_str(empty);
        return Ok(());
    }
    out.push('(');
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        render_filter(part, attributes, params, out)?;
    }
    out.push(')');
    Ok(())
}

/// `ORDER BY` for the sort keys, then the primary key: nils last ascending and first
/// descending, strings by code point, as `Query::finish_in_memory` sorts.
pub(crate) fn render_order(
    sort: &[(&AttributeInfo, SortOrder)],
    primary_key: &AttributeInfo,
    out: &mut String,
) {
    out.push_str(" ORDER BY ");
    for (info, order) in sort {
        let direction = match order {
            SortOrder::Asc => "ASC NULLS LAST",
            SortOrder::Desc => "DESC NULLS FIRST",
        };
        push_ordered_column(out, info);
        out.push(' ');
        out.push_str(direction);
        out.push_str(", ");
    }
    push_ordered_column(out, primary_key);
    out.push_str(" ASC");
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[AttributeInfo] = &[
        AttributeInfo {
            name: "id",
            primary_key: true,
            allow_nil: false,
            writable: false,
            has_default: true,
            kind: ValueKind::Uuid,
        },
        AttributeInfo {
            name: "title",
            primary_key: false,
            allow_nil: true,
            writable: true,
            has_default: false,
            kind: ValueKind::String,
        },
        AttributeInfo {
            name: "tags",
            primary_key: false,
            allow_nil: false,
            writable: true,
            has_default: false,
            kind: ValueKind::List,
        },
    ];

    fn render(filter: &DynFilter) -> (String, usize) {
        let mut params = Params::default();
        let mut out = String::new();
        render_filter(filter, ATTRS, &mut params, &mut out).unwrap();
        (out, params.0.len())
    }

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(quote_ident("a"), "\"a\"");
        assert_eq!(
            quote_ident("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn every_variant_renders_with_bound_values() {
        let title = |op, v: &str| DynFilter::Cmp {
            field: "title",
            op,
            value: Value::String(v.into()),
        };
        let filter = DynFilter::Or(vec![
            DynFilter::And(vec![
                title(CmpOp::Eq, "x'; DROP TABLE t; --"),
                title(CmpOp::Lt, "m"),
            ]),
            DynFilter::Not(Box::new(DynFilter::IsNil { field: "title" })),
            DynFilter::In {
                field: "title",
                values: vec![Value::String("a".into()), Value::Null],
            },
            DynFilter::Contains {
                field: "title",
                value: Value::String("%_".into()),
            },
            DynFilter::Contains {
                field: "tags",
                value: Value::List(vec![Value::Int(1)]),
            },
            DynFilter::And(vec![]),
            DynFilter::Or(vec![]),
        ]);
        let (sql, count) = render(&filter);
        assert_eq!(
            sql,
            "((\"title\" = $1 AND \"title\" COLLATE \"C\" < $2) OR NOT COALESCE((\"title\" IS NULL), FALSE) \
             OR \"title\" IN ($3) OR strpos(\"title\", $4) > 0 OR \"tags\" @> $5 OR TRUE OR FALSE)"
        );
        assert_eq!(count, 5);
    }

    #[test]
    fn nil_comparisons_are_false_and_nul_is_refused() {
        let nil = DynFilter::Cmp {
            field: "title",
            op: CmpOp::NotEq,
            value: Value::Null,
        };
        assert_eq!(render(&nil), ("FALSE".into(), 0));
        let mut params = Params::default();
        let mut out = String::new();
        let nul = DynFilter::Cmp {
            field: "title",
            op: CmpOp::Eq,
            value: Value::String("a\0b".into()),
        };
        let err = render_filter(&nul, ATTRS, &mut params, &mut out).unwrap_err();
        assert!(matches!(err, ErrorKind::InvalidAttribute(ref e) if e.field == "title"));
    }
}
