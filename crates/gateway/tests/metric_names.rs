//! Metric names live in one module per crate (`metric_names.rs`; the gateway's re-exports
//! the others, so it lists every metric the process exports): dashboards and alerts
//! depend on them, and a name typed at a call site drifts unseen. Clippy cannot express
//! "no string literal as this macro's first argument", so this test is the rule: it
//! scans `crates/**/src/**/*.rs` and fails on `counter!`, `gauge!`, `histogram!` or
//! `describe_*!` called with a literal name anywhere else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

const MACROS: [&str; 6] = [
    "counter",
    "gauge",
    "histogram",
    "describe_counter",
    "describe_gauge",
    "describe_histogram",
];

/// The one file name allowed to spell metric names.
const NAMES_MODULE: &str = "metric_names.rs";

/// (line, macro) of every metrics macro in `src` whose first argument is a string literal.
fn literal_calls(src: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in src.match_indices("!(") {
        let before = &src[..at];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            .last()
            .map_or(at, |(i, _)| i);
        let name = &before[start..];
        if !MACROS.contains(&name) {
            continue;
        }
        let arg = src[at + 2..].trim_start();
        if arg.starts_with('"') || arg.starts_with("r\"") || arg.starts_with("r#\"") {
            found.push((before.matches('\n').count() + 1, name.to_owned()));
        }
    }
    found
}

fn rust_sources(dir: &Path, in_src: bool, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let is_src = path.file_name().is_some_and(|n| n == "src");
            rust_sources(&path, in_src || is_src, out);
        } else if in_src && path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_scanner_finds_literal_names_and_only_those() {
    let src = "metrics::counter!(\"orders_total\", \"a\" => b).increment(1);\n\
               let g = gauge!(\n    \"open\");\n\
               metrics::histogram!(names::CALL_SECONDS).record(1.0);\n\
               describe_counter!(r\"x\", \"help\");\n\
               my_counter!(\"not metrics\");\n";
    assert_eq!(
        literal_calls(src),
        [
            (1, "counter".to_owned()),
            (2, "gauge".to_owned()),
            (5, "describe_counter".to_owned()),
        ]
    );
}

#[test]
fn metric_names_are_spelt_only_in_metric_names_modules() {
    let crates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_sources(&crates, false, &mut files);
    assert!(
        files.len() > 50,
        "too few sources under {}: {}",
        crates.display(),
        files.len()
    );
    let mut offenders = Vec::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == NAMES_MODULE) {
            continue;
        }
        let src = std::fs::read_to_string(&f).unwrap();
        for (line, mac) in literal_calls(&src) {
            offenders.push(format!("{}:{line}: {mac}!", f.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "metric names spelt outside a {NAMES_MODULE} module (add a constant there and use it):\n{}",
        offenders.join("\n")
    );
}
