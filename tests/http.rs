//! The JSON service of `examples/http_api.rs`, driven over real HTTP with hyper's client, on ETS
//! and on PostgreSQL: the whole flow with exact statuses, headers and bodies; bad input
//! (always a JSON 4xx, never a panic, nothing written); 64 clients incrementing one record
//! through If-Match with no update lost; a client stalling mid-body holding up nobody.
//!
//! PostgreSQL cases print one line and pass without a server, unless `CI` is set.

#[path = "../examples/http_api.rs"]
mod http_api;
#[cfg(feature = "postgres")]
mod pg_support;

use ash_rs::http::axum::body::Bytes;
use ash_rs::http::axum::http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

/// The HTTP/1.1 client of the tests: hyper's, with pooled keep-alive connections.
type Client = HyperClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;
use ash_rs::http::axum::{self, Extension, Router};
use ash_rs::http::{ErrorBody, JsonConfig};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single request may take before the test fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// A service on `127.0.0.1:0`, stopped when dropped.
struct Server {
    addr: std::net::SocketAddr,
    base: String,
    client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(app: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let client = HyperClient::builder(TokioExecutor::new()).build_http();
    Server {
        addr,
        base: format!("http://{addr}"),
        client,
        task,
    }
}

/// One response, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    etag: Option<String>,
    content_type: Option<String>,
    location: Option<String>,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts a JSON error response of `status` and returns its body (which must also
    /// read as an [`ErrorBody`], and round-trip).
    fn error(&self, status: u16) -> ErrorBody {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let body: ErrorBody = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not an error body ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        });
        assert!(!body.errors.is_empty());
        let again: ErrorBody =
            serde_json::from_str(&serde_json::to_string(&body).expect("serialize"))
                .expect("round-trip");
        assert_eq!(again, body);
        body
    }

    /// The error's first object's code, checking the response is a JSON error of `status`.
    fn code(&self, status: u16) -> String {
        self.error(status).errors[0].code.clone()
    }
}

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(body))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).expect("a request");
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
            .await
            .expect("a response in time")
            .expect("a response");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().expect("ASCII header").to_owned())
        };
        let (etag, content_type, location, retry_after) = (
            header("etag"),
            header("content-type"),
            header("location"),
            header("retry-after"),
        );
        let status = response.status().as_u16();
        let body = tokio::time::timeout(REQUEST_TIMEOUT, response.into_body().collect())
            .await
            .expect("the body in time")
            .expect("the body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            etag,
            content_type,
            location,
            retry_after,
            body,
        }
    }

    async fn post(&self, path: &str, body: &str) -> Reply {
        self.send(Method::POST, path, None, Some(body.as_bytes().to_vec()))
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    async fn patch(&self, path: &str, if_match: Option<&str>, body: &str) -> Reply {
        self.send(
            Method::PATCH,
            path,
            if_match,
            Some(body.as_bytes().to_vec()),
        )
        .await
    }

    async fn delete(&self, path: &str, if_match: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, if_match, None).await
    }

    /// Creates an address and returns its path and id.
    async fn create(&self, state: &str, county: &str) -> (String, String) {
        let reply = self
            .post(
                "/addresses",
                &json!({"state": state, "county": county}).to_string(),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "{:?}",
            String::from_utf8_lossy(&reply.body)
        );
        let id = reply.json()["id"].as_str().expect("an id").to_owned();
        (format!("/addresses/{id}"), id)
    }

    /// The stored record, through GET.
    async fn stored(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(
            reply.status,
            200,
            "{:?}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }
}

fn record(id: &str, version: i64, state: &str, county: &str) -> Value {
    json!({"id": id, "version": version, "state": state, "county": county})
}

/// A test body for both data layers: it gets a router factory, so it can serve the same
/// domain more than once (or with other settings).
trait Layer: Clone + Send + Sync + 'static {
    fn router(&self) -> Router;
    /// How many addresses are stored.
    fn count(&self) -> impl Future<Output = usize> + Send;
}

#[derive(Clone)]
struct EtsLayer(http_api::ets::Domain);

impl Layer for EtsLayer {
    fn router(&self) -> Router {
        http_api::ets::router(self.0.clone())
    }
    async fn count(&self) -> usize {
        ash_rs::api::read(
            &self.0,
            http_api::ets::AddressReadInput::default(),
            ash_rs::query::Query::new(),
        )
        .await
        .expect("read")
        .len()
    }
}

