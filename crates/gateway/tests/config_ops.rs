#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Platform-team tooling: check-config golden outputs over broken configs, test-config
//! pass and fail, explain output for a no-route order, and hot reload under load.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Gateway, examples, repo, vendors};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_order-gateway"))
}

fn fixtures() -> PathBuf {
    repo().join("crates/gateway/tests/fixtures/broken")
}

/// Each broken config's full check-config output is pinned in `<name>.expected`
/// (regenerate with UPDATE_GOLDEN=1 and review the diff).
#[test]
fn check_config_golden_outputs() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 11);
    for f in files {
        assert_golden(&f);
    }
}

/// check-config's exit code and stdout for `f`, against `f` with `.expected`; nothing
/// may go to stderr.
fn assert_golden(f: &Path) {
    let out = bin()
        .arg("check-config")
        .arg(f)
        .env_remove("OG_TEST_UNSET_CLIENT_HASH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace(&f.display().to_string(), "<file>");
    let got = format!("exit {}\n{text}", out.status.code().unwrap_or(-1));
    let expected = f.with_extension("expected");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected, &got).unwrap();
    }
    let want = std::fs::read_to_string(&expected)
        .unwrap_or_else(|_| panic!("{} missing; run with UPDATE_GOLDEN=1", expected.display()));
    assert_eq!(got, want, "{}", f.display());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{}", f.display());
}

/// One test per golden case, so a failure names what broke.
macro_rules! golden_cases {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            assert_golden(&fixtures().join($file));
        }
    )*};
}

golden_cases! {
    check_config_reports_each_literal_secret_once_at_its_own_field => "literal-secrets.yaml",
    check_config_points_type_errors_at_the_field => "type-errors.yaml",
    check_config_puts_a_yaml_syntax_error_position_in_the_prefix => "not-yaml.yaml",
    check_config_suggests_the_closest_name => "did-you-mean.yaml",
    check_config_fails_when_a_test_order_file_is_missing => "missing-test-order.yaml",
    check_config_refuses_a_webhook_retry_policy_that_cannot_work => "webhook-settings.yaml",
    check_config_points_at_each_bad_sync_duration => "sync-cadence.yaml",
}

#[test]
fn check_config_refuses_credentials_in_urls_without_printing_them() {
    let f = fixtures().join("url-credentials.yaml");
    assert_golden(&f);
    let out = bin().arg("check-config").arg(&f).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in ["svc-user", "svc-pass", "token-user", "token-pass"] {
        assert!(!all.contains(secret), "{secret} printed: {all}");
    }
}

#[test]
fn check_config_deny_warnings_turns_unset_secrets_into_failure() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gateway.yaml");
    std::fs::write(
        &cfg,
        "version: 1\nclients:\n  - id: dev\n    keySha256: ${OG_TEST_UNSET_HASH}\nconnections:\n  - name: impilo\n    vendor: impilo\n    outbound:\n      baseUrl: https://impilo.example\n      auth: {kind: staticHeader, header: Impilo-API-Key, token: \"${OG_TEST_UNSET_KEY}\"}\nroutes:\n  - name: impilo\n    connection: impilo\n",
    )
    .unwrap();
    let plain = bin().arg("check-config").arg(&cfg).output().unwrap();
    let text = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(plain.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning: environment variable OG_TEST_UNSET_KEY is referenced but not set"),
        "{text}"
    );
    let denied = bin()
        .arg("check-config")
        .arg("--deny-warnings")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(78));
}

fn write_config_with_tests(dir: &Path, tests: &str) -> PathBuf {
    let cfg = common::default_config_in(dir);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = match text.find("\ntests:\n") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    std::fs::write(&cfg, format!("{text}\ntests:\n{tests}")).unwrap();
    cfg
}

