//! Impilo's answers -> canonical. Never panics on any bytes.

use connector::{FailureClass, Outcome, VendorFailure, VendorResponse, redact_message};
use order_model::{
    CanonicalOrder, DestinationKind, Direction, FieldError, LineKind, OrderStatus, Tracking,
    VendorOrder, VendorRef, VendorRefKind, escape_pointer,
};
use serde_json::Value;

use crate::KIND;
use crate::config::Route;
use crate::messages as m;

/// `currentStatus`. The page lists no values: these are the likely ones; anything else
/// is kept as `Other` and read as accepted (the order exists, we do not know more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImpiloStatus {
    Created,
    Pending,
    OnHold,
    Processing,
    Shipped,
    Delivered,
    Completed,
    Returned,
    Cancelled,
    Failed,
    Other(String),
}

impl ImpiloStatus {
    pub fn parse(raw: &str) -> Self {
        let norm: String = raw
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        match norm.as_str() {
            "CREATED" | "NEW" | "OPEN" | "SUBMITTED" | "RECEIVED" => ImpiloStatus::Created,
            "PENDING" | "AWAITING_APPROVAL" => ImpiloStatus::Pending,
            "ON_HOLD" | "HOLD" | "BACKORDERED" => ImpiloStatus::OnHold,
            "PROCESSING" | "IN_PROGRESS" | "PICKING" | "PACKING" | "PACKED"
            | "AWAITING_SHIPMENT" => ImpiloStatus::Processing,
            "SHIPPED" | "IN_TRANSIT" | "PARTIALLY_SHIPPED" => ImpiloStatus::Shipped,
            "DELIVERED" => ImpiloStatus::Delivered,
            "COMPLETED" | "COMPLETE" | "FULFILLED" | "CLOSED" => ImpiloStatus::Completed,
            "RETURNED" | "RETURN_RECEIVED" => ImpiloStatus::Returned,
            "CANCELLED" | "CANCELED" => ImpiloStatus::Cancelled,
            "FAILED" | "ERROR" | "REJECTED" => ImpiloStatus::Failed,
            _ => ImpiloStatus::Other(raw.to_owned()),
        }
    }

    pub fn canonical(&self) -> OrderStatus {
        match self {
            ImpiloStatus::Created => OrderStatus::Accepted,
            ImpiloStatus::Pending | ImpiloStatus::OnHold => OrderStatus::Pending,
            ImpiloStatus::Processing => OrderStatus::Processing,
            ImpiloStatus::Shipped => OrderStatus::Shipped,
            ImpiloStatus::Delivered | ImpiloStatus::Completed | ImpiloStatus::Returned => {
                OrderStatus::Fulfilled
            }
            ImpiloStatus::Cancelled => OrderStatus::Cancelled,
            ImpiloStatus::Failed => OrderStatus::Failed,
            ImpiloStatus::Other(_) => OrderStatus::Accepted,
        }
    }
}

fn redacted(msg: Option<&str>, order: &CanonicalOrder) -> Option<String> {
    msg.map(|s| redact_message(s, order))
}

/// Whether the translator sent an inline new patient (no Impilo account, not a site), so
/// the answer's `patient.id` is a patient Impilo just created for this order.
pub fn sent_new_patient(route: &Route, order: &CanonicalOrder) -> bool {
    let to_site = order.ship_to.as_ref().map(|s| s.kind()) == Some(DestinationKind::Site);
    !to_site
        && order
            .customer
            .account_for(&route.connection, KIND)
            .is_none()
}

/// The id Impilo gave the patient of the answer (integer or digit string).
fn patient_ref(obj: &serde_json::Map<String, Value>) -> Option<VendorRef> {
    let id = match obj.get("patient")?.get("id")? {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) if crate::translate::parse_id(s).is_some() => s.clone(),
        _ => return None,
    };
    Some(VendorRef {
        kind: VendorRefKind::Patient,
        id,
    })
}

