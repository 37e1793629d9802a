#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The gateway API over real HTTP: errors, auth, previews, and every example order placed
//! end to end at its vendor's simulator.

mod common;

use common::{Gateway, examples, vendors};
use serde_json::{Value, json};

fn assert_problem(headers: &reqwest::header::HeaderMap, body: &Value, code: &str) {
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["traceId"].as_str().is_some_and(|t| t.len() == 32),
        "trace id in {body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://")),
        "{body}"
    );
}

async fn raw(g: &Gateway, ct: &str, body: Vec<u8>) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = g
        .http
        .post(g.url("/v1/orders"))
        .bearer_auth("dev-key")
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_json_is_400_with_line_and_column() {
    let g = Gateway::start().await;
    let (status, headers, body) = raw(&g, "application/json", br#"{"orderRef": "#.to_vec()).await;
    assert_eq!(status, 400);
    assert_problem(&headers, &body, "malformed_json");
    assert_eq!(body["context"]["line"], 1);
    assert!(body["detail"].as_str().unwrap().contains("line 1, column"));
}

#[tokio::test]
async fn empty_object_is_422_listing_each_missing_field() {
    let g = Gateway::start().await;
    let (status, headers, body) = g.post("/v1/orders", &json!({})).await;
    assert_eq!(status, 422);
    assert_problem(&headers, &body, "invalid_order");
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, vec!["/orderRef", "/customer", "/lines"]);
}

#[tokio::test]
async fn a_5mb_body_is_413() {
    let g = Gateway::start().await;
    let big = format!("{{\"orderRef\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let (status, headers, body) = raw(&g, "application/json", big.into_bytes()).await;
    assert_eq!(status, 413);
    assert_problem(&headers, &body, "payload_too_large");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_too() {
    let g = Gateway::start().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 16 * 1024])).collect();
    let resp = g
        .http
        .post(g.url("/v1/orders"))
        .bearer_auth("dev-key")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
}

#[tokio::test]
async fn wrong_content_type_is_415_and_unknown_path_404() {
    let g = Gateway::start().await;
    let (status, headers, body) = raw(&g, "text/plain", b"{}".to_vec()).await;
    assert_eq!(status, 415);
    assert_problem(&headers, &body, "unsupported_media_type");
    let resp = g.http.get(g.url("/v2/nothing")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let headers = resp.headers().clone();
    assert_problem(&headers, &resp.json().await.unwrap(), "not_found");
}

#[tokio::test]
async fn missing_or_unknown_key_is_401() {
    let g = Gateway::start().await;
    for auth in [None, Some("Bearer nope")] {
        let mut req = g
            .http
            .post(g.url("/v1/orders"))
            .header("content-type", "application/json")
            .body("{}");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let headers = resp.headers().clone();
        assert_problem(&headers, &resp.json().await.unwrap(), "unauthorized");
    }
}

#[tokio::test]
async fn every_example_previews_to_its_vendor_with_secrets_masked() {
    let g = Gateway::start().await;
    for vendor in vendors() {
        for (name, order) in examples(vendor) {
            let (status, _, body) = g.post("/v1/orders/preview", &order).await;
            assert_eq!(status, 200, "{vendor}/{name}: {body}");
            assert_eq!(body["vendor"], vendor, "{vendor}/{name}");
            assert!(
                body["request"]["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("http://127.0.0.1:")
            );
            let text = body.to_string();
            for secret in [
                "juniper-sandbox-secret",
                "axim-sandbox-token",
                "adobe-sandbox-secret",
                "impilo-sandbox-key",
            ] {
                assert!(!text.contains(secret), "{vendor}/{name} leaks {secret}");
            }
        }
    }
}

/// Issue 19 item 5: the preview embeds the exact body bytes, so extreme money reads as
/// sent ("0.000001", "9999999999999999.999999"), never 1e-6 / 1e+16.
#[tokio::test]
async fn the_preview_shows_the_exact_body_bytes() {
    let g = Gateway::start().await;
    let order = common::extreme_money_order("money-preview-1");
    let resp = g
        .http
        .post(g.url("/v1/orders/preview"))
        .bearer_auth("dev-key")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"price\":0.000001"), "{text}");
    assert!(
        text.contains("\"taxAmount\":9999999999999999.999999"),
        "{text}"
    );
    assert!(!text.contains("e-6") && !text.contains("e+16"), "{text}");
}

