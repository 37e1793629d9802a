#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Outcome truth: what the caller is told, what the ledger holds and what the vendor
//! simulator holds agree on every failure path, and every unknown order can be settled.
//! Each test here failed on the gateway before the outcome-truth work.

mod common;

use std::time::Duration;

use common::{
    Gateway, Proc, default_config_edited, default_config_in, examples, hosted_sim, page_sample,
};
use connector::sim::Fault;
use serde_json::{Value, json};

/// The default config with `extra` added to one connection's `outbound` (after the line
/// that ends its auth block).
fn config_with(dir: &std::path::Path, after_line: &str, extra: &str) -> std::path::PathBuf {
    let config = default_config_in(dir);
    let line = format!("{after_line}\n");
    common::edit_config(&config, &line, &format!("{line}{extra}\n"));
    config
}

async fn records(g: &Gateway, order_ref: &str) -> Vec<Value> {
    g.api_json(&format!("/v1/orders?orderRef={order_ref}"))
        .await["orders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// (type, source, state) of each event in `GET /v1/orders/{id}`'s history.
async fn history(g: &Gateway, id: &str) -> Vec<(String, String, String)> {
    let got = g.api_json(&format!("/v1/orders/{id}")).await;
    got["history"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (f("type"), f("source"), f("state"))
        })
        .collect()
}

/// Finding 1: Adobe created the order, attempt 1 timed out, the resend was refused. The
/// caller was told "nothing was sent" (503) and the record was `failed`. Now: 504
/// unknown, listed for operators, and the caller's retry settles it by correlation id.
#[tokio::test]
async fn adobe_timeout_then_a_refused_resend_is_unknown_and_the_retry_settles_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "        X-Api-Key: adobe-sandbox",
        "      timeouts: {attemptMs: 500, overallMs: 10000}\n      retry: {maxAttempts: 2}",
    );
    let g = Gateway::start_with(dir, config).await;
    let sim = g.sim_for("adobe-vipmp");
    let order = page_sample("adobe-vipmp");
    let path = "/v3/customers/";
    sim.control.push_fault(Fault::DelayAfter {
        path: Some(path.into()),
        ms: 1500,
    });
    // Adobe's 503 `5122` ("ordering unavailable") means "not processed": true of the
    // resend, and says nothing about the first attempt. (The 429 variant of this is in
    // outbound's policy tests.)
    sim.control.push_fault(Fault::Status {
        path: Some(path.into()),
        status: 503,
        body: json!({"code": "5122", "message": "ordering unavailable"}),
        retry_after: None,
    });
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "vendor_timeout");
    assert_eq!(sim.control.count("orders_created"), 1);
    let recs = records(&g, order["orderRef"].as_str().unwrap()).await;
    assert_eq!(recs[0]["state"], "unknown", "{recs:?}");
    let unknown = g.admin_json("/orders/unknown").await;
    assert_eq!(unknown["total"], 1, "{unknown}");

    // The retry resends under the same correlation id: Adobe answers the first order.
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(sim.control.count("orders_created"), 1, "no second order");
    let recs = records(&g, order["orderRef"].as_str().unwrap()).await;
    assert_eq!(recs[0]["state"], "accepted");
}

/// Finding 3: nothing is recorded before the call can go out. A token endpoint that
/// fails leaves no record at all (not a `sending` that a crash would turn `unknown`),
/// and the retry places the order once.
#[tokio::test]
async fn nothing_is_recorded_when_the_call_stops_before_sending() {
    let g = Gateway::start().await;
    let sim = g.sim_for("juniper");
    let order = page_sample("juniper");
    sim.control.push_fault(Fault::Status {
        path: Some("/oauth2/token".into()),
        status: 500,
        body: json!({"error": "server_error"}),
        retry_after: None,
    });
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("vendor_auth")),
        "{body}"
    );
    assert!(
        records(&g, order["orderRef"].as_str().unwrap())
            .await
            .is_empty()
    );
    // The token endpoint fails fast for a moment after a failure; wait that out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, body) = g.post("/v1/orders", &order).await;
        if status == 201 {
            break;
        }
        assert_eq!(body["code"], "vendor_auth", "{body}");
        assert!(tokio::time::Instant::now() < deadline, "never placed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sim.control.count("orders_created"), 1);
}

