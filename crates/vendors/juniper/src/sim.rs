//! The Juniper simulator: OAuth2 token endpoint with expiring tokens, create and read
//! orders, Juniper's error shapes (400 `{detail}`, 422 `{detail: [{loc, type, msg}]}`,
//! 401), realistic money: per-pill prices, the 10% partner discount, shipping by method,
//! $5 handling per external product, a volume discount on 90-day supplies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use connector::sim::{SimControl, TokenStore, bearer, with_knobs};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::wire::{
    Administration, FulfillmentInfo, OrderResponse, ResponseLine, ShippingMethod, Status,
    ValidationError, ZipField,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SimSettings {
    pub client_id: String,
    pub client_secret: String,
    pub token_lifetime_secs: u64,
    pub zip_field: ZipField,
    /// Seconds between an order's steps (CREATED -> PROCESSING -> AWAITING_SHIPMENT ->
    /// SHIPPED, with a UPS tracking number -> FULFILLED), seen on read. 0 (the default):
    /// orders stay CREATED.
    pub advance_after_secs: u64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            client_id: "juniper-sandbox".into(),
            client_secret: "juniper-sandbox-secret".into(),
            token_lifetime_secs: 3600,
            zip_field: ZipField::Zip,
            advance_after_secs: 0,
        }
    }
}

/// Products the simulator knows: (productId, per-pill price, external).
pub const PRODUCTS: [(i64, &str, bool); 4] = [
    (77123129891, "0.37", false),
    (77123129892, "0.25", false),
    (77123129893, "0.50", false),
    (88100000001, "0.40", true),
];

struct Sim {
    settings: SimSettings,
    control: Arc<SimControl>,
    tokens: TokenStore,
    /// The answer as created, and when.
    orders: Mutex<HashMap<String, (Value, tokio::time::Instant)>>,
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
        orders: Mutex::new(HashMap::new()),
    });
    let routes = Router::new()
        .route("/oauth2/token", post(token))
        .route("/v1/orders", post(create))
        .route("/v1/orders/{id}", get(read))
        .with_state(sim);
    Ok(with_knobs(routes, control))
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

async fn token(State(sim): State<Arc<Sim>>, Form(f): Form<TokenForm>) -> Response {
    if f.grant_type.as_deref() != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    if f.client_id.as_deref() != Some(&sim.settings.client_id)
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
    Json(json!({"access_token": t, "expires_in": sim.settings.token_lifetime_secs, "token_type": "Bearer"})).into_response()
}

fn authorized(sim: &Sim, headers: &HeaderMap) -> Result<(), Response> {
    match bearer(headers) {
        Some(t) if sim.tokens.is_valid(t) => Ok(()),
        _ => Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Not authenticated"})),
        )
            .into_response()),
    }
}

async fn read(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorized(&sim, &headers) {
        return r;
    }
    let found = sim.orders.lock().ok().and_then(|o| o.get(&id).cloned());
    match found {
        Some((o, created)) => {
            Json(advanced(o, created, sim.settings.advance_after_secs)).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": "Order not found"})),
        )
            .into_response(),
    }
}

/// Juniper's statuses in the order an order goes through them.
const STEPS: [Status; 5] = [
    Status::Created,
    Status::Processing,
    Status::AwaitingShipment,
    Status::Shipped,
    Status::Fulfilled,
];

/// The order as it reads `created.elapsed()` after its create: one step per
/// `every_secs`, tracking once shipped (a fixed number per order id).
fn advanced(mut o: Value, created: tokio::time::Instant, every_secs: u64) -> Value {
    let Some(i) = connector::sim::step_reached(created, every_secs, STEPS.len()) else {
        return o;
    };
    let status = &STEPS[i];
    o["status"] = json!(status.as_str());
    if matches!(status, Status::Shipped | Status::Fulfilled) {
        let digits: String = o["id"]
            .as_str()
            .unwrap_or_default()
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .take(16)
            .collect();
        o["fulfillmentInfo"] = json!({"carrier": "UPS", "trackingNumber": format!("1Z{digits}")});
    }
    o
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
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"detail": [{"loc": ["body"], "type": "type_error", "msg": "body is not valid JSON"}]}))).into_response();
    };
    let order = match validate_create(&doc, sim.settings.zip_field) {
        Ok(o) => o,
        Err(errors) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"detail": errors})),
            )
                .into_response();
        }
    };
    for l in &order.lines {
        if !PRODUCTS.iter().any(|p| p.0 == l.product_id) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"detail": format!("Product {} does not exist", l.product_id)})),
            )
                .into_response();
        }
    }
    let n = sim.control.next("orders_created");
    let id = order_id(n);
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let response = price(&id, &order, now);
    let Ok(value) = serde_json::to_value(&response) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The response echoes the customer as sent, and spells the one-time order type
    // `ONE-TIME` where the request says `ONE_TIME` (as the page documents).
    let mut value = value;
    if let Some(m) = value.as_object_mut() {
        if let Some(c) = doc.get("customer") {
            m.insert("customer".into(), c.clone());
        }
        if m.get("orderType").and_then(Value::as_str) == Some("ONE_TIME") {
            m.insert("orderType".into(), json!("ONE-TIME"));
        }
    }
    if let Ok(mut o) = sim.orders.lock() {
        o.insert(id, (value.clone(), tokio::time::Instant::now()));
    }
    (StatusCode::CREATED, Json(value)).into_response()
}

