//! Action inputs from JSON request bodies.

use crate::error::HttpError;
use ash_core::action::Action;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::StatusCode;
use http_body_util::BodyExt;
use std::time::Duration;

/// Limits of [`JsonInput`]. The defaults hold unless the router carries another one as an
/// extension: `router.layer(axum::Extension(JsonConfig::default().limit(1 << 20)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonConfig {
    limit: usize,
    read_timeout: Duration,
}

impl JsonConfig {
    /// The default body limit: 64 KiB.
    pub const DEFAULT_LIMIT: usize = 64 * 1024;
    /// The default time to receive a whole body: 10 seconds.
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

    /// The largest body accepted, in bytes; a larger one is `413 Payload Too Large`.
    #[must_use]
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// How long the whole body may take to arrive; a slower one is `408 Request Timeout`,
    /// so a client that stalls mid-body holds its connection only this long.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The body limit in bytes.
    pub fn get_limit(&self) -> usize {
        self.limit
    }

    /// The body read timeout.
    pub fn get_read_timeout(&self) -> Duration {
        self.read_timeout
    }
}

impl Default for JsonConfig {
    fn default() -> Self {
        JsonConfig {
            limit: Self::DEFAULT_LIMIT,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
        }
    }
}

/// An action's input from the request's JSON body: `JsonInput(input):
/// JsonInput<AddressUpdateInput>`.
///
/// The body is read up to [`JsonConfig`]'s limit and timeout, parsed, and given to
/// [`ash_core::input::from_json_value`] (what `ash_rs::input::from_json` runs), so the
/// errors are Ash's. Every rejection is a JSON error ([`crate::ErrorBody`]):
///
/// | body | status | code |
/// |---|---|---|
/// | larger than the limit (by `Content-Length` or as it streams) | 413 | `payload_too_large` |
/// | not received within the read timeout | 408 | `request_timeout` |
/// | the connection failed while reading | 400 | `invalid_body` |
/// | not JSON | 400 | `invalid_json` |
/// | JSON but not an object | 422 | `invalid_attribute` |
/// | a key the action does not take | 422 | `no_such_input`, `field` naming it |
/// | a value of the wrong type | 422 | `invalid_attribute`, `field` naming it |
///
/// Every problem of the object is reported at once. The `Content-Type` is not checked
/// (a `curl -d` body is JSON labelled as a form); the body must be JSON whatever it says.
/// As a body extractor it must be a handler's last argument.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonInput<T>(pub T);

impl<T, S> FromRequest<S> for JsonInput<T>
where
    T: Action + Default,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let config = req
            .extensions()
            .get::<JsonConfig>()
            .copied()
            .unwrap_or_default();
        let bytes = read_body(req, config).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            HttpError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
        })?;
        ash_core::input::from_json_value::<T>(value)
            .map(JsonInput)
            .map_err(HttpError::from)
    }
}

fn too_large(limit: usize) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

/// The most a refused body is read on for, after its limit.
const DRAIN_LIMIT: u64 = 1 << 20;

/// Reads and discards what is left of a body refused as too large, up to [`DRAIN_LIMIT`]
/// bytes and `timeout`: answering before the client has sent its body makes the server
/// close the connection under a client still writing, which then sees a reset instead of
/// the 413. A larger body is not waited for (the client may then see the reset).
async fn drain(body: &mut axum::body::Body, declared: Option<u64>, timeout: std::time::Duration) {
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return;
    }
    let discard = async {
        let mut seen: u64 = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > DRAIN_LIMIT {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(timeout, discard).await;
}

/// The whole body, at most `config.limit` bytes, within `config.read_timeout`.
async fn read_body(req: Request, config: JsonConfig) -> Result<Vec<u8>, HttpError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = req.into_body();
    if declared.is_some_and(|n| n > config.limit as u64) {
        drain(&mut body, declared, config.read_timeout).await;
        return Err(too_large(config.limit));
    }
    let capacity = declared.map_or(0, |n| n as usize);
    let read = async move {
        let mut bytes = Vec::with_capacity(capacity);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                HttpError::bad_request("invalid_body", format!("the body could not be read: {e}"))
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > config.limit {
                    drain(&mut body, None, config.read_timeout).await;
                    return Err(too_large(config.limit));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    match tokio::time::timeout(config.read_timeout, read).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the body did not arrive within {} ms",
                config.read_timeout.as_millis()
            ),
        )),
    }
}
