//! Juniper's answers -> canonical. Totals are the vendor's, never recomputed.

use std::collections::BTreeMap;
use std::time::Duration;

use connector::{
    FailureClass, Outcome, StatusReading, VendorFailure, VendorResponse, redact_message,
};
use order_model::{
    CanonicalOrder, FieldError, LineResult, OrderStatus, Totals, Tracking, VendorOrder,
};
use serde_json::Value;

use crate::KIND;
use crate::wire::{Detail, OrderResponse, Status, ValidationErrors};

pub fn canonical_status(s: &Status) -> OrderStatus {
    match s {
        Status::Created => OrderStatus::Accepted,
        Status::Processing | Status::AwaitingShipment => OrderStatus::Processing,
        Status::Shipped => OrderStatus::Shipped,
        Status::Fulfilled => OrderStatus::Fulfilled,
        Status::Cancelled => OrderStatus::Cancelled,
        Status::Other(_) => OrderStatus::Unknown,
    }
}

/// An order Juniper returned (create or read) -> canonical.
pub fn order(order: &CanonicalOrder, r: &OrderResponse) -> VendorOrder {
    let mut other = BTreeMap::new();
    // `totalDiscount` is described as "the subtotal" and the page's numbers fit
    // "subtotal after the partner discount"; reported under Juniper's own name rather
    // than guessed into the canonical `discount`.
    if let Some(d) = r.total_discount {
        other.insert("totalDiscount".to_owned(), d.to_string());
    }
    if let Some(d) = r.total_volume_discount {
        other.insert("totalVolumeDiscount".to_owned(), d.to_string());
    }
    if let Some(d) = &r.discount {
        other.insert("discount".to_owned(), d.clone());
    }
    let totals = Totals {
        currency: Some("USD".to_owned()),
        subtotal: r.subtotal_price,
        discount: None,
        fees: r.total_fees,
        shipping: r.total_shipping,
        tax: None,
        total: r.total_price,
        other,
    };
    // Juniper answers lines in request order; the request has one line per canonical line.
    let lines = r
        .line_items
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let canonical = order.lines.get(i);
            LineResult {
                line_ref: canonical.and_then(|c| c.line_ref.clone()),
                sku: canonical
                    .map(|c| c.sku.clone())
                    .unwrap_or_else(|| l.product_id.to_string()),
                quantity: l.quantity,
                unit_price: l.price,
                discounted_unit_price: l.discounted_price,
                price_unit: Some("pill".to_owned()),
                status: None,
                vendor_status: None,
            }
        })
        .collect();
    let tracking = tracking(r);
    VendorOrder {
        vendor_order_id: Some(r.id.clone()),
        status: canonical_status(&r.status),
        vendor_status: r.status.as_str().to_owned(),
        totals: Some(totals),
        lines,
        tracking,
        vendor_created_at: r.created_at.clone(),
        vendor_refs: Vec::new(),
    }
}

/// `fulfillmentInfo` (carrier and tracking number), once Juniper has shipped.
fn tracking(r: &OrderResponse) -> Vec<Tracking> {
    r.fulfillment_info
        .as_ref()
        .and_then(|f| {
            f.tracking_number.clone().map(|number| Tracking {
                carrier: f.carrier.clone(),
                number,
                url: None,
            })
        })
        .into_iter()
        .collect()
}

/// A read of order `id` (`GET /v1/orders/{id}`, 200) -> its status now. An answer about
/// another order is unreadable, not a status.
pub fn status_reading(id: &str, resp: &VendorResponse) -> Result<StatusReading, VendorFailure> {
    if resp.status != 200 {
        return Err(connector::sync::read_failure(resp));
    }
    let r = serde_json::from_slice::<OrderResponse>(&resp.body)
        .ok()
        .filter(|r| r.id == id)
        .ok_or_else(|| connector::sync::unreadable(resp.status))?;
    Ok(StatusReading {
        status: canonical_status(&r.status),
        vendor_status: r.status.as_str().to_owned(),
        tracking: tracking(&r),
    })
}

