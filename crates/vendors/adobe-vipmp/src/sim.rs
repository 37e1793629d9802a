//! The Adobe VIP Marketplace simulator: IMS token endpoint, create order with Adobe's
//! rules and codes, correlation-id idempotency (same id -> the stored original answer;
//! a reused request id under another correlation id -> 400/4120), orders that start at
//! 1002 and complete (1000) after `completeAfterSecs`, previews that store nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use connector::sim::{SimControl, TokenStore, bearer, with_knobs};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SimSettings {
    pub client_id: String,
    pub client_secret: String,
    pub token_lifetime_secs: u64,
    pub complete_after_secs: u64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            client_id: "adobe-sandbox".into(),
            client_secret: "adobe-sandbox-secret".into(),
            token_lifetime_secs: 86_399,
            complete_after_secs: 5,
        }
    }
}

pub const CUSTOMERS: [&str; 2] = ["9876543210", "1000000001"];
/// Known but inactive: orders are refused with 2129.
pub const INACTIVE_CUSTOMERS: [&str; 1] = ["1111111111"];
pub const OFFERS: [&str; 3] = ["80004567EA01A12", "65304470CA01A12", "30001234CA02A12"];
pub const DEPLOYMENTS: [&str; 1] = ["12345"];

struct Stored {
    body: Value,
    created: Instant,
}

struct Sim {
    settings: SimSettings,
    control: Arc<SimControl>,
    tokens: TokenStore,
    by_correlation: Mutex<HashMap<String, (u16, Value)>>,
    request_ids: Mutex<HashMap<String, String>>,
    orders: Mutex<HashMap<String, Stored>>,
    in_flight: Mutex<HashSet<String>>,
}

pub fn router(
    settings: &Value,
    control: Arc<SimControl>,
) -> Result<Router, connector::sim::SimSettingsError> {
    let settings: SimSettings = connector::sim::parse_settings(crate::KIND, settings)?;
    let sim = Arc::new(Sim {
        settings,
        control: control.clone(),
        tokens: TokenStore::default(),
        by_correlation: Mutex::default(),
        request_ids: Mutex::default(),
        orders: Mutex::default(),
        in_flight: Mutex::default(),
    });
    let routes = Router::new()
        .route("/ims/token/v3", post(token))
        .route("/v3/customers/{cid}/orders", post(create))
        .route("/v3/customers/{cid}/orders/{oid}", get(read))
        .with_state(sim);
    Ok(with_knobs(routes, control))
}

fn error(status: StatusCode, code: &str, message: &str, details: &[String]) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "additionalDetails": details})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    #[allow(dead_code)]
    scope: Option<String>,
}

async fn token(State(sim): State<Arc<Sim>>, Form(f): Form<TokenForm>) -> Response {
    if f.grant_type.as_deref() != Some("client_credentials")
        || f.client_id.as_deref() != Some(&sim.settings.client_id)
        || f.client_secret.as_deref() != Some(&sim.settings.client_secret)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    sim.control.incr("tokens_issued");
    let t = sim
        .tokens
        .issue(Duration::from_secs(sim.settings.token_lifetime_secs));
    Json(json!({"access_token": t, "token_type": "bearer", "expires_in": sim.settings.token_lifetime_secs})).into_response()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn authorized(sim: &Sim, h: &HeaderMap) -> Result<(), Response> {
    match bearer(h) {
        None => return Err(error(StatusCode::FORBIDDEN, "4117", "Missing token", &[])),
        Some(t) if !sim.tokens.is_valid(t) => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "4116",
                "Invalid token",
                &[],
            ));
        }
        Some(_) => {}
    }
    if header(h, "x-api-key") != Some(sim.settings.client_id.as_str()) {
        return Err(error(StatusCode::FORBIDDEN, "4115", "Invalid API key", &[]));
    }
    Ok(())
}

async fn read(
    State(sim): State<Arc<Sim>>,
    h: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
) -> Response {
    if let Err(r) = authorized(&sim, &h) {
        return r;
    }
    let Ok(orders) = sim.orders.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match orders.get(&oid) {
        Some(o) if o.body["customerId"] == cid.as_str() => {
            let mut body = o.body.clone();
            if o.created.elapsed() >= Duration::from_secs(sim.settings.complete_after_secs) {
                body["status"] = json!("1000");
                for l in body["lineItems"].as_array_mut().into_iter().flatten() {
                    l["status"] = json!("1000");
                }
            }
            Json(body).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, "1117", "Order not found", &[]),
    }
}

