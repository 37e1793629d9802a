//! A candidate config pasted into the playground: the same checks as `check-config`,
//! the config's own tests (`test-config`), and, for each order given, its route under
//! the active config and under the candidate. Compiled offline; nothing is sent, and
//! the candidate's connections record no metrics (they would overwrite the live ones').

use std::path::Path;

use serde_json::Value;

use crate::config::{CheckMode, Severity, load_and_check};
use crate::dry_run::{self, offline_env};
use crate::state::{AppState, Runtime};

/// What the playground shows about a candidate.
pub struct Report {
    /// `check-config`'s lines (errors and warnings) with `file:line:column`.
    pub issues: Vec<(Severity, String)>,
    /// The candidate's version when it compiled.
    pub version: Option<String>,
    pub tests: Vec<(String, Result<(), String>)>,
    /// Order label, its route under the active config, under the candidate.
    pub routes: Vec<(String, String, String)>,
}

/// The name the candidate has in messages (it is written to a temp dir to be checked).
pub const FILE_NAME: &str = "candidate.yaml";

/// Checks `text` as a config beside the active one (its relative catalog and order
/// paths resolve against the active config's directory), then routes `orders` on both.
pub fn check(app: &AppState, text: &str, orders: &[(String, Value)], client: &str) -> Report {
    let active = app.runtime.load_full();
    let mut report = Report {
        issues: Vec::new(),
        version: None,
        tests: Vec::new(),
        routes: Vec::new(),
    };
    let dir = match stage(&active.checked.path, text) {
        Ok(d) => d,
        Err(e) => {
            report
                .issues
                .push((Severity::Error, format!("cannot stage the candidate: {e}")));
            return report;
        }
    };
    let path = dir.path().join(FILE_NAME);
    let shown = |s: String| s.replace(&format!("{}/", dir.path().display()), "");
    let checked = match load_and_check(&path, &app.registry, CheckMode::Offline, &offline_env) {
        Ok(c) => c,
        Err(issues) => {
            report.issues = issues
                .iter()
                .map(|i| (i.severity, shown(i.to_string())))
                .collect();
            return report;
        }
    };
    report.issues = checked
        .warnings
        .iter()
        .map(|w| (Severity::Warning, shown(w.to_string())))
        .collect();
    report.version = Some(checked.version().to_owned());
    let built = metrics::with_local_recorder(&metrics::NoopRecorder, || {
        crate::wiring::build_runtime(checked, &offline_env, None)
    });
    let candidate = match built {
        Ok(rt) => rt,
        Err(e) => {
            report.issues.push((Severity::Error, e.to_string()));
            return report;
        }
    };
    report.tests = metrics::with_local_recorder(&metrics::NoopRecorder, || {
        dry_run::run_tests(&candidate, &app.schemas, dir.path())
    });
    report.routes = orders
        .iter()
        .map(|(label, doc)| {
            let old = route_of(&active, app, doc, client);
            let new = metrics::with_local_recorder(&metrics::NoopRecorder, || {
                route_of(&candidate, app, doc, client)
            });
            (label.clone(), old, new)
        })
        .collect();
    report
}

/// A temp dir holding the candidate and links to everything beside the active config.
fn stage(active: &Path, text: &str) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let parent = active
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for entry in std::fs::read_dir(parent)? {
        let entry = entry?;
        let target = std::fs::canonicalize(entry.path())?;
        std::os::unix::fs::symlink(target, dir.path().join(entry.file_name()))?;
    }
    let file = dir.path().join(FILE_NAME);
    if file.exists() {
        std::fs::remove_file(&file)?;
    }
    std::fs::write(file, text)?;
    Ok(dir)
}

/// `route -> connection`, or the refusal's code.
fn route_of(rt: &Runtime, app: &AppState, doc: &Value, client: &str) -> String {
    match dry_run::preview(rt, &app.schemas, doc, None, client) {
        Ok(p) => format!("{} → {}", p.route, p.connection),
        Err(p) => format!("refused: {}", p.code),
    }
}
