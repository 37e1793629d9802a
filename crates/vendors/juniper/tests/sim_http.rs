#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The simulator over real HTTP: auth, rules, error shapes, and every example placed
//! (translate -> POST -> interpret) and read back.

mod common;

use std::time::Duration;

use connector::sim::RunningSim;
use connector::testkit::sim_http;
use connector::{FailureClass, RetrySafety, VendorRequest, VendorResponse};
use order_model::OrderStatus;
use serde_json::{Value, json};

async fn sim(settings: Value) -> RunningSim {
    sim_http::start(vendor_juniper::sim::router, &settings).await
}

async fn token(http: &reqwest::Client, s: &RunningSim) -> String {
    let v = sim_http::client_credentials(
        http,
        &format!("{}/oauth2/token", s.base_url()),
        &[
            ("client_id", "juniper-sandbox"),
            ("client_secret", "juniper-sandbox-secret"),
        ],
    )
    .await;
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().is_some_and(|s| s > 0));
    v["access_token"].as_str().unwrap().to_owned()
}

/// A simulator with `settings`, a client, and a token the simulator issued it.
async fn signed_in(settings: Value) -> (RunningSim, reqwest::Client, String) {
    let s = sim(settings).await;
    let http = reqwest::Client::new();
    let tok = token(&http, &s).await;
    (s, http, tok)
}

/// `req` as the outbound stack sends it, with the bearer token `tok`.
async fn send(
    http: &reqwest::Client,
    s: &RunningSim,
    tok: &str,
    req: &VendorRequest,
) -> VendorResponse {
    sim_http::response(sim_http::request(http, s, req).bearer_auth(tok)).await
}

/// A create call with a hand-written body (not one the translator would write).
fn raw(body: Vec<u8>) -> VendorRequest {
    VendorRequest::post_json("/v1/orders", body, RetrySafety::NotAfterSend)
}

#[tokio::test]
async fn every_example_is_accepted_priced_and_read_back() {
    let (s, http, tok) = signed_in(Value::Null).await;
    let route = common::route();
    for (name, order) in common::examples() {
        let req = common::translated(&route, &order);
        let resp = send(&http, &s, &tok, &req).await;
        sim_http::assert_status(&resp, 201, &name);
        let raw: Value = serde_json::from_slice(&resp.body).unwrap();
        if order
            .recurrence
            .is_none_or(|r| r == order_model::Recurrence::OneTime)
        {
            assert_eq!(
                raw["orderType"], "ONE-TIME",
                "the simulator answers like the page"
            );
        }
        let v = route.interpret(&order, &resp).unwrap();
        assert_eq!(v.status, OrderStatus::Accepted);
        let id = v.vendor_order_id.clone().unwrap();
        assert_eq!(id.len(), 27);
        let t = v.totals.clone().unwrap();
        assert!(t.total.unwrap() > t.shipping.unwrap(), "{name}: {t:?}");
        let lookup = route.lookup(&order, &id).unwrap();
        let back = send(&http, &s, &tok, &lookup).await;
        assert_eq!(
            route
                .interpret_lookup(&order, &back)
                .unwrap()
                .vendor_order_id,
            Some(id)
        );
    }
    assert_eq!(s.control.count("orders_created"), 3);
}

#[tokio::test]
async fn the_page_sample_is_priced_with_the_partner_discount() {
    let (s, http, tok) = signed_in(Value::Null).await;
    let route = common::route();
    let order = common::example("page-sample-one-time");
    let req = common::translated(&route, &order);
    let resp = send(&http, &s, &tok, &req).await;
    let v = route.interpret(&order, &resp).unwrap();
    let t = v.totals.unwrap();
    // 2 packs x 2 pills/day x 30 days = 120 pills at 0.37 = 44.40; partner price 0.33 -> 39.60.
    assert_eq!(t.subtotal.unwrap().to_string(), "44.40");
    assert_eq!(t.other["totalDiscount"], "39.60");
    assert_eq!(t.shipping.unwrap().to_string(), "9.99");
    assert_eq!(t.total.unwrap().to_string(), "49.59");
    assert_eq!(
        v.lines[0].discounted_unit_price.unwrap().to_string(),
        "0.33"
    );
}

