//! The simulator over real HTTP: auth, every message of the page (one test each: the
//! sim's status and exact text, then what `interpret` makes of that very answer), the
//! success shape, lookups, and translate -> POST -> interpret for every example.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::sync::Arc;

use connector::sim::{Fault, RunningSim, SimControl};
use connector::testkit::sim_http;
use connector::{
    FailureClass, Outcome, PreparedRoute, VendorFailure, VendorRequest, VendorResponse,
};
use order_model::{CanonicalOrder, OrderStatus};
use serde_json::{Value, json};
use vendor_impilo::messages as m;
use vendor_impilo::sim::{self as isim, DEFAULT_API_KEY};

async fn start() -> RunningSim {
    sim_http::start(isim::router, &json!({})).await
}

/// `req` with the API key under test, when one is given.
async fn send(sim: &RunningSim, req: &VendorRequest, key: Option<&str>) -> VendorResponse {
    let b = sim_http::request(&reqwest::Client::new(), sim, req);
    sim_http::response(match key {
        Some(k) => b.header("Impilo-API-Key", k),
        None => b,
    })
    .await
}

fn raw(body: &[u8]) -> VendorRequest {
    VendorRequest::post_json(
        "/api/v3/order",
        body.to_vec(),
        connector::RetrySafety::NotAfterSend,
    )
}

fn route() -> Arc<dyn PreparedRoute> {
    common::route()
}

fn translate(o: &CanonicalOrder) -> VendorRequest {
    let r = route();
    common::with_ctx(o, |ctx| r.translate(o, ctx)).unwrap_or_else(|e| panic!("translate: {e:?}"))
}

fn message(resp: &VendorResponse) -> String {
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    v["message"].as_str().unwrap().to_owned()
}

/// Sends a raw wire body; asserts 400 with the exact message; returns interpret's failure
/// for `order` (the canonical order the body stands for).
async fn raw_case(body: Value, want: &str, order: Value) -> VendorFailure {
    let sim = start().await;
    let resp = send(
        &sim,
        &raw(&serde_json::to_vec(&body).unwrap()),
        Some(DEFAULT_API_KEY),
    )
    .await;
    sim_http::assert_status(&resp, 400, "the answer");
    assert_eq!(message(&resp), want);
    assert_eq!(sim.control.count("orders_created"), 0);
    route()
        .interpret(&common::order(order.clone()), &resp)
        .unwrap_err()
}

/// Translates `order`, posts it; asserts 400 with the exact message; returns the failure.
async fn order_case(order: Value, want: &str) -> VendorFailure {
    let sim = start().await;
    let o = common::order(order.clone());
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    sim_http::assert_status(&resp, 400, "the answer");
    assert_eq!(message(&resp), want);
    route().interpret(&o, &resp).unwrap_err()
}

fn invalid_at(f: &VendorFailure, pointer: &str) {
    assert_eq!(f.class, FailureClass::Invalid, "{f:?}");
    assert_eq!(f.problem_code().status(), 422);
    assert!(
        f.errors.iter().any(|e| e.pointer == pointer),
        "no error at {pointer}: {:?}",
        f.errors
    );
}

fn rejected(f: &VendorFailure, code: &str, pointer: Option<&str>) {
    assert_eq!(f.class, FailureClass::Rejected, "{f:?}");
    assert_eq!(f.code, Some(code));
    assert_eq!(f.to_problem().code, code);
    assert_eq!(f.outcome(), Outcome::NotCreated);
    if let Some(p) = pointer {
        assert!(
            f.errors.iter().any(|e| e.pointer == p),
            "no error at {p}: {:?}",
            f.errors
        );
    }
}

fn item(id: u64, n: u32) -> Value {
    json!({"count": n, "item": {"id": id}})
}

fn loaner_order(lines: Value) -> Value {
    json!({"orderRef": "t", "customer": {"ref": "c", "accounts": {"impilo": "70001"}}, "shipping": {"speed": "standard"}, "lines": lines})
}

fn new_patient_body(patch: Value) -> Value {
    let mut p = json!({"firstName": "Pat", "lastName": "Example", "address": {"lineOne": "1 Example Way", "city": "Springfield", "state": "IL", "zipCode": "62701", "country": "US"}});
    for (k, v) in patch.as_object().unwrap() {
        if k == "address" && v.is_object() {
            for (ak, av) in v.as_object().unwrap() {
                p["address"][ak] = av.clone();
            }
        } else {
            p[k] = v.clone();
        }
    }
    json!({"externalOrderIds": ["t-2"], "patient": p, "orderItems": [item(1001, 1)]})
}

