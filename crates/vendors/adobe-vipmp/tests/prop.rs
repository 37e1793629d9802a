#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Any schema-valid order routed to Adobe: an accepted body or field errors.

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_order() -> impl Strategy<Value = Value> {
    let line = (
        prop_oneof![
            4 => Just("ADB-CC-ALLAPPS"),
            4 => Just("ADB-PHOTOSHOP"),
            1 => Just("ADB-NOPE")
        ],
        1u32..100,
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just("1".to_owned()),
                Just("2".to_owned()),
                "[0-9]{1,7}",
                "[a-z]{1,5}"
            ],
        ),
        prop::option::weighted(0.15, "[a-z0-9]{1,10}"),
    );
    (prop::collection::vec(line, 1..5), prop_oneof![8 => Just("new"), 1 => Just("renewal"), 1 => Just("return")], prop::bool::weighted(0.15), prop::option::weighted(0.15, Just("5100000001")), prop_oneof![9 => "[a-z0-9-]{1,30}", 1 => "[a-z0-9-]{1,40}"], prop::option::weighted(0.9, prop_oneof![Just("USD"), Just("EUR")])).prop_map(|(lines, t, quote, ret, oref, cur)| {
        let lines: Vec<Value> = lines
            .into_iter()
            .map(|(sku, q, lr, sub)| {
                let mut l = json!({"sku": sku, "quantity": q});
                if let Some(r) = lr {
                    l["lineRef"] = json!(r);
                }
                if let Some(s) = sub {
                    l["subscriptionRef"] = json!(s);
                }
                l
            })
            .collect();
        let mut o = json!({"orderRef": format!("a{oref}"), "type": t, "customer": {"ref": "c", "accounts": {"adobe-vipmp": "9876543210"}}, "lines": lines});
        if quote {
            o["intent"] = json!("quote");
        }
        if let Some(r) = ret {
            o["returnOf"] = json!(r);
        }
        if let Some(c) = cur {
            o["currency"] = json!(c);
        }
        o
    })
}

connector::generated_order_tests!(arb_order(), |body| {
    vendor_adobe_vipmp::sim::validate_create("9876543210", body)
});
