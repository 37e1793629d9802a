#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Kubernetes deployment (`deploy/k8s`) against the real binary: each overlay's
//! ConfigMap, assembled the way its kustomization builds it (the base generator's
//! catalogs plus the overlay's `gateway.yaml`, flat), must pass
//! `check-config --deny-warnings` with exactly the environment variables its Deployment
//! provides, and its own `test-config`; and the config must agree with the Deployment
//! (listen addresses and ports, probe port, termination grace period).
//! `deploy/scripts/validate` runs the same checks on kustomize's actual output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const OVERLAYS: [&str; 2] = ["dev", "prod"];
const CONFIG_MAP: &str = "order-gateway-config";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn deploy() -> PathBuf {
    repo().join("deploy/k8s")
}

fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `files:` of the generator that builds the gateway's ConfigMap in one
/// kustomization, as (key in the ConfigMap, source path).
fn generator_files(kustomization_dir: &Path) -> (Vec<(String, PathBuf)>, Option<String>) {
    let k = yaml_file(&kustomization_dir.join("kustomization.yaml"));
    let gens = k["configMapGenerator"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let generator = gens
        .iter()
        .find(|g| g["name"] == CONFIG_MAP)
        .unwrap_or_else(|| panic!("{}: no {CONFIG_MAP} generator", kustomization_dir.display()));
    let files = generator["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.as_str().unwrap();
            // `key=path` or `path` (the key is then the file name).
            let (key, path) = match f.split_once('=') {
                Some((k, p)) => (k.to_owned(), p),
                None => (
                    Path::new(f)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    f,
                ),
            };
            (key, kustomization_dir.join(path))
        })
        .collect();
    (files, generator["behavior"].as_str().map(str::to_owned))
}

/// The directory the pod sees at /etc/order-gateway: base keys, then the overlay's
/// (`behavior: merge` replaces equal keys).
fn assemble(overlay: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (base, _) = generator_files(&deploy().join("base"));
    let (over, behavior) = generator_files(&deploy().join("overlays").join(overlay));
    assert_eq!(
        behavior.as_deref(),
        Some("merge"),
        "{overlay}: the overlay's {CONFIG_MAP} generator must merge into the base's"
    );
    for (key, src) in base.into_iter().chain(over) {
        assert!(!key.contains('/'), "ConfigMap keys are flat: {key}");
        std::fs::copy(&src, dir.path().join(&key))
            .unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    }
    assert!(
        dir.path().join("gateway.yaml").is_file(),
        "{overlay}: no gateway.yaml"
    );
    dir
}

fn container(deployment: &Value) -> &Value {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "order-gateway")
        .expect("container order-gateway")
}

fn base_deployment() -> Value {
    yaml_file(&deploy().join("base/deployment.yaml"))
}

/// Env var names the overlay's Deployment gives the container: the base's plus the
/// overlay's patch (strategic merge by name).
fn provided_env(overlay: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |d: &Value| {
        for e in container(d)["env"].as_array().cloned().unwrap_or_default() {
            let n = e["name"].as_str().unwrap().to_owned();
            if !names.contains(&n) {
                names.push(n);
            }
        }
    };
    add(&base_deployment());
    let patch = deploy()
        .join("overlays")
        .join(overlay)
        .join("deployment-patch.yaml");
    if patch.is_file() {
        add(&yaml_file(&patch));
    }
    names
}

