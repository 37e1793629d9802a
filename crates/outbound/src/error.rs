use std::time::Duration;

use crate::settings::MissingSecret;

/// Why a vendor call did not produce an answer. Messages never hold secrets or URLs.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OutboundError {
    #[error("the connection's rate limit is exhausted")]
    RateLimited { retry_after: Duration },
    #[error("too many calls in flight on this connection")]
    Overloaded,
    #[error("the circuit breaker is open")]
    CircuitOpen { retry_after: Duration },
    #[error("nothing was sent: {reason}")]
    NotSent { reason: String },
    #[error("the vendor did not answer in time")]
    Timeout { maybe_sent: bool },
    #[error("transport failure: {reason}")]
    Transport { maybe_sent: bool, reason: String },
    #[error("token endpoint: {reason}")]
    TokenEndpoint { reason: String, status: Option<u16> },
    #[error("the call's overall deadline passed")]
    DeadlineExceeded,
}

impl OutboundError {
    /// True when the vendor provably received nothing (safe to retry later).
    pub fn outcome_known_not_sent(&self) -> bool {
        match self {
            OutboundError::RateLimited { .. }
            | OutboundError::Overloaded
            | OutboundError::CircuitOpen { .. }
            | OutboundError::NotSent { .. }
            | OutboundError::TokenEndpoint { .. } => true,
            OutboundError::Timeout { maybe_sent } | OutboundError::Transport { maybe_sent, .. } => {
                !maybe_sent
            }
            OutboundError::DeadlineExceeded => false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Secret(#[from] MissingSecret),
    #[error("invalid outbound settings: {0}")]
    Invalid(String),
}
