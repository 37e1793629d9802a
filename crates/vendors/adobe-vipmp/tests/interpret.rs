#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Adobe answers and error codes -> canonical.

mod common;

use connector::FailureClass;
use connector::testkit::json_answer;
use order_model::OrderStatus;
use serde_json::json;

#[test]
fn statuses_and_previews() {
    let o = common::example("page-sample-new");
    let r = common::route();
    for (code, want) in [
        ("1000", OrderStatus::Fulfilled),
        ("1002", OrderStatus::Pending),
        ("1004", OrderStatus::Failed),
        ("1008", OrderStatus::Cancelled),
        ("1020", OrderStatus::Failed),
        ("1022", OrderStatus::Failed),
        ("1024", OrderStatus::Failed),
        ("1026", OrderStatus::Failed),
        ("1999", OrderStatus::Unknown),
    ] {
        let v = r.interpret(&o, &json_answer(201, json!({"orderId": "0123456789", "orderType": "NEW", "status": code, "lineItems": [{"extLineItemNumber": 4, "quantity": 1, "status": code}]}))).unwrap();
        assert_eq!((v.status, v.vendor_status.as_str()), (want, code));
        assert_eq!(
            v.lines[0].sku, "ADB-CC-ALLAPPS",
            "line 4 maps back to the caller's line"
        );
    }
    let q = r
        .interpret(
            &o,
            &json_answer(
                200,
                json!({"orderId": "", "orderType": "PREVIEW", "status": "1000"}),
            ),
        )
        .unwrap();
    assert_eq!((q.status, q.vendor_order_id), (OrderStatus::Quoted, None));
}

#[test]
fn error_codes() {
    let o = common::example("page-sample-new");
    let r = common::route();
    let f = |status: u16, code: &str, details: serde_json::Value| {
        r.interpret(
            &o,
            &json_answer(
                status,
                json!({"code": code, "message": "m", "additionalDetails": details}),
            ),
        )
        .unwrap_err()
    };
    let e = f(400, "2122", json!(["line 4"]));
    assert_eq!(
        (e.class, e.code, e.errors[0].pointer.as_str()),
        (FailureClass::Invalid, Some("invalid_offer"), "/lines/0/sku")
    );
    assert_eq!(
        f(404, "2138", json!(["line 4"])).errors[0].pointer,
        "/lines/0/vendorOptions/adobe-vipmp/deploymentId"
    );
    assert_eq!(f(400, "2126", json!([])).errors[0].pointer, "/orderRef");
    let e = f(404, "2129", json!([]));
    assert_eq!(
        (e.class, e.code),
        (FailureClass::Rejected, Some("customer_not_eligible"))
    );
    for code in ["4115", "4116", "4117"] {
        assert_eq!(f(401, code, json!([])).class, FailureClass::Auth, "{code}");
    }
    let e = f(429, "4118", json!([]));
    assert_eq!(e.class, FailureClass::RateLimited);
    assert!(e.retry_after.is_some());
    assert_eq!(f(400, "4122", json!([])).class, FailureClass::Unavailable);
    assert_eq!(f(503, "5122", json!([])).class, FailureClass::Unavailable);
    assert_eq!(
        f(400, "2140", json!([])).code,
        Some("vendor_request_refused")
    );
    assert_eq!(
        f(400, "2140", json!([])).vendor.code.as_deref(),
        Some("2140")
    );
}
