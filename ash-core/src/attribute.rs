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
    /// The value as a dynamic [`Value`].
    fn to_value(&self) -> Value;
    /// Orders two values; `None` when they are not comparable (nil, NaN).
    fn compare(&self, other: &Self) -> Option<Ordering>;
    /// Whether the value is nil (`None`).
    fn is_nil(&self) -> bool {
        false
    }
}

/// An integer attribute that `optimistic_lock` and `increment` can add to, with overflow
/// checked.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as an optimistic lock version",
    label = "the version attribute must be a non-nilable integer",
    note = "declare the attribute as `i64` (or another integer type) with `#[attribute(default = 1)]`"
)]
pub trait Counter: AttributeValue + Copy {
    /// `self + by`, or `None` on overflow.
    fn checked_add_i64(self, by: i64) -> Option<Self>;
}

macro_rules! int_impls {
    ($($t:ty),*) => {$(
        impl AttributeValue for $t {
            fn to_value(&self) -> Value {
                match i64::try_from(*self) {
                    Ok(v) => Value::Int(v),
                    Err(_) => Value::UInt(*self as u64),
                }
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
int_impls!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl AttributeValue for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        self.partial_cmp(other)
    }
}

impl AttributeValue for f32 {
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        self.partial_cmp(other)
    }
}

impl AttributeValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for Uuid {
    fn to_value(&self) -> Value {
        Value::Uuid(*self)
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl AttributeValue for SystemTime {
    fn to_value(&self) -> Value {
        Value::from_system_time(*self)
    }
    fn compare(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: AttributeValue> AttributeValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
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
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(AttributeValue::to_value).collect())
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
}
