#![allow(clippy::expect_used, clippy::unwrap_used)]
//! Hot functions of the order path, on the example orders and a 499-line order.
//! Run: `cargo bench -p gateway --bench hot_paths`. Figures go to BENCHMARKS.md as
//! ratios against `baseline/serde_json_parse` measured in the same run.

use std::hint::black_box;
use std::path::PathBuf;

use connector::VendorResponse;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gateway::config::{CheckMode, Checked, load_and_check};
use gateway::pipeline::{self, VendorSchemas};
use gateway::registry::Registry;
use gateway::routing::decide;
use order_model::{Problem, ProblemCode, parse_order};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The vendor's first example order (by file name): the one every group benches.
fn first_example(vendor: &str) -> PathBuf {
    let dir = repo().join("examples/orders").join(vendor);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.swap_remove(0)
}

fn example(vendor: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(first_example(vendor)).expect("read"))
        .expect("json")
}

/// The Adobe limit is 499 lines; a large order of one vendor with that many lines.
fn large(vendor: &str) -> Value {
    let mut order = example(vendor);
    let first = order["lines"][0].clone();
    let lines: Vec<Value> = (0..499)
        .map(|i| {
            let mut l = first.clone();
            if l.get("lineRef").is_some() {
                l["lineRef"] = Value::String(format!("{}", i + 1));
            }
            l
        })
        .collect();
    order["lines"] = Value::Array(lines);
    order
}

fn hot(c: &mut Criterion) {
    let registry = Registry::builtin();
    let checked = load_and_check(
        &repo().join("config/gateway.yaml"),
        &registry,
        CheckMode::Offline,
        &|_: &str| None,
    )
    .expect("default config");
    let schemas = VendorSchemas::compile(&registry).expect("schemas");
    let vendors = registry.kinds();

    let text = serde_json::to_vec(&example("juniper")).expect("bytes");
    c.bench_function("baseline/serde_json_parse", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&text)).expect("json"))
    });

    let mut g = c.benchmark_group("parse_validate");
    for &v in &vendors {
        let bytes = serde_json::to_vec(&example(v)).expect("bytes");
        g.bench_with_input(BenchmarkId::from_parameter(v), &bytes, |b, bytes| {
            b.iter(|| {
                let doc: Value = serde_json::from_slice(black_box(bytes)).expect("json");
                parse_order(&doc).expect("valid")
            })
        });
    }
    let big = serde_json::to_vec(&large(vendors[0])).expect("bytes");
    g.bench_function("499-lines", |b| {
        b.iter(|| {
            let doc: Value = serde_json::from_slice(black_box(&big)).expect("json");
            parse_order(&doc).expect("valid")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("route");
    for &v in &vendors {
        let order = parse_order(&example(v)).expect("valid");
        g.bench_with_input(BenchmarkId::from_parameter(v), &order, |b, order| {
            b.iter(|| decide(&checked.routes, checked.fallback, black_box(order), "dev"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("translate_and_validate");
    for &v in &vendors {
        let doc = example(v);
        g.bench_with_input(BenchmarkId::from_parameter(v), &doc, |b, doc| {
            b.iter(|| {
                pipeline::plan(
                    black_box(doc),
                    &checked.routes,
                    checked.fallback,
                    &schemas,
                    "dev",
                    "0f0e0d0c-0b0a-0908-0706-050403020100",
                )
                .map(|p| p.request)
                .ok()
            })
        });
    }
    let big = large(vendors[0]);
    g.bench_function("499-lines", |b| {
        b.iter(|| {
            pipeline::plan(
                black_box(&big),
                &checked.routes,
                checked.fallback,
                &schemas,
                "dev",
                "0f0e0d0c-0b0a-0908-0706-050403020100",
            )
            .map(|p| p.request)
            .ok()
        })
    });
    g.finish();

    interpret(c, &checked, &schemas, &vendors);

    let p = Problem::new(ProblemCode::InvalidOrder, "3 problems").with_errors(
        (0..3)
            .map(|i| {
                order_model::FieldError::new(
                    format!("/lines/{i}/quantity"),
                    "minimum",
                    "must be at least 1",
                )
            })
            .collect(),
    );
    c.bench_function("problem_render", |b| {
        b.iter(|| serde_json::to_vec(black_box(&p)).expect("json"))
    });
}

/// Each vendor's recorded success answer -> canonical.
fn interpret(c: &mut Criterion, checked: &Checked, schemas: &VendorSchemas, vendors: &[&str]) {
    let mut g = c.benchmark_group("interpret");
    for &v in vendors {
        let Some(resp) = golden_response(v) else {
            eprintln!("interpret/{v}: no golden response for its first example, skipped");
            continue;
        };
        let doc = example(v);
        let planned = pipeline::plan(&doc, &checked.routes, checked.fallback, schemas, "dev", "k")
            .ok()
            .expect("plans");
        // Time the success path only: a response that no longer interprets fails the bench.
        let once = planned.route.prepared.interpret(&planned.order, &resp);
        assert!(
            once.is_ok(),
            "interpret/{v}: the golden response does not interpret: {once:?}"
        );
        g.bench_function(BenchmarkId::from_parameter(v), |b| {
            b.iter(|| {
                planned
                    .route
                    .prepared
                    .interpret(&planned.order, black_box(&resp))
                    .is_ok()
            })
        });
    }
    g.finish();
}

/// The vendor's success answer to its first example, recorded beside the crate's golden
/// pairs (`tests/golden/<example>.response.json`, `{"status", "body"}`), when it has one.
fn golden_response(vendor: &str) -> Option<VendorResponse> {
    let example = first_example(vendor);
    let stem = example.file_stem().expect("stem").to_string_lossy();
    let file = repo()
        .join("crates/vendors")
        .join(vendor)
        .join("tests/golden")
        .join(format!("{stem}.response.json"));
    let text = std::fs::read_to_string(&file).ok()?;
    let v: Value = serde_json::from_str(&text).expect("golden response json");
    let status = v["status"].as_u64().expect("golden response status");
    Some(VendorResponse::new(
        u16::try_from(status).expect("status fits u16"),
        serde_json::to_vec(&v["body"]).expect("body"),
    ))
}

criterion_group!(benches, hot);
criterion_main!(benches);
