//! `serve`: start simulators the config asks for, open the ledger, bind the API and admin
//! listeners, reload on SIGHUP or file change, and drain on SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use connector::sim::{RunningSim, SimControl};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{CheckMode, Checked, load_and_check};
use crate::http;
use crate::pipeline::VendorSchemas;
use crate::registry::Registry;
use crate::secrets::EnvLookup;
use crate::state::AppState;
use crate::wiring::build_runtime;

pub use crate::watch::watch_config;

pub struct Options {
    pub config: PathBuf,
    pub listen: Option<std::net::SocketAddr>,
    pub admin_listen: Option<std::net::SocketAddr>,
    /// Where to write the bound addresses once ready (JSON, written atomically), so a
    /// supervisor or test that asked for port 0 learns the ports without racing for them.
    pub ready_file: Option<PathBuf>,
}

/// A running gateway (used by `serve` and by tests).
pub struct Running {
    pub state: Arc<AppState>,
    pub api_addr: std::net::SocketAddr,
    pub admin_addr: std::net::SocketAddr,
    pub sims: Vec<RunningSim>,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    upkeep: tokio::task::JoinHandle<()>,
    lease: Option<tokio::task::JoinHandle<()>>,
    webhooks: tokio::task::JoinHandle<()>,
    sync: tokio::task::JoinHandle<()>,
    grace: Duration,
    drain_delay: Duration,
}

impl Running {
    /// Readiness goes false, the drain delay passes, the listener closes, and in-flight
    /// requests get up to the grace period to finish.
    pub async fn shutdown(self) -> bool {
        self.state.set_ready(false);
        self.upkeep.abort();
        // A read cut here changed nothing; the next claimer retries it after the lease.
        self.sync.abort();
        tokio::time::sleep(self.drain_delay).await;
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(self.grace, self.server).await.is_ok();
        if let Some(lease) = self.lease {
            lease.abort();
        }
        // A delivery cut here is retried by the next claimer after its lease.
        self.webhooks.abort();
        crate::upkeep::release_lease(&self.state.ledger).await;
        drained
    }
}

pub async fn start(opts: Options, env: Arc<EnvLookup>) -> Result<Running, String> {
    // First: metric handles taken before the recorder exists (the breakers' gauges are
    // taken when connections are built) would stay no-ops for ever.
    let metrics = crate::telemetry::metrics_handle();
    let registry = Arc::new(Registry::builtin());
    let checked = load_and_check(&opts.config, &registry, CheckMode::Serve, env.as_ref()).map_err(
        |issues| {
            let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
            format!("the config is invalid:\n{}", lines.join("\n"))
        },
    )?;
    for w in &checked.warnings {
        tracing::warn!(%w, "config warning");
    }
    let mut checked = checked;
    let mut sims = Vec::new();
    let mut sim_addrs = BTreeMap::new();
    for s in &checked.config.simulators {
        let Some(entry) = registry.get(&s.vendor) else {
            continue;
        };
        if sim_addrs.contains_key(&s.vendor) {
            // Connections find their simulator by vendor (see follow_simulators).
            return Err(format!("two simulators for vendor {}", s.vendor));
        }
        let control = SimControl::new();
        let router = (entry.simulator)(&s.settings, control.clone())?;
        let sim = connector::sim::serve(router, s.listen, control)
            .await
            .map_err(|e| format!("simulator {} on {}: {e}", s.vendor, s.listen))?;
        tracing::info!(vendor = %s.vendor, addr = %sim.addr, "simulator started");
        sim_addrs.insert(s.vendor.clone(), (s.listen, sim.addr));
        sims.push(sim);
    }
    follow_simulators(&mut checked, &sim_addrs);
    let ledger = open_ledger(&checked, env.as_ref()).await?;
    let server_cfg = checked.config.server.clone();
    let schemas = VendorSchemas::compile(&registry)?;
    let runtime = build_runtime(checked, env.as_ref(), None)?;
    crate::upkeep::recover_at_start(&ledger, &runtime).await?;
    let state = Arc::new(AppState {
        runtime: ArcSwap::from_pointee(runtime),
        registry,
        schemas,
        ledger: Arc::new(ledger),
        ready: false.into(),
        metrics,
        env,
        last_reload_error: std::sync::Mutex::new(None),
        sim_addrs,
    });
    crate::webhooks::install_clients(&state);
    let api = TcpListener::bind(opts.listen.unwrap_or(server_cfg.listen))
        .await
        .map_err(|e| format!("API listener: {e}"))?;
    let admin = TcpListener::bind(opts.admin_listen.unwrap_or(server_cfg.admin_listen))
        .await
        .map_err(|e| format!("admin listener: {e}"))?;
    let api_addr = api.local_addr().map_err(|e| e.to_string())?;
    let admin_addr = admin.local_addr().map_err(|e| e.to_string())?;
    let app = app(state.clone());
    let admin_app = http::admin::router(state.clone());
    let (tx, rx) = watch::channel(false);
    let header_read = Duration::from_secs(server_cfg.header_read_timeout_secs.get());
    let api_limits = http::listen::Limits {
        name: "api",
        header_read,
        max_connections: Some(server_cfg.max_connections.get()),
    };
    let admin_limits = http::listen::Limits {
        name: "admin",
        header_read,
        max_connections: None,
    };
    let server = tokio::spawn(async move {
        tokio::join!(
            http::listen::serve(api, app, api_limits, rx.clone()),
            http::listen::serve(admin, admin_app, admin_limits, rx),
        );
    });
    let upkeep = crate::upkeep::spawn(state.clone());
    let lease = crate::upkeep::spawn_lease(state.clone());
    let webhooks = crate::webhooks::spawn(state.clone());
    let sync = crate::sync::spawn(state.clone());
    state.set_ready(true);
    tracing::info!(api = %api_addr, admin = %admin_addr, version = %state.runtime.load().checked.version(), "order-gateway ready");
    if let Some(path) = &opts.ready_file {
        write_ready_file(path, api_addr, admin_addr, &state.sim_addrs)?;
    }
    Ok(Running {
        state,
        api_addr,
        admin_addr,
        sims,
        shutdown: tx,
        server,
        upkeep,
        lease,
        webhooks,
        sync,
        grace: Duration::from_secs(server_cfg.shutdown_grace_secs),
        drain_delay: Duration::from_secs(server_cfg.drain_delay_secs),
    })
}

