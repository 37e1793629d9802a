//! The `order-gateway` command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::{CheckMode, Checked, Severity, load_and_check};
use crate::pipeline::VendorSchemas;
use crate::registry::Registry;
use crate::secrets::{EnvLookup, process_env};

/// How an `order-gateway` command ended: its process exit status, documented in the
/// README ("Exit codes"). Values follow sysexits.h where one fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done.
    Ok = 0,
    /// The command ran and the answer is no: a refused preview, a failed config test,
    /// an order or id that does not fit the resolution, a stop with requests still in
    /// flight, or no runtime could be started.
    Failed = 1,
    /// `resolve-unknown --placed`, `link-vendor-order`: the vendor documents no lookup,
    /// so no vendor order id can be verified.
    NoLookup = 2,
    /// EX_DATAERR: the order file is not readable JSON.
    DataErr = 65,
    /// EX_TEMPFAIL: the ledger failed; the same command may work later.
    TempFail = 75,
    /// EX_CONFIG: the config is invalid (or its warnings were denied), or its ledger
    /// cannot be opened.
    Config = 78,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Parser)]
#[command(
    name = "order-gateway",
    version,
    about = "Place canonical orders with fulfilment vendors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        /// The config file; without it, `config/gateway.yaml` in the working directory,
        /// and without that the sandbox config compiled into the binary.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override `server.listen`.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Override `server.adminListen`.
        #[arg(long)]
        admin_listen: Option<std::net::SocketAddr>,
        /// Write the bound addresses (API, admin, simulators) to this file as JSON once
        /// ready; with port 0 listeners this is how a supervisor learns the ports.
        #[arg(long)]
        ready_file: Option<PathBuf>,
    },
    /// Check a config offline and report every problem with file:line:column.
    CheckConfig {
        config: PathBuf,
        /// Treat warnings (e.g. unset secrets) as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print the vendor request an order would become, offline (nothing is sent).
    Translate {
        #[arg(long, default_value = "config/gateway.yaml")]
        config: PathBuf,
        order: PathBuf,
        /// Use the first route that sends to this connection instead of routing.
        #[arg(long)]
        connection: Option<String>,
        #[arg(long, default_value = "dev")]
        client: String,
    },
    /// Run the config's `tests:` offline: order fixture -> expected route (and body).
    TestConfig { config: PathBuf },
    /// Print the SHA-256 of an API key, for a `clients[].keySha256` entry.
    HashKey { key: String },
    /// Link the vendor's order id to an order whose outcome is unknown (after finding it
    /// at the vendor). The caller's next retry looks that order up at the vendor and
    /// answers with it; the record changes state only on the vendor's own answer.
    LinkVendorOrder {
        #[arg(long, default_value = "config/gateway.yaml")]
        config: PathBuf,
        /// The gateway order id (`ord_...`, from the admin `/orders/unknown`).
        order_id: String,
        /// The vendor's id of the same order.
        vendor_order_id: String,
        /// Who is linking it (recorded).
        #[arg(long, env = "USER", default_value = "operator")]
        operator: String,
        /// Why (recorded).
        #[arg(long, default_value = "found at the vendor")]
        reason: String,
    },
    /// Settle an order whose outcome is unknown, after checking the vendor: `--not-placed`
    /// (the caller's retry places it) or `--placed VENDOR_ORDER_ID` (the caller's retry
    /// reads it at the vendor). Recorded with `--operator` and `--reason`. Exit 0 when
    /// resolved, 1 when the order or id does not fit, 2 when the vendor has no lookup.
    ResolveUnknown {
        #[arg(long, default_value = "config/gateway.yaml")]
        config: PathBuf,
        /// The gateway order id (`ord_...`, from the admin `/orders/unknown`).
        order_id: String,
        #[arg(long, conflicts_with = "placed", required_unless_present = "placed")]
        not_placed: bool,
        #[arg(long, value_name = "VENDOR_ORDER_ID")]
        placed: Option<String>,
        #[arg(long, env = "USER", default_value = "operator")]
        operator: String,
        #[arg(long)]
        reason: String,
    },
    /// Put failed webhook deliveries (admin `/webhooks/failed`) back to pending with a
    /// fresh retry window: the EVENT_IDs given, or every failed one. Also enables the
    /// endpoints disabled by a 410 Gone (admin `/webhooks/disabled`) of those events'
    /// clients, or every one, and sends their held deliveries.
    RedeliverWebhooks {
        #[arg(long, default_value = "config/gateway.yaml")]
        config: PathBuf,
        event_ids: Vec<String>,
    },
}

