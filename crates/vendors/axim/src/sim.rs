//! The Axim simulator: `accessToken` auth, the page's rules with Axim's envelope
//! (`{success: false, message}` on 400), seeded customers, addresses, payment terms and
//! products so unknown ObjectIds are refused, created orders kept (GET for tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use connector::sim::{SimControl, with_knobs};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::is_object_id;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SimSettings {
    pub token: String,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            token: "axim-sandbox-token".into(),
        }
    }
}

pub const CUSTOMERS: [&str; 2] = ["6328113ba105cf37af7f623b", "6328113ba105cf37af7f6240"];
pub const ADDRESSES: [&str; 3] = [
    "63356b3b3a6353a69043680b",
    "63356b3b3a6353a69043680c",
    "63356b3b3a6353a69043680d",
];
pub const PAYMENT_TERMS: [&str; 1] = ["6400aa11bb22cc33dd44ee55"];
/// (productId, variantId).
pub const PRODUCTS: [(&str, &str); 3] = [
    ("636d07be0438c42bc4d455e3", "636d07be0438c42bc4d455f2"),
    ("636d07be0438c42bc4d455e4", "636d07be0438c42bc4d455f3"),
    ("636d07be0438c42bc4d455e5", "636d07be0438c42bc4d455f4"),
];

struct Sim {
    settings: SimSettings,
    control: Arc<SimControl>,
    orders: Mutex<HashMap<String, Value>>,
}

pub fn router(
    settings: &Value,
    control: Arc<SimControl>,
) -> Result<Router, connector::sim::SimSettingsError> {
    let settings: SimSettings = connector::sim::parse_settings(crate::KIND, settings)?;
    let sim = Arc::new(Sim {
        settings,
        control: control.clone(),
        orders: Mutex::new(HashMap::new()),
    });
    let routes = Router::new()
        .route("/orders", post(create))
        .route("/orders/{id}", get(read))
        .with_state(sim);
    Ok(with_knobs(routes, control))
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"success": false, "message": message}))).into_response()
}

fn authorized(sim: &Sim, headers: &HeaderMap) -> Result<(), Response> {
    match headers.get("accesstoken").and_then(|v| v.to_str().ok()) {
        Some(t) if t == sim.settings.token => Ok(()),
        _ => Err(fail(StatusCode::UNAUTHORIZED, "Unauthorized")),
    }
}

async fn read(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorized(&sim, &headers) {
        return r;
    }
    match sim.orders.lock().ok().and_then(|o| o.get(&id).cloned()) {
        Some(o) => {
            Json(json!({"success": true, "message": "Order fetched", "data": o})).into_response()
        }
        None => fail(StatusCode::NOT_FOUND, "Order not found"),
    }
}

