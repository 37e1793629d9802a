//! The answers Impilo documents (the 201 order: `id`, `externalOrderIds`,
//! `patient`/`site`, `currentStatus`, `orderEvents`, `trackingNumbers`, `devices`,
//! `packedKits`, plus the request's lists echoed; 400 bodies with one message), as drift
//! shapes, so an answer that adds, drops or renames a field, or a status outside the
//! crate's list, is reported (paths only) while the order is still read.

use connector::VendorResponse;
use connector::drift::{self, Drift, DriftKind, Field, Shape, opt, req};
use serde_json::Value;

use crate::interpret::ImpiloStatus;

const ORDER: Shape = Shape::Object(&[
    req("id"),
    req("externalOrderIds"),
    opt("patient"),
    opt("site"),
    req("currentStatus"),
    Field {
        name: "orderEvents",
        required: true,
        shape: Shape::Array(&Shape::Object(&[req("status"), req("createdAt")])),
    },
    req("trackingNumbers"),
    req("devices"),
    req("packedKits"),
    // The request's lists, echoed.
    opt("orderItems"),
    opt("orderKits"),
    opt("returnItems"),
    opt("returnDevices"),
    opt("returnPackedKits"),
    opt("orderNotes"),
    opt("shippingOption"),
    opt("emailLabel"),
]);

/// The crate's reading of the unconfirmed 400 body: `{"message"}` (`{"error"}` is read
/// too, and reported as drift).
const ERROR: Shape = Shape::Object(&[req("message")]);

/// `currentStatus` outside the crate's list of likely values.
fn status_drift(body: &[u8]) -> Option<Drift> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let raw = match v.get("currentStatus")? {
        Value::String(s) => s.clone(),
        Value::Object(o) => ["status", "name", "value", "code"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))?
            .to_owned(),
        _ => return None,
    };
    matches!(ImpiloStatus::parse(&raw), ImpiloStatus::Other(_))
        .then(|| Drift::new(DriftKind::UnexpectedValue, "currentStatus"))
}

/// How an answer drifted from what the crate reads.
pub fn findings(resp: &VendorResponse) -> Vec<Drift> {
    match resp.status {
        200..=299 => {
            let mut d = drift::check_body(&resp.body, &ORDER, false);
            d.extend(status_drift(&resp.body));
            d
        }
        400 | 403 => drift::check_body(&resp.body, &ERROR, true),
        _ => Vec::new(),
    }
}