/// Runs the command line. `allocator` names the binary's memory allocator and its
/// settings, for the `serve` log.
pub fn main(allocator: &str) -> Exit {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            admin_listen,
            ready_file,
        } => serve(config, allocator, |config| crate::server::Options {
            config,
            listen,
            admin_listen,
            ready_file,
        }),
        Command::CheckConfig {
            config,
            deny_warnings,
        } => check_config(&config, deny_warnings),
        Command::Translate {
            config,
            order,
            connection,
            client,
        } => translate(&config, &order, connection.as_deref(), &client),
        Command::TestConfig { config } => test_config(&config),
        Command::HashKey { key } => {
            println!("{}", hex::encode(Sha256::digest(key.as_bytes())));
            Exit::Ok
        }
        Command::LinkVendorOrder {
            config,
            order_id,
            vendor_order_id,
            operator,
            reason,
        } => resolve_unknown(
            &config,
            &order_id,
            crate::operator::Finding::Placed { vendor_order_id },
            &operator,
            &reason,
        ),
        Command::ResolveUnknown {
            config,
            order_id,
            not_placed: _,
            placed,
            operator,
            reason,
        } => resolve_unknown(
            &config,
            &order_id,
            match placed {
                Some(vendor_order_id) => crate::operator::Finding::Placed { vendor_order_id },
                None => crate::operator::Finding::NotPlaced,
            },
            &operator,
            &reason,
        ),
        Command::RedeliverWebhooks { config, event_ids } => redeliver_webhooks(&config, event_ids),
    }
}

/// Puts failed webhook deliveries back to pending; the serving replicas deliver them.
/// [`Exit::Config`] for a config or ledger that cannot be opened.
fn redeliver_webhooks(config: &Path, event_ids: Vec<String>) -> Exit {
    with_ledger(config, |ledger, _| async move {
        match ledger.redeliver_webhooks(event_ids).await {
            Ok(n) => {
                println!(
                    "{n} deliveries put back to pending (failed ones, and held ones of enabled endpoints)"
                );
                Exit::Ok
            }
            Err(e) => {
                eprintln!("{e}");
                Exit::Config
            }
        }
    })
}

/// Resolves one unknown order (see [`crate::operator`]): [`Exit::Ok`] when resolved,
/// the refusal's exit otherwise, [`Exit::Config`] for a config or ledger that cannot
/// be opened.
fn resolve_unknown(
    config: &Path,
    order_id: &str,
    finding: crate::operator::Finding,
    operator: &str,
    reason: &str,
) -> Exit {
    with_ledger(config, |ledger, checked| async move {
        let registry = Registry::builtin();
        let done = match &finding {
            crate::operator::Finding::Placed { vendor_order_id } => format!(
                "linked to vendor order {vendor_order_id}; the caller's next retry with the same orderRef reads it at the vendor and settles the order if it matches"
            ),
            crate::operator::Finding::NotPlaced => {
                "resolved as not placed; the caller's next retry with the same orderRef places it"
                    .to_owned()
            }
        };
        match crate::operator::resolve(
            &ledger, &checked, &registry, order_id, finding, operator, reason,
        )
        .await
        {
            Ok(()) => {
                println!("{order_id}: {done}");
                Exit::Ok
            }
            Err(e) => {
                eprintln!("{order_id}: {e}");
                e.exit_code()
            }
        }
    })
}

/// Runs an operator command against the config's ledger (opened with the process
/// environment, as `serve` does), closing it afterwards. [`Exit::Config`] when the
/// config or the ledger cannot be opened.
fn with_ledger<F, Fut>(config: &Path, run: F) -> Exit
where
    F: FnOnce(std::sync::Arc<ledger::Ledger>, std::sync::Arc<Checked>) -> Fut,
    Fut: std::future::Future<Output = Exit>,
{
    let checked = match checked_or_report(config, &process_env) {
        Ok(c) => std::sync::Arc::new(c),
        Err(code) => return code,
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("cannot start the runtime");
        return Exit::Failed;
    };
    rt.block_on(async {
        let ledger = match crate::server::open_ledger(&checked, &process_env).await {
            Ok(l) => std::sync::Arc::new(l),
            Err(e) => {
                eprintln!("{e}");
                return Exit::Config;
            }
        };
        let code = run(ledger.clone(), checked).await;
        ledger.close().await;
        code
    })
}

/// The config checked offline, or every problem printed and the exit code for it.
fn checked_or_report(path: &Path, env: &EnvLookup) -> Result<Checked, Exit> {
    load_and_check(path, &Registry::builtin(), CheckMode::Offline, env).map_err(|issues| {
        for i in &issues {
            eprintln!("{i}");
        }
        Exit::Config
    })
}

