#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Webhook delivery under failure, with the real binary where a process dies or restarts:
//! a receiver that answers 410 disables its endpoint durably; kill -9 mid-delivery loses
//! nothing; two replicas on one PostgreSQL deliver each event once; a receiver down past
//! the window gets its events from the redelivery command; an operator's settlement
//! reaches the caller. Every receiver here verifies each signature with the secret.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Gateway, Proc};
use serde_json::{Value, json};
use tokio::time::Instant;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PG: &str = "LEDGER_TEST_POSTGRES_URL";

/// What the receiver answers: a status, or nothing at all (it holds the request).
const HOLD: u16 = 0;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    id: String,
    body: String,
    verified: bool,
    /// What it answered; `None` while (or because) it held the request.
    answered: Option<u16>,
}

/// A Standard Webhooks receiver on a port-0 listener: records each request, verifies its
/// signature with `SECRET`, answers the current mode (a status, or `HOLD`).
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    mode: Arc<std::sync::atomic::AtomicU16>,
    /// How long it takes to answer (a slow receiver), in milliseconds.
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    async fn start(mode: u16) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let mode = Arc::new(std::sync::atomic::AtomicU16::new(mode));
        let delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let key = gateway::webhook_sign::SigningKey::parse(SECRET).unwrap();
        let key = Arc::new(key);
        let app = {
            let (hits, mode, delay) = (hits.clone(), mode.clone(), delay_ms.clone());
            axum::Router::new().route(
                "/hooks",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                    let (hits, mode, key) = (hits.clone(), mode.clone(), key.clone());
                    let delay = delay.load(std::sync::atomic::Ordering::SeqCst);
                    async move {
                        let verified = common::signed_by(&key, &headers, &body);
                        let m = mode.load(std::sync::atomic::Ordering::SeqCst);
                        let answered = (m != HOLD).then_some(m);
                        hits.lock().unwrap().push(Hit {
                            id: headers
                                .get("webhook-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned(),
                            body,
                            verified,
                            answered,
                        });
                        // A slow receiver's latency, not an ordering wait.
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        match answered {
                            Some(code) => axum::http::StatusCode::from_u16(code).unwrap(),
                            // Held until the gateway goes away: never answered.
                            None => std::future::pending::<axum::http::StatusCode>().await,
                        }
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            hits,
            mode,
            delay_ms,
        }
    }

    fn set_delay(&self, ms: u64) {
        self.delay_ms.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    fn set(&self, mode: u16) {
        self.mode.store(mode, std::sync::atomic::Ordering::SeqCst);
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Event ids answered 2xx, each with how many times.
    fn delivered(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for h in self.hits() {
            assert!(h.verified, "a signature did not verify: {h:?}");
            if h.answered.is_some_and(|c| (200..300).contains(&c)) {
                *out.entry(h.id).or_insert(0) += 1;
            }
        }
        out
    }

    /// Waits until every id in `ids` was answered 2xx.
    async fn wait_delivered(&self, ids: &BTreeSet<String>, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let got = self.delivered();
            if ids.iter().all(|id| got.contains_key(id)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not delivered within {within:?}: want {ids:?}, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Polls `check` until it returns `Some`, failing with `what` after `within`.
async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = check().await {
            return t;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn juniper_order(order_ref: &str) -> Value {
    let mut o = common::page_sample("juniper");
    o["orderRef"] = json!(order_ref);
    o
}

/// The real binary's API and admin listener.
struct Bin {
    proc: Proc,
    http: reqwest::Client,
}

impl Bin {
    async fn start(config: &Path, env: &[(&str, &str)]) -> Bin {
        let mut proc = Proc::spawn_with(config, |c| {
            c.envs(env.iter().copied());
        });
        proc.wait_ready().await;
        Bin {
            proc,
            http: reqwest::Client::new(),
        }
    }

    /// Places an order; its id.
    async fn place(&self, order_ref: &str) -> String {
        let r = self
            .http
            .post(format!("http://127.0.0.1:{}/v1/orders", self.proc.api()))
            .bearer_auth("dev-key")
            .json(&juniper_order(order_ref))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let body: Value = r.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// The ledger's event ids of an order.
    async fn event_ids(&self, order_id: &str) -> Vec<String> {
        let v: Value = common::get_json(
            &self.http,
            &format!(
                "http://127.0.0.1:{}/v1/orders/{order_id}/events",
                self.proc.api()
            ),
            Some("dev-key"),
        )
        .await;
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn admin_json(&self, path: &str) -> Value {
        common::get_json(
            &self.http,
            &format!("http://127.0.0.1:{}{path}", self.proc.admin()),
            None,
        )
        .await
    }

    /// The value of one metric line (`name{client="dev"}`), if exported.
    async fn metric(&self, series: &str) -> Option<f64> {
        let text = common::get_text(
            &self.http,
            &format!("http://127.0.0.1:{}/metrics", self.proc.admin()),
        )
        .await;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    /// SIGTERM, and waits for the exit (a clean stop).
    async fn stop(mut self) {
        self.proc.signal("TERM");
        wait_for("the gateway exits", Duration::from_secs(30), || {
            let done = matches!(self.proc.child.try_wait(), Ok(Some(_)));
            async move { done.then_some(()) }
        })
        .await;
    }
}

/// The dev client's disabled endpoint, once it holds `held` deliveries.
async fn disabled_holding(b: &Bin, held: i64) -> Value {
    wait_for(
        "the endpoint listed as disabled",
        Duration::from_secs(30),
        move || async move {
            let d = b.admin_json("/webhooks/disabled").await;
            (d["count"] == 1 && d["endpoints"][0]["held"] == held)
                .then(|| d["endpoints"][0].clone())
        },
    )
    .await
}

/// A receiver answering 410 disables the client's endpoint in the ledger: the event is
/// held (not failed, not lost), a restarted process keeps it disabled and holds the next
/// event without attempting it, an operator's redelivery enables it (both delivered), and
/// after another 410 a config with a new URL enables it at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_endpoint_is_disabled_across_a_restart_until_redelivery_or_a_new_url() {
    let r1 = Receiver::start(410).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &r1.url, SECRET);
    let a = Bin::start(&config, &[]).await;
    let o1 = a
        .place(&format!("gone-1-{}", uuid::Uuid::new_v4().simple()))
        .await;
    let e1 = a.event_ids(&o1).await;
    let endpoint = disabled_holding(&a, 1).await;
    assert_eq!(endpoint["client"], "dev");
    assert!(
        endpoint["reason"].as_str().unwrap().contains("410"),
        "{endpoint}"
    );
    assert!(
        endpoint.get("url").is_none(),
        "no URL (it may hold a token)"
    );
    assert_eq!(
        a.admin_json("/webhooks/failed").await["count"],
        0,
        "held, not failed"
    );
    assert_eq!(
        a.metric("webhook_endpoint_disabled_total{client=\"dev\"}")
            .await,
        Some(1.0)
    );
    a.stop().await;

    let b = Bin::start(&config, &[]).await;
    let o2 = b
        .place(&format!("gone-2-{}", uuid::Uuid::new_v4().simple()))
        .await;
    let e2 = b.event_ids(&o2).await;
    disabled_holding(&b, 2).await;
    // The gauges (published every few polls, each poll a claim) show the held backlog.
    let bin = &b;
    wait_for(
        "the backlog gauges",
        Duration::from_secs(30),
        move || async move {
            let b = bin;
            let disabled = b.metric("webhook_endpoint_disabled{client=\"dev\"}").await;
            let backlog = b.metric("webhook_backlog_events{client=\"dev\"}").await;
            (disabled == Some(1.0) && backlog == Some(2.0)).then_some(())
        },
    )
    .await;
    assert!(
        b.metric("webhook_backlog_age_seconds{client=\"dev\"}")
            .await
            .is_some_and(|age| age > 0.0)
    );

    r1.set(204);
    let redeliver = b
        .http
        .post(format!(
            "http://127.0.0.1:{}/webhooks/redeliver",
            b.proc.admin()
        ))
        .bearer_auth("ops-key")
        .json(&json!({"eventIds": [e1[0]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(redeliver.status().as_u16(), 200);
    let body: Value = redeliver.json().await.unwrap();
    assert_eq!(body["redelivered"], 2, "both held deliveries: {body}");
    let both: BTreeSet<String> = e1.iter().chain(e2.iter()).cloned().collect();
    r1.wait_delivered(&both, Duration::from_secs(30)).await;
    let gone_hits: Vec<String> = r1
        .hits()
        .into_iter()
        .filter(|h| h.answered == Some(410))
        .map(|h| h.id)
        .collect();
    assert_eq!(
        gone_hits, e1,
        "only the first event was tried while disabled"
    );
    assert_eq!(b.admin_json("/webhooks/disabled").await["count"], 0);

    // Gone again; the client's new URL in the config enables it at the next start.
    r1.set(410);
    let o3 = b
        .place(&format!("gone-3-{}", uuid::Uuid::new_v4().simple()))
        .await;
    let e3: BTreeSet<String> = b.event_ids(&o3).await.into_iter().collect();
    disabled_holding(&b, 1).await;
    b.stop().await;
    let r2 = Receiver::start(204).await;
    let moved = common::config_with_webhook(dir.path(), &r2.url, SECRET);
    assert_eq!(moved, config);
    let c = Bin::start(&config, &[]).await;
    r2.wait_delivered(&e3, Duration::from_secs(30)).await;
    assert_eq!(c.admin_json("/webhooks/disabled").await["count"], 0);
}

/// kill -9 while the receiver holds a delivery (the process never learns the answer),
/// then a restart on the same ledger with the receiver answering: every event in the
/// ledger is delivered, duplicates only under the same `webhook-id` with the same body,
/// nothing the ledger does not hold. The restarted process takes the dead one's claims
/// over at once, not after the claim's 60 s lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_loses_no_event() {
    let receiver = Receiver::start(HOLD).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &receiver.url, SECRET);
    let a = Bin::start(&config, &[]).await;
    let mut orders = Vec::new();
    for i in 0..4 {
        orders.push(
            a.place(&format!("kill-{i}-{}", uuid::Uuid::new_v4().simple()))
                .await,
        );
    }
    wait_for("a delivery in flight", Duration::from_secs(30), || {
        let n = receiver.hits().len();
        async move { (n > 0).then_some(()) }
    })
    .await;
    a.proc.signal("KILL");
    let mut a = a;
    wait_for(
        "the killed gateway is gone",
        Duration::from_secs(10),
        || {
            let done = matches!(a.proc.child.try_wait(), Ok(Some(_)));
            async move { done.then_some(()) }
        },
    )
    .await;
    receiver.set(204);

    let b = Bin::start(&config, &[]).await;
    let mut ledger_ids = BTreeSet::new();
    for o in &orders {
        ledger_ids.extend(b.event_ids(o).await);
    }
    assert_eq!(ledger_ids.len(), orders.len(), "one event per order");
    // Well under the claim's lease: only a take-over can deliver the claimed ones.
    receiver
        .wait_delivered(&ledger_ids, Duration::from_secs(30))
        .await;
    let hits = receiver.hits();
    let mut bodies: BTreeMap<&str, &str> = BTreeMap::new();
    for h in &hits {
        assert!(
            ledger_ids.contains(&h.id),
            "an id the ledger does not hold: {h:?}"
        );
        let first = bodies.entry(&h.id).or_insert(&h.body);
        assert_eq!(
            *first,
            h.body.as_str(),
            "a duplicate differs from its first"
        );
    }
    assert!(
        hits.iter().any(|h| h.answered.is_none()),
        "a delivery was held when the process died"
    );
}

/// Two real binaries on one PostgreSQL ledger, both delivering to a slow receiver (an
/// answer takes longer than a poll, so each replica polls while the other is mid-attempt
/// on rows it claimed): each event of the orders placed through either is answered 2xx
/// exactly once (the replicas split the outbox rows and respect each other's claims, they
/// do not each send them), and none is missing. Skipped without PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_deliver_each_event_once() {
    let Ok(url) = std::env::var(PG) else {
        assert!(
            std::env::var_os("LEDGER_TEST_POSTGRES_REQUIRED").is_none(),
            "LEDGER_TEST_POSTGRES_REQUIRED is set but {PG} is not"
        );
        eprintln!("SKIPPED: {PG} is not set");
        return;
    };
    let receiver = Receiver::start(204).await;
    receiver.set_delay(1200);
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &receiver.url, SECRET);
    let text = std::fs::read_to_string(&config).unwrap();
    let pg = text.replace(
        "ledger:\n  kind: sqlite\n",
        &format!("ledger:\n  kind: postgres\n  url: \"${{{PG}}}\"\n  # "),
    );
    assert!(pg.contains("kind: postgres"), "{pg}");
    std::fs::write(&config, pg).unwrap();
    let env = [(PG, url.as_str())];
    let (a, b) = (
        Bin::start(&config, &env).await,
        Bin::start(&config, &env).await,
    );
    let mut orders = Vec::new();
    for i in 0..12 {
        let via = if i % 2 == 0 { &a } else { &b };
        orders.push(
            via.place(&format!("two-{i}-{}", uuid::Uuid::new_v4().simple()))
                .await,
        );
    }
    let mut ids = BTreeSet::new();
    for o in &orders {
        ids.extend(a.event_ids(o).await);
    }
    assert_eq!(ids.len(), orders.len());
    receiver.wait_delivered(&ids, Duration::from_secs(60)).await;
    let delivered = receiver.delivered();
    let twice: Vec<(&String, &usize)> = ids
        .iter()
        .filter_map(|id| delivered.get_key_value(id))
        .filter(|(_, n)| **n != 1)
        .collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

/// A receiver down for longer than the delivery window (`webhooks.windowSecs`, seconds
/// here): the event is listed as failed; `order-gateway redeliver-webhooks` (the real
/// CLI, on the running gateway's ledger) sends it again, with the same `webhook-id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_past_the_window_gets_its_events_from_the_redelivery_command() {
    let receiver = Receiver::start(503).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &receiver.url, SECRET);
    common::edit_config(
        &config,
        "\nclients:\n",
        "\nwebhooks: {windowSecs: 2, firstBackoffMs: 200, maxBackoffSecs: 1}\n\nclients:\n",
    );
    let g = Gateway::start_with(dir, config.clone()).await;
    let (status, _, placed) = g.post("/v1/orders", &juniper_order("window-1")).await;
    assert_eq!(status, 201, "{placed}");
    let gw = &g;
    let failed = wait_for(
        "listed as failed",
        Duration::from_secs(30),
        move || async move {
            let g = gw;
            let f = g.admin_json("/webhooks/failed").await;
            (f["count"] == 1).then_some(f)
        },
    )
    .await;
    let event_id = failed["deliveries"][0]["eventId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        failed["deliveries"][0]["attempts"].as_i64().unwrap() > 1,
        "{failed}"
    );
    assert!(receiver.delivered().is_empty());

    receiver.set(204);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .args(["redeliver-webhooks", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with('1'),
        "{out:?}"
    );
    let want: BTreeSet<String> = [event_id].into_iter().collect();
    receiver
        .wait_delivered(&want, Duration::from_secs(30))
        .await;
    assert_eq!(g.admin_json("/webhooks/failed").await["count"], 0);
}

/// An order left `unknown` (a timeout after sending) and settled by an operator through
/// the admin `POST /orders/{id}/resolve` reaches the caller: `order.unknown`, then
/// `order.settled` saying what the operator found (`resolution`), from `operator`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_settlement_reaches_the_callers_webhook() {
    let receiver = Receiver::start(204).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &receiver.url, SECRET);
    common::edit_config(
        &config,
        "        clientSecret: juniper-sandbox-secret\n",
        "        clientSecret: juniper-sandbox-secret\n      timeouts: {connectMs: 500, attemptMs: 300, overallMs: 2000}\n",
    );
    let g = Gateway::start_with(dir, config).await;
    g.sim_for("juniper")
        .control
        .push_fault(connector::sim::Fault::DelayAfter {
            path: Some("/v1/orders".into()),
            ms: 1000,
        });
    let (status, _, body) = g.post("/v1/orders", &juniper_order("settle-1")).await;
    assert_eq!(status, 504, "{body}");
    let unknown = g.admin_json("/orders/unknown").await;
    let order_id = unknown["orders"][0]["id"].as_str().unwrap().to_owned();

    let r = g
        .http
        .post(g.admin(&format!("/orders/{order_id}/resolve")))
        .bearer_auth("ops-key")
        .json(&json!({"outcome": "not-placed", "reason": "checked the vendor's portal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
    let rec = &receiver;
    let events = wait_for(
        "both events delivered",
        Duration::from_secs(30),
        move || async move {
            let receiver = rec;
            let got: Vec<Value> = receiver
                .hits()
                .iter()
                .filter(|h| h.answered == Some(204))
                .map(|h| serde_json::from_str(&h.body).unwrap())
                .collect();
            (got.len() >= 2).then_some(got)
        },
    )
    .await;
    assert!(receiver.hits().iter().all(|h| h.verified));
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order.unknown", "order.settled"], "in order");
    let settled = &events[1]["data"];
    assert_eq!(settled["orderId"], order_id.as_str(), "{settled}");
    assert_eq!(settled["source"], "operator", "{settled}");
    assert_eq!(settled["resolution"], "not_placed", "{settled}");
    assert_eq!(settled["state"], "failed", "{settled}");
    assert_eq!(settled["seq"], 2, "{settled}");
    assert!(
        events[0]["data"].get("resolution").is_none(),
        "{}",
        events[0]
    );
}

/// A disabled endpoint is enabled by a config reload that gives the client another URL:
/// the held event goes to the new URL (same `webhook-id`), nothing to the old one again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_a_new_url_enables_a_disabled_endpoint() {
    let old = Receiver::start(410).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &old.url, SECRET);
    let g = Gateway::start_with(dir, config).await;
    let (status, _, placed) = g.post("/v1/orders", &juniper_order("reload-1")).await;
    assert_eq!(status, 201, "{placed}");
    let gw = &g;
    wait_for("disabled", Duration::from_secs(30), move || async move {
        (gw.admin_json("/webhooks/disabled").await["count"] == 1).then_some(())
    })
    .await;
    let new = Receiver::start(204).await;
    common::config_with_webhook(g.dir.path(), &new.url, SECRET);
    gateway::server::reload(&g.running.state).unwrap();
    let events = g
        .api_json(&format!(
            "/v1/orders/{}/events",
            placed["id"].as_str().unwrap()
        ))
        .await;
    let ids: BTreeSet<String> = [events["events"][0]["eventId"].as_str().unwrap().to_owned()]
        .into_iter()
        .collect();
    new.wait_delivered(&ids, Duration::from_secs(30)).await;
    assert_eq!(g.admin_json("/webhooks/disabled").await["count"], 0);
    assert_eq!(old.hits().len(), 1, "the old URL is not tried again");
}

/// A receiver's redirect is a failed attempt, retried at the configured URL, never
/// followed: following it would POST the signed event to whatever host the `Location`
/// names, outside the endpoint the platform team configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirecting_receiver_is_retried_not_followed() {
    let target = Receiver::start(204).await;
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let redirector = {
        let (attempts, location) = (attempts.clone(), target.url.clone());
        axum::Router::new().route(
            "/hooks",
            axum::routing::post(move || {
                attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let location = location.clone();
                async move {
                    (
                        axum::http::StatusCode::TEMPORARY_REDIRECT,
                        [("location", location)],
                    )
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await });
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with_webhook(dir.path(), &url, SECRET);
    common::edit_config(
        &config,
        "\nclients:\n",
        "\nwebhooks: {firstBackoffMs: 100, maxBackoffSecs: 1}\n\nclients:\n",
    );
    let g = Gateway::start_with(dir, config).await;
    let (status, _, placed) = g.post("/v1/orders", &juniper_order("redirected-1")).await;
    assert_eq!(status, 201, "{placed}");
    let (n, t) = (&attempts, &target);
    wait_for(
        "a second attempt at the configured URL, or one at the redirect's",
        Duration::from_secs(30),
        move || async move {
            let retried = n.load(std::sync::atomic::Ordering::SeqCst) >= 2;
            (retried || !t.hits().is_empty()).then_some(())
        },
    )
    .await;
    assert!(
        target.hits().is_empty(),
        "the redirect was followed: {:?}",
        target.hits()
    );
}
