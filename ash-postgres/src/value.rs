//! Values on the wire: how [`Value`]s are sent as parameters and read back from rows, and
//! which PostgreSQL type stores each [`ValueKind`].

use ash_core::attribute::{FieldSource, ValueKind};
use ash_core::error::ErrorKind;
use ash_core::value::Value;
use bytes::{BufMut, BytesMut};
use std::error::Error as StdError;
use tokio_postgres::types::{Format, FromSql, FromSqlOwned, IsNull, ToSql, Type};
use tokio_postgres::Row;

type BoxError = Box<dyn StdError + Sync + Send>;

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// The column type that stores a [`ValueKind`], as written in `CREATE TABLE`.
///
/// | kind | column type |
/// |---|---|
/// | `Bool` | `boolean` |
/// | `Int32` | `integer` |
/// | `Int64` | `bigint` |
/// | `UInt64` | `numeric(20, 0)` (every `u64`, checked on the way back) |
/// | `Float32` | `real` |
/// | `Float64` | `double precision` |
/// | `String` | `text` |
/// | `Uuid` | `uuid` |
/// | `Timestamp` | `timestamp with time zone` (microseconds) |
/// | `List`, `Custom` | `jsonb` |
pub fn column_type(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Bool => "boolean",
        ValueKind::Int32 => "integer",
        ValueKind::Int64 => "bigint",
        ValueKind::UInt64 => "numeric(20, 0)",
        ValueKind::Float32 => "real",
        ValueKind::Float64 => "double precision",
        ValueKind::String => "text",
        ValueKind::Uuid => "uuid",
        ValueKind::Timestamp => "timestamp with time zone",
        _ => "jsonb",
    }
}

/// The `data_type` that `information_schema.columns` reports for [`column_type`].
pub(crate) fn information_schema_type(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::UInt64 => "numeric",
        other => column_type(other),
    }
}

/// The inclusive range of an integer column, for the overflow guard of atomic adds.
pub(crate) fn integer_range(kind: ValueKind) -> Option<(i128, i128)> {
    match kind {
        ValueKind::Int32 => Some((i32::MIN.into(), i32::MAX.into())),
        ValueKind::Int64 => Some((i64::MIN.into(), i64::MAX.into())),
        ValueKind::UInt64 => Some((0, u64::MAX.into())),
        _ => None,
    }
}

/// An integer as a [`Value`]: `Int` when it fits an `i64`, else `UInt`.
pub(crate) fn int_value(n: i128) -> Option<Value> {
    if let Ok(i) = i64::try_from(n) {
        Some(Value::Int(i))
    } else {
        u64::try_from(n).ok().map(Value::UInt)
    }
}

/// The first string inside `value` (nested lists included) that PostgreSQL cannot store:
/// `text` and `jsonb` cannot hold a NUL character.
pub(crate) fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(has_nul),
        _ => false,
    }
}

/// A [`Value`] bound as a statement parameter. It is encoded for the type the server
/// inferred for the parameter (an `Int` into `integer` is range checked, for example).
#[derive(Debug, Clone)]
pub(crate) struct Param(pub Value);

fn mismatch(value: &Value, ty: &Type) -> BoxError {
    format!("cannot store {value} in a column of type {ty}").into()
}

