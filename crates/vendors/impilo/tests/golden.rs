//! Every example validates and translates to the checked-in golden request, and its
//! recorded answer to the golden result. `UPDATE_GOLDEN=1` rewrites them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use order_model::SchemaValidator;
use serde_json::Value;

#[test]
fn there_are_enough_examples() {
    assert!(common::examples().len() >= 3);
}

#[test]
fn examples_validate_against_the_canonical_and_option_schemas() {
    let c = vendor_impilo::connector();
    let order_opts = SchemaValidator::new(&c.order_options_schema()).unwrap();
    let line_opts = SchemaValidator::new(&c.line_options_schema()).unwrap();
    for (name, o) in common::examples() {
        if let Some(opts) = o.vendor_options_for("impilo") {
            let opts = Value::Object(opts.clone());
            assert!(
                order_opts
                    .violations(&opts, "/vendorOptions/impilo")
                    .is_empty(),
                "{name}"
            );
        }
        for (i, l) in o.lines.iter().enumerate() {
            if let Some(opts) = l.vendor_options_for("impilo") {
                let v = Value::Object(opts.clone());
                let errs = line_opts.violations(&v, &format!("/lines/{i}/vendorOptions/impilo"));
                assert!(errs.is_empty(), "{name}: {errs:?}");
            }
        }
        for sku in o.lines.iter().map(|l| &l.sku) {
            assert!(sku.starts_with("IMP-"), "{name}: {sku}");
        }
    }
}

// The checks are the connector testkit's, shared by every vendor: each example -> its
// exact request; each recorded simulator answer (`<example>.response.json`) -> the exact
// `VendorOrder` (`<example>.result.json`).
connector::vendor_golden_tests!();
