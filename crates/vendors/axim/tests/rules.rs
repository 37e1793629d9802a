#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pre-validation: every Axim rule, refused with a pointer into the caller's order.

mod common;

use connector::testkit::has_code;
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "orderRef": "t-1",
        "customer": {"ref": "c1", "accounts": {"axim": "6328113ba105cf37af7f623b"}},
        "shipTo": {"addressRef": "63356b3b3a6353a69043680c"},
        "billTo": {"addressRef": "63356b3b3a6353a69043680b"},
        "payment": {"status": "unpaid"},
        "lines": [{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "1.00"}]
    })
}

fn body(v: Value) -> Value {
    let o = common::order(v);
    let route = common::route();
    common::translated(&route, &o).body_json().unwrap()
}

fn errors(v: Value) -> Vec<(String, String)> {
    common::refusal_codes(&common::order(v))
}

#[test]
fn the_base_order_uses_route_defaults_and_carries_the_order_ref() {
    let b = body(base());
    assert_eq!(b["orderStatus"], "pending");
    assert_eq!(b["paymentStatus"], "unpaid");
    assert_eq!(
        b["metaFields"],
        json!([{"label": "orderId", "value": "t-1"}])
    );
    assert!(b.get("newShippingAddress").is_none() && b.get("currency").is_none());
}

