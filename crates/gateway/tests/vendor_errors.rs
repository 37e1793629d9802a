#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every vendor error class through the whole gateway (HTTP -> routing -> translate ->
//! outbound -> simulator -> interpret -> ledger -> problem), using simulator faults to
//! make the vendor answer each documented error.

mod common;

use common::{Gateway, examples, vendors};
use connector::VendorResponse;
use connector::sim::Fault;
use serde_json::{Value, json};

fn fault(path: &str, status: u16, body: Value, retry_after: Option<u64>) -> Fault {
    Fault::Status {
        path: Some(path.into()),
        status,
        body,
        retry_after,
    }
}

async fn post_fresh(
    g: &Gateway,
    order: &Value,
    n: usize,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut o = order.clone();
    o["orderRef"] = json!(format!("{}-e{n}", order["orderRef"].as_str().unwrap()));
    g.post("/v1/orders", &o).await
}

#[tokio::test]
async fn juniper_error_classes_end_to_end() {
    if !vendors().contains(&"juniper") {
        return;
    }
    let g = Gateway::start().await;
    let sim = g.sim_for("juniper");
    let order = common::page_sample("juniper");

    // 400 {detail}: a rejection carrying Juniper's (redacted) detail.
    sim.control.push_fault(fault(
        "/v1/orders",
        400,
        json!({"detail": "Customer John Doe is on hold"}),
        None,
    ));
    let (s, _, b) = post_fresh(&g, &order, 1).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (502, Some("vendor_rejected")),
        "{b}"
    );
    assert_eq!(b["vendor"]["httpStatus"], 400);
    assert_eq!(
        b["vendor"]["message"],
        "Customer [redacted] [redacted] is on hold"
    );

    // 422 with locs: mapped back to the caller's fields.
    sim.control.push_fault(fault("/v1/orders", 422, json!({"detail": [{"loc": ["body", "customer", "address", "zip"], "type": "invalid", "msg": "zip unknown"}]}), None));
    let (s, _, b) = post_fresh(&g, &order, 2).await;
    assert_eq!((s, b["code"].as_str()), (422, Some("invalid_order")), "{b}");
    assert_eq!(b["errors"][0]["pointer"], "/shipTo/address/postalCode");

    // A persistent 401: one token refresh and one retry, then vendor_auth.
    let tokens = sim.control.count("tokens_issued");
    sim.control.push_fault(fault(
        "/v1/orders",
        401,
        json!({"detail": "Not authenticated"}),
        None,
    ));
    sim.control.push_fault(fault(
        "/v1/orders",
        401,
        json!({"detail": "Not authenticated"}),
        None,
    ));
    let (s, _, b) = post_fresh(&g, &order, 3).await;
    assert_eq!((s, b["code"].as_str()), (502, Some("vendor_auth")), "{b}");
    assert_eq!(
        sim.control.count("tokens_issued"),
        tokens + 1,
        "exactly one refresh"
    );

    // A single 401 (token revoked): refresh, retry, success.
    sim.control.push_fault(fault(
        "/v1/orders",
        401,
        json!({"detail": "Not authenticated"}),
        None,
    ));
    let (s, _, b) = post_fresh(&g, &order, 4).await;
    assert_eq!(s, 201, "{b}");

    // 500: the order may exist; recorded unknown.
    sim.control
        .push_fault(fault("/v1/orders", 500, json!({"detail": "boom"}), None));
    let (s, _, b) = post_fresh(&g, &order, 5).await;
    assert_eq!((s, b["code"].as_str()), (502, Some("vendor_failed")), "{b}");
    let id = b["context"]["orderId"].as_str().map(str::to_owned);
    let unknown: Value = common::get_json(&g.http, &g.admin("/orders/unknown"), None).await;
    assert!(
        unknown["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["orderRef"].as_str().unwrap().ends_with("-e5")),
        "{unknown} {id:?}"
    );

    // 429 with Retry-After: waited out and retried, the order goes through.
    let before = sim.control.count("orders_created");
    sim.control.push_fault(fault(
        "/v1/orders",
        429,
        json!({"detail": "slow down"}),
        Some(1),
    ));
    let (s, _, b) = post_fresh(&g, &order, 6).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(sim.control.count("orders_created"), before + 1);

    // Unparseable success: the order probably exists; bad response, outcome unknown.
    sim.control
        .push_fault(fault("/v1/orders", 201, json!("not an order"), None));
    let (s, _, b) = post_fresh(&g, &order, 7).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (502, Some("vendor_bad_response")),
        "{b}"
    );
}

