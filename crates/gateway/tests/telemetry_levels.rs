#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The log level filters log lines only: at `RUST_LOG=warn` requests and vendor calls
//! are still traced, `traceparent` still reaches the vendor, and spans are still
//! exported over OTLP (counted at a local sink).

#[path = "common/binary.rs"]
mod binary;
mod common;
#[path = "common/sim_stats.rs"]
mod sim_stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::routing::post;
use common::{default_config_in, examples, vendors};

/// An OTLP/HTTP trace receiver that counts export requests.
async fn otlp_sink() -> (Arc<AtomicU32>, std::net::SocketAddr) {
    let count = Arc::new(AtomicU32::new(0));
    let c = count.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let c = c.clone();
            async move {
                if !body.is_empty() {
                    c.fetch_add(1, Ordering::SeqCst);
                }
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (count, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_rust_log_warn_vendor_calls_carry_traceparent_and_spans_are_exported() {
    let (exports, sink) = otlp_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    let endpoint = format!("http://{sink}");
    let mut gw = binary::spawn(
        &config,
        &[
            // Only the ready line (it says which ports) is kept above warn.
            ("RUST_LOG", "warn,gateway::server=info"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_SAMPLER", "always_on"),
        ],
        &[],
    )
    .await;
    let http = reqwest::Client::new();
    for vendor in vendors() {
        let (_, order) = examples(vendor).remove(0);
        let r = http
            .post(format!("http://{}/v1/orders", gw.api))
            .bearer_auth("dev-key")
            .json(&order)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{vendor}: {}", r.status());
        let (traceparents, stats) =
            sim_stats::order_call_traceparents(&http, gw.proc.sim_port(vendor)).await;
        let with_traceparent = traceparents.iter().filter(|t| t.starts_with("00-")).count();
        assert!(
            with_traceparent > 0,
            "{vendor}: no traceparent at warn: {stats}"
        );
    }
    // Shutdown flushes the batch exporter, so the count does not depend on its timer.
    assert!(gw.terminate().await.success(), "{}", gw.proc.output_tail());
    assert!(
        exports.load(Ordering::SeqCst) > 0,
        "no OTLP export at warn:\n{}",
        gw.proc.output_tail()
    );
}
