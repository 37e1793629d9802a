//! Axim's answers -> canonical. Success is HTTP 200 `{success: true, message, data: {id}}`.

use connector::{FailureClass, Outcome, VendorFailure, VendorResponse, redact_message};
use order_model::{CanonicalOrder, FieldError, OrderStatus, VendorOrder};

use crate::wire::{Envelope, OrderStatus as AximStatus};

pub fn canonical_status(s: &AximStatus) -> OrderStatus {
    match s {
        AximStatus::Fulfilled => OrderStatus::Fulfilled,
        AximStatus::Pending => OrderStatus::Pending,
        AximStatus::Cancelled => OrderStatus::Cancelled,
        // The envelope said success, so the order exists; its status is Axim's own word.
        AximStatus::Other(_) => OrderStatus::Accepted,
    }
}

pub fn interpret(
    o: &CanonicalOrder,
    resp: &VendorResponse,
    sent_status: Option<&str>,
) -> Result<VendorOrder, VendorFailure> {
    let status = resp.status;
    let envelope = serde_json::from_slice::<Envelope>(&resp.body).ok();
    let message = envelope
        .as_ref()
        .and_then(|e| e.message.as_deref())
        .map(|m| redact_message(m, o));
    match status {
        200 | 201 => match envelope {
            Some(Envelope {
                success: Some(true),
                data: Some(d),
                ..
            }) => {
                let st = d.order_status.clone().or_else(|| {
                    sent_status.map(|s| {
                        serde_json::from_value(serde_json::json!(s))
                            .unwrap_or(AximStatus::Other(s.to_owned()))
                    })
                });
                let (canonical, raw) = match &st {
                    Some(s) => (canonical_status(s), s.as_str().to_owned()),
                    None => (OrderStatus::Accepted, "created".to_owned()),
                };
                Ok(VendorOrder {
                    vendor_order_id: Some(d.id),
                    status: canonical,
                    vendor_status: raw,
                    totals: None,
                    lines: Vec::new(),
                    tracking: Vec::new(),
                    vendor_created_at: d.created_at,
                    vendor_refs: Vec::new(),
                })
            }
            Some(Envelope {
                success: Some(false),
                ..
            }) => Err(rejected(status, message)),
            // A 2xx we cannot read: the order probably exists.
            _ => Err(VendorFailure::unreadable_success(status).message(message)),
        },
        400 | 404 | 409 | 422 => Err(rejected(status, message)),
        401 => Err(VendorFailure::new(FailureClass::Auth, status).message(message)),
        403 => Err(VendorFailure::new(FailureClass::Forbidden, status).message(message)),
        429 => Err(VendorFailure::new(FailureClass::RateLimited, status)),
        503 => Err(VendorFailure::new(FailureClass::Unavailable, status)),
        // No idempotency key at Axim: after a 500 the order may or may not exist.
        500..=599 => Err(VendorFailure::new(
            FailureClass::Failed {
                outcome: Outcome::Unknown,
            },
            status,
        )
        .message(message)),
        _ => Err(VendorFailure::undocumented_status(status).message(message)),
    }
}

fn rejected(status: u16, message: Option<String>) -> VendorFailure {
    let errors = message
        .as_deref()
        .and_then(|m| {
            let pointer = canonical_pointer(m)?;
            Some(vec![FieldError::new(pointer, "vendor_rejected", m)])
        })
        .unwrap_or_default();
    VendorFailure::new(FailureClass::Rejected, status)
        .message(message)
        .errors(errors)
}

/// Axim (Joi) names the field first, in quotes: `"lineItems[0].price" is required`. Maps that
/// path back to the caller's canonical field; `None` when the message names no known field.
pub fn canonical_pointer(message: &str) -> Option<String> {
    let path = message.strip_prefix('"')?.split('"').next()?;
    // `"value" must contain exactly one of [shippingAddressId, newShippingAddress]`.
    if path == "value" {
        return if message.contains("shippingAddressId") {
            Some("/shipTo".into())
        } else if message.contains("billingAddress") {
            Some("/billTo".into())
        } else {
            None
        };
    }
    let mut parts = path.split('.');
    let head = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let (name, index) = match head.split_once('[') {
        Some((n, i)) => (n, i.strip_suffix(']')?.parse::<usize>().ok()),
        None => (head, None),
    };
    let p = match (name, index, rest.as_slice()) {
        ("customer", None, []) => "/customer/accounts/axim".to_owned(),
        ("paymentStatus", None, []) => "/payment/status".to_owned(),
        ("orderStatus", None, []) => "/vendorOptions/axim/orderStatus".to_owned(),
        ("paymentTerm", None, []) => "/payment/termRef".to_owned(),
        ("taxAmount", None, []) => "/payment/tax".to_owned(),
        ("refundedAmount", None, []) => "/payment/refunded".to_owned(),
        ("shippingCost", None, []) => "/shipping/cost".to_owned(),
        ("shippingLabel", None, []) => "/shipping/label".to_owned(),
        ("orderedAt", None, []) => "/placedAt".to_owned(),
        ("currency", None, _) => "/currency".to_owned(),
        ("shippingAddressId", None, []) => "/shipTo/addressRef".to_owned(),
        ("billingAddress", None, []) => "/billTo/addressRef".to_owned(),
        ("newShippingAddress", None, [f]) => format!("/shipTo/{}", address_field(f)?),
        ("newBillingAddress", None, [f]) => format!("/billTo/{}", address_field(f)?),
        ("fulfilledItems", _, _) => "/vendorOptions/axim/fulfilledItems".to_owned(),
        ("lineItems", Some(i), [f]) => {
            let f = match *f {
                "price" => "unitPrice",
                "quantity" => "quantity",
                "productId" | "variantId" => "sku",
                "fulfilledQuantity" => "vendorOptions/axim/fulfilledQuantity",
                "discountAmount" => "discounts",
                _ => return Some(format!("/lines/{i}")),
            };
            format!("/lines/{i}/{f}")
        }
        ("lineItems", Some(i), [d, f]) if d.starts_with("discounts[") => {
            let j = d
                .strip_prefix("discounts[")?
                .strip_suffix(']')?
                .parse::<usize>()
                .ok()?;
            let f = match *f {
                "id" => "ref",
                "name" => "name",
                _ => "amount",
            };
            format!("/lines/{i}/discounts/{j}/{f}")
        }
        _ => return None,
    };
    Some(p)
}

fn address_field(f: &str) -> Option<&'static str> {
    Some(match f {
        "firstName" => "contact/firstName",
        "lastName" => "contact/lastName",
        "phoneNumber" => "contact/phone",
        "companyName" => "contact/company",
        "companyEmail" => "contact/companyEmail",
        "address1" => "address/line1",
        "address2" => "address/line2",
        "city" => "address/city",
        "state" => "address/region",
        "country" => "address/country",
        "zipcode" => "address/postalCode",
        _ => return None,
    })
}
