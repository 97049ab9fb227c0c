//! Errors as JSON responses.

use ash_core::error::{Error, ErrorClass, ErrorKind};
use axum::http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The message of every 500 response: the real error is logged, never sent.
const INTERNAL_MESSAGE: &str = "internal server error";
/// The message of every 403 response.
const FORBIDDEN_MESSAGE: &str = "forbidden";
/// The message of every 503 response (the data layer's own message is logged).
const UNAVAILABLE_MESSAGE: &str = "the service is busy; try again shortly";
/// Seconds a 503 response asks the client to wait (`Retry-After`).
const RETRY_AFTER_SECONDS: &str = "1";

/// The body of every error response: `{"errors":[{...}]}`, one object per error, as Ash's
/// JSON APIs answer.
///
/// It serializes and deserializes with serde, so a client (or a test) reads it back with
/// `serde_json::from_str::<ErrorBody>(..)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Every error of the request, in the order the action produced them.
    pub errors: Vec<ErrorObject>,
}

/// One error of an [`ErrorBody`].
///
/// For an Ash error kind, `code` is the kind's serde tag (`"stale_record"`, `"not_found"`,
/// `"no_such_input"`, `"invalid_attribute"`, `"required"`, ...), `message` its `Display`,
/// `field` the field it concerns, and `meta` the kind's own serialized fields (for a stale
/// record `resource`, `filter` and `operation`). Errors of the HTTP layer itself use codes
/// such as `"invalid_json"`, `"payload_too_large"`, `"precondition_required"` and
/// `"invalid_if_match"`, with the same shape.
///
/// ```json
/// {"status":"412","class":"invalid","code":"stale_record",
///  "message":"Attempted to update stale record of Address with filter: version == 1",
///  "meta":{"resource":"Address","operation":"update",
///          "filter":{"cmp":{"field":"version","op":"eq","value":1}}}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The HTTP status this error alone would have, as a string (`"422"`), as in JSON:API.
    pub status: String,
    /// Ash's error class: `"forbidden"`, `"invalid"`, `"framework"` or `"unknown"`.
    pub class: String,
    /// What went wrong, in snake case: the error kind's serde tag, or the HTTP error's code.
    pub code: String,
    /// A readable message (the error's `Display`).
    pub message: String,
    /// The input or attribute the error concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The error kind's other fields, as its serde serialization gives them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// An error response: a status and an [`ErrorBody`].
///
/// Built from an Ash [`Error`] with `?` (`From<Error>`) or [`HttpError::conditional`], or
/// by the constructors for errors of the HTTP layer. Responding with it writes
/// `Content-Type: application/json` and the body; a 500 logs the real error with
/// `tracing::error!` and sends only a generic message.
#[derive(Debug, Clone)]
pub struct HttpError {
    status: StatusCode,
    body: ErrorBody,
    /// The underlying Ash error, when there is one.
    source: Option<Error>,
    /// Internal messages that are logged, not sent.
    hidden: Vec<String>,
}

/// A handler's result: `Result<T, HttpError>`.
pub type HttpResult<T> = Result<T, HttpError>;

/// The status of an Ash error: see the crate documentation's table.
///
/// `conditional` says whether the request carried a precondition (`If-Match`): a stale
/// record is then `412 Precondition Failed`, else `409 Conflict`.
pub fn status_for(error: &Error, conditional: bool) -> StatusCode {
    match error {
        Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        // Out of capacity (and nothing worse): worth a retry.
        Error::Framework { errors }
            if errors
                .iter()
                .all(|e| matches!(e, ErrorKind::Unavailable(_))) =>
        {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Error::Framework { .. } | Error::Unknown { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        Error::Invalid { errors } => {
            if errors
                .iter()
                .any(|e| matches!(e, ErrorKind::StaleRecord(_)))
            {
                stale_status(conditional)
            } else if errors.iter().any(|e| matches!(e, ErrorKind::NotFound(_))) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    }
}

fn stale_status(conditional: bool) -> StatusCode {
    if conditional {
        StatusCode::PRECONDITION_FAILED
    } else {
        StatusCode::CONFLICT
    }
}

/// The status one error kind would have on its own.
fn kind_status(kind: &ErrorKind, conditional: bool) -> StatusCode {
    match kind {
        ErrorKind::StaleRecord(_) => stale_status(conditional),
        ErrorKind::NotFound(_) => StatusCode::NOT_FOUND,
        ErrorKind::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        other => match other.class() {
            ErrorClass::Framework | ErrorClass::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        },
    }
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Forbidden => "forbidden",
        ErrorClass::Invalid => "invalid",
        ErrorClass::Framework => "framework",
        ErrorClass::Unknown => "unknown",
    }
}

fn status_string(status: StatusCode) -> String {
    status.as_u16().to_string()
}

/// What a response of `status` says in place of an error it does not show.
fn hidden_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE_MESSAGE,
        _ => INTERNAL_MESSAGE,
    }
}

