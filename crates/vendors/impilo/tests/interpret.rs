//! interpret / interpret_lookup for every answer class, without HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use connector::{FailureClass, Outcome, VendorFailure, VendorResponse};
use order_model::{OrderStatus, VendorOrder};
use serde_json::{Value, json};
use vendor_impilo::interpret::ImpiloStatus;

fn ok(status: u16, body: Value) -> VendorOrder {
    let o = common::order(common::base());
    common::route()
        .interpret(
            &o,
            &VendorResponse::new(status, serde_json::to_vec(&body).unwrap()),
        )
        .unwrap()
}

fn fail_bytes(order: &Value, status: u16, body: &[u8]) -> VendorFailure {
    let o = common::order(order.clone());
    common::route()
        .interpret(&o, &VendorResponse::new(status, body.to_vec()))
        .unwrap_err()
}

fn fail(status: u16, body: &[u8]) -> VendorFailure {
    fail_bytes(&common::base(), status, body)
}

#[test]
fn every_status_value_maps() {
    let cases = [
        ("CREATED", OrderStatus::Accepted),
        ("PENDING", OrderStatus::Pending),
        ("ON_HOLD", OrderStatus::Pending),
        ("PROCESSING", OrderStatus::Processing),
        ("SHIPPED", OrderStatus::Shipped),
        ("In Transit", OrderStatus::Shipped),
        ("DELIVERED", OrderStatus::Fulfilled),
        ("COMPLETED", OrderStatus::Fulfilled),
        ("RETURNED", OrderStatus::Fulfilled),
        ("CANCELLED", OrderStatus::Cancelled),
        ("canceled", OrderStatus::Cancelled),
        ("FAILED", OrderStatus::Failed),
        ("AWAITING_PIGEON", OrderStatus::Accepted),
    ];
    for (raw, want) in cases {
        let got = ok(201, json!({"id": 48213, "currentStatus": raw}));
        assert_eq!(got.status, want, "{raw}");
        assert_eq!(got.vendor_status, raw);
        assert_eq!(got.vendor_order_id.as_deref(), Some("48213"));
    }
    assert_eq!(
        ImpiloStatus::parse("AWAITING_PIGEON"),
        ImpiloStatus::Other("AWAITING_PIGEON".into())
    );
}

#[test]
fn full_success_shape() {
    let got = ok(
        201,
        json!({
            "id": 48213, "externalOrderIds": ["t-1"], "patient": {"id": 70001},
            "currentStatus": {"status": "SHIPPED"},
            "orderEvents": [{"status": "CREATED", "createdAt": "2025-03-01T10:00:00+02:00"}],
            "trackingNumbers": ["1Z999", {"trackingNumber": "794", "carrier": "FedEx", "url": "https://example.com/t/794"}, 7],
            "devices": [], "packedKits": []
        }),
    );
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(got.vendor_status, "SHIPPED");
    assert_eq!(got.tracking.len(), 2);
    assert_eq!(got.tracking[0].number, "1Z999");
    assert_eq!(got.tracking[1].carrier.as_deref(), Some("FedEx"));
    assert_eq!(
        got.vendor_created_at.as_deref(),
        Some("2025-03-01T08:00:00Z")
    );
}

#[test]
fn id_as_digit_string_and_missing_status() {
    let got = ok(201, json!({"id": "48213"}));
    assert_eq!(got.vendor_order_id.as_deref(), Some("48213"));
    assert_eq!(got.status, OrderStatus::Accepted);
    assert_eq!(got.vendor_status, "");
}