const IMPILO_400: [&str; 27] = [
    vendor_impilo::messages::NO_CONTENT,
    vendor_impilo::messages::SHIPPING_OPTION_REQUIRED,
    vendor_impilo::messages::PATIENT_OR_SITE_REQUIRED,
    vendor_impilo::messages::INSUFFICIENT_INVENTORY,
    vendor_impilo::messages::ITEMS_NON_ORDERABLE,
    vendor_impilo::messages::ITEM_NOT_ORDERABLE,
    vendor_impilo::messages::MAX_ONE_LOANER_KIT,
    vendor_impilo::messages::QTY_OVER_ONE_LOANER_KIT,
    vendor_impilo::messages::NO_RETURNS_WITH_LOANER_KIT,
    vendor_impilo::messages::NO_LOANER_KIT_TO_SITE,
    vendor_impilo::messages::DEVICE_IN_PACKED_KIT,
    vendor_impilo::messages::PATIENT_DOES_NOT_EXIST,
    vendor_impilo::messages::INVALID_ORDER,
    vendor_impilo::messages::PATIENT_REQUIRED,
    vendor_impilo::messages::FIRST_NAME,
    vendor_impilo::messages::LAST_NAME,
    vendor_impilo::messages::ADDRESS_REQUIRED,
    vendor_impilo::messages::SITE_UNABLE_TO_FIND,
    vendor_impilo::messages::LINE_ONE,
    vendor_impilo::messages::CITY,
    vendor_impilo::messages::STATE,
    vendor_impilo::messages::COUNTRY,
    vendor_impilo::messages::ZIP_CODE,
    vendor_impilo::messages::INVALID_JSON,
    vendor_impilo::messages::INVALID_DATA,
    "Site 9001 not found",
    "Site 9002 not active",
];

