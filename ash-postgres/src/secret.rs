//! Keeping passwords out of messages: every connection string this crate shows (in an
//! error, a `Debug` output, a log line) goes through [`redact_connection_string`].

use std::ops::Range;

/// `conninfo` with every password replaced by `***`, in each form PostgreSQL accepts:
///
/// - the user info of a URL, `postgres://user:secret@host/db` → `postgres://user:***@host/db`;
/// - a URL parameter, `postgres://user@host/db?password=secret&sslmode=disable` →
///   `...?password=***&sslmode=disable` (also `sslpassword`, and keys written with
///   percent escapes);
/// - a key-value string, `host=h password=secret` → `host=h password=***`, quoted
///   values included: `password='se cret'` → `password='***'`.
///
/// Anything else is kept, so the result still tells which server was meant. When in doubt
/// (a malformed string) it hides more rather than less.
///
/// ```
/// use ash_postgres::redact_connection_string;
///
/// assert_eq!(
///     redact_connection_string("postgres://app:hunter2@db.internal:5432/billing"),
///     "postgres://app:***@db.internal:5432/billing"
/// );
/// assert_eq!(
///     redact_connection_string("host=db user=app password='hunter 2' dbname=billing"),
///     "host=db user=app password='***' dbname=billing"
/// );
/// ```
pub fn redact_connection_string(conninfo: &str) -> String {
    let mut out = String::with_capacity(conninfo.len());
    let mut at = 0;
    for span in secret_spans(conninfo) {
        out.push_str(&conninfo[at..span.start]);
        out.push_str("***");
        at = span.end;
    }
    out.push_str(&conninfo[at..]);
    out
}

/// `message` with every password of `conninfo` that occurs in it (as written or percent
/// decoded) replaced by `***`: for texts made by other code from a connection string,
/// such as a driver's parse error. Secrets shorter than 3 characters are left alone (they
/// would blank out ordinary words and say nothing about the password).
pub(crate) fn scrub(message: &str, conninfo: &str) -> String {
    let mut message = message.to_owned();
    for span in secret_spans(conninfo) {
        let raw = &conninfo[span];
        for secret in [raw.to_owned(), percent_decode(raw)] {
            if secret.chars().count() >= 3 && message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "***");
            }
        }
    }
    message
}

/// The byte ranges of `conninfo` that hold a password (empty ones left out).
fn secret_spans(conninfo: &str) -> Vec<Range<usize>> {
    let mut spans = match conninfo.find("://") {
        Some(scheme_end) => url_spans(conninfo, scheme_end + 3),
        None => key_value_spans(conninfo),
    };
    spans.retain(|s| !s.is_empty());
    spans.sort_by_key(|s| s.start);
    spans.dedup();
    spans
}

fn is_password_key(key: &str) -> bool {
    percent_decode(key.trim())
        .to_ascii_lowercase()
        .ends_with("password")
}

/// `scheme://[user[:password]@]hosts[/db][?key=value&...]`.
fn url_spans(url: &str, rest_start: usize) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let rest = &url[rest_start..];
    // The last `@` ends the user info: a password may hold an unescaped `@`, `/` or `?`,
    // and hiding too much is the safe side.
    let after_userinfo = match rest.rfind('@') {
        Some(at) => {
            if let Some(colon) = rest[..at].find(':') {
                spans.push(rest_start + colon + 1..rest_start + at);
            }
            rest_start + at + 1
        }
        None => rest_start,
    };
    if let Some(question) = url[after_userinfo..].find('?') {
        let mut start = after_userinfo + question + 1;
        for param in url[start..].split('&') {
            if let Some(eq) = param.find('=') {
                if is_password_key(&param[..eq]) {
                    spans.push(start + eq + 1..start + param.len());
                }
            } else if is_password_key(param) {
                spans.push(start..start + param.len());
            }
            start += param.len() + 1;
        }
    }
    spans
}