// ---- Order structure ----

#[tokio::test]
async fn msg_no_content() {
    let f = raw_case(
        json!({"externalOrderIds": ["t-1"], "patient": {"id": 70001}}),
        m::NO_CONTENT,
        common::base(),
    )
    .await;
    invalid_at(&f, "/lines");
    assert_eq!(f.errors[0].vendor_code.as_deref(), Some(m::NO_CONTENT));
}

#[tokio::test]
async fn msg_shipping_option_required() {
    let mut o = common::base();
    o["lines"][0]["direction"] = json!("return");
    let body = json!({"externalOrderIds": ["t-1"], "patient": {"id": 70001}, "returnItems": [item(1001, 1)], "emailLabel": false});
    let f = raw_case(body, m::SHIPPING_OPTION_REQUIRED, o).await;
    invalid_at(&f, "/shipping/speed");
    assert_eq!(f.errors[0].code, "required");
}

#[tokio::test]
async fn msg_patient_or_site_required() {
    let f = raw_case(
        json!({"externalOrderIds": ["t-1"], "orderItems": [item(1001, 1)]}),
        m::PATIENT_OR_SITE_REQUIRED,
        common::base(),
    )
    .await;
    invalid_at(&f, "/shipTo");
}

// ---- Inventory & items ----

#[tokio::test]
async fn msg_insufficient_inventory() {
    let mut o = common::base();
    o["lines"][0]["sku"] = json!("IMP-ITEM-BACKORDERED-TAPE");
    let f = order_case(o, m::INSUFFICIENT_INVENTORY).await;
    rejected(&f, "insufficient_inventory", None);
    assert_eq!(f.vendor.code.as_deref(), Some("insufficient_inventory"));
    assert_eq!(f.vendor.http_status, Some(400));
}

#[tokio::test]
async fn insufficient_inventory_after_stock_runs_out() {
    let sim = start().await;
    let mut o = common::base();
    o["lines"][0] = json!({"sku": "IMP-KIT-LAST-ONE", "quantity": 1, "kind": "kit"});
    let o = common::order(o.clone());
    let first = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    assert_eq!(first.status, 201);
    let second = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    assert_eq!(second.status, 400);
    assert_eq!(message(&second), m::INSUFFICIENT_INVENTORY);
    rejected(
        &route().interpret(&o, &second).unwrap_err(),
        "insufficient_inventory",
        None,
    );
    assert_eq!(sim.control.count("orders_created"), 1);
}

#[tokio::test]
async fn msg_items_non_orderable() {
    let mut o = common::base();
    o["lines"][0]["sku"] = json!("IMP-ITEM-RECALLED-SENSOR");
    rejected(
        &order_case(o, m::ITEMS_NON_ORDERABLE).await,
        "item_not_orderable",
        None,
    );
}

#[tokio::test]
async fn msg_item_not_orderable() {
    let mut o = common::base();
    o["lines"][0] = json!({"sku": "IMP-KIT-DISCONTINUED", "quantity": 1, "kind": "kit"});
    let f = order_case(o, m::ITEM_NOT_ORDERABLE).await;
    rejected(&f, "item_not_orderable", None);
    assert_eq!(f.vendor.code.as_deref(), Some("item_not_orderable"));
}

// ---- Loaner kit rules ----

#[tokio::test]
async fn msg_max_one_loaner_kit() {
    let body = json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderKits": [{"count": 1, "kit": {"id": 2002}}, {"count": 1, "kit": {"id": 2002}}]});
    let l = json!({"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"});
    let f = raw_case(body, m::MAX_ONE_LOANER_KIT, loaner_order(json!([l, l]))).await;
    invalid_at(&f, "/lines/1");
    assert_eq!(f.errors[0].code, "max_one_loaner_kit");
    assert_eq!(f.vendor.code.as_deref(), Some("max_one_loaner_kit"));
}

