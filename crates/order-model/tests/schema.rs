#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use order_model::{FieldError, parse_order};
use serde_json::json;

fn errors(doc: serde_json::Value) -> Vec<FieldError> {
    parse_order(&doc).expect_err("should be invalid")
}

fn pointers(errs: &[FieldError]) -> Vec<&str> {
    errs.iter().map(|e| e.pointer.as_str()).collect()
}

#[test]
fn empty_object_lists_each_missing_field() {
    let errs = errors(json!({}));
    let p = pointers(&errs);
    for want in ["/orderRef", "/customer", "/lines"] {
        assert!(p.contains(&want), "{want} missing from {p:?}");
    }
    assert!(errs.iter().all(|e| e.code == "required"));
}

#[test]
fn every_violation_is_reported_with_a_pointer_to_the_field() {
    let errs = errors(json!({
        "orderRef": "r-1",
        "customer": {"ref": "c1", "email": "not-an-email", "nickname": "x"},
        "currency": "usd",
        "lines": [{"sku": "A", "quantity": 0, "unitPrice": 1.5}]
    }));
    let p = pointers(&errs);
    for want in [
        "/customer/email",
        "/customer/nickname",
        "/currency",
        "/lines/0/quantity",
        "/lines/0/unitPrice",
    ] {
        assert!(p.contains(&want), "{want} missing from {p:?}");
    }
    let unknown = errs
        .iter()
        .find(|e| e.pointer == "/customer/nickname")
        .unwrap();
    assert_eq!(unknown.code, "unknown_field");
}

#[test]
fn messages_never_echo_the_callers_values() {
    let errs = errors(json!({
        "orderRef": "r-1",
        "customer": {"ref": "c1", "email": "secret-person-at-example", "firstName": ""},
        "lines": [{"sku": "A", "quantity": 1}]
    }));
    for e in &errs {
        assert!(!e.message.contains("secret-person"), "{e:?}");
    }
}

#[test]
fn money_must_be_a_decimal_string() {
    for bad in [
        json!(1.5),
        json!("1.5.0"),
        json!("-1"),
        json!("1e3"),
        json!("01.0"),
    ] {
        let errs = errors(json!({
            "orderRef": "r-1", "customer": {"ref": "c1"},
            "lines": [{"sku": "A", "quantity": 1, "unitPrice": bad}]
        }));
        assert_eq!(pointers(&errs), vec!["/lines/0/unitPrice"]);
    }
    let ok = parse_order(&json!({
        "orderRef": "r-1", "customer": {"ref": "c1"},
        "lines": [{"sku": "A", "quantity": 1, "unitPrice": "31.84"}]
    }))
    .unwrap();
    assert_eq!(ok.lines[0].unit_price.unwrap().to_string(), "31.84");
}

#[test]
fn timestamps_must_be_utc() {
    let errs = errors(json!({
        "orderRef": "r-1", "customer": {"ref": "c1"}, "placedAt": "2024-01-01T10:00:00+02:00",
        "lines": [{"sku": "A", "quantity": 1}]
    }));
    assert_eq!(pointers(&errs), vec!["/placedAt"]);
}

/// Issue 19 item 3: vendor-created references have a typed, documented place in the
/// result, and the published result schema accepts exactly that shape.
#[test]
fn result_schema_documents_vendor_refs() {
    use order_model::{OrderResult, OrderStatus, VendorRef, VendorRefKind};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("order-result.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let v = order_model::SchemaValidator::new(&schema).unwrap();
    let result = OrderResult {
        id: "o-1".into(),
        order_ref: "r-1".into(),
        status: OrderStatus::Accepted,
        vendor_status: Some("CREATED".into()),
        connection: "impilo-sandbox".into(),
        vendor: "impilo".into(),
        vendor_order_id: Some("48213".into()),
        totals: None,
        lines: vec![],
        tracking: vec![],
        vendor_refs: vec![VendorRef {
            kind: VendorRefKind::Patient,
            id: "80001".into(),
        }],
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        trace_id: None,
    };
    let doc = serde_json::to_value(&result).unwrap();
    assert_eq!(
        doc["vendorRefs"],
        json!([{"kind": "patient", "id": "80001"}])
    );
    assert!(v.is_valid(&doc), "{:?}", v.violations(&doc, ""));
    let mut bad = doc.clone();
    bad["vendorRefs"][0]["kind"] = json!("spaceship");
    assert!(!v.is_valid(&bad));
}
