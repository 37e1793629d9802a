#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! kill -9 with the real binary while 100 orders are in flight against slow vendors,
//! restart on the same ledger, let every client retry: each order ends accepted,
//! rejected or unknown in the ledger, none is missing, and no vendor holds a duplicate.
//!
//! The simulators run in this test process (not in the gateway), so they outlive the
//! kill and can be counted.

mod common;

use std::time::Duration;

use common::{Proc, default_config_edited, hosted_sim, page_sample};
use connector::sim::{Fault, RunningSim};
use serde_json::{Value, json};

const PER_VENDOR: usize = 50;

fn with_ref(order: &Value, r: &str) -> Value {
    let mut o = order.clone();
    o["orderRef"] = json!(r);
    o
}

async fn post(http: &reqwest::Client, api: u16, order: &Value) -> Result<(u16, Value), String> {
    common::try_post_order(http, &format!("http://127.0.0.1:{api}"), order).await
}

async fn record(http: &reqwest::Client, api: u16, order_ref: &str) -> Vec<Value> {
    let v: Value = common::get_json(
        http,
        &format!("http://127.0.0.1:{api}/v1/orders?orderRef={order_ref}"),
        Some("dev-key"),
    )
    .await;
    v["orders"].as_array().cloned().unwrap_or_default()
}

