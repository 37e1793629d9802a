//! The Impilo simulator: `POST /api/v3/order`, `GET /api/v3/order/{id}`, key auth in
//! `Impilo-API-Key`, every rule and message of the page, seeded patients, sites, items,
//! kits, devices, packed kits and inventory. 400 bodies are `{"message": "<page text>"}`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use connector::sim::{SimControl, SimSettingsError};
use serde_json::{Value, json};

use crate::messages as m;
use crate::wire::{CreateOrder, ErrorBody, IdRef, OrderEvent, OrderOut, Patient};

pub const DEFAULT_API_KEY: &str = "impilo-sandbox-key";
/// A key Impilo no longer accepts: 401.
pub const EXPIRED_KEY: &str = "impilo-expired-key";
/// A key whose role may read but not create orders: 403 "Access Denied" on create.
pub const READONLY_KEY: &str = "impilo-readonly-key";
/// A key of an account whose ordering feature is off: 403 on every call.
pub const DISABLED_FEATURE_KEY: &str = "impilo-disabled-key";
/// A key whose role may not touch orders at all: 403 "The requested resource is forbidden.".
pub const RESTRICTED_KEY: &str = "impilo-restricted-key";

pub const FIRST_ORDER_ID: u64 = 48_213;

/// Seeded patients: (id, first, last, active). 70003 is deactivated -> `invalid_order`.
pub const PATIENTS: [(u64, &str, &str, bool); 3] = [
    (70_001, "Ada", "Example", true),
    (70_002, "Ben", "Sample", true),
    (70_003, "Cy", "Inactive", false),
];
/// Seeded sites: (id, name, active). Any other id -> `Site {id} not found`.
pub const SITES: [(u64, &str, bool); 3] = [
    (301, "Example Clinic North", true),
    (302, "Example Clinic Closed", false),
    (303, "Example Hospital Depot", true),
];
/// Seeded items: (id, orderable, stock). 1003 is non-orderable, 1004 has no stock.
pub const ITEMS: [(u64, bool, u32); 4] = [
    (1001, true, 1_000_000),
    (1002, true, 1_000_000),
    (1003, false, 100),
    (1004, true, 0),
];
/// Seeded kits: (id, orderable, stock, loaner). 2002 is THE loaner kit, 2003 is
/// non-orderable, 2004 has one unit (a second order of it -> `insufficient_inventory`).
pub const KITS: [(u64, bool, u32, bool); 4] = [
    (2001, true, 100_000, false),
    (2002, true, 100_000, true),
    (2003, false, 10, false),
    (2004, true, 1, false),
];
/// Seeded devices: (id, serial).
pub const DEVICES: [(u64, &str); 5] = [
    (5001, "IMP-SN-0001"),
    (5002, "IMP-SN-0002"),
    (5003, "IMP-SN-0003"),
    (5004, "IMP-SN-0004"),
    (5005, "IMP-SN-0005"),
];
/// Seeded packed kits: (id, device ids inside).
pub const PACKED_KITS: [(u64, &[u64]); 2] = [(4001, &[5002, 5003]), (4002, &[5004])];

fn loaner_kit(id: u64) -> bool {
    KITS.iter().any(|k| k.0 == id && k.3)
}

fn device_id(d: &crate::wire::DeviceRef) -> Option<u64> {
    match (d.id, d.serial_number.as_deref()) {
        (Some(id), _) => Some(id),
        (None, Some(sn)) => DEVICES.iter().find(|(_, s)| *s == sn).map(|(id, _)| *id),
        (None, None) => None,
    }
}

fn blank(s: Option<&String>) -> bool {
    s.is_none_or(|s| s.trim().is_empty())
}

