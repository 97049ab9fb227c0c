//! Aggregates in SQL (see `ash_core::aggregate`).
//!
//! In a read, the aggregates that can share a scan of the related rows (count, sum, min,
//! max, avg over one relationship with one filter) are one
//! `LEFT JOIN LATERAL (SELECT count(*) AS "__ash_v0", sum(..) AS "__ash_v1" FROM comments
//! WHERE post_id = posts.id AND <filter>) AS "__ash_l0" ON TRUE`; `exists`, `first` and
//! `list` are each a correlated subquery in the select list. A filter on an aggregate is
//! the same subquery in the `WHERE` clause, compared after `COALESCE` with its default.
//! Everything is in the read's one statement.

use crate::sql::{attribute, push_ident, render_filter, Params};
use ash_core::aggregate::{AggregateInfo, AggregateKind, AggregateRef};
use ash_core::attribute::ValueKind;
use ash_core::error::ErrorKind;
use ash_core::filter::DynFilter;
use ash_core::query::SortOrder;
use ash_core::resource::Resource;
use ash_core::value::Value;
use std::fmt::Write;

/// The parts of an aggregate the SQL needs.
pub(crate) struct Parts<'a> {
    pub info: &'static AggregateInfo,
    pub filter: Option<&'a DynFilter>,
    /// The own filters of the path's relationships before the last.
    pub through: &'a [Option<DynFilter>],
    pub sort: &'a [(&'static str, SortOrder)],
}

impl<'a, S: Resource> From<&'a AggregateRef<S>> for Parts<'a> {
    fn from(a: &'a AggregateRef<S>) -> Self {
        Parts {
            info: a.info,
            filter: a.filter.as_ref(),
            through: &a.through,
            sort: &a.sort,
        }
    }
}

/// Whether two aggregates read the same related rows (one path, one filter at each hop):
/// they can share one scan.
fn same_rows(a: &Parts<'_>, b: &Parts<'_>) -> bool {
    a.info.path.len() == b.info.path.len()
        && a.info
            .path
            .iter()
            .zip(b.info.path)
            .all(|(x, y)| std::ptr::eq(*x, *y))
        && a.filter == b.filter
        && a.through == b.through
}

fn column(out: &mut String, alias: &str, name: &str) {
    out.push_str(alias);
    out.push('.');
    push_ident(out, name);
}

/// How the rows of one relationship are tied to the previous ones: the parent's column
/// (`posts.id`), or a derived table of the previous hop's keys (column `__ash_k`, a row
/// per path, so that a record reached along two paths counts twice, as in Ash).
enum Tie {
    Outer(String),
    Keys(String),
}

/// `<table> AS alias` tied by `alias.attr` to `tie`: the `FROM` item and the `WHERE`
/// condition.
fn tied(table: &str, alias: &str, attr: &str, tie: &Tie, out: &mut String) -> String {
    let _ = write!(out, "{table} AS {alias}");
    let mut on = String::new();
    column(&mut on, alias, attr);
    match tie {
        Tie::Outer(outer) => {
            let _ = write!(on, " = {outer}");
            on
        }
        Tie::Keys(keys) => {
            let _ = write!(
                out,
                " JOIN ({keys}) AS {alias}_k ON {on} = {alias}_k.__ash_k"
            );
            "TRUE".to_owned()
        }
    }
}

/// One relationship of the path from `tie`: its `FROM` items (a many_to_many's join table
/// as a derived table of destination keys) and `WHERE` condition, its table as `alias`.
fn hop(
    rel: &'static ash_core::relationship::RelationshipInfo,
    alias: &str,
    tie: Tie,
    params: &mut Params,
    out: &mut String,
) -> Result<String, ErrorKind> {
    let dest = crate::table::table_named(
        rel.destination,
        rel.destination_data_layer_options,
        params.schema(),
    )?;
    let tie = match &rel.through {
        Some(through) => {
            let join = crate::table::table_named(
                through.resource,
                through.data_layer_options,
                params.schema(),
            )?;
            let j = format!("{alias}_j");
            let mut keys = String::from("SELECT ");
            column(
                &mut keys,
                &j,
                through.destination_attribute_on_join_resource,
            );
            keys.push_str(" AS __ash_k FROM ");
            let cond = tied(
                &join,
                &j,
                through.source_attribute_on_join_resource,
                &tie,
                &mut keys,
            );
            let _ = write!(keys, " WHERE {cond}");
            Tie::Keys(keys)
        }
        None => tie,
    };
    Ok(tied(&dest, alias, rel.destination_attribute, &tie, out))
}

