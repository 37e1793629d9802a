#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use connector::{PreparedRoute, RouteConfig, TranslateContext};
use order_model::CanonicalOrder;
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

pub fn catalog() -> BTreeMap<String, Value> {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("config/catalogs/impilo.json")).unwrap(),
    )
    .unwrap()
}

pub fn fixture() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/route.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

pub const CONNECTION: &str = "impilo-sandbox";

pub fn route() -> Arc<dyn PreparedRoute> {
    let catalog = catalog();
    let fx = fixture();
    let rc = RouteConfig {
        connection: CONNECTION,
        settings: &fx["settings"],
        catalog: &catalog,
        defaults: &fx["defaults"],
    };
    match vendor_impilo::connector().prepare(rc) {
        Ok(r) => r,
        Err(issues) => panic!("route does not prepare: {issues:?}"),
    }
}

/// (name, raw JSON) of every example, sorted.
pub fn examples() -> Vec<(String, Value)> {
    let dir = root().join("examples/orders/impilo");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "json").then(|| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (
                    name,
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
                )
            })
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn order(v: &Value) -> CanonicalOrder {
    order_model::parse_order(v).unwrap_or_else(|e| panic!("not a valid canonical order: {e:?}"))
}

pub fn with_ctx<T>(order: &CanonicalOrder, f: impl FnOnce(&TranslateContext<'_>) -> T) -> T {
    let key = format!("dev-{}", order.order_ref);
    let ctx = TranslateContext {
        client: "dev",
        connection: CONNECTION,
        idempotency_key: &key,
    };
    f(&ctx)
}

/// A minimal valid order to start tests from: an existing patient and one item.
pub fn base() -> Value {
    serde_json::json!({
        "orderRef": "t-1",
        "customer": {"ref": "c-1", "accounts": {"impilo": "70001"}},
        "lines": [{"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1}]
    })
}

/// A base order for a new patient.
pub fn new_patient() -> Value {
    serde_json::json!({
        "orderRef": "t-2",
        "customer": {"ref": "c-2", "firstName": "Quinn", "lastName": "Example"},
        "shipTo": {"address": {"line1": "1 Example Way", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}},
        "lines": [{"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1}]
    })
}