/// The page's rules that need nothing but the body and the (static) seed, in the page's
/// order; `Err` is the exact 400 message. Reference checks (does this patient, site, item
/// exist; is there stock) are made by the running simulator after this.
pub fn validate_create(body: &Value) -> Result<CreateOrder, String> {
    if !body.is_object() {
        return Err(m::INVALID_DATA.to_owned());
    }
    let order: CreateOrder =
        serde_json::from_value(body.clone()).map_err(|_| m::INVALID_DATA.to_owned())?;
    let counts = order
        .order_items
        .iter()
        .map(|l| l.count)
        .chain(order.order_kits.iter().map(|l| l.count))
        .chain(order.return_items.iter().map(|l| l.count))
        .chain(order.return_packed_kits.iter().map(|l| l.count));
    let bad_ids = counts.clone().any(|c| c == 0)
        || order
            .return_devices
            .iter()
            .any(|d| d.device.id.is_none() && blank(d.device.serial_number.as_ref()))
        || order.external_order_ids.iter().any(|s| s.trim().is_empty())
        || order.order_notes.iter().any(|n| n.note.trim().is_empty());
    if bad_ids {
        return Err(m::INVALID_DATA.to_owned());
    }
    let returns = !(order.return_items.is_empty()
        && order.return_devices.is_empty()
        && order.return_packed_kits.is_empty());
    if order.order_items.is_empty() && order.order_kits.is_empty() && !returns {
        return Err(m::NO_CONTENT.to_owned());
    }
    match (&order.patient, &order.site) {
        (None, None) => return Err(m::PATIENT_OR_SITE_REQUIRED.to_owned()),
        (Some(_), Some(_)) => return Err(m::INVALID_DATA.to_owned()),
        (Some(p), None) if p.is_empty() => return Err(m::PATIENT_REQUIRED.to_owned()),
        _ => {}
    }
    if returns && order.email_label != Some(true) && order.shipping_option.is_none() {
        return Err(m::SHIPPING_OPTION_REQUIRED.to_owned());
    }
    let loaners: Vec<u32> = order
        .order_kits
        .iter()
        .filter(|k| loaner_kit(k.kit.id))
        .map(|k| k.count)
        .collect();
    if !loaners.is_empty() {
        if loaners.len() > 1 {
            return Err(m::MAX_ONE_LOANER_KIT.to_owned());
        }
        if loaners.iter().any(|c| *c != 1) {
            return Err(m::QTY_OVER_ONE_LOANER_KIT.to_owned());
        }
        if returns {
            return Err(m::NO_RETURNS_WITH_LOANER_KIT.to_owned());
        }
        if order.site.is_some() {
            return Err(m::NO_LOANER_KIT_TO_SITE.to_owned());
        }
    }
    let packed: BTreeSet<u64> = order
        .return_packed_kits
        .iter()
        .flat_map(|p| {
            PACKED_KITS
                .iter()
                .filter(move |(id, _)| *id == p.packed_kit.id)
                .flat_map(|(_, d)| d.iter().copied())
        })
        .collect();
    if order
        .return_devices
        .iter()
        .filter_map(|d| device_id(&d.device))
        .any(|id| packed.contains(&id))
    {
        return Err(m::DEVICE_IN_PACKED_KIT.to_owned());
    }
    if let Some(p) = &order.patient
        && p.id.is_none()
    {
        new_patient(p)?;
    }
    Ok(order)
}

fn new_patient(p: &Patient) -> Result<(), String> {
    if blank(p.first_name.as_ref()) {
        return Err(m::FIRST_NAME.to_owned());
    }
    if blank(p.last_name.as_ref()) {
        return Err(m::LAST_NAME.to_owned());
    }
    let Some(a) = &p.address else {
        return Err(m::ADDRESS_REQUIRED.to_owned());
    };
    for (v, msg) in [
        (&a.line_one, m::LINE_ONE),
        (&a.city, m::CITY),
        (&a.state, m::STATE),
        (&a.country, m::COUNTRY),
        (&a.zip_code, m::ZIP_CODE),
    ] {
        if blank(v.as_ref()) {
            return Err(msg.to_owned());
        }
    }
    Ok(())
}

struct PatientRec {
    first: String,
    last: String,
    active: bool,
}

struct Store {
    next_order: u64,
    next_patient: u64,
    orders: BTreeMap<u64, OrderOut>,
    /// When each order was created (it moves along from there, `advanceAfterSecs`).
    created: BTreeMap<u64, tokio::time::Instant>,
    patients: BTreeMap<u64, PatientRec>,
    item_stock: BTreeMap<u64, u32>,
    kit_stock: BTreeMap<u64, u32>,
}

struct Sim {
    control: Arc<SimControl>,
    api_key: String,
    /// Seconds per status step on read; 0: orders stay CREATED.
    advance_after_secs: u64,
    started: tokio::time::Instant,
    store: Mutex<Store>,
}

