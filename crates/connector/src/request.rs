//! What a connector hands to the outbound stack, and what comes back. The outbound stack
//! adds the base URL, authentication and tracing; it never looks inside the body.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method};
use order_model::FieldError;

/// Whether sending the same request again can create a second vendor order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrySafety {
    /// The vendor has no idempotency key: once a byte of the request may have reached
    /// the vendor, a resend could duplicate the order. Only connect failures and explicit
    /// "not processed" answers (429/503 with Retry-After) may be retried.
    NotAfterSend,
    /// The vendor deduplicates by a key carried in the request (Adobe `X-Correlation-Id`):
    /// resending after a timeout returns the original order.
    IdempotentByKey,
    /// A read; always safe to resend.
    Read,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VendorRequest {
    pub method: Method,
    /// Path (and query) below the connection's base URL, starting with `/`.
    pub path: String,
    /// Vendor headers that are not secrets (correlation ids, content type). Authentication
    /// headers are added by the outbound stack from the connection's auth config.
    pub headers: Vec<(HeaderName, String)>,
    /// The exact body bytes (JSON), so decimal money reaches the wire as written.
    pub body: Option<Bytes>,
    pub retry: RetrySafety,
    /// A header that must carry a fresh unique id on every attempt (Adobe `X-Request-Id`).
    pub fresh_id_header: Option<HeaderName>,
}

impl VendorRequest {
    pub fn post_json(path: impl Into<String>, body: Vec<u8>, retry: RetrySafety) -> Self {
        VendorRequest {
            method: Method::POST,
            path: path.into(),
            headers: vec![(http::header::CONTENT_TYPE, "application/json".to_owned())],
            body: Some(Bytes::from(body)),
            retry,
            fresh_id_header: None,
        }
    }

    /// [`VendorRequest::post_json`] of `body` serialized. Serializing the wire types cannot
    /// fail in practice; if it ever does, the caller gets an internal error, not a panic.
    pub fn post_serialized<T: serde::Serialize>(
        path: impl Into<String>,
        body: &T,
        retry: RetrySafety,
    ) -> Result<Self, Vec<FieldError>> {
        let bytes = serde_json::to_vec(body).map_err(|_| {
            vec![FieldError::new(
                "",
                "internal",
                "the vendor request body could not be written",
            )]
        })?;
        Ok(Self::post_json(path, bytes, retry))
    }

    pub fn get(path: impl Into<String>) -> Self {
        VendorRequest {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            retry: RetrySafety::Read,
            fresh_id_header: None,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The body parsed as JSON, for previews and tests.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

#[derive(Debug, Clone)]
pub struct VendorResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl VendorResponse {
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        VendorResponse {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}