/// Issue 19 item 3: an Impilo order with an inline new patient returns the patient
/// Impilo created, so the caller can reuse it; an existing patient's order returns none.
#[tokio::test]
async fn a_new_patient_comes_back_as_a_vendor_ref() {
    let g = Gateway::start().await;
    let examples = examples("impilo");
    let (_, order) = examples
        .iter()
        .find(|(n, _)| n == "new-patient-starter-kit.json")
        .unwrap();
    let (status, _, body) = g.post("/v1/orders", order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vendorRefs"][0]["kind"], "patient", "{body}");
    let id = body["vendorRefs"][0]["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok(), "{body}");
    let mut again = order.clone();
    again["orderRef"] = json!("imp-reuse-1");
    again["customer"]["accounts"] = json!({"impilo": id});
    again["shipTo"].as_object_mut().unwrap().remove("address");
    again.as_object_mut().unwrap().remove("vendorOptions");
    let (status, _, body) = g.post("/v1/orders", &again).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("vendorRefs").is_none(), "{body}");
}

/// `rememberCreatedAccounts` on the Impilo route: the patient an inline order created is
/// reused by the same customer's next order with the same details (no second patient),
/// a customer with other details (moved) gets a new one, and another customer.ref is
/// never given someone else's patient. Without the opt-in every inline order creates one.
#[tokio::test]
async fn an_opted_in_route_reuses_the_patient_impilo_created() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_edited(dir.path(), |t| {
        common::replaced(
            &t,
            "    connection: impilo-sandbox\n",
            "    connection: impilo-sandbox\n    rememberCreatedAccounts: true\n",
        )
    });
    let g = Gateway::start_with(dir, config).await;
    let sim = g.sim_for("impilo");
    let (_, order) = examples("impilo")
        .into_iter()
        .find(|(n, _)| n == "new-patient-starter-kit.json")
        .unwrap();
    let post = |r: &str, edit: &dyn Fn(&mut Value)| {
        let mut o = order.clone();
        o["orderRef"] = json!(r);
        edit(&mut o);
        let g = &g;
        async move { g.post("/v1/orders", &o).await }
    };
    let (status, _, first) = post("acct-1", &|_| {}).await;
    assert_eq!(status, 201, "{first}");
    let patient = first["vendorRefs"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sim.control.count("patients_created"), 1);

    let (status, _, second) = post("acct-2", &|_| {}).await;
    assert_eq!(status, 201, "{second}");
    assert!(
        second.get("vendorRefs").is_none(),
        "no new patient: {second}"
    );
    assert_eq!(sim.control.count("patients_created"), 1);
    assert_eq!(sim.control.count("orders_created"), 2);

    // Moved: other details create (and remember) another patient.
    let (status, _, moved) = post("acct-3", &|o| {
        o["shipTo"]["address"]["line1"] = json!("200 Other Street")
    })
    .await;
    assert_eq!(status, 201, "{moved}");
    assert_ne!(
        moved["vendorRefs"][0]["id"].as_str(),
        Some(patient.as_str())
    );
    assert_eq!(sim.control.count("patients_created"), 2);
    // Someone else with the same details is not given this customer's patient.
    let (status, _, other) = post("acct-4", &|o| o["customer"]["ref"] = json!("cust-other")).await;
    assert_eq!(status, 201, "{other}");
    assert!(other["vendorRefs"][0]["id"].is_string(), "{other}");
    assert_eq!(sim.control.count("patients_created"), 3);
    // An order naming its own account is sent as it is.
    let (status, _, named) = post("acct-5", &|o| {
        o["customer"]["accounts"] = json!({"impilo": "70001"});
        o["shipTo"].as_object_mut().unwrap().remove("address");
        o.as_object_mut().unwrap().remove("vendorOptions");
    })
    .await;
    assert_eq!(status, 201, "{named}");
    assert_eq!(sim.control.count("patients_created"), 3);
}

