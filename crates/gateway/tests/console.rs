#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Operators on the admin listener: `operators:` in config, the JSON resolve endpoint
//! (the same resolution as `resolve-unknown`), and the console's pages and forms over
//! plain HTTP (the browser tests are in `console_browser.rs`).

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::{Gateway, default_config_in, page_sample};
use connector::sim::Fault;
use serde_json::{Value, json};

/// A Juniper order the vendor created whose answer was cut: recorded `unknown`.
async fn unknown_order(g: &Gateway, order_ref: &str) -> (Value, String) {
    g.sim_for("juniper").control.push_fault(Fault::AbortAfter {
        path: Some("/v1/orders".into()),
    });
    let mut o = page_sample("juniper");
    o["orderRef"] = json!(order_ref);
    let (status, _, body) = g.post("/v1/orders", &o).await;
    assert!(status == 502 || status == 504, "{body}");
    let listed = g.admin_json("/orders/unknown").await;
    let id = listed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["orderRef"] == order_ref)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .expect("listed as unknown");
    (o, id)
}

async fn resolve(g: &Gateway, id: &str, key: Option<&str>, body: &Value) -> (u16, String, Value) {
    let mut req = g
        .http
        .post(g.admin(&format!("/orders/{id}/resolve")))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_resolves_an_unknown_order_through_the_admin_endpoint() {
    let g = Gateway::start().await;
    let (order, id) = unknown_order(&g, "console-api-1").await;
    let not_placed = json!({"outcome": "not-placed", "reason": "checked the vendor portal"});

    // No key, a client's key, an unknown key: 401 problem+json, nothing changes.
    for key in [None, Some("dev-key"), Some("nope")] {
        let (status, ct, body) = resolve(&g, &id, key, &not_placed).await;
        assert_eq!(status, 401, "{key:?}: {body}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "unauthorized");
    }
    // Bad requests name the field.
    for (bad, pointer) in [
        (
            json!({"outcome": "placed", "reason": "r"}),
            "/vendorOrderId",
        ),
        (json!({"outcome": "not-placed", "reason": "  "}), "/reason"),
        (json!({"outcome": "maybe", "reason": "r"}), "/outcome"),
        (
            json!({"outcome": "placed", "vendorOrderId": "bad-id/../x", "reason": "r"}),
            "/vendorOrderId",
        ),
    ] {
        let (status, ct, body) = resolve(&g, &id, Some("ops-key"), &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["errors"][0]["pointer"], pointer, "{bad}: {body}");
    }
    let (status, _, body) = resolve(&g, "ord_nosuch", Some("ops-key"), &not_placed).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(g.admin_json("/orders/unknown").await["total"], 1);

    let (status, _, body) = resolve(&g, &id, Some("ops-key"), &not_placed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resolvedBy"], "sandbox-operator");
    assert_eq!(g.admin_json("/orders/unknown").await["total"], 0);
    // Settled once: a second resolution is refused.
    let (status, _, body) = resolve(&g, &id, Some("ops-key"), &not_placed).await;
    assert_eq!(status, 400, "{body}");
    // The caller's retry places it, as after `resolve-unknown --not-placed`.
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], id.as_str());
}

#[test]
fn check_config_validates_operators() {
    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    common::edit_config(
        &config,
        "  - id: sandbox-operator\n",
        "  - id: sandbox-operator\n    keySha256: not-a-hash\n  - id: sandbox-operator\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(78), "{stdout}");
    assert!(
        stdout.contains("/operators/0/keySha256") && stdout.contains("64 hex digits"),
        "{stdout}"
    );
    assert!(stdout.contains("duplicate operator id"), "{stdout}");
}

/// The console's resolve form: refused without the page's CSRF cookie and token, or
/// from another origin, or with a key that is not an operator's; accepted otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_resolve_form_needs_its_csrf_token_and_an_operator_key() {
    let g = Gateway::start().await;
    let (_, id) = unknown_order(&g, "console-form-1").await;
    // A page sets the token cookie and puts the same token in its forms.
    let page = g.http.get(g.admin("/unknown")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    for (h, want) in [
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("content-type", "text/html; charset=utf-8"),
    ] {
        assert_eq!(page.headers()[h], want, "{h}");
    }
    let set_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let token = cookie.split('=').nth(1).unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
    assert!(html.contains(&id), "the unknown order is listed");

    let url = g.admin(&format!("/unknown/{id}/resolve"));
    let form = |csrf: &str, key: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("outcome", "not-placed".to_owned()),
            ("reason", "checked the vendor".to_owned()),
            ("operator_key", key.to_owned()),
        ]
    };
    let host = g.running.admin_addr.to_string();
    // (cookie, form token, operator key, Origin, status)
    type Case<'a> = (Option<&'a str>, &'a str, &'a str, Option<&'a str>, u16);
    let cases: [Case<'_>; 4] = [
        (None, &token, "ops-key", None, 403),
        (
            Some(&cookie),
            "0123456789abcdef0123456789abcdef",
            "ops-key",
            None,
            403,
        ),
        (
            Some(&cookie),
            &token,
            "ops-key",
            Some("http://evil.example"),
            403,
        ),
        (Some(&cookie), &token, "dev-key", None, 401),
    ];
    for (cookie, csrf, key, origin, want) in cases {
        let mut req = g.http.post(&url).form(&form(csrf, key));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), want, "{cookie:?} {origin:?} {key}");
        assert!(resp.text().await.unwrap().contains("Not resolved"));
        assert_eq!(g.admin_json("/orders/unknown").await["total"], 1);
    }
    let resp = g
        .http
        .post(&url)
        .header("cookie", &cookie)
        .header("origin", format!("http://{host}"))
        .form(&form(&token, "ops-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Resolved") && html.contains("sandbox-operator"),
        "{html}"
    );
    assert_eq!(g.admin_json("/orders/unknown").await["total"], 0);
}

