#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Adobe's rules before sending, with Adobe's own codes beside canonical pointers.

mod common;

use serde_json::{Value, json};

fn base() -> Value {
    json!({"orderRef": "r-1", "currency": "USD", "customer": {"ref": "c", "accounts": {"adobe-vipmp": "9876543210"}}, "lines": [{"lineRef": "1", "sku": "ADB-CC-ALLAPPS", "quantity": 1}]})
}

fn errors(v: Value) -> Vec<(String, String, Option<String>)> {
    let o = common::order(v);
    let route = common::route();
    common::with_ctx(&o, |ctx| route.translate(&o, ctx))
        .unwrap_err()
        .into_iter()
        .map(|f| (f.pointer, f.code, f.vendor_code))
        .collect()
}

fn has(e: &[(String, String, Option<String>)], p: &str, vendor: Option<&str>) -> bool {
    e.iter()
        .any(|(ptr, _, v)| ptr == p && v.as_deref() == vendor)
}

#[test]
fn headers_idempotency_and_line_level_currency() {
    let o = common::order(base());
    let route = common::route();
    let req = common::translated(&route, &o);
    assert_eq!(req.path, "/v3/customers/9876543210/orders");
    assert_eq!(req.retry, connector::RetrySafety::IdempotentByKey);
    assert_eq!(
        req.fresh_id_header.as_ref().map(|h| h.as_str()),
        Some("x-request-id")
    );
    let corr = req
        .headers
        .iter()
        .find(|(k, _)| k.as_str() == "x-correlation-id")
        .map(|(_, v)| v.clone());
    assert_eq!(
        corr.as_deref(),
        Some("dev-r-1"),
        "the correlation id is the order's idempotency key"
    );
    let body = req.body_json().unwrap();
    assert!(
        body.get("currencyCode").is_none(),
        "never at order level (2140)"
    );
    assert_eq!(body["lineItems"][0]["currencyCode"], "USD");
    assert_eq!(body["externalReferenceId"], "r-1");
}

#[test]
fn every_rule_points_at_the_callers_field() {
    let mut v = base();
    v["orderRef"] = json!("x".repeat(36));
    v["returnOf"] = json!("123");
    v["lines"] = json!([{"lineRef": "7", "sku": "ADB-CC-ALLAPPS", "quantity": 1}, {"lineRef": "7", "sku": "ADB-NOPE", "quantity": 1}, {"lineRef": "1000000", "sku": "ADB-CC-ALLAPPS", "quantity": 1, "subscriptionRef": "s", "direction": "return"}]);
    let e = errors(v);
    for (p, code) in [
        ("/orderRef", Some("2126")),
        ("/returnOf", Some("1121")),
        ("/lines/1/lineRef", Some("2121")),
        ("/lines/2/lineRef", Some("2123")),
        ("/lines/1/sku", None),
        ("/lines/2/subscriptionRef", None),
        ("/lines/2/direction", None),
    ] {
        assert!(has(&e, p, code), "{p} {code:?} not in {e:?}");
    }
    let mut v = base();
    v["type"] = json!("return");
    assert!(has(&errors(v), "/returnOf", Some("1122")));
    let mut v = base();
    v["type"] = json!("renewal");
    assert!(has(&errors(v), "/lines/0/subscriptionRef", Some("1122")));
    let mut v = base();
    v["type"] = json!("return");
    v["returnOf"] = json!("1");
    v["intent"] = json!("quote");
    assert!(
        errors(v)
            .iter()
            .any(|(p, c, _)| p == "/intent" && c == "unsupported")
    );
    let mut v = base();
    v["customer"] = json!({"ref": "c"});
    assert!(
        errors(v)
            .iter()
            .any(|(p, c, _)| p == "/customer/accounts/adobe-vipmp" && c == "required")
    );
    let mut v = base();
    v["lines"] = json!(
        (0..500)
            .map(|_| json!({"sku": "ADB-CC-ALLAPPS", "quantity": 1}))
            .collect::<Vec<_>>()
    );
    assert!(has(&errors(v), "/lines", Some("2119")));
}

#[test]
fn order_types_follow_type_and_intent() {
    for (t, intent, sub, want) in [
        ("new", "place", false, "NEW"),
        ("renewal", "place", true, "RENEWAL"),
        ("new", "quote", false, "PREVIEW"),
        ("renewal", "quote", true, "PREVIEW_RENEWAL"),
    ] {
        let mut v = base();
        v["type"] = json!(t);
        v["intent"] = json!(intent);
        if sub {
            v["lines"][0]["subscriptionRef"] = json!("sub-1");
        }
        let o = common::order(v);
        let route = common::route();
        let b = common::translated(&route, &o).body_json().unwrap();
        assert_eq!(b["orderType"], want);
        assert_eq!(b["lineItems"][0].get("subscriptionId").is_some(), sub);
    }
}

/// Issue 19 item 2: the page puts `currencyCode` on every line; an order without
/// `currency` is refused at `/currency` unless the route gives a default.
#[test]
fn currency_is_required_unless_the_route_defaults_it() {
    let mut v = base();
    v.as_object_mut().unwrap().remove("currency");
    let e = errors(v.clone());
    assert!(
        e.iter()
            .any(|(p, c, _)| p == "/currency" && c == "required"),
        "{e:?}"
    );
    let route = common::route_with(json!({}), json!({"currency": "EUR"}));
    let o = common::order(v);
    let body = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(body["lineItems"][0]["currencyCode"], "EUR");
    // The order's own currency wins over the route's default.
    let o = common::order(base());
    let body = common::translated(&route, &o).body_json().unwrap();
    assert_eq!(body["lineItems"][0]["currencyCode"], "USD");
}

#[test]
fn a_default_currency_that_is_not_iso_4217_is_a_config_issue() {
    let catalog = std::collections::BTreeMap::new();
    for bad in [json!("usd"), json!("US"), json!(3)] {
        let defaults = json!({"currency": bad});
        let issues = vendor_adobe_vipmp::connector()
            .prepare(connector::RouteConfig {
                connection: "c",
                settings: &Value::Null,
                catalog: &catalog,
                defaults: &defaults,
            })
            .err()
            .unwrap();
        assert_eq!(issues[0].pointer, "/defaults/currency", "{issues:?}");
    }
}

/// Issue 19 item 4: a non-numeric lineRef must not take a number a numeric lineRef
/// already holds ("2" and "B" on the second line were both 2).
#[test]
fn fallback_line_numbers_never_collide_with_numeric_line_refs() {
    let mut v = base();
    v["lines"] = json!([
        {"lineRef": "2", "sku": "ADB-CC-ALLAPPS", "quantity": 1},
        {"lineRef": "B", "sku": "ADB-CC-ALLAPPS", "quantity": 1},
        {"sku": "ADB-CC-ALLAPPS", "quantity": 1},
        {"lineRef": "1", "sku": "ADB-CC-ALLAPPS", "quantity": 1}
    ]);
    let o = common::order(v);
    let route = common::route();
    let body = common::translated(&route, &o).body_json().unwrap();
    let numbers: Vec<u64> = body["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["extLineItemNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers[0], 2);
    assert_eq!(numbers[3], 1);
    let unique: std::collections::HashSet<_> = numbers.iter().collect();
    assert_eq!(unique.len(), 4, "{numbers:?}");
    assert!(numbers.iter().all(|n| *n <= 999_999));
}
