//! The answers Juniper's page (1.0.1) documents, as drift shapes: what `interpret`
//! expects, so an answer that adds, drops or renames a field, or brings a status the
//! page does not list, is reported (paths only) while the order is still read.

use connector::VendorResponse;
use connector::drift::{self, Drift, Field, Shape, opt, req};

const STATUSES: Shape = Shape::OneOf(&[
    "CREATED",
    "PROCESSING",
    "AWAITING_SHIPMENT",
    "SHIPPED",
    "FULFILLED",
    "CANCELLED",
]);

const LINE: Shape = Shape::Object(&[
    req("productId"),
    req("quantity"),
    req("packDescription"),
    opt("price"),
    opt("discountedPrice"),
    opt("administration"),
]);

/// The 201 answer and `GET /v1/orders/{id}`.
pub const ORDER: Shape = Shape::Object(&[
    req("id"),
    opt("discount"),
    opt("daysSupply"),
    opt("orderType"),
    opt("shippingMethod"),
    Field {
        name: "status",
        required: true,
        shape: STATUSES,
    },
    Field {
        name: "fulfillmentInfo",
        required: false,
        shape: Shape::Object(&[opt("carrier"), opt("trackingNumber")]),
    },
    Field {
        name: "lineItems",
        required: false,
        shape: Shape::Array(&LINE),
    },
    // Echoed; not read.
    opt("customer"),
    opt("subtotalPrice"),
    opt("totalDiscount"),
    opt("totalFees"),
    opt("totalShipping"),
    opt("totalVolumeDiscount"),
    opt("totalPrice"),
    opt("createdAt"),
    opt("updatedAt"),
]);

/// 400 `{"detail": "..."}`.
const BAD_REQUEST: Shape = Shape::Object(&[req("detail")]);

/// 422 FastAPI `{"detail": [{"loc", "type", "msg"}]}`.
const VALIDATION: Shape = Shape::Object(&[Field {
    name: "detail",
    required: true,
    shape: Shape::Array(&Shape::Object(&[
        req("loc"),
        Field {
            name: "type",
            required: true,
            shape: Shape::OneOf(&["missing", "invalid", "type_error"]),
        },
        opt("msg"),
        // FastAPI adds these; harmless.
        opt("input"),
        opt("ctx"),
        opt("url"),
    ])),
}]);

/// How an answer to a create (`success` 201) or read (200) drifted from the page.
pub fn findings(resp: &VendorResponse, success: u16) -> Vec<Drift> {
    match resp.status {
        s if s == success => drift::check_body(&resp.body, &ORDER, false),
        400 => drift::check_body(&resp.body, &BAD_REQUEST, true),
        422 => drift::check_body(&resp.body, &VALIDATION, true),
        _ => Vec::new(),
    }
}
