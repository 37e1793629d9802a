//! Reading an order body: content type, size limit (enforced while reading, so a huge
//! body is refused without being buffered), a read deadline (so a body trickled in a
//! byte at a time does not hold its connection for ever), JSON parse with line and
//! column.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, Limited};
use order_model::{Problem, ProblemCode};
use serde_json::Value;

/// How much body, and how long to wait for all of it (from when the handler asks).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
}

impl BodyLimits {
    pub fn of(server: &crate::config::model::ServerConfig) -> Self {
        BodyLimits {
            max_bytes: server.body_limit_bytes,
            read_timeout: Duration::from_secs(server.body_read_timeout_secs.get()),
        }
    }
}

pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limits: BodyLimits,
) -> Result<Value, Problem> {
    let limit = limits.max_bytes;
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
    let read = tokio::time::timeout(limits.read_timeout, Limited::new(body, limit).collect());
    // Dropping the unread body makes hyper close the connection after the answer.
    let Ok(read) = read.await else {
        return Err(Problem::new(
            ProblemCode::MalformedJson,
            format!(
                "the body did not arrive within the {} s body read timeout",
                limits.read_timeout.as_secs()
            ),
        ));
    };
    let bytes = match read {
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
