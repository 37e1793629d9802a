//! Every metric name the outbound stack records, in one place: dashboards and alerts
//! depend on these spellings (the gateway test `metric_names` refuses a name written
//! at a call site).

/// Counter: calls that waited for the rate limiter (`connection`).
pub const VENDOR_RATE_LIMIT_WAITS_TOTAL: &str = "vendor_rate_limit_waits_total";
/// Counter: limiter decisions (`connection`, `scope`, `result`).
pub const VENDOR_LIMITER_DECISIONS_TOTAL: &str = "vendor_limiter_decisions_total";
/// Counter: calls the rate limiter refused (`connection`).
pub const VENDOR_RATE_LIMIT_REJECTIONS_TOTAL: &str = "vendor_rate_limit_rejections_total";
/// Counter: calls shed by the in-flight cap (`connection`).
pub const VENDOR_SHED_TOTAL: &str = "vendor_shed_total";
/// Counter: vendor calls (`connection`, `vendor`, `outcome`, `status`).
pub const VENDOR_CALLS_TOTAL: &str = "vendor_calls_total";
/// Histogram: one vendor call, all attempts (`connection`).
pub const VENDOR_CALL_DURATION_SECONDS: &str = "vendor_call_duration_seconds";
/// Counter: retried attempts (`connection`).
pub const VENDOR_RETRIES_TOTAL: &str = "vendor_retries_total";
/// Gauge: calls in flight (`connection`).
pub const VENDOR_IN_FLIGHT: &str = "vendor_in_flight";
/// Histogram: one fleet-limiter round trip to Redis (`connection`).
pub const VENDOR_LIMITER_REDIS_DURATION_SECONDS: &str = "vendor_limiter_redis_duration_seconds";
/// Counter: fleet-limiter Redis failures (`connection`, `kind`).
pub const VENDOR_LIMITER_REDIS_ERRORS_TOTAL: &str = "vendor_limiter_redis_errors_total";
/// Counter: fleet-wide vendor pauses set (`connection`).
pub const VENDOR_FLEET_PAUSES_TOTAL: &str = "vendor_fleet_pauses_total";
/// Gauge: circuit breaker state (`connection`, `vendor`).
pub const VENDOR_CIRCUIT_STATE: &str = "vendor_circuit_state";
/// Counter: OAuth2 tokens served from the cache (`connection`).
pub const VENDOR_TOKEN_CACHE_HITS_TOTAL: &str = "vendor_token_cache_hits_total";
/// Counter: OAuth2 token fetches (`connection`, `result`).
pub const VENDOR_TOKEN_FETCHES_TOTAL: &str = "vendor_token_fetches_total";
