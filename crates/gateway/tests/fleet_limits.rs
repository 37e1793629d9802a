#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Fleet-wide vendor limits (issue 20) with real processes: three gateway binaries share
//! one connection budget in a real `redis-server` (Unix socket in a temp dir) against one
//! vendor simulator hosted by the test, which records when each call arrived. Then a
//! vendor 429 seen by one replica pauses all three, and Redis is killed and brought back.
//! Also per-client quotas (one gateway, local limits). Rates are small (10/s) and phases
//! a few seconds long, so windows of one second hold enough calls to count.

mod common;

#[allow(dead_code)]
#[path = "../../outbound/tests/support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use common::{Gateway, Proc, default_config_edited, examples, hosted_sim};
use connector::sim::{Fault, RunningSim};
use redis_server::RedisServer;
use serde_json::{Value, json};
use tokio::time::Instant;

const RATE: usize = 10;
const BURST: usize = 5;
const SEC: Duration = Duration::from_secs(1);

/// The tests here count calls per second: run one at a time, so neither adds the other's
/// load to the timing it measures.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn order() -> Value {
    let (_, mut o) = examples("axim")
        .into_iter()
        .find(|(n, _)| n == "page-sample.json")
        .unwrap();
    o["orderRef"] = json!(format!("fleet-{}", uuid::Uuid::new_v4().simple()));
    o
}

/// The shipped config, with the Axim connection pointed at `sim` and `limits` set.
fn config(
    dir: &std::path::Path,
    sim: &RunningSim,
    limits: &str,
    extra: &str,
) -> std::path::PathBuf {
    let base = sim.base_url();
    default_config_edited(dir, |t| {
        let t = t.replace(
            "      baseUrl: http://127.0.0.1:18102\n",
            &format!("      baseUrl: {base}\n      limits: {limits}\n"),
        );
        // Before `connections:`: the shipped `tests:` at the end are cut off.
        t.replacen("\nconnections:\n", &format!("\n{extra}\nconnections:\n"), 1)
    })
}

/// One order posted with `key`: (status, problem code).
async fn post(http: &reqwest::Client, port: u16, key: &str) -> (u16, String, Option<String>) {
    let resp = http
        .post(format!("http://127.0.0.1:{port}/v1/orders"))
        .bearer_auth(key)
        .json(&order())
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    (status, code, retry_after)
}