async fn create(
    State(sim): State<Arc<Sim>>,
    h: HeaderMap,
    Path(cid): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = authorized(&sim, &h) {
        return r;
    }
    let Some(correlation) = header(&h, "x-correlation-id").map(str::to_owned) else {
        return error(
            StatusCode::BAD_REQUEST,
            "4119",
            "X-Correlation-Id is required",
            &[],
        );
    };
    if let Some(request_id) = header(&h, "x-request-id") {
        let mut ids = sim.request_ids.lock().unwrap_or_else(|p| p.into_inner());
        match ids.get(request_id) {
            Some(c) if *c != correlation => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "4120",
                    "Duplicate X-Request-Id",
                    &[],
                );
            }
            _ => {
                ids.insert(request_id.to_owned(), correlation.clone());
            }
        }
    }
    // Same correlation id: the stored original answer, no second order.
    if let Some((status, stored)) = sim
        .by_correlation
        .lock()
        .ok()
        .and_then(|m| m.get(&correlation).cloned())
    {
        sim.control.incr("replays");
        return (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            Json(stored),
        )
            .into_response();
    }
    if !sim
        .in_flight
        .lock()
        .map(|mut s| s.insert(correlation.clone()))
        .unwrap_or(false)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "4122",
            "The order is already being processed",
            &[],
        );
    }
    let answer = place(&sim, &cid, &body);
    if let Ok(mut s) = sim.in_flight.lock() {
        s.remove(&correlation);
    }
    let (status, value) = answer;
    // Only definitive answers are remembered under the correlation id.
    if status < 500
        && let Ok(mut m) = sim.by_correlation.lock()
    {
        m.insert(correlation, (status, value.clone()));
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(value),
    )
        .into_response()
}

fn err_value(code: &str, message: &str, details: &[String]) -> (u16, Value) {
    let status = match code {
        "2129" | "2138" => 404,
        _ => 400,
    };
    (
        status,
        json!({"code": code, "message": message, "additionalDetails": details}),
    )
}

fn place(sim: &Sim, cid: &str, body: &[u8]) -> (u16, Value) {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return err_value("1117", "Invalid JSON", &[]);
    };
    if let Err((code, msg, details)) = validate_create(cid, &doc) {
        return err_value(code, &msg, &details);
    }
    let order_type = doc["orderType"].as_str().unwrap_or("NEW");
    let preview = order_type.starts_with("PREVIEW");
    let order_id = if preview {
        String::new()
    } else {
        format!(
            "{:010}",
            5_100_000_000u64 + sim.control.next("orders_created")
        )
    };
    let lines: Vec<Value> = doc["lineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let mut out = l.clone();
            out["status"] = json!(if preview { "1000" } else { "1002" });
            if out.get("subscriptionId").is_none() {
                out["subscriptionId"] = json!("");
            }
            out
        })
        .collect();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let answer = json!({
        "externalReferenceId": doc.get("externalReferenceId").cloned().unwrap_or(json!("")),
        "orderId": order_id,
        "customerId": cid,
        "orderType": order_type,
        "referenceOrderId": doc.get("referenceOrderId").cloned().unwrap_or(json!("")),
        "creationDate": now,
        "status": if preview { "1000" } else { "1002" },
        "source": "API",
        "lineItems": lines,
        "links": {"self": {"uri": format!("/v3/customers/{cid}/orders/{order_id}"), "method": "GET", "headers": []}}
    });
    if !preview {
        if let Ok(mut o) = sim.orders.lock() {
            o.insert(
                order_id,
                Stored {
                    body: answer.clone(),
                    created: Instant::now(),
                },
            );
        }
        return (201, answer);
    }
    (200, answer)
}

