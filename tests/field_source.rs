//! `Resource::from_source`: how a data layer that stores by type (SQL) reads a record.
//! Whichever attributes the source hands over typed (`take_*`) and whichever it leaves to
//! `next_value`, the record is the one `from_values` builds from the same values, and a
//! value of the wrong type is an error naming its attribute.

use ash_rs::attribute::FieldSource;
use ash_rs::error::ErrorKind;
use ash_rs::prelude::*;
use ash_rs::resource::Resource;
use ash_rs::value::Value;

#[resource(domain = Domain, data_layer = Ets)]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    #[uuid_primary_key]
    pub id: Uuid,
    pub count: i64,
    pub small: i32,
    pub name: String,
    pub flag: bool,
    pub ratio: f64,
    pub unsigned: u32,
    pub note: Option<String>,
    pub maybe: Option<i64>,
    pub tags: Vec<String>,
}

#[domain]
#[resources(Sample)]
pub struct Domain;

/// Values in attribute order; hands them over typed only when `typed` and the value is
/// of the type asked for (as a SQL row does with a column of exactly that type).
struct Source {
    values: Vec<Value>,
    at: usize,
    typed: bool,
    /// Attributes read through `next_value`.
    dynamic: Vec<usize>,
}

impl Source {
    fn new(values: Vec<Value>, typed: bool) -> Source {
        Source {
            values,
            at: 0,
            typed,
            dynamic: Vec::new(),
        }
    }

    fn take<T>(&mut self, pick: impl Fn(&Value) -> Option<T>) -> Option<T> {
        if !self.typed {
            return None;
        }
        let value = pick(self.values.get(self.at)?)?;
        self.at += 1;
        Some(value)
    }
}

impl FieldSource for Source {
    fn next_value(&mut self) -> Result<Value, ErrorKind> {
        let value = self.values.get(self.at).cloned().ok_or_else(|| {
            ErrorKind::Framework(ash_rs::error::FrameworkError {
                message: "no more values".into(),
            })
        })?;
        self.dynamic.push(self.at);
        self.at += 1;
        Ok(value)
    }
    fn take_i64(&mut self) -> Option<i64> {
        self.take(|v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        })
    }
    fn take_i32(&mut self) -> Option<i32> {
        self.take(|v| match v {
            Value::Int(i) => i32::try_from(*i).ok(),
            _ => None,
        })
    }
    fn take_bool(&mut self) -> Option<bool> {
        self.take(|v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }
    fn take_f64(&mut self) -> Option<f64> {
        self.take(|v| match v {
            Value::Float(f) => Some(*f),
            _ => None,
        })
    }
    fn take_string(&mut self) -> Option<String> {
        self.take(|v| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
    }
    fn take_uuid(&mut self) -> Option<Uuid> {
        self.take(|v| match v {
            Value::Uuid(u) => Some(*u),
            _ => None,
        })
    }
}

fn sample(note: Option<&str>, maybe: Option<i64>) -> Sample {
    Sample {
        id: Uuid::from_u128(7),
        count: -3,
        small: 12,
        name: "Pinellas".into(),
        flag: true,
        ratio: 0.5,
        unsigned: u32::MAX,
        note: note.map(str::to_owned),
        maybe,
        tags: vec!["a".into(), "b".into()],
    }
}

#[test]
fn typed_and_dynamic_reads_give_the_same_record() {
    for record in [sample(Some("n"), Some(4)), sample(None, None)] {
        let values = record.to_values();
        let via_values = Sample::from_values(values.clone()).expect("from_values");
        assert_eq!(via_values, record);

        let mut dynamic = Source::new(values.clone(), false);
        assert_eq!(Sample::from_source(&mut dynamic).expect("dynamic"), record);
        assert_eq!(
            dynamic.dynamic.len(),
            values.len(),
            "all through next_value"
        );

        let mut typed = Source::new(values.clone(), true);
        assert_eq!(Sample::from_source(&mut typed).expect("typed"), record);
        // `u32` and `Vec` are never taken straight, nor is a nil option.
        let mut expected = vec![6, 9];
        if record.note.is_none() {
            expected.insert(1, 7);
        }
        if record.maybe.is_none() {
            expected.insert(expected.len() - 1, 8);
        }
        assert_eq!(typed.dynamic, expected);
    }
}

#[test]
fn a_value_of_the_wrong_type_names_its_attribute() {
    let mut values = sample(None, None).to_values();
    values[1] = Value::String("three".into());
    for typed in [false, true] {
        let err = Sample::from_source(&mut Source::new(values.clone(), typed))
            .expect_err("a string is not an i64");
        assert!(
            matches!(&err, ErrorKind::InvalidAttribute(e) if e.field == "count"),
            "{err:?}"
        );
    }
    // Out of range for the attribute's type: checked on the way back, never wrapped.
    let mut values = sample(None, None).to_values();
    values[6] = Value::Int(-1);
    let err = Sample::from_source(&mut Source::new(values, true)).expect_err("u32 of -1");
    assert!(
        matches!(&err, ErrorKind::InvalidAttribute(e) if e.field == "unsigned"),
        "{err:?}"
    );
}

#[test]
fn a_short_row_is_an_error_not_a_panic() {
    let mut values = sample(None, None).to_values();
    values.truncate(4);
    let err = Sample::from_source(&mut Source::new(values, true)).expect_err("too short");
    assert!(matches!(err, ErrorKind::Framework(_)), "{err:?}");
}
