//! Validations: checks an action runs on its changeset before it writes.

use crate::changeset::Changeset;
use crate::error::ErrorKind;
use crate::resource::Resource;

/// A validation an action runs. A failing validation records its error; the action then
/// fails with every error recorded, and nothing is written.
///
/// Any `Fn(&Changeset<R>) -> Result<(), ErrorKind>` is a validation.
pub trait Validation<R: Resource>: Send + Sync {
    /// Checks the changeset.
    fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind>;
}

impl<R, F> Validation<R> for F
where
    R: Resource,
    F: for<'a, 'b> Fn(&'b Changeset<'a, R>) -> Result<(), ErrorKind> + Send + Sync,
{
    fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
        self(changeset)
    }
}

/// Runs `validation` and records its error on the changeset, if any.
#[inline]
pub fn run<R: Resource, V: Validation<R> + ?Sized>(
    validation: &V,
    changeset: &mut Changeset<'_, R>,
) {
    if let Err(error) = validation.validate(changeset) {
        changeset.add_error(error);
    }
}

pub mod builtins {
    //! The builtin validations, with Ash's names and messages. The `#[resource]` macro
    //! builds them with a typed accessor for the attribute or argument they check, so
    //! they run without any lookup by name.

    use super::Validation;
    use crate::attribute::AttributeValue;
    use crate::changeset::Changeset;
    use crate::error::{ErrorKind, InputType, InvalidArgument, InvalidAttribute};
    use crate::filter::CmpOp;
    use crate::resource::Resource;
    use crate::value::Value;
    use std::fmt::Write as _;

    /// Reads the current value of an attribute (the change if any, else the record's) or
    /// of an argument.
    pub type Getter<R, T> = for<'c, 'a> fn(&'c Changeset<'a, R>) -> Option<&'c T>;