impl Sim {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wall-clock-looking timestamps on `tokio::time`: a fixed epoch plus the sim's age.
    fn now(&self) -> String {
        let base = time::macros::datetime!(2025-01-01 00:00:00 UTC);
        let t = base + self.started.elapsed();
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

fn bad_request(msg: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(ErrorBody {
            message: msg.into(),
        }),
    )
        .into_response()
}

fn status(code: StatusCode, msg: &str) -> Response {
    (code, Json(json!({"message": msg}))).into_response()
}

/// Builds the simulator. `settings`: `{"apiKey": "...", "firstOrderId": n}`, both optional.
pub fn router(settings: &Value, control: Arc<SimControl>) -> Result<Router, SimSettingsError> {
    let mut api_key = DEFAULT_API_KEY.to_owned();
    let mut first = FIRST_ORDER_ID;
    let mut advance = 0;
    match settings {
        Value::Null => {}
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("apiKey", Value::String(s)) if !s.is_empty() => api_key = s.clone(),
                    ("firstOrderId", v) if v.as_u64().is_some_and(|n| n > 0) => {
                        first = v.as_u64().unwrap_or(FIRST_ORDER_ID)
                    }
                    ("advanceAfterSecs", v) if v.as_u64().is_some() => {
                        advance = v.as_u64().unwrap_or(0);
                    }
                    ("apiKey" | "firstOrderId" | "advanceAfterSecs", _) => {
                        return Err(SimSettingsError::Refused(format!(
                            "impilo simulator setting {k} has the wrong type"
                        )));
                    }
                    _ => {
                        return Err(SimSettingsError::Refused(format!(
                            "unknown impilo simulator setting {k} (known: apiKey, firstOrderId, advanceAfterSecs)"
                        )));
                    }
                }
            }
        }
        _ => {
            return Err(SimSettingsError::Refused(
                "impilo simulator settings must be an object".to_owned(),
            ));
        }
    }
    let store = Store {
        next_order: first,
        next_patient: 80_001,
        orders: BTreeMap::new(),
        created: BTreeMap::new(),
        patients: PATIENTS
            .iter()
            .map(|(id, f, l, a)| {
                (
                    *id,
                    PatientRec {
                        first: (*f).to_owned(),
                        last: (*l).to_owned(),
                        active: *a,
                    },
                )
            })
            .collect(),
        item_stock: ITEMS.iter().map(|(id, _, s)| (*id, *s)).collect(),
        kit_stock: KITS.iter().map(|(id, _, s, _)| (*id, *s)).collect(),
    };
    let sim = Arc::new(Sim {
        control: control.clone(),
        api_key,
        advance_after_secs: advance,
        started: tokio::time::Instant::now(),
        store: Mutex::new(store),
    });
    let routes = Router::new()
        .route("/api/v3/order", post(create))
        .route("/api/v3/order/{id}", get(fetch))
        .with_state(sim);
    Ok(connector::sim::with_knobs(routes, control))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

fn authorize(sim: &Sim, headers: &HeaderMap, access: Access) -> Result<(), Box<Response>> {
    let key = headers
        .get("impilo-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !key.is_empty() && key == sim.api_key {
        return Ok(());
    }
    match key {
        READONLY_KEY if access == Access::Read => Ok(()),
        READONLY_KEY => Err(Box::new(status(StatusCode::FORBIDDEN, m::ACCESS_DENIED))),
        DISABLED_FEATURE_KEY => Err(Box::new(status(StatusCode::FORBIDDEN, m::FEATURE_DISABLED))),
        RESTRICTED_KEY => Err(Box::new(status(
            StatusCode::FORBIDDEN,
            m::RESOURCE_FORBIDDEN,
        ))),
        _ => Err(Box::new(status(StatusCode::UNAUTHORIZED, "Unauthorized"))),
    }
}

async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorize(&sim, &headers, Access::Write) {
        return *r;
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(m::INVALID_JSON);
    };
    let order = match validate_create(&value) {
        Ok(o) => o,
        Err(msg) => return bad_request(msg),
    };
    let now = sim.now();
    let mut store = sim.lock();
    let patients_before = store.next_patient;
    let out = match place(&mut store, order, now) {
        Ok(o) => o,
        Err(msg) => return bad_request(msg),
    };
    let patients_created = store.next_patient - patients_before;
    drop(store);
    sim.control.incr("orders_created");
    for _ in 0..patients_created {
        sim.control.incr("patients_created");
    }
    (StatusCode::CREATED, Json(out)).into_response()
}