/// A client with a webhook gets its orders' events, signed per Standard Webhooks: the
/// receiver verifies each with the secret (a wrong secret does not), a receiver error is
/// retried with the same `webhook-id`, and the payload carries no order body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_webhook_receives_signed_order_events_at_least_once() {
    use std::sync::{Arc, Mutex};
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;
    let seen: Seen = Arc::default();
    let refuse_first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let hook_url = {
        let seen = seen.clone();
        common::hook_receiver(move |headers, body| {
            seen.lock().unwrap().push((headers, body));
            if refuse_first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            } else {
                axum::http::StatusCode::NO_CONTENT
            }
        })
        .await
    };
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &hook_url, SECRET);
    let g = Gateway::start_with(dir, config).await;
    let (_, order) = examples("juniper").remove(0);
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");

    // The first attempt is refused (503), the retry (about a second later) delivered.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.lock().unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no redelivery: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let key = gateway::webhook_sign::SigningKey::parse(SECRET).unwrap();
    let seen = seen.lock().unwrap().clone();
    for (headers, body) in &seen {
        assert!(
            common::signed_by(&key, headers, body),
            "signature does not verify: {headers:?}"
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "order.accepted", "{event}");
        assert_eq!(event["data"]["orderId"], placed["id"], "{event}");
        assert!(
            !body.contains("firstName") && !body.contains("address"),
            "no order body: {body}"
        );
    }
    assert_eq!(
        seen[0].0.get("webhook-id"),
        seen[1].0.get("webhook-id"),
        "a retry carries the same webhook-id"
    );
    // A wrong secret does not verify the same delivery.
    let other =
        gateway::webhook_sign::SigningKey::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .unwrap();
    let (headers, body) = &seen[1];
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert!(!other.verify(
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        body.as_bytes(),
        time::OffsetDateTime::now_utc().unix_timestamp(),
        300
    ));
}

/// A receiver that answers 410 Gone disables the client's endpoint at once: listed at the
/// admin `/webhooks/disabled` with the delivery held (not failed, not retried), and an
/// operator's `POST /webhooks/redeliver` enables it: sent again with the same
/// `webhook-id`. (Restarts and a changed URL: `tests/webhook_delivery.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_receiver_disables_the_endpoint_and_an_operator_enables_it() {
    use std::sync::{Arc, Mutex};
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let gone = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let hook_url = {
        let (ids, gone) = (ids.clone(), gone.clone());
        common::hook_receiver(move |headers, _| {
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            ids.lock().unwrap().push(id.to_owned());
            if gone.load(std::sync::atomic::Ordering::SeqCst) {
                axum::http::StatusCode::GONE
            } else {
                axum::http::StatusCode::OK
            }
        })
        .await
    };
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(
        dir.path(),
        &hook_url,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    );
    let g = Gateway::start_with(dir, config).await;
    let (_, order) = examples("juniper").remove(0);
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let disabled = loop {
        let d = g.admin_json("/webhooks/disabled").await;
        if d["count"] == 1 {
            break d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not listed as disabled: {d}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let endpoint = &disabled["endpoints"][0];
    assert_eq!(endpoint["client"], "dev", "{disabled}");
    assert_eq!(endpoint["held"], 1, "{disabled}");
    assert!(
        endpoint["reason"].as_str().unwrap().contains("410"),
        "{disabled}"
    );
    assert_eq!(
        g.admin_json("/webhooks/failed").await["count"],
        0,
        "held, not failed"
    );
    let events = g
        .api_json(&format!(
            "/v1/orders/{}/events",
            placed["id"].as_str().unwrap()
        ))
        .await;
    let delivery = &events["events"][0];
    assert_eq!(ids.lock().unwrap().len(), 1, "410 is not retried");

    gone.store(false, std::sync::atomic::Ordering::SeqCst);
    let redeliver = |key: &'static str| {
        g.http
            .post(g.admin("/webhooks/redeliver"))
            .bearer_auth(key)
            .json(&json!({"eventIds": [delivery["eventId"]]}))
            .send()
    };
    assert_eq!(
        redeliver("dev-key").await.unwrap().status().as_u16(),
        401,
        "a client key is no operator key"
    );
    let r = redeliver("ops-key").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["redelivered"], 1, "{body}");
    while ids.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not redelivered");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ids = ids.lock().unwrap().clone();
    assert_eq!(ids[0], ids[1], "the same webhook-id");
    assert_eq!(g.admin_json("/webhooks/disabled").await["count"], 0);
}