#[test]
fn test_config_passes_the_shipped_config() {
    let out = bin()
        .current_dir(repo())
        .args(["test-config", "config/gateway.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

#[test]
fn test_config_reports_each_failure_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = vendors()[0];
    let (name, _) = examples(vendor).remove(0);
    let order = repo().join("examples/orders").join(vendor).join(name);
    let tests = format!(
        "  - name: right route\n    order: {o}\n    expectRoute: {vendor}\n  - name: wrong route\n    order: {o}\n    expectRoute: somewhere-else-entirely\n  - name: wrong body\n    order: {o}\n    expectRoute: {vendor}\n    expectBody: {{nope: 1}}\n",
        o = order.display()
    );
    let cfg = write_config_with_tests(dir.path(), &tests);
    // An expectRoute that names no route is a config error, caught before tests run.
    let out = bin().args(["test-config"]).arg(&cfg).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(78),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tests = tests.replace("somewhere-else-entirely", "none");
    let cfg = write_config_with_tests(dir.path(), &tests);
    let out = bin().args(["test-config"]).arg(&cfg).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ok   right route"), "{text}");
    assert!(
        text.contains("FAIL wrong route: expected route none"),
        "{text}"
    );
    assert!(
        text.contains("FAIL wrong body: the vendor body differs"),
        "{text}"
    );
    assert!(text.contains("1 passed, 2 failed"), "{text}");
}

/// A routed preview explains the rules up to the one that took the order: each earlier
/// rule with the condition it failed, the last one matched; later rules are not run.
#[tokio::test]
async fn preview_explains_the_rules_up_to_the_first_match() {
    let g = Gateway::start().await;
    let routes: Vec<String> = g
        .running
        .state
        .runtime
        .load()
        .checked
        .routes
        .iter()
        .map(|r| r.name.clone())
        .collect();
    for vendor in common::vendors() {
        for (name, order) in common::examples(vendor) {
            let (status, _, body) = g.post("/v1/orders/preview", &order).await;
            assert_eq!(status, 200, "{name}: {body}");
            let explain = body["explain"].as_array().unwrap();
            let (last, earlier) = explain.split_last().unwrap();
            assert_eq!(last["matched"], true, "{name}");
            assert_eq!(last["route"], body["route"], "{name}");
            for (rule, expected) in earlier.iter().zip(&routes) {
                assert_eq!(
                    rule["route"],
                    expected.as_str(),
                    "{name}: rules in config order"
                );
                assert_eq!(rule["matched"], false, "{name}");
                assert!(
                    rule["failed"].as_str().is_some_and(|f| !f.is_empty()),
                    "{name}"
                );
            }
            let position = routes
                .iter()
                .position(|r| body["route"] == r.as_str())
                .unwrap();
            assert_eq!(
                explain.len(),
                position + 1,
                "{name}: nothing after the match"
            );
        }
    }
}

#[tokio::test]
async fn preview_explains_why_no_rule_matched() {
    let g = Gateway::start().await;
    let order = common::unroutable_order("explain-1");
    let (status, _, body) = g.post("/v1/orders/preview", &order).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "no_route");
    let explain = body["context"]["explain"].as_array().unwrap();
    assert!(!explain.is_empty());
    for rule in explain {
        assert_eq!(rule["matched"], false);
        // Which condition the caller's order missed; the route's patterns are not the
        // caller's business (the full explanation is `translate`'s).
        let failed = rule["failed"].as_str().unwrap();
        assert!(failed.starts_with("lines/0: skus:"), "{rule}");
        assert!(!failed.contains('*'), "{rule}");
    }
}

/// Orders flow while the config file is replaced 20 times — valid edits, invalid ones,
/// and Kubernetes-style symlink swaps. No order fails because of a reload; each valid
/// version becomes active; each invalid one is refused and the old one keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::default_config_in(dir.path());
    let base_text = std::fs::read_to_string(&base).unwrap();
    // Kubernetes layout: the config dir holds ..data -> a versioned dir, and the file is
    // a symlink through ..data.
    let cm = dir.path().join("cm");
    let catalogs = dir.path().join("catalogs");
    std::fs::create_dir_all(&cm).unwrap();
    let write_version = |n: usize, text: &str| -> PathBuf {
        let v = cm.join(format!("..v{n}"));
        std::fs::create_dir_all(v.join("catalogs")).unwrap();
        for e in std::fs::read_dir(&catalogs).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, v.join("catalogs").join(p.file_name().unwrap())).unwrap();
        }
        std::fs::write(v.join("gateway.yaml"), text).unwrap();
        v
    };
    let swap = |v: &Path| {
        let tmp = cm.join("..data_tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(v.file_name().unwrap(), &tmp).unwrap();
        std::fs::rename(&tmp, cm.join("..data")).unwrap();
    };
    let v0 = write_version(0, &base_text);
    swap(&v0);
    std::os::unix::fs::symlink("..data/gateway.yaml", cm.join("gateway.yaml")).unwrap();
    std::os::unix::fs::symlink("..data/catalogs", cm.join("catalogs")).unwrap();

    let g = Gateway::start_with(dir, cm.join("gateway.yaml")).await;
    let _watcher = gateway::server::watch_config(g.running.state.clone()).unwrap();
    let vendor = vendors()[0];
    let (_, order) = examples(vendor).remove(0);

    let stop = Arc::new(AtomicBool::new(false));
    let load = order_load(&g, order, stop.clone());

    let mut applied = 0;
    let mut refused = 0;
    for i in 1..=20usize {
        let before = g.running.state.runtime.load().checked.hash.clone();
        let valid = i % 3 != 0;
        let text = if valid {
            format!("{base_text}\n# edit {i}\n")
        } else {
            base_text.replace("fallback: none", "fallback: no-such-route")
        };
        if i % 2 == 0 {
            let v = write_version(i, &text);
            swap(&v);
        } else {
            // A direct write through the symlink (an editor, not Kubernetes).
            let target = cm
                .join("..data")
                .canonicalize()
                .unwrap()
                .join("gateway.yaml");
            std::fs::write(target, &text).unwrap();
        }
        let changed = wait_for_reload(&g, &before, valid).await;
        if valid {
            assert!(changed, "valid edit {i} did not become active");
            applied += 1;
        } else {
            assert_eq!(
                g.running.state.runtime.load().checked.hash,
                before,
                "invalid edit {i} replaced the config"
            );
            assert!(
                g.running
                    .state
                    .last_reload_error
                    .lock()
                    .unwrap()
                    .as_deref()
                    .unwrap_or("")
                    .contains("fallback"),
                "edit {i}"
            );
            refused += 1;
            *g.running.state.last_reload_error.lock().unwrap() = None;
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (n, bad) = load.await.unwrap();
    assert!(n > 20, "too few orders flowed: {n}");
    assert!(bad.is_empty(), "orders failed during reloads: {bad:?}");
    assert_eq!((applied, refused), (14, 6));
    let metrics = common::get_text(&g.http, &g.admin("/metrics")).await;
    assert!(
        metrics.contains("config_reload_total{result=\"applied\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("config_reload_total{result=\"refused\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_unchanged_connection_keeps_its_client_across_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::default_config_in(dir.path());
    let g = Gateway::start_with(dir, cfg.clone()).await;
    let name = g.running.state.runtime.load().checked.config.connections[0]
        .name
        .clone();
    let before = g.running.state.runtime.load().connections[&name].clone();

    // An edit elsewhere: the connection's client (token cache, limiter, breaker) survives.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}\n# unrelated edit\n")).unwrap();
    gateway::server::reload(&g.running.state).unwrap();
    let after = g.running.state.runtime.load().connections[&name].clone();
    assert!(
        std::sync::Arc::ptr_eq(&before, &after),
        "the client was rebuilt"
    );

    // An edit to that connection: a new client.
    let changed = text.replacen(
        "    outbound:\n",
        "    outbound:\n      limits: {ratePerSec: 7, burst: 7}\n",
        1,
    );
    std::fs::write(&cfg, changed).unwrap();
    gateway::server::reload(&g.running.state).unwrap();
    let rebuilt = g.running.state.runtime.load().connections[&name].clone();
    assert!(!std::sync::Arc::ptr_eq(&after, &rebuilt));
    assert_eq!(rebuilt.settings().limits.rate_per_sec, 7);
}

/// A gateway on `cfg` with the file watcher running, and its config hash at start.
async fn watched(
    dir: tempfile::TempDir,
    cfg: &Path,
) -> (Gateway, gateway::watch::ConfigWatcher, String) {
    let g = Gateway::start_with(dir, cfg.to_path_buf()).await;
    let w = gateway::server::watch_config(g.running.state.clone()).unwrap();
    let before = g.running.state.runtime.load().checked.hash.clone();
    (g, w, before)
}

/// [`watched`] on the default config in a new temp dir, and that config's path.
async fn watched_default() -> (Gateway, gateway::watch::ConfigWatcher, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::default_config_in(dir.path());
    let (g, w, before) = watched(dir, &cfg).await;
    (g, w, before, cfg)
}

/// A refused edit is tried once per change: the watcher must not react to its own reads
/// of the file (it used to re-read a refused config about three times a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_edit_is_not_retried_until_the_file_changes_again() {
    let (g, _watcher, before, cfg) = watched_default().await;
    let text = std::fs::read_to_string(&cfg).unwrap();
    let error = || g.running.state.last_reload_error.lock().unwrap().clone();

    std::fs::write(
        &cfg,
        text.replace("fallback: none", "fallback: no-such-route"),
    )
    .unwrap();
    let mut seen = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if error().is_some() {
            seen = true;
            break;
        }
    }
    assert!(seen, "the invalid edit was never tried");

    // Nothing changes on disk now: no further attempt may happen.
    *g.running.state.last_reload_error.lock().unwrap() = None;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        error(),
        None,
        "the refused config was tried again unchanged"
    );
    assert_eq!(g.running.state.runtime.load().checked.hash, before);

    // The fix is picked up.
    std::fs::write(&cfg, format!("{text}\n# fixed\n")).unwrap();
    let mut applied = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if g.running.state.runtime.load().checked.hash != before {
            applied = true;
            break;
        }
    }
    assert!(applied, "the fixed config was not applied");
}

/// Waits up to 1.5 s for the watcher to attempt a reload; `None` when none came. (A
/// reload that should not happen can only be shown by waiting for one.)
async fn reload_attempt(g: &Gateway, before: &str) -> Option<String> {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if let Some(e) = g.running.state.last_reload_error.lock().unwrap().clone() {
            return Some(format!("refused: {e}"));
        }
        if g.running.state.runtime.load().checked.hash != before {
            return Some("applied".into());
        }
    }
    None
}

