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
use crate::rules::{self, Rule};

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

/// How one documented 400 message reads against the order that was sent.
#[derive(Clone, Copy)]
enum Reading {
    /// The rule broken at one field.
    At(&'static str, Rule),
    /// The vendor refused the order as a whole, under this code.
    Rejected(&'static str),
    /// Our request was at fault; nothing was created.
    Failed(&'static str),
    /// The rule broken at each line the function points at (`/lines` when it finds none:
    /// the vendor said so, even if the order we hold does not show it).
    Lines(fn(&CanonicalOrder) -> Vec<String>, Rule),
    /// Reading needs the route as well.
    With(fn(&Route, &CanonicalOrder) -> Known),
}

/// Every documented 400 message, in the order they are tried.
const READINGS: &[(&str, Reading)] = {
    use Reading::{At, Failed, Lines, Rejected, With};
    &[
        (m::NO_CONTENT, At("/lines", rules::NO_CONTENT)),
        (
            m::SHIPPING_OPTION_REQUIRED,
            At("/shipping/speed", rules::SHIPPING_OPTION_REQUIRED),
        ),
        (
            m::PATIENT_OR_SITE_REQUIRED,
            At("/shipTo", rules::PATIENT_OR_SITE_REQUIRED),
        ),
        (m::PATIENT_REQUIRED, At("/shipTo", rules::PATIENT_REQUIRED)),
        (
            m::INSUFFICIENT_INVENTORY,
            Rejected("insufficient_inventory"),
        ),
        (m::ITEMS_NON_ORDERABLE, Rejected("item_not_orderable")),
        (m::ITEM_NOT_ORDERABLE, Rejected("item_not_orderable")),
        (
            m::MAX_ONE_LOANER_KIT,
            Lines(extra_loaners, rules::MAX_ONE_LOANER_KIT),
        ),
        (
            m::QTY_OVER_ONE_LOANER_KIT,
            Lines(loaner_quantities, rules::QTY_OVER_ONE_LOANER_KIT),
        ),
        (
            m::NO_RETURNS_WITH_LOANER_KIT,
            Lines(return_directions, rules::NO_RETURNS_WITH_LOANER_KIT),
        ),
        (
            m::NO_LOANER_KIT_TO_SITE,
            At("/shipTo/kind", rules::NO_LOANER_KIT_TO_SITE),
        ),
        (
            m::DEVICE_IN_PACKED_KIT,
            Lines(returned_devices, rules::DEVICE_IN_PACKED_KIT_ANSWER),
        ),
        (m::PATIENT_DOES_NOT_EXIST, With(patient_not_found)),
        (m::INVALID_ORDER, Rejected("customer_or_site_invalid")),
        (
            m::FIRST_NAME,
            At("/shipTo/contact/firstName", rules::FIRST_NAME),
        ),
        (
            m::LAST_NAME,
            At("/shipTo/contact/lastName", rules::LAST_NAME),
        ),
        (
            m::ADDRESS_REQUIRED,
            At("/shipTo/address", rules::ADDRESS_REQUIRED),
        ),
        (m::SITE_UNABLE_TO_FIND, With(site_unable_to_find)),
        (m::LINE_ONE, At("/shipTo/address/line1", rules::LINE_ONE)),
        (m::CITY, At("/shipTo/address/city", rules::CITY)),
        (m::STATE, At("/shipTo/address/region", rules::STATE)),
        (m::COUNTRY, At("/shipTo/address/country", rules::COUNTRY)),
        (
            m::ZIP_CODE,
            At("/shipTo/address/postalCode", rules::ZIP_CODE),
        ),
        (m::INVALID_JSON, Failed("vendor_request_unreadable")),
        (m::INVALID_DATA, At("", rules::INVALID_DATA)),
    ]
};

fn outbound_loaners(order: &CanonicalOrder) -> Vec<usize> {
    lines_where(order, |l| {
        l.kind() == LineKind::LoanerKit && l.direction() == Direction::Outbound
    })
}

fn extra_loaners(order: &CanonicalOrder) -> Vec<String> {
    outbound_loaners(order)
        .iter()
        .skip(1)
        .map(|i| format!("/lines/{i}"))
        .collect()
}

fn loaner_quantities(order: &CanonicalOrder) -> Vec<String> {
    outbound_loaners(order)
        .into_iter()
        .filter(|i| order.lines.get(*i).is_some_and(|l| l.quantity != 1))
        .map(|i| format!("/lines/{i}/quantity"))
        .collect()
}

fn return_directions(order: &CanonicalOrder) -> Vec<String> {
    lines_where(order, |l| l.direction() == Direction::Return)
        .iter()
        .map(|i| format!("/lines/{i}/direction"))
        .collect()
}

fn returned_devices(order: &CanonicalOrder) -> Vec<String> {
    lines_where(order, |l| {
        l.kind() == LineKind::Device && l.direction() == Direction::Return
    })
    .iter()
    .map(|i| {
        let has_serial = order
            .lines
            .get(*i)
            .is_some_and(|l| l.serial_number.is_some());
        if has_serial {
            format!("/lines/{i}/serialNumber")
        } else {
            format!("/lines/{i}")
        }
    })
    .collect()
}

fn patient_not_found(route: &Route, order: &CanonicalOrder) -> Known {
    let errs = match order.customer.account_for(&route.connection, KIND) {
        Some((key, _)) => {
            vec![rules::PATIENT_NOT_FOUND.at(format!("/customer/accounts/{}", escape_pointer(key)))]
        }
        None => Vec::new(),
    };
    Known::Rejected("patient_not_found", errs)
}

fn site_unable_to_find(_: &Route, order: &CanonicalOrder) -> Known {
    Known::Rejected(
        "site_not_found",
        vec![rules::SITE_UNABLE_TO_FIND.at(site_pointer(order))],
    )
}

/// `Site {id} not found` / `Site {id} not active`, which carry the id and so are no table row.
fn site_status(order: &CanonicalOrder, inactive: bool) -> Known {
    let (code, text, vendor) = if inactive {
        (
            "site_inactive",
            "this Impilo site is not active",
            "Site {id} not active",
        )
    } else {
        (
            "site_not_found",
            "Impilo has no such site",
            "Site {id} not found",
        )
    };
    Known::Rejected(
        code,
        vec![FieldError::new(site_pointer(order), code, text).with_vendor_code(vendor)],
    )
}

/// Maps one of the page's 400 messages to a canonical failure with pointers into `order`.
fn classify(route: &Route, order: &CanonicalOrder, msg: &str) -> Option<Known> {
    if let Some(inactive) = site_message(msg) {
        return Some(site_status(order, inactive));
    }
    let (_, reading) = READINGS.iter().find(|(known, _)| is(msg, known))?;
    Some(match *reading {
        Reading::At(pointer, rule) => Known::Invalid(vec![rule.at(pointer)]),
        Reading::Rejected(code) => Known::Rejected(code, Vec::new()),
        Reading::Failed(code) => Known::Failed(code),
        Reading::Lines(pointers, rule) => {
            let mut errs: Vec<FieldError> =
                pointers(order).into_iter().map(|p| rule.at(p)).collect();
            if errs.is_empty() {
                errs.push(rule.at("/lines"));
            }
            Known::Invalid(errs)
        }
        Reading::With(read) => read(route, order),
    })
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
