#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Adobe simulator over real HTTP: auth, every example, idempotency by correlation id.

mod common;

use std::time::Duration;

use connector::sim::RunningSim;
use connector::testkit::sim_http;
use connector::{FailureClass, VendorRequest, VendorResponse};
use order_model::OrderStatus;
use serde_json::{Value, json};

async fn sim(settings: Value) -> RunningSim {
    sim_http::start(vendor_adobe_vipmp::sim::router, &settings).await
}

async fn token(s: &RunningSim) -> String {
    let v = sim_http::client_credentials(
        &reqwest::Client::new(),
        &format!("{}/ims/token/v3", s.base_url()),
        &[
            ("client_id", "adobe-sandbox"),
            ("client_secret", "adobe-sandbox-secret"),
            ("scope", "openid,AdobeID"),
        ],
    )
    .await;
    assert_eq!(v["expires_in"], 86399);
    v["access_token"].as_str().unwrap().to_owned()
}

/// `req` with the credentials under test: the bearer token (when given), the API key,
/// and the per-attempt request id.
async fn send(
    s: &RunningSim,
    tok: Option<&str>,
    api_key: &str,
    req: &VendorRequest,
    request_id: &str,
) -> VendorResponse {
    let b = sim_http::request(&reqwest::Client::new(), s, req)
        .header("x-api-key", api_key)
        .header("x-request-id", request_id);
    sim_http::response(match tok {
        Some(t) => b.bearer_auth(t),
        None => b,
    })
    .await
}

#[tokio::test]
async fn every_example_new_renewal_return_and_preview() {
    let s = sim(json!({"completeAfterSecs": 1})).await;
    let tok = token(&s).await;
    let route = common::route();
    for (i, (name, order)) in common::examples().into_iter().enumerate() {
        let req = common::translated(&route, &order);
        let resp = send(&s, Some(&tok), "adobe-sandbox", &req, &format!("req-{i}")).await;
        let v = route
            .interpret(&order, &resp)
            .unwrap_or_else(|f| panic!("{name}: {f:?} {}", String::from_utf8_lossy(&resp.body)));
        if order.intent() == order_model::Intent::Quote {
            assert_eq!(
                (resp.status, v.status),
                (200, OrderStatus::Quoted),
                "{name}"
            );
            continue;
        }
        assert_eq!(
            (resp.status, v.status),
            (201, OrderStatus::Pending),
            "{name}"
        );
        let id = v.vendor_order_id.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let lookup = route.lookup(&order, &id).unwrap();
        let back = send(
            &s,
            Some(&tok),
            "adobe-sandbox",
            &lookup,
            &format!("get-{i}"),
        )
        .await;
        assert_eq!(
            route.interpret_lookup(&order, &back).unwrap().status,
            OrderStatus::Fulfilled,
            "{name}: 1002 became 1000"
        );
    }
    assert_eq!(s.control.count("orders_created"), 3);
}

#[tokio::test]
async fn a_repeated_correlation_id_replays_the_original_and_a_reused_request_id_is_4120() {
    let s = sim(Value::Null).await;
    let tok = token(&s).await;
    let route = common::route();
    let order = common::example("page-sample-new");
    let req = common::translated(&route, &order);
    let first = send(&s, Some(&tok), "adobe-sandbox", &req, "r1").await;
    let again = send(&s, Some(&tok), "adobe-sandbox", &req, "r2").await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body, again.body, "the stored original answer");
    assert_eq!(
        (
            s.control.count("orders_created"),
            s.control.count("replays")
        ),
        (1, 1)
    );
    let mut other = req.clone();
    other
        .headers
        .retain(|(k, _)| k.as_str() != "x-correlation-id");
    other = other.with_header(
        http::HeaderName::from_static("x-correlation-id"),
        "another-intent",
    );
    let reused = send(&s, Some(&tok), "adobe-sandbox", &other, "r1").await;
    assert_eq!(reused.status, 400);
    assert_eq!(
        route
            .interpret(&order, &reused)
            .unwrap_err()
            .vendor
            .code
            .as_deref(),
        Some("4120")
    );
}

