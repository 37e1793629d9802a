#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pre-validation: every Juniper rule, refused with a pointer into the caller's order.

mod common;

use connector::testkit::has_code;
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "orderRef": "t-1",
        "customer": {"ref": "c1", "firstName": "Pat", "lastName": "Example"},
        "shipTo": {"address": {"line1": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}},
        "lines": [{"sku": "JH-WBW", "quantity": 1}]
    })
}

fn errors(v: Value) -> Vec<(String, String)> {
    common::refusal_codes(&common::order(v))
}

#[test]
fn the_base_order_translates() {
    let o = common::order(base());
    let route = common::route();
    let req = common::translated(&route, &o);
    let body = req.body_json().unwrap();
    assert_eq!(body["daysSupply"], 30, "route default");
    assert_eq!(body["shippingMethod"], "STANDARD", "default speed");
    assert_eq!(body["orderType"], "ONE_TIME");
    assert_eq!(body["customer"]["sourceId"], "c1");
    assert_eq!(body["customer"]["address"]["zip"], "62701");
    assert!(body["lineItems"][0].get("administration").is_none());
}

#[test]
fn address_rules_point_at_the_canonical_address() {
    let mut v = base();
    v["shipTo"]["address"] = json!({"line1": "x".repeat(101), "line2": "y".repeat(101), "line3": "z", "city": "c".repeat(51), "region": "Illinois", "postalCode": "6270", "country": "CA"});
    let e = errors(v);
    for (p, c) in [
        ("/shipTo/address/line1", "max_length"),
        ("/shipTo/address/line2", "max_length"),
        ("/shipTo/address/line3", "unsupported"),
        ("/shipTo/address/city", "max_length"),
        ("/shipTo/address/region", "pattern"),
        ("/shipTo/address/postalCode", "pattern"),
        ("/shipTo/address/country", "unsupported"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c} not in {e:?}");
    }
}

#[test]
fn concepts_juniper_cannot_honour_are_refused_not_dropped() {
    let mut v = base();
    v["type"] = json!("return");
    v["intent"] = json!("quote");
    v["returnOf"] = json!("abc");
    v["currency"] = json!("EUR");
    v["shipping"] = json!({"returnLabel": "email"});
    v["shipTo"]["kind"] = json!("site");
    v["lines"] = json!([{"sku": "JH-WBW", "quantity": 1, "direction": "return", "kind": "kit", "serialNumber": "S1", "subscriptionRef": "x"}]);
    let e = errors(v);
    for p in [
        "/type",
        "/intent",
        "/returnOf",
        "/currency",
        "/shipping/returnLabel",
        "/shipTo/kind",
        "/lines/0/direction",
        "/lines/0/kind",
        "/lines/0/serialNumber",
        "/lines/0/subscriptionRef",
    ] {
        assert!(has_code(&e, p, "unsupported"), "{p} not in {e:?}");
    }
}

#[test]
fn missing_pieces_are_required() {
    let mut v = base();
    v["customer"] = json!({"ref": "c1"});
    v["shipTo"]["address"]
        .as_object_mut()
        .unwrap()
        .remove("region");
    v["shipTo"]["address"]
        .as_object_mut()
        .unwrap()
        .remove("postalCode");
    v["lines"] =
        json!([{"sku": "JH-EXT-OMEGA3", "quantity": 1}, {"sku": "JH-NOPE", "quantity": 1}]);
    let e = errors(v);
    for (p, c) in [
        ("/customer/firstName", "required"),
        ("/customer/lastName", "required"),
        ("/shipTo/address/region", "required"),
        ("/shipTo/address/postalCode", "required"),
        ("/lines/0/description", "required"),
        ("/lines/1/sku", "unknown_sku"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c} not in {e:?}");
    }
    let mut v = base();
    v.as_object_mut().unwrap().remove("shipTo");
    assert!(has_code(&errors(v), "/shipTo", "required"));
}