async fn create(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = authorized(&sim, &headers) {
        return r;
    }
    let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
        return fail(StatusCode::BAD_REQUEST, "Invalid JSON");
    };
    if let Err(m) = validate_create(&doc) {
        return fail(StatusCode::BAD_REQUEST, &m);
    }
    let mut data = doc;
    let Ok(mut orders) = sim.orders.lock() else {
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    // Ids are allocated under the lock, so concurrent creates never share one.
    let n = orders.len() as u64 + 1;
    let id = format!("65{:022x}", 0xa1b2c3u64.wrapping_mul(n).wrapping_add(n));
    if let Some(m) = data.as_object_mut() {
        m.insert("id".into(), json!(id));
        m.insert(
            "createdAt".into(),
            json!(
                time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        );
    }
    orders.insert(id, data.clone());
    drop(orders);
    sim.control.incr("orders_created");
    (
        StatusCode::OK,
        Json(json!({"success": true, "message": "Order created successfully", "data": data})),
    )
        .into_response()
}

use crate::translate::joi_len;

fn text(v: &Value, key: &str, min: usize, max: usize, at: &str) -> Result<(), String> {
    match v.get(key) {
        Some(Value::String(s)) if (min..=max).contains(&joi_len(s)) => Ok(()),
        Some(Value::String(_)) => Err(format!(
            "\"{at}.{key}\" length must be {min} to {max} characters"
        )),
        Some(_) => Err(format!("\"{at}.{key}\" must be a string")),
        None => Err(format!("\"{at}.{key}\" is required")),
    }
}

fn non_negative(v: &Value, key: &str, at: &str, required: bool) -> Result<(), String> {
    match v.get(key) {
        None | Some(Value::Null) if !required => Ok(()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|x| x >= 0.0) => Ok(()),
        Some(_) => Err(format!("\"{at}{key}\" must be a positive number or zero")),
        None => Err(format!("\"{at}{key}\" is required")),
    }
}

fn address(a: &Value, at: &str, billing: bool) -> Result<(), String> {
    let (min, max) = if billing { (3, 20) } else { (1, 100) };
    text(a, "firstName", min, max, at)?;
    match a.get("lastName") {
        Some(Value::String(s)) if s.is_empty() || (min..=max).contains(&joi_len(s)) => {}
        _ => {
            return Err(format!(
                "\"{at}.lastName\" length must be {min} to {max} characters or empty"
            ));
        }
    }
    for k in ["address1", "city", "state", "country", "zipcode"] {
        text(a, k, 1, 100, at)?;
    }
    for k in ["address2", "phoneNumber"] {
        if a.get(k).is_some() {
            text(a, k, 1, 100, at)?;
        }
    }
    Ok(())
}

/// The page's rules, as the simulator enforces them (pure, for property tests).
pub fn validate_create(doc: &Value) -> Result<(), String> {
    let id = |k: &str, known: &[&str]| -> Result<(), String> {
        match doc.get(k).and_then(Value::as_str) {
            Some(s) if !is_object_id(s) => Err(format!("\"{k}\" must be a valid id")),
            Some(s) if !known.contains(&s) => Err(format!("\"{k}\" {s} not found")),
            _ => Ok(()),
        }
    };
    if doc.get("customer").and_then(Value::as_str).is_none() {
        return Err("\"customer\" is required".into());
    }
    id("customer", &CUSTOMERS)?;
    for (k, allowed) in [
        (
            "paymentStatus",
            &["unpaid", "authorized", "paid", "declined", "refunded"][..],
        ),
        ("orderStatus", &["fulfilled", "pending", "cancelled"][..]),
    ] {
        match doc.get(k).and_then(Value::as_str) {
            Some(s) if allowed.contains(&s) => {}
            Some(_) => return Err(format!("\"{k}\" must be one of [{}]", allowed.join(", "))),
            None => return Err(format!("\"{k}\" is required")),
        }
    }
    match (doc.get("shippingAddressId"), doc.get("newShippingAddress")) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(
                "\"value\" must contain exactly one of [shippingAddressId, newShippingAddress]"
                    .into(),
            );
        }
        (Some(_), None) => id("shippingAddressId", &ADDRESSES)?,
        (None, Some(a)) => address(a, "newShippingAddress", false)?,
    }
    match (doc.get("billingAddress"), doc.get("newBillingAddress")) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(
                "\"value\" must contain exactly one of [billingAddress, newBillingAddress]".into(),
            );
        }
        (Some(_), None) => id("billingAddress", &ADDRESSES)?,
        (None, Some(a)) => address(a, "newBillingAddress", true)?,
    }
    id("paymentTerm", &PAYMENT_TERMS)?;
    for k in ["taxAmount", "refundedAmount", "shippingCost"] {
        non_negative(doc, k, "", false)?;
    }
    if let Some(c) = doc.get("currency") {
        text(c, "currency", 3, 3, "currency")?;
        text(c, "symbol", 1, 3, "currency")?;
    }
    let Some(lines) = doc
        .get("lineItems")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return Err("\"lineItems\" must contain at least 1 items".into());
    };
    for (i, l) in lines.iter().enumerate() {
        validate_line_item(i, l)?;
    }
    validate_fulfilled_items(doc)?;
    validate_meta_fields(doc)
}

/// One line item: a known product variant and amounts of zero or more.
fn validate_line_item(i: usize, l: &Value) -> Result<(), String> {
    let at = format!("lineItems[{i}].");
    let product = l
        .get("productId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let variant = l
        .get("variantId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !is_object_id(product) || !is_object_id(variant) {
        return Err(format!(
            "\"{at}productId\" and \"{at}variantId\" must be valid ids"
        ));
    }
    if !PRODUCTS.contains(&(product, variant)) {
        return Err(format!("Product {product} variant {variant} not found"));
    }
    non_negative(l, "quantity", &at, true)?;
    non_negative(l, "price", &at, true)?;
    non_negative(l, "fulfilledQuantity", &at, false)?;
    non_negative(l, "discountAmount", &at, false)?;
    for (j, d) in l
        .get("discounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        non_negative(d, "discountedAmount", &format!("{at}discounts[{j}]."), true)?;
        if d.get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !is_object_id(s))
        {
            return Err(format!("\"{at}discounts[{j}].id\" must be a valid id"));
        }
    }
    Ok(())
}

fn validate_fulfilled_items(doc: &Value) -> Result<(), String> {
    for (i, f) in doc
        .get("fulfilledItems")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, item) in f
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            non_negative(
                item,
                "quantity",
                &format!("fulfilledItems[{i}].items[{j}]."),
                true,
            )?;
        }
    }
    Ok(())
}

fn validate_meta_fields(doc: &Value) -> Result<(), String> {
    // Joi's string() refuses "" unless a field allows it (the page allows it only for
    // lastName and shippingLabel).
    for (i, m) in doc
        .get("metaFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for k in ["label", "value"] {
            if m.get(k).and_then(Value::as_str).is_some_and(str::is_empty) {
                return Err(format!(
                    "\"metaFields[{i}].{k}\" is not allowed to be empty"
                ));
            }
        }
    }
    Ok(())
}
