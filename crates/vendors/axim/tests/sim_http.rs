#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Axim simulator over real HTTP.

mod common;

use connector::sim::{Fault, RunningSim};
use connector::testkit::sim_http;
use connector::{FailureClass, Outcome, RetrySafety, VendorRequest, VendorResponse};
use order_model::OrderStatus;
use serde_json::{Value, json};

async fn sim() -> RunningSim {
    sim_http::start(vendor_axim::sim::router, &Value::Null).await
}

/// A create call with `body`, carrying the static token when one is given.
fn create(s: &RunningSim, token: Option<&str>, body: Vec<u8>) -> reqwest::RequestBuilder {
    let req = VendorRequest::post_json("/orders", body, RetrySafety::NotAfterSend);
    let b = sim_http::request(&reqwest::Client::new(), s, &req);
    match token {
        Some(t) => b.header("accessToken", t),
        None => b,
    }
}

async fn post(s: &RunningSim, token: Option<&str>, body: Vec<u8>) -> VendorResponse {
    sim_http::response(create(s, token, body)).await
}

/// A translated create call `req`, with the sandbox token.
async fn send(s: &RunningSim, req: &VendorRequest) -> VendorResponse {
    let b = sim_http::request(&reqwest::Client::new(), s, req);
    sim_http::response(b.header("accessToken", "axim-sandbox-token")).await
}

#[tokio::test]
async fn every_example_is_recorded_and_read_back() {
    let s = sim().await;
    let route = common::route();
    for (name, order) in common::examples() {
        let req = common::translated(&route, &order);
        let resp = send(&s, &req).await;
        sim_http::assert_status(&resp, 200, &name);
        let v = route.interpret(&order, &resp).unwrap();
        let id = v.vendor_order_id.unwrap();
        assert_eq!(id.len(), 24);
        let back: Value = reqwest::Client::new()
            .get(format!("{}/orders/{id}", s.base_url()))
            .header("accessToken", "axim-sandbox-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(back["data"]["id"], id.as_str());
        // The recorded money is exactly the canonical decimal.
        let stored = back["data"]["lineItems"][0]["price"].to_string();
        assert_eq!(
            stored,
            order.lines[0].unit_price.unwrap().normalize().to_string(),
            "{name}"
        );
    }
    assert_eq!(s.control.count("orders_created"), 3);
}

#[tokio::test]
async fn auth_unknown_ids_and_server_errors() {
    let s = sim().await;
    let route = common::route();
    let order = common::example("page-sample");
    let body = common::translated(&route, &order).body.unwrap().to_vec();
    for token in [None, Some("wrong")] {
        let r = post(&s, token, body.clone()).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            route.interpret(&order, &r).unwrap_err().class,
            FailureClass::Auth
        );
    }
    let mut doc: Value = serde_json::from_slice(&body).unwrap();
    doc["customer"] = json!("aaaaaaaaaaaaaaaaaaaaaaaa");
    let r = post(
        &s,
        Some("axim-sandbox-token"),
        serde_json::to_vec(&doc).unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    let f = route.interpret(&order, &r).unwrap_err();
    assert_eq!(f.class, FailureClass::Rejected);
    assert!(f.vendor.message.unwrap().contains("not found"));
    let mut doc: Value = serde_json::from_slice(&body).unwrap();
    doc["newShippingAddress"] = json!({"firstName": "J", "lastName": "", "address1": "a", "city": "c", "state": "s", "country": "US", "zipcode": "1"});
    let r = post(
        &s,
        Some("axim-sandbox-token"),
        serde_json::to_vec(&doc).unwrap(),
    )
    .await;
    assert_eq!(r.status, 400, "both shipping forms are refused");
    s.control.push_fault(Fault::Status {
        path: Some("/orders".into()),
        status: 500,
        body: json!({"success": false, "message": "Internal Server Error"}),
        retry_after: None,
    });
    let r = post(&s, Some("axim-sandbox-token"), body.clone()).await;
    assert_eq!(
        route.interpret(&order, &r).unwrap_err().class,
        FailureClass::Failed {
            outcome: Outcome::Unknown
        }
    );
    let ok = post(&s, Some("axim-sandbox-token"), body).await;
    assert_eq!(
        route.interpret(&order, &ok).unwrap().status,
        OrderStatus::Fulfilled
    );
}

#[tokio::test]
async fn page_rules_are_400s_naming_the_field_and_reads_need_auth() {
    let s = sim().await;
    let route = common::route();
    let order = common::example("new-addresses-discounts-eur");
    let body = common::translated(&route, &order).body.unwrap().to_vec();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    for (mutate, field) in [
        (
            json!({"newBillingAddress": {"firstName": "Al"}}),
            "newBillingAddress.firstName",
        ),
        (
            json!({"newShippingAddress": {"address2": ""}}),
            "newShippingAddress.address2",
        ),
        (json!({"paymentStatus": "lost"}), "paymentStatus"),
        (json!({"shippingCost": -1}), "shippingCost"),
        (
            json!({"paymentTerm": "6400aa11bb22cc33dd44ee56"}),
            "paymentTerm",
        ),
    ] {
        let mut d = doc.clone();
        for (k, v) in mutate.as_object().unwrap() {
            match v {
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        d[k][ik] = iv.clone();
                    }
                }
                other => d[k] = other.clone(),
            }
        }
        let r = post(
            &s,
            Some("axim-sandbox-token"),
            serde_json::to_vec(&d).unwrap(),
        )
        .await;
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (r.status, &b["success"]),
            (400, &json!(false)),
            "{field}: {b}"
        );
        assert!(
            b["message"].as_str().unwrap().contains(field),
            "{field}: {b}"
        );
        let f = route.interpret(&order, &r).unwrap_err();
        assert_eq!(f.class, FailureClass::Rejected);
    }
    let r = post(&s, Some("axim-sandbox-token"), b"{not json".to_vec()).await;
    assert_eq!(r.status, 400);
    let unauth = reqwest::Client::new()
        .get(format!("{}/orders/650000000000000000000001", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status().as_u16(), 401);
    let missing = reqwest::Client::new()
        .get(format!("{}/orders/650000000000000000000001", s.base_url()))
        .header("accessToken", "axim-sandbox-token")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(s.control.count("orders_created"), 0);
}

