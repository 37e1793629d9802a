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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn translates_to_an_accepted_body_or_refuses(doc in arb_order()) {
        let parsed = order_model::parse_order(&doc);
        prop_assume!(parsed.is_ok(), "not a schema-valid order");
        let order = parsed.unwrap();
        let route = common::route();
        match common::with_ctx(&order, |ctx| route.translate(&order, ctx)) {
            Ok(req) => {
                let body = req.body_json().unwrap();
                let checked = vendor_adobe_vipmp::sim::validate_create("9876543210", &body);
                prop_assert!(checked.is_ok(), "{body}: {checked:?}");
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let named = connector::testkit::generated::refusal_points_into(&doc, &errors);
                prop_assert!(named.is_ok(), "{named:?}
order: {doc}");
            }
        }
    }
}

#[test]
fn a_fair_share_of_generated_orders_translates() {
    let route = common::route();
    connector::testkit::generated::assert_fair_share(&common::kit(), route.as_ref(), arb_order());
}
