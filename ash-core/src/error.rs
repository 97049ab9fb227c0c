//! Errors, in Ash's classes.
//!
//! Every action returns `Result<T, Error>`. [`Error`] is one of Ash's four classes, each
//! holding *every* error the action produced; the class is the highest one present
//! (Forbidden > Invalid > Framework > Unknown). The errors inside are [`ErrorKind`]s.
//!
//! Matching the seed's `{:error, %Ash.Error.Invalid{errors: [%StaleRecord{}]}}` is one arm:
//!
//! ```
//! use ash_core::error::{Error, ErrorKind, StaleRecord};
//! # fn handle(result: Result<(), Error>) {
//! match result {
//!     Err(Error::Invalid { errors }) if matches!(errors[..], [ErrorKind::StaleRecord(_)]) => {
//!         // refetch and retry
//!     }
//!     Err(other) => eprintln!("{other}"),
//!     Ok(()) => {}
//! }
//! # }
//! ```
//!
//! or, shorter, `err.is_stale()`.

use crate::filter::DynFilter;
use crate::value::Value;
use serde::Serialize;
use std::fmt;

/// Ash's error classes, in priority order (the first is the highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The actor may not do this.
    Forbidden,
    /// The input or the stored state makes the action invalid.
    Invalid,
    /// A misuse of the framework or a data-layer failure.
    Framework,
    /// Anything else.
    Unknown,
}

/// The error an action returns: one of Ash's classes, holding every error of the action.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Error {
    /// At least one error is of class forbidden.
    #[error("Forbidden Error{}", Bullets(errors))]
    Forbidden {
        /// All errors of the action.
        errors: Vec<ErrorKind>,
    },
    /// The highest class present is invalid.
    #[error("Invalid Error{}", Bullets(errors))]
    Invalid {
        /// All errors of the action.
        errors: Vec<ErrorKind>,
    },
    /// The highest class present is framework.
    #[error("Framework Error{}", Bullets(errors))]
    Framework {
        /// All errors of the action.
        errors: Vec<ErrorKind>,
    },
    /// Only unknown errors are present.
    #[error("Unknown Error{}", Bullets(errors))]
    Unknown {
        /// All errors of the action.
        errors: Vec<ErrorKind>,
    },
}

struct Bullets<'a>(&'a [ErrorKind]);

