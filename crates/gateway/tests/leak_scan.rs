#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The real binary at debug log level, exporting traces over OTLP to a receiver in this
//! test, places every example order of every vendor and goes through the error paths;
//! then its whole log and every exported span are searched for secrets (vendor
//! credentials, API keys, tokens) and for every piece of personal data in the examples.
//! OTLP/HTTP carries protobuf, in which strings are plain UTF-8, so a byte search over
//! the export bodies sees every span attribute.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use common::{Proc, default_config_in, examples, free_port, vendors};
use serde_json::{Value, json};

/// Secrets in the sandbox config (and the client key the tests use).
const SECRETS: &[&str] = &[
    "juniper-sandbox-secret",
    "axim-sandbox-token",
    "adobe-sandbox-secret",
    "impilo-sandbox-key",
    "dev-key",
];

/// Marks of a credential however it is spelled.
const CREDENTIAL_MARKS: &[&str] = &["Bearer ", "access_token", "client_secret", "accessToken:"];

const PERSONAL_KEYS: &[&str] = &[
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "dateOfBirth",
    "line1",
    "line2",
    "line3",
    "city",
    "postalCode",
    "notes",
    "company",
];

fn personal_values(v: &Value, under_personal: bool, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                personal_values(
                    v,
                    under_personal || PERSONAL_KEYS.contains(&k.as_str()),
                    out,
                );
            }
        }
        Value::Array(a) => a
            .iter()
            .for_each(|v| personal_values(v, under_personal, out)),
        // Short values ("IL", "4") would match by accident; every real one is longer.
        Value::String(s) if under_personal && s.len() >= 5 => out.push(s.clone()),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_personal_data_reaches_logs_or_traces() {
    let exported: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let sink = exported.clone();
    let receiver = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                ""
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otlp = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, receiver).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    let log_path = dir.path().join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (api, admin) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{api}")])
        .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
        .env("RUST_LOG", "debug")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut proc = Proc(child, dir.path().join("unused.log"));
    let http = reqwest::Client::new();
    proc.wait_ready(&http, admin).await;
    let post = |body: Value, key: &'static str| {
        let http = http.clone();
        async move {
            http.post(format!("http://127.0.0.1:{api}/v1/orders"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    let mut personal = Vec::new();
    let mut placed = 0;
    for v in vendors() {
        for (name, order) in examples(v) {
            personal_values(&order, false, &mut personal);
            let status = post(order.clone(), "dev-key").await;
            assert!(status < 300, "{v}/{name}: {status}");
            placed += 1;
            // A replay, and the same ref with a changed body (409).
            assert!(post(order.clone(), "dev-key").await < 300);
            let mut changed = order.clone();
            changed["lines"][0]["quantity"] = json!(7);
            assert_eq!(post(changed, "dev-key").await, 409);
        }
    }
    // Error paths: a wrong key, an invalid order carrying personal data, a vendor refusal.
    let (_, mut order) = examples("juniper").remove(0);
    assert_eq!(post(order.clone(), "not-a-key").await, 401);
    order["orderRef"] = json!("leak-invalid");
    order["shipTo"]["address"]["postalCode"] = json!("Springfield Avenue 12");
    personal.push("Springfield Avenue 12".into());
    assert_eq!(post(order.clone(), "dev-key").await, 422);
    assert!(placed >= 15, "{placed}");
    personal.sort();
    personal.dedup();
    assert!(
        personal.len() >= 20,
        "too few personal values to mean anything: {personal:?}"
    );

    // Stop gracefully so the exporter flushes.
    proc.signal("TERM");
    let status = tokio::task::spawn_blocking(move || proc.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = std::fs::read_to_string(&log_path).unwrap();
    let spans: Vec<u8> = exported.lock().unwrap().concat();
    assert!(
        log.lines().count() > 50,
        "the log is too short to mean anything"
    );
    assert!(log.contains("order-gateway ready"));
    for expected in [
        "http.request.method",
        "server.address",
        "http.response.status_code",
        "juniper-sandbox",
    ] {
        assert!(
            find(&spans, expected),
            "the exported spans lack {expected}: {} bytes exported",
            spans.len()
        );
    }
    let mut leaks = Vec::new();
    for needle in SECRETS
        .iter()
        .chain(CREDENTIAL_MARKS)
        .map(|s| s.to_string())
        .chain(personal)
    {
        if log.contains(&needle) {
            leaks.push(format!("log: {needle:?}"));
        }
        if find(&spans, &needle) {
            leaks.push(format!("spans: {needle:?}"));
        }
    }
    assert!(leaks.is_empty(), "leaked: {leaks:#?}");
}

fn find(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
