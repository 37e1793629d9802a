#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Several replicas on one PostgreSQL ledger (what a Kubernetes Deployment runs): the
//! ledger, and with it idempotency, is shared; a replica that starts does not take over
//! another's live orders. Needs `LEDGER_TEST_POSTGRES_URL` (`./scripts/test` starts a
//! throwaway server); skipped with a notice without it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Gateway, Proc, default_config_edited, hosted_sim};
use connector::sim::{Fault, RunningSim};
use serde_json::{Value, json};

const ENV: &str = "LEDGER_TEST_POSTGRES_URL";

fn postgres_url() -> Option<String> {
    let Ok(url) = std::env::var(ENV) else {
        assert!(
            std::env::var_os("LEDGER_TEST_POSTGRES_REQUIRED").is_none(),
            "LEDGER_TEST_POSTGRES_REQUIRED is set but {ENV} is not: PostgreSQL was meant to run"
        );
        return None;
    };
    Some(url)
}

/// The default config on the PostgreSQL ledger, with Juniper at `sim`, then `edit`.
fn replica_config(
    dir: &std::path::Path,
    sim: &RunningSim,
    edit: impl FnOnce(String) -> String,
) -> std::path::PathBuf {
    let base = sim.base_url();
    default_config_edited(dir, |t| {
        common::replaced(
            &edit(t).replace("http://127.0.0.1:18101", &base),
            "ledger:\n  kind: sqlite\n  path: data/ledger.db\n",
            &format!("ledger:\n  kind: postgres\n  url: \"${{{ENV}}}\"\n"),
        )
    })
}

async fn replica(sim: &RunningSim) -> Option<Gateway> {
    let url = postgres_url()?;
    let dir = tempfile::tempdir().unwrap();
    let config = replica_config(dir.path(), sim, |t| t);
    Some(
        Gateway::start_with_env(
            dir,
            config,
            Arc::new(move |k: &str| (k == ENV).then(|| url.clone())),
        )
        .await,
    )
}

/// The ledger state of the order `order_ref` as `gw` reads it.
async fn state_of(gw: &Gateway, order_ref: &str) -> Value {
    let found = gw
        .api_json(&format!("/v1/orders?orderRef={order_ref}"))
        .await;
    found["orders"][0]["state"].clone()
}

/// Polls until the order is in `state` (a live process's progress, not an ordering
/// sleep); the time it took.
async fn wait_for_state(gw: &Gateway, order_ref: &str, state: &str, within: Duration) -> Duration {
    let start = tokio::time::Instant::now();
    loop {
        if state_of(gw, order_ref).await == state {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{order_ref} not {state} after {within:?}: {}",
            state_of(gw, order_ref).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn order(r: &str) -> Value {
    let mut o = common::page_sample("juniper");
    o["orderRef"] = json!(r);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_idempotency_through_the_ledger() {
    let sim = hosted_sim("juniper").await;
    let (Some(a), Some(b)) = (replica(&sim).await, replica(&sim).await) else {
        eprintln!("SKIPPED: {ENV} is not set");
        return;
    };
    let o = order(&format!("replicas-{}", uuid::Uuid::new_v4().simple()));
    let gws = Arc::new([a, b]);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (gws, o) = (gws.clone(), o.clone());
        tasks.push(tokio::spawn(async move {
            let (status, _, body) = gws[i % 2].post("/v1/orders", &o).await;
            (status, body)
        }));
    }
    let mut placed = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => placed.push(body["id"].as_str().unwrap().to_owned()),
            409 => assert_eq!(body["code"], "in_progress", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(sim.control.count("orders_created"), 1, "one vendor order");
    placed.dedup();
    assert_eq!(placed.len(), 1, "every 201 is the same order: {placed:?}");
    // Either replica replays it afterwards.
    for g in gws.iter() {
        let (status, headers, body) = g.post("/v1/orders", &o).await;
        assert_eq!(status, 201);
        assert!(headers.get("idempotent-replayed").is_some());
        assert_eq!(body["id"], placed[0].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_starts_leaves_another_replicas_live_order_alone() {
    let sim = hosted_sim("juniper").await;
    let Some(a) = replica(&sim).await else {
        eprintln!("SKIPPED: {ENV} is not set");
        return;
    };
    let a = Arc::new(a);
    let o = order(&format!("live-{}", uuid::Uuid::new_v4().simple()));
    // Warm the token so the order is the slow call.
    let (status, _, _) = a
        .post(
            "/v1/orders",
            &order(&format!("warm-{}", uuid::Uuid::new_v4().simple())),
        )
        .await;
    assert_eq!(status, 201);
    sim.control.push_fault(Fault::DelayBefore {
        path: Some("/v1/orders".into()),
        ms: 2500,
    });
    let in_flight = {
        let (a, o) = (a.clone(), o.clone());
        tokio::spawn(async move { a.post("/v1/orders", &o).await })
    };
    let order_ref = o["orderRef"].as_str().unwrap();
    wait_for_state(&a, order_ref, "sending", Duration::from_secs(10)).await;
    // A second replica starts (a rollout) while the order is at the vendor.
    let b = replica(&sim).await.unwrap();
    assert_eq!(state_of(&b, order_ref).await, "sending");
    // Its retry of the same order is told to wait, not refused as unknown.
    let (status, _, body) = b.post("/v1/orders", &o).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("in_progress")),
        "{body}"
    );
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, headers, _) = b.post("/v1/orders", &o).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_some());
}

/// A replica killed mid-call: another replica marks its in-flight order `unknown` once
/// the dead replica's lease expires (seconds), not after the longest vendor deadline plus
/// a margin (here 120 s + 60 s), so the caller's retry is answered `outcome_unknown`
/// (settleable) instead of `in_progress` for minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replicas_in_flight_order_becomes_unknown_within_seconds() {
    let sim = hosted_sim("juniper").await;
    let Some(url) = postgres_url() else {
        eprintln!("SKIPPED: {ENV} is not set");
        return;
    };
    let b = replica(&sim).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = replica_config(dir.path(), &sim, |t| {
        // A vendor call may last two minutes: the age rule alone would wait three.
        common::replaced(
            &t,
            "      baseUrl: http://127.0.0.1:18101\n",
            "      baseUrl: http://127.0.0.1:18101\n      timeouts: {attemptMs: 120000, overallMs: 120000}\n",
        )
    });
    let mut a = Proc::spawn_with(&config, |c| {
        c.env(ENV, &url);
    });
    a.wait_ready().await;
    let o = order(&format!("killed-{}", uuid::Uuid::new_v4().simple()));
    let order_ref = o["orderRef"].as_str().unwrap().to_owned();
    sim.control.push_fault(Fault::DelayBefore {
        path: Some("/v1/orders".into()),
        ms: 120_000,
    });
    let api = format!("http://127.0.0.1:{}/v1/orders", a.api());
    let caller = tokio::spawn(async move {
        reqwest::Client::new()
            .post(api)
            .bearer_auth("dev-key")
            .json(&o)
            .send()
            .await
    });
    wait_for_state(&b, &order_ref, "sending", Duration::from_secs(20)).await;
    a.signal("KILL");
    let took = wait_for_state(&b, &order_ref, "unknown", Duration::from_secs(60)).await;
    eprintln!("unknown {took:?} after the kill");
    assert!(
        caller.await.unwrap().is_err(),
        "the caller's connection died with A"
    );
    let (status, _, body) = b.post("/v1/orders", &order(&order_ref)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("outcome_unknown")),
        "{body}"
    );
}
