//! The config compiler: file -> YAML tree with positions -> typed sections -> checks,
//! each a named pass reporting into one [`Ctx`] -> the compiled config. `check-config`,
//! `serve` and hot reload all go through [`load_and_check`], so a config that passes
//! `check-config` is the config `serve` will run.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::check::{CheckMode, Checked, Ctx, Issue, Severity};
use super::model::GatewayConfig;
use super::routes::{self, RouteInputs};
use super::sections::{self, Sections};
use super::{conditions, limits, passes, sync, yaml};
use crate::registry::Registry;
use crate::secrets::EnvLookup;

/// Reads, checks and compiles the config at `path`; every problem found, each with
/// `file:line:column`, when it cannot run.
pub fn load_and_check(
    path: &Path,
    registry: &Registry,
    mode: CheckMode,
    env: &EnvLookup,
) -> Result<Checked, Vec<Issue>> {
    let file = path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![whole_file(
            &file,
            None,
            format!("cannot read the config file: {e}"),
        )]
    })?;
    let (raw, positions) = yaml::parse(&text).map_err(|e| {
        vec![whole_file(
            &file,
            e.pos,
            format!("not valid YAML: {}", e.message),
        )]
    })?;
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    let mut cx = Ctx {
        file,
        positions,
        issues: Vec::new(),
        mode,
        env,
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let Some(s) = sections::parse(&mut cx, &raw) else {
        return Err(cx.issues);
    };
    passes::version(&mut cx, &s.config);
    passes::clients(&mut cx, &s.clients, s.config.sandbox);
    passes::operators(&mut cx, &s.operators);
    passes::webhook_settings(&mut cx, &s.config);
    passes::ledger(&mut cx, &s.config);
    passes::connections(
        &mut cx,
        registry,
        &s.connections,
        s.config.sandbox,
        s.config.server.shutdown_grace_secs,
    );
    limits::redis(&mut cx, &s.config, &s.connections);
    limits::client_quotas(&mut cx, &s.clients);
    sync::cadences(&mut cx, &s.connections);
    passes::url_credentials(&mut cx, &raw);
    passes::simulators(&mut cx, registry, &s.simulators);
    let inputs = RouteInputs {
        registry,
        connections: &s.connections,
        base_dir: &base_dir,
    };
    let compiled = routes::compile(&mut cx, &inputs, &s.routes, &mut hasher);
    conditions::shadowed(&mut cx, &s.routes);
    let fallback = passes::fallback(&mut cx, &s.config.fallback, &s.routes, &compiled);
    passes::tests(&mut cx, &s.tests, &s.routes, &base_dir);

    let warnings = cx.finish()?;
    let config = assemble(s);
    let files = catalog_files(&config, &base_dir);
    Ok(Checked {
        config,
        path: path.to_path_buf(),
        hash: hex::encode(hasher.finalize()),
        routes: compiled.into_iter().map(|(_, r)| r).collect(),
        fallback,
        files,
        warnings,
    })
}

fn whole_file(file: &Path, pos: Option<yaml::Pos>, message: String) -> Issue {
    Issue {
        severity: Severity::Error,
        file: file.to_path_buf(),
        pos,
        pointer: String::new(),
        message,
    }
}

/// The checked sections back into one config (every item passed, so none is missing).
fn assemble(s: Sections) -> GatewayConfig {
    GatewayConfig {
        clients: unindexed(s.clients),
        operators: unindexed(s.operators),
        simulators: unindexed(s.simulators),
        connections: unindexed(s.connections),
        routes: unindexed(s.routes),
        tests: unindexed(s.tests),
        ..s.config
    }
}

fn unindexed<T>(items: Vec<(usize, T)>) -> Vec<T> {
    items.into_iter().map(|(_, t)| t).collect()
}

fn catalog_files(config: &GatewayConfig, base_dir: &Path) -> Vec<PathBuf> {
    config
        .routes
        .iter()
        .filter_map(|r| r.catalog_file.as_ref().map(|f| base_dir.join(f)))
        .collect()
}
