//! Pre-validation: every rule of the page, as 422 FieldErrors pointing into the caller's order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::collections::BTreeMap;

use connector::RouteConfig;
use connector::testkit::set_at;
use order_model::FieldError;
use serde_json::{Value, json};

fn translate(v: &Value) -> Result<Value, Vec<FieldError>> {
    let route = common::route();
    let o = common::order(v.clone());
    common::with_ctx(&o, |ctx| route.translate(&o, ctx)).map(|r| r.body_json().unwrap())
}

fn errs(v: &Value) -> Vec<FieldError> {
    match translate(v) {
        Ok(b) => panic!("expected errors, got body {b}"),
        Err(e) => e,
    }
}

fn has(errs: &[FieldError], pointer: &str, code: &str) -> FieldError {
    errs.iter()
        .find(|e| e.pointer == pointer && e.code == code)
        .cloned()
        .unwrap_or_else(|| panic!("no {code} at {pointer} in {errs:#?}"))
}

#[test]
fn existing_patient_minimal_body() {
    let body = translate(&common::base()).unwrap();
    assert_eq!(
        body,
        json!({"externalOrderIds": ["t-1"], "patient": {"id": 70001}, "orderItems": [{"count": 1, "item": {"id": 1001}}]})
    );
}

#[test]
fn connection_account_wins_over_kind_account() {
    let mut v = common::base();
    set_at(
        &mut v,
        "/customer/accounts",
        json!({"impilo": "70001", "impilo-sandbox": "70002"}),
    );
    assert_eq!(translate(&v).unwrap()["patient"], json!({"id": 70002}));
}

#[test]
fn new_patient_falls_back_to_customer_names_and_contact() {
    let mut v = common::new_patient();
    set_at(&mut v, "/customer/email", json!("pat@example.com"));
    let b = translate(&v).unwrap();
    assert_eq!(b["patient"]["firstName"], "Quinn");
    assert_eq!(b["patient"]["lastName"], "Example");
    assert_eq!(b["patient"]["email"], "pat@example.com");
    assert_eq!(b["patient"]["externalIdentifier"], "c-2");
    assert!(b["patient"].get("id").is_none());
    assert!(b["patient"].get("site").is_none());
}

#[test]
fn unknown_sku_and_bad_account() {
    let mut v = common::base();
    set_at(&mut v, "/lines/0/sku", json!("IMP-NOPE"));
    set_at(&mut v, "/customer/accounts/impilo", json!("P-12"));
    let e = errs(&v);
    has(&e, "/lines/0/sku", "unknown_sku");
    has(&e, "/customer/accounts/impilo", "invalid_format");
}