impl fmt::Display for Bullets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.0 {
            write!(f, "\n\n* {e}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Groups errors into the class of the highest-priority error present.
    ///
    /// An empty list gives an `Unknown` error saying so, rather than a panic.
    pub fn from_errors(mut errors: Vec<ErrorKind>) -> Error {
        if errors.is_empty() {
            errors.push(ErrorKind::Unknown(UnknownError {
                message: "an action failed without reporting an error".into(),
            }));
        }
        errors.dedup();
        // Ash drops a `Required` error when another error concerns the same field.
        let fields_with_other_errors: Vec<String> = errors
            .iter()
            .filter(|e| !matches!(e, ErrorKind::Required(_)))
            .filter_map(|e| e.field().map(str::to_owned))
            .collect();
        errors.retain(|e| match e {
            ErrorKind::Required(r) => !fields_with_other_errors.contains(&r.field),
            _ => true,
        });
        let class = errors
            .iter()
            .map(ErrorKind::class)
            .min()
            .unwrap_or(ErrorClass::Unknown);
        match class {
            ErrorClass::Forbidden => Error::Forbidden { errors },
            ErrorClass::Invalid => Error::Invalid { errors },
            ErrorClass::Framework => Error::Framework { errors },
            ErrorClass::Unknown => Error::Unknown { errors },
        }
    }

    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Forbidden { .. } => ErrorClass::Forbidden,
            Error::Invalid { .. } => ErrorClass::Invalid,
            Error::Framework { .. } => ErrorClass::Framework,
            Error::Unknown { .. } => ErrorClass::Unknown,
        }
    }

    /// Every error inside, in the order they were produced.
    pub fn errors(&self) -> &[ErrorKind] {
        match self {
            Error::Forbidden { errors }
            | Error::Invalid { errors }
            | Error::Framework { errors }
            | Error::Unknown { errors } => errors,
        }
    }

    /// Consumes the error, returning the errors inside.
    pub fn into_errors(self) -> Vec<ErrorKind> {
        match self {
            Error::Forbidden { errors }
            | Error::Invalid { errors }
            | Error::Framework { errors }
            | Error::Unknown { errors } => errors,
        }
    }

    /// The [`StaleRecord`] inside, if the action failed on an optimistic lock.
    pub fn stale_record(&self) -> Option<&StaleRecord> {
        self.errors().iter().find_map(|e| match e.innermost() {
            ErrorKind::StaleRecord(s) => Some(s),
            _ => None,
        })
    }

    /// Whether the action failed because the record was stale (the seed's retry case).
    pub fn is_stale(&self) -> bool {
        self.stale_record().is_some()
    }

    /// The record as stored when the write was refused as stale, so that a retry can start
    /// from it without a read of its own (see [`StaleRecord::stored`] for when there is
    /// none).
    ///
    /// ```
    /// # use ash_core::error::Error;
    /// # #[derive(Clone)] struct Address;
    /// /// The record to retry from, when the refusal brought it.
    /// fn retry_from(err: &Error) -> Option<Address> {
    ///     err.stored_record::<Address>().cloned()
    /// }
    /// ```
    pub fn stored_record<R: 'static>(&self) -> Option<&R> {
        self.stale_record()?.stored()
    }

    /// The [`IdentityTaken`] inside, if the action failed on a unique key (an identity).
    pub fn identity_taken(&self) -> Option<&IdentityTaken> {
        self.errors().iter().find_map(|e| match e.innermost() {
            ErrorKind::IdentityTaken(t) => Some(t),
            _ => None,
        })
    }

    /// The policy breakdown inside, if the action was forbidden by the resource's policies.
    pub fn forbidden(&self) -> Option<&crate::policy::Forbidden> {
        self.errors().iter().find_map(|e| match e {
            ErrorKind::Forbidden(f) => Some(f),
            _ => None,
        })
    }

    /// Whether the resource's policies refused the action.
    pub fn is_forbidden(&self) -> bool {
        self.forbidden().is_some()
    }

    /// Whether the action failed because a record was not found.
    pub fn is_not_found(&self) -> bool {
        self.errors()
            .iter()
            .any(|e| matches!(e.innermost(), ErrorKind::NotFound(_)))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::from_errors(vec![kind])
    }
}

/// One error inside an [`Error`] class. Each has a class, a readable `Display`, and a field
/// where it concerns one.
///
/// As JSON, an error is an object whose `code` names its kind ([`ErrorKind::code`]: the
/// variant in snake case, `"stale_record"`), next to the kind's own fields:
/// `{"code":"required","field":"state","type":"attribute","resource":"Address"}`.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The record changed (or vanished) since it was read.
    #[error(transparent)]
    StaleRecord(StaleRecord),
    /// A get found no record.
    #[error(transparent)]
    NotFound(NotFound),
    /// A get found more than one record.
    #[error(transparent)]
    MultipleResults(MultipleResults),
    /// A required attribute or argument was not given.
    #[error(transparent)]
    Required(Required),
    /// An attribute was given an invalid value.
    #[error(transparent)]
    InvalidAttribute(InvalidAttribute),
    /// An argument was given an invalid value.
    #[error(transparent)]
    InvalidArgument(InvalidArgument),
    /// An input the action does not take.
    #[error(transparent)]
    NoSuchInput(NoSuchInput),
    /// A create whose primary key is already stored.
    #[error(transparent)]
    AlreadyExists(AlreadyExists),
    /// A write that would give a second record the value of an identity (a unique key):
    /// Ash's `InvalidAttribute` "has already been taken" on the identity's first field.
    #[error(transparent)]
    IdentityTaken(IdentityTaken),
    /// An integer attribute would overflow.
    #[error(transparent)]
    Overflow(Overflow),
    /// A framework error: the data layer cannot do what was asked.
    #[error(transparent)]
    Framework(FrameworkError),
    /// The data layer had no capacity for the call in time (every pooled connection stayed
    /// busy); nothing was done, and the same call may succeed later. Class framework; an
    /// HTTP service answers 503 with `Retry-After`.
    #[error(transparent)]
    Unavailable(Unavailable),
    /// An error that fits no other kind (for example from a user change).
    #[error(transparent)]
    Unknown(UnknownError),
    /// The resource's policies refused the actor (class forbidden); see
    /// [`crate::policy`].
    #[error(transparent)]
    Forbidden(crate::policy::Forbidden),
    /// A write that would set a belongs_to foreign key to a value no destination record
    /// holds; nothing is written.
    #[error(transparent)]
    ReferenceNotFound(ReferenceNotFound),
    /// A destroy of a record that other records still refer to through a belongs_to with
    /// `on_delete = restrict` (the default); nothing is destroyed.
    #[error(transparent)]
    StillReferenced(StillReferenced),
    /// An error of a related record written by the action (`manage_relationship`), at
    /// its path in the action's input: `lines[2]`.
    #[error(transparent)]
    Nested(Nested),
}

