//! `serve`: start simulators the config asks for, open the ledger, bind the API and admin
//! listeners, reload on SIGHUP or file change, and drain on SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use connector::sim::{RunningSim, SimControl, SimSettingsError};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{CheckMode, Checked, Issue, load_and_check};
use crate::http;
use crate::pipeline::{OptionsSchemaError, VendorSchemas};
use crate::registry::Registry;
use crate::secrets::EnvLookup;
use crate::state::AppState;
use crate::upkeep::RecoveryError;
use crate::wiring::{RuntimeError, build_runtime};

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
    metrics_upkeep: tokio::task::JoinHandle<()>,
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
        self.metrics_upkeep.abort();
        crate::upkeep::release_lease(&self.state.ledger).await;
        drained
    }
}

/// Why the gateway could not start; the text is what `serve` prints before exiting 78.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the config is invalid:\n{}", lines(.0, "\n"))]
    InvalidConfig(Vec<Issue>),
    #[error("two simulators for vendor {0}")]
    TwoSimulators(String),
    #[error(transparent)]
    SimulatorSettings(#[from] SimSettingsError),
    #[error("simulator {vendor} on {listen}: {source}")]
    Simulator {
        vendor: String,
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ledger(#[from] OpenLedgerError),
    #[error(transparent)]
    OptionsSchema(#[from] OptionsSchemaError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    /// `API` or `admin`.
    #[error("{listener} listener: {source}")]
    Listener {
        listener: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    BoundAddress(#[source] std::io::Error),
    #[error("ready file {}: {source}", path.display())]
    ReadyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why the config's ledger could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenLedgerError {
    #[error("ledger: {0}")]
    Config(#[source] serde_json::Error),
    #[error("ledger: {0}")]
    Open(#[source] ledger::LedgerError),
}

/// Why a reload was refused (the running config keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("{}", lines(.0, "; "))]
    InvalidConfig(Vec<Issue>),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

fn lines(issues: &[Issue], sep: &str) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

pub async fn start(opts: Options, env: Arc<EnvLookup>) -> Result<Running, StartError> {
    // First: metric handles taken before the recorder exists (the breakers' gauges are
    // taken when connections are built) would stay no-ops for ever.
    let metrics = crate::telemetry::metrics_handle();
    let registry = Arc::new(Registry::builtin());
    let checked = load_and_check(&opts.config, &registry, CheckMode::Serve, env.as_ref())
        .map_err(StartError::InvalidConfig)?;
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
            return Err(StartError::TwoSimulators(s.vendor.clone()));
        }
        let control = SimControl::new();
        let router = (entry.simulator)(&s.settings, control.clone())?;
        let sim = connector::sim::serve(router, s.listen, control)
            .await
            .map_err(|source| StartError::Simulator {
                vendor: s.vendor.clone(),
                listen: s.listen,
                source,
            })?;
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
        .map_err(|source| StartError::Listener {
            listener: "API",
            source,
        })?;
    let admin = TcpListener::bind(opts.admin_listen.unwrap_or(server_cfg.admin_listen))
        .await
        .map_err(|source| StartError::Listener {
            listener: "admin",
            source,
        })?;
    let api_addr = api.local_addr().map_err(StartError::BoundAddress)?;
    let admin_addr = admin.local_addr().map_err(StartError::BoundAddress)?;
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
    let metrics_upkeep = crate::telemetry::spawn_metrics_upkeep(state.metrics.clone());
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
        metrics_upkeep,
        grace: Duration::from_secs(server_cfg.shutdown_grace_secs),
        drain_delay: Duration::from_secs(server_cfg.drain_delay_secs),
    })
}

/// The config's ledger, opened (and migrated) with `env` resolving its `${NAME}`s.
pub async fn open_ledger(
    checked: &Checked,
    env: &EnvLookup,
) -> Result<ledger::Ledger, OpenLedgerError> {
    let cfg: ledger::LedgerConfig =
        serde_json::from_value(checked.config.ledger.clone()).map_err(OpenLedgerError::Config)?;
    ledger::open(&cfg, env).await.map_err(OpenLedgerError::Open)
}

pub fn app(state: Arc<AppState>) -> Router {
    http::api::router(state).layer(axum::middleware::from_fn(http::trace::trace_layer))
}

/// Re-reads the config; a valid one replaces the running one atomically, an invalid one
/// is refused and the running one keeps serving.
pub fn reload(state: &AppState) -> Result<String, ReloadError> {
    let current = state.runtime.load_full();
    let path = current.checked.path.clone();
    let result = load_and_check(&path, &state.registry, CheckMode::Serve, state.env.as_ref())
        .map(|mut checked| {
            follow_simulators(&mut checked, &state.sim_addrs);
            checked
        })
        .map_err(ReloadError::InvalidConfig)
        .and_then(|checked| {
            build_runtime(checked, state.env.as_ref(), Some(&current)).map_err(ReloadError::from)
        });
    match result {
        Ok(rt) => {
            let version = rt.checked.version().to_owned();
            state.runtime.store(Arc::new(rt));
            crate::webhooks::install_clients(state);
            if let Ok(mut e) = state.last_reload_error.lock() {
                *e = None;
            }
            metrics::counter!(crate::metric_names::CONFIG_RELOAD_TOTAL, "result" => "applied")
                .increment(1);
            tracing::info!(%version, "config reloaded");
            Ok(version)
        }
        Err(refused) => {
            metrics::counter!(crate::metric_names::CONFIG_RELOAD_TOTAL, "result" => "refused")
                .increment(1);
            tracing::error!(reason = %refused, "config reload refused; the running config keeps serving");
            if let Ok(mut e) = state.last_reload_error.lock() {
                *e = Some(refused.to_string());
            }
            Err(refused)
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
) -> Result<(), StartError> {
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
        .map_err(|source| StartError::ReadyFile {
            path: path.to_path_buf(),
            source,
        })
}
