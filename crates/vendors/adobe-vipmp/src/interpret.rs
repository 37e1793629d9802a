//! Adobe's answers -> canonical, by status code and by Adobe error code.

use std::time::Duration;

use connector::{FailureClass, VendorFailure, VendorResponse, redact_message};
use order_model::{CanonicalOrder, FieldError, LineResult, OrderStatus, VendorOrder};

use crate::KIND;
use crate::wire::{ErrorBody, OrderResponse, OrderType, Status};

pub fn canonical_status(s: &Status) -> OrderStatus {
    match s {
        Status::Pending => OrderStatus::Pending,
        Status::Complete => OrderStatus::Fulfilled,
        Status::Cancelled => OrderStatus::Cancelled,
        Status::Failed
        | Status::DistributorInactive
        | Status::ResellerInactive
        | Status::CustomerInactive
        | Status::CustomerIdInvalid => OrderStatus::Failed,
        Status::Other(_) => OrderStatus::Unknown,
    }
}

pub fn order(o: &CanonicalOrder, r: &OrderResponse) -> VendorOrder {
    let preview = matches!(
        r.order_type,
        Some(OrderType::Preview | OrderType::PreviewRenewal)
    );
    let lines = r
        .line_items
        .iter()
        .map(|l| {
            let canonical = o
                .lines
                .iter()
                .enumerate()
                .find(|(i, c)| {
                    c.line_ref
                        .as_deref()
                        .and_then(|x| x.parse::<u32>().ok())
                        .unwrap_or((i + 1) as u32)
                        == l.ext_line_item_number
                })
                .map(|(_, c)| c);
            LineResult {
                line_ref: canonical.and_then(|c| c.line_ref.clone()),
                sku: canonical
                    .map(|c| c.sku.clone())
                    .unwrap_or_else(|| l.ext_line_item_number.to_string()),
                quantity: l.quantity.unwrap_or_default(),
                unit_price: None,
                discounted_unit_price: None,
                price_unit: None,
                // A preview prices lines without placing them: Adobe says 1000 ("complete")
                // for the preview itself, which is not a fulfilled line.
                status: if preview {
                    Some(OrderStatus::Quoted)
                } else {
                    l.status.as_ref().map(canonical_status)
                },
                vendor_status: l.status.as_ref().map(|s| s.code().to_owned()),
            }
        })
        .collect();
    VendorOrder {
        vendor_order_id: r.order_id.clone().filter(|id| !id.is_empty() && !preview),
        status: if preview {
            OrderStatus::Quoted
        } else {
            canonical_status(&r.status)
        },
        vendor_status: r.status.code().to_owned(),
        totals: None,
        lines,
        tracking: Vec::new(),
        // Nothing was created by a preview.
        vendor_created_at: r.creation_date.clone().filter(|_| !preview),
        vendor_refs: Vec::new(),
    }
}

fn retry_after(resp: &VendorResponse) -> Option<Duration> {
    connector::retry_after_delta(&resp.headers)
}

/// An error answer without Adobe's error body: read by its status alone.
fn unreadable_error(resp: &VendorResponse) -> VendorFailure {
    let status = resp.status;
    match status {
        401 | 403 => VendorFailure::new(FailureClass::Auth, status),
        429 => VendorFailure::new(FailureClass::RateLimited, status).retry_after(retry_after(resp)),
        500..=599 => VendorFailure::new(FailureClass::Unavailable, status),
        _ => VendorFailure::undocumented_status(status),
    }
}

/// The pointer to `field` of the line Adobe's `additionalDetails` name, else `/lines`.
fn line_pointer(o: &CanonicalOrder, body: &ErrorBody, field: &str) -> String {
    // additionalDetails name the line when Adobe can; else the whole list.
    body.additional_details
        .iter()
        .find_map(|d| {
            d.as_str().and_then(|s| {
                s.split_whitespace().find_map(|w| {
                    w.trim_matches(|c: char| !c.is_ascii_digit())
                        .parse::<u32>()
                        .ok()
                })
            })
        })
        .and_then(|n| {
            o.lines.iter().enumerate().position(|(i, c)| {
                c.line_ref
                    .as_deref()
                    .and_then(|x| x.parse::<u32>().ok())
                    .unwrap_or((i + 1) as u32)
                    == n
            })
        })
        .map(|i| format!("/lines/{i}{field}"))
        .unwrap_or_else(|| "/lines".to_owned())
}

