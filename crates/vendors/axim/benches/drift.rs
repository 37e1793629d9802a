#![allow(clippy::expect_used)]
//! The drift check of a vendor answer, as it runs on every answer: the streaming walk
//! (`connector::drift::check_body`) against parsing the same answer into a `Value`, the
//! first step (and most of the cost) of the tree walk it replaced, on Axim's recorded
//! success answer and success shape.
//! Run: `cargo bench -p vendor-axim --bench drift -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::PathBuf;

use connector::drift::check_body;
use criterion::{Criterion, criterion_group, criterion_main};
use vendor_axim::drift::SUCCESS;

fn answer() -> Vec<u8> {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/page-sample.response.json");
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file).expect("the recorded answer")).expect("json");
    serde_json::to_vec(&recorded["body"]).expect("body")
}

fn drift(c: &mut Criterion) {
    let body = answer();
    assert!(check_body(&body, &SUCCESS, false).is_empty());
    let mut g = c.benchmark_group("drift");
    g.bench_function("parse_to_tree", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("json"))
    });
    g.bench_function("stream", |b| {
        b.iter(|| check_body(black_box(&body), &SUCCESS, false))
    });
    g.finish();
}

criterion_group!(benches, drift);
criterion_main!(benches);
