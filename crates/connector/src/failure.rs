//! A vendor's "no", in canonical terms.

use std::time::Duration;

use order_model::{FieldError, Problem, ProblemCode, VendorDetail};

/// What kind of failure it is decides the HTTP status and retryability the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The order breaks a vendor rule the caller can fix (422, with pointers).
    Invalid,
    /// The vendor refused for a business reason (inventory, unknown customer...): 502.
    Rejected,
    /// The vendor refused our credentials: 502 `vendor_auth`.
    Auth,
    /// The vendor refused access for a role or feature: 502 `vendor_forbidden`.
    Forbidden,
    /// The vendor asked us to slow down: 503 `vendor_rate_limited`.
    RateLimited,
    /// The vendor is down or unable to take orders now: 503 `vendor_unavailable`.
    Unavailable,
    /// The vendor failed while processing; whether an order exists is `outcome`.
    Failed { outcome: Outcome },
    /// The vendor answered something we cannot read: 502 `vendor_bad_response`.
    BadResponse { outcome: Outcome },
}

impl FailureClass {
    /// A status the vendor does not document for a create. A 2xx or 3xx may follow an
    /// order the vendor took (a 202, a 303 See Other to the new order), so the order may
    /// exist: unknown, for reconciliation to settle. A 4xx refused the request: not
    /// created. (Each connector reads 5xx itself: whether one is safe to retry is the
    /// vendor's documented rule.) For a lookup neither settles anything.
    pub fn undocumented_status(http_status: u16) -> Self {
        FailureClass::BadResponse {
            outcome: if http_status < 400 {
                Outcome::Unknown
            } else {
                Outcome::NotCreated
            },
        }
    }
}

/// Whether the vendor may hold an order after this failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The vendor certainly created nothing.
    NotCreated,
    /// The vendor may or may not have created the order.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VendorFailure {
    pub class: FailureClass,
    /// A stable canonical code callers can branch on (`insufficient_inventory`); `None`
    /// uses the class's generic code.
    pub code: Option<&'static str>,
    /// The vendor's status, code and message, already redacted by the connector.
    pub vendor: VendorDetail,
    /// Violations mapped back to the caller's order.
    pub errors: Vec<FieldError>,
    pub retry_after: Option<Duration>,
}

impl VendorFailure {
    pub fn new(class: FailureClass, http_status: u16) -> Self {
        VendorFailure {
            class,
            code: None,
            vendor: VendorDetail {
                http_status: Some(http_status),
                code: None,
                message: None,
            },
            errors: Vec::new(),
            retry_after: None,
        }
    }
    /// A success status whose body cannot be read: the order probably exists, so the
    /// outcome is unknown (and reconciliation looks it up).
    pub fn unreadable_success(http_status: u16) -> Self {
        VendorFailure::new(
            FailureClass::BadResponse {
                outcome: Outcome::Unknown,
            },
            http_status,
        )
    }

    /// A status the vendor does not document for the call ([`FailureClass::undocumented_status`]).
    pub fn undocumented_status(http_status: u16) -> Self {
        VendorFailure::new(FailureClass::undocumented_status(http_status), http_status)
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
    pub fn vendor_code(mut self, code: impl Into<String>) -> Self {
        self.vendor.code = Some(code.into());
        self
    }
    pub fn message(mut self, message: Option<String>) -> Self {
        self.vendor.message = message;
        self
    }
    pub fn errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }
    pub fn retry_after(mut self, d: Option<Duration>) -> Self {
        self.retry_after = d;
        self
    }

    /// Whether an order may exist at the vendor despite this failure.
    pub fn outcome(&self) -> Outcome {
        match self.class {
            FailureClass::Failed { outcome } | FailureClass::BadResponse { outcome } => outcome,
            FailureClass::Invalid
            | FailureClass::Rejected
            | FailureClass::Auth
            | FailureClass::Forbidden
            | FailureClass::RateLimited
            | FailureClass::Unavailable => Outcome::NotCreated,
        }
    }

    pub fn problem_code(&self) -> ProblemCode {
        match self.class {
            FailureClass::Invalid => ProblemCode::InvalidOrder,
            FailureClass::Rejected => ProblemCode::VendorRejected,
            FailureClass::Auth => ProblemCode::VendorAuth,
            FailureClass::Forbidden => ProblemCode::VendorForbidden,
            FailureClass::RateLimited => ProblemCode::VendorRateLimited,
            FailureClass::Unavailable => ProblemCode::VendorUnavailable,
            FailureClass::Failed { .. } => ProblemCode::VendorFailed,
            FailureClass::BadResponse { .. } => ProblemCode::VendorBadResponse,
        }
    }

    pub fn to_problem(&self) -> Problem {
        let generic = self.problem_code();
        let detail = match self.outcome() {
            Outcome::Unknown => {
                "The vendor may or may not have created the order; it is recorded as unknown and will be reconciled."
            }
            Outcome::NotCreated => "",
        };
        let code = self.code.unwrap_or(generic.as_str());
        let mut p = Problem::with_code(
            code,
            generic.status(),
            generic.title(),
            generic.retryable(),
            detail,
        )
        .with_errors(self.errors.clone())
        .with_vendor(self.vendor.clone());
        if let Some(d) = self.retry_after {
            p = p.with_retry_after(crate::whole_secs_up(d));
        }
        p
    }
}