pub fn interpret(
    o: &CanonicalOrder,
    resp: &VendorResponse,
    success: u16,
) -> Result<VendorOrder, VendorFailure> {
    let status = resp.status;
    if status == success {
        return serde_json::from_slice::<OrderResponse>(&resp.body)
            .map(|r| order(o, &r))
            .map_err(|_| VendorFailure::unreadable_success(status));
    }
    let msg = |text: &str| Some(redact_message(text, o));
    match status {
        400 => match serde_json::from_slice::<Detail>(&resp.body) {
            Ok(d) => {
                Err(VendorFailure::new(FailureClass::Rejected, status).message(msg(&d.detail)))
            }
            Err(_) => Err(VendorFailure::new(
                FailureClass::BadResponse {
                    outcome: Outcome::NotCreated,
                },
                status,
            )),
        },
        422 => match serde_json::from_slice::<ValidationErrors>(&resp.body) {
            Ok(v) => {
                let errors = v
                    .detail
                    .iter()
                    .map(|d| {
                        let m = d
                            .msg
                            .as_deref()
                            .map(|m| redact_message(m, o))
                            .unwrap_or_else(|| format!("Juniper says {}", d.kind));
                        FieldError::new(pointer_for(&d.loc), d.kind.clone(), m)
                            .with_vendor_code(loc_text(&d.loc))
                    })
                    .collect();
                Err(VendorFailure::new(FailureClass::Invalid, status).errors(errors))
            }
            Err(_) => Err(VendorFailure::new(
                FailureClass::BadResponse {
                    outcome: Outcome::NotCreated,
                },
                status,
            )),
        },
        401 => Err(VendorFailure::new(FailureClass::Auth, status)),
        403 => Err(VendorFailure::new(FailureClass::Forbidden, status)),
        404 => Err(VendorFailure::new(FailureClass::Rejected, status).code("vendor_not_found")),
        429 => {
            Err(VendorFailure::new(FailureClass::RateLimited, status)
                .retry_after(retry_after(resp)))
        }
        503 => {
            Err(VendorFailure::new(FailureClass::Unavailable, status)
                .retry_after(retry_after(resp)))
        }
        // Juniper has no idempotency key: after a 5xx the order may or may not exist.
        500..=599 => Err(VendorFailure::new(
            FailureClass::Failed {
                outcome: Outcome::Unknown,
            },
            status,
        )),
        _ => Err(VendorFailure::undocumented_status(status)),
    }
}

fn retry_after(resp: &VendorResponse) -> Option<Duration> {
    connector::retry_after_delta(&resp.headers)
}

fn loc_text(loc: &[Value]) -> String {
    loc.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A Juniper field location (`["body", "customer", "address", "zip"]`) -> the caller's
/// canonical field. Unknown locations point at the whole order.
pub fn pointer_for(loc: &[Value]) -> String {
    let parts: Vec<String> = loc
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        })
        .collect();
    let p: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .skip_while(|s| *s == "body")
        .collect();
    match p.as_slice() {
        ["customer", "sourceId", ..] => "/customer/ref".into(),
        [
            "customer",
            f @ ("firstName" | "lastName" | "email" | "phone"),
            ..,
        ] => format!("/customer/{f}"),
        ["customer", "address", "state", ..] => "/shipTo/address/region".into(),
        ["customer", "address", "zip" | "zipCode", ..] => "/shipTo/address/postalCode".into(),
        ["customer", "address", f @ ("line1" | "line2" | "city"), ..] => {
            format!("/shipTo/address/{f}")
        }
        ["customer", "address", ..] => "/shipTo/address".into(),
        ["customer", ..] => "/customer".into(),
        ["daysSupply", ..] => format!("/vendorOptions/{KIND}/daysSupply"),
        ["shippingMethod", ..] => "/shipping/speed".into(),
        ["orderType", ..] => "/recurrence".into(),
        ["lineItems", i, rest @ ..] if i.parse::<usize>().is_ok() => match rest {
            ["productId", ..] => format!("/lines/{i}/sku"),
            ["quantity", ..] => format!("/lines/{i}/quantity"),
            ["packDescription", ..] => format!("/lines/{i}/description"),
            ["administration", f, ..] => {
                format!("/lines/{i}/vendorOptions/{KIND}/administration/{f}")
            }
            ["administration"] => format!("/lines/{i}/vendorOptions/{KIND}/administration"),
            _ => format!("/lines/{i}"),
        },
        ["lineItems", ..] => "/lines".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::pointer_for;
    use serde_json::json;

    #[test]
    fn locations_map_to_canonical_pointers() {
        let cases = [
            (
                json!(["body", "customer", "address", "zip"]),
                "/shipTo/address/postalCode",
            ),
            (
                json!(["body", "customer", "address", "state"]),
                "/shipTo/address/region",
            ),
            (json!(["body", "customer", "email"]), "/customer/email"),
            (
                json!(["body", "lineItems", 2, "quantity"]),
                "/lines/2/quantity",
            ),
            (
                json!(["body", "lineItems", 0, "administration", "sleep"]),
                "/lines/0/vendorOptions/juniper/administration/sleep",
            ),
            (
                json!(["body", "daysSupply"]),
                "/vendorOptions/juniper/daysSupply",
            ),
            (json!(["query", "x"]), ""),
        ];
        for (loc, want) in cases {
            assert_eq!(pointer_for(loc.as_array().unwrap()), want, "{loc}");
        }
    }
}
