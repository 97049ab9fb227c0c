//! Path parameters with JSON errors.

use crate::error::HttpError;
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// axum's [`Path`](axum::extract::Path) extractor, rejecting with a JSON error instead of
/// a text one: a parameter that does not parse (`/addresses/not-a-uuid` for a `Uuid`) is
/// `400 Bad Request` with code `"invalid_path"` and `field` naming the parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let field = match e.kind() {
                    PathErrorKind::ParseErrorAtKey { key, .. }
                    | PathErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                    PathErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    _ => None,
                };
                let status = e.status();
                let error = if status.is_client_error() {
                    HttpError::new(status, "invalid_path", e.body_text())
                } else {
                    // A route whose parameters do not fit `T`: a bug, not bad input.
                    HttpError::internal(e.body_text())
                };
                Err(match field {
                    Some(field) => error.with_field(field),
                    None => error,
                })
            }
            Err(other) => Err(HttpError::internal(other.body_text())),
        }
    }
}