/// `key = value key2 = 'quoted \' value'`, as libpq reads it.
fn key_value_spans(conninfo: &str) -> Vec<Range<usize>> {
    let bytes = conninfo.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_ws(i);
        if i >= bytes.len() {
            break;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &conninfo[key_start..i];
        i = skip_ws(i);
        if i < bytes.len() && bytes[i] == b'=' {
            i = skip_ws(i + 1);
        }
        // The value: quoted (backslash escapes inside) or up to the next whitespace.
        let (value, next) = if i < bytes.len() && bytes[i] == b'\'' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(bytes.len());
            (start..end, (end + 1).min(bytes.len()))
        } else {
            let start = i;
            let mut j = start;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(bytes.len());
            (start..end, end)
        };
        if is_password_key(key) {
            spans.push(value);
        }
        // Every step consumes at least one byte: the key, the `=` or the value.
        i = next.max(key_start + 1);
    }
    // A backslash escape may step over a multi-byte character's first byte: keep every
    // span on character boundaries (widening it).
    for span in &mut spans {
        while span.start > 0 && !conninfo.is_char_boundary(span.start) {
            span.start -= 1;
        }
        while span.end < conninfo.len() && !conninfo.is_char_boundary(span.end) {
            span.end += 1;
        }
    }
    spans
}

/// `%xx` escapes decoded (invalid ones kept as written), lossy on invalid UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{redact_connection_string as redact, scrub};

    #[test]
    fn url_user_info() {
        assert_eq!(
            redact("postgres://user:pass@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(
            redact("postgresql://user:p%40ss:w@rd@h1:5432,h2/db?sslmode=disable"),
            "postgresql://user:***@h1:5432,h2/db?sslmode=disable"
        );
        assert_eq!(redact("postgres://:pass@host"), "postgres://:***@host");
        assert_eq!(
            redact("postgres://user@host/db"),
            "postgres://user@host/db",
            "no password, nothing hidden"
        );
        assert_eq!(redact("postgres://host/db"), "postgres://host/db");
    }

    #[test]
    fn url_parameters() {
        assert_eq!(
            redact("postgres://user@host/db?password=pass"),
            "postgres://user@host/db?password=***"
        );
        assert_eq!(
            redact("postgres://user@host/db?sslmode=disable&password=pass&application_name=x"),
            "postgres://user@host/db?sslmode=disable&password=***&application_name=x"
        );
        assert_eq!(
            redact("postgres://u:a@host/db?PassWord=b&sslpassword=c&pass%77ord=d"),
            "postgres://u:***@host/db?PassWord=***&sslpassword=***&pass%77ord=***"
        );
        assert_eq!(
            redact("postgres://user@host/db?password"),
            "postgres://user@host/db?***"
        );
    }

    #[test]
    fn key_value_pairs() {
        assert_eq!(
            redact("host=localhost password=hunter2 user=postgres"),
            "host=localhost password=*** user=postgres"
        );
        assert_eq!(
            redact("host=localhost password='hunter 2' user=postgres"),
            "host=localhost password='***' user=postgres"
        );
        assert_eq!(
            redact("password = 'it\\'s a secret'   dbname=x"),
            "password = '***'   dbname=x"
        );
        assert_eq!(redact("password=hunter2"), "password=***");
        assert_eq!(redact("password=a\\ b c=d"), "password=*** c=d");
        assert_eq!(
            redact("host=h password hunter2"),
            "host=h password ***",
            "malformed: hidden anyway"
        );
        assert_eq!(redact("password='unterminated secret"), "password='***");
        assert_eq!(redact("host=h passfile=/x"), "host=h passfile=/x");
        assert_eq!(redact("password=é€ü x=1"), "password=*** x=1");
        assert_eq!(redact(""), "");
        assert_eq!(redact("password="), "password=");
    }

    #[test]
    fn no_form_leaks_its_password() {
        for (conninfo, secret) in [
            ("postgres://user:s3cr3t@host/db", "s3cr3t"),
            ("postgres://user@host/db?password=s3cr3t", "s3cr3t"),
            ("postgres://user@host/db?a=b&password=s3cr3t", "s3cr3t"),
            ("host=h password=hunter2", "hunter2"),
            ("host=h password='hunter 2'", "hunter 2"),
        ] {
            assert!(!redact(conninfo).contains(secret), "{conninfo}");
            let message = format!("cannot parse {conninfo}: got `{secret}` at the end");
            assert!(!scrub(&message, conninfo).contains(secret), "{message}");
        }
        assert_eq!(
            scrub("error near p@ss", "postgres://u:p%40ss@h/db"),
            "error near ***"
        );
        assert_eq!(
            scrub("a short one: ab", "password=ab"),
            "a short one: ab",
            "too short to tell"
        );
    }
}
