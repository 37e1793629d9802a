//! The preview document (`POST /v1/orders/preview`, `order-gateway translate`): what
//! would be sent, with secrets masked, and why this route. The vendor body is embedded
//! as the exact bytes the translator produced (raw JSON), so a dry run shows money as
//! it goes on the wire ("0.000001", never 1e-6): parsing it into a `Value` would turn
//! JSON numbers into floats.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::pipeline;

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub route: String,
    pub connection: String,
    pub vendor: String,
    pub request: PreviewRequest,
    pub explain: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewRequest {
    pub method: String,
    pub url: String,
    pub headers: Map<String, Value>,
    /// The body bytes as sent (`null` for none).
    pub body: Option<Box<RawValue>>,
}

impl PreviewRequest {
    /// The body as a `Value`, for comparisons (config tests' `expectBody`).
    pub fn body_value(&self) -> Value {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_str(b.get()).ok())
            .unwrap_or(Value::Null)
    }
}

/// Vendor bodies are JSON; bytes that are not (never expected) are shown as `null`
/// rather than altered.
fn raw_body(body: Option<&[u8]>) -> Option<Box<RawValue>> {
    let text = std::str::from_utf8(body?).ok()?;
    RawValue::from_string(text.to_owned()).ok()
}

pub fn document(planned: &pipeline::Planned<'_>, p: outbound::PreviewRequest) -> Preview {
    Preview {
        route: planned.route.name.clone(),
        connection: planned.route.connection.clone(),
        vendor: planned.route.vendor.to_owned(),
        request: PreviewRequest {
            method: p.method,
            url: p.url,
            headers: p
                .headers
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
            body: raw_body(planned.request.body.as_deref()),
        },
        explain: serde_json::to_value(&planned.explain).unwrap_or(Value::Null),
    }
}
