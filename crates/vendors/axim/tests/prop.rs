#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Any schema-valid order routed to Axim translates to a body the simulator accepts or is
//! refused with field errors; decimal money reaches the wire exactly.

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn money() -> impl Strategy<Value = String> {
    (0u64..10_000_000, 0u32..7).prop_map(|(m, scale)| Decimal::new(m as i64, scale).to_string())
}

fn arb_order() -> impl Strategy<Value = Value> {
    let sku = prop_oneof![
        4 => Just("AX-WIDGET-10"),
        4 => Just("AX-GADGET-BLUE"),
        1 => Just("AX-NOPE")
    ];
    let line = (
        sku,
        1u32..50,
        prop::option::weighted(0.95, money()),
        prop::option::of(money()),
        any::<bool>(),
    );
    let ship = prop_oneof![
        Just(json!({"addressRef": "63356b3b3a6353a69043680c"})),
        ("[A-Za-z]{1,30}", prop_oneof![9 => "[A-Za-z0-9]{1,100}", 1 => "[A-Za-z0-9 ]{1,120}"]).prop_map(|(n, l)| json!({"contact": {"firstName": n}, "address": {"line1": l, "city": "X", "region": "R", "postalCode": "1", "country": "US"}})),
    ];
    let bill = prop_oneof![
        Just(json!({"addressRef": "63356b3b3a6353a69043680b"})),
        (prop_oneof![9 => "[A-Za-z]{3,20}", 1 => "[A-Za-z]{1,25}"], prop::option::of("[A-Za-z]{3,20}")).prop_map(|(f, l)| {
            let mut c = json!({"firstName": f});
            if let Some(l) = l {
                c["lastName"] = json!(l);
            }
            json!({"contact": c, "address": {"line1": "1 Way", "city": "X", "region": "R", "postalCode": "1", "country": "US"}})
        }),
    ];
    let status = prop::option::weighted(
        0.9,
        prop_oneof![Just("unpaid"), Just("paid"), Just("refunded")],
    );
    (prop::collection::vec(line, 1..4), ship, bill, status, prop::option::of(money()), prop::option::of(prop_oneof![Just("USD"), Just("EUR"), Just("XAF")])).prop_map(|(lines, ship, bill, status, tax, currency)| {
        let lines: Vec<Value> = lines
            .into_iter()
            .map(|(sku, q, price, disc, ret)| {
                let mut l = json!({"sku": sku, "quantity": q});
                if let Some(p) = price {
                    l["unitPrice"] = json!(p);
                }
                if let Some(d) = disc {
                    l["discounts"] = json!([{"amount": d}]);
                }
                if ret {
                    l["direction"] = json!("return");
                }
                l
            })
            .collect();
        let mut o = json!({"orderRef": "p-1", "customer": {"ref": "c", "accounts": {"axim": "6328113ba105cf37af7f623b"}}, "shipTo": ship, "billTo": bill, "lines": lines});
        let mut payment = json!({});
        if let Some(s) = status {
            payment["status"] = json!(s);
        }
        if let Some(t) = tax {
            payment["tax"] = json!(t);
        }
        o["payment"] = payment;
        if let Some(c) = currency {
            o["currency"] = json!(c);
        }
        o
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn decimal_money_reaches_the_wire_exactly(price in money(), tax in money(), cost in money(), refunded in money(), discount in money()) {
        let doc = json!({"orderRef": "m", "customer": {"ref": "c", "accounts": {"axim": "6328113ba105cf37af7f623b"}},
            "shipTo": {"addressRef": "63356b3b3a6353a69043680c"}, "billTo": {"addressRef": "63356b3b3a6353a69043680b"},
            "shipping": {"cost": cost}, "payment": {"status": "paid", "tax": tax, "refunded": refunded},
            "lines": [{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": price, "discounts": [{"amount": discount}]}]});
        let order = order_model::parse_order(&doc).unwrap();
        let route = common::route();
        let req = common::translated(&route, &order);
        let text = String::from_utf8(req.body.unwrap().to_vec()).unwrap();
        let norm = |s: &str| s.parse::<Decimal>().unwrap().normalize().to_string();
        for (field, value) in [("price", &price), ("taxAmount", &tax), ("shippingCost", &cost), ("refundedAmount", &refunded), ("discountedAmount", &discount), ("discountAmount", &discount)] {
            prop_assert!(text.contains(&format!("\"{field}\":{},", norm(value))) || text.contains(&format!("\"{field}\":{}}}", norm(value))), "{field} {value} -> {text}");
        }
    }
}

connector::generated_order_tests!(arb_order(), vendor_axim::sim::validate_create);