#[tokio::test]
async fn auth_codes_and_business_refusals() {
    let s = sim(Value::Null).await;
    let tok = token(&s).await;
    let route = common::route();
    let order = common::example("page-sample-new");
    let req = common::translated(&route, &order);
    for (t, key, want) in [
        (None, "adobe-sandbox", "4117"),
        (Some("forged"), "adobe-sandbox", "4116"),
        (Some(tok.as_str()), "wrong-key", "4115"),
    ] {
        let r = send(&s, t, key, &req, "x").await;
        let f = route.interpret(&order, &r).unwrap_err();
        assert_eq!(
            (f.class, f.vendor.code.as_deref()),
            (FailureClass::Auth, Some(want))
        );
    }
    let mut no_corr = req.clone();
    no_corr
        .headers
        .retain(|(k, _)| k.as_str() != "x-correlation-id");
    let r = send(&s, Some(&tok), "adobe-sandbox", &no_corr, "y").await;
    assert_eq!(
        route
            .interpret(&order, &r)
            .unwrap_err()
            .vendor
            .code
            .as_deref(),
        Some("4119")
    );
    let mut inactive = order.clone();
    inactive.customer.accounts = Some([("adobe-vipmp".to_owned(), "1111111111".to_owned())].into());
    let req = common::translated(&route, &inactive);
    let r = send(&s, Some(&tok), "adobe-sandbox", &req, "z").await;
    let f = route.interpret(&inactive, &r).unwrap_err();
    assert_eq!(
        (f.class, f.code),
        (FailureClass::Rejected, Some("customer_not_eligible"))
    );
}

/// Issue 19 item 2: the simulator refuses a line without `currencyCode` (1122), as the
/// page asks for it on every line.
#[tokio::test]
async fn a_line_without_currency_code_is_refused_by_the_sim() {
    let s = sim(Value::Null).await;
    let tok = token(&s).await;
    let body = json!({"externalReferenceId": "r", "orderType": "NEW", "lineItems": [{"extLineItemNumber": 1, "offerId": "65304470CA01A12", "quantity": 1}]});
    let req = VendorRequest::post_json(
        "/v3/customers/9876543210/orders",
        serde_json::to_vec(&body).unwrap(),
        connector::RetrySafety::IdempotentByKey,
    )
    .with_header(http::HeaderName::from_static("x-correlation-id"), "c-1");
    let r = send(&s, Some(&tok), "adobe-sandbox", &req, "r-1").await;
    sim_http::assert_status(&r, 400, "the answer");
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["code"], "1122");
}

/// Contract drift: the simulator's answer adds, drops and renames fields; the findings
/// name the paths (never values) and the order is still read.
#[tokio::test]
async fn drifted_answers_are_reported_and_still_read() {
    use connector::sim::Fault;
    use connector::{Drift, DriftKind};
    let s = sim(Value::Null).await;
    let tok = token(&s).await;
    let route = common::route();
    let order = common::example("page-sample-new");
    let req = common::translated(&route, &order);
    s.control.push_fault(Fault::Reshape {
        path: None,
        add: [("/pricingSummary".to_owned(), json!([]))].into(),
        drop: vec!["/links".to_owned()],
        rename: [("/creationDate".to_owned(), "/createdDate".to_owned())].into(),
    });
    let r = send(&s, Some(&tok), "adobe-sandbox", &req, "d-1").await;
    let out = route.interpret_checked(&order, &r);
    let vo = out.result.unwrap();
    assert_eq!(vo.status, OrderStatus::Pending);
    assert_eq!(
        out.drift,
        vec![
            Drift::new(DriftKind::UnknownField, "createdDate"),
            Drift::new(DriftKind::UnknownField, "pricingSummary"),
        ]
    );
    // A status code the docs do not list, and a dropped required field.
    let mut again = order.clone();
    again.order_ref = "drift-2".into();
    let req = common::translated(&route, &again);
    s.control.push_fault(Fault::Reshape {
        path: None,
        add: [("/status".to_owned(), json!("1010"))].into(),
        drop: vec!["/lineItems".to_owned()],
        rename: Default::default(),
    });
    let r = send(&s, Some(&tok), "adobe-sandbox", &req, "d-2").await;
    let out = route.interpret_checked(&again, &r);
    assert!(out.result.is_ok());
    assert_eq!(
        out.drift,
        vec![
            Drift::new(DriftKind::MissingField, "lineItems"),
            Drift::new(DriftKind::UnexpectedValue, "status"),
        ]
    );
}