#[tokio::test]
async fn every_example_is_placed_end_to_end_and_replays() {
    let g = Gateway::start().await;
    for vendor in vendors() {
        for (name, order) in examples(vendor) {
            let (status, headers, body) = g.post("/v1/orders", &order).await;
            let want = if order["intent"] == "quote" { 200 } else { 201 };
            assert_eq!(status, want, "{vendor}/{name}: {body}");
            assert_eq!(body["vendor"], vendor);
            assert_eq!(body["orderRef"], order["orderRef"]);
            assert!(body["id"].as_str().unwrap().starts_with("ord_"));
            assert!(body["traceId"].is_string());
            // One timestamp shape: UTC RFC 3339 with microseconds.
            for field in ["createdAt", "updatedAt"] {
                let t = body[field].as_str().unwrap_or_default();
                assert!(
                    t.len() == 27 && t.ends_with('Z') && t.as_bytes()[19] == b'.',
                    "{vendor}/{name}: {field} {t:?}"
                );
            }
            if want == 201 {
                assert!(body["vendorOrderId"].is_string(), "{vendor}/{name}: {body}");
                assert!(headers.get("location").is_some());
            }
            let (again, headers2, body2) = g.post("/v1/orders", &order).await;
            assert_eq!(again, want);
            assert_eq!(body2, body, "{vendor}/{name}: the replay differs");
            assert_eq!(
                headers2
                    .get("idempotent-replayed")
                    .and_then(|v| v.to_str().ok()),
                Some("true")
            );
            let id = body["id"].as_str().unwrap();
            let got = g.api_json(&format!("/v1/orders/{id}")).await;
            assert_eq!(got["state"], "accepted", "{got}");
            assert_eq!(got["answer"], body);
        }
    }
}

#[tokio::test]
async fn same_ref_different_body_is_409() {
    let g = Gateway::start().await;
    let (_, order) = examples(vendors()[0]).remove(0);
    let (status, _, _) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201);
    let mut changed = order.clone();
    changed["lines"][0]["quantity"] = json!(order["lines"][0]["quantity"].as_u64().unwrap() + 1);
    let (status, headers, body) = g.post("/v1/orders", &changed).await;
    assert_eq!(status, 409);
    assert_problem(&headers, &body, "idempotency_conflict");
}

#[tokio::test]
async fn an_order_no_route_takes_is_422_no_route_with_reasons() {
    let g = Gateway::start().await;
    let order = common::unroutable_order("nr-1");
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 422);
    assert_problem(&headers, &body, "no_route");
    let rules = body["context"]["rules"].as_array().unwrap();
    assert_eq!(
        rules.len(),
        g.running.state.runtime.load().checked.routes.len()
    );
    assert!(
        rules
            .iter()
            .all(|r| r["failed"].as_str().unwrap().contains("skus"))
    );
}

/// Issue 24 item 3: what a vendor declares it cannot honour is refused by the core before
/// its translator runs, the same on the preview and on a real order: only the
/// `unsupported` error with the vendor's reason, not the translator's other findings
/// (this order also lacks the ship-to Juniper requires).
#[tokio::test]
async fn what_the_vendor_cannot_honour_is_refused_before_translation() {
    let g = Gateway::start().await;
    let (_, mut order) = examples("juniper").into_iter().next().unwrap();
    order["orderRef"] = json!("caps-1");
    order["type"] = json!("renewal");
    order.as_object_mut().unwrap().remove("shipTo");
    let want = json!([{
        "pointer": "/type",
        "code": "unsupported",
        "message": "Juniper has no renewals; a recurring pack is `recurrence: subscription` on a new order"
    }]);
    for path in ["/v1/orders/preview", "/v1/orders"] {
        let (status, headers, body) = g.post(path, &order).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_problem(&headers, &body, "invalid_order");
        assert_eq!(body["errors"], want, "{path}: {body}");
    }
}

