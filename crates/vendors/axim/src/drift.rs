//! The answers Axim's page documents, as drift shapes: the `{success, message, data}`
//! envelope on every answer (error bodies are not shown on the page; the crate reads
//! them as the same envelope with `success: false`), and `data` being the order object
//! (the page does not list its fields: only those `interpret` reads are checked).

use connector::VendorResponse;
use connector::drift::{self, Drift, Field, Shape, opt, req};

/// `orderStatus` values the page lists (the list is elided with "...").
const ORDER_STATUSES: Shape = Shape::OneOf(&["fulfilled", "pending", "cancelled"]);

/// A success answer (public for the drift bench, `benches/drift.rs`).
pub const SUCCESS: Shape = Shape::Object(&[
    req("success"),
    opt("message"),
    Field {
        name: "data",
        required: true,
        shape: Shape::Open(&[
            req("id"),
            Field {
                name: "orderStatus",
                required: false,
                shape: ORDER_STATUSES,
            },
        ]),
    },
]);

const ERROR: Shape = Shape::Object(&[req("success"), req("message")]);

/// How an answer drifted from what the crate reads.
pub fn findings(resp: &VendorResponse) -> Vec<Drift> {
    match resp.status {
        200 | 201 => drift::check_body(&resp.body, &SUCCESS, false),
        400..=599 => drift::check_body(&resp.body, &ERROR, true),
        _ => Vec::new(),
    }
}
