#![allow(clippy::expect_used, clippy::unwrap_used)]
//! What the outbound stack adds to a vendor call: the same POST to the same loopback
//! server, once with a bare `reqwest::Client` and once through `ConnectionClient::send`
//! (breaker, pause check, in-flight cap, rate limiter at a high limit, auth, a client
//! span, metrics, the answer read whole). The difference of the medians, measured in one
//! run, is the stack's cost. Tracing is set up as the gateway runs with the exporter
//! off: an OpenTelemetry tracer behind `tracing-opentelemetry`, so every span is real.

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use connector::{RetrySafety, VendorRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use outbound::{ConnectionClient, ConnectionSettings};
use serde_json::json;

const BODY: &[u8] = br#"{"customer":{"id":"c-1"},"items":[{"productId":"p-1","quantity":2}]}"#;

fn server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    rt.block_on(async {
        let app = Router::new()
            .route(
                "/orders",
                post(|| async { (StatusCode::CREATED, r#"{"id":"o-1","status":"NEW"}"#) }),
            )
            .route(
                "/token",
                post(|| async {
                    axum::Json(
                        json!({"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}),
                    )
                }),
            );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(l, app).await });
        addr
    })
}

fn client(addr: SocketAddr, auth: serde_json::Value) -> ConnectionClient {
    let settings: ConnectionSettings = serde_json::from_value(json!({
        "baseUrl": format!("http://{addr}"),
        "auth": auth,
        "limits": {"ratePerSec": 1_000_000, "burst": 1_000_000, "maxInFlight": 10_000},
    }))
    .expect("settings");
    let env = |n: &str| (n == "BENCH_SECRET").then(|| "s".to_owned());
    ConnectionClient::new("bench", "bench", &settings, &env).expect("client")
}

fn tracing_as_in_the_gateway() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("bench");
    opentelemetry::global::set_tracer_provider(provider);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init();
}

fn overhead(c: &mut Criterion) {
    tracing_as_in_the_gateway();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = server(&rt);
    let bare = reqwest::Client::new();
    let url = format!("http://{addr}/orders");
    let static_header = client(
        addr,
        json!({"kind": "staticHeader", "header": "accessToken", "token": "${BENCH_SECRET}"}),
    );
    let oauth = client(
        addr,
        json!({"kind": "oauth2ClientCredentials", "tokenUrl": format!("http://{addr}/token"),
               "clientId": "cid", "clientSecret": "${BENCH_SECRET}"}),
    );
    let req = VendorRequest::post_json("/orders", BODY.to_vec(), RetrySafety::NotAfterSend);

    let mut g = c.benchmark_group("vendor_call");
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let r = bare
                .post(&url)
                .header("content-type", "application/json")
                .header("accessToken", "s")
                .body(BODY)
                .send()
                .await
                .expect("send");
            r.bytes().await.expect("body")
        })
    });
    g.bench_function("stack_static_header", |b| {
        b.to_async(&rt)
            .iter(|| async { static_header.send(&req).await.expect("send") })
    });
    g.bench_function("stack_oauth2_cached_token", |b| {
        b.to_async(&rt)
            .iter(|| async { oauth.send(&req).await.expect("send") })
    });
    g.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