/// Finding 3, with a crash: kill -9 while the token fetch is slow. The order never
/// reached the vendor, so after the restart it is not `unknown`: the retry places it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_the_token_fetch_leaves_an_order_the_retry_places() {
    let juniper = hosted_sim("juniper").await;
    let dir = tempfile::tempdir().unwrap();
    let url = juniper.base_url();
    let config = default_config_edited(dir.path(), |t| t.replace("http://127.0.0.1:18101", &url));
    juniper.control.push_fault(Fault::DelayBefore {
        path: Some("/oauth2/token".into()),
        ms: 30_000,
    });
    let http = reqwest::Client::new();
    let mut proc = Proc::spawn(&config);
    proc.wait_ready().await;
    let api = proc.api();
    let order = page_sample("juniper");
    let post = {
        let (http, order) = (http.clone(), order.clone());
        tokio::spawn(async move {
            http.post(format!("http://127.0.0.1:{api}/v1/orders"))
                .bearer_auth("dev-key")
                .json(&order)
                .send()
                .await
        })
    };
    // Kill once the token request is at the (stalled) token endpoint.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while juniper.control.count("requests") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no token request");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proc.signal("KILL");
    assert!(post.await.unwrap().is_err(), "answered before the kill");
    drop(proc);
    juniper.control.clear_faults();

    let mut proc = Proc::spawn(&config);
    proc.wait_ready().await;
    let api = proc.api();
    let (status, body) =
        common::post_order(&http, &format!("http://127.0.0.1:{api}"), &order).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(juniper.control.count("orders_created"), 1);
}

/// Finding 4: a caller that goes away mid-call does not strand the order: placement
/// finishes in its own task and the record gets the vendor's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_disconnect_mid_call_still_records_the_outcome() {
    let g = Gateway::start().await;
    let sim = g.sim_for("juniper");
    sim.control.set_latency(Duration::from_millis(1500));
    let order = page_sample("juniper");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let r = impatient
        .post(g.url("/v1/orders"))
        .bearer_auth("dev-key")
        .json(&order)
        .send()
        .await;
    assert!(r.is_err(), "the impatient caller should have given up");
    let order_ref = order["orderRef"].as_str().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let recs = records(&g, order_ref).await;
        if recs.first().is_some_and(|r| r["state"] == "accepted") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {recs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.control.set_latency(Duration::ZERO);
    let (status, headers, _) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(sim.control.count("orders_created"), 1);
}

/// Findings 5 and 6: a vendor-controlled Retry-After (u64::MAX) pauses the connection
/// (capped) instead of panicking with the pause lock held; callers are told a wait
/// rounded up, never down.
#[tokio::test]
async fn a_huge_retry_after_pauses_and_waits_are_rounded_up() {
    let g = Gateway::start().await;
    let sim = g.sim_for("impilo");
    let (_, order) = examples("impilo").remove(0);
    sim.control.push_fault(Fault::Status {
        path: None,
        status: 429,
        body: json!({"message": "slow down"}),
        retry_after: Some(u64::MAX),
    });
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 503, "{body}");
    // Paused: the next order is refused before sending, with the capped wait rounded up.
    let mut next = order.clone();
    next["orderRef"] = json!("truth-after-huge-retry-after");
    let (status, headers, body) = g.post("/v1/orders", &next).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("vendor_rate_limited")),
        "{body}"
    );
    let told: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    // Rounded up: 3599.99... s is told as 3600.
    assert_eq!(told, 3600);
    assert_eq!(sim.control.count("orders_created"), 0);
}

