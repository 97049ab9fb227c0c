//! `#[aggregates(...)]`: the parsed model, its parser and its checks (the expansion is
//! `expand/aggregates.rs`).

pub mod check;
pub mod parse;

use proc_macro2::Span;
use syn::{Expr, Ident};

/// The kinds of aggregate, as the DSL names them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AggKind {
    Count,
    Exists,
    Sum,
    Min,
    Max,
    Avg,
    First,
    List,
}

pub const KINDS: [&str; 8] = [
    "count", "exists", "sum", "min", "max", "avg", "first", "list",
];

impl AggKind {
    pub fn from_name(name: &str) -> Option<AggKind> {
        Some(match name {
            "count" => AggKind::Count,
            "exists" => AggKind::Exists,
            "sum" => AggKind::Sum,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "avg" => AggKind::Avg,
            "first" => AggKind::First,
            "list" => AggKind::List,
            _ => return None,
        })
    }

    /// The runtime's `AggregateKind` variant.
    pub fn variant(self) -> &'static str {
        match self {
            AggKind::Count => "Count",
            AggKind::Exists => "Exists",
            AggKind::Sum => "Sum",
            AggKind::Min => "Min",
            AggKind::Max => "Max",
            AggKind::Avg => "Avg",
            AggKind::First => "First",
            AggKind::List => "List",
        }
    }

    /// Whether the kind aggregates a field that must be given (Ash: first, sum, list,
    /// max, min, avg).
    pub fn needs_field(self) -> bool {
        !matches!(self, AggKind::Count | AggKind::Exists)
    }

    /// Whether `uniq` applies (Ash: count and list only).
    pub fn takes_uniq(self) -> bool {
        matches!(self, AggKind::Count | AggKind::List)
    }

    /// Whether `sort` applies (Ash keeps it for first and list only).
    pub fn takes_sort(self) -> bool {
        matches!(self, AggKind::First | AggKind::List)
    }
}

/// `count(comment_count, comments, filter = ..)` and the like.
pub struct AggregateDef {
    pub kind: AggKind,
    /// The kind's keyword, for spans.
    pub kind_ident: Ident,
    pub name: Ident,
    pub name_str: String,
    /// Its typed handle, `Post::COMMENT_COUNT`.
    pub konst: Ident,
    /// The relationship path (one name, or `[a, b]`).
    pub path: Vec<Ident>,
    pub field: Option<Ident>,
    pub filter: Option<Expr>,
    pub sort: Option<Expr>,
    pub default: Option<Expr>,
    /// `uniq = true|false`, with the span of `uniq`.
    pub uniq: Option<(bool, Span)>,
}
