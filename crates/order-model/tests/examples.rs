#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every example order validates against the schema and round-trips through the Rust
//! types without losing or adding anything.

use std::path::PathBuf;

use order_model::{CanonicalOrder, parse_order};
use serde_json::Value;

fn examples() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    let mut out = Vec::new();
    for vendor in std::fs::read_dir(&root).expect("examples/orders exists") {
        let dir = vendor.expect("dir entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("vendor dir") {
            let p = f.expect("entry").path();
            if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_validates_and_round_trips() {
    let files = examples();
    assert!(!files.is_empty(), "no examples found");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let order: CanonicalOrder =
            parse_order(&doc).unwrap_or_else(|errs| panic!("{}: {errs:#?}", f.display()));
        let back = serde_json::to_value(&order).unwrap();
        assert_eq!(back, doc, "{} does not round-trip", f.display());
    }
}

#[test]
fn each_vendor_has_at_least_three_examples() {
    let files = examples();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    let vendors: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!vendors.is_empty());
    for vendor in &vendors {
        let n = files
            .iter()
            .filter(|f| {
                f.parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|n| n.to_str() == Some(vendor.as_str()))
            })
            .count();
        assert!(n >= 3, "{vendor} has {n} examples");
    }
}