/// `filter` on the rows of `alias` (of a table with `attributes`), as ` AND (..)`.
fn and_filter(
    filter: Option<&DynFilter>,
    attributes: &[ash_core::attribute::AttributeInfo],
    alias: &str,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    if let Some(filter) = filter {
        out.push_str(" AND (");
        params.enter(alias);
        let rendered = render_filter(filter, attributes, params, out);
        params.leave();
        rendered?;
        out.push(')');
    }
    Ok(())
}

/// ` FROM <dest> AS alias WHERE alias.dest_attr = <outer> AND (<filter>)`; through a path,
/// the destination joined with a derived table of the keys the relationships before it
/// reach (each with its own filter), the first correlated with `outer`.
fn from_where(
    parts: &Parts<'_>,
    alias: &str,
    outer: &str,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    let path = parts.info.path;
    let Some((last, before)) = path.split_last() else {
        return Err(crate::pool::framework(format!(
            "aggregate `{}` has no relationship",
            parts.info.name
        )));
    };
    let mut tie = Tie::Outer(outer.to_owned());
    for (i, (rel, next)) in before.iter().zip(&path[1..]).enumerate() {
        let a = params.next_alias();
        let mut keys = String::from("SELECT ");
        column(&mut keys, &a, next.source_attribute);
        keys.push_str(" AS __ash_k FROM ");
        let cond = hop(rel, &a, tie, params, &mut keys)?;
        let _ = write!(keys, " WHERE {cond}");
        let own = parts.through.get(i).and_then(Option::as_ref);
        and_filter(own, rel.destination_attributes, &a, params, &mut keys)?;
        tie = Tie::Keys(keys);
    }
    out.push_str(" FROM ");
    let cond = hop(last, alias, tie, params, out)?;
    let _ = write!(out, " WHERE {cond}");
    and_filter(
        parts.filter,
        last.destination_attributes,
        alias,
        params,
        out,
    )
}

