//! Per-client quotas (`clients[].limits`): a client past its share of the vendor budgets
//! gets 429 `rate_limited` with `Retry-After`, before any vendor call and without waiting,
//! so a flooding client uses its own share and nobody else's. Kept per replica: each
//! replica allows the configured rate, so the fleet-wide quota is that times the replicas
//! (the vendor budget itself is enforced fleet-wide by the connection's limiter).

use std::time::Duration;

use order_model::{Problem, ProblemCode};
use outbound::Decision;

use crate::state::Runtime;

/// The refusal for a client over its quota, or `None` (the call's place is then taken).
pub fn refusal(runtime: &Runtime, client: &str) -> Option<Problem> {
    let quota = runtime.quotas.get(client)?;
    match quota.reserve(Duration::ZERO) {
        Decision::Go { .. } => None,
        Decision::Refuse { retry_after } => {
            metrics::counter!(crate::metric_names::CLIENT_QUOTA_REJECTIONS_TOTAL, "client" => client.to_owned())
                .increment(1);
            Some(
                Problem::new(
                    ProblemCode::RateLimited,
                    "this client is over its order rate quota",
                )
                .with_retry_after(connector::whole_secs_up(retry_after)),
            )
        }
    }
}