/// Reference checks against the live store, then the order is stored and stock taken.
/// The checks run in the order Impilo's answers suggest, so the first refusal wins.
fn place(store: &mut Store, order: CreateOrder, now: String) -> Result<OrderOut, String> {
    let (mut patient_out, new_patient) = check_patient(store, order.patient.as_ref())?;
    let site_out = check_site(order.site.as_ref())?;
    let (items, kits) = outbound_counts(&order)?;
    check_returns(&order)?;
    take_stock(store, items, kits)?;
    if let Some(p) = new_patient {
        patient_out = Some(create_patient(store, p));
    }
    let id = store.next_order;
    store.next_order += 1;
    let out = OrderOut {
        id,
        devices: returned_devices(&order),
        packed_kits: returned_packed_kits(&order),
        external_order_ids: order.external_order_ids,
        patient: patient_out,
        site: site_out,
        current_status: "CREATED".to_owned(),
        order_events: vec![OrderEvent {
            status: "CREATED".to_owned(),
            created_at: now,
        }],
        tracking_numbers: Vec::new(),
        order_items: order.order_items,
        order_kits: order.order_kits,
        return_items: order.return_items,
        return_devices: order.return_devices,
        return_packed_kits: order.return_packed_kits,
        order_notes: order.order_notes,
        shipping_option: order.shipping_option,
        email_label: order.email_label.unwrap_or(false),
    };
    store.orders.insert(id, out.clone());
    store.created.insert(id, tokio::time::Instant::now());
    Ok(out)
}

/// An existing patient (as answered) or a new one to create once every check passed.
fn check_patient(
    store: &Store,
    patient: Option<&Patient>,
) -> Result<(Option<Value>, Option<Patient>), String> {
    let Some(p) = patient else {
        return Ok((None, None));
    };
    match p.id {
        Some(id) => match store.patients.get(&id) {
            None => Err(m::PATIENT_DOES_NOT_EXIST.to_owned()),
            Some(rec) if !rec.active => Err(m::INVALID_ORDER.to_owned()),
            Some(rec) => Ok((
                Some(json!({"id": id, "firstName": rec.first, "lastName": rec.last})),
                None,
            )),
        },
        None => {
            if let Some(site) = p.site
                && !SITES
                    .iter()
                    .any(|(id, _, active)| *id == site.id && *active)
            {
                return Err(m::SITE_UNABLE_TO_FIND.to_owned());
            }
            Ok((None, Some(p.clone())))
        }
    }
}

fn check_site(site: Option<&IdRef>) -> Result<Option<Value>, String> {
    let Some(site) = site else {
        return Ok(None);
    };
    match SITES.iter().find(|(id, _, _)| *id == site.id) {
        None => Err(m::site_not_found(site.id)),
        Some((_, _, false)) => Err(m::site_not_active(site.id)),
        Some((id, name, true)) => Ok(Some(json!({"id": id, "name": name}))),
    }
}

type Counts = BTreeMap<u64, u32>;

/// How many of each orderable item and kit the order ships.
fn outbound_counts(order: &CreateOrder) -> Result<(Counts, Counts), String> {
    let mut items = Counts::new();
    for l in &order.order_items {
        match ITEMS.iter().find(|i| i.0 == l.item.id) {
            None => return Err(m::ITEM_NOT_ORDERABLE.to_owned()),
            Some((_, false, _)) => return Err(m::ITEMS_NON_ORDERABLE.to_owned()),
            Some(_) => {
                let n = items.entry(l.item.id).or_default();
                *n = n.saturating_add(l.count);
            }
        }
    }
    let mut kits = Counts::new();
    for l in &order.order_kits {
        match KITS.iter().find(|k| k.0 == l.kit.id) {
            None | Some((_, false, _, _)) => return Err(m::ITEM_NOT_ORDERABLE.to_owned()),
            Some(_) => {
                let n = kits.entry(l.kit.id).or_default();
                *n = n.saturating_add(l.count);
            }
        }
    }
    Ok((items, kits))
}

/// Everything returned is something Impilo knows.
fn check_returns(order: &CreateOrder) -> Result<(), String> {
    let unknown_return = order
        .return_items
        .iter()
        .any(|l| !ITEMS.iter().any(|i| i.0 == l.item.id))
        || order.return_devices.iter().any(|d| {
            d.device
                .id
                .is_some_and(|id| !DEVICES.iter().any(|x| x.0 == id))
        })
        || order
            .return_packed_kits
            .iter()
            .any(|p| !PACKED_KITS.iter().any(|x| x.0 == p.packed_kit.id));
    if unknown_return {
        return Err(m::INVALID_DATA.to_owned());
    }
    Ok(())
}

