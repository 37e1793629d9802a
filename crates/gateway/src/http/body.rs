//! Reading an order body: content type, size limit (enforced while reading, so a huge
//! body is refused without being buffered), JSON parse with line and column.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, Limited};
use order_model::{Problem, ProblemCode};
use serde_json::Value;

pub async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> Result<Value, Problem> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json"))
    {
        return Err(Problem::new(
            ProblemCode::UnsupportedMediaType,
            "send the order with Content-Type: application/json",
        ));
    }
    let too_large = || {
        Problem::new(
            ProblemCode::PayloadTooLarge,
            format!("the body is larger than the {limit}-byte limit"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(_) => {
            return Err(Problem::new(
                ProblemCode::MalformedJson,
                "the request body could not be read",
            ));
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        // serde's message names the syntax problem, never the caller's values.
        let what = match e.classify() {
            serde_json::error::Category::Eof => "the JSON ends too early".to_owned(),
            serde_json::error::Category::Syntax => "invalid JSON syntax".to_owned(),
            serde_json::error::Category::Data => "invalid JSON data".to_owned(),
            serde_json::error::Category::Io => "the body could not be read".to_owned(),
        };
        Problem::new(
            ProblemCode::MalformedJson,
            format!("{what} at line {}, column {}", e.line(), e.column()),
        )
        .with_context(serde_json::json!({"line": e.line(), "column": e.column()}))
    })
}