#[tokio::test]
async fn concurrent_creates_get_distinct_ids() {
    let s = sim().await;
    let route = common::route();
    let (_, order) = common::examples().remove(0);
    let body = common::translated(&route, &order).body.unwrap().to_vec();
    let answers = futures_join(&s, body, 16).await;
    let mut ids: Vec<String> = answers
        .iter()
        .map(|r| route.interpret(&order, r).unwrap().vendor_order_id.unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    assert_eq!(s.control.count("orders_created"), 16);
}

async fn futures_join(s: &RunningSim, body: Vec<u8>, n: usize) -> Vec<VendorResponse> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(sim_http::response(create(
            s,
            Some("axim-sandbox-token"),
            body.clone(),
        )));
    }
    set.join_all().await
}

/// Contract drift: the simulator's answer adds, drops and renames fields; the findings
/// name the paths (never values) and the order is still read.
#[tokio::test]
async fn drifted_answers_are_reported_and_still_read() {
    use connector::{Drift, DriftKind};
    let s = sim().await;
    let route = common::route();
    let (_, order) = common::examples().into_iter().next().unwrap();
    let req = common::translated(&route, &order);
    s.control.push_fault(Fault::Reshape {
        path: None,
        add: [("/requestId".to_owned(), json!("r-1"))].into(),
        drop: vec!["/message".to_owned()],
        rename: [("/data/orderStatus".to_owned(), "/data/status".to_owned())].into(),
    });
    let resp = send(&s, &req).await;
    let out = route.interpret_checked(&order, &resp);
    assert!(out.result.unwrap().vendor_order_id.is_some());
    assert_eq!(
        out.drift,
        vec![Drift::new(DriftKind::UnknownField, "requestId")]
    );
    // The id renamed: a missing field (the order exists but cannot be named).
    s.control.push_fault(Fault::Reshape {
        path: None,
        add: Default::default(),
        drop: vec![],
        rename: [("/data/id".to_owned(), "/data/_id".to_owned())].into(),
    });
    let resp = send(&s, &req).await;
    let out = route.interpret_checked(&order, &resp);
    assert!(out.result.is_err());
    assert_eq!(
        out.drift,
        vec![Drift::new(DriftKind::MissingField, "data.id")]
    );
    // An orderStatus outside the page's list.
    s.control
        .push_fault(Fault::set_field("/data/orderStatus", json!("on_hold")));
    let resp = send(&s, &req).await;
    let out = route.interpret_checked(&order, &resp);
    assert!(out.result.is_ok());
    assert_eq!(
        out.drift,
        vec![Drift::new(DriftKind::UnexpectedValue, "data.orderStatus")]
    );
    // An error body of another shape.
    let resp = post(&s, None, b"{}".to_vec()).await;
    assert!(route.interpret_checked(&order, &resp).drift.is_empty());
    s.control.push_fault(Fault::Status {
        path: None,
        status: 400,
        body: json!({"errors": ["bad"]}),
        retry_after: None,
    });
    let resp = post(&s, Some("axim-sandbox-token"), b"{}".to_vec()).await;
    assert_eq!(
        route.interpret_checked(&order, &resp).drift,
        vec![Drift::new(DriftKind::ErrorShape, "")]
    );
}