impl ErrorKind {
    /// The class this error belongs to.
    pub fn class(&self) -> ErrorClass {
        match self {
            ErrorKind::Framework(_) | ErrorKind::Unavailable(_) => ErrorClass::Framework,
            ErrorKind::Unknown(_) => ErrorClass::Unknown,
            ErrorKind::Forbidden(_) => ErrorClass::Forbidden,
            ErrorKind::Nested(n) => n.error.class(),
            _ => ErrorClass::Invalid,
        }
    }

    /// The field this error concerns, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ErrorKind::Required(e) => Some(&e.field),
            ErrorKind::InvalidAttribute(e) => Some(&e.field),
            ErrorKind::InvalidArgument(e) => Some(&e.field),
            ErrorKind::NoSuchInput(e) => Some(&e.input),
            ErrorKind::Overflow(e) => Some(&e.field),
            ErrorKind::IdentityTaken(e) => Some(e.field),
            ErrorKind::ReferenceNotFound(e) => Some(e.field),
            _ => None,
        }
    }

    /// The kind's name in snake case, as its JSON gives it in `code` (`"stale_record"`).
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::StaleRecord(_) => "stale_record",
            ErrorKind::NotFound(_) => "not_found",
            ErrorKind::MultipleResults(_) => "multiple_results",
            ErrorKind::Required(_) => "required",
            ErrorKind::InvalidAttribute(_) => "invalid_attribute",
            ErrorKind::InvalidArgument(_) => "invalid_argument",
            ErrorKind::NoSuchInput(_) => "no_such_input",
            ErrorKind::AlreadyExists(_) => "already_exists",
            ErrorKind::IdentityTaken(_) => "identity_taken",
            ErrorKind::Overflow(_) => "overflow",
            ErrorKind::Framework(_) => "framework",
            ErrorKind::Unavailable(_) => "unavailable",
            ErrorKind::Unknown(_) => "unknown",
            ErrorKind::Forbidden(_) => "forbidden",
            ErrorKind::ReferenceNotFound(_) => "reference_not_found",
            ErrorKind::StillReferenced(_) => "still_referenced",
            ErrorKind::Nested(_) => "nested",
        }
    }

    /// The error itself, or for a [`Nested`] error the error inside (at any depth).
    pub fn innermost(&self) -> &ErrorKind {
        match self {
            ErrorKind::Nested(n) => n.error.innermost(),
            other => other,
        }
    }

    /// Where in the action's input the error is: empty for the action's own record,
    /// `[lines, 2]` for the third record of the managed relationship `lines`.
    pub fn path(&self) -> &[PathSegment] {
        match self {
            ErrorKind::Nested(n) => &n.path,
            _ => &[],
        }
    }

    /// This error at `path` (prepended to any path it already has).
    pub fn at_path(self, mut path: Vec<PathSegment>) -> ErrorKind {
        match self {
            ErrorKind::Nested(Nested { path: inner, error }) => {
                path.extend(inner);
                ErrorKind::Nested(Nested { path, error })
            }
            other => ErrorKind::Nested(Nested {
                path,
                error: Box::new(other),
            }),
        }
    }

    /// A free-form unknown error, for user code that has nothing more precise.
    pub fn unknown(message: impl Into<String>) -> ErrorKind {
        ErrorKind::Unknown(UnknownError {
            message: message.into(),
        })
    }
}

