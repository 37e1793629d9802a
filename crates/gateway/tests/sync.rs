#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Status sync end to end: orders followed at the vendor simulators after the create's
//! answer, their changes in `GET /v1/orders/{id}` and at the client's webhook, and
//! `?refresh=true`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Gateway, Proc, examples};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The config at `path` with `add` inserted after `anchor` (which must stand there once).
fn insert_after(path: &std::path::Path, anchor: &str, add: &str) {
    common::edit_config(path, anchor, &format!("{anchor}{add}"));
}

/// The config at `path` with a simulator's settings and a connection's sync cadence.
fn tune(path: &std::path::Path, vendor: &str, sim: &str, connection: &str, sync: &str) {
    insert_after(
        path,
        &format!("  - vendor: {vendor}\n    listen: 127.0.0.1:0\n"),
        &format!("    settings: {sim}\n"),
    );
    insert_after(
        path,
        &format!("  - name: {connection}\n    vendor: {vendor}\n"),
        &format!("    sync: {sync}\n"),
    );
}

/// Polls `probe` until it gives `Some`, for at most `secs`.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        // Polling for a condition with a deadline, not ordering by sleeping.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let url = {
        let seen = seen.clone();
        common::hook_receiver(move |headers, body| {
            seen.lock().unwrap().push((headers, body));
            axum::http::StatusCode::NO_CONTENT
        })
        .await
    };
    (url, seen)
}

/// The (type, status) of each delivery `seen`, every signature verified with the secret
/// and every event about `id`; a redelivered duplicate counted once.
fn verified_events(seen: &Seen, id: &str) -> Vec<(String, String)> {
    let key = gateway::webhook_sign::SigningKey::parse(SECRET).unwrap();
    let seen = seen.lock().unwrap().clone();
    let mut types = Vec::new();
    for (headers, body) in &seen {
        assert!(
            common::signed_by(&key, headers, body),
            "signature does not verify: {headers:?}"
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["data"]["orderId"], id, "{event}");
        types.push((
            event["type"].as_str().unwrap().to_owned(),
            event["data"]["status"].as_str().unwrap().to_owned(),
        ));
    }
    types.dedup();
    types
}

/// The issue's "done when": with the real binary, an Adobe order answered `pending`
/// (1002) is read again by sync after the simulator completes it (1000 -> `fulfilled`):
/// `GET /v1/orders/{id}` shows it with its history, and the client's receiver gets
/// `order.accepted` then `order.status_changed`, both signatures verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_adobe_order_becomes_fulfilled_and_the_caller_is_told() {
    let (hook_url, seen) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &hook_url, SECRET);
    tune(
        &config,
        "adobe-vipmp",
        "{completeAfterSecs: 2}",
        "adobe-vipmp-sandbox",
        "{schedule: [1s], horizon: 1h}",
    );
    let mut p = Proc::spawn(&config);
    p.wait_ready().await;
    let api = format!("http://127.0.0.1:{}", p.api());
    let http = reqwest::Client::new();
    let order = common::page_sample("adobe-vipmp");
    let (status, placed) = common::post_order(&http, &api, &order).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["status"], "pending", "{placed}");
    let id = placed["id"].as_str().unwrap().to_owned();

    let view = eventually(60, "the order becomes fulfilled", || {
        let (http, url) = (http.clone(), format!("{api}/v1/orders/{id}"));
        async move {
            let v: Value = http
                .get(url)
                .bearer_auth("dev-key")
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (v["status"] == "fulfilled").then_some(v)
        }
    })
    .await;
    assert_eq!(view["vendorStatus"], "1000", "{view}");
    assert_eq!(
        view["answer"]["status"], "pending",
        "the answer given stays: {view}"
    );
    assert!(
        view["syncNextAt"].is_null(),
        "a final status ends sync: {view}"
    );
    let trail: Vec<(&str, &str, &str)> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("order.accepted", "create", "pending"),
            ("order.status_changed", "sync", "fulfilled")
        ],
        "{view}"
    );

    eventually(60, "both events reach the receiver", || {
        let n = seen.lock().unwrap().len();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    assert_eq!(
        verified_events(&seen, &id),
        [
            ("order.accepted".to_owned(), "pending".to_owned()),
            ("order.status_changed".to_owned(), "fulfilled".to_owned())
        ]
    );
    let metrics = common::get_text(&http, &format!("http://127.0.0.1:{}/metrics", p.admin())).await;
    assert!(
        metrics.contains(
            r#"order_sync_lookups_total{connection="adobe-vipmp-sandbox",result="changed"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"order_status_transitions_total{connection="adobe-vipmp-sandbox",source="sync",status="fulfilled"} 1"#),
        "{metrics}"
    );
}

/// A Juniper order moves along at the simulator (CREATED ... SHIPPED with a UPS tracking
/// number ... FULFILLED): sync brings the tracking number to the order and its history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_juniper_order_gets_its_tracking_number_through_sync() {
    let view = followed_to_fulfilled("juniper", "juniper-sandbox").await;
    assert_eq!(view["tracking"][0]["carrier"], "UPS", "{view}");
}

/// The same for Impilo (CREATED, PROCESSING, SHIPPED with `trackingNumbers`, DELIVERED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impilo_order_gets_its_tracking_number_through_sync() {
    let view = followed_to_fulfilled("impilo", "impilo-sandbox").await;
    assert_eq!(view["vendorStatus"], "DELIVERED", "{view}");
}

