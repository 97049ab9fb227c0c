//! `If-Match` and `ETag` on the record's optimistic-lock version.
//!
//! A record's version `3` is the strong entity tag `"3"`.

use crate::error::HttpError;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{HeaderValue, ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

/// The `If-Match` precondition of a request, read as a record version.
///
/// As an extractor it rejects a request without `If-Match` with `428 Precondition
/// Required`, and a malformed one with `400 Bad Request` (code `"invalid_if_match"`), both
/// with a JSON error. `Option<IfMatch>` makes the header optional (a malformed one is still
/// 400).
///
/// Accepted values, per RFC 9110 (section 13.1.1):
///
/// | header | gives |
/// |---|---|
/// | `"3"` | [`IfMatch::Version`]`(3)` |
/// | `*` | [`IfMatch::Any`]: any current record |
/// | `W/"3"` (only weak tags) | [`IfMatch::Weak`]: `If-Match` compares strongly, so a weak tag never matches; the request fails with 412 |
/// | a list, `"3", W/"2"` | the one strong version in it; weak tags never match |
///
/// Malformed (400): a tag without quotes (`3`), an unterminated tag, an empty header,
/// `*` inside a list, a strong tag that is not a version (`"abc"`, `"01"`: this service only
/// issues version tags) and a list of several different strong versions (a locked
/// write compares one version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// `If-Match: "<version>"`.
    Version(i64),
    /// `If-Match: *`: the write applies to whatever version is stored. A handler that
    /// reads the record and then runs the locked write with the version it read can
    /// still get a stale record (412) when another write lands in between.
    Any,
    /// Only weak tags: nothing matches them.
    Weak,
}

impl IfMatch {
    /// The version the write must find stored: the client's for [`IfMatch::Version`], the
    /// `current` one for [`IfMatch::Any`]. [`IfMatch::Weak`] is a
    /// `412 Precondition Failed`.
    ///
    /// A handler sets the record's version to this and runs the locked action, so the data
    /// layer compares it in its one atomic step.
    pub fn expected_version(self, current: i64) -> Result<i64, HttpError> {
        match self {
            IfMatch::Version(v) => Ok(v),
            IfMatch::Any => Ok(current),
            IfMatch::Weak => Err(HttpError::precondition_failed(
                "If-Match holds only weak entity tags (W/\"..\"); If-Match uses the strong \
                 comparison, so a weak tag never matches",
            )),
        }
    }

    /// Parses the values of every `If-Match` header line of a request (they form one
    /// list). `Ok(None)` when there is none.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Result<Option<IfMatch>, HttpError> {
        let mut values = headers.get_all(IF_MATCH).iter().peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut any = false;
        let mut tags = 0usize;
        let mut version: Option<i64> = None;
        for value in values {
            for element in parse_list(value.as_bytes())? {
                match element {
                    Element::Any => any = true,
                    Element::Tag { weak, opaque } => {
                        tags += 1;
                        if weak {
                            continue;
                        }
                        let v = parse_version(opaque)?;
                        match version {
                            Some(other) if other != v => return Err(malformed(
                                "If-Match names several versions; send the one version you read",
                            )),
                            _ => version = Some(v),
                        }
                    }
                }
            }
        }
        match (any, tags, version) {
            (true, 0, _) => Ok(Some(IfMatch::Any)),
            (true, _, _) => Err(malformed("If-Match: * cannot be combined with entity tags")),
            (false, 0, _) => Err(malformed("If-Match is empty")),
            (false, _, Some(v)) => Ok(Some(IfMatch::Version(v))),
            (false, _, None) => Ok(Some(IfMatch::Weak)),
        }
    }
}

fn malformed(message: &str) -> HttpError {
    HttpError::bad_request(
        "invalid_if_match",
        format!("{message} (expected If-Match: \"<version>\", e.g. If-Match: \"1\")"),
    )
    .with_field("If-Match")
}

enum Element<'a> {
    Any,
    Tag { weak: bool, opaque: &'a [u8] },
}

/// `#( "*" / entity-tag )` with optional whitespace; empty elements are allowed, as RFC
/// 9110's list syntax says.
fn parse_list(mut s: &[u8]) -> Result<Vec<Element<'_>>, HttpError> {
    let mut out = Vec::new();
    loop {
        s = trim_start(s);
        while let [b',', rest @ ..] = s {
            s = trim_start(rest);
        }
        if s.is_empty() {
            return Ok(out);
        }
        let (element, rest) = match s {
            [b'*', rest @ ..] => (Element::Any, rest),
            [b'W', b'/', rest @ ..] => {
                let (opaque, rest) = opaque_tag(rest)?;
                (Element::Tag { weak: true, opaque }, rest)
            }
            _ => {
                let (opaque, rest) = opaque_tag(s)?;
                (
                    Element::Tag {
                        weak: false,
                        opaque,
                    },
                    rest,
                )
            }
        };
        out.push(element);
        s = trim_start(rest);
        match s {
            [] => return Ok(out),
            [b',', ..] => {}
            _ => return Err(malformed("If-Match is not a list of entity tags")),
        }
    }
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