/// The config's ledger, opened (and migrated) with `env` resolving its `${NAME}`s.
pub async fn open_ledger(checked: &Checked, env: &EnvLookup) -> Result<ledger::Ledger, String> {
    let cfg: ledger::LedgerConfig = serde_json::from_value(checked.config.ledger.clone())
        .map_err(|e| format!("ledger: {e}"))?;
    ledger::open(&cfg, env)
        .await
        .map_err(|e| format!("ledger: {e}"))
}

pub fn app(state: Arc<AppState>) -> Router {
    http::api::router(state).layer(axum::middleware::from_fn(http::trace::trace_layer))
}

/// Re-reads the config; a valid one replaces the running one atomically, an invalid one
/// is refused and the running one keeps serving.
pub fn reload(state: &AppState) -> Result<String, String> {
    let current = state.runtime.load_full();
    let path = current.checked.path.clone();
    let result = load_and_check(&path, &state.registry, CheckMode::Serve, state.env.as_ref())
        .map(|mut checked| {
            follow_simulators(&mut checked, &state.sim_addrs);
            checked
        })
        .map_err(|issues| {
            issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .and_then(|checked| build_runtime(checked, state.env.as_ref(), Some(&current)));
    match result {
        Ok(rt) => {
            let version = rt.checked.version().to_owned();
            state.runtime.store(Arc::new(rt));
            crate::webhooks::install_clients(state);
            if let Ok(mut e) = state.last_reload_error.lock() {
                *e = None;
            }
            metrics::counter!("config_reload_total", "result" => "applied").increment(1);
            tracing::info!(%version, "config reloaded");
            Ok(version)
        }
        Err(msg) => {
            metrics::counter!("config_reload_total", "result" => "refused").increment(1);
            tracing::error!(reason = %msg, "config reload refused; the running config keeps serving");
            if let Ok(mut e) = state.last_reload_error.lock() {
                *e = Some(msg.clone());
            }
            Err(msg)
        }
    }
}
/// Simulators by vendor: (configured listen address, bound address).
pub type SimAddrs = BTreeMap<String, (SocketAddr, SocketAddr)>;

/// A simulator configured on port 0 gets a free port from the kernel; connections of the
/// same vendor that name the configured address (`http://127.0.0.1:0`) follow it to the
/// bound one. This is how tests and `scripts/api-fuzz` run beside a quick-start gateway
/// without choosing ports (choosing a "free" port and binding it later races).
pub fn follow_simulators(checked: &mut Checked, sims: &SimAddrs) {
    for conn in &mut checked.config.connections {
        let Some((configured, bound)) = sims.get(&conn.vendor) else {
            continue;
        };
        if configured.port() != 0 {
            continue;
        }
        let (from, to) = (format!("://{configured}"), format!("://{bound}"));
        for pointer in ["/baseUrl", "/auth/tokenUrl"] {
            if let Some(serde_json::Value::String(url)) = conn.outbound.pointer_mut(pointer)
                && url.contains(&from)
            {
                *url = url.replacen(&from, &to, 1);
            }
        }
    }
}

fn write_ready_file(
    path: &Path,
    api: SocketAddr,
    admin: SocketAddr,
    sims: &SimAddrs,
) -> Result<(), String> {
    let simulators: BTreeMap<&str, String> = sims
        .iter()
        .map(|(vendor, (_, bound))| (vendor.as_str(), bound.to_string()))
        .collect();
    let body = serde_json::json!({
        "api": api.to_string(),
        "admin": admin.to_string(),
        "simulators": simulators,
    });
    // Written beside the target and renamed, so a reader never sees half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, body.to_string())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("ready file {}: {e}", path.display()))
}
