#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The real binary at debug log level, exporting traces over OTLP to a receiver in this
//! test, places every example order of every vendor and goes through the error paths;
//! then its whole log and every exported span are searched for secrets (vendor
//! credentials, API keys, tokens) and for every piece of personal data in the examples.
//! OTLP/HTTP carries protobuf, in which strings are plain UTF-8, so a byte search over
//! the export bodies sees every span attribute.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use common::{Proc, default_config_in, examples, vendors};
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
    let mut proc = Proc::spawn_with(&config, |cmd| {
        cmd.env("RUST_LOG", "debug")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}"))
            .env("OTEL_BSP_SCHEDULE_DELAY", "200");
    });
    let http = reqwest::Client::new();
    proc.wait_ready().await;
    let api = proc.api();
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
    let (proc, status) = tokio::task::spawn_blocking(move || {
        let status = proc.child.wait().unwrap();
        (proc, status)
    })
    .await
    .unwrap();
    assert!(status.success());

    let log = proc.output();
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
            spans
                .windows(expected.len())
                .any(|w| w == expected.as_bytes()),
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
        if find(log.as_bytes(), &needle, Edges::Both) {
            leaks.push(format!("log: {needle:?}"));
        }
        if find(&spans, &needle, Edges::Start) {
            leaks.push(format!("spans: {needle:?}"));
        }
    }
    assert!(leaks.is_empty(), "leaked: {leaks:#?}");
}

/// Which ends of a match must be token boundaries.
#[derive(Clone, Copy, PartialEq)]
enum Edges {
    /// Text (logs): not preceded or followed by a letter or digit.
    Both,
    /// Protobuf (spans): a string is preceded by its length and followed by the next
    /// field's tag, which may be any byte; only the start is checked.
    Start,
}

/// `needle` as a whole token. A short postcode (`10115`) is then not "found" inside a
/// timestamp or an id, while a value written as a JSON string, a log field or a protobuf
/// string (length-prefixed) is.
fn find(haystack: &[u8], needle: &str, edges: Edges) -> bool {
    let n = needle.as_bytes();
    if n.is_empty() || haystack.len() < n.len() {
        return false;
    }
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    (0..=haystack.len() - n.len()).any(|i| {
        &haystack[i..i + n.len()] == n
            && !(i > 0 && word(haystack.get(i - 1)) && word(n.first()))
            && !(edges == Edges::Both && word(haystack.get(i + n.len())) && word(n.last()))
    })
}

/// The matcher itself: it must still see a real leak, however the value is written.
#[test]
fn the_leak_matcher_finds_whole_values_and_ignores_digits_inside_other_tokens() {
    for leak in [
        r#"{"postalCode":"10115"}"#,
        "postal code 10115 refused",
        "field=10115",
        "\u{5}10115\u{12}",
        "Springfield Avenue 12",
        "to: Springfield Avenue 12, Berlin",
    ] {
        let needle = if leak.contains("Springfield") {
            "Springfield Avenue 12"
        } else {
            "10115"
        };
        assert!(
            find(leak.as_bytes(), needle, Edges::Both),
            "missed a leak in {leak:?}"
        );
    }
    for innocent in [
        r#"{"timestamp":"2026-12-02T10:11:51.101150Z"}"#,
        "ord_0199ab10115ff",
        "took 101150us",
        "a10115",
    ] {
        assert!(
            !find(innocent.as_bytes(), "10115", Edges::Both),
            "false leak in {innocent:?}"
        );
    }
    // A protobuf string: length byte, value, then a tag byte that happens to be a letter.
    assert!(find(b"\x0510115R\x01", "10115", Edges::Start));
    assert!(!find(b"ord_a10115R", "10115", Edges::Start));
}