/// The id of the simulator's n-th order (1-based): 27-character base62, like Juniper's
/// (`2vSGym0bH8qVEwCIGlyFoRgJq1A`). Public so tests can find an order at the vendor the
/// way an operator would.
pub fn order_id(n: u64) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2F5A_17C3;
    let mut s = String::from("2vSG");
    while s.len() < 27 {
        s.push(A[(x % 62) as usize] as char);
        x = x / 62 + n.wrapping_mul(31).wrapping_add(s.len() as u64 * 7919);
    }
    s
}

/// The create body after validation.
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub days_supply: u16,
    pub shipping: ShippingMethod,
    pub one_time: bool,
    pub lines: Vec<ValidLine>,
}

#[derive(Debug, Clone)]
pub struct ValidLine {
    pub product_id: i64,
    pub quantity: u32,
    pub pack_description: String,
    pub administration: Option<Administration>,
}

fn err(loc: &[Value], kind: &str, msg: &str) -> ValidationError {
    let mut l = vec![json!("body")];
    l.extend_from_slice(loc);
    ValidationError {
        loc: l,
        kind: kind.into(),
        msg: Some(msg.into()),
    }
}

fn req_str<'a>(
    v: &'a Value,
    key: &str,
    loc: &[Value],
    out: &mut Vec<ValidationError>,
) -> Option<&'a str> {
    let mut at = loc.to_vec();
    at.push(json!(key));
    match v.get(key) {
        None | Some(Value::Null) => {
            out.push(err(&at, "missing", "field required"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            out.push(err(&at, "type_error", "str type expected"));
            None
        }
    }
}

fn opt_str<'a>(
    v: &'a Value,
    key: &str,
    loc: &[Value],
    out: &mut Vec<ValidationError>,
) -> Option<&'a str> {
    match v.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            let mut at = loc.to_vec();
            at.push(json!(key));
            out.push(err(&at, "type_error", "str type expected"));
            None
        }
    }
}

fn check_len(
    s: Option<&str>,
    max: usize,
    loc: &[Value],
    key: &str,
    out: &mut Vec<ValidationError>,
) {
    if let Some(s) = s
        && (s.is_empty() || s.chars().count() > max)
    {
        let mut at = loc.to_vec();
        at.push(json!(key));
        out.push(err(
            &at,
            "invalid",
            &format!("ensure this value has 1 to {max} characters"),
        ));
    }
}

/// Every rule of Juniper's page, as the simulator enforces it (pure, for property tests).
/// The checks run in the order of the page's fields, so the errors come in that order.
pub fn validate_create(
    doc: &Value,
    zip_field: ZipField,
) -> Result<ValidOrder, Vec<ValidationError>> {
    let mut out = Vec::new();
    if !doc.is_object() {
        return Err(vec![err(&[], "type_error", "object expected")]);
    }
    validate_customer(doc.get("customer"), zip_field, &mut out);
    let days_supply = validate_days_supply(doc, &mut out);
    let shipping = validate_shipping_method(doc, &mut out);
    let one_time = validate_order_type(doc, &mut out);
    let lines = validate_line_items(doc, &mut out);
    if out.is_empty() {
        Ok(ValidOrder {
            days_supply,
            shipping,
            one_time,
            lines,
        })
    } else {
        Err(out)
    }
}