/// The order object of a 201/200 answer. `new_patient`: the order created its patient
/// inline, so the patient's id is returned as a vendor reference.
pub fn parse_order(body: &[u8], new_patient: bool) -> Option<VendorOrder> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let id = match obj.get("id")? {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) if crate::translate::parse_id(s).is_some() => s.clone(),
        _ => return None,
    };
    let raw_status = match obj.get("currentStatus") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => ["status", "name", "value", "code"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_owned)?,
        Some(_) => return None,
    };
    let status = ImpiloStatus::parse(&raw_status).canonical();
    let tracking = match obj.get("trackingNumbers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().filter_map(tracking).collect(),
        Some(_) => return None,
    };
    let created = obj
        .get("orderEvents")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .and_then(|e| e.get("createdAt"))
        .and_then(Value::as_str)
        .and_then(rfc3339_utc);
    Some(VendorOrder {
        vendor_order_id: Some(id),
        status,
        vendor_status: raw_status,
        totals: None,
        lines: Vec::new(),
        tracking,
        vendor_created_at: created,
        vendor_refs: if new_patient {
            patient_ref(obj).into_iter().collect()
        } else {
            Vec::new()
        },
    })
}

fn tracking(v: &Value) -> Option<Tracking> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(Tracking {
            carrier: None,
            number: s.clone(),
            url: None,
        }),
        Value::Object(o) => {
            let number = ["trackingNumber", "number", "tracking"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))?;
            let s = |k: &[&str]| {
                k.iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
                    .map(str::to_owned)
            };
            Some(Tracking {
                carrier: s(&["carrier", "carrierName"]),
                number: number.to_owned(),
                url: s(&["url", "trackingUrl"]),
            })
        }
        _ => None,
    }
}

fn rfc3339_utc(s: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// A 4xx body's message: `{"message": ...}`, `{"error": ...}` (or `{"error": {"message"}}`),
/// a JSON string, or plain text. `None` when there is nothing readable.
pub fn error_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => {
            let pick = |v: Option<&Value>| match v {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Some(Value::Object(inner)) => inner
                    .get("message")
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_owned()),
                _ => None,
            };
            pick(o.get("message")).or_else(|| pick(o.get("error")))
        }
        Ok(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Ok(_) => None,
        Err(_) if text.starts_with('{') || text.starts_with('[') => None,
        Err(_) => Some(text.to_owned()),
    }
}

fn is(msg: &str, known: &str) -> bool {
    if msg.eq_ignore_ascii_case(known) {
        return true;
    }
    // "insufficient_inventory - No fulfillment site has enough inventory": a snake code first.
    let snake = known.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    snake
        && msg.len() > known.len()
        && msg.is_char_boundary(known.len())
        && msg[..known.len()].eq_ignore_ascii_case(known)
        && {
            let next = msg.as_bytes()[known.len()];
            !(next.is_ascii_alphanumeric() || next == b'_')
        }
}

/// `Site {id} not found` / `Site {id} not active`: Some(true) for inactive.
fn site_message(msg: &str) -> Option<bool> {
    let rest = msg.strip_prefix("Site ")?;
    let (id, tail) = rest.split_once(' ')?;
    if id.is_empty() {
        return None;
    }
    match tail.trim_end_matches('.') {
        "not found" => Some(false),
        "not active" => Some(true),
        _ => None,
    }
}

