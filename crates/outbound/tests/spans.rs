#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Client spans follow the OpenTelemetry HTTP conventions, carry no secrets, and the
//! vendor receives a W3C `traceparent` of the same trace.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use connector::{RetrySafety, VendorRequest};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use outbound::ConnectionClient;
use serde_json::json;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn client_spans_carry_http_conventions_and_the_trace_reaches_the_vendor() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let app = {
        let seen = seen.clone();
        Router::new().route(
            "/orders",
            post(move |h: HeaderMap| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(h);
                    (axum::http::StatusCode::CREATED, "{}")
                }
            }),
        )
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let settings = serde_json::from_value(json!({
        "baseUrl": format!("http://{addr}"),
        "auth": {"kind": "staticHeader", "header": "accessToken", "token": "super-secret-token"}
    }))
    .unwrap();
    let client = ConnectionClient::new("axim-test", "axim", &settings, &|_: &str| None).unwrap();
    let parent = tracing::info_span!("request");
    let req = VendorRequest::post_json(
        "/orders",
        br#"{"customer":"Jane Person"}"#.to_vec(),
        RetrySafety::NotAfterSend,
    );
    client.send(&req).instrument(parent).await.unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let client_span = spans
        .iter()
        .find(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "http.request.method")
        })
        .expect("a client span");
    let attr = |k: &str| {
        client_span
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("http.request.method").as_deref(), Some("POST"));
    assert_eq!(attr("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attr("server.port"), Some(addr.port().to_string()));
    assert_eq!(attr("url.full"), Some(format!("http://{addr}/orders")));
    assert_eq!(attr("http.response.status_code").as_deref(), Some("201"));
    assert_eq!(attr("http.request.resend_count").as_deref(), Some("0"));
    assert_eq!(
        attr("order_gateway.connection").as_deref(),
        Some("axim-test")
    );
    assert_eq!(attr("order_gateway.vendor").as_deref(), Some("axim"));
    assert_eq!(
        client_span.span_kind,
        opentelemetry::trace::SpanKind::Client
    );

    let all = format!("{spans:?}");
    assert!(
        !all.contains("super-secret-token") && !all.contains("Jane Person"),
        "a secret or personal value reached a span"
    );

    let headers = seen.lock().unwrap();
    let tp = headers[0]["traceparent"].to_str().unwrap().to_owned();
    let trace_id = client_span.span_context.trace_id().to_string();
    assert!(
        tp.contains(&trace_id),
        "traceparent {tp} is not of trace {trace_id}"
    );
    assert_eq!(headers[0]["accesstoken"], "super-secret-token");
}
