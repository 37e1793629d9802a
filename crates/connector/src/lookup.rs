//! Whether a looked-up vendor order is the caller's order.
//!
//! An operator links an `unknown` order to a vendor order id by hand; the next retry
//! looks that id up and, if it is the caller's order, settles it. A typo or a wrong row
//! must not answer a caller with another customer's order, so each vendor's lookup checks
//! the reference the vendor echoes back from the create request (Juniper
//! `customer.sourceId`, Adobe `externalReferenceId`, Impilo `externalOrderIds`) before the
//! answer counts; the gateway also compares the lines where the vendor returns them.

use order_model::VendorOrder;

use crate::failure::{FailureClass, VendorFailure};
use crate::request::VendorResponse;

/// The canonical code of a looked-up order that is not the caller's.
pub const MISMATCH_CODE: &str = "vendor_order_mismatch";

/// Where the vendor echoes a reference we sent, and what it must say.
pub struct Echo<'a> {
    /// JSON Pointer into the lookup answer: a string, or a list of strings.
    pub pointer: &'static str,
    /// The value we send for this order.
    pub expected: &'a str,
    /// Whether the vendor always returns it (documented as required in its answer). An
    /// optional echo that is absent proves nothing either way and is let through.
    pub required: bool,
}

/// `result` if the answer echoes `echo.expected` (compared trimmed, as translators send
/// it), else a refusal with [`MISMATCH_CODE`]: not definitive, so the order stays
/// `unknown` and the operator is told through the log and metric.
pub fn same_order(
    result: Result<VendorOrder, VendorFailure>,
    response: &VendorResponse,
    echo: &Echo<'_>,
) -> Result<VendorOrder, VendorFailure> {
    let order = result?;
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let expected = echo.expected.trim();
    let matches = match body.pointer(echo.pointer) {
        Some(serde_json::Value::String(s)) => s.trim() == expected,
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.trim() == expected)),
        None | Some(serde_json::Value::Null) => !echo.required,
        Some(_) => false,
    };
    if matches {
        Ok(order)
    } else {
        Err(VendorFailure::new(FailureClass::Rejected, response.status).code(MISMATCH_CODE))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use order_model::{OrderStatus, VendorOrder};

    fn answer(body: serde_json::Value) -> VendorResponse {
        VendorResponse::new(200, serde_json::to_vec(&body).unwrap())
    }

    fn order() -> Result<VendorOrder, VendorFailure> {
        Ok(VendorOrder {
            vendor_order_id: Some("V1".into()),
            status: OrderStatus::Accepted,
            vendor_status: "CREATED".into(),
            totals: None,
            lines: Vec::new(),
            tracking: Vec::new(),
            vendor_created_at: None,
            vendor_refs: Vec::new(),
        })
    }

    fn echo(pointer: &'static str, required: bool) -> Echo<'static> {
        Echo {
            pointer,
            expected: "cust-a",
            required,
        }
    }

    #[test]
    fn an_echo_that_names_someone_else_is_a_mismatch() {
        let r = answer(serde_json::json!({"customer": {"sourceId": "cust-b"}}));
        let e = same_order(order(), &r, &echo("/customer/sourceId", true)).unwrap_err();
        assert_eq!(e.code, Some(MISMATCH_CODE));
        assert_eq!(e.class, FailureClass::Rejected);
    }

    #[test]
    fn strings_and_lists_match_trimmed() {
        let r = answer(serde_json::json!({"customer": {"sourceId": " cust-a "}}));
        assert!(same_order(order(), &r, &echo("/customer/sourceId", true)).is_ok());
        let r = answer(serde_json::json!({"externalOrderIds": ["x", "cust-a"]}));
        assert!(same_order(order(), &r, &echo("/externalOrderIds", true)).is_ok());
        let r = answer(serde_json::json!({"externalOrderIds": ["x", 7]}));
        assert!(same_order(order(), &r, &echo("/externalOrderIds", true)).is_err());
    }

    #[test]
    fn an_absent_echo_passes_only_when_optional() {
        let r = answer(serde_json::json!({"id": "V1"}));
        assert!(same_order(order(), &r, &echo("/externalReferenceId", false)).is_ok());
        assert!(same_order(order(), &r, &echo("/externalReferenceId", true)).is_err());
    }

    #[test]
    fn a_failure_stays_that_failure() {
        let r = answer(serde_json::json!({}));
        let failed = Err(VendorFailure::new(FailureClass::Unavailable, 503));
        let e = same_order(failed, &r, &echo("/x", true)).unwrap_err();
        assert_eq!(e.class, FailureClass::Unavailable);
    }
}
