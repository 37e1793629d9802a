#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The OpenAPI document, the JSON Schemas and the routers agree.

mod common;

use common::Gateway;
use serde_json::Value;

fn document() -> Value {
    serde_norway::from_str(gateway::http::api::OPENAPI).expect("openapi.yaml is YAML")
}

/// Every (method, path) the gateway serves. A new route must be added here AND to the
/// document; the test below then proves it answers something other than 404/405.
const SERVED: [(&str, &str, bool); 10] = [
    ("post", "/v1/orders", false),
    ("get", "/v1/orders", false),
    ("post", "/v1/orders/preview", false),
    ("get", "/v1/orders/{id}", false),
    ("get", "/openapi.yaml", false),
    ("get", "/healthz", true),
    ("get", "/readyz", true),
    ("get", "/metrics", true),
    ("get", "/config", true),
    ("get", "/orders/unknown", true),
];

#[test]
fn every_served_route_is_documented_and_nothing_else() {
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = SERVED
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
}

#[test]
fn referenced_schemas_exist_and_compile() {
    let text = gateway::http::api::OPENAPI;
    let dir = common::repo().join("schemas");
    for name in [
        "canonical-order.v1.schema.json",
        "order-result.v1.schema.json",
        "problem.v1.schema.json",
    ] {
        assert!(text.contains(&format!("./{name}")), "{name} not referenced");
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        order_model::SchemaValidator::new(&schema).unwrap();
    }
}

#[test]
fn problem_schema_accepts_every_problem_code() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("schemas/problem.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let v = order_model::SchemaValidator::new(&schema).unwrap();
    for code in order_model::ProblemCode::ALL {
        let p = order_model::Problem::new(code, "x").with_trace_id(Some("0".repeat(32)));
        let doc = serde_json::to_value(&p).unwrap();
        assert!(v.is_valid(&doc), "{code:?}: {:?}", v.violations(&doc, ""));
    }
}

#[tokio::test]
async fn every_documented_route_exists() {
    let g = Gateway::start().await;
    for (method, path, admin) in SERVED {
        let p = path.replace("{id}", "ord_missing");
        let url = if admin { g.admin(&p) } else { g.url(&p) };
        let req = match method {
            "get" => g.http.get(url),
            _ => g
                .http
                .post(url)
                .header("content-type", "application/json")
                .body("{}"),
        };
        let status = req
            .bearer_auth("dev-key")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        // 404 is only acceptable for the order lookup (a missing order), never "no route".
        assert!(status != 405, "{method} {path}: {status}");
        if path != "/v1/orders/{id}" {
            assert_ne!(status, 404, "{method} {path}");
        }
    }
}
