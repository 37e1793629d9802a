//! The outbound HTTP stack every connector call goes through: per connection, a rate
//! limit (GCRA, per replica or fleet-wide on Redis) with a bounded wait, an in-flight cap, a circuit breaker, auth with
//! a cached OAuth2 token (moka) or a static header, per-attempt and overall timeouts,
//! retries only where they cannot duplicate an order, a client span per attempt with
//! W3C trace context propagated, and metrics. It never looks inside a body.

mod answer;
mod breaker;
mod client;
mod error;
mod fleet;
mod limiter;
pub mod metric_names;
pub mod policy;
mod settings;
mod token;
mod trace;

pub use answer::MAX_RESPONSE_BYTES;
pub use breaker::{Breaker, State as BreakerState};
pub use client::{Admission, ConnectionClient, PreviewRequest, Sent};
pub use error::{BuildError, OutboundError};
pub use fleet::{FleetLimit, FleetReply, FleetStore};
pub use limiter::{Decision, LocalGcra, Rate};
pub use settings::{
    AuthConfig, BreakerConfig, ClientAuth, ConnectionSettings, Limits, MissingSecret, OnRedisDown,
    RedisSettings, RetryPolicy, Scope, SecretValue, Timeouts,
};
