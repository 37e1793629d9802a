//! RFC 9457 problem details, the one error shape the gateway answers with.
//!
//! Every problem has a stable `code` (and a `type` URI derived from it), the HTTP status,
//! whether retrying the same request can help, and — for order errors — `errors[]` whose
//! `pointer` is a JSON Pointer into the caller's canonical order, never into a vendor
//! payload. Vendor messages are carried only after the connector has decided they hold
//! no personal data (see `VendorDetail`).

use serde::{Deserialize, Serialize};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const TYPE_BASE: &str = "https://order-gateway.dev/problems/";

/// One violation in the caller's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the caller's canonical order; `""` is the whole order.
    pub pointer: String,
    /// Stable machine code of this violation (`required`, `max_length`, `unsupported`...).
    pub code: String,
    pub message: String,
    /// The vendor's own code for this rule, where the vendor has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<String>,
}

impl FieldError {
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: pointer.into(),
            code: code.into(),
            message: message.into(),
            vendor_code: None,
        }
    }
    pub fn with_vendor_code(mut self, code: impl Into<String>) -> Self {
        self.vendor_code = Some(code.into());
        self
    }
}

/// What the vendor said, already stripped of anything personal or secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VendorDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    pub retryable: bool,
    /// Seconds after which a retry may succeed, mirrored in the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<VendorDetail>,
    /// Extra structured detail for some codes (`no_route` closest rules, `split_required` groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl Problem {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Problem::with_code(
            code.as_str(),
            code.status(),
            code.title(),
            code.retryable(),
            detail,
        )
    }

    /// A problem with a code outside [`ProblemCode`], e.g. a vendor-specific rejection
    /// (`insufficient_inventory`) that callers want to branch on.
    pub fn with_code(
        code: &str,
        status: u16,
        title: &str,
        retryable: bool,
        detail: impl Into<String>,
    ) -> Self {
        let detail = detail.into();
        Problem {
            problem_type: format!("{TYPE_BASE}{}", code.replace('_', "-")),
            title: title.to_owned(),
            status,
            code: code.to_owned(),
            detail: (!detail.is_empty()).then_some(detail),
            errors: Vec::new(),
            retryable,
            retry_after: None,
            vendor: None,
            context: None,
            trace_id: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }
    pub fn with_vendor(mut self, vendor: VendorDetail) -> Self {
        self.vendor = Some(vendor);
        self
    }
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = Some(context);
        self
    }
    pub fn with_trace_id(mut self, trace_id: Option<String>) -> Self {
        self.trace_id = trace_id;
        self
    }
}

/// The gateway's own problem codes. Each has one HTTP status and one retryability, so
/// callers can branch on `code` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    MalformedJson,
    /// A query parameter or header that is not what the endpoint documents.
    InvalidRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    IdempotencyConflict,
    InProgress,
    OutcomeUnknown,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidOrder,
    NoRoute,
    SplitRequired,
    RateLimited,
    Internal,
    VendorRejected,
    VendorAuth,
    VendorForbidden,
    VendorFailed,
    VendorBadResponse,
    VendorUnavailable,
    VendorRateLimited,
    VendorTimeout,
    ShuttingDown,
}

