//! Attribute types: what a field of a resource may hold.

use crate::value::Value;
use std::cmp::Ordering;
use std::time::SystemTime;
use uuid::Uuid;

/// A type that can be stored in a resource attribute.
///
/// Implemented for the integers, floats, `bool`, `String`, [`Uuid`], [`SystemTime`], and
/// `Option<T>` / `Vec<T>` of those. Implement it for your own types to use them as
/// attributes: [`to_value`](AttributeValue::to_value) is how the value shows in errors and
/// SQL parameters, [`compare`](AttributeValue::compare) is how filters and sorts see it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a resource attribute type",
    label = "not an attribute type",
    note = "implement `ash_rs::AttributeValue` for `{Self}`, or use one of the built-in types (integers, floats, bool, String, Uuid, SystemTime, Option<T>, Vec<T>)"
)]
pub trait AttributeValue: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    /// What kind of value this is, for data layers that store values by type (SQL).
    const KIND: ValueKind;
    /// The value as a dynamic [`Value`].
    fn to_value(&self) -> Value;
    /// The value back from a dynamic [`Value`] (as a data layer read it), or a message
    /// saying why it does not fit.
    fn from_value(value: Value) -> Result<Self, String>;
    /// Whether `self` contains `other` (substring for strings, every element for lists);
    /// `false` for other types.
    fn contains_value(&self, other: &Self) -> bool {
        let _ = other;
        false
    }
    /// Orders two values; `None` when they are not comparable (nil, NaN).
    fn compare(&self, other: &Self) -> Option<Ordering>;
    /// Whether the value is nil (`None`).
    fn is_nil(&self) -> bool {
        false
    }
    /// Whether two values are equal for a filter's `==`: nil equals nothing, as in Ash.
    /// Cheaper than [`compare`](AttributeValue::compare) for strings.
    fn equals(&self, other: &Self) -> bool {
        self == other && !self.is_nil()
    }
}

/// An integer attribute that `optimistic_lock` and `increment` can add to, with overflow
/// checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be counted: `optimistic_lock` and `increment` need an integer attribute",
    label = "must be a non-nilable integer attribute",
    note = "declare the attribute as `i64` (or another integer type), e.g. `#[attribute(default = 1)] pub version: i64`"
)]
pub trait Counter: AttributeValue + Copy {
    /// `self + by`, or `None` on overflow.
    fn checked_add_i64(self, by: i64) -> Option<Self>;
}

/// The kinds of attribute values, as data layers that store by type see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `bool`
    Bool,
    /// 8- to 32-bit signed integers
    Int32,
    /// 64-bit signed integers (and smaller unsigned ones that fit)
    Int64,
    /// unsigned integers up to 64 bits
    UInt64,
    /// `f32`
    Float32,
    /// `f64`
    Float64,
    /// `String`
    String,
    /// `Uuid`
    Uuid,
    /// `SystemTime`
    Timestamp,
    /// `Vec<T>` (of any kind)
    List,
    /// A user-defined type.
    Custom,
}

fn mismatch(expected: &str, value: &Value) -> String {
    format!("expected {expected}, got {value}")
}

macro_rules! int_impls {
    ($($t:ty => $kind:ident),*) => {$(
        impl AttributeValue for $t {
            const KIND: ValueKind = ValueKind::$kind;
            fn to_value(&self) -> Value {
                match i64::try_from(*self) {
                    Ok(v) => Value::Int(v),
                    Err(_) => Value::UInt(*self as u64),
                }
            }
            fn from_value(value: Value) -> Result<Self, String> {
                let out = match &value {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    Value::UInt(u) => <$t>::try_from(*u).ok(),
                    _ => None,
                };
                out.ok_or_else(|| mismatch(stringify!($t), &value))
            }
            fn compare(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Counter for $t {
            fn checked_add_i64(self, by: i64) -> Option<Self> {
                let by = <$t>::try_from(by).ok()?;
                self.checked_add(by)
            }
        }
    )*};
}
int_impls!(i8 => Int32, i16 => Int32, i32 => Int32, i64 => Int64, u8 => Int32, u16 => Int32, u32 => Int64, u64 => UInt64, usize => UInt64, isize => Int64);

impl AttributeValue for f64 {
    const KIND: ValueKind = ValueKind::Float64;
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(mismatch("f64", &other)),
        }
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        self.partial_cmp(other)
    }
}

