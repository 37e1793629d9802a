//! Canonical order v1: the vendor-neutral order, its JSON Schema validation, the
//! canonical result and the problem (error) shape. No I/O, and no vendor is named here.

pub mod order;
pub mod problem;
pub mod result;
pub mod schema;

pub use order::*;
pub use problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem, ProblemCode, VendorDetail};
pub use result::{
    LineResult, OrderResult, OrderStatus, Totals, Tracking, VendorOrder, VendorRef, VendorRefKind,
};
pub use schema::{SchemaValidator, canonical_order_validator, escape_pointer};

use serde_json::Value;

/// Validates a parsed document against the canonical schema and converts it to the Rust
/// type. Either every violation is reported, or the order is returned.
pub fn parse_order(doc: &Value) -> Result<CanonicalOrder, Vec<FieldError>> {
    let violations = canonical_order_validator().violations(doc, "");
    if !violations.is_empty() {
        return Err(violations);
    }
    // The schema and the types are meant to agree; if they ever do not, the caller still
    // gets a 422 rather than a 500 (serde's message is not passed on: it can quote values),
    // and the test suite catches the drift.
    CanonicalOrder::deserialize(doc).map_err(|_| {
        vec![FieldError::new(
            "",
            "invalid",
            "order does not match the canonical model",
        )]
    })
}

use serde::Deserialize;