#[tokio::test]
async fn msg_qty_over_one_loaner_kit() {
    let body = json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderKits": [{"count": 2, "kit": {"id": 2002}}]});
    let f = raw_case(
        body,
        m::QTY_OVER_ONE_LOANER_KIT,
        loaner_order(json!([{"sku": "IMP-KIT-LOANER-CGM", "quantity": 2, "kind": "loaner_kit"}])),
    )
    .await;
    invalid_at(&f, "/lines/0/quantity");
}

#[tokio::test]
async fn msg_no_returns_with_loaner_kit() {
    let body = json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderKits": [{"count": 1, "kit": {"id": 2002}}], "returnItems": [item(1001, 1)], "shippingOption": "standard"});
    let o = loaner_order(
        json!([{"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"}, {"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1, "direction": "return"}]),
    );
    let f = raw_case(body, m::NO_RETURNS_WITH_LOANER_KIT, o).await;
    invalid_at(&f, "/lines/1/direction");
}

#[tokio::test]
async fn msg_no_loaner_kit_to_site() {
    let body = json!({"externalOrderIds": ["t"], "site": {"id": 301}, "orderKits": [{"count": 1, "kit": {"id": 2002}}]});
    let o = json!({"orderRef": "t", "customer": {"ref": "c"}, "shipTo": {"kind": "site", "siteRef": "301"}, "lines": [{"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"}]});
    let f = raw_case(body, m::NO_LOANER_KIT_TO_SITE, o).await;
    invalid_at(&f, "/shipTo/kind");
}

// ---- Returns ----

#[tokio::test]
async fn msg_device_in_packed_kit() {
    // The caller did not declare the packed kit's contents, so only Impilo can tell.
    let o = json!({"orderRef": "t", "customer": {"ref": "c", "accounts": {"impilo": "70001"}}, "shipping": {"speed": "standard"}, "lines": [
        {"sku": "IMP-DEV-GLUCOMETER", "quantity": 1, "kind": "device", "direction": "return", "serialNumber": "IMP-SN-0002"},
        {"sku": "IMP-PK-CGM-RETURN", "quantity": 1, "kind": "packed_kit", "direction": "return"}
    ]});
    let f = order_case(o, m::DEVICE_IN_PACKED_KIT).await;
    invalid_at(&f, "/lines/0/serialNumber");
    assert_eq!(f.errors[0].code, "device_in_packed_kit");
}

#[tokio::test]
async fn device_by_id_inside_packed_kit_is_refused_too() {
    let body = json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "shippingOption": "standard", "returnDevices": [{"device": {"id": 5004}}], "returnPackedKits": [{"count": 1, "packedKit": {"id": 4002}}]});
    let o = json!({"orderRef": "t", "customer": {"ref": "c", "accounts": {"impilo": "70001"}}, "shipping": {"speed": "standard"}, "lines": [
        {"sku": "IMP-DEV-SPARE-READER", "quantity": 1, "kind": "device", "direction": "return"},
        {"sku": "IMP-PK-CGM-RETURN", "quantity": 1, "kind": "packed_kit", "direction": "return"}
    ]});
    invalid_at(
        &raw_case(body, m::DEVICE_IN_PACKED_KIT, o).await,
        "/lines/0",
    );
}

// ---- Patient / site validation ----

#[tokio::test]
async fn msg_patient_does_not_exist() {
    let mut o = common::base();
    o["customer"]["accounts"]["impilo"] = json!("79999");
    rejected(
        &order_case(o, m::PATIENT_DOES_NOT_EXIST).await,
        "patient_not_found",
        Some("/customer/accounts/impilo"),
    );
}

#[tokio::test]
async fn msg_invalid_order() {
    let mut o = common::base();
    o["customer"]["accounts"]["impilo"] = json!("70003");
    let f = order_case(o, m::INVALID_ORDER).await;
    rejected(&f, "customer_or_site_invalid", None);
    assert_eq!(f.vendor.code.as_deref(), Some("invalid_order"));
}

// ---- New patient creation ----

#[tokio::test]
async fn msg_patient_required() {
    let body = json!({"externalOrderIds": ["t"], "patient": {}, "orderItems": [item(1001, 1)]});
    invalid_at(
        &raw_case(body, m::PATIENT_REQUIRED, common::new_patient()).await,
        "/shipTo",
    );
}

#[tokio::test]
async fn msg_first_name() {
    let f = raw_case(
        new_patient_body(json!({"firstName": "  "})),
        m::FIRST_NAME,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/contact/firstName");
}

#[tokio::test]
async fn msg_last_name() {
    let f = raw_case(
        new_patient_body(json!({"lastName": ""})),
        m::LAST_NAME,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/contact/lastName");
}

#[tokio::test]
async fn msg_address_required() {
    let f = raw_case(
        new_patient_body(json!({"address": null})),
        m::ADDRESS_REQUIRED,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address");
}

#[tokio::test]
async fn msg_site_not_found() {
    let o = json!({"orderRef": "t", "customer": {"ref": "c"}, "shipTo": {"kind": "site", "siteRef": "399"}, "lines": [{"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1}]});
    let f = order_case(o, "Site 399 not found").await;
    rejected(&f, "site_not_found", Some("/shipTo/siteRef"));
    assert_eq!(f.vendor.message.as_deref(), Some("Site 399 not found"));
}

#[tokio::test]
async fn msg_site_not_active() {
    let o = json!({"orderRef": "t", "customer": {"ref": "c"}, "shipTo": {"kind": "site", "siteRef": "302"}, "lines": [{"sku": "IMP-ITEM-TEST-STRIPS", "quantity": 1}]});
    rejected(
        &order_case(o, "Site 302 not active").await,
        "site_inactive",
        Some("/shipTo/siteRef"),
    );
}

#[tokio::test]
async fn msg_unable_to_find_site() {
    let mut o = common::new_patient();
    o["vendorOptions"] = json!({"impilo": {"patientSiteRef": "302"}});
    rejected(
        &order_case(o, m::SITE_UNABLE_TO_FIND).await,
        "site_not_found",
        Some("/vendorOptions/impilo/patientSiteRef"),
    );
}

#[tokio::test]
async fn msg_line_one() {
    let f = raw_case(
        new_patient_body(json!({"address": {"lineOne": " "}})),
        m::LINE_ONE,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address/line1");
}

#[tokio::test]
async fn msg_city() {
    let f = raw_case(
        new_patient_body(json!({"address": {"city": null}})),
        m::CITY,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address/city");
}

#[tokio::test]
async fn msg_state() {
    let f = raw_case(
        new_patient_body(json!({"address": {"state": ""}})),
        m::STATE,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address/region");
}

#[tokio::test]
async fn msg_country() {
    let f = raw_case(
        new_patient_body(json!({"address": {"country": null}})),
        m::COUNTRY,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address/country");
}

#[tokio::test]
async fn msg_zip_code() {
    let f = raw_case(
        new_patient_body(json!({"address": {"zipCode": null}})),
        m::ZIP_CODE,
        common::new_patient(),
    )
    .await;
    invalid_at(&f, "/shipTo/address/postalCode");
}

// ---- Request format ----

#[tokio::test]
async fn msg_invalid_json() {
    let sim = start().await;
    let resp = send(
        &sim,
        &raw(b"{\"externalOrderIds\": [\"t\""),
        Some(DEFAULT_API_KEY),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(message(&resp), m::INVALID_JSON);
    let f = route()
        .interpret(&common::order(common::base()), &resp)
        .unwrap_err();
    assert_eq!(
        f.class,
        FailureClass::Failed {
            outcome: Outcome::NotCreated
        }
    );
    assert_eq!(f.code, Some("vendor_request_unreadable"));
}

#[tokio::test]
async fn msg_invalid_data() {
    let f = raw_case(json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderItems": [{"count": "two", "item": {"id": 1001}}]}), m::INVALID_DATA, common::base()).await;
    invalid_at(&f, "");
    assert_eq!(f.errors[0].code, "vendor_data_invalid");
}

#[tokio::test]
async fn invalid_data_for_both_patient_and_site_and_zero_counts() {
    raw_case(json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "site": {"id": 301}, "orderItems": [item(1001, 1)]}), m::INVALID_DATA, common::base()).await;
    raw_case(
        json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderItems": [item(1001, 0)]}),
        m::INVALID_DATA,
        common::base(),
    )
    .await;
}

/// Issue 19 item 1: the simulator refuses `orderNotes` as one string, as Impilo's API
/// reference (a list of note objects) says the vendor would.
#[tokio::test]
async fn order_notes_as_a_string_is_invalid_data() {
    raw_case(
        json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderItems": [item(1001, 1)], "orderNotes": "one string"}),
        m::INVALID_DATA,
        common::base(),
    )
    .await;
    raw_case(
        json!({"externalOrderIds": ["t"], "patient": {"id": 70001}, "orderItems": [item(1001, 1)], "orderNotes": [{"note": ""}]}),
        m::INVALID_DATA,
        common::base(),
    )
    .await;
}

/// Contract drift: an answer that adds, drops and renames fields is reported by path
/// (never values), and the order is still read where the meaning is clear.
#[tokio::test]
async fn drifted_answers_are_reported_and_still_read() {
    use connector::{Drift, DriftKind};
    let sim = start().await;
    sim.control.push_fault(Fault::Reshape {
        path: None,
        add: [("/priority".to_owned(), json!("high"))].into(),
        drop: vec!["/devices".to_owned()],
        rename: [("/trackingNumbers".to_owned(), "/tracking".to_owned())].into(),
    });
    let o = common::order(common::base());
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    assert_eq!(resp.status, 201);
    let out = route().interpret_checked(&o, &resp);
    let vo = out.result.unwrap();
    assert_eq!(vo.status, OrderStatus::Accepted);
    assert!(vo.vendor_order_id.is_some());
    assert_eq!(
        out.drift,
        vec![
            Drift::new(DriftKind::UnknownField, "priority"),
            Drift::new(DriftKind::UnknownField, "tracking"),
            Drift::new(DriftKind::MissingField, "devices"),
            Drift::new(DriftKind::MissingField, "trackingNumbers"),
        ]
    );
    // A status outside the crate's list, and an error body of another shape.
    sim.control
        .push_fault(Fault::set_field("/currentStatus", json!("TELEPORTED")));
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    let out = route().interpret_checked(&o, &resp);
    assert!(out.result.is_ok());
    assert_eq!(
        out.drift,
        vec![Drift::new(DriftKind::UnexpectedValue, "currentStatus")]
    );
    sim.control.push_fault(Fault::Status {
        path: None,
        status: 400,
        body: json!({"errors": [{"detail": m::INSUFFICIENT_INVENTORY}]}),
        retry_after: None,
    });
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    let out = route().interpret_checked(&o, &resp);
    assert!(out.result.is_err());
    assert_eq!(out.drift, vec![Drift::new(DriftKind::ErrorShape, "")]);
}

// ---- Auth ----

#[tokio::test]
async fn unauthorized_keys() {
    let sim = start().await;
    let o = common::order(common::base());
    for key in [None, Some("wrong"), Some(isim::EXPIRED_KEY)] {
        let resp = send(&sim, &translate(&o), key).await;
        assert_eq!(resp.status, 401, "{key:?}");
        let f = route().interpret(&o, &resp).unwrap_err();
        assert_eq!(f.class, FailureClass::Auth);
        assert_eq!(f.to_problem().code, "vendor_auth");
    }
    assert_eq!(sim.control.count("orders_created"), 0);
}

async fn forbidden(key: &str, msg: &str, code: &str) {
    let sim = start().await;
    let o = common::order(common::base());
    let resp = send(&sim, &translate(&o), Some(key)).await;
    assert_eq!(resp.status, 403);
    assert_eq!(message(&resp), msg);
    let f = route().interpret(&o, &resp).unwrap_err();
    assert_eq!(f.class, FailureClass::Forbidden);
    assert_eq!(f.code, Some(code));
    assert_eq!(f.vendor.message.as_deref(), Some(msg));
    assert_eq!(f.to_problem().status, 502);
}

#[tokio::test]
async fn msg_access_denied() {
    forbidden(isim::READONLY_KEY, m::ACCESS_DENIED, "vendor_access_denied").await;
}

#[tokio::test]
async fn msg_feature_disabled() {
    forbidden(
        isim::DISABLED_FEATURE_KEY,
        m::FEATURE_DISABLED,
        "vendor_feature_disabled",
    )
    .await;
}

#[tokio::test]
async fn msg_resource_forbidden() {
    forbidden(
        isim::RESTRICTED_KEY,
        m::RESOURCE_FORBIDDEN,
        "vendor_resource_forbidden",
    )
    .await;
}

#[tokio::test]
async fn custom_api_key_setting() {
    let sim = sim_http::start(isim::router, &json!({"apiKey": "k-123"})).await;
    let o = common::order(common::base());
    assert_eq!(
        send(&sim, &translate(&o), Some(DEFAULT_API_KEY))
            .await
            .status,
        401
    );
    assert_eq!(send(&sim, &translate(&o), Some("k-123")).await.status, 201);
    assert!(isim::router(&json!({"nope": 1}), SimControl::new()).is_err());
    assert!(isim::router(&Value::Null, SimControl::new()).is_ok());
}

// ---- Success, lookup, faults ----

#[tokio::test]
async fn every_example_round_trips() {
    let sim = start().await;
    let r = route();
    for (name, o) in common::examples() {
        let req = translate(&o);
        let resp = send(&sim, &req, Some(DEFAULT_API_KEY)).await;
        sim_http::assert_status(&resp, 201, &name);
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        assert!(body["id"].is_u64(), "{name}");
        assert_eq!(body["externalOrderIds"], json!([o.order_ref]), "{name}");
        assert_eq!(body["currentStatus"], "CREATED");
        for k in ["orderEvents", "trackingNumbers", "devices", "packedKits"] {
            assert!(body[k].is_array(), "{name}: {k}");
        }
        assert!(
            body.get("patient").is_some() != body.get("site").is_some(),
            "{name}"
        );
        let got = r.interpret(&o, &resp).unwrap();
        assert_eq!(got.status, OrderStatus::Accepted);
        assert_eq!(got.vendor_status, "CREATED");
        let id = got.vendor_order_id.clone().unwrap();
        assert_eq!(id, body["id"].as_u64().unwrap().to_string());
        assert!(got.vendor_created_at.is_some());
        // Read it back (a read-only key may read).
        let look = r.lookup(&o, &id).unwrap();
        let back = send(&sim, &look, Some(isim::READONLY_KEY)).await;
        assert_eq!(back.status, 200, "{name}");
        assert_eq!(
            r.interpret_lookup(&o, &back).unwrap().vendor_order_id,
            Some(id)
        );
    }
    assert_eq!(
        sim.control.count("orders_created"),
        common::examples().len() as u64
    );
}

#[tokio::test]
async fn order_ids_are_sequential_integers() {
    let sim = start().await;
    let o = common::order(common::base());
    let a: Value =
        serde_json::from_slice(&send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await.body)
            .unwrap();
    let b: Value =
        serde_json::from_slice(&send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await.body)
            .unwrap();
    assert_eq!(a["id"], json!(isim::FIRST_ORDER_ID));
    assert_eq!(b["id"], json!(isim::FIRST_ORDER_ID + 1));
    assert_eq!(a["patient"]["id"], json!(70001));
}

#[tokio::test]
async fn new_patient_is_created_inline() {
    let sim = start().await;
    let o = common::order(common::new_patient());
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    assert_eq!(resp.status, 201);
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    assert!(body["patient"]["id"].as_u64().unwrap() >= 80_001);
    assert_eq!(body["patient"]["externalIdentifier"], "c-2");
}

#[tokio::test]
async fn lookup_unknown_order_and_auth() {
    let sim = start().await;
    let r = route();
    let o = common::order(common::base());
    let req = r.lookup(&o, "999999").unwrap();
    let resp = send(&sim, &req, Some(DEFAULT_API_KEY)).await;
    assert_eq!(resp.status, 404);
    let f = r.interpret_lookup(&o, &resp).unwrap_err();
    assert_eq!(f.code, Some("vendor_order_not_found"));
    assert_eq!(send(&sim, &req, Some(isim::EXPIRED_KEY)).await.status, 401);
    assert_eq!(
        send(&sim, &req, Some(isim::DISABLED_FEATURE_KEY))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn server_error_is_an_unknown_outcome() {
    let sim = start().await;
    sim.control.push_fault(Fault::Status {
        path: Some("/api/v3/order".into()),
        status: 500,
        body: json!({"message": "boom"}),
        retry_after: None,
    });
    let o = common::order(common::base());
    let resp = send(&sim, &translate(&o), Some(DEFAULT_API_KEY)).await;
    assert_eq!(resp.status, 500);
    let f = route().interpret(&o, &resp).unwrap_err();
    assert_eq!(
        f.class,
        FailureClass::Failed {
            outcome: Outcome::Unknown
        }
    );
}
