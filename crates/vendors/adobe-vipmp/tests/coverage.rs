#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Issue 19 item 6: every canonical field is mapped, refused with a pointer, or listed
//! as ignored in the README (the table is `vendor_adobe_vipmp::coverage::FIELDS`).

mod common;

use serde_json::json;

#[test]
fn every_canonical_field_is_mapped_refused_or_documented_as_ignored() {
    let base = json!({
        "orderRef": "cov-1",
        "currency": "USD",
        "customer": {"ref": "c", "accounts": {"adobe-vipmp": "9876543210"}},
        "lines": [{"lineRef": "1", "sku": "ADB-CC-ALLAPPS", "quantity": 1}]
    });
    common::kit().check_field_coverage(
        &*common::route(),
        vendor_adobe_vipmp::coverage::FIELDS,
        base,
    );
}