#[tokio::test]
async fn lines_for_two_routes_are_422_split_required() {
    // Two routes to one connection, split by sku: an order with both kinds of line.
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    common::edit_config(
        &config,
        "  - name: impilo\n    when:\n      skus: [\"IMP-*\"]\n    connection: impilo-sandbox\n    catalogFile: catalogs/impilo.json\n",
        "  - name: impilo-items\n    when:\n      skus: [\"IMP-ITEM-*\"]\n    connection: impilo-sandbox\n    catalogFile: catalogs/impilo.json\n  - name: impilo-kits\n    when:\n      skus: [\"IMP-KIT-*\"]\n    connection: impilo-sandbox\n    catalogFile: catalogs/impilo.json\n",
    );
    let g = Gateway::start_with(dir, config).await;
    let order = json!({
        "orderRef": "split-1",
        "customer": {"ref": "c1", "accounts": {"impilo": "70002"}},
        "lines": [{"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1}, {"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"}]
    });
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 422, "{body}");
    assert_problem(&headers, &body, "split_required");
    assert_eq!(
        body["context"]["groups"],
        json!([{"route": "impilo-items", "lines": [0]}, {"route": "impilo-kits", "lines": [1]}])
    );
}

#[tokio::test]
async fn probes_metrics_and_active_config() {
    let g = Gateway::start().await;
    assert_eq!(
        g.http
            .get(g.admin("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        g.http
            .get(g.admin("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let cfg: Value = common::get_json(&g.http, &g.admin("/config"), None).await;
    assert_eq!(cfg["version"].as_str().unwrap().len(), 16);
    let (_, order) = examples(vendors()[0]).remove(0);
    g.post("/v1/orders", &order).await;
    let metrics = common::get_text(&g.http, &g.admin("/metrics")).await;
    assert!(metrics.contains("orders_total"), "{metrics}");
    for name in [
        "vendor_calls_total",
        "vendor_call_duration_seconds_bucket",
        "vendor_in_flight",
        "orders_unknown",
        // A histogram with buckets by batch size, not a summary.
        "ledger_batch_size_bucket{le=\"1\"}",
        "ledger_batch_size_bucket{le=\"64\"}",
    ] {
        assert!(metrics.contains(name), "{name} missing: {metrics}");
    }
    for v in vendors() {
        let line = format!("vendor_circuit_state{{connection=\"{v}-sandbox\",vendor=\"{v}\"}} 0");
        assert!(metrics.contains(&line), "{line} missing: {metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_identical_posts_create_exactly_one_vendor_order() {
    let g = std::sync::Arc::new(Gateway::start().await);
    let vendor = vendors()[0];
    let (_, order) = examples(vendor).remove(0);
    let sim = g.sim_for(vendor);
    let before = sim.control.count("orders_created");
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let g = g.clone();
            let order = order.clone();
            tokio::spawn(async move { g.post("/v1/orders", &order).await })
        })
        .collect();
    let (mut originals, mut replays, mut in_progress, mut refused) = (0, 0, 0, 0);
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, headers, body) = t.await.unwrap();
        match status {
            201 if headers.get("idempotent-replayed").is_some() => replays += 1,
            201 => originals += 1,
            409 => {
                assert_eq!(body["code"], "in_progress", "{body}");
                assert_eq!(
                    headers.get("retry-after").and_then(|v| v.to_str().ok()),
                    Some("1")
                );
                in_progress += 1;
                continue;
            }
            // The connection's rate budget (checked before anything is recorded) may
            // refuse a copy that arrives before the first one's record exists: nothing
            // was sent for it, and its retry is answered from the record.
            503 => {
                assert_eq!(body["code"], "vendor_rate_limited", "{body}");
                refused += 1;
                continue;
            }
            other => panic!("{other}: {body}"),
        }
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(originals, 1);
    assert_eq!(ids.len(), 1, "every answer names the same order");
    assert_eq!(originals + replays + in_progress + refused, 200);
    assert_eq!(
        sim.control.count("orders_created") - before,
        1,
        "exactly one order at the vendor"
    );
    // The refused ones get the original on retry.
    let (status, headers, _) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_some());
}

/// A gateway whose Juniper connection gives up after 300 ms, and a Juniper simulator
/// that creates the next order and then answers after 1 s: a timeout after sending.
async fn juniper_answering_too_late() -> (Gateway, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    common::edit_config(
        &config,
        "        clientSecret: juniper-sandbox-secret\n",
        "        clientSecret: juniper-sandbox-secret\n      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}\n",
    );
    let g = Gateway::start_with(dir, config.clone()).await;
    g.sim_for("juniper")
        .control
        .push_fault(connector::sim::Fault::DelayAfter {
            path: Some("/v1/orders".into()),
            ms: 1000,
        });
    (g, config)
}

#[tokio::test]
async fn a_timeout_after_sending_is_504_unknown_and_never_resent() {
    if !vendors().contains(&"juniper") {
        return;
    }
    let (g, _) = juniper_answering_too_late().await;
    let juniper_sim = g.sim_for("juniper");
    let (_, order) = examples("juniper").remove(0);
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 504, "{body}");
    assert_problem(&headers, &body, "vendor_timeout");
    assert_eq!(juniper_sim.control.count("orders_created"), 1);

    let unknown = g.admin_json("/orders/unknown").await;
    assert_eq!(unknown["count"], 1, "{unknown}");
    assert_eq!(unknown["orders"][0]["orderRef"], order["orderRef"]);
    // The read shows the transition to unknown, made by the create.
    let id = unknown["orders"][0]["id"].as_str().unwrap();
    let (status, got) = get_as(&g, "dev-key", &format!("/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["state"], "unknown");
    assert_eq!(got["history"].as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(got["history"][0]["type"], "order.unknown");
    assert_eq!(got["history"][0]["source"], "create");

    // The client retries: refused, and nothing is sent again.
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 409, "{body}");
    assert_problem(&headers, &body, "outcome_unknown");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        juniper_sim.control.count("orders_created"),
        1,
        "exactly one order at the vendor"
    );
}

/// An order left `unknown` by a timeout after sending is settled by an operator who
/// found it at the vendor: `order-gateway link-vendor-order` (the real binary, on the
/// running gateway's ledger), then the caller's retry looks the order up at the vendor.
/// A wrong id settles nothing; nothing is ever sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_linked_vendor_order_settles_an_unknown_order_on_retry() {
    if !vendors().contains(&"juniper") {
        return;
    }
    let (g, config) = juniper_answering_too_late().await;
    let sim = g.sim_for("juniper");
    let (_, order) = examples("juniper").remove(0);
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(sim.control.count("orders_created"), 1);
    let unknown = g.admin_json("/orders/unknown").await;
    let order_id = unknown["orders"][0]["id"].as_str().unwrap().to_owned();
    // Let the simulator finish its late answer, so nothing is in flight.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;

    let link = |id: &str, vendor_id: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
            .args(["link-vendor-order", "--config"])
            .arg(&config)
            .args([id, vendor_id])
            .output()
            .unwrap()
    };
    let out = link("ord_nosuchorder", "2vSGwhatever");
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // A wrong id: the vendor says 404, which must not settle (or reject) the order.
    let out = link(&order_id, "2vSGnotTheRightOrderAtAll00");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 409, "{body}");
    assert_problem(&headers, &body, "outcome_unknown");

    // The right id: the retry answers with the vendor's order, and it is recorded.
    let vendor_id = vendor_juniper::sim::order_id(1);
    let out = link(&order_id, &vendor_id);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], order_id.as_str());
    assert_eq!(body["vendorOrderId"], vendor_id.as_str(), "{body}");
    assert!(!headers.contains_key("idempotent-replayed"));
    let (status, headers, again) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, body);
    // A settled order cannot be re-linked.
    assert_eq!(link(&order_id, "2vSGother").status.code(), Some(1));
    assert_eq!(
        sim.control.count("orders_created"),
        1,
        "exactly one order at the vendor"
    );
    let unknown = g.admin_json("/orders/unknown").await;
    assert_eq!(unknown["count"], 0, "{unknown}");
}