fn created(sim: &RunningSim) -> u64 {
    sim.control.count("orders_created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_100_orders_in_flight_loses_and_duplicates_nothing() {
    let juniper = hosted_sim("juniper").await;
    let adobe = hosted_sim("adobe-vipmp").await;
    let dir = tempfile::tempdir().unwrap();
    let (j_url, a_url) = (juniper.base_url(), adobe.base_url());
    let config = default_config_edited(dir.path(), |t| {
        t.replace("http://127.0.0.1:18101", &j_url)
            .replace("http://127.0.0.1:18103", &a_url)
    });
    let http = reqwest::Client::new();
    let mut proc = Proc::spawn(&config);
    proc.wait_ready().await;
    let api = proc.api();

    // Warm the token caches, so the orders below are the only slow calls.
    let samples = [
        ("juniper", page_sample("juniper")),
        ("adobe-vipmp", page_sample("adobe-vipmp")),
    ];
    for (vendor, order) in &samples {
        let (status, body) = post(&http, api, &with_ref(order, &format!("warm-{vendor}")))
            .await
            .unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let warm = (created(&juniper), created(&adobe));
    assert_eq!(warm, (1, 1));

    // Half the orders are created at the vendor and answered too late (the kill lands
    // after the vendor has the order); the other half are still waiting at the vendor's
    // door (the kill lands before it has them).
    for (sim, path) in [(&juniper, "/v1/orders"), (&adobe, "/v3/customers/")] {
        for i in 0..PER_VENDOR {
            let path = Some(path.to_owned());
            sim.control.push_fault(if i < PER_VENDOR / 2 {
                Fault::DelayAfter { path, ms: 3000 }
            } else {
                Fault::DelayBefore { path, ms: 3000 }
            });
        }
    }
    let before = (
        juniper.control.count("requests"),
        adobe.control.count("requests"),
    );
    let mut refs = Vec::new();
    let mut clients = Vec::new();
    for (vendor, order) in &samples {
        for i in 0..PER_VENDOR {
            let r = format!("crash-{vendor}-{i}");
            refs.push(((*vendor).to_owned(), r.clone()));
            let (http, order) = (http.clone(), with_ref(order, &r));
            clients.push(tokio::spawn(async move { post(&http, api, &order).await }));
        }
    }
    // Kill once every order has reached its (slow) simulator.
    wait_until_arrived(&juniper, &adobe, before).await;
    proc.signal("KILL");
    drop(proc);
    for c in clients {
        // Every in-flight caller lost its connection: none got an answer.
        assert!(
            c.await.unwrap().is_err(),
            "an order was answered before the kill"
        );
    }
    // Let the simulators finish whatever they were doing when the gateway died.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let at_kill = (created(&juniper), created(&adobe));
    let half = (PER_VENDOR / 2) as u64;
    assert_eq!(
        at_kill,
        (1 + half, 1 + half),
        "the kill hit both kinds of call"
    );

    let mut proc = Proc::spawn(&config);
    proc.wait_ready().await;
    let (api, admin) = (proc.api(), proc.admin());

    // Every client retries its order once.
    let mut answers = Vec::new();
    for ((vendor, r), (_, order)) in refs.iter().zip(
        samples
            .iter()
            .flat_map(|s| std::iter::repeat_n(s, PER_VENDOR)),
    ) {
        let (status, body) = post(&http, api, &with_ref(order, r)).await.unwrap();
        answers.push((vendor.clone(), r.clone(), status, body));
    }

    let (juniper_unknown, juniper_accepted) = check_answers(&http, api, &answers).await;

    eprintln!(
        "created at kill (juniper, adobe): {at_kill:?}; juniper after restart: {juniper_unknown} unknown, {juniper_accepted} placed"
    );
    // Adobe: exactly one order per orderRef (the warm-up plus 50), whatever the kill hit.
    assert_eq!(
        created(&adobe),
        1 + PER_VENDOR as u64,
        "Adobe holds a duplicate"
    );
    // Juniper: orders created since the restart are exactly the ones placed since; the
    // ones created before the kill are at most one per order now `unknown`.
    assert_eq!(created(&juniper) - at_kill.0, juniper_accepted);
    assert!(
        at_kill.0 - 1 <= juniper_unknown,
        "{at_kill:?} vs {juniper_unknown} unknown"
    );
    assert_eq!(juniper_unknown + juniper_accepted, PER_VENDOR as u64);

    // Operators see exactly the unsettled ones.
    let unknown: Value = common::get_json(
        &http,
        &format!("http://127.0.0.1:{admin}/orders/unknown"),
        None,
    )
    .await;
    assert_eq!(unknown["count"], juniper_unknown, "{unknown}");
}

/// After the restart, each retried order has one record, in the state its vendor allows,
/// and no vendor order answers for two orders. Returns Juniper's (unknown, placed) counts.
async fn check_answers(
    http: &reqwest::Client,
    api: u16,
    answers: &[(String, String, u16, Value)],
) -> (u64, u64) {
    let mut juniper_unknown: u64 = 0;
    let mut juniper_accepted: u64 = 0;
    let mut vendor_ids = std::collections::BTreeSet::new();
    for (vendor, r, status, body) in answers {
        let recs = record(http, api, r).await;
        assert_eq!(recs.len(), 1, "{r}: one record, not missing: {recs:?}");
        let state = recs[0]["state"].as_str().unwrap().to_owned();
        match (vendor.as_str(), state.as_str()) {
            // Adobe deduplicates by correlation id: the retry settled every order.
            ("adobe-vipmp", "accepted") => {
                assert_eq!(*status, 201, "{r}: {body}");
            }
            ("juniper", "unknown") => {
                assert_eq!(*status, 409, "{r}: {body}");
                assert_eq!(body["code"], "outcome_unknown");
                juniper_unknown += 1;
            }
            // Never recorded before the kill: placed now, for the first time.
            ("juniper", "accepted") => {
                assert_eq!(*status, 201, "{r}: {body}");
                juniper_accepted += 1;
            }
            other => panic!("{r}: unexpected {other:?}: {body}"),
        }
        if let Some(id) = recs[0]["vendorOrderId"].as_str() {
            assert!(
                vendor_ids.insert(format!("{vendor}/{id}")),
                "{r}: vendor order {id} answered for two orders"
            );
        }
    }
    (juniper_unknown, juniper_accepted)
}

/// Polls until every order of the test has reached its simulator (`before`: the request
/// counts before they were sent).
async fn wait_until_arrived(juniper: &RunningSim, adobe: &RunningSim, before: (u64, u64)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let at_j = juniper.control.count("requests") - before.0;
        let at_a = adobe.control.count("requests") - before.1;
        if at_j >= PER_VENDOR as u64 && at_a >= PER_VENDOR as u64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "orders did not reach the simulators: {at_j} / {at_a}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