/// Every message the Impilo page lists, answered by the simulator, reaches the caller as
/// exactly the problem the connector defines for it (status, code, pointers), and an
/// order Impilo refused is recorded as refused, never unknown.
#[tokio::test]
async fn every_impilo_page_message_end_to_end() {
    if !vendors().contains(&"impilo") {
        return;
    }
    let g = Gateway::start().await;
    let sim = g.sim_for("impilo");
    let (_, order) = examples("impilo").remove(0);
    let rt = g.running.state.runtime.load();
    let route = rt
        .checked
        .routes
        .iter()
        .find(|r| r.vendor == "impilo")
        .unwrap();
    let canonical = order_model::parse_order(&order).unwrap();
    let cases: Vec<(u16, &str)> = IMPILO_400
        .iter()
        .map(|m| (400, *m))
        .chain([
            (403, vendor_impilo::messages::ACCESS_DENIED),
            (403, vendor_impilo::messages::FEATURE_DISABLED),
            (403, vendor_impilo::messages::RESOURCE_FORBIDDEN),
        ])
        .collect();
    for (n, (status, message)) in cases.into_iter().enumerate() {
        let body = json!({"message": message});
        let want = route
            .prepared
            .interpret(
                &canonical,
                &VendorResponse::new(status, serde_json::to_vec(&body).unwrap()),
            )
            .unwrap_err()
            .to_problem();
        sim.control
            .push_fault(fault("/api/v3/order", status, body, None));
        let (s, headers, got) = post_fresh(&g, &order, 100 + n).await;
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_eq!(s, want.status, "{message}: {got}");
        assert_eq!(got["code"], want.code, "{message}");
        let want_pointers: Vec<&str> = want.errors.iter().map(|e| e.pointer.as_str()).collect();
        let got_pointers: Vec<&str> = got["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["pointer"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(got_pointers, want_pointers, "{message}");
        assert!(matches!(s, 422 | 502), "{message}: {s}");
        assert_ne!(
            got["code"], "vendor_bad_response",
            "{message} was not understood"
        );
    }
    let unknown: Value = common::get_json(&g.http, &g.admin("/orders/unknown"), None).await;
    assert_eq!(
        unknown["count"], 0,
        "a refused order was recorded unknown: {unknown}"
    );
}

#[tokio::test]
async fn axim_error_classes_end_to_end() {
    if !vendors().contains(&"axim") {
        return;
    }
    let g = Gateway::start().await;
    let sim = g.sim_for("axim");
    let (_, order) = examples("axim")
        .into_iter()
        .find(|(n, _)| n == "page-sample.json")
        .unwrap();
    for (n, (status, body, want_status, want_code)) in [
        (
            400,
            json!({"success": false, "message": "\"customer\" 6328113ba105cf37af7f623b not found"}),
            502,
            "vendor_rejected",
        ),
        (
            200,
            json!({"success": false, "message": "Order rejected"}),
            502,
            "vendor_rejected",
        ),
        (
            401,
            json!({"success": false, "message": "Unauthorized"}),
            502,
            "vendor_auth",
        ),
        (
            500,
            json!({"success": false, "message": "Internal Server Error"}),
            502,
            "vendor_failed",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        sim.control.push_fault(fault("/orders", status, body, None));
        let (s, _, b) = post_fresh(&g, &order, 200 + n).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (want_status, Some(want_code)),
            "{b}"
        );
    }
    let unknown: Value = common::get_json(&g.http, &g.admin("/orders/unknown"), None).await;
    assert_eq!(
        unknown["count"], 1,
        "only the 500 is an unknown outcome: {unknown}"
    );
}

#[tokio::test]
async fn adobe_error_classes_end_to_end() {
    if !vendors().contains(&"adobe-vipmp") {
        return;
    }
    let g = Gateway::start().await;
    let sim = g.sim_for("adobe-vipmp");
    let order = common::page_sample("adobe-vipmp");
    let path = "/v3/customers/";
    let err = |code: &str, details: Value| json!({"code": code, "message": "m", "additionalDetails": details});
    sim.control
        .push_fault(fault(path, 400, err("2122", json!(["line 4"])), None));
    let (s, _, b) = post_fresh(&g, &order, 300).await;
    assert_eq!(
        (s, b["code"].as_str(), b["errors"][0]["pointer"].as_str()),
        (422, Some("invalid_offer"), Some("/lines/0/sku")),
        "{b}"
    );
    sim.control
        .push_fault(fault(path, 404, err("2129", json!([])), None));
    let (s, _, b) = post_fresh(&g, &order, 301).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (502, Some("customer_not_eligible")),
        "{b}"
    );
    // 4118 with Retry-After: waited out, retried with the same correlation id, placed.
    sim.control
        .push_fault(fault(path, 429, err("4118", json!([])), Some(1)));
    let (s, _, b) = post_fresh(&g, &order, 302).await;
    assert_eq!(s, 201, "{b}");
    // 5122 three times: the idempotent retries run out; 503, retryable, nothing unknown.
    for _ in 0..3 {
        sim.control
            .push_fault(fault(path, 503, err("5122", json!([])), None));
    }
    let (s, _, b) = post_fresh(&g, &order, 303).await;
    assert_eq!(
        (s, b["code"].as_str(), b["retryable"].as_bool()),
        (503, Some("vendor_unavailable"), Some(true)),
        "{b}"
    );
}