#[test]
fn unreadable_success_is_bad_response_unknown() {
    for body in [
        &b""[..],
        b"not json",
        b"{}",
        b"{\"id\": \"abc\"}",
        b"{\"id\": -1}",
        b"[1]",
        b"{\"id\": 1, \"trackingNumbers\": 5}",
    ] {
        let f = fail(201, body);
        assert_eq!(
            f.class,
            FailureClass::BadResponse {
                outcome: Outcome::Unknown
            },
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(f.vendor.http_status, Some(201));
    }
}

#[test]
fn error_body_shapes() {
    for body in [
        json!({"message": "insufficient_inventory"}).to_string(),
        json!({"error": "insufficient_inventory"}).to_string(),
        json!({"error": {"message": "insufficient_inventory"}}).to_string(),
        json!("insufficient_inventory").to_string(),
        "insufficient_inventory".to_owned(),
        "insufficient_inventory - No fulfillment site has enough inventory".to_owned(),
    ] {
        let f = fail(400, body.as_bytes());
        assert_eq!(f.class, FailureClass::Rejected, "{body}");
        assert_eq!(f.code, Some("insufficient_inventory"), "{body}");
    }
}

#[test]
fn unreadable_400_is_bad_response_not_created() {
    for body in [&b""[..], b"   ", b"{\"foo\": 1}", b"{broken", b"[]"] {
        let f = fail(400, body);
        assert_eq!(
            f.class,
            FailureClass::BadResponse {
                outcome: Outcome::NotCreated
            },
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(f.vendor.http_status, Some(400));
    }
}

#[test]
fn unknown_400_message_is_a_plain_rejection() {
    let f = fail(400, br#"{"message": "Something new happened"}"#);
    assert_eq!(f.class, FailureClass::Rejected);
    assert_eq!(f.code, None);
    assert_eq!(f.to_problem().code, "vendor_rejected");
    assert_eq!(f.vendor.message.as_deref(), Some("Something new happened"));
}

#[test]
fn messages_are_redacted() {
    let order = common::new_patient();
    let f = fail_bytes(
        &order,
        400,
        br#"{"message": "Patient Quinn Example at 1 Example Way is odd"}"#,
    );
    let msg = f.vendor.message.unwrap();
    assert!(
        !msg.contains("Quinn") && !msg.contains("1 Example Way"),
        "{msg}"
    );
}

/// The orders the page's messages are read against.
struct Orders {
    base: Value,
    np: Value,
    loaners: Value,
    site: Value,
}

fn orders() -> Orders {
    Orders {
        base: common::base(),
        np: common::new_patient(),
        loaners: json!({"orderRef": "t", "customer": {"ref": "c", "accounts": {"impilo": "70001"}}, "shipping": {"speed": "standard"}, "lines": [
            {"sku": "IMP-KIT-LOANER-CGM", "quantity": 2, "kind": "loaner_kit"},
            {"sku": "IMP-KIT-LOANER-CGM", "quantity": 1, "kind": "loaner_kit"},
            {"sku": "IMP-ITEM-LANCETS", "quantity": 1, "direction": "return"},
            {"sku": "IMP-DEV-GLUCOMETER", "quantity": 1, "kind": "device", "direction": "return", "serialNumber": "S"}
        ]}),
        site: json!({"orderRef": "t", "customer": {"ref": "c"}, "shipTo": {"kind": "site", "siteRef": "9"}, "lines": [{"sku": "IMP-ITEM-LANCETS", "quantity": 1}]}),
    }
}

/// (order, message, class, canonical code, first pointer): the message in a 400 answer
/// to that order reads as that failure.
fn assert_classified(cases: Vec<(&Value, &str, FailureClass, Option<&str>, Option<&str>)>) {
    for (order, msg, class, code, pointer) in cases {
        let f = fail_bytes(order, 400, json!({"message": msg}).to_string().as_bytes());
        assert_eq!(f.class, class, "{msg}");
        assert_eq!(f.code, code, "{msg}");
        assert_eq!(f.vendor.message.as_deref(), Some(msg));
        if let Some(p) = pointer {
            assert_eq!(
                f.errors.first().map(|e| e.pointer.as_str()),
                Some(p),
                "{msg}: {:?}",
                f.errors
            );
        }
        for e in &f.errors {
            assert!(e.vendor_code.is_some(), "{msg}: {e:?}");
        }
    }
}

#[test]
fn every_page_field_message_points_at_the_field() {
    use vendor_impilo::messages as m;
    let Orders {
        base,
        np,
        loaners,
        site,
    } = orders();
    // (order, message, first pointer) of the messages that name a field to fix.
    let cases: Vec<(&Value, &str, &str)> = vec![
        (&base, m::NO_CONTENT, "/lines"),
        (&base, m::SHIPPING_OPTION_REQUIRED, "/shipping/speed"),
        (&base, m::PATIENT_OR_SITE_REQUIRED, "/shipTo"),
        (&loaners, m::MAX_ONE_LOANER_KIT, "/lines/1"),
        (&loaners, m::QTY_OVER_ONE_LOANER_KIT, "/lines/0/quantity"),
        (
            &loaners,
            m::NO_RETURNS_WITH_LOANER_KIT,
            "/lines/2/direction",
        ),
        (&site, m::NO_LOANER_KIT_TO_SITE, "/shipTo/kind"),
        (&loaners, m::DEVICE_IN_PACKED_KIT, "/lines/3/serialNumber"),
        (&np, m::PATIENT_REQUIRED, "/shipTo"),
        (&np, m::FIRST_NAME, "/shipTo/contact/firstName"),
        (&np, m::LAST_NAME, "/shipTo/contact/lastName"),
        (&np, m::ADDRESS_REQUIRED, "/shipTo/address"),
        (&np, m::LINE_ONE, "/shipTo/address/line1"),
        (&np, m::CITY, "/shipTo/address/city"),
        (&np, m::STATE, "/shipTo/address/region"),
        (&np, m::COUNTRY, "/shipTo/address/country"),
        (&np, m::ZIP_CODE, "/shipTo/address/postalCode"),
        (&base, m::INVALID_DATA, ""),
    ];
    assert_classified(
        cases
            .into_iter()
            .map(|(o, msg, p)| (o, msg, FailureClass::Invalid, None, Some(p)))
            .collect(),
    );
}

#[test]
fn every_page_order_message_is_classified() {
    use vendor_impilo::messages as m;
    let Orders { base, np, site, .. } = orders();
    assert_classified(vec![
        (
            &base,
            m::INSUFFICIENT_INVENTORY,
            FailureClass::Rejected,
            Some("insufficient_inventory"),
            None,
        ),
        (
            &base,
            m::ITEMS_NON_ORDERABLE,
            FailureClass::Rejected,
            Some("item_not_orderable"),
            None,
        ),
        (
            &base,
            m::ITEM_NOT_ORDERABLE,
            FailureClass::Rejected,
            Some("item_not_orderable"),
            None,
        ),
        (
            &base,
            m::PATIENT_DOES_NOT_EXIST,
            FailureClass::Rejected,
            Some("patient_not_found"),
            Some("/customer/accounts/impilo"),
        ),
        (
            &base,
            m::INVALID_ORDER,
            FailureClass::Rejected,
            Some("customer_or_site_invalid"),
            None,
        ),
        (
            &site,
            "Site 9 not found",
            FailureClass::Rejected,
            Some("site_not_found"),
            Some("/shipTo/siteRef"),
        ),
        (
            &site,
            "Site 9 not active",
            FailureClass::Rejected,
            Some("site_inactive"),
            Some("/shipTo/siteRef"),
        ),
        (
            &np,
            m::SITE_UNABLE_TO_FIND,
            FailureClass::Rejected,
            Some("site_not_found"),
            Some("/vendorOptions/impilo/patientSiteRef"),
        ),
        (
            &base,
            m::INVALID_JSON,
            FailureClass::Failed {
                outcome: Outcome::NotCreated,
            },
            Some("vendor_request_unreadable"),
            None,
        ),
    ]);
}

#[test]
fn auth_forbidden_rate_limit_server_errors() {
    assert_eq!(fail(401, b"").class, FailureClass::Auth);
    assert_eq!(
        fail(401, br#"{"message": "Unauthorized"}"#).class,
        FailureClass::Auth
    );
    let f = fail(403, b"");
    assert_eq!((f.class, f.code), (FailureClass::Forbidden, None));
    let o = common::order(common::base());
    let mut resp = VendorResponse::new(429, b"{}".to_vec());
    resp.headers.insert("retry-after", "7".parse().unwrap());
    let f = common::route().interpret(&o, &resp).unwrap_err();
    assert_eq!(f.class, FailureClass::RateLimited);
    assert_eq!(f.retry_after, Some(std::time::Duration::from_secs(7)));
    for s in [500, 502, 503, 504] {
        let f = fail(s, b"<html>bad gateway</html>");
        assert_eq!(
            f.class,
            FailureClass::Failed {
                outcome: Outcome::Unknown
            },
            "{s}"
        );
        assert_eq!(f.vendor.http_status, Some(s));
    }
    assert_eq!(
        fail(404, b"").class,
        FailureClass::BadResponse {
            outcome: Outcome::NotCreated
        }
    );
    assert_eq!(
        fail(302, b"").class,
        FailureClass::BadResponse {
            outcome: Outcome::Unknown
        }
    );
}

#[test]
fn lookup_answers() {
    let o = common::order(common::base());
    let r = common::route();
    let answer = |refs: serde_json::Value| {
        let body = serde_json::json!({"id": 5, "externalOrderIds": refs, "currentStatus": "DELIVERED", "trackingNumbers": ["T1"]});
        VendorResponse::new(200, serde_json::to_vec(&body).unwrap())
    };
    let got = r
        .interpret_lookup(&o, &answer(serde_json::json!([o.order_ref])))
        .unwrap();
    assert_eq!(got.status, OrderStatus::Fulfilled);
    assert_eq!(got.tracking[0].number, "T1");
    // Another order's references: not this order, whatever its status.
    for refs in [serde_json::json!(["someone-else"]), serde_json::json!(null)] {
        let f = r.interpret_lookup(&o, &answer(refs)).unwrap_err();
        assert_eq!(f.code, Some(connector::lookup::MISMATCH_CODE));
    }
    let f = r
        .interpret_lookup(
            &o,
            &VendorResponse::new(404, br#"{"message": "Order not found"}"#.to_vec()),
        )
        .unwrap_err();
    assert_eq!(
        (f.class, f.code),
        (FailureClass::Rejected, Some("vendor_order_not_found"))
    );
    assert_eq!(
        r.interpret_lookup(&o, &VendorResponse::new(503, b"".to_vec()))
            .unwrap_err()
            .class,
        FailureClass::Unavailable
    );
    assert_eq!(
        r.interpret_lookup(&o, &VendorResponse::new(200, b"nope".to_vec()))
            .unwrap_err()
            .class,
        FailureClass::BadResponse {
            outcome: Outcome::NotCreated
        }
    );
}

#[test]
fn never_panics_on_odd_bytes() {
    let o = common::order(common::base());
    let r = common::route();
    let bodies: Vec<Vec<u8>> = vec![
        vec![0xff, 0xfe],
        b"\xe2\x82".to_vec(),
        "Site  not found".into(),
        "Site é not active".into(),
        "insufficient_inventoryé".into(),
        "é".repeat(500).into_bytes(),
        b"null".to_vec(),
        b"{\"message\": null}".to_vec(),
    ];
    for s in [
        0u16, 100, 200, 201, 204, 400, 401, 403, 404, 409, 418, 429, 500, 599, 700,
    ] {
        for b in &bodies {
            let resp = VendorResponse::new(s, b.clone());
            let _ = r.interpret(&o, &resp);
            let _ = r.interpret_lookup(&o, &resp);
        }
    }
}

/// Issue 19 item 3: the patient Impilo created for an inline new patient is returned as a
/// vendor reference; an existing patient's or a site's order returns none.
#[test]
fn new_patient_id_is_returned_as_a_vendor_ref() {
    let body = json!({"id": 48215, "patient": {"id": 80001, "firstName": "Q"}, "currentStatus": "CREATED"});
    let resp = VendorResponse::new(201, serde_json::to_vec(&body).unwrap());
    let route = common::route();
    let o = common::order(common::new_patient());
    let vo = route.interpret(&o, &resp).unwrap();
    assert_eq!(
        serde_json::to_value(&vo.vendor_refs).unwrap(),
        json!([{"kind": "patient", "id": "80001"}])
    );
    let existing = route
        .interpret(&common::order(common::base()), &resp)
        .unwrap();
    assert!(existing.vendor_refs.is_empty());
}