fn validate_customer(
    customer: Option<&Value>,
    zip_field: ZipField,
    out: &mut Vec<ValidationError>,
) {
    let c = match customer {
        Some(c) if c.is_object() => c,
        Some(_) => return out.push(err(&[json!("customer")], "type_error", "object expected")),
        None => return out.push(err(&[json!("customer")], "missing", "field required")),
    };
    let loc = [json!("customer")];
    req_str(c, "sourceId", &loc, out);
    for k in ["firstName", "lastName"] {
        if let Some(s) = req_str(c, k, &loc, out)
            && s.trim().is_empty()
        {
            out.push(err(
                &[json!("customer"), json!(k)],
                "invalid",
                "must not be blank",
            ));
        }
    }
    if let Some(e) = opt_str(c, "email", &loc, out) {
        let ok = e
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'));
        if !ok {
            out.push(err(
                &[json!("customer"), json!("email")],
                "invalid",
                "value is not a valid email address",
            ));
        }
    }
    opt_str(c, "phone", &loc, out);
    match c.get("address") {
        Some(a) if a.is_object() => validate_address(a, zip_field, out),
        Some(_) => out.push(err(
            &[json!("customer"), json!("address")],
            "type_error",
            "object expected",
        )),
        None => out.push(err(
            &[json!("customer"), json!("address")],
            "missing",
            "field required",
        )),
    }
}

fn validate_address(a: &Value, zip_field: ZipField, out: &mut Vec<ValidationError>) {
    let loc = [json!("customer"), json!("address")];
    let l1 = req_str(a, "line1", &loc, out);
    check_len(l1, 100, &loc, "line1", out);
    let l2 = opt_str(a, "line2", &loc, out);
    check_len(l2, 100, &loc, "line2", out);
    let city = req_str(a, "city", &loc, out);
    check_len(city, 50, &loc, "city", out);
    if let Some(st) = req_str(a, "state", &loc, out)
        && st.len() != 2
    {
        out.push(err(
            &[json!("customer"), json!("address"), json!("state")],
            "invalid",
            "ensure this value has exactly 2 characters",
        ));
    }
    let zip_key = match zip_field {
        ZipField::Zip => "zip",
        ZipField::ZipCode => "zipCode",
    };
    if let Some(z) = req_str(a, zip_key, &loc, out) {
        let b = z.as_bytes();
        let five = |x: &[u8]| x.len() == 5 && x.iter().all(u8::is_ascii_digit);
        let ok = five(b)
            || (b.len() == 10
                && five(&b[..5])
                && b[5] == b'-'
                && b[6..].iter().all(u8::is_ascii_digit));
        if !ok {
            out.push(err(
                &[json!("customer"), json!("address"), json!(zip_key)],
                "invalid",
                "string does not match regex \"^\\d{5}(-\\d{4})?$\"",
            ));
        }
    }
}

fn validate_days_supply(doc: &Value, out: &mut Vec<ValidationError>) -> u16 {
    match doc.get("daysSupply").and_then(Value::as_u64) {
        Some(d @ (30 | 60 | 90)) => d as u16,
        Some(_) => {
            out.push(err(
                &[json!("daysSupply")],
                "invalid",
                "value is not a valid enumeration member; permitted: 30, 60, 90",
            ));
            30
        }
        None => {
            let kind = if doc.get("daysSupply").is_some() {
                "type_error"
            } else {
                "missing"
            };
            out.push(err(&[json!("daysSupply")], kind, "field required"));
            30
        }
    }
}

fn validate_shipping_method(doc: &Value, out: &mut Vec<ValidationError>) -> ShippingMethod {
    match doc
        .get("shippingMethod")
        .map(|v| serde_json::from_value::<ShippingMethod>(v.clone()))
    {
        Some(Ok(m)) => m,
        Some(Err(_)) => {
            out.push(err(&[json!("shippingMethod")], "invalid", "value is not a valid enumeration member; permitted: 'STANDARD', 'EXPRESS', 'OVERNIGHT'"));
            ShippingMethod::Standard
        }
        None => {
            out.push(err(&[json!("shippingMethod")], "missing", "field required"));
            ShippingMethod::Standard
        }
    }
}

/// Whether the order is one-time. The request enum is ONE_TIME (the response's ONE-TIME is
/// not accepted here).
fn validate_order_type(doc: &Value, out: &mut Vec<ValidationError>) -> bool {
    match doc.get("orderType").and_then(Value::as_str) {
        Some("ONE_TIME") => true,
        Some("SUBSCRIPTION") => false,
        Some(_) => {
            out.push(err(
                &[json!("orderType")],
                "invalid",
                "value is not a valid enumeration member; permitted: 'ONE_TIME', 'SUBSCRIPTION'",
            ));
            true
        }
        None => {
            out.push(err(&[json!("orderType")], "missing", "field required"));
            true
        }
    }
}

fn validate_line_items(doc: &Value, out: &mut Vec<ValidationError>) -> Vec<ValidLine> {
    match doc.get("lineItems").and_then(Value::as_array) {
        None => {
            out.push(err(&[json!("lineItems")], "missing", "field required"));
            Vec::new()
        }
        Some(items) if items.is_empty() => {
            out.push(err(
                &[json!("lineItems")],
                "invalid",
                "ensure this value has at least 1 items",
            ));
            Vec::new()
        }
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| validate_line_item(i, item, out))
            .collect(),
    }
}