type Refusal = (&'static str, String, Vec<String>);

/// Adobe's rules with its codes (pure, for property tests).
pub fn validate_create(cid: &str, doc: &Value) -> Result<(), Refusal> {
    if INACTIVE_CUSTOMERS.contains(&cid) {
        return Err(("2129", "Customer is not eligible".into(), vec![]));
    }
    if !CUSTOMERS.contains(&cid) {
        return Err(("2129", format!("Customer {cid} not found"), vec![]));
    }
    let allowed = [
        "externalReferenceId",
        "currencyCode",
        "orderType",
        "referenceOrderId",
        "lineItems",
        "flexDiscountCodes",
    ];
    if let Some(k) = doc
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !allowed.contains(&k.as_str()))
    {
        return Err(("1121", "Unexpected fields".into(), vec![k.clone()]));
    }
    let order_type = doc["orderType"].as_str().unwrap_or_default();
    if !["NEW", "RETURN", "PREVIEW", "PREVIEW_RENEWAL", "RENEWAL"].contains(&order_type) {
        return Err(("1117", "Invalid orderType".into(), vec!["orderType".into()]));
    }
    match (
        order_type == "RETURN",
        doc.get("referenceOrderId").and_then(Value::as_str),
    ) {
        (true, None) => {
            return Err((
                "1122",
                "referenceOrderId is required for RETURN".into(),
                vec!["referenceOrderId".into()],
            ));
        }
        (false, Some(_)) => {
            return Err((
                "1121",
                "referenceOrderId is only for RETURN".into(),
                vec!["referenceOrderId".into()],
            ));
        }
        _ => {}
    }
    if doc
        .get("externalReferenceId")
        .and_then(Value::as_str)
        .is_some_and(|r| r.chars().count() > 35)
    {
        return Err(("2126", "externalReferenceId is too long".into(), vec![]));
    }
    let Some(lines) = doc["lineItems"].as_array().filter(|l| !l.is_empty()) else {
        return Err((
            "1122",
            "lineItems are required".into(),
            vec!["lineItems".into()],
        ));
    };
    if lines.len() > 499 {
        return Err(("2119", "Too many line items".into(), vec![]));
    }
    let order_currency = doc.get("currencyCode").is_some();
    let renewal = order_type == "RENEWAL" || order_type == "PREVIEW_RENEWAL";
    let mut numbers = HashSet::new();
    for l in lines {
        let n = l["extLineItemNumber"].as_u64().unwrap_or(u64::MAX);
        if n > 999_999 {
            return Err((
                "2123",
                "extLineItemNumber out of range".into(),
                vec![n.to_string()],
            ));
        }
        if !numbers.insert(n) {
            return Err((
                "2121",
                "Duplicate extLineItemNumber".into(),
                vec![n.to_string()],
            ));
        }
        validate_line(l, n, order_currency, renewal)?;
    }
    Ok(())
}

/// One line item (`n`, its line number): quantity, offer, currency, renewal, deployment.
fn validate_line(l: &Value, n: u64, order_currency: bool, renewal: bool) -> Result<(), Refusal> {
    let q = l["quantity"].as_u64().unwrap_or(0);
    if !(1..=10_000).contains(&q) {
        return Err((
            "2120",
            "Quantity out of range".into(),
            vec![format!("line {n}")],
        ));
    }
    if !l["offerId"].as_str().is_some_and(|o| OFFERS.contains(&o)) {
        return Err(("2122", "Invalid offer".into(), vec![format!("line {n}")]));
    }
    // The page: currencyCode goes on every line; the order-level one is only kept for
    // backwards compatibility.
    if !order_currency && l.get("currencyCode").is_none() {
        return Err((
            "1122",
            "currencyCode is required".into(),
            vec![format!("line {n}")],
        ));
    }
    if order_currency && l.get("currencyCode").is_some() {
        return Err((
            "2140",
            "currencyCode at both order and line level".into(),
            vec![],
        ));
    }
    if let Some(c) = l.get("currencyCode").and_then(Value::as_str)
        && c != "USD"
        && c != "EUR"
    {
        return Err((
            "2128",
            "Currency not valid for the offer".into(),
            vec![format!("line {n}")],
        ));
    }
    if renewal && l["subscriptionId"].as_str().is_none_or(|s| s.is_empty()) {
        return Err((
            "1122",
            "subscriptionId is required".into(),
            vec![format!("line {n}")],
        ));
    }
    if l.get("deploymentId")
        .and_then(Value::as_str)
        .is_some_and(|d| !DEPLOYMENTS.contains(&d))
    {
        return Err((
            "2138",
            "Invalid deployment".into(),
            vec![format!("line {n}")],
        ));
    }
    if l.get("discountCode")
        .and_then(Value::as_str)
        .is_some_and(|d| d.chars().count() > 40)
    {
        return Err((
            "1117",
            "discountCode too long".into(),
            vec![format!("line {n}")],
        ));
    }
    Ok(())
}