#[tokio::test]
async fn without_a_valid_token_the_answer_is_401() {
    let s = sim(Value::Null).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v1/orders", s.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let bad = http
        .post(format!("{}/oauth2/token", s.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "juniper-sandbox"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let resp = send(&http, &s, "forged", &raw(b"{}".to_vec())).await;
    let (_, o) = common::examples().remove(0);
    assert_eq!(
        common::route().interpret(&o, &resp).unwrap_err().class,
        FailureClass::Auth
    );
}

#[tokio::test]
async fn tokens_really_expire() {
    let (s, http, tok) = signed_in(json!({"tokenLifetimeSecs": 1})).await;
    let (_, o) = common::examples().remove(0);
    let req = common::translated(&common::route(), &o);
    assert_eq!(send(&http, &s, &tok, &req).await.status, 201);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(send(&http, &s, &tok, &req).await.status, 401);
}

#[tokio::test]
async fn field_rules_answer_422_in_juniper_shape_and_map_back() {
    let (s, http, tok) = signed_in(Value::Null).await;
    let body = json!({
        "customer": {"sourceId": "1", "firstName": "A", "lastName": "B", "email": "nope",
                     "address": {"line1": "x", "city": "c", "state": "CAL", "zip": "1234"}},
        "daysSupply": 45, "shippingMethod": "DRONE", "orderType": "ONE-TIME",
        "lineItems": [{"productId": 77123129891i64, "quantity": 0, "packDescription": "p", "administration": {"morning": 1}}]
    });
    let resp = send(&http, &s, &tok, &raw(serde_json::to_vec(&body).unwrap())).await;
    assert_eq!(resp.status, 422);
    let raw: Value = serde_json::from_slice(&resp.body).unwrap();
    let locs: Vec<String> = raw["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"].to_string())
        .collect();
    for want in [
        r#"["body","customer","email"]"#,
        r#"["body","customer","address","state"]"#,
        r#"["body","customer","address","zip"]"#,
        r#"["body","daysSupply"]"#,
        r#"["body","shippingMethod"]"#,
        r#"["body","orderType"]"#,
        r#"["body","lineItems",0,"quantity"]"#,
        r#"["body","lineItems",0,"administration","afternoon"]"#,
    ] {
        assert!(locs.iter().any(|l| l == want), "{want} not in {locs:?}");
    }
    let (_, o) = common::examples().remove(0);
    let f = common::route().interpret(&o, &resp).unwrap_err();
    let pointers: Vec<String> = f.errors.iter().map(|e| e.pointer.clone()).collect();
    assert!(
        pointers.contains(&"/shipTo/address/postalCode".to_owned()),
        "{pointers:?}"
    );
    assert!(
        pointers.contains(&"/vendorOptions/juniper/daysSupply".to_owned()),
        "{pointers:?}"
    );
    assert!(
        pointers.contains(&"/lines/0/quantity".to_owned()),
        "{pointers:?}"
    );
}

#[tokio::test]
async fn an_unknown_product_is_a_400_rejection() {
    let (s, http, tok) = signed_in(Value::Null).await;
    let catalog = std::collections::BTreeMap::from([(
        "JH-WBW".to_owned(),
        json!({"productId": 99999, "packDescription": "Ghost"}),
    )]);
    let route = vendor_juniper::connector()
        .prepare(connector::RouteConfig {
            connection: "c",
            settings: &Value::Null,
            catalog: &catalog,
            defaults: &json!({"daysSupply": 30}),
        })
        .unwrap();
    let o = common::example("page-sample-one-time");
    let req = common::translated(&route, &o);
    let resp = send(&http, &s, &tok, &req).await;
    assert_eq!(resp.status, 400);
    let f = route.interpret(&o, &resp).unwrap_err();
    assert_eq!(f.class, FailureClass::Rejected);
    assert_eq!(
        f.vendor.message.as_deref(),
        Some("Product 99999 does not exist")
    );
    assert_eq!(s.control.count("orders_created"), 0);
}

/// Contract drift: the simulator's answer adds, drops and renames fields; the findings
/// name the paths (never values) and the order is still read.
#[tokio::test]
async fn drifted_answers_are_reported_and_still_read() {
    use connector::sim::Fault;
    use connector::{Drift, DriftKind};
    let (s, http, tok) = signed_in(Value::Null).await;
    let route = common::route();
    let (_, order) = common::examples().into_iter().next().unwrap();
    let req = common::translated(&route, &order);
    s.control.push_fault(Fault::Reshape {
        path: None,
        add: [("/loyaltyPoints".to_owned(), json!(12))].into(),
        drop: vec!["/subtotalPrice".to_owned()],
        rename: [("/fulfillmentInfo".to_owned(), "/fulfilment".to_owned())].into(),
    });
    let r = send(&http, &s, &tok, &req).await;
    let out = route.interpret_checked(&order, &r);
    assert!(out.result.unwrap().vendor_order_id.is_some());
    assert_eq!(
        out.drift,
        vec![
            Drift::new(DriftKind::UnknownField, "fulfilment"),
            Drift::new(DriftKind::UnknownField, "loyaltyPoints"),
        ]
    );
    s.control
        .push_fault(Fault::set_field("/status", json!("ON_HOLD")));
    let r = send(&http, &s, &tok, &req).await;
    let out = route.interpret_checked(&order, &r);
    assert_eq!(out.result.unwrap().status, OrderStatus::Unknown);
    assert_eq!(
        out.drift,
        vec![Drift::new(DriftKind::UnexpectedValue, "status")]
    );
}