/// `Ash.Error.Changes.StaleRecord`: the record changed or vanished since it was read, so
/// the write was refused and nothing was written.
///
/// When the data layer saw the stored record while refusing the write (it exists, and
/// changed), the error also carries it: [`stored`](Self::stored) (or
/// [`Error::stored_record`]) gives it, so a retry needs no read of its own. ETS copies it
/// under the write's entry guard; PostgreSQL reads it anyway to tell a stale lock from a
/// vanished row. Neither `Display`, JSON nor equality shows it, and a resource with
/// policies never carries it: what an actor may read is its read action's business.
///
/// ```
/// use ash_core::error::StaleRecord;
/// use ash_core::filter::{CmpOp, DynFilter};
/// use ash_core::value::Value;
///
/// let version_1 = DynFilter::Cmp { field: "version", op: CmpOp::Eq, value: Value::Int(1) };
/// let stale = StaleRecord::new("Address", version_1, "update");
/// assert_eq!(
///     stale.to_string(),
///     "Attempted to update stale record of Address with filter: version == 1"
/// );
/// assert!(stale.stored::<()>().is_none());
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct StaleRecord {
    /// The resource's name, e.g. `"Address"`.
    pub resource: &'static str,
    /// What the stored record failed to match: the lock's `version == 1`, or the primary
    /// key when the record no longer exists.
    pub filter: DynFilter,
    /// `"update"`, `"destroy"` or `"upsert"`.
    pub operation: &'static str,
    /// The stored record the write was refused on, when the data layer saw it.
    #[serde(skip)]
    stored: Option<StoredRecord>,
}

impl StaleRecord {
    /// A refusal of `operation` on `resource`, for not matching `filter`, with no stored
    /// record (a data layer attaches one with [`with_stored`](Self::with_stored)).
    pub fn new(resource: &'static str, filter: DynFilter, operation: &'static str) -> Self {
        StaleRecord {
            resource,
            filter,
            operation,
            stored: None,
        }
    }

    /// This refusal, carrying `record`: the record as stored when the write was refused.
    /// A resource with policies attaches nothing (the actor may not be allowed to read it).
    #[must_use]
    pub fn with_stored<R: crate::resource::Resource>(mut self, record: R) -> Self {
        if R::POLICIES.is_empty() {
            self.stored = Some(StoredRecord(std::sync::Arc::new(record)));
        }
        self
    }

    /// The record as stored when the write was refused: `None` when the record no longer
    /// exists, when the data layer did not see it, when the resource has policies, or when
    /// `R` is not the refused record's type.
    pub fn stored<R: 'static>(&self) -> Option<&R> {
        self.stored.as_ref()?.0.downcast_ref()
    }

    /// Whether a stored record is attached.
    pub fn has_stored(&self) -> bool {
        self.stored.is_some()
    }
}

/// Equal when the resource, filter and operation are: the stored record is a convenience
/// for a retry, not part of what the error says.
impl PartialEq for StaleRecord {
    fn eq(&self, other: &Self) -> bool {
        self.resource == other.resource
            && self.filter == other.filter
            && self.operation == other.operation
    }
}

/// A refused write's stored record, type-erased so that errors stay one type.
#[derive(Clone)]
struct StoredRecord(std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The record may hold what a log should not: its type is enough to debug with.
        f.write_str("StoredRecord(..)")
    }
}

impl fmt::Display for StaleRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attempted to {} stale record of {} with filter: {}",
            self.operation, self.resource, self.filter
        )
    }
}

impl std::error::Error for StaleRecord {}

/// `Ash.Error.Query.NotFound`: a get found no record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotFound {
    /// The resource's name.
    pub resource: &'static str,
    /// The keys that were looked up, if any.
    pub filter: Option<DynFilter>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            Some(filter) => write!(f, "record of {} with {filter} not found", self.resource),
            None => write!(f, "record of {} not found", self.resource),
        }
    }
}

impl std::error::Error for NotFound {}

/// `Ash.Error.Invalid.MultipleResults`: a get expected at most one record.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("expected at most one result of {resource} but got {count}")]
pub struct MultipleResults {
    /// The resource's name.
    pub resource: &'static str,
    /// How many records matched.
    pub count: usize,
}

/// Whether a [`Required`] input is an attribute or an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    /// A resource attribute.
    Attribute,
    /// An action argument.
    Argument,
}

impl fmt::Display for InputType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputType::Attribute => "attribute",
            InputType::Argument => "argument",
        })
    }
}

/// `Ash.Error.Changes.Required`: a non-nilable input was not given.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{kind} {field} is required", kind = .r#type)]
pub struct Required {
    /// The field's name.
    pub field: String,
    /// Attribute or argument.
    pub r#type: InputType,
    /// The resource's name.
    pub resource: &'static str,
}

/// `Ash.Error.Changes.InvalidAttribute`: an attribute got a value it cannot take.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {message}{}", value.as_ref().map(|v| format!(" (value: {v})")).unwrap_or_default())]
pub struct InvalidAttribute {
    /// The attribute's name.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The offending value, when it can be shown.
    pub value: Option<Value>,
}