// Comparisons, not an array of `Type`s built (and dropped) for every value.
fn is_text(ty: &Type) -> bool {
    *ty == Type::TEXT
        || *ty == Type::VARCHAR
        || *ty == Type::BPCHAR
        || *ty == Type::NAME
        || *ty == Type::UNKNOWN
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let value = &self.0;
        if matches!(value, Value::Null) {
            return Ok(IsNull::Yes);
        }
        if *ty == Type::NUMERIC {
            // Sent in text format (see `encode_format`).
            let text = match value {
                Value::Int(i) => i.to_string(),
                Value::UInt(u) => u.to_string(),
                Value::Float(f) if f.is_finite() => f.to_string(),
                other => return Err(mismatch(other, ty)),
            };
            out.put_slice(text.as_bytes());
            return Ok(IsNull::No);
        }
        if *ty == Type::JSONB || *ty == Type::JSON {
            return to_json(value)?.to_sql(ty, out);
        }
        // A list bound to an array (`= ANY($1)` of a load): element by element.
        if let (Value::List(items), tokio_postgres::types::Kind::Array(_)) = (value, ty.kind()) {
            let items: Vec<Param> = items.iter().cloned().map(Param).collect();
            return items.to_sql(ty, out);
        }
        match value {
            Value::Bool(b) if *ty == Type::BOOL => b.to_sql(ty, out),
            Value::Int(_) | Value::UInt(_) => {
                let n: i128 = match value {
                    Value::Int(i) => (*i).into(),
                    Value::UInt(u) => (*u).into(),
                    _ => return Err(mismatch(value, ty)),
                };
                let range = || format!("{value} is out of range for {ty}");
                if *ty == Type::INT2 {
                    i16::try_from(n).map_err(|_| range())?.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(n).map_err(|_| range())?.to_sql(ty, out)
                } else if *ty == Type::INT8 {
                    i64::try_from(n).map_err(|_| range())?.to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (n as f64).to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    (n as f32).to_sql(ty, out)
                } else {
                    Err(mismatch(value, ty))
                }
            }
            Value::Float(f) if *ty == Type::FLOAT8 => f.to_sql(ty, out),
            Value::Float(f) if *ty == Type::FLOAT4 => (*f as f32).to_sql(ty, out),
            Value::String(s) if is_text(ty) => s.as_str().to_sql(ty, out),
            Value::Uuid(u) if *ty == Type::UUID => u.to_sql(ty, out),
            Value::Timestamp(micros) if *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP => {
                let pg = micros
                    .checked_sub(PG_EPOCH_OFFSET_MICROS)
                    .ok_or_else(|| format!("timestamp {micros}us is out of range"))?;
                out.put_i64(pg);
                Ok(IsNull::No)
            }
            other => Err(mismatch(other, ty)),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        if *ty == Type::NUMERIC {
            Format::Text
        } else {
            Format::Binary
        }
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A column value read back as a [`Value`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column(pub Value);

impl<'a> FromSql<'a> for Column {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = if *ty == Type::BOOL {
            Value::Bool(bool::from_sql(ty, raw)?)
        } else if *ty == Type::INT2 {
            Value::Int(i16::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT4 {
            Value::Int(i32::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT8 {
            Value::Int(i64::from_sql(ty, raw)?)
        } else if *ty == Type::NUMERIC {
            decode_numeric(raw)?
        } else if *ty == Type::FLOAT4 {
            Value::Float(f32::from_sql(ty, raw)?.into())
        } else if *ty == Type::FLOAT8 {
            Value::Float(f64::from_sql(ty, raw)?)
        } else if is_text(ty) {
            Value::String(<&str>::from_sql(ty, raw)?.to_owned())
        } else if *ty == Type::UUID {
            Value::Uuid(uuid::Uuid::from_sql(ty, raw)?)
        } else if *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP {
            let bytes: [u8; 8] = raw
                .try_into()
                .map_err(|_| "a timestamp is 8 bytes on the wire")?;
            let pg = i64::from_be_bytes(bytes);
            if pg == i64::MAX || pg == i64::MIN {
                return Err("infinite timestamps have no SystemTime".into());
            }
            Value::Timestamp(
                pg.checked_add(PG_EPOCH_OFFSET_MICROS)
                    .ok_or("timestamp out of range")?,
            )
        } else if *ty == Type::JSONB || *ty == Type::JSON {
            from_json(serde_json::Value::from_sql(ty, raw)?)?
        } else if let tokio_postgres::types::Kind::Array(_) = ty.kind() {
            // An array (a `list` aggregate): each element as its own type.
            let items = Vec::<Column>::from_sql(ty, raw)?;
            Value::List(items.into_iter().map(|Column(v)| v).collect())
        } else {
            return Err(format!("columns of type {ty} are not supported").into());
        };
        Ok(Column(value))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, BoxError> {
        Ok(Column(Value::Null))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// A row read attribute by attribute ([`FieldSource`]): a column of exactly the type an
/// attribute is stored as is decoded straight into it; any other through [`Column`].
pub(crate) struct RowSource<'r> {
    row: &'r Row,
    at: usize,
    /// The resource, for the message of a column that cannot be read.
    resource: &'static str,
}

impl<'r> RowSource<'r> {
    pub(crate) fn new(row: &'r Row, resource: &'static str) -> Self {
        RowSource {
            row,
            at: 0,
            resource,
        }
    }

    /// The next column as `T` when it has type `ty` and is not NULL; else nothing read.
    #[inline]
    fn take<T: FromSqlOwned>(&mut self, ty: &Type) -> Option<T> {
        if self.row.columns().get(self.at)?.type_() != ty {
            return None;
        }
        let value = self.row.try_get::<_, Option<T>>(self.at).ok()??;
        self.at += 1;
        Some(value)
    }
}

impl FieldSource for RowSource<'_> {
    fn next_value(&mut self) -> Result<Value, ErrorKind> {
        let Column(value) = self.row.try_get(self.at).map_err(|e| {
            crate::error::framework_error(&format!("reading a row of {}", self.resource), &e)
        })?;
        self.at += 1;
        Ok(value)
    }

    fn take_i64(&mut self) -> Option<i64> {
        self.take(&Type::INT8)
    }

    fn take_i32(&mut self) -> Option<i32> {
        self.take(&Type::INT4)
    }

    fn take_bool(&mut self) -> Option<bool> {
        self.take(&Type::BOOL)
    }

    fn take_f64(&mut self) -> Option<f64> {
        self.take(&Type::FLOAT8)
    }

    fn take_string(&mut self) -> Option<String> {
        self.take(&Type::TEXT)
    }

    fn take_uuid(&mut self) -> Option<uuid::Uuid> {
        self.take(&Type::UUID)
    }
}

/// Decodes a binary `numeric` holding an integer (the `UInt64` columns).
fn decode_numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    if sign == 0xC000 {
        return Err("NaN is not an integer".into());
    }
    let mut n: i128 = 0;
    for i in 0..ndigits {
        let digit = i128::from(word(4 + i)?);
        let power = weight - i as i32;
        if power < 0 {
            if digit != 0 {
                return Err("a fractional numeric is not an integer".into());
            }
            continue;
        }
        let mut term = digit;
        for _ in 0..power {
            term = term.checked_mul(10_000).ok_or("numeric out of range")?;
        }
        n = n.checked_add(term).ok_or("numeric out of range")?;
    }
    if sign == 0x4000 {
        n = -n;
    }
    int_value(n).ok_or_else(|| "numeric out of range".into())
}

/// A value as JSON, for `jsonb` columns (lists and custom types).
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, BoxError> {
    use serde_json::Value as J;
    Ok(match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} cannot be stored in JSON"))?,
        Value::String(s) => J::String(s.clone()),
        Value::Uuid(u) => J::String(u.to_string()),
        Value::Timestamp(t) => J::from(*t),
        Value::List(items) => J::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
    })
}

/// JSON back to a value. UUIDs come back as strings (which `Uuid` attributes accept).
pub(crate) fn from_json(json: serde_json::Value) -> Result<Value, BoxError> {
    use serde_json::Value as J;
    Ok(match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().ok_or("a JSON number out of range")?)
            }
        }
        J::String(s) => Value::String(s),
        J::Array(items) => Value::List(items.into_iter().map(from_json).collect::<Result<_, _>>()?),
        J::Object(_) => return Err("JSON objects are not attribute values".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((digits.len() as u16).to_be_bytes());
        out.extend(weight.to_be_bytes());
        out.extend(sign.to_be_bytes());
        out.extend(0u16.to_be_bytes());
        for d in digits {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_integers_decode_exactly() {
        assert_eq!(decode_numeric(&numeric(0, 0, &[])).unwrap(), Value::Int(0));
        assert_eq!(
            decode_numeric(&numeric(0, 0, &[42])).unwrap(),
            Value::Int(42)
        );
        assert_eq!(
            decode_numeric(&numeric(2, 0, &[1])).unwrap(),
            Value::Int(100_000_000)
        );
        assert_eq!(
            decode_numeric(&numeric(0, 0x4000, &[7])).unwrap(),
            Value::Int(-7)
        );
        // u64::MAX = 1844 6744 0737 0955 1615
        assert_eq!(
            decode_numeric(&numeric(4, 0, &[1844, 6744, 737, 955, 1615])).unwrap(),
            Value::UInt(u64::MAX)
        );
        assert!(decode_numeric(&numeric(-1, 0, &[5000])).is_err());
        assert!(decode_numeric(&numeric(0, 0xC000, &[])).is_err());
        assert!(decode_numeric(&numeric(9, 0, &[1])).is_err());
    }

    #[test]
    fn json_round_trips_lists() {
        let v = Value::List(vec![
            Value::Int(1),
            Value::String("a\"b".into()),
            Value::Null,
        ]);
        assert_eq!(from_json(to_json(&v).unwrap()).unwrap(), v);
    }
}
