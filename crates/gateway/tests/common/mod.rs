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

/// The default config, rewritten to port 0 for every simulator (the gateway binds them and
/// its connections follow) and a temp ledger; catalogs copied beside it. No test picks a
/// port itself: "find a free port, bind it later" races with every other process.
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
        text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:0");
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

/// Config `text` with its one `from` replaced by `to`. Asserts `from` stands there
/// exactly once, so a test whose edit no longer applies (the shipped config changed
/// shape) fails instead of quietly testing the unedited config.
pub fn replaced(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} should stand once");
    text.replacen(from, to, 1)
}

/// [`replaced`] on the config file at `path`, in place.
pub fn edit_config(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read config");
    std::fs::write(path, replaced(&text, from, to)).expect("write config");
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
                ready_file: None,
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

    /// `GET path` on the API as the sandbox client `dev`, as JSON.
    pub async fn api_json(&self, path: &str) -> Value {
        get_json(&self.http, &self.url(path), Some("dev-key")).await
    }

    /// A JSON page of the admin listener (e.g. `/orders/unknown`).
    pub async fn admin_json(&self, path: &str) -> Value {
        get_json(&self.http, &self.admin(path), None).await
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
        let (_, bound) = self
            .running
            .state
            .sim_addrs
            .get(vendor)
            .expect("a simulator for the vendor");
        self.running
            .sims
            .iter()
            .find(|s| s.addr == *bound)
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

/// The vendor's example of the page's own sample order (`page-sample*.json`): the order
/// tests place when any valid order of that vendor will do.
pub fn page_sample(vendor: &str) -> Value {
    examples(vendor)
        .into_iter()
        .find(|(n, _)| n.starts_with("page-sample"))
        .map(|(_, o)| o)
        .expect("a page-sample example")
}

/// An Axim order with money at the edges of what the wire carries ("0.000001",
/// "9999999999999999.999999"): the tests that show the exact body bytes (no 1e-6, no
/// 1e+16) send it by API and by CLI.
pub fn extreme_money_order(order_ref: &str) -> Value {
    serde_json::json!({
        "orderRef": order_ref,
        "customer": {"ref": "acme-corp", "accounts": {"axim": "6328113ba105cf37af7f623b"}},
        "shipTo": {"addressRef": "63356b3b3a6353a69043680c"},
        "billTo": {"addressRef": "63356b3b3a6353a69043680b"},
        "payment": {"status": "paid", "tax": "9999999999999999.999999"},
        "lines": [{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "0.000001"}]
    })
}

/// An order no route of the default config takes (sku `ZZ-1`).
pub fn unroutable_order(order_ref: &str) -> Value {
    serde_json::json!({"orderRef": order_ref, "customer": {"ref": "c1"}, "lines": [{"sku": "ZZ-1", "quantity": 1}]})
}

/// `POST {api}/v1/orders` as the sandbox client `dev` (`api` is the listener's base URL,
/// for a gateway run as a process): the status and the answer (`Null` when not JSON), or
/// why no answer came (the gateway was killed mid-call).
pub async fn try_post_order(
    http: &reqwest::Client,
    api: &str,
    order: &Value,
) -> Result<(u16, Value), String> {
    let r = http
        .post(format!("{api}/v1/orders"))
        .bearer_auth("dev-key")
        .json(order)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

/// [`try_post_order`] to a gateway that stays up: the status and the JSON answer.
pub async fn post_order(http: &reqwest::Client, api: &str, order: &Value) -> (u16, Value) {
    let (status, body) = try_post_order(http, api, order)
        .await
        .expect("POST /v1/orders");
    assert!(!body.is_null(), "the {status} answer is not JSON");
    (status, body)
}

/// Every registered vendor: a vendor added to the registry is tested here automatically.
pub fn vendors() -> Vec<&'static str> {
    gateway::registry::Registry::builtin().kinds()
}

/// The real `order-gateway` binary on port 0 listeners, killed when dropped. Its output
/// and ready file live in its own temp dir, so a failed start can say why.
pub struct Proc {
    pub child: std::process::Child,
    dir: tempfile::TempDir,
    ready: Option<Value>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub fn spawn(config: &Path) -> Proc {
        Self::spawn_with(config, |_| {})
    }

    /// [`Proc::spawn`], with `edit` applied to the command (environment, extra args).
    pub fn spawn_with(config: &Path, edit: impl FnOnce(&mut std::process::Command)) -> Proc {
        Self::spawn_wrapped(config, &[], edit)
    }

    /// [`Proc::spawn_with`], with `wrap` (e.g. `["sh", "-c", "ulimit -n 64; exec \"$0\" \"$@\""]`)
    /// in front of the binary when given.
    pub fn spawn_wrapped(
        config: &Path,
        wrap: &[&str],
        edit: impl FnOnce(&mut std::process::Command),
    ) -> Proc {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = std::fs::File::create(dir.path().join("output.log")).expect("log file");
        let bin = env!("CARGO_BIN_EXE_order-gateway");
        let mut cmd = match wrap.split_first() {
            Some((first, rest)) => {
                let mut c = std::process::Command::new(first);
                c.args(rest).arg(bin);
                c
            }
            None => std::process::Command::new(bin),
        };
        cmd.args(["serve", "--config"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .arg("--ready-file")
            .arg(dir.path().join("ready.json"))
            .stdout(std::process::Stdio::from(
                out.try_clone().expect("log file"),
            ))
            .stderr(std::process::Stdio::from(out));
        edit(&mut cmd);
        let child = cmd.spawn().expect("the binary starts");
        Proc {
            child,
            dir,
            ready: None,
        }
    }

    /// Sends a signal (`TERM`, `KILL`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the ready file (written once every listener is bound and the gateway is
    /// ready); a process that exits or never gets ready fails the test with its output.
    pub async fn wait_ready(&mut self) {
        let path = self.dir.path().join("ready.json");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while tokio::time::Instant::now() < deadline {
            if let Ok(text) = std::fs::read_to_string(&path) {
                self.ready = Some(serde_json::from_str(&text).expect("ready file is JSON"));
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the gateway exited ({status}) before it was ready:\n{}",
                    self.output_tail()
                );
            }
            // Polling a file the process writes once; not an ordering sleep.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "the gateway did not become ready in 60 s:\n{}",
            self.output_tail()
        );
    }

    /// An address from the ready file (`/api`, `/admin`, `/simulators/<vendor>`).
    pub fn addr(&self, pointer: &str) -> std::net::SocketAddr {
        self.ready
            .as_ref()
            .expect("wait_ready first")
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("ready file has {pointer}"))
    }

    /// The API listener's port.
    pub fn api(&self) -> u16 {
        self.addr("/api").port()
    }

    /// The admin listener's port.
    pub fn admin(&self) -> u16 {
        self.addr("/admin").port()
    }

    /// The port of the simulator this gateway hosts for `vendor`.
    pub fn sim_port(&self, vendor: &str) -> u16 {
        self.addr(&format!("/simulators/{vendor}")).port()
    }

    /// Everything the process has printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default()
    }

    pub fn output_tail(&self) -> String {
        let text = self.output();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
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

/// A webhook receiver on a port-0 listener answering with `respond`; its URL.
pub async fn hook_receiver<F>(respond: F) -> String
where
    F: Fn(axum::http::HeaderMap, String) -> axum::http::StatusCode + Clone + Send + Sync + 'static,
{
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let respond = respond.clone();
            async move { respond(headers, body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The default config with a webhook for the `dev` client.
pub fn config_with_webhook(dir: &std::path::Path, url: &str, secret: &str) -> std::path::PathBuf {
    const DEV: &str =
        "    keySha256: 7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e\n";
    default_config_edited(dir, |t| {
        replaced(
            &t,
            DEV,
            &format!("{DEV}    webhook: {{url: \"{url}\", secret: {secret}}}\n"),
        )
    })
}

/// `GET url` (with `key` as the bearer token when given); the test fails on a transport error.
pub async fn get(http: &reqwest::Client, url: &str, key: Option<&str>) -> reqwest::Response {
    let req = http.get(url);
    let req = match key {
        Some(k) => req.bearer_auth(k),
        None => req,
    };
    req.send().await.expect("GET request")
}

/// `GET url` as text (metrics, console pages).
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    get(http, url, None).await.text().await.expect("GET body")
}

/// `GET url` as JSON.
pub async fn get_json(http: &reqwest::Client, url: &str, key: Option<&str>) -> Value {
    get(http, url, key).await.json().await.expect("GET JSON")
}

/// Whether a webhook delivery's Standard Webhooks headers sign `body` with `key`, now
/// (a 300 s tolerance). A missing header does not verify.
pub fn signed_by(
    key: &gateway::webhook_sign::SigningKey,
    headers: &axum::http::HeaderMap,
    body: &str,
) -> bool {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    key.verify(
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        body.as_bytes(),
        now,
        300,
    )
}
