#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Issue 19 item 6: every canonical field is mapped, refused with a pointer, or listed
//! as ignored in the README (the table is `vendor_juniper::coverage::FIELDS`).

mod common;

use serde_json::json;

#[test]
fn every_canonical_field_is_mapped_refused_or_documented_as_ignored() {
    let base = json!({
        "orderRef": "cov-1",
        "customer": {"ref": "c1", "firstName": "Pat", "lastName": "Example"},
        "shipTo": {"address": {"line1": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}},
        "lines": [{"sku": "JH-WBW", "quantity": 1}]
    });
    common::kit().check_field_coverage(&*common::route(), vendor_juniper::coverage::FIELDS, base);
}
