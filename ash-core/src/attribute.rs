//! Attribute types: what a field of a resource may hold.

use crate::error::ErrorKind;
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
    /// The value straight from `source`, for types a [`FieldSource`] can hand over
    /// without a [`Value`] in between. `None` (the default, and whenever the source
    /// cannot) means: read it with [`from_value`](AttributeValue::from_value).
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        let _ = source;
        None
    }
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

/// A stored record being read attribute by attribute, in
/// [`Resource::ATTRIBUTES`](crate::resource::Resource::ATTRIBUTES) order, by a data layer
/// that stores values by type (SQL); see
/// [`Resource::from_source`](crate::resource::Resource::from_source).
///
/// [`next_value`](FieldSource::next_value) reads any attribute. The `take_*` methods
/// hand a common type over without a [`Value`] built and matched in between (a row of a
/// list read pays that per attribute); each returns `None` without moving on when it
/// cannot (the stored type differs, the value is nil), and the attribute is then read
/// with `next_value`.
pub trait FieldSource {
    /// The next attribute's value.
    fn next_value(&mut self) -> Result<Value, ErrorKind>;
    /// The next attribute, when it is stored as a 64-bit integer and not nil.
    fn take_i64(&mut self) -> Option<i64> {
        None
    }
    /// The next attribute, when it is stored as a 32-bit integer and not nil.
    fn take_i32(&mut self) -> Option<i32> {
        None
    }
    /// The next attribute, when it is stored as a boolean and not nil.
    fn take_bool(&mut self) -> Option<bool> {
        None
    }
    /// The next attribute, when it is stored as a 64-bit float and not nil.
    fn take_f64(&mut self) -> Option<f64> {
        None
    }
    /// The next attribute, when it is stored as text and not nil.
    fn take_string(&mut self) -> Option<String> {
        None
    }
    /// The next attribute, when it is stored as a UUID and not nil.
    fn take_uuid(&mut self) -> Option<Uuid> {
        None
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
    ($($t:ty => $kind:ident $(, $take:ident)?);*) => {$(
        impl AttributeValue for $t {
            const KIND: ValueKind = ValueKind::$kind;
            $(
                #[inline]
                fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
                    source.$take()
                }
            )?
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
// Only the types a column holds exactly are taken straight: `i32` (`integer`) and `i64`
// (`bigint`); the others are range checked through `from_value`.
int_impls!(i8 => Int32; i16 => Int32; i32 => Int32, take_i32; i64 => Int64, take_i64; u8 => Int32; u16 => Int32; u32 => Int64; u64 => UInt64; usize => UInt64; isize => Int64);

impl AttributeValue for f64 {
    const KIND: ValueKind = ValueKind::Float64;
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        source.take_f64()
    }
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
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        source.take_bool()
    }
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
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        source.take_string()
    }
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
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        source.take_uuid()
    }
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
    /// A value taken straight; a nil one is read through `from_value`.
    #[inline]
    fn take_from<S: FieldSource + ?Sized>(source: &mut S) -> Option<Self> {
        T::take_from(source).map(Some)
    }
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
