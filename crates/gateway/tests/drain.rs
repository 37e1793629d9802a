#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! SIGTERM with the real binary: readiness goes false first, orders in flight complete,
//! the process exits cleanly, and the ledger holds every order as accepted.

mod common;

use std::time::Duration;

use common::{Proc, default_config_in, examples, vendors};
use serde_json::Value;

#[tokio::test]
async fn sigterm_drains_in_flight_orders_and_readiness_goes_false_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    common::edit_config(&config, "drainDelaySecs: 0", "drainDelaySecs: 1");
    let mut proc = Proc::spawn(&config);
    let http = reqwest::Client::new();
    proc.wait_ready().await;
    let (api, admin) = (proc.api(), proc.admin());

    // Make a simulator slow so orders are in flight when SIGTERM arrives.
    let vendor = vendors()[0];
    let sim = proc.sim_port(vendor);
    let requests_at_sim = || {
        let http = http.clone();
        async move {
            let stats: Value =
                common::get_json(&http, &format!("http://127.0.0.1:{sim}/_sim/stats"), None).await;
            stats["counters"]["requests"].as_u64().unwrap_or(0)
        }
    };
    http.put(format!("http://127.0.0.1:{sim}/_sim/latency"))
        .json(&serde_json::json!({"ms": 1500}))
        .send()
        .await
        .unwrap();

    let (_, base) = examples(vendor).remove(0);
    let before = requests_at_sim().await;
    let mut inflight = Vec::new();
    for i in 0..5 {
        let mut order = base.clone();
        order["orderRef"] = Value::String(format!("drain-{i}"));
        let http = http.clone();
        inflight.push(tokio::spawn(async move {
            common::post_order(&http, &format!("http://127.0.0.1:{api}"), &order).await
        }));
    }
    // SIGTERM once every order has reached the (slow) vendor: observed, not slept for.
    // The order calls are counted at the simulator's door, before its latency.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while requests_at_sim().await < before + 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orders never reached the vendor"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proc.signal("TERM");

    // Readiness goes false while the in-flight orders are still running.
    loop {
        let ready = http
            .get(format!("http://127.0.0.1:{admin}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if matches!(ready, Ok(503) | Err(_)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readiness stayed {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        inflight.iter().all(|h| !h.is_finished()),
        "readiness went false only after the orders finished"
    );

    let mut ids = Vec::new();
    for h in inflight {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let exit = tokio::task::spawn_blocking(move || {
        let s = proc.child.wait();
        (proc, s)
    })
    .await
    .unwrap();
    assert_eq!(exit.1.unwrap().code(), Some(0));

    // A new process on the same ledger sees every order as accepted.
    let mut again = Proc::spawn(&config);
    again.wait_ready().await;
    let api = again.api();
    for id in ids {
        let rec: Value = common::get_json(
            &http,
            &format!("http://127.0.0.1:{api}/v1/orders/{id}"),
            Some("dev-key"),
        )
        .await;
        assert_eq!(rec["state"], "accepted", "{rec}");
    }
}
