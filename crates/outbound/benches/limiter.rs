#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! What the limiter adds to a vendor call, local vs fleet: `ConnectionClient::admit` (the
//! breaker, the limiter, the in-flight slot, no auth, nothing sent) at a limit high enough
//! that no call waits. Fleet scope is one `EVALSHA` to a `redis-server` on a Unix socket
//! (started here, as in the tests), so the difference is the Redis round trip's cost.

#[allow(dead_code)]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use criterion::{Criterion, criterion_group, criterion_main};
use outbound::{ConnectionClient, ConnectionSettings, FleetStore, RedisSettings};
use serde_json::json;

fn client(scope: &str, fleet: Option<&std::sync::Arc<FleetStore>>) -> ConnectionClient {
    let settings: ConnectionSettings = serde_json::from_value(json!({
        "baseUrl": "http://127.0.0.1:9",
        "auth": {"kind": "none"},
        "limits": {"ratePerSec": 1_000_000, "burst": 1_000_000, "maxInFlight": 10_000,
                   "scope": scope},
    }))
    .expect("settings");
    ConnectionClient::with_fleet("bench", "bench", &settings, &|_| None, fleet).expect("client")
}

fn limiter(c: &mut Criterion) {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let settings: RedisSettings =
        serde_json::from_value(json!({"url": redis.url(), "timeoutMs": 1000})).expect("redis");
    let store = FleetStore::new(&settings, &|_| None).expect("store");
    let local = client("local", None);
    let fleet = rt.block_on(async { client("fleet", Some(&store)) });

    let mut g = c.benchmark_group("limiter_admit");
    g.bench_function("local", |b| {
        b.to_async(&rt)
            .iter(|| async { drop(local.admit().await.expect("admitted")) })
    });
    g.bench_function("fleet_redis_unix_socket", |b| {
        b.to_async(&rt)
            .iter(|| async { drop(fleet.admit().await.expect("admitted")) })
    });
    g.finish();
    drop(redis);
}

criterion_group!(benches, limiter);
criterion_main!(benches);
