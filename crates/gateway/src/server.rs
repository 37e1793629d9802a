//! `serve`: start simulators the config asks for, open the ledger, bind the API and admin
//! listeners, reload on SIGHUP or file change, and drain on SIGTERM/SIGINT.

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

pub struct Options {
    pub config: PathBuf,
    pub listen: Option<std::net::SocketAddr>,
    pub admin_listen: Option<std::net::SocketAddr>,
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
    grace: Duration,
    drain_delay: Duration,
}

impl Running {
    /// Readiness goes false, the drain delay passes, the listener closes, and in-flight
    /// requests get up to the grace period to finish.
    pub async fn shutdown(self) -> bool {
        self.state.set_ready(false);
        self.upkeep.abort();
        tokio::time::sleep(self.drain_delay).await;
        let _ = self.shutdown.send(true);
        tokio::time::timeout(self.grace, self.server).await.is_ok()
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
    let mut sims = Vec::new();
    for s in &checked.config.simulators {
        let Some(entry) = registry.get(&s.vendor) else {
            continue;
        };
        let control = SimControl::new();
        let router = (entry.simulator)(&s.settings, control.clone())?;
        let sim = connector::sim::serve(router, s.listen, control)
            .await
            .map_err(|e| format!("simulator {} on {}: {e}", s.vendor, s.listen))?;
        tracing::info!(vendor = %s.vendor, addr = %sim.addr, "simulator started");
        sims.push(sim);
    }
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
    });
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
    state.set_ready(true);
    tracing::info!(api = %api_addr, admin = %admin_addr, version = %state.runtime.load().checked.version(), "order-gateway ready");
    Ok(Running {
        state,
        api_addr,
        admin_addr,
        sims,
        shutdown: tx,
        server,
        upkeep,
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

/// Watches the config's directory (a Kubernetes ConfigMap swaps a symlink there) and
/// reloads after changes settle.
pub fn watch_config(state: Arc<AppState>) -> Result<notify::RecommendedWatcher, String> {
    use notify::Watcher;
    let dir = state
        .runtime
        .load()
        .checked
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        // Access events are our own reads of the config (the hash check and the reload
        // itself); reacting to them re-read a refused config about three times a second.
        if let Ok(ev) = ev
            && !matches!(ev.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    })
    .map_err(|e| e.to_string())?;
    watcher
        .watch(&dir, notify::RecursiveMode::Recursive)
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Debounce: a ConfigMap update is several file events.
            tokio::time::sleep(Duration::from_millis(300)).await;
            while rx.try_recv().is_ok() {}
            let current = state.runtime.load().checked.hash.clone();
            if file_hash_changed(&state, &current) {
                let _ = reload(&state);
            }
        }
    });
    Ok(watcher)
}

fn file_hash_changed(state: &AppState, current: &str) -> bool {
    let rt = state.runtime.load();
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let mut files = vec![rt.checked.path.clone()];
    files.extend(rt.checked.files.iter().cloned());
    for f in files {
        match std::fs::read(&f) {
            Ok(b) => sha2::Digest::update(&mut h, &b),
            Err(_) => return true,
        }
    }
    hex::encode(sha2::Digest::finalize(h)) != current
}
