//! HTTP requests per second: the example service (`examples/http_api.rs`, ETS) against a
//! hand-written axum service over a `DashMap` doing the same work (JSON in and out, the
//! `If-Match` compare and the version bump under `get_mut`, `ETag` on every response).
//!
//! Both servers run in this process on loopback, each measured in turn by the same load
//! client (keep-alive connections, a fixed number of requests each), alternating for
//! several rounds; the report gives each round's ratio and the median. Requests per second
//! move with the machine's load, so only the ratios are worth quoting.
//!
//! `cargo bench --bench http`; `ASH_HTTP_BENCH_ROUNDS`,
//! `ASH_HTTP_BENCH_REQUESTS` and `ASH_HTTP_BENCH_CLIENTS` change the shape.

#[path = "../examples/http_api.rs"]
#[allow(dead_code)]
mod http_api;

use ash_rs::http::axum::{
    self,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

// --- the hand-written service ----------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Address {
    id: Uuid,
    version: i64,
    state: String,
    county: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    state: Option<String>,
    county: Option<String>,
}

type Table = Arc<DashMap<Uuid, Address>>;

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn with_etag(record: Address) -> Response {
    let tag = etag(record.version);
    ([(header::ETAG, tag)], Json(record)).into_response()
}

async fn hand_get(State(table): State<Table>, Path(id): Path<Uuid>) -> Response {
    match table.get(&id) {
        Some(record) => with_etag(record.value().clone()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn hand_patch(
    State(table): State<Table>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Json(patch): Json<Patch>,
) -> Response {
    let expected = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix('"')?.strip_suffix('"')?.parse::<i64>().ok());
    let Some(expected) = expected else {
        return StatusCode::PRECONDITION_REQUIRED.into_response();
    };
    let Some(mut stored) = table.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if stored.version != expected {
        return StatusCode::PRECONDITION_FAILED.into_response();
    }
    if let Some(state) = patch.state {
        stored.state = state;
    }
    if let Some(county) = patch.county {
        stored.county = county;
    }
    stored.version += 1;
    let record = stored.clone();
    drop(stored);
    with_etag(record)
}

fn hand_router(table: Table) -> Router {
    Router::new()
        .route("/addresses/{id}", get(hand_get).patch(hand_patch))
        .with_state(table)
}

// --- the load client -------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Get,
    Patch,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// The record's current version, from its `ETag`.
async fn current_version(client: &reqwest::Client, url: &str) -> i64 {
    let response = client.get(url).send().await.expect("get");
    response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_matches('"').parse().ok())
        .expect("an ETag")
}

/// Runs `requests` requests per record, one keep-alive client per record, all at once;
/// returns requests per second. Each side seeded its own store with one record per client.
async fn load(base: &str, ids: &[Uuid], op: Op, requests: usize) -> f64 {
    let mut prepared = Vec::new();
    for id in ids {
        let url = format!("{base}/addresses/{id}");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        // Untimed: the version to start from, and a warm connection.
        let version = current_version(&client, &url).await;
        prepared.push((client, url, version));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, url, version) in prepared {
        tasks.push(tokio::spawn(async move {
            let mut version = version;
            for i in 0..requests {
                let response = match op {
                    Op::Get => client.get(&url).send().await,
                    Op::Patch => {
                        client
                            .patch(&url)
                            .header("if-match", format!("\"{version}\""))
                            .header("content-type", "application/json")
                            .body(format!("{{\"county\":\"c{i}\"}}"))
                            .send()
                            .await
                    }
                }
                .expect("request");
                assert!(response.status().is_success(), "{}", response.status());
                if op == Op::Patch {
                    version += 1;
                }
                let _ = response.bytes().await.expect("body");
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    (ids.len() * requests) as f64 / started.elapsed().as_secs_f64()
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less args; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick {
        1
    } else {
        env("ASH_HTTP_BENCH_ROUNDS", 5)
    };
    let requests = if quick {
        5
    } else {
        env("ASH_HTTP_BENCH_REQUESTS", 2_000)
    };
    let clients = env("ASH_HTTP_BENCH_CLIENTS", 16);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let domain = http_api::ets::Domain::new();
        let mut ash_ids = Vec::new();
        let table: Table = Arc::new(DashMap::new());
        let mut hand_ids = Vec::new();
        for i in 0..clients {
            let record = domain
                .create_address("FL", format!("county {i}"))
                .await
                .expect("seed");
            ash_ids.push(record.id);
            let id = Uuid::new_v4();
            table.insert(
                id,
                Address {
                    id,
                    version: 1,
                    state: "FL".into(),
                    county: format!("county {i}"),
                },
            );
            hand_ids.push(id);
        }
        let ash = serve(http_api::ets::router(domain.clone())).await;
        let hand = serve(hand_router(table.clone())).await;
        tokio::time::sleep(Duration::from_millis(50)).await;

        println!("HTTP, {clients} keep-alive clients x {requests} requests, {rounds} rounds (ash / hand-written, requests per second)");
        for op in [Op::Get, Op::Patch] {
            let name = if op == Op::Get { "GET" } else { "PATCH" };
            let mut ratios = Vec::new();
            for round in 0..rounds {
                // Alternate who goes first, so drift on the machine hits both sides alike.
                let (a, h) = if round % 2 == 0 {
                    let a = load(&ash, &ash_ids, op, requests).await;
                    (a, load(&hand, &hand_ids, op, requests).await)
                } else {
                    let h = load(&hand, &hand_ids, op, requests).await;
                    (load(&ash, &ash_ids, op, requests).await, h)
                };
                // Ash is the slower side when the ratio (hand / ash throughput) is above 1.
                let ratio = h / a;
                println!("  {name} round {round}: ash {a:.0} req/s, hand {h:.0} req/s, ratio {ratio:.3}x");
                ratios.push(ratio);
            }
            println!(
                "  {name} median ratio (hand req/s / ash req/s): {:.3}x",
                median(&mut ratios)
            );
        }
    });
}
