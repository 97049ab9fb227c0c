//! How PostgreSQL failures become `ash-rs` errors, and the schema check's typed error.

use ash_core::error::{Error, ErrorKind, FrameworkError};
use std::fmt;
use tokio_postgres::error::SqlState;

/// What a failed statement means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// SQLSTATE 23505.
    UniqueViolation,
    /// SQLSTATE 23503.
    ForeignKeyViolation,
    /// SQLSTATE 22003.
    NumericOutOfRange,
    /// The connection or the server went away (closed socket, class 08, 57P01..57P03).
    ConnectionLost,
    /// A cached prepared statement the server no longer accepts (after DDL: SQLSTATE
    /// 0A000 "cached plan must not change result type", or 26000).
    StaleStatement,
    /// Anything else (including a statement timeout, SQLSTATE 57014).
    Other,
}

pub(crate) fn classify(error: &tokio_postgres::Error) -> Failure {
    if error.is_closed() {
        return Failure::ConnectionLost;
    }
    match error.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => Failure::UniqueViolation,
        Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => Failure::ForeignKeyViolation,
        Some(code) if *code == SqlState::NUMERIC_VALUE_OUT_OF_RANGE => Failure::NumericOutOfRange,
        Some(code) if code.code().starts_with("08") || code.code().starts_with("57P") => {
            Failure::ConnectionLost
        }
        Some(code)
            if *code == SqlState::INVALID_SQL_STATEMENT_NAME
                || (*code == SqlState::FEATURE_NOT_SUPPORTED
                    && error
                        .as_db_error()
                        .is_some_and(|db| db.message().contains("cached plan"))) =>
        {
            Failure::StaleStatement
        }
        Some(_) => Failure::Other,
        None => {
            // No server error: an I/O failure means the connection is gone; a parameter
            // that could not be encoded does not.
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                if cause.is::<std::io::Error>() {
                    return Failure::ConnectionLost;
                }
                source = cause.source();
            }
            Failure::Other
        }
    }
}

/// A `Framework` error describing a failed statement.
pub(crate) fn framework_error(context: &str, error: &tokio_postgres::Error) -> ErrorKind {
    let detail = match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = error.to_string();
            if let Some(source) = std::error::Error::source(error) {
                text = format!("{text}: {source}");
            }
            text
        }
    };
    let hint = match classify(error) {
        Failure::ConnectionLost => "; the connection was lost and is dropped from the pool",
        _ if error.code() == Some(&SqlState::QUERY_CANCELED) => {
            "; the statement was cancelled (statement_timeout?) and wrote nothing"
        }
        _ => "",
    };
    ErrorKind::Framework(FrameworkError {
        message: format!("PostgreSQL: {context}: {detail}{hint}"),
    })
}

/// A table that does not fit its resource, found when a domain connects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// The table does not exist; `create_table_sql` is the statement that creates it.
    MissingTable {
        /// The qualified table name.
        table: String,
        /// `CREATE TABLE IF NOT EXISTS ...` for it.
        create_table_sql: String,
    },
    /// The table exists with columns the resource cannot use.
    Mismatch {
        /// The qualified table name.
        table: String,
        /// Every difference found.
        problems: Vec<ColumnProblem>,
    },
    /// The resource's data-layer options are wrong (an unknown option, say).
    InvalidOptions {
        /// The resource.
        resource: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// One difference between a table and its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnProblem {
    /// An attribute has no column.
    Missing {
        /// The attribute's column.
        column: String,
        /// The type it needs.
        expected_type: String,
    },
    /// A column has another type than its attribute needs.
    WrongType {
        /// The column.
        column: String,
        /// The type the attribute needs (as `information_schema` names it).
        expected: String,
        /// The column's type.
        found: String,
    },
    /// A column's nullability differs from its attribute's (`Option<_>` or not).
    Nullability {
        /// The column.
        column: String,
        /// Whether the attribute allows nil.
        attribute_allows_nil: bool,
    },
    /// A `NOT NULL` column without a default that no attribute writes: every insert
    /// would fail.
    UnwrittenRequired {
        /// The column.
        column: String,
    },
    /// An identity has no unique index, so the table would not keep it unique.
    MissingUniqueIndex {
        /// The identity.
        identity: &'static str,
        /// The index it needs.
        index: String,
        /// `CREATE UNIQUE INDEX IF NOT EXISTS ...` for it.
        create_index_sql: String,
    },
}

impl fmt::Display for ColumnProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnProblem::Missing {
                column,
                expected_type,
            } => write!(f, "column \"{column}\" ({expected_type}) is missing"),
            ColumnProblem::WrongType {
                column,
                expected,
                found,
            } => write!(f, "column \"{column}\" is {found}, expected {expected}"),
            ColumnProblem::Nullability {
                column,
                attribute_allows_nil: true,
            } => write!(
                f,
                "column \"{column}\" is NOT NULL but its attribute is an Option"
            ),
            ColumnProblem::Nullability { column, .. } => write!(
                f,
                "column \"{column}\" allows NULL but its attribute is not an Option"
            ),
            ColumnProblem::UnwrittenRequired { column } => write!(
                f,
                "column \"{column}\" is NOT NULL without a default and no attribute writes it"
            ),
            ColumnProblem::MissingUniqueIndex {
                identity,
                index,
                create_index_sql,
            } => write!(
                f,
                "unique index \"{index}\" of identity `{identity}` is missing; create it with: {create_index_sql}"
            ),
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::MissingTable {
                table,
                create_table_sql,
            } => write!(
                f,
                "table {table} does not exist; create it with:\n{create_table_sql}\n(or build the pool with `create_missing_tables(true)`)"
            ),
            SchemaError::Mismatch { table, problems } => {
                write!(f, "table {table} does not match its resource:")?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            SchemaError::InvalidOptions { resource, message } => {
                write!(f, "data_layer options of {resource}: {message}")
            }
        }
    }
}

impl std::error::Error for SchemaError {}

impl From<SchemaError> for ErrorKind {
    fn from(e: SchemaError) -> Self {
        ErrorKind::Framework(FrameworkError {
            message: e.to_string(),
        })
    }
}

impl From<SchemaError> for Error {
    fn from(e: SchemaError) -> Self {
        Error::from(ErrorKind::from(e))
    }
}
