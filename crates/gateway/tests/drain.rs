#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! SIGTERM with the real binary: readiness goes false first, orders in flight complete,
//! the process exits cleanly, and the ledger holds every order as accepted.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{default_config_in, examples, vendors};
use serde_json::Value;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(config: &std::path::Path, api: u16, admin: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_order-gateway"))
        .args(["serve", "--config"])
        .arg(config)
        .args([
            "--listen",
            &format!("127.0.0.1:{api}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc(child)
}

async fn wait_ready(http: &reqwest::Client, admin: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{admin}/readyz"))
            .send()
            .await
            && r.status().as_u16() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not become ready");
}

fn sim_port(config: &std::path::Path, vendor: &str) -> u16 {
    let text = std::fs::read_to_string(config).unwrap();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("- vendor: {vendor}") {
            let listen = lines.next().unwrap().trim().trim_start_matches("listen: ");
            return listen.rsplit(':').next().unwrap().parse().unwrap();
        }
    }
    panic!("no simulator for {vendor}");
}

#[tokio::test]
async fn sigterm_drains_in_flight_orders_and_readiness_goes_false_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = default_config_in(dir.path());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("drainDelaySecs: 0", "drainDelaySecs: 1");
    std::fs::write(&config, text).unwrap();
    let (api, admin) = (free_port(), free_port());
    let mut proc = spawn(&config, api, admin);
    let http = reqwest::Client::new();
    wait_ready(&http, admin).await;

    // Make a simulator slow so orders are in flight when SIGTERM arrives.
    let vendor = vendors()[0];
    let sim = sim_port(&config, vendor);
    http.put(format!("http://127.0.0.1:{sim}/_sim/latency"))
        .json(&serde_json::json!({"ms": 1500}))
        .send()
        .await
        .unwrap();

    let (_, base) = examples(vendor).remove(0);
    let mut inflight = Vec::new();
    for i in 0..5 {
        let mut order = base.clone();
        order["orderRef"] = Value::String(format!("drain-{i}"));
        let http = http.clone();
        inflight.push(tokio::spawn(async move {
            let r = http
                .post(format!("http://127.0.0.1:{api}/v1/orders"))
                .bearer_auth("dev-key")
                .json(&order)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = proc.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    // Readiness is false while the in-flight orders are still running.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = http
        .get(format!("http://127.0.0.1:{admin}/readyz"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(
        matches!(ready, Ok(503) | Err(_)),
        "readiness after SIGTERM: {ready:?}"
    );

    let mut ids = Vec::new();
    for h in inflight {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let exit = tokio::task::spawn_blocking(move || {
        let s = proc.0.wait();
        (proc, s)
    })
    .await
    .unwrap();
    assert_eq!(exit.1.unwrap().code(), Some(0));

    // A new process on the same ledger sees every order as accepted.
    let (api, admin) = (free_port(), free_port());
    let _again = spawn(&config, api, admin);
    wait_ready(&http, admin).await;
    for id in ids {
        let rec: Value = http
            .get(format!("http://127.0.0.1:{api}/v1/orders/{id}"))
            .bearer_auth("dev-key")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rec["state"], "accepted", "{rec}");
    }
}