fn validate_line_item(i: usize, item: &Value, out: &mut Vec<ValidationError>) -> Option<ValidLine> {
    let loc = [json!("lineItems"), json!(i)];
    let product_id = item.get("productId").and_then(Value::as_i64);
    if product_id.is_none() {
        out.push(err(
            &[json!("lineItems"), json!(i), json!("productId")],
            if item.get("productId").is_some() {
                "type_error"
            } else {
                "missing"
            },
            "integer required",
        ));
    }
    let quantity = item
        .get("quantity")
        .and_then(Value::as_u64)
        .filter(|q| *q >= 1 && *q <= u64::from(u32::MAX));
    if quantity.is_none() {
        out.push(err(
            &[json!("lineItems"), json!(i), json!("quantity")],
            if item.get("quantity").is_some() {
                "invalid"
            } else {
                "missing"
            },
            "a positive integer is required",
        ));
    }
    let pack = req_str(item, "packDescription", &loc, out);
    let administration = validate_administration(i, item.get("administration"), out);
    Some(ValidLine {
        product_id: product_id?,
        quantity: quantity? as u32,
        pack_description: pack?.to_owned(),
        administration,
    })
}

fn validate_administration(
    i: usize,
    administration: Option<&Value>,
    out: &mut Vec<ValidationError>,
) -> Option<Administration> {
    let a = match administration {
        None | Some(Value::Null) => return None,
        Some(a) => a,
    };
    let mut counts = [0u32; 4];
    for (k, key) in ["morning", "afternoon", "evening", "sleep"]
        .into_iter()
        .enumerate()
    {
        match a.get(key).and_then(Value::as_u64) {
            Some(n) => counts[k] = n as u32,
            None => out.push(err(
                &[
                    json!("lineItems"),
                    json!(i),
                    json!("administration"),
                    json!(key),
                ],
                "missing",
                "field required",
            )),
        }
    }
    Some(Administration {
        morning: counts[0],
        afternoon: counts[1],
        evening: counts[2],
        sleep: counts[3],
    })
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or(Decimal::ZERO)
}

/// Juniper's pricing, as the simulator models it.
fn price(id: &str, o: &ValidOrder, now: String) -> OrderResponse {
    let partner = dec("0.90");
    let mut subtotal = Decimal::ZERO;
    let mut discounted = Decimal::ZERO;
    let mut fees = Decimal::ZERO;
    let mut lines = Vec::new();
    for l in &o.lines {
        let (_, p, external) = PRODUCTS
            .iter()
            .find(|p| p.0 == l.product_id)
            .copied()
            .unwrap_or((0, "0", false));
        let per_pill = dec(p);
        let per_pill_discounted = (per_pill * partner).round_dp(2);
        let pills = Decimal::from(l.administration.map_or(1, |a| a.per_day().max(1)))
            * Decimal::from(o.days_supply)
            * Decimal::from(l.quantity);
        subtotal += per_pill * pills;
        discounted += per_pill_discounted * pills;
        if external {
            fees += dec("5.00") * Decimal::from(l.quantity);
        }
        lines.push(ResponseLine {
            product_id: l.product_id,
            quantity: l.quantity,
            pack_description: Some(l.pack_description.clone()),
            price: Some(per_pill),
            discounted_price: Some(per_pill_discounted),
            administration: l.administration,
        });
    }
    let shipping = match o.shipping {
        ShippingMethod::Standard => dec("9.99"),
        ShippingMethod::Express => dec("19.99"),
        ShippingMethod::Overnight => dec("29.99"),
    };
    let volume = if o.days_supply == 90 {
        (discounted * dec("0.05")).round_dp(2)
    } else {
        Decimal::ZERO
    };
    let two = |d: Decimal| {
        let mut d = d.round_dp(2).max(Decimal::ZERO);
        d.rescale(2);
        Some(d)
    };
    OrderResponse {
        id: id.to_owned(),
        discount: Some("10%".into()),
        days_supply: Some(o.days_supply),
        order_type: Some(if o.one_time {
            crate::wire::OrderType::OneTime
        } else {
            crate::wire::OrderType::Subscription
        }),
        shipping_method: Some(o.shipping),
        status: Status::Created,
        fulfillment_info: Some(FulfillmentInfo {
            carrier: None,
            tracking_number: None,
        }),
        line_items: lines,
        subtotal_price: two(subtotal),
        total_discount: two(discounted),
        total_fees: two(fees),
        total_shipping: two(shipping),
        total_volume_discount: two(volume),
        total_price: two(discounted + fees + shipping - volume),
        created_at: Some(now.clone()),
        updated_at: Some(now),
    }
}