fn ets() -> EtsLayer {
    EtsLayer(http_api::ets::Domain::new())
}

#[cfg(feature = "postgres")]
#[derive(Clone)]
struct PgLayer {
    domain: http_api::pg::Domain,
    /// Keeps the schema until the last clone is gone.
    _db: std::sync::Arc<pg_support::TestDb>,
}

#[cfg(feature = "postgres")]
impl Layer for PgLayer {
    fn router(&self) -> Router {
        http_api::pg::router(self.domain.clone())
    }
    async fn count(&self) -> usize {
        ash_rs::api::read(
            &self.domain,
            http_api::pg::AddressReadInput::default(),
            ash_rs::query::Query::new(),
        )
        .await
        .expect("read")
        .len()
    }
}

/// A PostgreSQL domain in a fresh schema with a 16-connection pool, or `None` (after one
/// printed line) without a server.
#[cfg(feature = "postgres")]
async fn pg() -> Option<PgLayer> {
    // 64 clients on 16 connections wait their turn: a generous wait for a connection, so
    // a loaded machine (CI runs other test binaries at once) slows the test down instead
    // of failing a PATCH with the pool's timeout.
    let db =
        pg_support::TestDb::with(|b| b.max_size(16).connection_timeout(Duration::from_secs(60)))
            .await?;
    let domain = http_api::pg::Domain::connect(&db.pool)
        .await
        .expect("connect the domain");
    Some(PgLayer {
        domain,
        _db: std::sync::Arc::new(db),
    })
}

/// Bounds a whole test body.
async fn bounded<T>(what: &str, seconds: u64, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), body)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {seconds} s"))
}

// ---------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------

