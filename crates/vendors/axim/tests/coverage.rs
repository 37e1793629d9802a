#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Issue 19 item 6: every canonical field is mapped, refused with a pointer, or listed
//! as ignored in the README (the table is `vendor_axim::coverage::FIELDS`).

mod common;

use serde_json::json;

#[test]
fn every_canonical_field_is_mapped_refused_or_documented_as_ignored() {
    let addr = json!({"line1": "12/4 test st", "city": "Elizabeth", "region": "NJ", "postalCode": "07202", "country": "US"});
    let base = json!({
        "orderRef": "cov-1",
        "customer": {"ref": "c1", "accounts": {"axim": "6328113ba105cf37af7f623b"}},
        "shipTo": {"contact": {"firstName": "John", "lastName": "Doe"}, "address": addr},
        "billTo": {"contact": {"firstName": "John", "lastName": "Doe"}, "address": addr},
        "shipping": {"label": "Dock 4"},
        "payment": {"status": "unpaid"},
        "lines": [{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "1.00"}]
    });
    common::kit().check_field_coverage(&*common::route(), vendor_axim::coverage::FIELDS, base);
}