/// Changes the config's contents without an event in its directory (written through a
/// hard link made before watching): only a watcher that reacts to some other file would
/// see it.
fn change_behind_the_watchers_back(link: &Path) {
    let text = std::fs::read_to_string(link).unwrap();
    std::fs::write(link, format!("{text}\n# changed elsewhere\n")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_written_next_to_the_config_causes_no_reload() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg = common::default_config_in(dir.path());
    let link = elsewhere.path().join("gateway.yaml");
    std::fs::hard_link(&cfg, &link).unwrap();
    let (g, _watcher, before) = watched(dir, &cfg).await;
    change_behind_the_watchers_back(&link);

    let logs = g.dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for i in 0..5 {
        std::fs::write(g.dir.path().join("gateway.log"), format!("line {i}\n")).unwrap();
        std::fs::write(logs.join("gateway.log"), format!("line {i}\n")).unwrap();
    }
    assert_eq!(reload_attempt(&g, &before).await, None);

    // The config file itself still counts.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}\n# edited in place\n")).unwrap();
    assert_eq!(
        reload_attempt(&g, &before).await.as_deref(),
        Some("applied")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_config_file_is_not_a_refused_reload() {
    let (g, _watcher, before, cfg) = watched_default().await;
    let text = std::fs::read_to_string(&cfg).unwrap();

    // Mid-replacement: the path briefly is not a readable file (a directory here, which
    // fails to read even as root).
    std::fs::remove_file(&cfg).unwrap();
    std::fs::create_dir(&cfg).unwrap();
    assert_eq!(reload_attempt(&g, &before).await, None);

    // Back, unchanged: nothing to do; then a real edit is applied.
    std::fs::remove_dir(&cfg).unwrap();
    std::fs::write(&cfg, &text).unwrap();
    assert_eq!(reload_attempt(&g, &before).await, None);
    std::fs::write(&cfg, format!("{text}\n# edited\n")).unwrap();
    assert_eq!(
        reload_attempt(&g, &before).await.as_deref(),
        Some("applied")
    );
}

/// Places copies of `order` (new orderRefs) one after another until `stop`; returns how
/// many were placed and the answers that were not 201.
fn order_load(
    g: &Gateway,
    order: Value,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u32, Vec<(u16, String)>)> {
    let http = g.http.clone();
    let url = g.url("/v1/orders");
    tokio::spawn(async move {
        let (mut n, mut bad) = (0u32, Vec::new());
        while !stop.load(Ordering::SeqCst) {
            let mut o = order.clone();
            o["orderRef"] = Value::String(format!("reload-{n}"));
            let r = http
                .post(&url)
                .bearer_auth("dev-key")
                .json(&o)
                .send()
                .await
                .unwrap();
            if r.status().as_u16() != 201 {
                bad.push((r.status().as_u16(), r.text().await.unwrap_or_default()));
            }
            n += 1;
        }
        (n, bad)
    })
}

/// Polls (up to 3 s) until a valid edit changed the active config's hash from `before`,
/// or an invalid one was refused; whether the hash changed.
async fn wait_for_reload(g: &Gateway, before: &str, valid: bool) -> bool {
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let now = g.running.state.runtime.load().checked.hash.clone();
        let err = g.running.state.last_reload_error.lock().unwrap().clone();
        if valid && now != before {
            return true;
        }
        if !valid && err.is_some() {
            return false;
        }
    }
    false
}
