//! This crate's sandbox route and examples, from the connector's testkit, and the base
//! orders the Impilo tests start from.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::Value;

connector::vendor_test_helpers!(vendor_impilo::connector());

/// The sandbox catalog (`config/catalogs/impilo.json`).
pub fn catalog() -> BTreeMap<String, Value> {
    let file = kit().repo().join("config/catalogs/impilo.json");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
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