/// A gateway (its config edited by `edit` first) whose `dev` client's webhook receiver
/// answers every delivery with `status`, with a Juniper order placed (so its deliveries
/// are under way), and the receiver's URL.
async fn placed_with_receiver_answering(
    status: StatusCode,
    edit: impl FnOnce(&Path),
) -> (Gateway, String) {
    let url = common::hook_receiver(move |_, _| status).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        common::config_with_webhook(dir.path(), &url, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    edit(&config);
    let g = Gateway::start_with(dir, config).await;
    let (_, order) = common::examples("juniper").remove(0);
    let (status, _, placed) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{placed}");
    (g, url)
}

/// The Webhook deliveries page lists a failed delivery (a receiver answering 503 past a
/// one-second window) with its id and error, never the payload; its redeliver form needs
/// the page's CSRF token and an operator key, and puts the delivery back to pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_deliveries_page_lists_failures_and_redelivers_them() {
    let (g, _) = placed_with_receiver_answering(StatusCode::SERVICE_UNAVAILABLE, |config| {
        common::edit_config(
            config,
            "\nclients:\n",
            "\nwebhooks: {windowSecs: 1, firstBackoffMs: 100, maxBackoffSecs: 1}\n\nclients:\n",
        );
    })
    .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let event_id = loop {
        let f = g.admin_json("/webhooks/failed").await;
        if let Some(id) = f["deliveries"][0]["eventId"].as_str() {
            break id.to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "not failed: {f}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let page = g.http.get(g.admin("/webhooks")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = cookie.split('=').nth(1).unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&event_id) && html.contains("503"), "{html}");
    assert!(!html.contains("orderRef"), "no payload on the page");

    let post = |csrf: &str, key: &str| {
        g.http
            .post(g.admin("/webhooks/redeliver-form"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf),
                ("event_id", event_id.as_str()),
                ("operator_key", key),
            ])
            .send()
    };
    assert_eq!(
        post("0123456789abcdef0123456789abcdef", "ops-key")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(post(&token, "dev-key").await.unwrap().status(), 401);
    assert_eq!(
        g.admin_json("/webhooks/failed").await["count"],
        1,
        "refusals change nothing"
    );
    let ok = post(&token, "ops-key").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Redelivering"));
    // Back to pending (then the 503 receiver fails it again, a window later).
    let failed = g.admin_json("/webhooks/failed").await;
    assert!(
        failed["count"] == 0 || failed["deliveries"][0]["attempts"].as_i64() > Some(1),
        "{failed}"
    );
}

/// An endpoint disabled by a 410 shows on the Webhook deliveries page (client, held
/// deliveries; never the URL), with the form that enables it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_deliveries_page_shows_a_disabled_endpoint() {
    let (g, url) = placed_with_receiver_answering(StatusCode::GONE, |_| {}).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while g.admin_json("/webhooks/disabled").await["count"] != 1 {
        assert!(tokio::time::Instant::now() < deadline, "not disabled");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let html = common::get_text(&g.http, &g.admin("/webhooks")).await;
    assert!(html.contains("webhooks-disabled"), "{html}");
    assert!(html.contains(r#"data-client="dev""#), "{html}");
    assert!(html.contains("410 Gone"), "{html}");
    assert!(!html.contains(&url), "no URL on the page");
    assert!(html.contains("enable every disabled endpoint"), "{html}");
}