enum Known {
    Invalid(Vec<FieldError>),
    Rejected(&'static str, Vec<FieldError>),
    Failed(&'static str),
}

fn fe(pointer: impl Into<String>, code: &str, message: &str, vendor: &str) -> FieldError {
    FieldError::new(pointer, code, message).with_vendor_code(vendor)
}

fn lines_where(order: &CanonicalOrder, f: impl Fn(&order_model::Line) -> bool) -> Vec<usize> {
    order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| f(l))
        .map(|(i, _)| i)
        .collect()
}

fn site_pointer(order: &CanonicalOrder) -> String {
    if order.ship_to.as_ref().map(|s| s.kind()) == Some(DestinationKind::Site) {
        "/shipTo/siteRef".to_owned()
    } else {
        "/vendorOptions/impilo/patientSiteRef".to_owned()
    }
}

/// Maps one of the page's 400 messages to a canonical failure with pointers into `order`.
fn classify(route: &Route, order: &CanonicalOrder, msg: &str) -> Option<Known> {
    use Known::{Failed, Invalid, Rejected};
    let one =
        |p: &str, code: &str, text: &str, vendor: &str| Invalid(vec![fe(p, code, text, vendor)]);
    if is(msg, m::NO_CONTENT) {
        return Some(one(
            "/lines",
            "required",
            "the order has nothing Impilo can ship or take back",
            m::NO_CONTENT,
        ));
    }
    if is(msg, m::SHIPPING_OPTION_REQUIRED) {
        return Some(one(
            "/shipping/speed",
            "required",
            "a shipping speed is required when returns are included and the return label is not emailed",
            m::SHIPPING_OPTION_REQUIRED,
        ));
    }
    if is(msg, m::PATIENT_OR_SITE_REQUIRED) {
        return Some(one(
            "/shipTo",
            "required",
            "Impilo needs a patient or a site",
            m::PATIENT_OR_SITE_REQUIRED,
        ));
    }
    if is(msg, m::PATIENT_REQUIRED) {
        return Some(one(
            "/shipTo",
            "required",
            "Impilo needs a patient",
            m::PATIENT_REQUIRED,
        ));
    }
    if is(msg, m::INSUFFICIENT_INVENTORY) {
        return Some(Rejected("insufficient_inventory", Vec::new()));
    }
    if is(msg, m::ITEMS_NON_ORDERABLE) || is(msg, m::ITEM_NOT_ORDERABLE) {
        return Some(Rejected("item_not_orderable", Vec::new()));
    }
    let loaners = lines_where(order, |l| {
        l.kind() == LineKind::LoanerKit && l.direction() == Direction::Outbound
    });
    if is(msg, m::MAX_ONE_LOANER_KIT) {
        let mut errs: Vec<FieldError> = loaners
            .iter()
            .skip(1)
            .map(|i| {
                fe(
                    format!("/lines/{i}"),
                    m::MAX_ONE_LOANER_KIT,
                    "only one loaner kit is allowed per order",
                    m::MAX_ONE_LOANER_KIT,
                )
            })
            .collect();
        if errs.is_empty() {
            errs.push(fe(
                "/lines",
                m::MAX_ONE_LOANER_KIT,
                "only one loaner kit is allowed per order",
                m::MAX_ONE_LOANER_KIT,
            ));
        }
        return Some(Invalid(errs));
    }
    if is(msg, m::QTY_OVER_ONE_LOANER_KIT) {
        let over: Vec<usize> = loaners
            .iter()
            .copied()
            .filter(|i| order.lines.get(*i).is_some_and(|l| l.quantity != 1))
            .collect();
        let mut errs: Vec<FieldError> = over
            .iter()
            .map(|i| {
                fe(
                    format!("/lines/{i}/quantity"),
                    m::QTY_OVER_ONE_LOANER_KIT,
                    "a loaner kit's quantity must be 1",
                    m::QTY_OVER_ONE_LOANER_KIT,
                )
            })
            .collect();
        if errs.is_empty() {
            errs.push(fe(
                "/lines",
                m::QTY_OVER_ONE_LOANER_KIT,
                "a loaner kit's quantity must be 1",
                m::QTY_OVER_ONE_LOANER_KIT,
            ));
        }
        return Some(Invalid(errs));
    }
    if is(msg, m::NO_RETURNS_WITH_LOANER_KIT) {
        let mut errs: Vec<FieldError> = lines_where(order, |l| l.direction() == Direction::Return)
            .iter()
            .map(|i| {
                fe(
                    format!("/lines/{i}/direction"),
                    m::NO_RETURNS_WITH_LOANER_KIT,
                    "returns cannot be combined with a loaner kit",
                    m::NO_RETURNS_WITH_LOANER_KIT,
                )
            })
            .collect();
        if errs.is_empty() {
            errs.push(fe(
                "/lines",
                m::NO_RETURNS_WITH_LOANER_KIT,
                "returns cannot be combined with a loaner kit",
                m::NO_RETURNS_WITH_LOANER_KIT,
            ));
        }
        return Some(Invalid(errs));
    }
    if is(msg, m::NO_LOANER_KIT_TO_SITE) {
        return Some(one(
            "/shipTo/kind",
            m::NO_LOANER_KIT_TO_SITE,
            "loaner kits ship to patients only, not to sites",
            m::NO_LOANER_KIT_TO_SITE,
        ));
    }
    if is(msg, m::DEVICE_IN_PACKED_KIT) {
        let devices = lines_where(order, |l| {
            l.kind() == LineKind::Device && l.direction() == Direction::Return
        });
        let mut errs: Vec<FieldError> = devices
            .iter()
            .map(|i| {
                let has_serial = order
                    .lines
                    .get(*i)
                    .is_some_and(|l| l.serial_number.is_some());
                let p = if has_serial {
                    format!("/lines/{i}/serialNumber")
                } else {
                    format!("/lines/{i}")
                };
                fe(
                    p,
                    "device_in_packed_kit",
                    "a returned device is also inside a returned packed kit",
                    m::DEVICE_IN_PACKED_KIT,
                )
            })
            .collect();
        if errs.is_empty() {
            errs.push(fe(
                "/lines",
                "device_in_packed_kit",
                "a returned device is also inside a returned packed kit",
                m::DEVICE_IN_PACKED_KIT,
            ));
        }
        return Some(Invalid(errs));
    }
    if is(msg, m::PATIENT_DOES_NOT_EXIST) {
        let errs = match order.customer.account_for(&route.connection, KIND) {
            Some((key, _)) => vec![fe(
                format!("/customer/accounts/{}", escape_pointer(key)),
                "patient_not_found",
                "Impilo has no such patient for this account",
                m::PATIENT_DOES_NOT_EXIST,
            )],
            None => Vec::new(),
        };
        return Some(Rejected("patient_not_found", errs));
    }
    if is(msg, m::INVALID_ORDER) {
        return Some(Rejected("customer_or_site_invalid", Vec::new()));
    }
    if is(msg, m::FIRST_NAME) {
        return Some(one(
            "/shipTo/contact/firstName",
            "required",
            "a new patient needs a first name",
            m::FIRST_NAME,
        ));
    }
    if is(msg, m::LAST_NAME) {
        return Some(one(
            "/shipTo/contact/lastName",
            "required",
            "a new patient needs a last name",
            m::LAST_NAME,
        ));
    }
    if is(msg, m::ADDRESS_REQUIRED) {
        return Some(one(
            "/shipTo/address",
            "required",
            "a new patient needs an address",
            m::ADDRESS_REQUIRED,
        ));
    }
    if is(msg, m::SITE_UNABLE_TO_FIND) {
        return Some(Rejected(
            "site_not_found",
            vec![
                FieldError::new(
                    site_pointer(order),
                    "site_not_found",
                    "Impilo cannot find this site",
                )
                .with_vendor_code(m::SITE_UNABLE_TO_FIND),
            ],
        ));
    }
    if let Some(inactive) = site_message(msg) {
        let (code, text) = if inactive {
            ("site_inactive", "this Impilo site is not active")
        } else {
            ("site_not_found", "Impilo has no such site")
        };
        return Some(Rejected(
            code,
            vec![
                FieldError::new(site_pointer(order), code, text).with_vendor_code(if inactive {
                    "Site {id} not active"
                } else {
                    "Site {id} not found"
                }),
            ],
        ));
    }
    for (text, field, what) in [
        (m::LINE_ONE, "line1", "address line one is required"),
        (m::CITY, "city", "city is required"),
        (m::STATE, "region", "a state/region is required"),
        (m::COUNTRY, "country", "country is required"),
        (m::ZIP_CODE, "postalCode", "a postal (zip) code is required"),
    ] {
        if is(msg, text) {
            return Some(one(
                &format!("/shipTo/address/{field}"),
                "required",
                what,
                text,
            ));
        }
    }
    if is(msg, m::INVALID_JSON) {
        return Some(Failed("vendor_request_unreadable"));
    }
    if is(msg, m::INVALID_DATA) {
        return Some(one(
            "",
            "vendor_data_invalid",
            "Impilo found a value in this order it does not accept (it does not say which)",
            m::INVALID_DATA,
        ));
    }
    None
}

fn snake_code(msg: &str) -> Option<String> {
    let head = msg.split([' ', '-', ':']).next().unwrap_or_default();
    (head.len() > 2
        && head.contains('_')
        && head.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    .then(|| head.to_owned())
}

fn retry_after(resp: &VendorResponse) -> Option<std::time::Duration> {
    connector::retry_after_delta(&resp.headers)
}

/// Which call an answer belongs to: a create (POST, not idempotent) or a lookup (GET).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Create,
    Lookup,
}

pub fn interpret(
    route: &Route,
    order: &CanonicalOrder,
    resp: &VendorResponse,
    call: Call,
) -> Result<VendorOrder, VendorFailure> {
    let status = resp.status;
    let body = &resp.body[..];
    let msg = error_message(body);
    let base = |class: FailureClass| {
        VendorFailure::new(class, status).message(redacted(msg.as_deref(), order))
    };
    match status {
        200..=299 => parse_order(body, sent_new_patient(route, order)).ok_or_else(|| {
            // A 2xx create made an order we cannot read: it exists, but we cannot name it.
            let outcome = if call == Call::Create {
                Outcome::Unknown
            } else {
                Outcome::NotCreated
            };
            VendorFailure::new(FailureClass::BadResponse { outcome }, status)
        }),
        400 => {
            let Some(text) = msg.as_deref() else {
                return Err(VendorFailure::new(
                    FailureClass::BadResponse {
                        outcome: Outcome::NotCreated,
                    },
                    status,
                ));
            };
            let f = match classify(route, order, text) {
                Some(Known::Invalid(errs)) => base(FailureClass::Invalid).errors(errs),
                Some(Known::Rejected(code, errs)) => {
                    base(FailureClass::Rejected).code(code).errors(errs)
                }
                Some(Known::Failed(code)) => base(FailureClass::Failed {
                    outcome: Outcome::NotCreated,
                })
                .code(code),
                None => base(FailureClass::Rejected),
            };
            Err(match snake_code(text) {
                Some(c) => f.vendor_code(c),
                None => f,
            })
        }
        401 => Err(base(FailureClass::Auth)),
        403 => {
            let f = base(FailureClass::Forbidden);
            Err(match msg.as_deref() {
                Some(t) if is(t, m::ACCESS_DENIED) => f.code("vendor_access_denied"),
                Some(t) if is(t, m::FEATURE_DISABLED) => f.code("vendor_feature_disabled"),
                Some(t) if is(t, m::RESOURCE_FORBIDDEN) => f.code("vendor_resource_forbidden"),
                _ => f,
            })
        }
        404 if call == Call::Lookup => {
            Err(base(FailureClass::Rejected).code("vendor_order_not_found"))
        }
        429 => Err(base(FailureClass::RateLimited).retry_after(retry_after(resp))),
        500..=599 => Err(match call {
            Call::Create => base(FailureClass::Failed {
                outcome: Outcome::Unknown,
            }),
            Call::Lookup => base(FailureClass::Unavailable).retry_after(retry_after(resp)),
        }),
        402..=499 => Err(base(FailureClass::BadResponse {
            outcome: Outcome::NotCreated,
        })),
        _ => Err(base(FailureClass::BadResponse {
            outcome: if call == Call::Create {
                Outcome::Unknown
            } else {
                Outcome::NotCreated
            },
        })),
    }
}