/// `Ash.Error.Changes.InvalidArgument`: an argument got a value it cannot take.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("Invalid value provided for {field}: {message}.")]
pub struct InvalidArgument {
    /// The argument's name.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The offending value, when it can be shown.
    pub value: Option<Value>,
}

/// `Ash.Error.Invalid.NoSuchInput`: an input the action does not take.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("No such input `{input}` for action {resource}.{action}; valid inputs: {}", inputs.join(", "))]
pub struct NoSuchInput {
    /// The resource's name.
    pub resource: &'static str,
    /// The action's name.
    pub action: String,
    /// The unknown input.
    pub input: String,
    /// The inputs the action does take.
    pub inputs: Vec<String>,
}

/// A create whose primary key is already stored. Ash's ETS layer overwrites silently;
/// here it is an error and nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{resource} with {filter} already exists")]
pub struct AlreadyExists {
    /// The resource's name.
    pub resource: &'static str,
    /// The primary key that is taken.
    pub filter: DynFilter,
}

/// A write that would give a second record the value of an identity: Ash's
/// `InvalidAttribute` with "has already been taken" on the identity's first field, here
/// also naming the identity and all its fields. Every data layer reports it the same way
/// (ETS from its unique index, PostgreSQL from the unique index's violation); nothing is
/// written.
///
/// ```
/// # use ash_core::error::{Error, ErrorKind};
/// # fn handle(result: Result<(), Error>) {
/// match result {
///     Err(e) if e.identity_taken().is_some_and(|t| t.identity == "unique_email") => {
///         // tell the user the email is in use
///     }
///     _ => {}
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct IdentityTaken {
    /// The resource's name.
    pub resource: &'static str,
    /// The identity's name, `unique_email`.
    pub identity: &'static str,
    /// The identity's first attribute: the field the error is on (as in Ash).
    pub field: &'static str,
    /// All of the identity's attributes.
    pub fields: &'static [&'static str],
    /// The identity's `message`, by default "has already been taken".
    pub message: &'static str,
}

/// A create, update or upsert that would set a belongs_to foreign key (`post.author_id`) to
/// a value that no destination record holds: Ash's `InvalidAttribute` on the foreign key
/// (ash_postgres reports the `{table}_{attribute}_fkey` violation). Every data layer
/// reports it the same way (ETS checks the destination's table, PostgreSQL maps the
/// foreign-key violation by constraint name); nothing is written. A nil foreign key
/// (`allow_nil`) refers to nothing and is never refused.
///
/// ```
/// # use ash_core::error::{Error, ErrorKind};
/// # fn handle(result: Result<(), Error>) {
/// match result {
///     Err(e) if e.errors().iter().any(|k| matches!(k, ErrorKind::ReferenceNotFound(r) if r.field == "author_id")) => {
///         // tell the user the author does not exist
///     }
///     _ => {}
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: no {destination} with this {destination_attribute} exists (relationship `{relationship}` of {resource})")]
pub struct ReferenceNotFound {
    /// The resource written, `Post`.
    pub resource: &'static str,
    /// Its belongs_to relationship, `author`.
    pub relationship: &'static str,
    /// The foreign key: the field the error is on, `author_id`.
    pub field: &'static str,
    /// The destination resource, `User`.
    pub destination: &'static str,
    /// The destination's attribute the key must match, `id`.
    pub destination_attribute: &'static str,
}

/// A destroy of a record that records of another (or the same) resource still refer to
/// through a belongs_to whose `on_delete` is `restrict` (the default, as PostgreSQL's
/// `NO ACTION`/`RESTRICT`): Ash reports the `{table}_{attribute}_fkey` violation as an
/// `InvalidAttribute` "would leave records behind". Nothing is destroyed, also when the
/// refusal comes from a record a cascade would have destroyed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("cannot destroy this {resource}: {referencing} records refer to it through `{relationship}` ({field}); destroy or move them first, or declare `on_delete = cascade` or `nilify` on the relationship")]
pub struct StillReferenced {
    /// The resource of the record that could not be destroyed (the destination of the
    /// relationship), `Post`; in a cascade, the record the refusal is about.
    pub resource: &'static str,
    /// The resource whose records still refer to it, `Comment`.
    pub referencing: String,
    /// The referring resource's belongs_to relationship, `post`.
    pub relationship: String,
    /// That relationship's foreign key on the referring resource, `post_id`.
    pub field: String,
}