fn field(parts: &Parts<'_>) -> Result<&'static str, ErrorKind> {
    parts.info.field.ok_or_else(|| {
        crate::pool::framework(format!("aggregate `{}` needs a field", parts.info.name))
    })
}

/// The aggregate function over `alias`'s rows, for the groupable kinds.
fn function(parts: &Parts<'_>, alias: &str, out: &mut String) -> Result<(), ErrorKind> {
    let attrs = parts.info.destination().destination_attributes;
    match parts.info.kind {
        AggregateKind::Count => match parts.info.field {
            None => out.push_str("count(*)"),
            Some(f) => {
                out.push_str(if parts.info.uniq {
                    "count(DISTINCT "
                } else {
                    "count("
                });
                column(out, alias, f);
                out.push(')');
            }
        },
        AggregateKind::Sum | AggregateKind::Min | AggregateKind::Max | AggregateKind::Avg => {
            let f = field(parts)?;
            let name = match parts.info.kind {
                AggregateKind::Sum => "sum(",
                AggregateKind::Min => "min(",
                AggregateKind::Max => "max(",
                _ => "avg(",
            };
            out.push_str(name);
            column(out, alias, f);
            if attribute(attrs, f)?.kind == ValueKind::String {
                out.push_str(" COLLATE \"C\"");
            }
            out.push(')');
            if parts.info.kind == AggregateKind::Avg {
                out.push_str("::float8");
            }
        }
        _ => {
            return Err(crate::pool::framework(format!(
                "aggregate `{}` is not groupable",
                parts.info.name
            )))
        }
    }
    Ok(())
}

fn order(parts: &Parts<'_>, alias: &str, out: &mut String) -> Result<(), ErrorKind> {
    let rel = parts.info.destination();
    out.push_str(" ORDER BY ");
    for (name, o) in parts.sort {
        let info = attribute(rel.destination_attributes, name)?;
        column(out, alias, info.name);
        if info.kind == ValueKind::String {
            out.push_str(" COLLATE \"C\"");
        }
        out.push_str(match o {
            SortOrder::Asc => " ASC NULLS LAST, ",
            SortOrder::Desc => " DESC NULLS FIRST, ",
        });
    }
    let pk = rel
        .destination_attributes
        .iter()
        .find(|a| a.primary_key)
        .ok_or_else(|| crate::pool::framework("no primary key".to_owned()))?;
    column(out, alias, pk.name);
    out.push_str(" ASC");
    Ok(())
}

/// The function a `list` aggregates `field` with, and its empty value: a PostgreSQL array
/// (decoded element by element as the column's type, so UUIDs and timestamps come back as
/// such), or JSON for attributes stored as JSON (lists, custom types), which an array of
/// would not decode.
fn list_function(
    parts: &Parts<'_>,
    field: &str,
) -> Result<(&'static str, &'static str), ErrorKind> {
    let info = attribute(parts.info.destination().destination_attributes, field)?;
    Ok(match info.kind {
        ValueKind::List | ValueKind::Custom => ("jsonb_agg", "'[]'::jsonb"),
        _ => ("array_agg", "'{}'"),
    })
}

/// The aggregate as one scalar SQL expression correlated with `outer` (the parent's
/// source attribute, rendered), nil when nothing matches (except count, exists, list).
pub(crate) fn render_scalar(
    parts: &Parts<'_>,
    outer: &str,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    let alias = params.next_alias();
    match parts.info.kind {
        AggregateKind::Exists => {
            out.push_str("EXISTS (SELECT 1");
            from_where(parts, &alias, outer, params, out)?;
            out.push(')');
        }
        AggregateKind::First => {
            let f = field(parts)?;
            out.push_str("(SELECT ");
            column(out, &alias, f);
            from_where(parts, &alias, outer, params, out)?;
            out.push_str(" AND ");
            column(out, &alias, f);
            out.push_str(" IS NOT NULL");
            order(parts, &alias, out)?;
            out.push_str(" LIMIT 1)");
        }
        AggregateKind::List if parts.info.uniq => {
            // The first occurrence of each value, in the sort's order.
            let f = field(parts)?;
            let (agg, empty) = list_function(parts, f)?;
            let _ = write!(
                out,
                "(SELECT COALESCE({agg}(__ash_u.v ORDER BY __ash_u.n), {empty}) FROM (SELECT DISTINCT ON ("
            );
            column(out, &alias, f);
            out.push_str(") ");
            column(out, &alias, f);
            out.push_str(" AS v, row_number() OVER (");
            order(parts, &alias, out)?;
            out.push_str(") AS n");
            from_where(parts, &alias, outer, params, out)?;
            out.push_str(" AND ");
            column(out, &alias, f);
            out.push_str(" IS NOT NULL ORDER BY ");
            column(out, &alias, f);
            out.push_str(", n) AS __ash_u)");
        }
        AggregateKind::List => {
            let f = field(parts)?;
            let (agg, empty) = list_function(parts, f)?;
            let _ = write!(out, "(SELECT COALESCE({agg}(");
            column(out, &alias, f);
            order(parts, &alias, out)?;
            let _ = write!(out, "), {empty})");
            from_where(parts, &alias, outer, params, out)?;
            out.push_str(" AND ");
            column(out, &alias, f);
            out.push_str(" IS NOT NULL)");
        }
        _ => {
            out.push_str("(SELECT ");
            function(parts, &alias, out)?;
            from_where(parts, &alias, outer, params, out)?;
            out.push(')');
        }
    }
    Ok(())
}

/// `aggregate <op> value` in a `WHERE` clause (see [`DynFilter::Aggregate`]).
pub(crate) fn render_filter_on(
    filter: &DynFilter,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    let DynFilter::Aggregate(a) = filter else {
        return Ok(());
    };
    let (info, inner, default, op, value) = (a.info, &a.filter, &a.default, &a.op, &a.value);
    let through = &a.through;
    if *value == Value::Null {
        out.push_str("FALSE");
        return Ok(());
    }
    let outer = params.outer_column(info.relationship.source_attribute)?;
    let parts = Parts {
        info,
        filter: inner.as_ref(),
        through,
        sort: &[],
    };
    out.push_str("COALESCE(");
    render_scalar(&parts, &outer, params, out)?;
    out.push_str(", ");
    if *default == Value::Null {
        out.push_str("NULL");
    } else {
        params.push(info.name, default.clone())?.write_to(out);
    }
    let _ = write!(out, ") {} ", crate::sql::operator(*op));
    params.push(info.name, value.clone())?.write_to(out);
    Ok(())
}

/// The select-list expressions (in `aggregates` order) and lateral joins of a read of
/// `table` computing `aggregates`.
pub(crate) fn render_read<S: Resource>(
    aggregates: &[&AggregateRef<S>],
    table: &str,
    params: &mut Params,
) -> Result<(Vec<String>, String), ErrorKind> {
    let mut selects = vec![String::new(); aggregates.len()];
    let mut joins = String::new();
    let mut done = vec![false; aggregates.len()];
    for i in 0..aggregates.len() {
        if done[i] {
            continue;
        }
        let a = aggregates[i];
        let outer = format!(
            "{table}.{}",
            crate::sql::quote_ident(a.info.relationship.source_attribute)
        );
        if !a.info.kind.groupable() {
            render_scalar(&Parts::from(a), &outer, params, &mut selects[i])?;
            done[i] = true;
            continue;
        }
        // Every groupable aggregate over this relationship with this filter: one scan.
        let group: Vec<usize> = (i..aggregates.len())
            .filter(|&j| {
                let b = aggregates[j];
                !done[j] && b.info.kind.groupable() && same_rows(&Parts::from(a), &Parts::from(b))
            })
            .collect();
        let lateral = format!("__ash_l{i}");
        let alias = params.next_alias();
        joins.push_str(" LEFT JOIN LATERAL (SELECT ");
        for (n, &j) in group.iter().enumerate() {
            if n > 0 {
                joins.push_str(", ");
            }
            function(&Parts::from(aggregates[j]), &alias, &mut joins)?;
            let _ = write!(joins, " AS __ash_v{j}");
            selects[j] = format!("{lateral}.__ash_v{j}");
            done[j] = true;
        }
        from_where(&Parts::from(a), &alias, &outer, params, &mut joins)?;
        let _ = write!(joins, ") AS {lateral} ON TRUE");
    }
    Ok((selects, joins))
}

/// `ORDER BY` with aggregate sort keys placed among the attribute ones (each as its
/// subquery, default applied), then the primary key: nils last ascending, first
/// descending, as `Query::finish_in_memory` sorts.
pub(crate) fn render_order<S: Resource>(
    sort: &[(&ash_core::attribute::AttributeInfo, SortOrder)],
    aggregate_sort: &[ash_core::aggregate::AggregateSortKey<S>],
    primary_key: &ash_core::attribute::AttributeInfo,
    table: &str,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    let direction = |order: &SortOrder| match order {
        SortOrder::Asc => " ASC NULLS LAST, ",
        SortOrder::Desc => " DESC NULLS FIRST, ",
    };
    let column = |out: &mut String, info: &ash_core::attribute::AttributeInfo| {
        push_ident(out, info.name);
        if info.kind == ValueKind::String {
            out.push_str(" COLLATE \"C\"");
        }
    };
    out.push_str(" ORDER BY ");
    for position in 0..=sort.len() {
        for key in aggregate_sort.iter().filter(|k| k.position == position) {
            let a = &key.aggregate;
            let outer = format!(
                "{table}.{}",
                crate::sql::quote_ident(a.info.relationship.source_attribute)
            );
            out.push_str("COALESCE(");
            render_scalar(&Parts::from(a), &outer, params, out)?;
            out.push_str(", ");
            if a.default == Value::Null {
                out.push_str("NULL");
            } else {
                params.push(a.info.name, a.default.clone())?.write_to(out);
            }
            out.push(')');
            out.push_str(direction(&key.order));
        }
        if let Some((info, order)) = sort.get(position) {
            column(out, info);
            out.push_str(direction(order));
        }
    }
    column(out, primary_key);
    out.push_str(" ASC");
    Ok(())
}
