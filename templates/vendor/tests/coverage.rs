#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every canonical field is mapped, refused with a pointer, or listed as ignored in the
//! README (the table is `__CRATE__::coverage::FIELDS`).

mod common;

#[test]
fn every_canonical_field_is_mapped_refused_or_documented_as_ignored() {
    // NEW VENDOR: a base order this vendor translates.
    let base = serde_json::json!({"orderRef": "t-1", "customer": {"ref": "c-1"}, "lines": [{"sku": "SKU-1", "quantity": 1}]});
    common::kit().check_field_coverage(
        &*common::route(),
        __CRATE__::coverage::FIELDS,
        base,
    );
}