#[test]
fn catalog_kind_must_match_line_kind() {
    let mut v = common::base();
    set_at(&mut v, "/lines/0/kind", json!("kit"));
    has(&errs(&v), "/lines/0/kind", "kind_mismatch");
    let mut v = common::base();
    set_at(
        &mut v,
        "/lines/0",
        json!({"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "kit"}),
    );
    has(&errs(&v), "/lines/0/kind", "kind_mismatch");
    let mut v = common::base();
    set_at(
        &mut v,
        "/lines/0",
        json!({"sku": "IMP-KIT-STARTER", "quantity": 1, "kind": "loaner_kit"}),
    );
    has(&errs(&v), "/lines/0/kind", "kind_mismatch");
}

#[test]
fn unsupported_directions_and_concepts() {
    let mut v = common::base();
    set_at(
        &mut v,
        "/lines",
        json!([
            {"sku": "IMP-KIT-STARTER", "quantity": 1, "kind": "kit", "direction": "return"},
            {"sku": "IMP-DEV-GLUCOMETER", "quantity": 1, "kind": "device"},
            {"sku": "IMP-PK-CGM-RETURN", "quantity": 1, "kind": "packed_kit"},
            {"sku": "IMP-DEV-GLUCOMETER", "quantity": 2, "kind": "device", "direction": "return"},
            {"sku": "IMP-ITEM-LANCETS", "quantity": 1, "serialNumber": "X1", "subscriptionRef": "s"}
        ]),
    );
    set_at(&mut v, "/intent", json!("quote"));
    set_at(&mut v, "/recurrence", json!("subscription"));
    set_at(&mut v, "/returnOf", json!("123"));
    set_at(
        &mut v,
        "/shipping",
        json!({"speed": "express", "carrier": "UPS"}),
    );
    let e = errs(&v);
    has(&e, "/lines/0/direction", "unsupported");
    has(&e, "/lines/1/direction", "unsupported");
    has(&e, "/lines/2/direction", "unsupported");
    has(&e, "/lines/3/quantity", "not_allowed");
    has(&e, "/lines/4/serialNumber", "not_allowed");
    has(&e, "/lines/4/subscriptionRef", "unsupported");
    has(&e, "/intent", "unsupported");
    has(&e, "/recurrence", "unsupported");
    has(&e, "/returnOf", "unsupported");
    has(&e, "/shipping/speed", "unsupported");
    has(&e, "/shipping/carrier", "unsupported");
}

#[test]
fn renewal_and_return_type() {
    let mut v = common::base();
    set_at(&mut v, "/type", json!("renewal"));
    has(&errs(&v), "/type", "unsupported");
    let mut v = common::base();
    set_at(&mut v, "/type", json!("return"));
    has(&errs(&v), "/lines/0/direction", "not_allowed");
}

#[test]
fn shipping_option_required_with_returns_unless_label_emailed() {
    let mut v = common::base();
    set_at(&mut v, "/lines/0/direction", json!("return"));
    let e = has(&errs(&v), "/shipping/speed", "required");
    assert_eq!(
        e.vendor_code.as_deref(),
        Some(vendor_impilo::messages::SHIPPING_OPTION_REQUIRED)
    );
    set_at(&mut v, "/shipping", json!({"returnLabel": "ship"}));
    has(&errs(&v), "/shipping/speed", "required");
    set_at(&mut v, "/shipping", json!({"returnLabel": "email"}));
    assert_eq!(translate(&v).unwrap()["emailLabel"], true);
    set_at(&mut v, "/shipping", json!({"speed": "standard"}));
    assert_eq!(translate(&v).unwrap()["shippingOption"], "standard");
}

#[test]
fn route_default_shipping_option_applies() {
    let catalog = common::catalog();
    let defaults = json!({"shippingOption": "overnight"});
    let rc = RouteConfig {
        connection: "c",
        settings: &Value::Null,
        catalog: &catalog,
        defaults: &defaults,
    };
    let route = vendor_impilo::connector().prepare(rc).ok().unwrap();
    let mut v = common::base();
    set_at(&mut v, "/lines/0/direction", json!("return"));
    let o = common::order(v.clone());
    let body = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(body["shippingOption"], "overnight");
}

#[test]
fn loaner_kit_rules() {
    let loaner = json!({"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"});
    let mut v = common::base();
    set_at(&mut v, "/lines", json!([loaner, loaner]));
    let e = errs(&v);
    assert_eq!(
        has(&e, "/lines/1", "max_one_loaner_kit")
            .vendor_code
            .as_deref(),
        Some("max_one_loaner_kit")
    );
    assert!(!e.iter().any(|e| e.pointer == "/lines/0"));

    let mut v = common::base();
    set_at(
        &mut v,
        "/lines",
        json!([{"sku": "IMP-KIT-LOANER-CGM", "quantity": 2, "kind": "loaner_kit"}]),
    );
    assert_eq!(
        has(&errs(&v), "/lines/0/quantity", "qty_over_one_loaner_kit")
            .vendor_code
            .as_deref(),
        Some("qty_over_one_loaner_kit")
    );

    let mut v = common::base();
    set_at(&mut v, "/shipping", json!({"speed": "standard"}));
    set_at(
        &mut v,
        "/lines",
        json!([loaner, {"sku": "IMP-ITEM-LANCETS", "quantity": 1, "direction": "return"}]),
    );
    has(
        &errs(&v),
        "/lines/1/direction",
        "no_returns_with_loaner_kit",
    );

    let mut v = common::base();
    set_at(&mut v, "/customer", json!({"ref": "clinic"}));
    set_at(&mut v, "/shipTo", json!({"kind": "site", "siteRef": "301"}));
    set_at(&mut v, "/lines", json!([loaner]));
    has(&errs(&v), "/shipTo/kind", "no_loaner_kit_to_site");
}

#[test]
fn device_in_declared_packed_kit() {
    let mut v = common::base();
    set_at(&mut v, "/shipping", json!({"speed": "standard"}));
    set_at(
        &mut v,
        "/lines",
        json!([
            {"sku": "IMP-DEV-GLUCOMETER", "quantity": 1, "kind": "device", "direction": "return", "serialNumber": "IMP-SN-0002"},
            {"sku": "IMP-PK-CGM-RETURN", "quantity": 1, "kind": "packed_kit", "direction": "return",
             "vendorOptions": {"impilo": {"deviceSerials": ["IMP-SN-0002", "IMP-SN-0003"]}}}
        ]),
    );
    let e = has(&errs(&v), "/lines/0/serialNumber", "device_in_packed_kit");
    assert_eq!(
        e.vendor_code.as_deref(),
        Some(vendor_impilo::messages::DEVICE_IN_PACKED_KIT)
    );
}

#[test]
fn device_serials_only_on_returned_packed_kits() {
    let mut v = common::base();
    set_at(
        &mut v,
        "/lines/0/vendorOptions",
        json!({"impilo": {"deviceSerials": ["A"]}}),
    );
    has(
        &errs(&v),
        "/lines/0/vendorOptions/impilo/deviceSerials",
        "not_allowed",
    );
}

#[test]
fn destination_required() {
    let mut v = common::base();
    set_at(&mut v, "/customer", json!({"ref": "c"}));
    let e = has(&errs(&v), "/shipTo", "required");
    assert_eq!(e.vendor_code.as_deref(), Some("patient or site required"));
    set_at(&mut v, "/shipTo", json!({"kind": "site"}));
    has(&errs(&v), "/shipTo/siteRef", "required");
    set_at(
        &mut v,
        "/shipTo",
        json!({"kind": "site", "siteRef": "north"}),
    );
    has(&errs(&v), "/shipTo/siteRef", "invalid_format");
}

#[test]
fn site_and_existing_patient_refuse_inline_addresses_and_patient_site() {
    let addr = json!({"line1": "1 A St", "city": "X", "country": "US"});
    let mut v = common::base();
    set_at(
        &mut v,
        "/shipTo",
        json!({"address": addr, "siteRef": "301"}),
    );
    set_at(
        &mut v,
        "/vendorOptions",
        json!({"impilo": {"patientSiteRef": "301"}}),
    );
    let e = errs(&v);
    has(&e, "/shipTo/address", "not_allowed");
    has(&e, "/shipTo/siteRef", "not_allowed");
    has(&e, "/vendorOptions/impilo/patientSiteRef", "not_allowed");
    let mut v = common::base();
    set_at(&mut v, "/shipTo", json!({"addressRef": "a1"}));
    has(&errs(&v), "/shipTo/addressRef", "unsupported");
    let mut v = common::base();
    set_at(
        &mut v,
        "/shipTo",
        json!({"kind": "site", "siteRef": "301", "address": addr}),
    );
    has(&errs(&v), "/shipTo/address", "not_allowed");
}

#[test]
fn new_patient_fields() {
    let mut v = common::new_patient();
    set_at(&mut v, "/customer", json!({"ref": "c-2"}));
    set_at(
        &mut v,
        "/shipTo",
        json!({"contact": {"firstName": "  ", "email": "x@example.com"}, "address": {"line1": " ", "city": " ", "country": "US", "region": " "}}),
    );
    let e = errs(&v);
    for (p, vc) in [
        (
            "/shipTo/contact/firstName",
            "Must provide a non-blank string for firstName.",
        ),
        (
            "/shipTo/contact/lastName",
            "Must provide a non-blank string for lastName.",
        ),
        (
            "/shipTo/address/line1",
            "Must provide a Line One value in the Address.",
        ),
        (
            "/shipTo/address/city",
            "Must provide a City value in the Address.",
        ),
        (
            "/shipTo/address/region",
            "Must provide a State value in the Address.",
        ),
        (
            "/shipTo/address/postalCode",
            "Must provide a Zip Code value in the Address.",
        ),
    ] {
        assert_eq!(has(&e, p, "required").vendor_code.as_deref(), Some(vc));
    }
    for e in &e {
        assert!(!e.message.contains("x@example.com"));
    }
    let mut v = common::new_patient();
    set_at(
        &mut v,
        "/shipTo",
        json!({"contact": {"firstName": "A", "lastName": "B"}}),
    );
    assert_eq!(
        has(&errs(&v), "/shipTo/address", "required")
            .vendor_code
            .as_deref(),
        Some("Must provide an Address for Patient.")
    );
}

#[test]
fn bad_options() {
    let mut v = common::new_patient();
    set_at(
        &mut v,
        "/vendorOptions",
        json!({"impilo": {"patientSiteRef": 301, "other": true}, "juniper": {"daysSupply": 30}}),
    );
    let e = errs(&v);
    has(&e, "/vendorOptions/impilo/patientSiteRef", "invalid_format");
    has(&e, "/vendorOptions/impilo/other", "unknown_field");
    assert_eq!(e.len(), 2);
}

#[test]
fn ignored_fields_change_nothing() {
    let mut v = common::base();
    set_at(&mut v, "/currency", json!("USD"));
    set_at(
        &mut v,
        "/billTo",
        json!({"address": {"line1": "1 B St", "city": "Y", "country": "US"}}),
    );
    set_at(&mut v, "/payment", json!({"status": "paid"}));
    set_at(&mut v, "/placedAt", json!("2025-01-01T00:00:00Z"));
    set_at(&mut v, "/metadata", json!({"k": "v"}));
    set_at(&mut v, "/lines/0/unitPrice", json!("1.00"));
    set_at(&mut v, "/lines/0/description", json!("strips"));
    set_at(&mut v, "/lines/0/lineRef", json!("L1"));
    set_at(&mut v, "/customer/company", json!("Example Co"));
    assert_eq!(translate(&v).unwrap(), translate(&common::base()).unwrap());
}

#[test]
fn catalog_issues_point_into_the_route_config() {
    let mut catalog: BTreeMap<String, Value> = BTreeMap::new();
    catalog.insert("A".into(), json!({"itemId": "x"}));
    catalog.insert("B".into(), json!({"itemId": 1, "kitId": 2}));
    catalog.insert("C".into(), json!({"deviceId": 1, "loaner": true}));
    catalog.insert("D".into(), json!({"kitId": 1, "color": "red"}));
    catalog.insert("E".into(), json!(7));
    let defaults = json!({"shippingOption": "express", "x": 1});
    let settings = json!({"zip": 1});
    let rc = RouteConfig {
        connection: "c",
        settings: &settings,
        catalog: &catalog,
        defaults: &defaults,
    };
    let issues = vendor_impilo::connector().prepare(rc).err().unwrap();
    let ptrs: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    for p in [
        "/catalog/A/itemId",
        "/catalog/B",
        "/catalog/C/loaner",
        "/catalog/D/color",
        "/catalog/E",
        "/defaults/shippingOption",
        "/defaults/x",
        "/settings/zip",
    ] {
        assert!(ptrs.contains(&p), "{p} missing in {ptrs:?}");
    }
}

#[test]
fn connector_metadata() {
    let c = vendor_impilo::connector();
    assert_eq!(c.kind(), "impilo");
    assert_eq!(vendor_impilo::KIND, "impilo");
    assert_eq!(c.auth_kind(), connector::AuthKind::StaticHeader);
    let route = common::route();
    let o = common::order(common::base());
    let req = route.lookup(&o, "48213").unwrap();
    assert_eq!(req.path, "/api/v3/order/48213");
    assert_eq!(req.method.as_str(), "GET");
    assert!(route.lookup(&o, "../x").is_none());
}

/// Issue 19 item 1: Impilo's API reference types `orderNotes` as a list of note objects.
#[test]
fn notes_are_sent_as_a_list_of_note_objects() {
    let mut v = common::base();
    set_at(
        &mut v,
        "/notes",
        json!(["Leave at the desk.", "Call first."]),
    );
    let body = translate(&v).unwrap();
    assert_eq!(
        body["orderNotes"],
        json!([{"note": "Leave at the desk."}, {"note": "Call first."}])
    );
}

/// Issue 19 item 8: a blank name the caller sent on `customer` is reported there, not at
/// a `shipTo.contact` field the caller never sent.
#[test]
fn blank_customer_names_point_at_customer() {
    let mut v = common::new_patient();
    set_at(&mut v, "/customer/firstName", json!("   "));
    set_at(&mut v, "/customer/lastName", json!("  "));
    let e = errs(&v);
    has(&e, "/customer/firstName", "required");
    has(&e, "/customer/lastName", "required");
    assert!(
        !e.iter().any(|e| e.pointer.starts_with("/shipTo/contact")),
        "{e:#?}"
    );
    // A blank name on the ship-to contact is reported at the contact.
    let mut v = common::new_patient();
    set_at(&mut v, "/shipTo/contact", json!({"firstName": " "}));
    set_at(&mut v, "/customer/firstName", json!(" "));
    has(&errs(&v), "/shipTo/contact/firstName", "required");
}