/// `per_sec` orders a second for `length`, round-robin over `targets` (port, API key),
/// each on its own task; returns every answer once all are in.
async fn load(
    targets: &[(u16, &str)],
    per_sec: u32,
    length: Duration,
) -> Vec<(u16, String, Option<String>)> {
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(SEC / per_sec);
    // A loaded machine delays ticks: late ones are not fired together afterwards.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let total = (length.as_secs_f64() * f64::from(per_sec)) as usize;
    let mut tasks = Vec::new();
    for i in 0..total {
        tick.tick().await;
        let (port, key) = targets[i % targets.len()];
        let (http, key) = (http.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move { post(&http, port, &key).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The most arrivals in any one-second window starting at an arrival.
fn busiest_second(arrivals: &[Instant]) -> usize {
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|t| **t - arrivals[i] < SEC)
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn vendor_calls(sim: &RunningSim, since: Instant) -> Vec<Instant> {
    sim.control
        .arrivals("/orders")
        .into_iter()
        .filter(|t| *t >= since)
        .collect()
}

/// Three gateway processes on one fleet-scope connection (and the dir of their config).
async fn fleet(sim: &RunningSim, redis: &RedisServer) -> (Vec<Proc>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let limits = format!(
        "{{ratePerSec: {RATE}, burst: {BURST}, maxWaitMs: 500, scope: fleet, onRedisDown: reject}}"
    );
    let path = config(
        dir.path(),
        sim,
        &limits,
        "redis:\n  url: ${OG_TEST_REDIS_URL}\n  timeoutMs: 50\n",
    );
    let mut procs = Vec::new();
    for _ in 0..3 {
        let url = redis.url();
        let mut p = Proc::spawn_with(&path, |c| {
            c.env("OG_TEST_REDIS_URL", url);
        });
        p.wait_ready().await;
        procs.push(p);
    }
    (procs, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_share_one_vendor_budget_a_vendor_pause_and_a_redis_outage() {
    let _serial = SERIAL.lock().await;
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let sim = hosted_sim("axim").await;
    let (procs, _config_dir) = fleet(&sim, &redis).await;
    let targets: Vec<(u16, &str)> = procs.iter().map(|p| (p.api(), "dev-key")).collect();

    // 1. About 5R for 3 s across the three: the vendor never sees more than R+B in a
    //    second, and sees about R a second (the budget is used, not divided).
    let t0 = Instant::now();
    let answers = load(&targets, (5 * RATE) as u32, 3 * SEC).await;
    let calls = vendor_calls(&sim, t0);
    let placed = answers.iter().filter(|a| a.0 == 201).count();
    assert!(
        answers
            .iter()
            .all(|a| a.0 == 201 || a.1 == "vendor_rate_limited"),
        "{answers:?}"
    );
    assert_eq!(placed, calls.len(), "one vendor call per placed order");
    // The rate in the steady middle of the run (the first and last half second are its
    // ramp-up and tail).
    let span = (*calls.last().unwrap() - calls[0]).as_secs_f64() - 1.0;
    let middle = calls
        .iter()
        .filter(|t| {
            **t >= calls[0] + SEC / 2 && **t < calls[0] + SEC / 2 + Duration::from_secs_f64(span)
        })
        .count();
    let per_sec = middle as f64 / span;
    eprintln!(
        "budget: {} vendor calls, busiest second {}, {per_sec:.1}/s over {span:.2} s",
        calls.len(),
        busiest_second(&calls)
    );
    assert!(
        busiest_second(&calls) <= RATE + BURST,
        "{} in one second",
        busiest_second(&calls)
    );
    assert!(
        per_sec >= 0.9 * RATE as f64,
        "{per_sec:.1}/s over {span:.2} s"
    );

    // 2. A 429 with Retry-After: 2 on one replica stops all three for 2 s, and the calls
    //    after it arrive paced (R/4 in the first quarter second, plus the 429'd call's
    //    resend and timing slack), not at once.
    tokio::time::sleep(2 * SEC).await; // the budget refills: the pause is what stops calls
    sim.control.push_fault(Fault::Status {
        path: Some("/orders".into()),
        status: 429,
        body: json!({"message": "slow down"}),
        retry_after: Some(2),
    });
    let t1 = Instant::now();
    let answers = load(&targets, (2 * RATE) as u32, 4 * SEC).await;
    let calls = vendor_calls(&sim, t1);
    let paused_at = calls[0];
    let during: Vec<_> = calls
        .iter()
        .filter(|t| **t > paused_at + Duration::from_millis(100) && **t < paused_at + 2 * SEC)
        .collect();
    assert!(during.is_empty(), "{} calls during the pause", during.len());
    let resumed = calls
        .iter()
        .find(|t| **t >= paused_at + 2 * SEC)
        .copied()
        .unwrap();
    let first_quarter = calls
        .iter()
        .filter(|t| **t >= resumed && **t < resumed + SEC / 4)
        .count();
    eprintln!(
        "pause: resumed {:?} after the 429, {first_quarter} calls in the first 250 ms",
        resumed - paused_at
    );
    assert!(
        first_quarter <= RATE / 4 + 3,
        "{first_quarter} calls in the first 250 ms"
    );
    assert!(answers.iter().any(|a| a.0 == 201), "{answers:?}");

    // 3. Redis killed: `onRedisDown: reject` refuses every call, and none reaches the
    //    vendor. Redis back: orders are placed again, with no restart.
    redis.kill();
    let t2 = Instant::now();
    let answers = load(&targets, 10, 2 * SEC).await;
    assert!(
        answers
            .iter()
            .all(|a| a.0 == 503 && a.1 == "vendor_rate_limited"),
        "{answers:?}"
    );
    assert!(vendor_calls(&sim, t2).is_empty());
    redis.restart();
    let deadline = Instant::now() + 10 * SEC;
    let mut back = [false; 3];
    while back.iter().any(|b| !b) {
        assert!(
            Instant::now() < deadline,
            "the fleet budget did not come back: {back:?}"
        );
        let http = reqwest::Client::new();
        for (i, (port, key)) in targets.iter().enumerate() {
            back[i] |= post(&http, *port, key).await.0 == 201;
        }
        tokio::time::sleep(SEC / 10).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_is_held_to_its_quota_and_the_other_still_gets_through() {
    let _serial = SERIAL.lock().await;
    let sim = hosted_sim("axim").await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sim,
        "{ratePerSec: 12, burst: 4, maxWaitMs: 1000}",
        "",
    );
    // Two clients with quotas: the shipped `dev` and a `noisy` one (key `noisy-key`).
    common::edit_config(
        &path,
        "  - id: dev\n    keySha256: 7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e\n",
        "  - id: dev\n    keySha256: 7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e\n    limits: {ratePerSec: 10, burst: 3}\n  - id: noisy\n    keySha256: 74fe201963018d00550fa41ac5cdc12fada5e665a9de133d46990cbfe355a18e\n    limits: {ratePerSec: 5, burst: 1}\n",
    );
    let gw = Gateway::start_with(dir, path).await;
    let port = gw.running.api_addr.port();
    let t0 = Instant::now();
    let (noisy_target, dev_target) = ([(port, "noisy-key")], [(port, "dev-key")]);
    let (noisy, dev) = tokio::join!(
        load(&noisy_target, 40, 2 * SEC),
        load(&dev_target, 5, 2 * SEC),
    );
    // Without quotas the flood takes the connection's 12/s and `dev` gets 503s.
    assert!(dev.iter().all(|a| a.0 == 201), "{dev:?}");
    // Its burst of 1 and 5/s for as long as the flood lasted (longer than 2 s on a busy
    // machine: late ticks are delayed, not bunched), plus one for timing.
    let flood_secs = t0.elapsed().as_secs_f64();
    let noisy_placed = noisy.iter().filter(|a| a.0 == 201).count();
    assert!(
        noisy_placed as f64 <= 2.0 + 5.0 * flood_secs,
        "{noisy_placed} in {flood_secs:.2} s"
    );
    let refused: Vec<_> = noisy.iter().filter(|a| a.0 != 201).collect();
    assert!(
        refused
            .iter()
            .all(|a| a.0 == 429 && a.1 == "rate_limited" && a.2.as_deref() == Some("1")),
        "{refused:?}"
    );
    assert_eq!(
        vendor_calls(&sim, t0).len(),
        noisy_placed + dev.len(),
        "a refused order never reaches the vendor"
    );
}
