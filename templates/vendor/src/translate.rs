//! Canonical order -> the vendor's create call. Pure: no I/O, no clock, no randomness.

use connector::{RetrySafety, TranslateContext, VendorRequest, Violations};
use order_model::{CanonicalOrder, FieldError};
use serde_json::json;

/// NEW VENDOR: the documented create path.
pub const CREATE_PATH: &str = "/orders";

pub fn translate(
    order: &CanonicalOrder,
    _ctx: &TranslateContext<'_>,
) -> Result<VendorRequest, Vec<FieldError>> {
    let order = &connector::text::normalized(order);
    let mut e = Violations::new();
    connector::capabilities::refuse(&crate::CAPABILITIES, order, &mut e);
    // NEW VENDOR: map every canonical field (src/coverage.rs), refuse what the vendor
    // cannot honour with a pointer into the caller's order.
    e.unsupported("", "this connector is a scaffold: nothing is mapped yet");
    let body = e.finish(json!({"reference": order.order_ref}))?;
    VendorRequest::post_serialized(CREATE_PATH, &body, RetrySafety::NotAfterSend)
}