fn serve(
    config: Option<PathBuf>,
    allocator: &str,
    options: impl FnOnce(PathBuf) -> crate::server::Options,
) -> Exit {
    // Held for the whole run: the embedded config is served (and watched) from here.
    let embedded_dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot create a temp dir: {e}");
            return Exit::Failed;
        }
    };
    let (config, embedded) = match crate::embedded::resolve(config, embedded_dir.path()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot write the embedded config: {e}");
            return Exit::Failed;
        }
    };
    let opts = options(config);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return Exit::Failed;
        }
    };
    rt.block_on(async move {
        let telemetry = crate::telemetry::init();
        if embedded {
            tracing::info!(
                allocator,
                "no --config and no config/gateway.yaml here: serving the sandbox config built into the binary"
            );
        } else {
            tracing::info!(config = %opts.config.display(), allocator, "serving the config file");
        }
        let env: Arc<EnvLookup> = Arc::new(process_env);
        let running = match crate::server::start(opts, env).await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return Exit::Config;
            }
        };
        let _watcher = crate::server::watch_config(running.state.clone())
            .map_err(|e| tracing::warn!(error = %e, "config file watching is off"));
        let state = running.state.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                let _ = crate::server::reload(&state);
            }
        });
        wait_for_stop().await;
        tracing::info!("stopping: readiness false, draining in-flight requests");
        let clean = running.shutdown().await;
        telemetry.shutdown();
        if clean {
            Exit::Ok
        } else {
            // Orders cut here stay `sending` until recovery marks them unknown: a
            // supervisor must be able to see that this stop was not clean.
            tracing::error!("grace period over with requests still in flight");
            Exit::Failed
        }
    })
}

async fn wait_for_stop() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn check_config(path: &Path, deny_warnings: bool) -> Exit {
    let registry = Registry::builtin();
    match load_and_check(path, &registry, CheckMode::Offline, &process_env) {
        Ok(checked) => {
            for w in &checked.warnings {
                println!("{w}");
            }
            if deny_warnings && !checked.warnings.is_empty() {
                println!(
                    "{}: {} warning(s), denied",
                    path.display(),
                    checked.warnings.len()
                );
                return Exit::Config;
            }
            println!(
                "{}: ok (version {}, {} routes, {} connections)",
                path.display(),
                checked.version(),
                checked.routes.len(),
                checked.config.connections.len()
            );
            Exit::Ok
        }
        Err(issues) => {
            for i in &issues {
                println!("{i}");
            }
            let errors = issues
                .iter()
                .filter(|i| i.severity == Severity::Error)
                .count();
            println!("{}: {errors} error(s)", path.display());
            Exit::Config
        }
    }
}

/// An offline runtime: the config checked and compiled, connections built for previews
/// (no network is touched; secrets need not be set).
pub struct Offline {
    pub runtime: crate::state::Runtime,
    pub schemas: VendorSchemas,
}

fn offline(path: &Path) -> Result<Offline, Exit> {
    let registry = Registry::builtin();
    let mut checked = checked_or_report(path, &crate::dry_run::offline_env)?;
    crate::wiring::without_fleet_limits(&mut checked);
    let schemas = VendorSchemas::compile(&registry).map_err(|e| {
        eprintln!("{e}");
        Exit::Failed
    })?;
    let runtime = crate::wiring::build_runtime(checked, &crate::dry_run::offline_env, None)
        .map_err(|e| {
            eprintln!("{e}");
            Exit::Config
        })?;
    Ok(Offline { runtime, schemas })
}

impl Offline {
    /// The preview document for an order: routed, or forced onto the first route that
    /// sends to `connection`.
    pub fn preview(
        &self,
        doc: &Value,
        connection: Option<&str>,
        client: &str,
    ) -> Result<crate::http::preview::Preview, order_model::Problem> {
        crate::dry_run::preview(&self.runtime, &self.schemas, doc, connection, client)
    }
}

fn translate(config: &Path, order: &Path, connection: Option<&str>, client: &str) -> Exit {
    let offline = match offline(config) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let doc = match crate::dry_run::read_order(order) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return Exit::DataErr;
        }
    };
    match offline.preview(&doc, connection, client) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            Exit::Ok
        }
        Err(p) => {
            println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            Exit::Failed
        }
    }
}

fn test_config(path: &Path) -> Exit {
    let offline = match offline(path) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if offline.runtime.checked.config.tests.is_empty() {
        println!("{}: no tests", path.display());
        return Exit::Failed;
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, verdict) in crate::dry_run::run_tests(&offline.runtime, &offline.schemas, &base) {
        match verdict {
            Ok(()) => {
                println!("ok   {name}");
                passed += 1;
            }
            Err(why) => {
                println!("FAIL {name}: {why}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 { Exit::Failed } else { Exit::Ok }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    /// The values operators and supervisors script against: a new variant must be
    /// given its number here and a row in the README.
    fn documented(e: Exit) -> i32 {
        match e {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::NoLookup => 2,
            Exit::DataErr => 65,
            Exit::TempFail => 75,
            Exit::Config => 78,
        }
    }

    #[test]
    fn every_exit_code_keeps_its_number_and_has_a_readme_row() {
        let readme = include_str!("../../../README.md");
        let table = readme
            .split_once("### Exit codes")
            .map(|(_, rest)| rest.split("\n#").next().unwrap_or_default())
            .unwrap_or_default();
        for e in [
            Exit::Ok,
            Exit::Failed,
            Exit::NoLookup,
            Exit::DataErr,
            Exit::TempFail,
            Exit::Config,
        ] {
            assert_eq!(e.code(), documented(e), "{e:?}");
            let row = format!("| {} | `{e:?}` |", e.code());
            assert!(table.contains(&row), "README exit codes: no row {row}");
        }
    }
}
