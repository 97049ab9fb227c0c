//! Action inputs from JSON.
//!
//! Every generated input type implements `serde::Deserialize` (unknown fields rejected).
//! [`from_json`] does the same but reports in Ash's terms and reports every problem at
//! once: an unknown key is `NoSuchInput`, a value of the wrong type is
//! `InvalidAttribute` naming the field.

use crate::action::Action;
use crate::error::{Error, ErrorKind, InvalidAttribute, NoSuchInput};
use crate::resource::Resource;

/// Builds an action input from a JSON object.
pub fn from_json<A: Action + Default>(json: &str) -> Result<A, Error> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        Error::from(ErrorKind::InvalidAttribute(InvalidAttribute {
            field: String::new(),
            message: format!("invalid JSON: {e}"),
            value: None,
        }))
    })?;
    from_json_value(value)
}

/// Builds an action input from a parsed JSON value, which must be an object.
pub fn from_json_value<A: Action + Default>(value: serde_json::Value) -> Result<A, Error> {
    let serde_json::Value::Object(map) = value else {
        return Err(ErrorKind::InvalidAttribute(InvalidAttribute {
            field: String::new(),
            message: "expected a JSON object of inputs".into(),
            value: None,
        })
        .into());
    };
    let mut input = A::default();
    let mut errors = Vec::new();
    for (key, value) in map {
        if !A::INPUTS.contains(&key.as_str()) {
            errors.push(ErrorKind::NoSuchInput(NoSuchInput {
                resource: <A::Resource as Resource>::NAME,
                action: A::INFO.name.to_owned(),
                input: key,
                inputs: A::INPUTS.iter().map(|s| (*s).to_owned()).collect(),
            }));
            continue;
        }
        if let Err(e) = input.set_json(&key, value) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(Error::from_errors(errors))
    }
}

/// Deserializes one input value, naming the field in the error. Used by generated code.
pub fn decode<T: serde::de::DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> Result<T, ErrorKind> {
    serde_json::from_value(value).map_err(|e| {
        ErrorKind::InvalidAttribute(InvalidAttribute {
            field: field.to_owned(),
            message: e.to_string(),
            value: None,
        })
    })
}

/// Deserializes one argument value, naming the argument in the error. Used by generated
/// code.
pub fn decode_argument<T: serde::de::DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> Result<T, ErrorKind> {
    serde_json::from_value(value).map_err(|e| {
        ErrorKind::InvalidArgument(crate::error::InvalidArgument {
            field: field.to_owned(),
            message: e.to_string(),
            value: None,
        })
    })
}

/// `serde::Deserialize` for every generated input: read a map, then set each input as
/// [`from_json_value`] does, so serde users get the same checks (unknown inputs rejected)
/// and generated code stays small.
pub fn deserialize<'de, A, D>(deserializer: D) -> Result<A, D::Error>
where
    A: Action + Default,
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let value = serde_json::Value::Object(serde::Deserialize::deserialize(deserializer)?);
    from_json_value(value).map_err(|e| D::Error::custom(e.to_string().replace('\n', " ")))
}
