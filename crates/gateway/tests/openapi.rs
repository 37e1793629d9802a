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
/// The console's HTML pages on the admin listener (`/`, `/playground`, `/unknown`) are
/// for browsers and not part of the API document.
const SERVED: [(&str, &str, bool); 15] = [
    ("post", "/v1/orders", false),
    ("get", "/v1/orders", false),
    ("post", "/v1/orders/preview", false),
    ("get", "/v1/orders/{id}", false),
    ("get", "/v1/orders/{id}/events", false),
    ("get", "/openapi.yaml", false),
    ("get", "/healthz", true),
    ("get", "/readyz", true),
    ("get", "/metrics", true),
    ("get", "/config", true),
    ("get", "/orders/unknown", true),
    ("post", "/orders/{id}/resolve", true),
    ("get", "/webhooks/failed", true),
    ("get", "/webhooks/disabled", true),
    ("post", "/webhooks/redeliver", true),
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

/// The JSON Schema files the source document refers to, and their component names.
const SCHEMA_FILES: [(&str, &str); 3] = [
    ("canonical-order.v1.schema.json", "CanonicalOrder"),
    ("order-result.v1.schema.json", "OrderResult"),
    ("problem.v1.schema.json", "Problem"),
];

#[test]
fn referenced_schemas_exist_and_compile() {
    let dir = common::repo().join("schemas");
    let source = std::fs::read_to_string(dir.join("openapi.src.yaml")).unwrap();
    for (name, _) in SCHEMA_FILES {
        assert!(
            source.contains(&format!("./{name}")),
            "{name} not referenced"
        );
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        order_model::SchemaValidator::new(&schema).unwrap();
    }
}

/// The published document: `schemas/openapi.src.yaml` with every `./<file>.schema.json`
/// reference replaced by `#/components/schemas/<Name>`, each schema file placed there
/// (without `$schema` and `$id`, which would re-base its references) and its `$defs`
/// hoisted beside it as `<Def>` components (first letter upper-cased).
fn generate() -> String {
    let dir = common::repo().join("schemas");
    let source = std::fs::read_to_string(dir.join("openapi.src.yaml")).unwrap();
    let mut doc: Value = serde_norway::from_str(&source).unwrap();
    let mut components = serde_json::Map::new();
    for (file, name) in SCHEMA_FILES {
        let mut schema: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let obj = schema.as_object_mut().unwrap();
        obj.remove("$schema");
        obj.remove("$id");
        let defs = obj.remove("$defs");
        components.insert(name.to_owned(), schema);
        for (def, s) in defs
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let def_name = component_name(def);
            assert!(
                components.insert(def_name.clone(), s.clone()).is_none(),
                "{file}: $defs/{def} collides as {def_name}"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
    for (k, v) in components {
        assert!(
            schemas.insert(k.clone(), v).is_none(),
            "{k} is already a component"
        );
    }
    rewrite_refs(&mut doc);
    let yaml = serde_norway::to_string(&doc).unwrap();
    format!(
        "# GENERATED from openapi.src.yaml and the *.schema.json files beside it: do not edit.\n\
         # Regenerate: OPENAPI_WRITE=1 cargo test -p gateway --test openapi\n{yaml}"
    )
}

fn component_name(def: &str) -> String {
    let mut c = def.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                let to = if let Some(def) = r.strip_prefix("#/$defs/") {
                    format!("#/components/schemas/{}", component_name(def))
                } else if let Some((_, name)) =
                    SCHEMA_FILES.iter().find(|(f, _)| *r == format!("./{f}"))
                {
                    format!("#/components/schemas/{name}")
                } else {
                    r.clone()
                };
                *r = to;
            }
            m.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_served_document_is_the_one_generated_from_the_json_schemas() {
    let generated = generate();
    let path = common::repo().join("schemas/openapi.yaml");
    if std::env::var_os("OPENAPI_WRITE").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert!(
        gateway::http::api::OPENAPI == generated,
        "schemas/openapi.yaml is not what openapi.src.yaml and the JSON Schemas generate; \
         run OPENAPI_WRITE=1 cargo test -p gateway --test openapi"
    );
}

#[test]
fn the_served_document_is_self_contained() {
    let doc = document();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: not a local reference"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    for (_, name) in SCHEMA_FILES {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
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
        let resp = req.bearer_auth("dev-key").send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        // 404 is only acceptable for the order reads (a missing order), never "no route".
        assert!(status != 405, "{method} {path}: {status}");
        if !path.starts_with("/v1/orders/{id}") {
            assert_ne!(status, 404, "{method} {path}");
        }
        assert!(!body.contains("no such path"), "{method} {path}: {body}");
    }
}