/// Places `vendor`'s first example on a simulator that moves orders on every second,
/// with a 1 s sync schedule; the order view once sync saw it fulfilled, after checking
/// the tracking number reached the order and a sync event.
async fn followed_to_fulfilled(vendor: &str, connection: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    tune(
        &config,
        vendor,
        "{advanceAfterSecs: 1}",
        connection,
        "{schedule: [1s], horizon: 1h}",
    );
    let g = Gateway::start_with(dir, config).await;
    let (_, order) = examples(vendor).remove(0);
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["status"], "accepted", "{placed}");
    let id = placed["id"].as_str().unwrap().to_owned();
    let view = eventually(60, "the order is fulfilled", || {
        let g = &g;
        let id = id.clone();
        async move {
            let v = g.api_json(&format!("/v1/orders/{id}")).await;
            (v["status"] == "fulfilled").then_some(v)
        }
    })
    .await;
    let number = view["tracking"][0]["number"].as_str().unwrap_or_default();
    assert!(number.starts_with("1Z"), "{view}");
    let history = view["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|e| e["source"] == "sync" && e["tracking"][0]["number"] == number),
        "an event carries the tracking: {view}"
    );
    assert!(
        history
            .iter()
            .skip(1)
            .all(|e| e["type"] == "order.status_changed" && e["source"] == "sync"),
        "{view}"
    );
    assert!(view["syncNextAt"].is_null(), "fulfilled ends sync: {view}");
    view
}

/// `?refresh=true` reads the vendor once now (counted at the simulator) and answers the
/// new status; once final, a refresh reads nothing; an unknown parameter or value is a
/// 400 problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_reads_the_vendor_once_and_refuses_unknown_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    // The default cadence (first read after a minute): only the refresh reads here.
    insert_after(
        &config,
        "  - vendor: adobe-vipmp\n    listen: 127.0.0.1:0\n",
        "    settings: {completeAfterSecs: 0}\n",
    );
    let g = Gateway::start_with(dir, config).await;
    let order = common::page_sample("adobe-vipmp");
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["id"].as_str().unwrap().to_owned();
    let sim = g.sim_for("adobe-vipmp");
    let calls = || sim.control.arrivals("/v3/customers/").len();
    assert_eq!(calls(), 1, "the create");

    let plain = g.api_json(&format!("/v1/orders/{id}")).await;
    assert_eq!(plain["status"], "pending", "{plain}");
    assert!(plain.get("refreshed").is_none(), "{plain}");
    assert_eq!(calls(), 1, "a plain read asks no vendor");

    let fresh = g.api_json(&format!("/v1/orders/{id}?refresh=true")).await;
    assert_eq!(
        (&fresh["status"], &fresh["refreshed"]),
        (&Value::from("fulfilled"), &Value::from(true)),
        "{fresh}"
    );
    assert_eq!(calls(), 2, "one read");
    let again = g.api_json(&format!("/v1/orders/{id}?refresh=true")).await;
    assert_eq!(
        (&again["refreshed"], &again["notRefreshedReason"]),
        (&Value::from(false), &Value::from("final")),
        "{again}"
    );
    assert_eq!(calls(), 2, "nothing to read once final");

    for q in ["refresh=yes", "refesh=true", "refresh=true&x=1"] {
        let resp = g
            .http
            .get(g.url(&format!("/v1/orders/{id}?{q}")))
            .bearer_auth("dev-key")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{q}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{q}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "invalid_request", "{q}: {body}");
    }
}

/// A vendor whose reads fail (503): the order keeps its status and history, and is read
/// again on the schedule (still followed), however often the reads fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reads_change_nothing_and_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    tune(
        &config,
        "juniper",
        "{advanceAfterSecs: 1}",
        "juniper-sandbox",
        "{schedule: [1s], horizon: 1h}",
    );
    let g = Gateway::start_with(dir, config).await;
    let (_, order) = examples("juniper").remove(0);
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["id"].as_str().unwrap().to_owned();
    let read_path = format!("/v1/orders/{}", placed["vendorOrderId"].as_str().unwrap());
    let sim = g.sim_for("juniper");
    for _ in 0..500 {
        sim.control.push_fault(connector::sim::Fault::Status {
            path: Some(read_path.clone()),
            status: 503,
            body: serde_json::json!({"detail": "maintenance"}),
            retry_after: None,
        });
    }
    // Three scheduled reads (each possibly resent by the outbound retry), all refused.
    eventually(60, "three failed reads", || {
        let n = sim.control.arrivals(&read_path).len();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    let view = g.api_json(&format!("/v1/orders/{id}")).await;
    assert_eq!(
        (&view["status"], &view["vendorStatus"]),
        (&Value::from("accepted"), &Value::from("CREATED")),
        "{view}"
    );
    assert_eq!(view["history"].as_array().unwrap().len(), 1, "{view}");
    assert!(view["syncNextAt"].is_string(), "still followed: {view}");
}