#[test]
fn days_supply_needs_an_option_or_a_route_default() {
    let o = common::order(base());
    let route = common::route_with(json!({}), json!({}));
    let e = common::with_ctx(&o, |ctx| route.translate(&o, ctx)).unwrap_err();
    assert_eq!(e[0].pointer, "/vendorOptions/juniper/daysSupply");
    let mut v = base();
    v["vendorOptions"] = json!({"juniper": {"daysSupply": 60}});
    let o = common::order(v);
    let body = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(body["daysSupply"], 60);
}

#[test]
fn a_different_recipient_cannot_be_expressed() {
    let mut v = base();
    v["shipTo"]["contact"] = json!({"firstName": "Someone", "lastName": "Else"});
    let e = errors(v);
    assert!(has_code(&e, "/shipTo/contact/firstName", "unsupported"));
    assert!(has_code(&e, "/shipTo/contact/lastName", "unsupported"));
}

#[test]
fn the_zip_field_name_is_a_connection_setting() {
    let o = common::order(base());
    let route = common::route_with(json!({"zipField": "zipCode"}), json!({"daysSupply": 30}));
    let body = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(body["customer"]["address"]["zipCode"], "62701");
    assert!(body["customer"]["address"].get("zip").is_none());
}

#[test]
fn bad_route_config_is_reported_with_pointers() {
    let catalog = std::collections::BTreeMap::from([
        ("A".to_owned(), json!({"productId": "x"})),
        ("B".to_owned(), json!({"productId": 5, "colour": 1})),
    ]);
    let defaults = json!({"daysSupply": 45, "shipping": 1});
    let settings = json!({"zipField": "postcode"});
    let issues = vendor_juniper::connector()
        .prepare(connector::RouteConfig {
            connection: "c",
            settings: &settings,
            catalog: &catalog,
            defaults: &defaults,
        })
        .err()
        .unwrap();
    let ptrs: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    for p in [
        "/catalog/A",
        "/catalog/B/colour",
        "/defaults/shipping",
        "/settings",
    ] {
        assert!(ptrs.contains(&p), "{p} not in {ptrs:?}");
    }
}

fn body(v: Value) -> Value {
    let o = common::order(v);
    let route = common::route();
    common::translated(&route, &o).body_json().unwrap()
}

/// Issue 19 item 7: one whitespace rule: trim, then validate. `" CA "` and `" 94301"`
/// are accepted as CA and 94301; names, address lines and sourceId go out trimmed.
#[test]
fn values_are_trimmed_before_they_are_checked_and_sent() {
    let mut v = base();
    v["customer"] = json!({"ref": " c1 ", "firstName": " Pat ", "lastName": "Example  "});
    v["shipTo"]["address"] = json!({"line1": " 1 Main St ", "city": " Palo Alto ", "region": " ca ", "postalCode": " 94301", "country": "US"});
    let b = body(v);
    let c = &b["customer"];
    assert_eq!(c["sourceId"], "c1");
    assert_eq!(
        (c["firstName"].as_str(), c["lastName"].as_str()),
        (Some("Pat"), Some("Example"))
    );
    let a = &c["address"];
    assert_eq!(a["state"], "CA");
    assert_eq!(a["zip"], "94301");
    assert_eq!(a["line1"], "1 Main St");
    assert_eq!(a["city"], "Palo Alto");
}

/// Issue 19 item 7: blank after trimming is missing: a first name of only spaces is a
/// 422 `required` at the caller's field, never sent to Juniper (which refuses it).
#[test]
fn a_name_of_only_spaces_is_missing() {
    let mut v = base();
    v["customer"]["firstName"] = json!("   ");
    assert!(has_code(
        &errors(v.clone()),
        "/customer/firstName",
        "required"
    ));
    v["customer"]["firstName"] = json!("Pat");
    v["shipTo"]["address"]["line1"] = json!("  ");
    v["shipTo"]["address"]["city"] = json!(" ");
    let e = errors(v);
    assert!(has_code(&e, "/shipTo/address/line1", "required"), "{e:?}");
    assert!(has_code(&e, "/shipTo/address/city", "required"), "{e:?}");
}
