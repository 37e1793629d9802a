//! The outbound HTTP stack every connector call goes through: per connection, a rate
//! limit (governor) with a bounded wait, an in-flight cap, a circuit breaker, auth with
//! a cached OAuth2 token (moka) or a static header, per-attempt and overall timeouts,
//! retries only where they cannot duplicate an order, a client span per attempt with
//! W3C trace context propagated, and metrics. It never looks inside a body.

mod breaker;
mod client;
mod error;
pub mod policy;
mod settings;
mod token;
mod trace;

pub use breaker::{Breaker, State as BreakerState};
pub use client::{Admission, ConnectionClient, PreviewRequest, Sent};
pub use error::{BuildError, OutboundError};
pub use settings::{
    AuthConfig, BreakerConfig, ClientAuth, ConnectionSettings, Limits, MissingSecret, RetryPolicy,
    SecretValue, Timeouts,
};