/// Finding 9: /orders/unknown pages with a total, and reading it does not set the
/// `orders_unknown` gauge.
#[tokio::test]
async fn unknown_orders_are_paged_and_reading_them_leaves_the_gauge_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "        clientSecret: juniper-sandbox-secret",
        "      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}",
    );
    let g = Gateway::start_with(dir, config).await;
    let sim = g.sim_for("juniper");
    let order = page_sample("juniper");
    let gauge = || async {
        let text = common::get_text(&g.http, &g.admin("/metrics")).await;
        text.lines()
            .find(|l| l.starts_with("orders_unknown "))
            .map(str::to_owned)
    };
    let before = gauge().await;
    for i in 0..3 {
        sim.control.push_fault(Fault::DelayAfter {
            path: Some("/v1/orders".into()),
            ms: 600,
        });
        let mut o = order.clone();
        o["orderRef"] = json!(format!("truth-unknown-{i}"));
        let (status, _, body) = g.post("/v1/orders", &o).await;
        assert_eq!(status, 504, "{body}");
    }
    let p1 = g.admin_json("/orders/unknown?limit=2").await;
    assert_eq!(
        (p1["count"].as_u64(), p1["total"].as_u64()),
        (Some(2), Some(3)),
        "{p1}"
    );
    let next = p1["next"].as_str().unwrap();
    let p2 = g
        .admin_json(&format!("/orders/unknown?limit=2&after={next}"))
        .await;
    assert_eq!(
        (p2["count"].as_u64(), p2["next"].is_null()),
        (Some(1), true),
        "{p2}"
    );
    let mut refs: Vec<&str> = p1["orders"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["orders"].as_array().unwrap())
        .map(|o| o["orderRef"].as_str().unwrap())
        .collect();
    refs.sort_unstable();
    assert_eq!(
        refs,
        ["truth-unknown-0", "truth-unknown-1", "truth-unknown-2"]
    );
    assert_eq!(gauge().await, before, "a read moved the gauge");
    let r = g
        .http
        .get(g.admin("/orders/unknown?limit=many"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "invalid_request", "{p}");
}

/// Finding 10: a non-ASCII Idempotency-Key is refused, not silently replaced by orderRef.
#[tokio::test]
async fn a_non_ascii_idempotency_key_is_refused() {
    let g = Gateway::start().await;
    let order = page_sample("juniper");
    let r = g
        .http
        .post(g.url("/v1/orders"))
        .bearer_auth("dev-key")
        .header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes("schlüssel".as_bytes()).unwrap(),
        )
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_order", "{body}");
    assert_eq!(g.sim_for("juniper").control.count("orders_created"), 0);
}

fn cli(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .arg(args[0])
        .arg("--config")
        .arg(config)
        .args(&args[1..])
        .output()
        .unwrap()
}