/// A generic object standing for errors whose details must not leave the server.
fn generic_object(status: StatusCode, class: ErrorClass, message: &str) -> ErrorObject {
    ErrorObject {
        status: status_string(status),
        class: class_name(class).to_owned(),
        code: match status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal_error",
        }
        .to_owned(),
        message: message.to_owned(),
        field: None,
        meta: serde_json::Map::new(),
    }
}

/// One Ash error kind as an [`ErrorObject`], from its serde serialization.
fn kind_object(kind: &ErrorKind, conditional: bool) -> Option<ErrorObject> {
    let serde_json::Value::Object(mut meta) = serde_json::to_value(kind).ok()? else {
        return None;
    };
    // The kind's serde tag is its `code`; the rest of its fields are the meta.
    meta.remove("code");
    let code = kind.code().to_owned();
    Some(ErrorObject {
        status: status_string(kind_status(kind, conditional)),
        class: class_name(kind.class()).to_owned(),
        code,
        message: kind.to_string(),
        field: kind.field().filter(|f| !f.is_empty()).map(str::to_owned),
        meta,
    })
}

impl HttpError {
    /// An error of the HTTP layer itself (not of an action), with a status, a code such
    /// as `"invalid_json"` and a message. Its class is `"invalid"` for a 4xx status and
    /// `"framework"` otherwise.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        let class = if status.is_client_error() {
            ErrorClass::Invalid
        } else {
            ErrorClass::Framework
        };
        HttpError {
            status,
            body: ErrorBody {
                errors: vec![ErrorObject {
                    status: status_string(status),
                    class: class_name(class).to_owned(),
                    code: code.into(),
                    message: message.into(),
                    field: None,
                    meta: serde_json::Map::new(),
                }],
            },
            source: None,
            hidden: Vec::new(),
        }
    }

    /// Names the field the (first) error concerns.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        if let Some(first) = self.body.errors.first_mut() {
            first.field = Some(field.into());
        }
        self
    }

    /// An Ash error of a request without preconditions: a stale record is 409.
    /// The same as `HttpError::from(error)`.
    pub fn unconditional(error: Error) -> Self {
        Self::from_ash(error, false)
    }

    /// An Ash error of a conditional request (one with `If-Match`): a stale record is
    /// `412 Precondition Failed`. See also [`ConditionalResult::conditional`].
    pub fn conditional(error: Error) -> Self {
        Self::from_ash(error, true)
    }

    fn from_ash(error: Error, conditional: bool) -> Self {
        let status = status_for(&error, conditional);
        let mut hidden = Vec::new();
        let errors = match &error {
            Error::Forbidden { .. } => {
                vec![generic_object(
                    status,
                    ErrorClass::Forbidden,
                    FORBIDDEN_MESSAGE,
                )]
            }
            Error::Framework { .. } | Error::Unknown { .. } => {
                hidden.push(error.to_string());
                vec![generic_object(
                    status,
                    error.class(),
                    hidden_message(status),
                )]
            }
            Error::Invalid { errors } => errors
                .iter()
                .map(|kind| match kind.class() {
                    // A framework or unknown error next to invalid ones: the class (and
                    // the status) stay invalid, but its details stay on the server.
                    ErrorClass::Framework | ErrorClass::Unknown => {
                        hidden.push(kind.to_string());
                        let status = kind_status(kind, conditional);
                        generic_object(status, kind.class(), hidden_message(status))
                    }
                    _ => kind_object(kind, conditional).unwrap_or_else(|| {
                        hidden.push(kind.to_string());
                        generic_object(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            ErrorClass::Framework,
                            INTERNAL_MESSAGE,
                        )
                    }),
                })
                .collect(),
        };
        HttpError {
            status,
            body: ErrorBody { errors },
            source: Some(error),
            hidden,
        }
    }

    /// `428 Precondition Required`: a write that must carry `If-Match` came without it.
    pub fn precondition_required() -> Self {
        HttpError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "this request must carry If-Match with the record's ETag, e.g. If-Match: \"1\"",
        )
        .with_field("If-Match")
    }

    /// `412 Precondition Failed` of the HTTP layer (for example a weak `If-Match` tag).
    pub fn precondition_failed(message: impl Into<String>) -> Self {
        HttpError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            message,
        )
        .with_field("If-Match")
    }

    /// `400 Bad Request` with a code and a message.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        HttpError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A `500` whose `message` is logged with `tracing::error!`, not sent.
    pub fn internal(message: impl Into<String>) -> Self {
        let mut e = HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            INTERNAL_MESSAGE,
        );
        e.hidden.push(message.into());
        e
    }

    /// The response's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response's body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// The Ash error this was made from, if any.
    pub fn ash_error(&self) -> Option<&Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        for e in &self.body.errors {
            write!(f, "; {}: {}", e.code, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

impl From<Error> for HttpError {
    /// The error of a request without preconditions (a stale record is 409); use
    /// [`HttpError::conditional`] for one with `If-Match`.
    fn from(error: Error) -> Self {
        HttpError::unconditional(error)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let busy = self.status == StatusCode::SERVICE_UNAVAILABLE;
        for message in &self.hidden {
            if busy {
                // Load, not a fault: a warning, or every busy moment floods the error log.
                tracing::warn!(status = self.status.as_u16(), error = %message, "request refused");
            } else {
                tracing::error!(status = self.status.as_u16(), error = %message, "request failed");
            }
        }
        let body = serde_json::to_vec(&self.body).unwrap_or_else(|_| {
            // Serializing strings and JSON values does not fail; stay JSON regardless.
            br#"{"errors":[{"status":"500","class":"framework","code":"internal_error","message":"internal server error"}]}"#.to_vec()
        });
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if busy {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// Turns an action's `Result<T, Error>` into a handler's result for a conditional request.
///
/// ```
/// # use ash_http::{ConditionalResult, HttpError};
/// # async fn run() -> Result<(), ash_core::error::Error> { Ok(()) }
/// # async fn handler() -> Result<(), HttpError> {
/// run().await.conditional()?; // a stale record is 412, not 409
/// # Ok(()) }
/// ```
pub trait ConditionalResult<T> {
    /// `Err(e)` becomes [`HttpError::conditional`]`(e)`.
    fn conditional(self) -> Result<T, HttpError>;
}

impl<T> ConditionalResult<T> for Result<T, Error> {
    fn conditional(self) -> Result<T, HttpError> {
        self.map_err(HttpError::conditional)
    }
}

/// A router fallback: `404` with a JSON error, for paths no route matches.
///
/// `Router::new().route(..).fallback(ash_http::not_found)`
pub async fn not_found() -> HttpError {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "no route matches this path",
    )
}

/// A router fallback: `405` with a JSON error, for a method a route does not take.
///
/// `Router::new().route(..).method_not_allowed_fallback(ash_http::method_not_allowed)`
pub async fn method_not_allowed() -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take this method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ash_core::error::{FrameworkError, InputType, NoSuchInput, Required};

    fn body_of(e: &HttpError) -> ErrorBody {
        let text = serde_json::to_string(e.body()).expect("serializes");
        serde_json::from_str(&text).expect("round-trips")
    }

    #[test]
    fn invalid_is_422_and_round_trips() {
        let err = Error::from_errors(vec![
            ErrorKind::NoSuchInput(NoSuchInput {
                resource: "Address",
                action: "update".into(),
                input: "colour".into(),
                inputs: vec!["state".into(), "county".into()],
            }),
            ErrorKind::Required(Required {
                field: "state".into(),
                r#type: InputType::Attribute,
                resource: "Address",
            }),
        ]);
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body_of(&e);
        assert_eq!(&body, e.body());
        assert_eq!(body.errors[0].code, "no_such_input");
        assert_eq!(body.errors[0].field.as_deref(), Some("colour"));
        assert_eq!(
            body.errors[0].meta["inputs"],
            serde_json::json!(["state", "county"])
        );
        assert_eq!(body.errors[1].code, "required");
        assert_eq!(body.errors[1].field.as_deref(), Some("state"));
        assert_eq!(body.errors[1].status, "422");
        assert_eq!(body.errors[1].meta["type"], "attribute");
    }

    #[test]
    fn framework_is_500_without_internals() {
        let err = Error::from(ErrorKind::Framework(FrameworkError {
            message: "connection refused to 10.0.0.1".into(),
        }));
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = serde_json::to_string(e.body()).expect("serializes");
        assert!(!text.contains("10.0.0.1"), "{text}");
        assert_eq!(e.body().errors[0].code, "internal_error");
    }

    fn busy() -> ErrorKind {
        ErrorKind::Unavailable(ash_core::error::Unavailable {
            message: "PostgreSQL: no connection to postgres://app@10.0.0.1/db within 5s".into(),
        })
    }

    #[test]
    fn unavailable_is_503_with_retry_after_and_without_internals() {
        let e = HttpError::from(Error::from(busy()));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = body_of(&e);
        assert_eq!(&body, e.body());
        assert_eq!(
            (
                body.errors[0].status.as_str(),
                body.errors[0].class.as_str(),
                body.errors[0].code.as_str()
            ),
            ("503", "framework", "unavailable")
        );
        let text = serde_json::to_string(e.body()).expect("serializes");
        assert!(!text.contains("10.0.0.1"), "{text}");
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
    }

    #[test]
    fn unavailable_next_to_another_framework_error_is_500() {
        let err = Error::from_errors(vec![
            busy(),
            ErrorKind::Framework(FrameworkError {
                message: "connection lost".into(),
            }),
        ]);
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.body().errors[0].code, "internal_error");
        assert!(e.into_response().headers().get(RETRY_AFTER).is_none());
    }

    #[test]
    fn framework_next_to_invalid_is_hidden() {
        let err = Error::from_errors(vec![
            ErrorKind::Required(Required {
                field: "state".into(),
                r#type: InputType::Attribute,
                resource: "Address",
            }),
            ErrorKind::unknown("secret detail"),
        ]);
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = serde_json::to_string(e.body()).expect("serializes");
        assert!(!text.contains("secret"), "{text}");
    }

    fn stale() -> Error {
        let version_1 = ash_core::filter::DynFilter::Cmp {
            field: "version",
            op: ash_core::filter::CmpOp::Eq,
            value: ash_core::value::Value::Int(1),
        };
        Error::from(ErrorKind::StaleRecord(ash_core::error::StaleRecord::new(
            "Address", version_1, "update",
        )))
    }

    #[test]
    fn stale_is_412_when_conditional_else_409() {
        assert_eq!(
            HttpError::conditional(stale()).status(),
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(HttpError::from(stale()).status(), StatusCode::CONFLICT);
        let result: Result<(), Error> = Err(stale());
        let e = result.conditional().unwrap_err();
        assert_eq!(e.body().errors[0].status, "412");
        assert_eq!(e.body().errors[0].code, "stale_record");
        assert_eq!(e.body().errors[0].meta["operation"], "update");
        assert!(e.ash_error().is_some_and(Error::is_stale));
    }

    #[test]
    fn not_found_is_404() {
        let err = Error::from(ErrorKind::NotFound(ash_core::error::NotFound {
            resource: "Address",
            filter: None,
        }));
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.body().errors[0].code, "not_found");
    }

    #[test]
    fn forbidden_is_403() {
        let err = Error::Forbidden {
            errors: vec![ErrorKind::unknown("policy x")],
        };
        let e = HttpError::from(err);
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        assert_eq!(e.body().errors[0].code, "forbidden");
    }

    #[test]
    fn response_is_json() {
        let response = HttpError::precondition_required().into_response();
        assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }
}