/// Runs the binary with ONLY `env` set (dummy values), so a variable the developer
/// happens to have exported cannot hide one the Deployment does not provide.
fn run(args: &[&str], config: &Path, env: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_order-gateway"));
    cmd.env_clear().args(args).arg(config);
    for name in env {
        cmd.env(name, format!("dummy-{name}"));
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn gateway_config(dir: &Path) -> Value {
    yaml_file(&dir.join("gateway.yaml"))
}

#[test]
fn each_overlay_config_passes_check_config_with_the_deployments_env_and_its_tests() {
    for overlay in OVERLAYS {
        let dir = assemble(overlay);
        let config = dir.path().join("gateway.yaml");
        let env = provided_env(overlay);
        let out = run(&["check-config", "--deny-warnings"], &config, &env);
        assert_eq!(out.status.code(), Some(0), "{overlay}: {}", text(&out));
        assert!(
            text(&out).contains(": ok (version"),
            "{overlay}: {}",
            text(&out)
        );

        let out = run(&["test-config"], &config, &env);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(0), "{overlay}: {t}");
        assert!(t.contains(" passed, 0 failed"), "{overlay}: {t}");
        assert!(!t.contains("FAIL"), "{overlay}: {t}");
    }
}

#[test]
fn configs_listen_where_the_deployment_and_its_probes_expect() {
    let deployment = base_deployment();
    let c = container(&deployment);
    let port = |name: &str| {
        c["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no container port {name}"))["containerPort"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(port("api"), 8080);
    assert_eq!(port("admin"), 9090);
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["port"], "admin", "{probe}");
    }
    assert_eq!(c["startupProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "config")
        .unwrap();
    assert_eq!(mount["mountPath"], "/etc/order-gateway");
    assert!(
        mount.get("subPath").is_none(),
        "a subPath mount never sees ConfigMap updates"
    );
    let grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap();
    // The kubelet sleeps before SIGTERM so the endpoints drop the pod while it serves.
    let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .expect("a lifecycle.preStop.sleep on the gateway container");
    assert!(pre_stop >= 1);

    for overlay in OVERLAYS {
        let dir = assemble(overlay);
        let cfg = gateway_config(dir.path());
        let server = &cfg["server"];
        assert_eq!(server["listen"], "0.0.0.0:8080", "{overlay}");
        assert_eq!(
            server["adminListen"],
            format!("0.0.0.0:{}", port("admin")),
            "{overlay}"
        );
        let drain = server["drainDelaySecs"].as_u64().unwrap_or(0);
        let shutdown = server["shutdownGraceSecs"].as_u64().unwrap_or(25);
        assert!(
            grace >= pre_stop + drain + shutdown + 5,
            "{overlay}: terminationGracePeriodSeconds {grace} < preStop {pre_stop} + drainDelaySecs {drain} + shutdownGraceSecs {shutdown} + 5"
        );
    }
}

#[test]
fn dev_is_a_single_sqlite_sandbox_and_prod_shares_a_postgres_ledger() {
    let dev = gateway_config(assemble("dev").path());
    assert_eq!(dev["sandbox"], true);
    assert_eq!(dev["ledger"]["kind"], "sqlite");
    assert!(
        dev["ledger"]["path"]
            .as_str()
            .unwrap()
            .starts_with("/var/lib/order-gateway/"),
        "the SQLite file must be on the data volume (the root filesystem is read-only)"
    );
    let k = yaml_file(&deploy().join("overlays/dev/kustomization.yaml"));
    assert_eq!(k["replicas"][0]["count"], 1, "SQLite is one process's file");

    let prod = gateway_config(assemble("prod").path());
    assert_ne!(prod["sandbox"], true);
    assert_eq!(prod["ledger"]["kind"], "postgres");
    assert_eq!(prod["ledger"]["url"], "${LEDGER_DATABASE_URL}");
}

/// The configs' tests carry copies of examples/orders/ inline (a ConfigMap holds no
/// example files); a test named "... (from examples/orders/X)" must still equal X.
#[test]
fn inline_test_orders_match_the_examples_they_copy() {
    for overlay in OVERLAYS {
        let cfg = gateway_config(assemble(overlay).path());
        let mut copies = 0;
        for t in cfg["tests"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let Some((_, rest)) = name.split_once("(from ") else {
                continue;
            };
            let file = rest.trim_end_matches(')');
            let example: Value =
                serde_json::from_str(&std::fs::read_to_string(repo().join(file)).unwrap()).unwrap();
            assert_eq!(
                t["order"], example,
                "{overlay}: test `{name}` differs from {file}"
            );
            copies += 1;
        }
        assert!(copies >= 4, "{overlay}: expected inline copies of examples");
    }
}

/// The checks above can fail: a config the Deployment cannot run is caught.
#[test]
fn a_broken_deployment_config_is_refused() {
    // A secret the Deployment does not provide: a denied warning.
    let dir = assemble("prod");
    let config = dir.path().join("gateway.yaml");
    let mut env = provided_env("prod");
    env.retain(|n| n != "IMPILO_API_KEY");
    let out = run(&["check-config", "--deny-warnings"], &config, &env);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("IMPILO_API_KEY"), "{}", text(&out));

    // A catalog path into a subdirectory, which a ConfigMap cannot hold.
    let dir = assemble("dev");
    let config = dir.path().join("gateway.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    let broken = yaml.replacen(
        "catalogFile: catalog-juniper.json",
        "catalogFile: catalogs/juniper.json",
        1,
    );
    assert_ne!(yaml, broken);
    std::fs::write(&config, broken).unwrap();
    let out = run(
        &["check-config", "--deny-warnings"],
        &config,
        &provided_env("dev"),
    );
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("catalogFile"), "{}", text(&out));

    // A route test that no longer holds.
    let yaml = std::fs::read_to_string(dir.path().join("gateway.yaml"))
        .unwrap()
        .replacen(
            "catalogFile: catalogs/juniper.json",
            "catalogFile: catalog-juniper.json",
            1,
        )
        .replacen(
            "expectConnection: axim-sandbox",
            "expectConnection: juniper-sandbox",
            1,
        );
    std::fs::write(&config, yaml).unwrap();
    let out = run(&["test-config"], &config, &provided_env("dev"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("FAIL axim page sample"),
        "{}",
        text(&out)
    );
}
