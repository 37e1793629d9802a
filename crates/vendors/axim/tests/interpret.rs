#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every Axim answer class -> canonical.

mod common;

use connector::testkit::json_answer;
use connector::{FailureClass, Outcome, VendorResponse};
use order_model::OrderStatus;
use serde_json::json;

#[test]
fn success_envelope_and_every_status() {
    let (_, o) = common::examples().remove(0);
    let r = common::route();
    for (raw, want) in [
        ("fulfilled", OrderStatus::Fulfilled),
        ("pending", OrderStatus::Pending),
        ("cancelled", OrderStatus::Cancelled),
        ("on_hold", OrderStatus::Accepted),
    ] {
        let v = r.interpret(&o, &json_answer(200, json!({"success": true, "message": "Order created successfully", "data": {"id": "656a1b2c3d4e5f6a7b8c9d0e", "orderStatus": raw}}))).unwrap();
        assert_eq!((v.status, v.vendor_status.as_str()), (want, raw));
        assert_eq!(
            v.vendor_order_id.as_deref(),
            Some("656a1b2c3d4e5f6a7b8c9d0e")
        );
    }
    // No status echoed: the status that was sent (the example's option, else the route default).
    let returned = common::example("returned-line-refund");
    let v = r
        .interpret(
            &returned,
            &json_answer(
                200,
                json!({"success": true, "data": {"id": "656a1b2c3d4e5f6a7b8c9d0e"}}),
            ),
        )
        .unwrap();
    assert_eq!(
        v.vendor_status, "cancelled",
        "the example sends orderStatus cancelled"
    );
    let plain = common::example("new-addresses-discounts-eur");
    let v = r
        .interpret(
            &plain,
            &json_answer(
                200,
                json!({"success": true, "data": {"id": "656a1b2c3d4e5f6a7b8c9d0e"}}),
            ),
        )
        .unwrap();
    assert_eq!(v.vendor_status, "pending", "the route default");
}

#[test]
fn failures() {
    let (_, o) = common::examples().remove(0);
    let r = common::route();
    let f = r
        .interpret(
            &o,
            &json_answer(
                200,
                json!({"success": false, "message": "customer blocked"}),
            ),
        )
        .unwrap_err();
    assert_eq!(
        (f.class, f.vendor.message.as_deref()),
        (FailureClass::Rejected, Some("customer blocked"))
    );
    assert_eq!(
        r.interpret(
            &o,
            &json_answer(
                400,
                json!({"success": false, "message": "\"customer\" not found"})
            )
        )
        .unwrap_err()
        .class,
        FailureClass::Rejected
    );
    assert_eq!(
        r.interpret(&o, &json_answer(401, json!({"success": false})))
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
        r.interpret(&o, &VendorResponse::new(200, "<html>"))
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
        FailureClass::Rejected
    );
}

#[test]
fn empty_bodies_and_redacted_messages() {
    let o = common::example("new-addresses-discounts-eur");
    let r = common::route();
    let f = r.interpret(&o, &VendorResponse::new(200, "")).unwrap_err();
    assert_eq!(
        (f.class, f.vendor.http_status),
        (
            FailureClass::BadResponse {
                outcome: Outcome::Unknown
            },
            Some(200)
        )
    );
    // Personal values of the order (here the billing street) never reach the caller.
    let f = r
        .interpret(
            &o,
            &json_answer(
                400,
                json!({"success": false, "message": "\"newBillingAddress.address1\" Hauptstrasse 1 is invalid"}),
            ),
        )
        .unwrap_err();
    let m = f.vendor.message.unwrap();
    assert_eq!(f.class, FailureClass::Rejected);
    assert!(!m.contains("Hauptstrasse"), "{m}");
    assert!(m.contains("newBillingAddress.address1"), "{m}");
}

#[test]
fn axim_field_names_map_back_to_canonical_pointers() {
    use vendor_axim::interpret::canonical_pointer;
    for (m, want) in [
        (
            "\"customer\" 6328113ba105cf37af7f6299 not found",
            Some("/customer/accounts/axim"),
        ),
        (
            "\"newBillingAddress.firstName\" length must be 3 to 20 characters",
            Some("/billTo/contact/firstName"),
        ),
        (
            "\"newShippingAddress.zipcode\" is required",
            Some("/shipTo/address/postalCode"),
        ),
        (
            "\"lineItems[2].price\" is required",
            Some("/lines/2/unitPrice"),
        ),
        (
            "\"lineItems[0].discounts[1].discountedAmount\" is required",
            Some("/lines/0/discounts/1/amount"),
        ),
        (
            "\"value\" must contain exactly one of [billingAddress, newBillingAddress]",
            Some("/billTo"),
        ),
        (
            "\"paymentTerm\" 6400aa11bb22cc33dd44ee56 not found",
            Some("/payment/termRef"),
        ),
        ("Product 1 variant 2 not found", None),
        ("\"", None),
        ("", None),
    ] {
        assert_eq!(canonical_pointer(m).as_deref(), want, "{m}");
    }
    let (_, o) = common::examples().remove(0);
    let f = common::route()
        .interpret(&o, &json_answer(400, json!({"success": false, "message": "\"shippingCost\" must be a positive number or zero"})))
        .unwrap_err();
    assert_eq!(f.errors.len(), 1);
    assert_eq!(f.errors[0].pointer, "/shipping/cost");
}