    /// What a builtin validation checks: a named attribute or argument and how to read it.
    pub struct Target<R: Resource, T: 'static> {
        /// The attribute's or argument's name.
        pub field: &'static str,
        /// Attribute or argument: decides the error type.
        pub input: InputType,
        /// Reads the value.
        pub get: Getter<R, T>,
        /// Replaces the builtin message (`message = "..."` in the DSL).
        pub message: Option<&'static str>,
    }

    impl<R: Resource, T: 'static> Target<R, T> {
        fn error(&self, message: String, value: Option<Value>) -> ErrorKind {
            let message = self.message.map(str::to_owned).unwrap_or(message);
            match self.input {
                InputType::Attribute => ErrorKind::InvalidAttribute(InvalidAttribute {
                    field: self.field.to_owned(),
                    message,
                    value,
                }),
                InputType::Argument => ErrorKind::InvalidArgument(InvalidArgument {
                    field: self.field.to_owned(),
                    message,
                    value,
                }),
            }
        }

        fn value<'c>(&self, changeset: &'c Changeset<'_, R>) -> Option<&'c T>
        where
            T: AttributeValue,
        {
            (self.get)(changeset).filter(|v| !v.is_nil())
        }
    }

    /// `present(field)`: "must be present".
    pub struct Present<R: Resource, T: 'static>(pub Target<R, T>);

    impl<R: Resource, T: AttributeValue> Validation<R> for Present<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            match self.0.value(changeset) {
                Some(_) => Ok(()),
                None => Err(self.0.error("must be present".into(), None)),
            }
        }
    }

    /// `absent(field)`: "must be absent".
    pub struct Absent<R: Resource, T: 'static>(pub Target<R, T>);

    impl<R: Resource, T: AttributeValue> Validation<R> for Absent<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            match self.0.value(changeset) {
                None => Ok(()),
                Some(v) => Err(self.0.error("must be absent".into(), Some(v.to_value()))),
            }
        }
    }

    /// `compare(field, greater_than = x)` and the other bounds. A nil value passes (use
    /// `present` to require one), as in Ash.
    pub struct Compare<R: Resource, T: 'static> {
        /// The value checked.
        pub target: Target<R, T>,
        /// `Gt`, `Gte`, `Lt` or `Lte`.
        pub op: CmpOp,
        /// The bound.
        pub bound: &'static T,
    }

    impl<R: Resource, T: AttributeValue> Validation<R> for Compare<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            let Some(value) = self.target.value(changeset) else {
                return Ok(());
            };
            if self.op.holds(value.compare(self.bound)) {
                return Ok(());
            }
            let relation = match self.op {
                CmpOp::Gt => "greater than",
                CmpOp::Gte => "greater than or equal to",
                CmpOp::Lt => "less than",
                CmpOp::Lte => "less than or equal to",
                CmpOp::Eq => "equal to",
                CmpOp::NotEq => "not equal to",
            };
            let message = format!("must be {relation} {}", self.bound.to_value());
            Err(self.target.error(message, Some(value.to_value())))
        }
    }

    /// `one_of(field, [values])`: "expected one of a, b". A nil value passes.
    pub struct OneOf<R: Resource, T: 'static> {
        /// The value checked.
        pub target: Target<R, T>,
        /// The allowed values.
        pub values: &'static [T],
    }

    impl<R: Resource, T: AttributeValue> Validation<R> for OneOf<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            let Some(value) = self.target.value(changeset) else {
                return Ok(());
            };
            if self.values.iter().any(|v| v == value) {
                return Ok(());
            }
            let mut message = String::from("expected one of ");
            for (i, v) in self.values.iter().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                let _ = write!(message, "{}", v.to_value());
            }
            Err(self.target.error(message, Some(value.to_value())))
        }
    }

    /// A value with a string inside, for `string_length` and `match`.
    pub trait AsStr {
        /// The string, if there is one.
        fn as_str_value(&self) -> Option<&str>;
    }

    impl AsStr for String {
        fn as_str_value(&self) -> Option<&str> {
            Some(self)
        }
    }

    impl<T: AsStr> AsStr for Option<T> {
        fn as_str_value(&self) -> Option<&str> {
            self.as_ref().and_then(AsStr::as_str_value)
        }
    }

    /// `string_length(field, min = a, max = b, exact = c)`, counted in characters. A nil
    /// value passes.
    pub struct StringLength<R: Resource, T: 'static> {
        /// The value checked.
        pub target: Target<R, T>,
        /// At least this many characters.
        pub min: Option<usize>,
        /// At most this many characters.
        pub max: Option<usize>,
        /// Exactly this many characters.
        pub exact: Option<usize>,
    }

    impl<R: Resource, T: AttributeValue + AsStr> Validation<R> for StringLength<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            let Some(s) = (self.target.get)(changeset).and_then(AsStr::as_str_value) else {
                return Ok(());
            };
            let len = s.chars().count();
            let message = match (self.exact, self.min, self.max) {
                (Some(exact), _, _) if len != exact => {
                    format!("must have length of exactly {exact}")
                }
                (None, Some(min), Some(max)) if len < min || len > max => {
                    format!("must have length of between {min} and {max}")
                }
                (None, Some(min), None) if len < min => {
                    format!("must have length of at least {min}")
                }
                (None, None, Some(max)) if len > max => {
                    format!("must have length of no more than {max}")
                }
                _ => return Ok(()),
            };
            Err(self
                .target
                .error(message, Some(Value::String(s.to_owned()))))
        }
    }

    /// `match(field, "regex")`: "must match `<regex>`". A nil value passes.
    pub struct Match<R: Resource, T: 'static> {
        /// The value checked.
        pub target: Target<R, T>,
        /// The compiled expression (checked by the macro at compile time).
        pub regex: &'static std::sync::LazyLock<Result<regex_lite::Regex, regex_lite::Error>>,
    }

    impl<R: Resource, T: AttributeValue + AsStr> Validation<R> for Match<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            let Some(s) = (self.target.get)(changeset).and_then(AsStr::as_str_value) else {
                return Ok(());
            };
            match &**self.regex {
                Ok(re) if re.is_match(s) => Ok(()),
                Ok(re) => Err(self.target.error(
                    format!("must match {}", re.as_str()),
                    Some(Value::String(s.to_owned())),
                )),
                Err(e) => Err(ErrorKind::Framework(crate::error::FrameworkError {
                    message: format!("invalid regular expression for {}: {e}", self.target.field),
                })),
            }
        }
    }

    /// `attribute_equals(field, value)`: "must equal `<value>`".
    pub struct AttributeEquals<R: Resource, T: 'static> {
        /// The value checked.
        pub target: Target<R, T>,
        /// The value it must equal.
        pub value: &'static T,
    }

    impl<R: Resource, T: AttributeValue> Validation<R> for AttributeEquals<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            match (self.target.get)(changeset) {
                Some(v) if v == self.value => Ok(()),
                other => Err(self.target.error(
                    format!("must equal {}", self.value.to_value()),
                    other.map(AttributeValue::to_value),
                )),
            }
        }
    }

    /// `changing(field)`: "must be changing": the action sets it to a value other than the
    /// record's.
    pub struct Changing<R: Resource, T: 'static> {
        /// The attribute checked; `get` reads only the change.
        pub target: Target<R, T>,
        /// Reads the record's value.
        pub original: fn(&R) -> &T,
    }

    impl<R: Resource, T: AttributeValue> Validation<R> for Changing<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            let changed = match ((self.target.get)(changeset), changeset.data()) {
                (Some(new), Some(data)) => new != (self.original)(data),
                (Some(_), None) => true,
                (None, _) => false,
            };
            if changed {
                Ok(())
            } else {
                Err(self.target.error("must be changing".into(), None))
            }
        }
    }

    /// `confirm(field, confirmation)`: the two must be equal; the error is on the
    /// confirmation, "confirmation did not match value".
    pub struct Confirm<R: Resource, T: 'static> {
        /// The value confirmed.
        pub target: Target<R, T>,
        /// The confirmation.
        pub confirmation: Target<R, T>,
    }

    impl<R: Resource, T: AttributeValue> Validation<R> for Confirm<R, T> {
        fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
            if (self.target.get)(changeset) == (self.confirmation.get)(changeset) {
                Ok(())
            } else {
                Err(self
                    .confirmation
                    .error("confirmation did not match value".into(), None))
            }
        }
    }
}