impl ProblemCode {
    pub const ALL: [ProblemCode; 25] = [
        ProblemCode::MalformedJson,
        ProblemCode::InvalidRequest,
        ProblemCode::Unauthorized,
        ProblemCode::Forbidden,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::IdempotencyConflict,
        ProblemCode::InProgress,
        ProblemCode::OutcomeUnknown,
        ProblemCode::PayloadTooLarge,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::InvalidOrder,
        ProblemCode::NoRoute,
        ProblemCode::SplitRequired,
        ProblemCode::RateLimited,
        ProblemCode::Internal,
        ProblemCode::VendorRejected,
        ProblemCode::VendorAuth,
        ProblemCode::VendorForbidden,
        ProblemCode::VendorFailed,
        ProblemCode::VendorBadResponse,
        ProblemCode::VendorUnavailable,
        ProblemCode::VendorRateLimited,
        ProblemCode::VendorTimeout,
        ProblemCode::ShuttingDown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::MalformedJson => "malformed_json",
            ProblemCode::InvalidRequest => "invalid_request",
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::Forbidden => "forbidden",
            ProblemCode::NotFound => "not_found",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::IdempotencyConflict => "idempotency_conflict",
            ProblemCode::InProgress => "in_progress",
            ProblemCode::OutcomeUnknown => "outcome_unknown",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::UnsupportedMediaType => "unsupported_media_type",
            ProblemCode::InvalidOrder => "invalid_order",
            ProblemCode::NoRoute => "no_route",
            ProblemCode::SplitRequired => "split_required",
            ProblemCode::RateLimited => "rate_limited",
            ProblemCode::Internal => "internal",
            ProblemCode::VendorRejected => "vendor_rejected",
            ProblemCode::VendorAuth => "vendor_auth",
            ProblemCode::VendorForbidden => "vendor_forbidden",
            ProblemCode::VendorFailed => "vendor_failed",
            ProblemCode::VendorBadResponse => "vendor_bad_response",
            ProblemCode::VendorUnavailable => "vendor_unavailable",
            ProblemCode::VendorRateLimited => "vendor_rate_limited",
            ProblemCode::VendorTimeout => "vendor_timeout",
            ProblemCode::ShuttingDown => "shutting_down",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ProblemCode::MalformedJson | ProblemCode::InvalidRequest => 400,
            ProblemCode::Unauthorized => 401,
            ProblemCode::Forbidden => 403,
            ProblemCode::NotFound => 404,
            ProblemCode::MethodNotAllowed => 405,
            ProblemCode::IdempotencyConflict
            | ProblemCode::InProgress
            | ProblemCode::OutcomeUnknown => 409,
            ProblemCode::PayloadTooLarge => 413,
            ProblemCode::UnsupportedMediaType => 415,
            ProblemCode::InvalidOrder | ProblemCode::NoRoute | ProblemCode::SplitRequired => 422,
            ProblemCode::RateLimited => 429,
            ProblemCode::Internal => 500,
            ProblemCode::VendorRejected
            | ProblemCode::VendorAuth
            | ProblemCode::VendorForbidden
            | ProblemCode::VendorFailed
            | ProblemCode::VendorBadResponse => 502,
            ProblemCode::VendorUnavailable
            | ProblemCode::VendorRateLimited
            | ProblemCode::ShuttingDown => 503,
            ProblemCode::VendorTimeout => 504,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemCode::MalformedJson => "The request body is not valid JSON",
            ProblemCode::InvalidRequest => "A request parameter is invalid",
            ProblemCode::Unauthorized => "Missing or unknown API key",
            ProblemCode::Forbidden => "This client may not do that",
            ProblemCode::NotFound => "No such resource",
            ProblemCode::MethodNotAllowed => "Method not allowed on this resource",
            ProblemCode::IdempotencyConflict => {
                "This orderRef was already used with a different order"
            }
            ProblemCode::InProgress => "An order with this orderRef is still being placed",
            ProblemCode::OutcomeUnknown => {
                "An earlier attempt with this orderRef has an unknown outcome"
            }
            ProblemCode::PayloadTooLarge => "The request body is too large",
            ProblemCode::UnsupportedMediaType => "The request body must be application/json",
            ProblemCode::InvalidOrder => "The order is invalid",
            ProblemCode::NoRoute => "No route takes this order",
            ProblemCode::SplitRequired => "The order's lines belong to different routes",
            ProblemCode::RateLimited => "Too many requests from this client",
            ProblemCode::Internal => "Internal error",
            ProblemCode::VendorRejected => "The vendor rejected the order",
            ProblemCode::VendorAuth => "The gateway could not authenticate with the vendor",
            ProblemCode::VendorForbidden => "The vendor refused access",
            ProblemCode::VendorFailed => "The vendor failed to process the order",
            ProblemCode::VendorBadResponse => {
                "The vendor answered with something the gateway cannot read"
            }
            ProblemCode::VendorUnavailable => "The vendor is unavailable",
            ProblemCode::VendorRateLimited => "The vendor connection is at its rate limit",
            ProblemCode::VendorTimeout => {
                "The vendor did not answer in time; the outcome is unknown"
            }
            ProblemCode::ShuttingDown => "The gateway is shutting down",
        }
    }

    pub fn retryable(self) -> bool {
        match self {
            ProblemCode::InProgress
            | ProblemCode::RateLimited
            | ProblemCode::VendorUnavailable
            | ProblemCode::VendorRateLimited
            | ProblemCode::VendorTimeout
            | ProblemCode::ShuttingDown
            | ProblemCode::Internal => true,
            ProblemCode::MalformedJson
            | ProblemCode::InvalidRequest
            | ProblemCode::Unauthorized
            | ProblemCode::Forbidden
            | ProblemCode::NotFound
            | ProblemCode::MethodNotAllowed
            | ProblemCode::IdempotencyConflict
            | ProblemCode::OutcomeUnknown
            | ProblemCode::PayloadTooLarge
            | ProblemCode::UnsupportedMediaType
            | ProblemCode::InvalidOrder
            | ProblemCode::NoRoute
            | ProblemCode::SplitRequired
            | ProblemCode::VendorRejected
            | ProblemCode::VendorAuth
            | ProblemCode::VendorForbidden
            | ProblemCode::VendorFailed
            | ProblemCode::VendorBadResponse => false,
        }
    }
}