#[test]
fn object_ids_and_required_pieces_point_at_the_callers_fields() {
    let mut v = base();
    v["customer"]["accounts"]["axim"] = json!("not-an-id");
    v["shipTo"]["addressRef"] = json!("xyz");
    v["payment"] = json!({"termRef": "bad"});
    v["lines"] = json!([{"sku": "AX-WIDGET-10", "quantity": 1}, {"sku": "AX-NOPE", "quantity": 1, "unitPrice": "1"}, {"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "1", "discounts": [{"ref": "nope", "amount": "1"}]}]);
    let e = errors(v);
    for (p, c) in [
        ("/customer/accounts/axim", "pattern"),
        ("/shipTo/addressRef", "pattern"),
        ("/payment/termRef", "pattern"),
        ("/payment/status", "required"),
        ("/lines/0/unitPrice", "required"),
        ("/lines/1/sku", "unknown_sku"),
        ("/lines/2/discounts/0/ref", "pattern"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c} not in {e:?}");
    }
    let mut v = base();
    v["customer"] = json!({"ref": "c1"});
    v.as_object_mut().unwrap().remove("billTo");
    let e = errors(v);
    assert!(
        has_code(&e, "/customer/accounts/axim", "required") && has_code(&e, "/billTo", "required"),
        "{e:?}"
    );
}

#[test]
fn new_addresses_follow_the_length_rules() {
    let mut v = base();
    v["shipTo"] = json!({"contact": {"firstName": "A"}, "address": {"line1": "x".repeat(101), "city": "c", "region": "r", "postalCode": "z", "country": "US"}});
    v["billTo"] = json!({"contact": {"firstName": "Al", "lastName": "Bo"}, "address": {"line1": "l", "city": "c", "country": "US"}});
    let e = errors(v);
    for (p, c) in [
        ("/shipTo/address/line1", "max_length"),
        ("/billTo/contact/firstName", "length"),
        ("/billTo/contact/lastName", "length"),
        ("/billTo/address/region", "required"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c} not in {e:?}");
    }
}

#[test]
fn concepts_axim_cannot_honour_are_refused() {
    let mut v = base();
    v["type"] = json!("renewal");
    v["intent"] = json!("quote");
    v["shipping"] = json!({"speed": "overnight", "returnLabel": "email"});
    v["lines"] = json!([{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "1", "kind": "device", "serialNumber": "S"}]);
    let e = errors(v);
    for p in [
        "/type",
        "/intent",
        "/shipping/speed",
        "/shipping/returnLabel",
        "/lines/0/kind",
        "/lines/0/serialNumber",
    ] {
        assert!(has_code(&e, p, "unsupported"), "{p} not in {e:?}");
    }
}

#[test]
fn money_reaches_the_wire_exactly() {
    let mut v = base();
    v["lines"][0]["unitPrice"] = json!("31.84");
    v["payment"]["tax"] = json!("0.30");
    let o = common::order(v);
    let route = common::route();
    let req = common::translated(&route, &o);
    let text = String::from_utf8(req.body.unwrap().to_vec()).unwrap();
    assert!(text.contains("\"price\":31.84"), "{text}");
    assert!(text.contains("\"taxAmount\":0.3"), "{text}");
}

#[test]
fn the_order_ref_label_is_a_connection_setting_and_bad_config_is_located() {
    let o = common::order(base());
    let route = common::route_with(
        json!({"orderRefLabel": "externalRef"}),
        json!({"orderStatus": "pending"}),
    );
    let b = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(b["metaFields"][0]["label"], "externalRef");
    let catalog = std::collections::BTreeMap::from([(
        "A".to_owned(),
        json!({"productId": "x", "variantId": "636d07be0438c42bc4d455f2"}),
    )]);
    let issues = vendor_axim::connector()
        .prepare(connector::RouteConfig {
            connection: "c",
            settings: &json!({"colour": 1}),
            catalog: &catalog,
            defaults: &json!({"orderStatus": "shipped"}),
        })
        .err()
        .unwrap();
    let ptrs: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    for p in [
        "/catalog/A/productId",
        "/defaults/orderStatus",
        "/settings/colour",
    ] {
        assert!(ptrs.contains(&p), "{p} not in {ptrs:?}");
    }
}

/// Translate on an order built without the schema (as a library caller could): the
/// translator's own checks are the second line behind the gateway's schema validation.
fn errors_unchecked(v: Value) -> Vec<(String, String)> {
    common::refusal_codes(&serde_json::from_value(v).unwrap())
}

#[test]
fn negative_money_and_empty_address_fields_are_refused_even_without_the_schema() {
    let mut v = base();
    v["payment"] = json!({"status": "paid", "tax": "-1", "refunded": "-0.01"});
    v["shipping"] = json!({"cost": "-5"});
    v["lines"] = json!([{"sku": "AX-WIDGET-10", "quantity": 1, "unitPrice": "-1.00", "discounts": [{"amount": "-2"}]}]);
    v["shipTo"] = json!({"contact": {"firstName": "Dock", "phone": ""}, "address": {"line1": "", "city": "X", "region": "", "postalCode": "1", "country": ""}});
    let e = errors_unchecked(v);
    for (p, c) in [
        ("/payment/tax", "minimum"),
        ("/payment/refunded", "minimum"),
        ("/shipping/cost", "minimum"),
        ("/lines/0/unitPrice", "minimum"),
        ("/lines/0/discounts/0/amount", "minimum"),
        ("/shipTo/address/line1", "min_length"),
        // Blank after trimming is missing (connector::text): an optional field is
        // required, a required one too short; a blank optional phone is omitted.
        ("/shipTo/address/region", "required"),
        ("/shipTo/address/country", "min_length"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c}: {e:?}");
    }
    assert!(
        !e.iter().any(|(p, _)| p == "/shipTo/contact/phone"),
        "{e:?}"
    );
}

#[test]
fn vendor_options_are_typed_and_located() {
    let mut v = base();
    v["vendorOptions"] = json!({"axim": {"orderStatus": "fulfilled", "fulfilledItems": [{"items": [{"quantity": -1}]}], "bogus": 1}});
    v["lines"][0]["vendorOptions"] = json!({"axim": {"fulfilledQuantity": -3}});
    let e = errors_unchecked(v);
    for (p, c) in [
        ("/vendorOptions/axim/fulfilledItems", "invalid"),
        ("/vendorOptions/axim/bogus", "not_allowed"),
        ("/lines/0/vendorOptions/axim", "invalid"),
    ] {
        assert!(has_code(&e, p, c), "{p} {c}: {e:?}");
    }
    // Every documented Fulfilled Items field, written in the page's table order.
    let mut v = base();
    v["vendorOptions"] = json!({"axim": {"fulfilledItems": [{"fulfilledAt": "2022-10-20", "items": [{"options": [{"name": "Size", "value": "L"}], "sku": "AX-WIDGET-10", "quantity": 0, "lineItemId": "1", "metaField": {"code": "bin", "value": "A1"}}], "carrier": "UPS", "trackingNumber": "1Z", "trackingUrl": "https://track.example.com/1Z"}]}});
    let o = common::order(v);
    let route = common::route();
    let text = String::from_utf8(common::translated(&route, &o).body.unwrap().to_vec()).unwrap();
    assert!(text.contains(r#""fulfilledItems":[{"items":[{"lineItemId":"1","quantity":0,"metaField":{"code":"bin","value":"A1"},"sku":"AX-WIDGET-10","options":[{"name":"Size","value":"L"}]}],"carrier":"UPS","trackingNumber":"1Z","trackingUrl":"https://track.example.com/1Z","fulfilledAt":"2022-10-20"}]"#), "{text}");
}

fn new_addresses(v: &mut Value) {
    let addr = json!({"line1": "12/4 test st", "city": "Elizabeth", "region": "NJ", "postalCode": "07202", "country": "US"});
    v["shipTo"] =
        json!({"contact": {"firstName": "John", "lastName": "Doe"}, "address": addr.clone()});
    v["billTo"] = json!({"contact": {"firstName": "John", "lastName": "Doe"}, "address": addr});
}

/// Issue 19 item 6: `shipping.carrier` is not silently dropped when `shipping.label` is
/// set: Axim has one field for it (`shippingLabel`), so both is refused at the carrier.
#[test]
fn carrier_beside_a_label_is_refused_not_dropped() {
    let mut v = base();
    v["shipping"] = json!({"label": "Dock 4", "carrier": "UPS"});
    assert!(has_code(
        &errors(v.clone()),
        "/shipping/carrier",
        "unsupported"
    ));
    v["shipping"] = json!({"carrier": "UPS"});
    assert_eq!(body(v)["shippingLabel"], "UPS");
}

/// Issue 19 item 6: Axim's new addresses have no personal email; a contact email is
/// refused with a pointer rather than dropped.
#[test]
fn contact_emails_on_bill_to_and_ship_to_are_refused() {
    let mut v = base();
    new_addresses(&mut v);
    v["shipTo"]["contact"]["email"] = json!("john@example.com");
    v["billTo"]["contact"]["email"] = json!("john@example.com");
    let e = errors(v);
    assert!(
        has_code(&e, "/shipTo/contact/email", "unsupported"),
        "{e:?}"
    );
    assert!(
        has_code(&e, "/billTo/contact/email", "unsupported"),
        "{e:?}"
    );
}

/// Issue 19 item 6: Axim has no sites; `shipTo.kind: site` is refused like at Juniper.
#[test]
fn ship_to_kind_site_is_refused() {
    let mut v = base();
    v["shipTo"]["kind"] = json!("site");
    assert!(has_code(&errors(v), "/shipTo/kind", "unsupported"));
}

/// Issue 19 item 6: Joi refuses "" unless a field allows it; an empty metadata value is
/// omitted (blank is missing), never sent as "".
#[test]
fn empty_metadata_values_are_not_sent() {
    let mut v = base();
    v["metadata"] = json!({"costCenter": "CC-1", "empty": "", "spaces": "  "});
    assert_eq!(
        body(v)["metaFields"],
        json!([{"label": "orderId", "value": "t-1"}, {"label": "costCenter", "value": "CC-1"}])
    );
}

/// Issue 19 item 9: Axim is Node.js/Joi: lengths are UTF-16 code units. 11 emoji are 22
/// units, over the billing first name's 20.
#[test]
fn billing_name_lengths_are_counted_in_utf16_units() {
    let mut v = base();
    new_addresses(&mut v);
    v["billTo"]["contact"]["firstName"] = json!("😀".repeat(11));
    assert!(has_code(
        &errors(v.clone()),
        "/billTo/contact/firstName",
        "length"
    ));
    v["billTo"]["contact"]["firstName"] = json!("😀".repeat(10));
    assert_eq!(body(v)["newBillingAddress"]["firstName"], "😀".repeat(10));
}

/// Issue 19 item 9: the simulator counts as Joi does, too.
#[cfg(feature = "sim")]
#[test]
fn the_simulator_counts_utf16_units() {
    let mut v = base();
    new_addresses(&mut v);
    let mut b = body(v);
    b["newBillingAddress"]["firstName"] = json!("😀".repeat(11));
    let e = vendor_axim::sim::validate_create(&b).unwrap_err();
    assert!(e.contains("newBillingAddress.firstName"), "{e}");
    b["metaFields"] = json!([{"label": "orderId", "value": ""}]);
    b["newBillingAddress"]["firstName"] = json!("John");
    assert!(
        vendor_axim::sim::validate_create(&b).is_err(),
        "\"\" metaField value"
    );
}