/// An integer attribute would overflow; checked, never wrapped.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: adding {by} to {value} overflows")]
pub struct Overflow {
    /// The attribute's name.
    pub field: String,
    /// Its current value.
    pub value: Value,
    /// The amount that was to be added.
    pub by: i64,
}

/// One step of a [`Nested`] error's path: a relationship's argument, or a position in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An input's name (`lines`).
    Name(&'static str),
    /// A position in a list input (`2`).
    Index(usize),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Name(name) => f.write_str(name),
            PathSegment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// An error of a related record that the action wrote (`manage_relationship`): the
/// record's error, at its path in the action's input (Ash's `path` on an error). A stale
/// third line of an order gives `lines[2]: Attempted to update stale record of
/// OrderLine ...`; [`Error::stale_record`] and the other accessors look inside.
///
/// As JSON: `{"code":"nested","path":["lines",2],"error":{"code":"stale_record",..}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nested {
    /// The path: the argument's name, then the position in it for a list.
    pub path: Vec<PathSegment>,
    /// The related record's error.
    pub error: Box<ErrorKind>,
}

impl Nested {
    /// The path as written in messages: `lines[2]`, `lines[2].tags[0]`.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            if let PathSegment::Name(_) = segment {
                if !out.is_empty() {
                    out.push('.');
                }
            }
            out.push_str(&segment.to_string());
        }
        out
    }
}

impl fmt::Display for Nested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path_string(), self.error)
    }
}

impl std::error::Error for Nested {}

/// A framework error: misuse of the framework or a failing data layer.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct FrameworkError {
    /// What went wrong.
    pub message: String,
}

/// No capacity for the call in time: every connection of the data layer's pool stayed in
/// use for the pool's whole wait ([`ErrorKind::Unavailable`]). Nothing was done.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Unavailable {
    /// What was waited for, and how long.
    pub message: String,
}

