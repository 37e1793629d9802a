//! Status sync: reading an order back from the vendor long after it was placed, without
//! its body.
//!
//! The ledger keeps no order bodies (personal data), and routes can be reloaded away
//! between the create and a later read, so a read must need neither. At create time the
//! route turns the order and the vendor's answer into a [`SyncHandle`]: the few ids a
//! read needs (Adobe: customer and order id; Juniper, Impilo: the vendor order id),
//! stored with the record in the same write as the accepted outcome. Later the
//! connector alone (`Connector::status_lookup`, `Connector::interpret_status`) builds
//! the read and turns its answer into a [`StatusReading`].

use order_model::{OrderStatus, Tracking};
use serde_json::Value;

use crate::failure::{FailureClass, Outcome, VendorFailure};
use crate::request::VendorResponse;

/// What a later read of one order needs: vendor ids only (JSON, opaque to the ledger).
pub type SyncHandle = Value;

/// The order as the vendor reports it now.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReading {
    /// Mapped from the vendor's status with an exhaustive match.
    pub status: OrderStatus,
    /// The vendor's own word for it.
    pub vendor_status: String,
    /// Tracking numbers the vendor gives (empty when it gives none).
    pub tracking: Vec<Tracking>,
}

/// The id a handle stores under `key`, when it is a string a vendor URL path may hold.
pub fn handle_id<'a>(handle: &'a SyncHandle, key: &str) -> Option<&'a str> {
    handle
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| crate::LookupRefusal::check_alphanumeric(s).is_ok())
}

/// A read's non-success answer as a failure. A read never creates anything, and no
/// message is kept: without the order there is nothing to redact it against.
pub fn read_failure(resp: &VendorResponse) -> VendorFailure {
    let status = resp.status;
    let retry_after = crate::retry_after_delta(&resp.headers);
    match status {
        401 => VendorFailure::new(FailureClass::Auth, status),
        403 => VendorFailure::new(FailureClass::Forbidden, status),
        404 => VendorFailure::new(FailureClass::Rejected, status).code("vendor_order_not_found"),
        429 => VendorFailure::new(FailureClass::RateLimited, status).retry_after(retry_after),
        500..=599 => VendorFailure::new(FailureClass::Unavailable, status).retry_after(retry_after),
        _ => unreadable(status),
    }
}

/// A success status whose body is not the order the handle names.
pub fn unreadable(status: u16) -> VendorFailure {
    VendorFailure::new(
        FailureClass::BadResponse {
            outcome: Outcome::NotCreated,
        },
        status,
    )
}

/// Whether a canonical status ends sync: the order will not change any more (or, for
/// `shipped`, changes only in ways the caller learns from the carrier; see the gateway's
/// sync module for why shipped still syncs).
pub fn is_final(status: OrderStatus) -> bool {
    match status {
        OrderStatus::Fulfilled
        | OrderStatus::Cancelled
        | OrderStatus::Rejected
        | OrderStatus::Failed
        | OrderStatus::Quoted => true,
        OrderStatus::Accepted
        | OrderStatus::Pending
        | OrderStatus::Processing
        | OrderStatus::Shipped
        | OrderStatus::Unknown => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_ids_must_be_path_safe() {
        let h = serde_json::json!({"id": "abc123", "bad": "../x", "n": 5});
        assert_eq!(handle_id(&h, "id"), Some("abc123"));
        assert_eq!(handle_id(&h, "bad"), None);
        assert_eq!(handle_id(&h, "n"), None);
        assert_eq!(handle_id(&h, "missing"), None);
    }

    #[test]
    fn read_failures_never_claim_an_order_was_made() {
        for s in [400, 401, 403, 404, 429, 500, 503, 302] {
            let f = read_failure(&VendorResponse::new(s, ""));
            assert_eq!(f.outcome(), Outcome::NotCreated, "{s}");
            assert!(f.vendor.message.is_none());
        }
    }

    #[test]
    fn shipped_is_not_final_but_fulfilled_is() {
        assert!(!is_final(OrderStatus::Shipped));
        assert!(!is_final(OrderStatus::Pending));
        assert!(is_final(OrderStatus::Fulfilled));
        assert!(is_final(OrderStatus::Cancelled));
    }
}
