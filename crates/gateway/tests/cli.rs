#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `order-gateway` binary's offline commands.

mod common;

use std::process::Command;

use common::{examples, repo, vendors};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_order-gateway"))
}

#[test]
fn check_config_names_every_mistake_with_its_location_and_exits_78() {
    let fixture = repo().join("crates/gateway/tests/fixtures/three-mistakes.yaml");
    let out = bin().arg("check-config").arg(&fixture).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(78), "{text}");
    // The bad key hash, the unknown connection, the unknown field: each with line:column.
    assert!(
        text.contains("three-mistakes.yaml:5:") && text.contains("keySha256"),
        "{text}"
    );
    assert!(
        text.contains("three-mistakes.yaml:19:")
            && text.contains("unknown connection `impilo-sandbx`"),
        "{text}"
    );
    assert!(
        text.contains("three-mistakes.yaml:22:") && text.contains("colour"),
        "{text}"
    );
    assert!(text.contains("3 error(s)"), "{text}");
}

#[test]
fn check_config_refuses_a_fleet_limit_without_redis_and_a_zero_client_quota() {
    let fixture = repo().join("crates/gateway/tests/fixtures/fleet-without-redis.yaml");
    let out = bin().arg("check-config").arg(&fixture).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(78), "{text}");
    assert!(
        text.contains("fleet-without-redis.yaml:6:") && text.contains("ratePerSec"),
        "{text}"
    );
    assert!(
        text.contains("fleet-without-redis.yaml:18:") && text.contains("top-level `redis:"),
        "{text}"
    );
    assert!(text.contains("2 error(s)"), "{text}");
}

#[test]
fn check_config_passes_the_default_config() {
    let out = bin()
        .arg("check-config")
        .arg(repo().join("config/gateway.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(": ok (version"), "{text}");
}

/// `order-gateway translate --config config/gateway.yaml FILE`.
fn translate_file(path: &std::path::Path) -> std::process::Output {
    bin()
        .current_dir(repo())
        .args(["translate", "--config", "config/gateway.yaml"])
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn translate_prints_a_vendor_request_for_every_example_offline() {
    for vendor in vendors() {
        for (name, _) in examples(vendor) {
            let path = repo().join("examples/orders").join(vendor).join(&name);
            let out = translate_file(&path);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{vendor}/{name}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["vendor"], vendor);
            assert!(v["request"]["method"].is_string());
            assert!(v["request"]["url"].is_string());
        }
    }
}

/// Issue 19 item 5: the dry run shows the exact body bytes sent: extreme money stays as
/// written ("0.000001", not 1e-6; "9999999999999999.999999", not 1e+16).
#[test]
fn translate_shows_the_exact_body_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let order = common::extreme_money_order("money-1");
    let path = dir.path().join("money.json");
    std::fs::write(&path, serde_json::to_vec(&order).unwrap()).unwrap();
    let out = translate_file(&path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("\"price\":0.000001"), "{text}");
    assert!(
        text.contains("\"taxAmount\":9999999999999999.999999"),
        "{text}"
    );
    assert!(!text.contains("e-6") && !text.contains("e+16"), "{text}");
}

#[test]
fn hash_key_prints_the_sha256() {
    let out = bin().args(["hash-key", "dev-key"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e"
    );
}

#[test]
fn translate_gives_operators_the_full_routing_explanation_of_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let order = dir.path().join("order.json");
    std::fs::write(
        &order,
        r#"{"orderRef": "nr-cli", "customer": {"ref": "c1"}, "lines": [{"sku": "ZZ-1", "quantity": 1}]}"#,
    )
    .unwrap();
    let out = bin()
        .current_dir(repo())
        .args(["translate", "--config", "config/gateway.yaml"])
        .arg(&order)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["code"], "no_route", "{p}");
    // The caller's view in `rules`, every rule's own description in `explain`.
    let explain = p["context"]["explain"].as_array().unwrap();
    assert!(
        explain.iter().any(|r| r["failed"]
            .as_str()
            .is_some_and(|f| f.contains("matches none of [\"JH-*\"]"))),
        "{p}"
    );
}

/// `serve` runs mimalloc with eager arena commit off and freed pages purged at once (with
/// mimalloc's own defaults its peak RSS with 1,000 orders in flight was ~35 % above glibc's,
/// BENCHMARKS.md), says so in its first log line, and `MIMALLOC_*` still overrides.
#[cfg(feature = "mimalloc")]
#[tokio::test]
async fn serve_runs_mimalloc_with_eager_commit_off_and_immediate_purge() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::default_config_in(dir.path());
    let first_line = |p: &common::Proc| p.output().lines().next().unwrap_or_default().to_owned();

    // The line is at info level: an inherited RUST_LOG must not hide it.
    let mut p = common::Proc::spawn_with(&config, |c| {
        c.env("RUST_LOG", "info");
    });
    p.wait_ready().await;
    let line = first_line(&p);
    assert!(line.contains("serving the config file"), "{line}");
    assert!(
        line.contains(r#""allocator":"mimalloc (arena_eager_commit=0, purge_delay_ms=0)""#),
        "{line}"
    );
    drop(p);

    let mut p = common::Proc::spawn_with(&config, |c| {
        c.env("RUST_LOG", "info").env("MIMALLOC_PURGE_DELAY", "25");
    });
    p.wait_ready().await;
    let line = first_line(&p);
    assert!(
        line.contains("mimalloc (arena_eager_commit=0, purge_delay_ms=25)"),
        "{line}"
    );
}
