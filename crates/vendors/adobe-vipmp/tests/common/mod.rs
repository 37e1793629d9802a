#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use connector::{PreparedRoute, RouteConfig, TranslateContext};
use order_model::CanonicalOrder;
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

pub fn route_with(settings: Value, defaults: Value) -> Arc<dyn PreparedRoute> {
    let catalog: BTreeMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(repo().join("config/catalogs/adobe-vipmp.json")).unwrap(),
    )
    .unwrap();
    vendor_adobe_vipmp::connector()
        .prepare(RouteConfig {
            connection: "adobe-vipmp-sandbox",
            settings: &settings,
            catalog: &catalog,
            defaults: &defaults,
        })
        .unwrap()
}

pub fn route() -> Arc<dyn PreparedRoute> {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/route.json"),
        )
        .unwrap(),
    )
    .unwrap();
    route_with(fixture["settings"].clone(), fixture["defaults"].clone())
}

pub fn ctx(order: &CanonicalOrder) -> (String, String) {
    ("dev".into(), format!("dev-{}", order.order_ref))
}

pub fn with_ctx<T>(order: &CanonicalOrder, f: impl FnOnce(&TranslateContext<'_>) -> T) -> T {
    let key = format!("dev-{}", order.order_ref);
    f(&TranslateContext {
        client: "dev",
        connection: "adobe-vipmp-sandbox",
        idempotency_key: &key,
    })
}

pub fn examples() -> Vec<(String, CanonicalOrder)> {
    let dir = repo().join("examples/orders/adobe-vipmp");
    let mut v: Vec<(String, CanonicalOrder)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                order_model::parse_order(&doc).unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

pub fn order(v: Value) -> CanonicalOrder {
    order_model::parse_order(&v).unwrap()
}
