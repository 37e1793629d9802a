//! Arbitrary schema-valid canonical orders routed to Impilo either translate to a body the
//! simulator's `validate_create` accepts, or come back as FieldErrors. Never a panic.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};

const SKUS: [&str; 11] = [
    "IMP-ITEM-TEST-STRIPS",
    "IMP-ITEM-LANCETS",
    "IMP-ITEM-RECALLED-SENSOR",
    "IMP-ITEM-BACKORDERED-TAPE",
    "IMP-KIT-STARTER",
    "IMP-KIT-LOANER-CGM",
    "IMP-KIT-DISCONTINUED",
    "IMP-DEV-GLUCOMETER",
    "IMP-DEV-SPARE-READER",
    "IMP-PK-CGM-RETURN",
    "IMP-UNKNOWN",
];
const KINDS: [&str; 5] = ["item", "kit", "loaner_kit", "device", "packed_kit"];
const SERIALS: [&str; 4] = ["IMP-SN-0001", "IMP-SN-0002", "IMP-SN-0004", "X-9"];

fn natural_kind(sku: &str) -> &'static str {
    if sku.contains("LOANER") {
        "loaner_kit"
    } else if sku.contains("-KIT-") {
        "kit"
    } else if sku.contains("-DEV-") {
        "device"
    } else if sku.contains("-PK-") {
        "packed_kit"
    } else {
        "item"
    }
}

fn line() -> impl Strategy<Value = Value> {
    // Mostly what a sensible caller sends (so many orders translate), sometimes not.
    (
        prop_oneof![20 => 0..SKUS.len() - 1, 1 => Just(SKUS.len() - 1)],
        prop::option::weighted(0.05, 0..KINDS.len()),
        any::<bool>(),
        prop::option::weighted(0.1, any::<bool>()),
        1u32..4,
        prop::option::weighted(0.6, 0..SERIALS.len()),
        any::<bool>(),
    )
        .prop_map(|(s, k, item_ret, odd_dir, q, serial, declare)| {
            let sku = SKUS[s];
            let kind = k.map(|k| KINDS[k]).unwrap_or_else(|| natural_kind(sku));
            let natural_dir = match kind {
                "device" | "packed_kit" => "return",
                "kit" | "loaner_kit" => "outbound",
                _ if item_ret => "return",
                _ => "outbound",
            };
            let dir = match odd_dir {
                Some(true) => "return",
                Some(false) => "outbound",
                None => natural_dir,
            };
            let qty = if kind == "device" || kind == "loaner_kit" {
                if q == 3 { 2 } else { 1 }
            } else {
                q
            };
            let mut l = json!({"sku": sku, "quantity": qty, "kind": kind, "direction": dir});
            if let Some(i) = serial
                && (kind == "device" || i == 0 && q == 3)
            {
                l["serialNumber"] = json!(SERIALS[i]);
            }
            // Truthful callers declare what is inside the packed kit they return.
            if sku == "IMP-PK-CGM-RETURN" && (declare || kind == "packed_kit") {
                l["vendorOptions"] =
                    json!({"impilo": {"deviceSerials": ["IMP-SN-0002", "IMP-SN-0003"]}});
            }
            l
        })
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.9,
        prop_oneof![1 => Just(" ".to_owned()), 12 => "[A-Za-z][a-z]{0,8}"],
    )
}

fn destination() -> impl Strategy<Value = (Option<Value>, Option<Value>, Option<Value>)> {
    // (customer accounts, shipTo, vendorOptions.impilo)
    let address = (text(), text(), prop::option::weighted(0.9, text()), prop::option::weighted(0.9, text()), any::<bool>()).prop_map(|(l1, city, region, zip, l2)| {
        let mut a = json!({"line1": l1.unwrap_or_else(|| "1 Example Way".into()), "city": city.unwrap_or_else(|| "Springfield".into()), "country": "US"});
        if let Some(Some(r)) = region {
            a["region"] = json!(r);
        }
        if let Some(Some(z)) = zip {
            a["postalCode"] = json!(z);
        }
        if l2 {
            a["line2"] = json!("Unit 2");
        }
        a
    });
    prop_oneof![
        1 => Just((None, None, None)),
        4 => prop_oneof![4 => Just("70001"), 1 => Just("x1")].prop_map(|a| (Some(json!({"impilo": a})), None, None)),
        3 => (prop_oneof![Just("301"), Just("302"), Just("abc")], prop::bool::weighted(0.1)).prop_map(|(s, addr)| {
            let mut st = json!({"kind": "site", "siteRef": s});
            if addr {
                st["address"] = json!({"line1": "1 A St", "city": "X", "country": "US"});
            }
            (None, Some(st), None)
        }),
        4 => (prop::option::weighted(0.9, address), text(), text(), any::<bool>()).prop_map(|(a, f, l, site)| {
            let mut contact = serde_json::Map::new();
            if let Some(f) = f {
                contact.insert("firstName".into(), json!(f));
            }
            if let Some(l) = l {
                contact.insert("lastName".into(), json!(l));
            }
            let mut st = json!({});
            if !contact.is_empty() {
                st["contact"] = Value::Object(contact);
            }
            if let Some(a) = a {
                st["address"] = a;
            }
            if st.as_object().unwrap().is_empty() {
                st["kind"] = json!("person");
            }
            (None, Some(st), site.then(|| json!({"patientSiteRef": "301"})))
        }),
    ]
}

fn order() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(line(), 1..4),
        destination(),
        prop::option::weighted(
            0.85,
            prop_oneof![4 => Just("standard"), 1 => Just("express"), 4 => Just("overnight")],
        ),
        prop::option::of(prop_oneof![Just("ship"), Just("email")]),
        prop::option::of(prop::collection::vec("[a-z ]{1,20}", 1..3)),
        prop::option::weighted(0.2, prop_oneof![Just("new"), Just("return")]),
        any::<bool>(),
    )
        .prop_map(
            |(lines, (accounts, ship_to, opts), speed, label, notes, ty, customer_names)| {
                let mut o =
                    json!({"orderRef": "prop-1", "customer": {"ref": "c-1"}, "lines": lines});
                if customer_names {
                    o["customer"]["firstName"] = json!("Quinn");
                    o["customer"]["lastName"] = json!("Example");
                }
                if let Some(a) = accounts {
                    o["customer"]["accounts"] = a;
                }
                if let Some(s) = ship_to {
                    o["shipTo"] = s;
                }
                if let Some(v) = opts {
                    o["vendorOptions"] = json!({"impilo": v});
                }
                let mut shipping = serde_json::Map::new();
                if let Some(s) = speed {
                    shipping.insert("speed".into(), json!(s));
                }
                if let Some(l) = label {
                    shipping.insert("returnLabel".into(), json!(l));
                }
                if !shipping.is_empty() {
                    o["shipping"] = Value::Object(shipping);
                }
                if let Some(n) = notes {
                    o["notes"] = json!(n);
                }
                if let Some(t) = ty {
                    o["type"] = json!(t);
                }
                o
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The generator makes schema-valid orders only, so the shared property below
    /// rejects none of them.
    #[test]
    fn every_generated_order_is_schema_valid(v in order()) {
        let parsed = order_model::parse_order(&v);
        prop_assert!(parsed.is_ok(), "generator made an invalid order: {:?}\n{v}", parsed.err());
    }
}

connector::generated_order_tests!(order(), vendor_impilo::sim::validate_create);
