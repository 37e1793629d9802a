//! A real gateway on loopback, on the default config with fresh ports and a temp ledger.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gateway::secrets::EnvLookup;
use gateway::server::{Options, Running, start};
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The default config, rewritten to free ports and a temp ledger; catalogs copied beside it.
pub fn default_config_in(dir: &Path) -> PathBuf {
    default_config_edited(dir, |t| t)
}

/// [`default_config_in`], with `edit` applied to the shipped text first (so it can still
/// match the shipped ports, e.g. to point a connection at a simulator the test hosts).
pub fn default_config_edited(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let mut text =
        edit(std::fs::read_to_string(repo().join("config/gateway.yaml")).expect("default config"));
    // The shipped config tests name its routes and example files; tests here rewrite
    // routes and run elsewhere, so they are dropped (test-config has its own tests).
    if let Some(i) = text.find("\ntests:\n") {
        text.truncate(i + 1);
    }
    for port in ["18101", "18102", "18103", "18104", "18105", "18106"] {
        text = text.replace(
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{}", free_port()),
        );
    }
    text = text.replace(
        "path: data/ledger.db",
        &format!("path: {}", dir.join("ledger.db").display()),
    );
    std::fs::create_dir_all(dir.join("catalogs")).expect("catalog dir");
    for entry in std::fs::read_dir(repo().join("config/catalogs")).expect("catalogs") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dir.join("catalogs").join(p.file_name().expect("name")))
            .expect("copy catalog");
    }
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, text).expect("write config");
    path
}

pub struct Gateway {
    pub running: Running,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl Gateway {
    pub async fn start() -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = default_config_in(dir.path());
        Self::start_with(dir, config).await
    }

    pub async fn start_with(dir: tempfile::TempDir, config: PathBuf) -> Gateway {
        Self::start_with_env(dir, config, Arc::new(|_: &str| None)).await
    }

    pub async fn start_with_env(
        dir: tempfile::TempDir,
        config: PathBuf,
        env: Arc<EnvLookup>,
    ) -> Gateway {
        let running = start(
            Options {
                config,
                listen: Some("127.0.0.1:0".parse().expect("addr")),
                admin_listen: Some("127.0.0.1:0".parse().expect("addr")),
            },
            env,
        )
        .await
        .expect("gateway starts");
        Gateway {
            running,
            dir,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.api_addr)
    }
    pub fn admin(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.admin_addr)
    }

    /// A JSON page of the admin listener (e.g. `/orders/unknown`).
    pub async fn admin_json(&self, path: &str) -> Value {
        self.http
            .get(self.admin(path))
            .send()
            .await
            .expect("admin request")
            .json()
            .await
            .expect("admin JSON")
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth("dev-key")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).expect("json"))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// The running simulator of one vendor kind.
    pub fn sim_for(&self, vendor: &str) -> &connector::sim::RunningSim {
        let rt = self.running.state.runtime.load();
        let port = rt
            .checked
            .config
            .simulators
            .iter()
            .find(|c| c.vendor == vendor)
            .expect("a simulator for the vendor")
            .listen
            .port();
        self.running
            .sims
            .iter()
            .find(|s| s.addr.port() == port)
            .expect("the simulator is running")
    }
}

pub fn examples(vendor: &str) -> Vec<(String, Value)> {
    let dir = repo().join("examples/orders").join(vendor);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v =
                serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                v,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every registered vendor: a vendor added to the registry is tested here automatically.
pub fn vendors() -> Vec<&'static str> {
    gateway::registry::Registry::builtin().kinds()
}

/// The real `order-gateway` binary, killed when dropped. Its output goes to a file so a
/// failed start can say why.
pub struct Proc(pub std::process::Child, pub PathBuf);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

impl Proc {
    pub fn spawn(config: &Path, api: u16, admin: u16) -> Proc {
        let log = std::env::temp_dir().join(format!("order-gateway-{api}-{admin}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_order-gateway"))
            .args(["serve", "--config"])
            .arg(config)
            .args([
                "--listen",
                &format!("127.0.0.1:{api}"),
                "--admin-listen",
                &format!("127.0.0.1:{admin}"),
            ])
            .stdout(std::process::Stdio::from(
                out.try_clone().expect("log file"),
            ))
            .stderr(std::process::Stdio::from(out))
            .spawn()
            .expect("the binary starts");
        Proc(child, log)
    }

    /// Sends a signal (`TERM`, `KILL`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), self.0.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for `/readyz`; a process that exits or never gets ready fails the test with
    /// the end of its output.
    pub async fn wait_ready(&mut self, http: &reqwest::Client, admin: u16) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{admin}/readyz"))
                .send()
                .await
                && r.status().as_u16() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.0.try_wait() {
                panic!(
                    "the gateway exited ({status}) before it was ready:\n{}",
                    self.output_tail()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the gateway did not become ready in 30 s:\n{}",
            self.output_tail()
        );
    }

    pub fn output_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.1).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// The port of a vendor's built-in simulator in a config written by [`default_config_in`].
pub fn sim_port(config: &Path, vendor: &str) -> u16 {
    let text = std::fs::read_to_string(config).expect("config");
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("- vendor: {vendor}") {
            let listen = lines
                .next()
                .expect("a listen line")
                .trim()
                .trim_start_matches("listen: ");
            return listen
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("a port");
        }
    }
    panic!("no simulator for {vendor}");
}

/// A vendor simulator hosted by the test itself (it outlives a gateway it serves).
pub async fn hosted_sim(vendor: &str) -> connector::sim::RunningSim {
    let registry = gateway::registry::Registry::builtin();
    let entry = registry.get(vendor).expect("registered");
    let control = connector::sim::SimControl::new();
    let router = (entry.simulator)(&Value::Null, control.clone()).expect("simulator");
    connector::sim::serve(router, "127.0.0.1:0".parse().expect("addr"), control)
        .await
        .expect("simulator starts")
}