/// `DQUOTE *etagc DQUOTE`, returning the characters between the quotes.
fn opaque_tag(s: &[u8]) -> Result<(&[u8], &[u8]), HttpError> {
    let [b'"', rest @ ..] = s else {
        return Err(malformed("an entity tag must be quoted"));
    };
    let end = rest
        .iter()
        .position(|&b| b == b'"')
        .ok_or_else(|| malformed("an entity tag is not terminated"))?;
    let opaque = &rest[..end];
    // etagc = %x21 / %x23-7E / obs-text
    if opaque.iter().any(|&b| b < 0x21 || b == 0x7f) {
        return Err(malformed("an entity tag holds a character it may not"));
    }
    Ok((opaque, &rest[end + 1..]))
}

fn parse_version(opaque: &[u8]) -> Result<i64, HttpError> {
    // Only the tags this crate writes: the decimal version, without sign or leading zeros
    // (strong comparison is by characters, so `"01"` is not the tag `"1"`).
    let text = std::str::from_utf8(opaque).ok().filter(|t| {
        !t.is_empty()
            && t.len() <= 19
            && t.bytes().all(|b| b.is_ascii_digit())
            && (t.len() == 1 || !t.starts_with('0'))
    });
    text.and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| malformed("the entity tag is not a record version"))
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        IfMatch::from_headers(&parts.headers)?.ok_or_else(HttpError::precondition_required)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IfMatch {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        IfMatch::from_headers(&parts.headers)
    }
}

/// The strong entity tag of a version: `"3"` (with the quotes).
pub fn etag(version: i64) -> HeaderValue {
    // Digits and quotes are always a valid header value.
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// A response with `ETag: "<version>"`: `Versioned { version: 3, inner: Json(record) }`,
/// or [`with_etag`]`(3, Json(record))`.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The record's version, written as the strong tag `"<version>"`.
    pub version: i64,
    /// The response itself.
    pub inner: T,
}

/// `inner` with `ETag: "<version>"`. Combine it with a status as usual:
/// `(StatusCode::CREATED, with_etag(record.version, Json(record)))`.
pub fn with_etag<T>(version: i64, inner: T) -> Versioned<T> {
    Versioned { version, inner }
}

impl<T: IntoResponse> IntoResponse for Versioned<T> {
    fn into_response(self) -> Response {
        let mut response = self.inner.into_response();
        response.headers_mut().insert(ETAG, etag(self.version));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, StatusCode};

    fn parse(values: &[&[u8]]) -> Result<Option<IfMatch>, StatusCode> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(IF_MATCH, HeaderValue::from_bytes(v).expect("header value"));
        }
        IfMatch::from_headers(&headers).map_err(|e| e.status())
    }

    #[test]
    fn strong_weak_any() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[b"\"3\""]), Ok(Some(IfMatch::Version(3))));
        assert_eq!(parse(&[b" \"3\" "]), Ok(Some(IfMatch::Version(3))));
        assert_eq!(parse(&[b"W/\"3\""]), Ok(Some(IfMatch::Weak)));
        assert_eq!(parse(&[b"W/\"3\", \"4\""]), Ok(Some(IfMatch::Version(4))));
        assert_eq!(
            parse(&[b"W/\"x\"", b"\"4\""]),
            Ok(Some(IfMatch::Version(4)))
        );
        assert_eq!(parse(&[b"\"4\", \"4\""]), Ok(Some(IfMatch::Version(4))));
        assert_eq!(parse(&[b"*"]), Ok(Some(IfMatch::Any)));
        assert_eq!(parse(&[b"\"0\""]), Ok(Some(IfMatch::Version(0))));
        assert_eq!(parse(&[b", \"5\" ,"]), Ok(Some(IfMatch::Version(5))));
    }

    #[test]
    fn malformed_is_400() {
        for bad in [
            &b"3"[..],
            b"\"3",
            b"W/3",
            b"",
            b" , ",
            b"\"abc\"",
            b"\"-1\"",
            b"\"01\"",
            b"\"+1\"",
            b"\"99999999999999999999\"",
            b"\"3\" x",
            b"\"1\", \"2\"",
            b"*, \"1\"",
            b"\"3\"\"4\"",
            b"\"\"",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(&[bad]), Err(StatusCode::BAD_REQUEST), "{bad:?}");
        }
    }

    #[test]
    fn weak_never_matches() {
        let e = IfMatch::Weak.expected_version(3).unwrap_err();
        assert_eq!(e.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(IfMatch::Any.expected_version(3).ok(), Some(3));
        assert_eq!(IfMatch::Version(2).expected_version(3).ok(), Some(2));
    }

    #[test]
    fn etag_is_quoted() {
        assert_eq!(etag(12).as_bytes(), b"\"12\"");
        let response = with_etag(7, "x").into_response();
        assert_eq!(response.headers().get(ETAG), Some(&etag(7)));
    }
}