/// `Ash.Error.Unknown.UnknownError`.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct UnknownError {
    /// What went wrong.
    pub message: String,
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use crate::filter::CmpOp;
    use serde::de::{Deserializer, MapAccess, Visitor};

    fn every_kind() -> Vec<ErrorKind> {
        let filter = DynFilter::Cmp {
            field: "version",
            op: CmpOp::Eq,
            value: Value::Int(1),
        };
        vec![
            ErrorKind::StaleRecord(StaleRecord::new("Address", filter.clone(), "update")),
            ErrorKind::NotFound(NotFound {
                resource: "Address",
                filter: Some(filter.clone()),
            }),
            ErrorKind::MultipleResults(MultipleResults {
                resource: "Address",
                count: 2,
            }),
            ErrorKind::Required(Required {
                field: "state".into(),
                r#type: InputType::Attribute,
                resource: "Address",
            }),
            ErrorKind::InvalidAttribute(InvalidAttribute {
                field: "state".into(),
                message: "must be present".into(),
                value: Some(Value::String("x".into())),
            }),
            ErrorKind::InvalidArgument(InvalidArgument {
                field: "reason".into(),
                message: "is too long".into(),
                value: None,
            }),
            ErrorKind::NoSuchInput(NoSuchInput {
                resource: "Address",
                action: "update".into(),
                input: "colour".into(),
                inputs: vec!["state".into(), "county".into()],
            }),
            ErrorKind::AlreadyExists(AlreadyExists {
                resource: "Address",
                filter,
            }),
            ErrorKind::IdentityTaken(IdentityTaken {
                resource: "User",
                identity: "unique_email",
                field: "email",
                fields: &["email"],
                message: "has already been taken",
            }),
            ErrorKind::Overflow(Overflow {
                field: "version".into(),
                value: Value::Int(i64::MAX),
                by: 1,
            }),
            ErrorKind::Framework(FrameworkError {
                message: "connection lost".into(),
            }),
            ErrorKind::Unavailable(Unavailable {
                message: "no connection within 5s".into(),
            }),
            ErrorKind::unknown("boom"),
            ErrorKind::Forbidden(crate::policy::Forbidden {
                resource: "Post",
                action: "update",
                policy: Some("policy(action_type(update))"),
                check: Some("authorize_if(actor_present())"),
                policies: vec![crate::policy::PolicyOutcome {
                    policy: "policy(action_type(update))",
                    bypass: false,
                    applies: Some(true),
                    result: crate::policy::PolicyResult::NoCheckDecided,
                    decided_by: None,
                }],
            }),
            ErrorKind::ReferenceNotFound(ReferenceNotFound {
                resource: "Post",
                relationship: "author",
                field: "author_id",
                destination: "User",
                destination_attribute: "id",
            }),
            ErrorKind::StillReferenced(StillReferenced {
                resource: "Post",
                referencing: "Comment".into(),
                relationship: "post".into(),
                field: "post_id".into(),
            }),
            ErrorKind::unknown("inner")
                .at_path(vec![PathSegment::Name("lines"), PathSegment::Index(2)]),
        ]
    }

    /// The keys of a JSON object, in order, duplicates kept (a `serde_json::Value` would
    /// keep only the last of two equal keys).
    fn keys(json: &str) -> Vec<String> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(keys)
            }
        }
        let mut de = serde_json::Deserializer::from_str(json);
        de.deserialize_map(Keys).expect("a JSON object")
    }

    #[test]
    fn every_kind_serializes_with_unique_keys_and_its_code() {
        let kinds = every_kind();
        // One of each variant (the match in `code` is exhaustive; this list must be too).
        let mut codes: Vec<&str> = kinds.iter().map(ErrorKind::code).collect();
        codes.dedup();
        assert_eq!(codes.len(), 17);
        for kind in kinds {
            let json = serde_json::to_string(&kind).unwrap();
            let keys = keys(&json);
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), keys.len(), "duplicate keys in {json}");
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["code"], kind.code(), "{json}");
            if let Some(field) = kind.field() {
                let named = parsed.get("field").or_else(|| parsed.get("input"));
                assert_eq!(named.and_then(|v| v.as_str()), Some(field), "{json}");
            }
        }
    }

    #[test]
    fn identity_taken_names_the_identity_and_its_fields() {
        let kind = every_kind()
            .into_iter()
            .find(|k| k.code() == "identity_taken")
            .unwrap();
        assert_eq!(kind.to_string(), "email: has already been taken");
        assert_eq!(kind.class(), ErrorClass::Invalid);
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "identity_taken", "resource": "User", "identity": "unique_email",
                "field": "email", "fields": ["email"], "message": "has already been taken",
            })
        );
    }

    #[test]
    fn reference_errors_are_invalid_name_their_field_and_serialize() {
        let kinds = every_kind();
        let missing = kinds
            .iter()
            .find(|k| k.code() == "reference_not_found")
            .unwrap();
        assert_eq!(missing.class(), ErrorClass::Invalid);
        assert_eq!(missing.field(), Some("author_id"));
        assert_eq!(
            missing.to_string(),
            "author_id: no User with this id exists (relationship `author` of Post)"
        );
        assert_eq!(
            serde_json::to_value(missing).unwrap(),
            serde_json::json!({
                "code": "reference_not_found", "resource": "Post", "relationship": "author",
                "field": "author_id", "destination": "User", "destination_attribute": "id",
            })
        );
        let still = kinds
            .iter()
            .find(|k| k.code() == "still_referenced")
            .unwrap();
        assert_eq!(still.class(), ErrorClass::Invalid);
        assert!(still.to_string().starts_with(
            "cannot destroy this Post: Comment records refer to it through `post` (post_id)"
        ));
        assert_eq!(
            serde_json::to_value(still).unwrap(),
            serde_json::json!({
                "code": "still_referenced", "resource": "Post", "referencing": "Comment",
                "relationship": "post", "field": "post_id",
            })
        );
    }

    #[test]
    fn required_keeps_its_input_type_and_its_code() {
        let kind = &every_kind()[3];
        let json = serde_json::to_value(kind).unwrap();
        assert_eq!(json["code"], "required");
        assert_eq!(json["type"], "attribute");
    }

    #[test]
    fn an_error_class_serializes_with_its_class_and_every_kind() {
        let error = Error::from_errors(every_kind());
        let json = serde_json::to_string(&error).unwrap();
        let keys = keys(&json);
        assert_eq!(keys, vec!["class", "errors"], "{json}");
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        // The forbidden kind (policies) is the highest class present.
        assert_eq!(parsed["class"], "forbidden");
        let codes: Vec<&str> = parsed["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            error
                .errors()
                .iter()
                .map(ErrorKind::code)
                .collect::<Vec<_>>()
        );
    }
}