/// A Get Order answer (200) -> the order's status now. Adobe gives no tracking
/// (licences ship nothing). An answer naming another order is unreadable.
pub fn status_reading(
    order_id: Option<&str>,
    resp: &VendorResponse,
) -> Result<connector::StatusReading, VendorFailure> {
    if resp.status != 200 {
        return Err(connector::sync::read_failure(resp));
    }
    let r = serde_json::from_slice::<OrderResponse>(&resp.body)
        .ok()
        .filter(|r| order_id.is_some() && r.order_id.as_deref() == order_id)
        .ok_or_else(|| connector::sync::unreadable(resp.status))?;
    Ok(connector::StatusReading {
        status: canonical_status(&r.status),
        vendor_status: r.status.code().to_owned(),
        tracking: Vec::new(),
    })
}

pub fn interpret(
    o: &CanonicalOrder,
    resp: &VendorResponse,
    success: u16,
) -> Result<VendorOrder, VendorFailure> {
    let status = resp.status;
    if status == success || (success == 201 && status == 200) {
        return serde_json::from_slice::<OrderResponse>(&resp.body)
            .map(|r| order(o, &r))
            .map_err(|_| VendorFailure::unreadable_success(status));
    }
    let Ok(body) = serde_json::from_slice::<ErrorBody>(&resp.body) else {
        return Err(unreadable_error(resp));
    };
    let message = body.message.as_deref().map(|m| redact_message(m, o));
    let base = |class| {
        VendorFailure::new(class, status)
            .vendor_code(body.code.clone())
            .message(message.clone())
    };
    let invalid = |pointer: String, code: &str, msg: &str| {
        base(FailureClass::Invalid).errors(vec![
            FieldError::new(pointer, code, msg).with_vendor_code(body.code.clone()),
        ])
    };
    let line_of = |field: &str| line_pointer(o, &body, field);
    Err(match body.code.as_str() {
        "1117" | "1121" | "1122" => invalid(
            String::new(),
            "invalid",
            "Adobe found fields it could not accept",
        ),
        "2119" => invalid(
            "/lines".into(),
            "max_items",
            "Adobe takes at most 499 lines",
        ),
        "2120" => invalid(
            line_of("/quantity"),
            "range",
            "the quantity is out of Adobe's range",
        ),
        "2121" => invalid(
            "/lines".into(),
            "duplicate",
            "two lines have the same Adobe line number",
        ),
        "2122" => invalid(
            line_of("/sku"),
            "invalid_offer",
            "Adobe does not know this product's offer",
        )
        .code("invalid_offer"),
        "2123" => invalid(
            line_of("/lineRef"),
            "range",
            "the Adobe line number is out of range",
        ),
        "2126" => invalid(
            "/orderRef".into(),
            "max_length",
            "Adobe keeps at most 35 characters of the reference",
        ),
        "2128" => invalid(
            "/currency".into(),
            "not_allowed",
            "this currency is not valid for the offer",
        ),
        "2138" => invalid(
            line_of(&format!("/vendorOptions/{KIND}/deploymentId")),
            "invalid",
            "Adobe does not know this deployment",
        ),
        "2129" => base(FailureClass::Rejected).code("customer_not_eligible"),
        "4115" | "4116" | "4117" => base(FailureClass::Auth),
        "4118" => base(FailureClass::RateLimited)
            .retry_after(retry_after(resp).or(Some(Duration::from_secs(1)))),
        // Adobe is still processing this correlation id: the same call later returns it.
        "4122" => base(FailureClass::Unavailable)
            .code("vendor_in_progress")
            .retry_after(Some(Duration::from_secs(1))),
        "1124" | "5122" => base(FailureClass::Unavailable),
        // Our request broke Adobe's envelope rules (never the caller's fault).
        "2140" | "4119" | "4120" => base(FailureClass::Rejected).code("vendor_request_refused"),
        _ => match status {
            404 => base(FailureClass::Rejected),
            400 | 422 => base(FailureClass::Invalid),
            401 | 403 => base(FailureClass::Auth),
            429 => base(FailureClass::RateLimited).retry_after(retry_after(resp)),
            500..=599 => base(FailureClass::Unavailable),
            _ => base(FailureClass::undocumented_status(status)),
        },
    })
}
