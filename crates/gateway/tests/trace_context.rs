#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! W3C trace context through the real binary (its OpenTelemetry layer is installed at
//! start): an inbound `traceparent` is continued, handed back in `x-trace-id` and in
//! problem bodies, and propagated to the vendor under a new parent span.

mod common;
#[path = "common/sim_stats.rs"]
mod sim_stats;

use common::{Proc, default_config_in, examples, vendors};
use serde_json::{Value, json};

#[tokio::test]
async fn an_inbound_trace_context_is_continued_to_the_vendor_and_handed_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    let mut proc = Proc::spawn(&config);
    let http = reqwest::Client::new();
    proc.wait_ready().await;
    let api = proc.api();

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_span = "00f067aa0ba902b7";
    let send = |body: Value| {
        http.post(format!("http://127.0.0.1:{api}/v1/orders"))
            .bearer_auth("dev-key")
            .header("traceparent", format!("00-{trace}-{parent_span}-01"))
            .json(&body)
            .send()
    };
    for vendor in vendors() {
        let (_, order) = examples(vendor).remove(0);
        let r = send(order.clone()).await.unwrap();
        assert!(r.status().is_success(), "{vendor}: {}", r.status());
        assert_eq!(r.headers()["x-trace-id"], trace, "{vendor}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["traceId"], trace, "{vendor}");

        let (order_calls, stats) =
            sim_stats::order_call_traceparents(&http, proc.sim_port(vendor)).await;
        assert!(!order_calls.is_empty(), "{vendor}: {stats}");
        for tp in order_calls {
            assert!(tp.starts_with(&format!("00-{trace}-")), "{vendor}: {tp}");
            assert!(!tp.contains(parent_span), "{vendor}: a new span id: {tp}");
        }
    }
    // A problem carries it too.
    let (_, mut bad) = examples(vendors()[0]).remove(0);
    bad["orderRef"] = json!("");
    let r = send(bad).await.unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["x-trace-id"], trace);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["traceId"], trace);
}
