#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Any schema-valid canonical order routed to Juniper either translates to a body the
//! simulator accepts, or is refused with field errors — never a panic, never a body the
//! simulator rejects.

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};

/// Mostly one of two valid values, at times any text of the pattern `other`, now and then
/// absent.
fn mostly_valid(
    a: &'static str,
    b: &'static str,
    other: &'static str,
) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.95,
        prop_oneof![4 => Just(a.to_owned()), 4 => Just(b.to_owned()), 1 => other],
    )
}

fn arb_order() -> impl Strategy<Value = Value> {
    let sku = prop_oneof![
        3 => Just("JH-WBW"),
        3 => Just("JH-SLEEP"),
        3 => Just("JH-EXT-OMEGA3"),
        1 => Just("JH-NOPE")
    ];
    let line = (
        sku,
        1u32..5,
        prop::option::weighted(0.9, "[A-Za-z]{1,20}"),
        prop::option::of((0u32..3, 0u32..3, 0u32..3, 0u32..3)),
        prop::option::weighted(0.2, prop_oneof![3 => Just("item"), 1 => Just("kit")]),
    );
    let lines = prop::collection::vec(line, 1..4);
    let region = mostly_valid("CA", "NY", "[A-Z]{1,3}");
    let zip = mostly_valid("94301", "94301-1234", "[0-9]{3,6}");
    let country = prop_oneof![9 => Just("US"), 1 => Just("CA")];
    let speed = prop::option::of(prop_oneof![
        Just("standard"),
        Just("express"),
        Just("overnight")
    ]);
    let days = prop::option::weighted(0.9, prop_oneof![Just(30), Just(60), Just(90)]);
    let names = prop::option::weighted(0.95, ("[A-Za-z]{1,12}", "[A-Za-z]{1,12}"));
    let line1 = prop_oneof![9 => "[A-Za-z0-9]{1,100}", 1 => "[A-Za-z0-9 ]{1,120}"];
    let city = prop_oneof![9 => "[A-Za-z]{1,50}", 1 => "[A-Za-z ]{1,60}"];
    (lines, region, zip, country, speed, days, names, line1, city, any::<bool>()).prop_map(|(lines, region, zip, country, speed, days, names, line1, city, subscription)| {
        let mut customer = json!({"ref": "c1"});
        if let Some((f, l)) = names {
            customer["firstName"] = json!(f);
            customer["lastName"] = json!(l);
        }
        let mut address = json!({"line1": line1, "city": city, "country": country});
        if let Some(r) = region {
            address["region"] = json!(r);
        }
        if let Some(z) = zip {
            address["postalCode"] = json!(z);
        }
        let lines: Vec<Value> = lines
            .into_iter()
            .map(|(sku, q, desc, adm, kind)| {
                let mut l = json!({"sku": sku, "quantity": q});
                if let Some(d) = desc {
                    l["description"] = json!(d);
                }
                if let Some((m, a, e, s)) = adm {
                    l["vendorOptions"] = json!({"juniper": {"administration": {"morning": m, "afternoon": a, "evening": e, "sleep": s}}});
                }
                if let Some(k) = kind {
                    l["kind"] = json!(k);
                }
                l
            })
            .collect();
        let mut o = json!({"orderRef": "p-1", "customer": customer, "shipTo": {"address": address}, "lines": lines});
        if let Some(s) = speed {
            o["shipping"] = json!({"speed": s});
        }
        if let Some(d) = days {
            o["vendorOptions"] = json!({"juniper": {"daysSupply": d}});
        }
        if subscription {
            o["recurrence"] = json!("subscription");
        }
        o
    })
}

connector::generated_order_tests!(arb_order(), |body| {
    vendor_juniper::sim::validate_create(body, vendor_juniper::wire::ZipField::Zip)
});
