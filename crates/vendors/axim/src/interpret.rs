//! Axim's answers -> canonical. Success is HTTP 200 `{success: true, message, data: {id}}`.

use connector::{FailureClass, Outcome, VendorFailure, VendorResponse, redact_message};
use order_model::{CanonicalOrder, OrderStatus, VendorOrder};

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
                })
            }
            Some(Envelope {
                success: Some(false),
                ..
            }) => Err(VendorFailure::new(FailureClass::Rejected, status).message(message)),
            // A 2xx we cannot read: the order probably exists.
            _ => Err(VendorFailure::new(
                FailureClass::BadResponse {
                    outcome: Outcome::Unknown,
                },
                status,
            )
            .message(message)),
        },
        400 | 404 | 409 | 422 => {
            Err(VendorFailure::new(FailureClass::Rejected, status).message(message))
        }
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
        _ => Err(VendorFailure::new(
            FailureClass::BadResponse {
                outcome: Outcome::NotCreated,
            },
            status,
        )
        .message(message)),
    }
}