#[tokio::test]
async fn an_idempotency_key_header_overrides_the_order_ref() {
    let g = Gateway::start().await;
    let vendor = vendors()[0];
    let (_, order) = examples(vendor).remove(0);
    let sim = g.sim_for(vendor);
    let before = sim.control.count("orders_created");
    let post = |o: Value, key: &'static str| {
        let g = &g;
        async move {
            let r = g
                .http
                .post(g.url("/v1/orders"))
                .bearer_auth("dev-key")
                .header("idempotency-key", key)
                .json(&o)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                r.status().as_u16(),
                replayed,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s1, r1, b1) = post(order.clone(), "key-A").await;
    assert_eq!((s1, r1), (201, false), "{b1}");
    // Same key, same order: replayed.
    let (s2, r2, b2) = post(order.clone(), "key-A").await;
    assert_eq!((s2, r2), (201, true));
    assert_eq!(b2, b1);
    // Same orderRef under a different key: a separate order (the key wins).
    let (s3, r3, b3) = post(order.clone(), "key-B").await;
    assert_eq!((s3, r3), (201, false), "{b3}");
    assert_ne!(b3["id"], b1["id"]);
    // Same key, different order: conflict.
    let mut changed = order.clone();
    changed["lines"][0]["quantity"] = json!(order["lines"][0]["quantity"].as_u64().unwrap() + 1);
    let (s4, _, b4) = post(changed, "key-A").await;
    assert_eq!(
        (s4, b4["code"].as_str()),
        (409, Some("idempotency_conflict"))
    );
    assert_eq!(sim.control.count("orders_created") - before, 2);
}

