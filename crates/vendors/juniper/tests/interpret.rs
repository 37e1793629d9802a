#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every Juniper answer class -> canonical.

mod common;

use connector::testkit::json_answer;
use connector::{FailureClass, Outcome, VendorResponse};
use order_model::OrderStatus;
use serde_json::json;

fn sample() -> serde_json::Value {
    json!({
        "id": "2vSGym0bH8qVEwCIGlyFoRgJq1A", "discount": "10%", "daysSupply": 30, "orderType": "ONE-TIME",
        "shippingMethod": "STANDARD", "status": "CREATED",
        "fulfillmentInfo": {"carrier": "UPS", "trackingNumber": "1Z9999999999999999"},
        "lineItems": [{"productId": 77123129891i64, "quantity": 2, "packDescription": "Whole Body Wellness", "price": "0.37", "discountedPrice": "0.33"}],
        "subtotalPrice": "30.00", "totalDiscount": "27.00", "totalFees": "5.00", "totalShipping": "9.99",
        "totalVolumeDiscount": "12.10", "totalPrice": "36.99", "createdAt": "2023-10-01T12:00:00Z", "updatedAt": "2023-10-01T12:00:00Z"
    })
}

#[test]
fn a_201_keeps_every_amount_exactly_and_parses_one_dash_time() {
    let (_, o) = common::examples().remove(0);
    let v = common::route()
        .interpret(&o, &json_answer(201, sample()))
        .unwrap();
    assert_eq!(
        v.vendor_order_id.as_deref(),
        Some("2vSGym0bH8qVEwCIGlyFoRgJq1A")
    );
    assert_eq!(v.status, OrderStatus::Accepted);
    assert_eq!(v.vendor_status, "CREATED");
    let t = v.totals.unwrap();
    assert_eq!(t.subtotal.unwrap().to_string(), "30.00");
    assert_eq!(t.total.unwrap().to_string(), "36.99");
    assert_eq!(t.shipping.unwrap().to_string(), "9.99");
    assert_eq!(t.fees.unwrap().to_string(), "5.00");
    assert_eq!(t.other["totalDiscount"], "27.00");
    assert_eq!(t.other["totalVolumeDiscount"], "12.10");
    assert_eq!(v.lines[0].unit_price.unwrap().to_string(), "0.37");
    assert_eq!(v.lines[0].price_unit.as_deref(), Some("pill"));
    assert_eq!(v.lines[0].sku, o.lines[0].sku);
    assert_eq!(v.tracking[0].number, "1Z9999999999999999");
}

#[test]
fn every_status_maps() {
    let (_, o) = common::examples().remove(0);
    for (raw, want) in [
        ("CREATED", OrderStatus::Accepted),
        ("PROCESSING", OrderStatus::Processing),
        ("AWAITING_SHIPMENT", OrderStatus::Processing),
        ("SHIPPED", OrderStatus::Shipped),
        ("FULFILLED", OrderStatus::Fulfilled),
        ("CANCELLED", OrderStatus::Cancelled),
        ("ON_HOLD", OrderStatus::Unknown),
    ] {
        let mut b = sample();
        b["status"] = json!(raw);
        let v = common::route().interpret(&o, &json_answer(201, b)).unwrap();
        assert_eq!((v.status, v.vendor_status.as_str()), (want, raw));
    }
}

#[test]
fn a_400_is_a_rejection_with_a_redacted_detail() {
    let o = common::example("page-sample-one-time");
    let f = common::route()
        .interpret(
            &o,
            &json_answer(
                400,
                json!({"detail": "Customer John Doe at 437 Lytton is blocked"}),
            ),
        )
        .unwrap_err();
    assert_eq!(f.class, FailureClass::Rejected);
    let m = f.vendor.message.clone().unwrap();
    assert!(!m.contains("John") && !m.contains("Lytton"), "{m}");
    assert_eq!(f.to_problem().status, 502);
}

#[test]
fn a_422_maps_each_loc_to_the_callers_field() {
    let (_, o) = common::examples().remove(0);
    let body = json!({"detail": [
        {"loc": ["body", "customer", "address", "zip"], "type": "invalid", "msg": "bad zip"},
        {"loc": ["body", "lineItems", 0, "quantity"], "type": "invalid"}
    ]});
    let f = common::route()
        .interpret(&o, &json_answer(422, body))
        .unwrap_err();
    assert_eq!(f.class, FailureClass::Invalid);
    let p = f.to_problem();
    assert_eq!(p.status, 422);
    assert_eq!(p.errors[0].pointer, "/shipTo/address/postalCode");
    assert_eq!(p.errors[1].pointer, "/lines/0/quantity");
    assert_eq!(
        p.errors[1].vendor_code.as_deref(),
        Some("body.lineItems.0.quantity")
    );
}

#[test]
fn auth_server_errors_and_garbage() {
    let (_, o) = common::examples().remove(0);
    let r = common::route();
    assert_eq!(
        r.interpret(
            &o,
            &json_answer(401, json!({"detail": "Not authenticated"}))
        )
        .unwrap_err()
        .class,
        FailureClass::Auth
    );
    assert_eq!(
        r.interpret(&o, &json_answer(500, json!({})))
            .unwrap_err()
            .class,
        FailureClass::Failed {
            outcome: Outcome::Unknown
        }
    );
    assert_eq!(
        r.interpret(&o, &json_answer(503, json!({})))
            .unwrap_err()
            .class,
        FailureClass::Unavailable
    );
    assert_eq!(
        r.interpret(&o, &VendorResponse::new(201, "not json"))
            .unwrap_err()
            .class,
        FailureClass::BadResponse {
            outcome: Outcome::Unknown
        }
    );
    assert_eq!(
        r.interpret(&o, &VendorResponse::new(400, ""))
            .unwrap_err()
            .class,
        FailureClass::BadResponse {
            outcome: Outcome::NotCreated
        }
    );
    let f = r
        .interpret(&o, &VendorResponse::new(418, "teapot"))
        .unwrap_err();
    assert_eq!(f.vendor.http_status, Some(418));
}
