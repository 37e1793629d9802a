//! The answers Adobe's create-order page documents, as drift shapes (the 201 order
//! resource; the error body `{code, message, additionalDetails}`), so an answer that
//! adds, drops or renames a field, or carries a status code the docs do not list, is
//! reported (paths only) while the order is still read.

use connector::VendorResponse;
use connector::drift::{self, Drift, Field, Shape, opt, req};

/// Order and line status codes the docs list.
const STATUSES: Shape = Shape::OneOf(&[
    "1000", "1002", "1004", "1008", "1020", "1022", "1024", "1026",
]);

const LINE: Shape = Shape::Object(&[
    req("extLineItemNumber"),
    opt("offerId"),
    opt("quantity"),
    opt("subscriptionId"),
    Field {
        name: "status",
        required: false,
        shape: STATUSES,
    },
    opt("currencyCode"),
    opt("deploymentId"),
    opt("discountCode"),
    // Preview answers price the lines.
    opt("pricing"),
]);

const ORDER: Shape = Shape::Object(&[
    opt("externalReferenceId"),
    req("orderId"),
    opt("customerId"),
    opt("orderType"),
    opt("referenceOrderId"),
    opt("currencyCode"),
    opt("creationDate"),
    Field {
        name: "status",
        required: true,
        shape: STATUSES,
    },
    opt("source"),
    Field {
        name: "lineItems",
        required: true,
        shape: Shape::Array(&LINE),
    },
    opt("flexDiscountCodes"),
    opt("links"),
]);

const ERROR: Shape = Shape::Object(&[req("code"), opt("message"), opt("additionalDetails")]);

/// How an answer to a create (`success` 201) or read (200) drifted from the docs.
pub fn findings(resp: &VendorResponse, success: u16) -> Vec<Drift> {
    match resp.status {
        s if s == success => drift::check_body(&resp.body, &ORDER, false),
        400..=599 => drift::check_body(&resp.body, &ERROR, true),
        _ => Vec::new(),
    }
}