impl AttributeValue for f32 {
    const KIND: ValueKind = ValueKind::Float32;
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Float(f) => Ok(f as f32),
            Value::Int(i) => Ok(i as f32),
            other => Err(mismatch("f32", &other)),
        }
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        self.partial_cmp(other)
    }
}

impl AttributeValue for bool {
    const KIND: ValueKind = ValueKind::Bool;
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(mismatch("a boolean", &other)),
        }
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for String {
    const KIND: ValueKind = ValueKind::String;
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(mismatch("a string", &other)),
        }
    }
    fn contains_value(&self, other: &Self) -> bool {
        self.as_str().contains(other.as_str())
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for Uuid {
    const KIND: ValueKind = ValueKind::Uuid;
    fn to_value(&self) -> Value {
        Value::Uuid(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Uuid(u) => Ok(u),
            Value::String(s) => Uuid::parse_str(&s).map_err(|e| e.to_string()),
            other => Err(mismatch("a UUID", &other)),
        }
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for SystemTime {
    const KIND: ValueKind = ValueKind::Timestamp;
    fn to_value(&self) -> Value {
        Value::from_system_time(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Timestamp(micros) => {
                let magnitude = std::time::Duration::from_micros(micros.unsigned_abs());
                let t = if micros >= 0 {
                    std::time::UNIX_EPOCH.checked_add(magnitude)
                } else {
                    std::time::UNIX_EPOCH.checked_sub(magnitude)
                };
                t.ok_or_else(|| format!("timestamp {micros}us is out of range"))
            }
            other => Err(mismatch("a timestamp", &other)),
        }
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: AttributeValue> AttributeValue for Option<T> {
    const KIND: ValueKind = T::KIND;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
    fn contains_value(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.contains_value(b),
            _ => false,
        }
    }
    /// Nil compares with nothing, as in Ash where `nil == x` is never true.
    fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Some(a), Some(b)) => a.compare(b),
            _ => None,
        }
    }
    fn is_nil(&self) -> bool {
        self.is_none()
    }
}

impl<T: AttributeValue> AttributeValue for Vec<T> {
    const KIND: ValueKind = ValueKind::List;
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(AttributeValue::to_value).collect())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::List(items) => items.into_iter().map(T::from_value).collect(),
            other => Err(mismatch("a list", &other)),
        }
    }
    fn contains_value(&self, other: &Self) -> bool {
        other.iter().all(|o| self.iter().any(|s| s == o))
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        for (a, b) in self.iter().zip(other) {
            match a.compare(b)? {
                Ordering::Equal => continue,
                o => return Some(o),
            }
        }
        Some(self.len().cmp(&other.len()))
    }
}

/// A type `create_timestamp` and `update_timestamp` attributes can hold.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a timestamp attribute",
    label = "timestamps must be `std::time::SystemTime`",
    note = "implement `ash_rs::attribute::Timestamp` for `{Self}` to use it"
)]
pub trait Timestamp: AttributeValue {
    /// The current time.
    fn now() -> Self;
}

impl Timestamp for SystemTime {
    fn now() -> Self {
        SystemTime::now()
    }
}

/// Static facts about one attribute, for introspection and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeInfo {
    /// The attribute's name (the field name).
    pub name: &'static str,
    /// Whether it is the primary key.
    pub primary_key: bool,
    /// `allow_nil?` in Ash: true exactly when the field's type is `Option<_>`.
    pub allow_nil: bool,
    /// Whether actions may accept it.
    pub writable: bool,
    /// Whether it has a default applied on create.
    pub has_default: bool,
    /// The kind of value it holds.
    pub kind: ValueKind,
}