/// Findings 2 and 3: operators settle unknown orders. `--not-placed` lets the caller's
/// retry place the order; a linked id is checked by the connector, may not be held by
/// another record, and a vendor without a lookup (Axim) is refused with exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_resolve_unknown_orders_with_checked_ids() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "        clientSecret: juniper-sandbox-secret",
        "      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}",
    );
    common::edit_config(
        &config,
        "        token: axim-sandbox-token\n",
        "        token: axim-sandbox-token\n      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}\n",
    );
    let g = Gateway::start_with(dir, config.clone()).await;
    let juniper = g.sim_for("juniper");
    let too_late = Fault::AbortAfter {
        path: Some("/v1/orders".into()),
    };
    // Two Juniper orders left unknown: the vendor created both, the answers were cut.
    let base = page_sample("juniper");
    let mut ids = Vec::new();
    for i in 0..2 {
        juniper.control.push_fault(too_late.clone());
        let mut o = base.clone();
        o["orderRef"] = json!(format!("truth-op-{i}"));
        let (status, _, body) = g.post("/v1/orders", &o).await;
        assert!(status == 502 || status == 504, "{body}");
        ids.push(
            records(&g, &format!("truth-op-{i}")).await[0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(juniper.control.count("orders_created"), 2);
    let first_vendor_id = vendor_juniper::sim::order_id(1);

    // Ids the connector cannot use, and unknown orders, change nothing.
    let out = cli(&config, &["link-vendor-order", &ids[0], "bad-id/../x"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = cli(
        &config,
        &[
            "resolve-unknown",
            "ord_nosuch",
            "--not-placed",
            "--reason",
            "r",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // Link order 0 to the vendor's first order; order 1 may not take the same id.
    let out = cli(&config, &["link-vendor-order", &ids[0], &first_vendor_id]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(
        &config,
        &[
            "resolve-unknown",
            &ids[1],
            "--placed",
            &first_vendor_id,
            "--reason",
            "r",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already held"),
        "{out:?}"
    );

    // Order 1 resolved as not placed (say the operator cancelled it at the vendor): the
    // caller's retry places it.
    let out = cli(
        &config,
        &[
            "resolve-unknown",
            &ids[1],
            "--not-placed",
            "--operator",
            "alice",
            "--reason",
            "cancelled at vendor",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut o1 = base.clone();
    o1["orderRef"] = json!("truth-op-1");
    let (status, _, body) = g.post("/v1/orders", &o1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], ids[1].as_str());
    // Order 0 settles from the vendor's own order.
    let mut o0 = base.clone();
    o0["orderRef"] = json!("truth-op-0");
    let (status, _, body) = g.post("/v1/orders", &o0).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vendorOrderId"], first_vendor_id.as_str());
    // Each order's history tells the caller how it was settled, and by whom.
    assert_eq!(
        history(&g, &ids[1]).await,
        [
            ("order.unknown", "create", "unknown"),
            ("order.settled", "operator", "failed"),
            ("order.accepted", "create", "accepted"),
        ]
        .map(|(k, s, st)| (k.to_owned(), s.to_owned(), st.to_owned()))
    );
    assert_eq!(
        history(&g, &ids[0]).await,
        [
            ("order.unknown", "create", "unknown"),
            ("order.settled", "reconcile", "accepted"),
        ]
        .map(|(k, s, st)| (k.to_owned(), s.to_owned(), st.to_owned()))
    );

    a_vendor_without_lookup_takes_only_not_placed(&g, &config).await;
}

/// Axim has no lookup: a placed resolution is refused with exit 2, not placed is taken.
async fn a_vendor_without_lookup_takes_only_not_placed(g: &Gateway, config: &std::path::Path) {
    let axim = g.sim_for("axim");
    axim.control.push_fault(too_late_for("/"));
    let (status, _, body) = g.post("/v1/orders", &page_sample("axim")).await;
    assert!(status == 502 || status == 504, "{body}");
    let axim_ref = page_sample("axim")["orderRef"].as_str().unwrap().to_owned();
    let axim_id = records(g, &axim_ref).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = cli(config, &["link-vendor-order", &axim_id, "12345"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no order lookup"),
        "{out:?}"
    );
    // ... but an operator can still resolve it as not placed.
    let out = cli(
        config,
        &[
            "resolve-unknown",
            &axim_id,
            "--not-placed",
            "--reason",
            "not at vendor",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

fn too_late_for(path: &str) -> Fault {
    Fault::AbortAfter {
        path: Some(path.into()),
    }
}

/// Finding 8: a drain that runs out of grace with orders in flight exits non-zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclean_drain_exits_non_zero() {
    let juniper = hosted_sim("juniper").await;
    let dir = tempfile::tempdir().unwrap();
    let url = juniper.base_url();
    let config = default_config_edited(dir.path(), |t| {
        t.replace("http://127.0.0.1:18101", &url)
            .replace("shutdownGraceSecs: 25", "shutdownGraceSecs: 1")
    });
    let http = reqwest::Client::new();
    let mut proc = Proc::spawn(&config);
    proc.wait_ready().await;
    let api = proc.api();
    juniper.control.push_fault(Fault::DelayBefore {
        path: Some("/v1/orders".into()),
        ms: 20_000,
    });
    let post = {
        let http = http.clone();
        let order = page_sample("juniper");
        tokio::spawn(async move {
            http.post(format!("http://127.0.0.1:{api}/v1/orders"))
                .bearer_auth("dev-key")
                .json(&order)
                .send()
                .await
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // The order call is at the simulator (token first, then the order).
    while juniper.control.count("requests") < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the order never reached the vendor"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proc.signal("TERM");
    let (proc, status) = tokio::task::spawn_blocking(move || {
        let mut proc = proc;
        let status = proc.child.wait().unwrap();
        (proc, status)
    })
    .await
    .unwrap();
    assert_ne!(status.code(), Some(0), "{}", proc.output_tail());
    post.abort();
}

/// Finding 8, the config side: a vendor deadline longer than the shutdown grace is
/// warned about (and refused with --deny-warnings), at the field.
#[test]
fn check_config_warns_when_a_vendor_call_outlasts_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "        token: impilo-sandbox-key",
        "      timeouts: {overallMs: 30000}",
    );
    let run = |deny: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"));
        c.arg("check-config").arg(&config);
        if deny {
            c.arg("--deny-warnings");
        }
        c.output().unwrap()
    };
    let out = run(false);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("/outbound/timeouts/overallMs") && text.contains("shutdownGraceSecs"),
        "{text}"
    );
    assert_eq!(run(true).status.code(), Some(78));
    // The shipped config (defaults) draws no such warning.
    let shipped_dir = tempfile::tempdir().unwrap();
    let shipped = default_config_in(shipped_dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .arg("check-config")
        .arg(&shipped)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("overallMs"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("overallMs"));
}

/// The fault matrix: every vendor connection through a timeout after sending, a
/// connection cut after sending, an undocumented status after creating (a 303), a refusal
/// on a resend after an attempt that may have landed, and a caller that disconnects
/// mid-call. Afterwards, for every order, the
/// caller's answer, the ledger record and the simulator's own count agree: no answer
/// says "not sent" for an order the vendor holds, no order is held twice, and every
/// order is either settled or `unknown` (which an operator can always resolve).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_under_every_fault_answers_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let tight = "      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 5000}\n      retry: {maxAttempts: 2, baseBackoffMs: 10, maxBackoffMs: 20}";
    let config = default_config_in(dir.path());
    for line in [
        "        clientSecret: juniper-sandbox-secret",
        "        token: axim-sandbox-token",
        "        X-Api-Key: adobe-sandbox",
        "        token: impilo-sandbox-key",
    ] {
        let l = format!("{line}\n");
        common::edit_config(&config, &l, &format!("{l}{tight}\n"));
    }
    let g = Gateway::start_with(dir, config).await;
    let late = || Fault::DelayAfter {
        path: None,
        ms: 800,
    };
    let refused = || Fault::Status {
        path: None,
        status: 429,
        body: json!({"message": "slow down"}),
        retry_after: None,
    };
    let scenarios: Vec<(&str, Vec<Fault>)> = vec![
        ("timeout-after-send", vec![late()]),
        ("cut-after-send", vec![Fault::AbortAfter { path: None }]),
        ("refused-resend", vec![late(), refused()]),
        // Created, then a status the vendor does not document (post/redirect/get).
        (
            "see-other",
            vec![Fault::StatusAfter {
                path: None,
                status: 303,
            }],
        ),
        ("disconnect", vec![]),
    ];
    for vendor in common::vendors() {
        let (_, base) = examples(vendor).remove(0);
        let sim = g.sim_for(vendor);
        // Warm the token cache, so the faults below hit order calls only.
        let mut warm = base.clone();
        warm["orderRef"] = json!(format!("mx-{}-warm", &vendor[..3]));
        let (status, _, body) = g.post("/v1/orders", &warm).await;
        assert!(status < 300, "{vendor}: {body}");
        for (name, faults) in &scenarios {
            let before = sim.control.count("orders_created");
            let mut order = base.clone();
            // Short: Adobe keeps at most 35 characters of a reference.
            let order_ref = format!("mx-{}-{name}", &vendor[..3]);
            order["orderRef"] = json!(order_ref);
            sim.control.clear_faults();
            for f in faults {
                sim.control.push_fault(f.clone());
            }
            let status = if *name == "disconnect" {
                sim.control.set_latency(Duration::from_millis(700));
                let impatient = reqwest::Client::builder()
                    .timeout(Duration::from_millis(200))
                    .build()
                    .unwrap();
                let r = impatient
                    .post(g.url("/v1/orders"))
                    .bearer_auth("dev-key")
                    .json(&order)
                    .send()
                    .await;
                assert!(r.is_err(), "{vendor}/{name}: answered");
                None
            } else {
                let (status, _, body) = g.post("/v1/orders", &order).await;
                Some((status, body))
            };
            // Wait until the record has an outcome (placement runs on after a disconnect).
            let what = format!("{vendor}/{name}");
            let rec = settled_record(&g, &order_ref, &what, &status).await;
            sim.control.set_latency(Duration::ZERO);
            sim.control.clear_faults();
            // The simulator finishes late answers on its own time: wait for its count
            // to settle before comparing (it only ever grows by the one order).
            let created = sim.control.count("orders_created") - before;
            assert!(
                created <= 1,
                "{vendor}/{name}: the vendor holds {created} orders"
            );
            let state = rec["state"].as_str().unwrap();
            match state {
                "accepted" => assert_eq!(
                    created, 1,
                    "{vendor}/{name}: accepted, but not at the vendor"
                ),
                "unknown" => {}
                "failed" | "rejected" => assert_eq!(
                    created, 0,
                    "{vendor}/{name}: recorded {state} although the vendor holds the order"
                ),
                other => panic!("{vendor}/{name}: {other}"),
            }
            if let Some((status, body)) = status {
                check_answer(&what, state, created, status, &body);
            }
            // The caller's retry never places a second order.
            let (status, _, body) = g.post("/v1/orders", &order).await;
            assert!(
                status < 300 || status == 409,
                "{vendor}/{name}: retry answered {status}: {body}"
            );
            assert!(
                sim.control.count("orders_created") - before <= 1,
                "{vendor}/{name}: the retry duplicated the order"
            );
        }
    }
}

/// A linked vendor order settles an unknown order only if the vendor's order is the
/// caller's: the same lines is not enough when the vendor echoes who the order is for
/// (Juniper `customer.sourceId`). Two customers' identical orders are left unknown; an
/// operator links the second to the first one's vendor order by mistake: the retry stays
/// `outcome_unknown` instead of answering with the other customer's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_vendor_order_of_another_customer_does_not_settle() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "        clientSecret: juniper-sandbox-secret",
        "      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}",
    );
    let g = Gateway::start_with(dir, config.clone()).await;
    let juniper = g.sim_for("juniper");
    let mut ids = Vec::new();
    let mut orders = Vec::new();
    for (i, customer) in ["cust-a", "cust-b"].into_iter().enumerate() {
        juniper.control.push_fault(Fault::AbortAfter {
            path: Some("/v1/orders".into()),
        });
        let mut o = page_sample("juniper");
        o["orderRef"] = json!(format!("truth-who-{i}"));
        o["customer"]["ref"] = json!(customer);
        let (status, _, body) = g.post("/v1/orders", &o).await;
        assert!(status == 502 || status == 504, "{body}");
        ids.push(
            records(&g, &format!("truth-who-{i}")).await[0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        orders.push(o);
    }
    assert_eq!(juniper.control.count("orders_created"), 2);
    // Vendor order 1 is cust-a's; the operator links cust-b's record to it.
    let cust_a_vendor_order = vendor_juniper::sim::order_id(1);
    let out = cli(
        &config,
        &["link-vendor-order", &ids[1], &cust_a_vendor_order],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (status, _, body) = g.post("/v1/orders", &orders[1]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("outcome_unknown")),
        "{body}"
    );
    assert_eq!(records(&g, "truth-who-1").await[0]["state"], "unknown");
    // Linked to its own vendor order, it settles.
    let out = cli(
        &config,
        &[
            "link-vendor-order",
            &ids[1],
            &vendor_juniper::sim::order_id(2),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (status, _, body) = g.post("/v1/orders", &orders[1]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["vendorOrderId"],
        vendor_juniper::sim::order_id(2).as_str()
    );
}

/// Polls until the order's record has left `sending`/`received` (placement runs on after
/// a caller disconnects) and returns it.
async fn settled_record(
    g: &Gateway,
    order_ref: &str,
    what: &str,
    answered: &Option<(u16, Value)>,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let recs = records(g, order_ref).await;
        if let Some(r) = recs.first()
            && r["state"] != "sending"
            && r["state"] != "received"
        {
            return r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {recs:?}, answered {answered:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The caller's answer agrees with the recorded state and with what the vendor holds
/// (`created`: orders the simulator created for it).
fn check_answer(what: &str, state: &str, created: u64, status: u16, body: &Value) {
    let said_not_sent = matches!(status, 502 | 503)
        && body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing was sent"));
    assert!(
        !(said_not_sent && created == 1),
        "{what}: told 'nothing was sent' for an order the vendor holds: {body}"
    );
    match state {
        "accepted" => assert!(status < 300, "{what}: {status} {body}"),
        "unknown" => assert!(
            status == 504 || status == 502,
            "{what}: unknown but answered {status}: {body}"
        ),
        _ => assert!(status >= 400, "{what}: {body}"),
    }
}