/// All or nothing: stock is taken only when every count is in stock.
fn take_stock(store: &mut Store, items: Counts, kits: Counts) -> Result<(), String> {
    let short = items
        .iter()
        .any(|(id, n)| store.item_stock.get(id).copied().unwrap_or(0) < *n)
        || kits
            .iter()
            .any(|(id, n)| store.kit_stock.get(id).copied().unwrap_or(0) < *n);
    if short {
        return Err(m::INSUFFICIENT_INVENTORY.to_owned());
    }
    for (id, n) in items {
        if let Some(s) = store.item_stock.get_mut(&id) {
            *s -= n;
        }
    }
    for (id, n) in kits {
        if let Some(s) = store.kit_stock.get_mut(&id) {
            *s -= n;
        }
    }
    Ok(())
}

/// Stores the order's inline new patient; returns it as answered.
fn create_patient(store: &mut Store, p: Patient) -> Value {
    let id = store.next_patient;
    store.next_patient += 1;
    let first = p.first_name.clone().unwrap_or_default();
    let last = p.last_name.clone().unwrap_or_default();
    store.patients.insert(
        id,
        PatientRec {
            first: first.clone(),
            last: last.clone(),
            active: true,
        },
    );
    json!({"id": id, "firstName": first, "lastName": last, "externalIdentifier": p.external_identifier, "site": p.site})
}

fn returned_devices(order: &CreateOrder) -> Vec<Value> {
    order
        .return_devices
        .iter()
        .map(|d| {
            let id = device_id(&d.device);
            let serial = d.device.serial_number.clone().or_else(|| {
                DEVICES
                    .iter()
                    .find(|x| Some(x.0) == id)
                    .map(|x| x.1.to_owned())
            });
            json!({"id": id, "serialNumber": serial, "status": "AWAITING_RETURN"})
        })
        .collect()
}

fn returned_packed_kits(order: &CreateOrder) -> Vec<Value> {
    order
        .return_packed_kits
        .iter()
        .map(|p| {
            let inside: Vec<Value> = PACKED_KITS
                .iter()
                .filter(|x| x.0 == p.packed_kit.id)
                .flat_map(|x| x.1.iter())
                .map(|d| json!({"id": d, "serialNumber": DEVICES.iter().find(|x| x.0 == *d).map(|x| x.1)}))
                .collect();
            json!({"id": p.packed_kit.id, "status": "AWAITING_RETURN", "devices": inside})
        })
        .collect()
}

/// Impilo's statuses in the order a shipped order goes through them (the page lists no
/// values; the crate README says which it reads).
const STEPS: [&str; 4] = ["CREATED", "PROCESSING", "SHIPPED", "DELIVERED"];

/// The order as it reads `created.elapsed()` after its create: one step per `every_secs`
/// (each an `orderEvents` entry), a tracking number from SHIPPED on.
fn advanced(
    mut o: OrderOut,
    created: tokio::time::Instant,
    every_secs: u64,
    now: &str,
) -> OrderOut {
    let Some(reached) = connector::sim::step_reached(created, every_secs, STEPS.len()) else {
        return o;
    };
    for status in STEPS.iter().take(reached + 1).skip(1) {
        o.order_events.push(OrderEvent {
            status: (*status).to_owned(),
            created_at: now.to_owned(),
        });
    }
    o.current_status = STEPS[reached].to_owned();
    if reached >= 2 {
        o.tracking_numbers = vec![format!("1Z{:016}", o.id)];
    }
    o
}

async fn fetch(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authorize(&sim, &headers, Access::Read) {
        return *r;
    }
    let found = id.parse::<u64>().ok().and_then(|id| {
        let store = sim.lock();
        Some((
            store.orders.get(&id).cloned()?,
            store.created.get(&id).copied()?,
        ))
    });
    match found {
        Some((o, created)) => {
            let o = advanced(o, created, sim.advance_after_secs, &sim.now());
            (StatusCode::OK, Json(o)).into_response()
        }
        None => status(StatusCode::NOT_FOUND, "Order not found"),
    }
}