#[tokio::test]
async fn an_idempotent_vendor_timeout_is_retried_with_the_same_correlation_id() {
    if !vendors().contains(&"adobe-vipmp") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    common::edit_config(
        &config,
        "      headers:\n        X-Api-Key: adobe-sandbox\n",
        "      headers:\n        X-Api-Key: adobe-sandbox\n      timeouts: {connectMs: 500, attemptMs: 400, overallMs: 5000}\n",
    );
    let g = Gateway::start_with(dir, config).await;
    let sim = g.sim_for("adobe-vipmp");
    // The first attempt creates the order, then answers after the client gave up.
    sim.control.push_fault(connector::sim::Fault::DelayAfter {
        path: Some("/v3/customers/".into()),
        ms: 1500,
    });
    let order = common::page_sample("adobe-vipmp");
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        sim.control.count("orders_created"),
        1,
        "exactly one order at Adobe"
    );
    assert_eq!(
        sim.control.count("replays"),
        1,
        "the retry got the stored original"
    );
    let headers = sim
        .control
        .last_headers("/v3/customers/9876543210/orders")
        .unwrap();
    assert_eq!(headers["x-correlation-id"].len(), 36);
    let rec = g
        .api_json(&format!("/v1/orders/{}", body["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (rec["state"].as_str(), rec["attempts"].as_i64()),
        (Some("accepted"), Some(1))
    );
}

#[tokio::test]
async fn a_retry_of_an_unknown_adobe_order_is_reconciled_by_correlation_id() {
    if !vendors().contains(&"adobe-vipmp") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    // One attempt only, so the call ends `unknown` instead of being retried inside it.
    common::edit_config(
        &config,
        "      headers:\n        X-Api-Key: adobe-sandbox\n",
        "      headers:\n        X-Api-Key: adobe-sandbox\n      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}\n      retry: {maxAttempts: 1}\n",
    );
    let g = Gateway::start_with(dir, config).await;
    let sim = g.sim_for("adobe-vipmp");
    sim.control.push_fault(connector::sim::Fault::DelayAfter {
        path: Some("/v3/customers/".into()),
        ms: 1000,
    });
    let order = common::page_sample("adobe-vipmp");
    let (status, headers, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 504, "{body}");
    assert_problem(&headers, &body, "vendor_timeout");
    assert_eq!(sim.control.count("orders_created"), 1);
    let unknown = g.admin_json("/orders/unknown").await;
    assert_eq!(unknown["count"], 1, "{unknown}");

    // The client retries: the gateway asks Adobe again under the same correlation id,
    // gets the original order back and records it.
    let (status, headers, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(sim.control.count("orders_created"), 1, "still one order");
    assert_eq!(sim.control.count("replays"), 1);
    assert_eq!(placed["id"], unknown["orders"][0]["id"]);
    assert!(
        placed["vendorOrderId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );

    // From now on the recorded answer is replayed.
    let (status, headers, again) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_some());
    assert_eq!(again, placed);
    let unknown = g.admin_json("/orders/unknown").await;
    assert_eq!(unknown["count"], 0, "{unknown}");
    let metrics = common::get_text(&g.http, &g.admin("/metrics")).await;
    assert!(
        metrics.contains(
            "orders_reconciled_total{connection=\"adobe-vipmp-sandbox\",result=\"accepted\"} 1"
        ),
        "{metrics}"
    );
}

/// The default config with a second client (`acme`, key `acme-key`) whose own route
/// comes first and has a sku pattern only it should know.
async fn gateway_with_a_second_client() -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_edited(dir.path(), |t| {
        let t = t.replace(
            "clients:\n",
            "clients:\n  - id: acme\n    keySha256: afacab3575137afa4e00d9cbcafcb14c9ae25f779d964eb0ea5b2c4eb5dfd163\n",
        );
        t.replace(
            "routes:\n",
            "routes:\n  - name: acme-private\n    when:\n      clients: [acme]\n      skus: [\"ACME-SECRET-*\"]\n    connection: juniper-sandbox\n    catalogFile: catalogs/juniper.json\n",
        )
    });
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("id: acme") && text.contains("acme-private"),
        "the default config changed shape"
    );
    Gateway::start_with(dir, config).await
}

/// No other client's id, no route only another client may use, no sku pattern.
fn assert_concerns_only_dev(body: &Value) {
    let text = body.to_string();
    for leak in ["acme", "ACME-SECRET", "JH-*", "AX-*", "ADB-*", "IMP-*"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[tokio::test]
async fn a_no_route_answer_names_no_other_client_and_no_route_patterns() {
    let g = gateway_with_a_second_client().await;
    let order = common::unroutable_order("nr-2");
    for path in ["/v1/orders", "/v1/orders/preview"] {
        let (status, headers, body) = g.post(path, &order).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_problem(&headers, &body, "no_route");
        assert_concerns_only_dev(&body);
        // It still says, per route this client may use, which condition failed.
        let rules = body["context"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 4, "{path}: {body}");
        assert!(
            rules
                .iter()
                .all(|r| r["failed"].as_str().unwrap().starts_with("lines/0: skus")),
            "{path}: {body}"
        );
    }
    // A routed preview explains only what concerns the caller too.
    let (_, juniper) = examples("juniper").remove(0);
    let (status, _, body) = g.post("/v1/orders/preview", &juniper).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["route"], "juniper");
    assert_concerns_only_dev(&body["explain"]);
    // The other client still gets its own route.
    let mut order = order.clone();
    order["lines"][0]["sku"] = json!("ACME-SECRET-1");
    let resp = g
        .http
        .post(g.url("/v1/orders/preview"))
        .bearer_auth("acme-key")
        .json(&order)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_ne!(body["code"], "no_route", "{body}");
}

async fn get_as(g: &Gateway, key: &str, path: &str) -> (u16, Value) {
    let resp = g
        .http
        .get(g.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `GET /v1/orders/{id}` shows the canonical status and the order's history, and
/// `/events` its events; both only to the client that placed it.
#[tokio::test]
async fn an_order_read_shows_its_status_history_and_events_to_its_client_only() {
    let g = gateway_with_a_second_client().await;
    let vendor = vendors()[0];
    let (_, order) = examples(vendor)
        .into_iter()
        .find(|(_, o)| o["intent"] != "quote")
        .unwrap();
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["id"].as_str().unwrap();

    let (status, got) = get_as(&g, "dev-key", &format!("/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], placed["status"], "{got}");
    let history = got["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{got}");
    let e = &history[0];
    assert_eq!(e["type"], "order.accepted");
    assert_eq!(e["source"], "create");
    assert_eq!(e["state"], "accepted");
    assert_eq!(e["seq"], 1);
    assert_eq!(e["status"], placed["status"]);
    assert_eq!(e["vendorOrderId"], placed["vendorOrderId"]);
    assert!(e["eventId"].as_str().is_some_and(|i| i.starts_with("evt_")));
    assert!(
        e["at"]
            .as_str()
            .is_some_and(|t| t.len() == 27 && t.ends_with('Z'))
    );

    let (status, events) = get_as(&g, "dev-key", &format!("/v1/orders/{id}/events")).await;
    assert_eq!(status, 200, "{events}");
    assert_eq!(events["orderId"], id);
    assert_eq!(events["events"], got["history"]);

    // Another client: the same 404 as an order that does not exist.
    for path in [
        format!("/v1/orders/{id}"),
        format!("/v1/orders/{id}/events"),
    ] {
        let (status, body) = get_as(&g, "acme-key", &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found");
        assert!(
            !body
                .to_string()
                .contains(placed["orderRef"].as_str().unwrap())
        );
    }
    let (status, _) = get_as(&g, "dev-key", "/v1/orders/ord_nosuchorder/events").await;
    assert_eq!(status, 404);
}