async fn flow(layer: impl Layer) {
    let server = serve(layer.router()).await;

    // Create: 201, the record, ETag "1", Location.
    let created = server
        .post("/addresses", r#"{"state":"FL","county":"Pinellas"}"#)
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.etag.as_deref(), Some("\"1\""));
    assert_eq!(created.content_type.as_deref(), Some("application/json"));
    let id = created.json()["id"].as_str().expect("an id").to_owned();
    let path = format!("/addresses/{id}");
    assert_eq!(created.location.as_deref(), Some(path.as_str()));
    assert_eq!(created.json(), record(&id, 1, "FL", "Pinellas"));
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    // Get: 200 and the ETag.
    let got = server.get(&path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.etag.as_deref(), Some("\"1\""));
    assert_eq!(got.content_type.as_deref(), Some("application/json"));
    assert_eq!(got.json(), record(&id, 1, "FL", "Pinellas"));

    // Patch with the current version: 200 and the new ETag.
    let patched = server
        .patch(
            &path,
            Some("\"1\""),
            r#"{"state":"NC","county":"Guilford"}"#,
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.etag.as_deref(), Some("\"2\""));
    assert_eq!(patched.json(), record(&id, 2, "NC", "Guilford"));

    // Patch with the old version: 412, the StaleRecord error, nothing written.
    let stale = server
        .patch(&path, Some("\"1\""), r#"{"county":"Miami-Dade"}"#)
        .await;
    stale.error(412);
    assert_eq!(stale.etag, None);
    assert_eq!(
        stale.json(),
        json!({"errors": [{
            "status": "412",
            "class": "invalid",
            "code": "stale_record",
            "message": "Attempted to update stale record of Address with filter: version == 1",
            "meta": {
                "resource": "Address",
                "operation": "update",
                "filter": {"cmp": {"field": "version", "op": "eq", "value": 1}},
            },
        }]})
    );
    assert_eq!(server.stored(&path).await, record(&id, 2, "NC", "Guilford"));

    // No If-Match: 428.
    let required = server
        .patch(&path, None, r#"{"county":"Miami-Dade"}"#)
        .await;
    assert_eq!(
        required.json(),
        json!({"errors": [{
            "status": "428",
            "class": "invalid",
            "code": "precondition_required",
            "message": "this request must carry If-Match with the record's ETag, e.g. If-Match: \"1\"",
            "field": "If-Match",
        }]})
    );
    required.error(428);

    // Refetch and retry, as the seed does.
    let fresh = server.get(&path).await;
    let tag = fresh.etag.expect("an ETag");
    let retried = server
        .patch(&path, Some(&tag), r#"{"county":"Miami-Dade"}"#)
        .await;
    assert_eq!(retried.status, 200);
    assert_eq!(retried.etag.as_deref(), Some("\"3\""));
    assert_eq!(retried.json(), record(&id, 3, "NC", "Miami-Dade"));

    // An unknown field: 422 naming it.
    let unknown = server
        .patch(&path, Some("\"3\""), r#"{"colour":"red"}"#)
        .await;
    assert_eq!(
        unknown.json(),
        json!({"errors": [{
            "status": "422",
            "class": "invalid",
            "code": "no_such_input",
            "message": "No such input `colour` for action Address.update; valid inputs: state, county",
            "field": "colour",
            "meta": {
                "resource": "Address",
                "action": "update",
                "input": "colour",
                "inputs": ["state", "county"],
            },
        }]})
    );
    unknown.error(422);

    // Delete with a stale version: 412, the record stays.
    let stale_delete = server.delete(&path, Some("\"2\"")).await;
    assert_eq!(
        stale_delete.json(),
        json!({"errors": [{
            "status": "412",
            "class": "invalid",
            "code": "stale_record",
            "message": "Attempted to destroy stale record of Address with filter: version == 2",
            "meta": {
                "resource": "Address",
                "operation": "destroy",
                "filter": {"cmp": {"field": "version", "op": "eq", "value": 2}},
            },
        }]})
    );
    stale_delete.error(412);
    assert_eq!(
        server.stored(&path).await,
        record(&id, 3, "NC", "Miami-Dade")
    );

    // Delete without If-Match: 428.
    assert_eq!(
        server.delete(&path, None).await.code(428),
        "precondition_required"
    );

    // Delete with the current version: 204, no body; then 404 everywhere.
    let deleted = server.delete(&path, Some("\"3\"")).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    let gone = server.get(&path).await;
    assert_eq!(
        gone.json(),
        json!({"errors": [{
            "status": "404",
            "class": "invalid",
            "code": "not_found",
            "message": format!("record of Address with id == \"{id}\" not found"),
            "meta": {
                "resource": "Address",
                "filter": {"cmp": {"field": "id", "op": "eq", "value": id}},
            },
        }]})
    );
    gone.error(404);
    assert_eq!(
        server.patch(&path, Some("\"3\""), "{}").await.code(404),
        "not_found"
    );
    assert_eq!(
        server.delete(&path, Some("\"3\"")).await.code(404),
        "not_found"
    );
    assert_eq!(layer.count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ets_flow() {
    bounded("the flow", 60, flow(ets())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_flow() {
    let Some(layer) = pg().await else { return };
    bounded("the flow", 60, flow(layer)).await;
}

/// Every connection of the pool busy for the pool's whole wait: 503 with `Retry-After` and
/// a generic message, then 200 again once one is free.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_a_busy_pool_is_503_with_retry_after() {
    let Some(db) =
        pg_support::TestDb::with(|b| b.max_size(1).connection_timeout(Duration::from_millis(300)))
            .await
    else {
        return;
    };
    let domain = http_api::pg::Domain::connect(&db.pool)
        .await
        .expect("connect the domain");
    let server = serve(http_api::pg::router(domain)).await;
    let (path, _) = server.create("FL", "Pinellas").await;
    let held = db.pool.get().await.expect("the pool's one connection");
    let reply = server.get(&path).await;
    assert_eq!(reply.code(503), "unavailable");
    assert_eq!(reply.retry_after.as_deref(), Some("1"));
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("127.0.0.1") && !text.contains("postgres"),
        "{text}"
    );
    drop(held);
    assert_eq!(server.get(&path).await.status, 200);
}

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

/// A bad PATCH body: what it is, the bytes, and the status, code and field it must give.
type BadBody = (
    &'static str,
    Vec<u8>,
    u16,
    &'static str,
    Option<&'static str>,
);

async fn bad_input(layer: impl Layer) {
    let server = serve(layer.router()).await;
    let (path, id) = server.create("FL", "Pinellas").await;
    let unchanged = record(&id, 1, "FL", "Pinellas");
    let tag = Some("\"1\"");

    // Bodies of a PATCH, each with its status, code and field.
    let oversized = format!(r#"{{"county":"{}"}}"#, "x".repeat(64 * 1024));
    let deep = format!("{}{}", "[".repeat(1_000), "]".repeat(1_000));
    let cases: Vec<BadBody> = vec![
        (
            "truncated JSON",
            br#"{"county":"#.to_vec(),
            400,
            "invalid_json",
            None,
        ),
        ("not JSON", b"county=X".to_vec(), 400, "invalid_json", None),
        ("empty body", Vec::new(), 400, "invalid_json", None),
        (
            "invalid UTF-8",
            b"{\"county\":\"\xff\"}".to_vec(),
            400,
            "invalid_json",
            None,
        ),
        ("deep nesting", deep.into_bytes(), 400, "invalid_json", None),
        (
            "trailing garbage",
            br#"{"county":"X"} x"#.to_vec(),
            400,
            "invalid_json",
            None,
        ),
        ("an array", b"[1]".to_vec(), 422, "invalid_attribute", None),
        ("null", b"null".to_vec(), 422, "invalid_attribute", None),
        (
            "wrong type",
            br#"{"county":5}"#.to_vec(),
            422,
            "invalid_attribute",
            Some("county"),
        ),
        (
            "null county",
            br#"{"county":null}"#.to_vec(),
            422,
            "invalid_attribute",
            Some("county"),
        ),
        (
            "nested type",
            br#"{"state":{"a":1}}"#.to_vec(),
            422,
            "invalid_attribute",
            Some("state"),
        ),
        (
            "unknown field",
            br#"{"colour":"red"}"#.to_vec(),
            422,
            "no_such_input",
            Some("colour"),
        ),
        (
            "unknown and valid",
            br#"{"county":"X","colour":"red"}"#.to_vec(),
            422,
            "no_such_input",
            Some("colour"),
        ),
        (
            "the version",
            br#"{"version":7}"#.to_vec(),
            422,
            "no_such_input",
            Some("version"),
        ),
        (
            "the id",
            br#"{"id":"x"}"#.to_vec(),
            422,
            "no_such_input",
            Some("id"),
        ),
        (
            "oversized",
            oversized.into_bytes(),
            413,
            "payload_too_large",
            None,
        ),
    ];
    for (what, body, status, code, field) in cases {
        let reply = server.send(Method::PATCH, &path, tag, Some(body)).await;
        let error = reply.error(status);
        assert_eq!(error.errors[0].code, code, "{what}: {error:?}");
        assert_eq!(error.errors[0].status, status.to_string(), "{what}");
        assert_eq!(error.errors[0].field.as_deref(), field, "{what}: {error:?}");
        assert_eq!(server.stored(&path).await, unchanged, "{what} wrote");
    }

    // Every problem of an object at once.
    let both = server
        .patch(&path, tag, r#"{"colour":"red","county":5}"#)
        .await
        .error(422);
    let fields: Vec<_> = both.errors.iter().map(|e| e.field.as_deref()).collect();
    assert_eq!(fields, [Some("colour"), Some("county")]);

    // Exactly the limit is accepted.
    let mut at_limit = br#"{"county":"Limit"}"#.to_vec();
    at_limit.resize(64 * 1024, b' ');
    let reply = server.send(Method::PATCH, &path, tag, Some(at_limit)).await;
    assert_eq!(
        reply.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json(), record(&id, 2, "FL", "Limit"));
    let unchanged = record(&id, 2, "FL", "Limit");

    // An oversized chunked body (no Content-Length) is cut off as it streams.
    let reply = raw(
        &server,
        &format!(
            "PATCH {path} HTTP/1.1\r\nHost: t\r\nIf-Match: \"2\"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            70_000,
            format_args!(r#"{{"county":"{}"}}"#, "y".repeat(70_000 - 13)),
        ),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
    assert!(reply.contains("\"code\":\"payload_too_large\""), "{reply}");
    assert_eq!(server.stored(&path).await, unchanged);

    // If-Match: malformed is 400, a weak tag never matches (412), none is 428.
    for bad in [
        "2",
        "\"abc\"",
        "\"2",
        "W/2",
        "\"1\", \"2\"",
        "*, \"2\"",
        "\"-2\"",
        "",
    ] {
        let reply = server.patch(&path, Some(bad), r#"{"county":"X"}"#).await;
        let error = reply.error(400);
        assert_eq!(error.errors[0].code, "invalid_if_match", "{bad:?}");
        assert_eq!(error.errors[0].field.as_deref(), Some("If-Match"));
        assert_eq!(
            server.delete(&path, Some(bad)).await.code(400),
            "invalid_if_match"
        );
    }
    for weak in ["W/\"2\"", "W/\"1\", W/\"2\""] {
        let reply = server.patch(&path, Some(weak), r#"{"county":"X"}"#).await;
        assert_eq!(reply.code(412), "precondition_failed", "{weak:?}");
        assert_eq!(
            server.delete(&path, Some(weak)).await.code(412),
            "precondition_failed"
        );
    }
    assert_eq!(
        server
            .patch(&path, None, r#"{"county":"X"}"#)
            .await
            .code(428),
        "precondition_required"
    );
    assert_eq!(server.stored(&path).await, unchanged);

    // A weak tag among strong ones: the strong one counts.
    let reply = server
        .patch(&path, Some("W/\"2\", \"2\""), r#"{"county":"Strong"}"#)
        .await;
    assert_eq!(reply.status, 200);
    let unchanged = record(&id, 3, "FL", "Strong");
    assert_eq!(server.stored(&path).await, unchanged);

    // Malformed ids: 400 naming the parameter, on every method.
    for bad in ["nope", "1", "00000000-0000-0000-0000-00000000000g", "%FF"] {
        let p = format!("/addresses/{bad}");
        for reply in [
            server.get(&p).await,
            server.patch(&p, Some("\"3\""), r#"{"county":"X"}"#).await,
            server.delete(&p, Some("\"3\"")).await,
        ] {
            let error = reply.error(400);
            assert_eq!(error.errors[0].code, "invalid_path", "{bad}");
            assert_eq!(error.errors[0].field.as_deref(), Some("id"), "{bad}");
        }
    }
    // Unknown ids: 404.
    let missing = format!("/addresses/{}", uuid::Uuid::new_v4());
    assert_eq!(server.get(&missing).await.code(404), "not_found");
    assert_eq!(
        server.patch(&missing, Some("\"1\""), "{}").await.code(404),
        "not_found"
    );
    assert_eq!(
        server.delete(&missing, Some("\"1\"")).await.code(404),
        "not_found"
    );
    // Unknown routes and methods.
    assert_eq!(server.get("/nowhere").await.code(404), "no_such_route");
    assert_eq!(
        server
            .send(Method::PUT, &path, None, Some(b"{}".to_vec()))
            .await
            .code(405),
        "method_not_allowed"
    );

    // Creates: bad bodies are errors and create nothing.
    for (body, status, code, field) in [
        (r#"{"state":"FL""#, 400, "invalid_json", None),
        (r#"{"state":"FL"}"#, 422, "required", Some("county")),
        (
            r#"{"state":1,"county":"X"}"#,
            422,
            "invalid_attribute",
            Some("state"),
        ),
        (
            r#"{"state":"FL","county":"X","id":"00000000-0000-0000-0000-000000000000"}"#,
            422,
            "no_such_input",
            Some("id"),
        ),
        (
            r#"{"state":"FL","county":"X","version":9}"#,
            422,
            "no_such_input",
            Some("version"),
        ),
    ] {
        let error = server.post("/addresses", body).await.error(status);
        assert_eq!(error.errors[0].code, code, "{body}");
        assert_eq!(error.errors[0].field.as_deref(), field, "{body}");
    }
    let missing_both = server.post("/addresses", "{}").await.error(422);
    let fields: Vec<_> = missing_both
        .errors
        .iter()
        .map(|e| e.field.as_deref())
        .collect();
    assert_eq!(fields.len(), 2, "{missing_both:?}");
    assert!(fields.contains(&Some("state")) && fields.contains(&Some("county")));

    assert_eq!(server.stored(&path).await, unchanged);
    assert_eq!(layer.count().await, 1);
}

/// Sends raw bytes on a fresh connection and reads the reply until the server closes it
/// (or 10 s pass).
async fn raw(server: &Server, request: &str) -> String {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ets_bad_input() {
    bounded("bad input", 120, bad_input(ets())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_bad_input() {
    let Some(layer) = pg().await else { return };
    bounded("bad input", 120, bad_input(layer)).await;
}

// ---------------------------------------------------------------------------------------
// Concurrent clients
// ---------------------------------------------------------------------------------------

const CLIENTS: usize = 64;
const INCREMENTS: usize = 20;
/// Attempts one client may make before the test gives up on it.
const MAX_ATTEMPTS: usize = 20_000;

/// A client's wait after a refused PATCH: up to 100 µs << (refusals in a row, at most 8),
/// drawn by a small xorshift generator seeded per client (no `rand` needed).
struct Backoff {
    state: u64,
    streak: u32,
}

impl Backoff {
    fn new(seed: u64) -> Self {
        Backoff {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            streak: 0,
        }
    }

    fn reset(&mut self) {
        self.streak = 0;
    }

    fn next(&mut self) -> Duration {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let cap = 100u64 << self.streak.min(8);
        self.streak += 1;
        Duration::from_micros(self.state % cap + 1)
    }
}

/// 64 clients each make 20 successful read-then-PATCH increments of one record's county
/// (a number), retrying on 412. Every success saw the latest value, so the county ends
/// at the number of 200s and the version one above it.
async fn concurrent_increments(layer: impl Layer) {
    let server = std::sync::Arc::new(serve(layer.router()).await);
    let (path, id) = server.create("FL", "0").await;

    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let server = server.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut stale) = (0usize, 0usize);
            // Refused clients back off as real ones do (jittered, growing with the refusals
            // in a row): without it all 64 re-read at once and only one of them can win.
            let mut backoff = Backoff::new(client as u64);
            for _ in 0..MAX_ATTEMPTS {
                if ok == INCREMENTS {
                    break;
                }
                let current = server.get(&path).await;
                assert_eq!(current.status, 200);
                let tag = current.etag.clone().expect("an ETag");
                let county: u64 = current.json()["county"]
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .expect("a numeric county");
                let body = json!({"county": (county + 1).to_string()}).to_string();
                let reply = server.patch(&path, Some(&tag), &body).await;
                match reply.status {
                    200 => {
                        ok += 1;
                        backoff.reset();
                    }
                    412 => {
                        assert_eq!(reply.code(412), "stale_record");
                        stale += 1;
                        tokio::time::sleep(backoff.next()).await;
                    }
                    other => panic!(
                        "PATCH gave {other}: {:?}",
                        String::from_utf8_lossy(&reply.body)
                    ),
                }
            }
            assert_eq!(ok, INCREMENTS, "a client ran out of attempts");
            (ok, stale)
        }));
    }
    let (mut ok, mut stale) = (0, 0);
    for task in tasks {
        let (o, s) = task.await.expect("a client task");
        ok += o;
        stale += s;
    }
    assert_eq!(ok, CLIENTS * INCREMENTS);
    eprintln!("{ok} increments, {stale} stale attempts retried");
    let last = server.stored(&path).await;
    assert_eq!(
        last,
        record(&id, 1 + ok as i64, "FL", &ok.to_string()),
        "{stale} stale attempts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ets_concurrent_increments() {
    bounded("64 clients", 300, concurrent_increments(ets())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_concurrent_increments() {
    let Some(layer) = pg().await else { return };
    bounded("64 clients", 300, concurrent_increments(layer)).await;
}

// ---------------------------------------------------------------------------------------
// A stalled client
// ---------------------------------------------------------------------------------------

/// A client sends a PATCH's headers (`Content-Length: 100`) and 10 bytes of body, then
/// waits. Meanwhile other requests, a PATCH of the same record included, complete; the
/// stalled one ends with 408 once the read timeout passes, and writes nothing.
async fn stalled_client(layer: impl Layer) {
    let app = layer.router().layer(Extension(
        JsonConfig::default().read_timeout(Duration::from_secs(2)),
    ));
    let server = serve(app).await;
    let (path, id) = server.create("FL", "Pinellas").await;

    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: t\r\nIf-Match: \"1\"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    stalled.write_all(head.as_bytes()).await.expect("headers");
    stalled.write_all(br#"{"county":"#).await.expect("10 bytes");
    stalled.flush().await.expect("flush");

    // Others go on meanwhile (each bounded by the client's timeout).
    let patched = server
        .patch(&path, Some("\"1\""), r#"{"county":"Guilford"}"#)
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json(), record(&id, 2, "FL", "Guilford"));
    let (other, _) = server.create("NC", "Wake").await;
    assert_eq!(server.get(&other).await.status, 200);
    let server = std::sync::Arc::new(server);
    let mut others = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (server, path) = (server.clone(), path.clone());
        others.spawn(async move { server.get(&path).await.status });
    }
    while let Some(status) = others.join_next().await {
        assert_eq!(status.expect("a client task"), 200);
    }

    // The stalled request times out with a JSON 408, having written nothing.
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buf[..n]);
                    if reply.windows(4).any(|w| w == b"\r\n\r\n") && reply.ends_with(b"}]}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the stalled request got no answer");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
    assert!(reply.contains("\"code\":\"request_timeout\""), "{reply}");
    assert_eq!(server.stored(&path).await, record(&id, 2, "FL", "Guilford"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ets_stalled_client() {
    bounded("the stalled client", 60, stalled_client(ets())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_stalled_client() {
    let Some(layer) = pg().await else { return };
    bounded("the stalled client", 60, stalled_client(layer)).await;
}
