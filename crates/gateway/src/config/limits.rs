//! Checks of the shared limits: the top-level `redis` section and the connections that
//! need it (`limits.scope: fleet`), and the clients' quotas.

use super::check::Ctx;
use super::model::{ClientConfig, ConnectionConfig, GatewayConfig};

pub(super) fn redis(cx: &mut Ctx<'_>, config: &GatewayConfig, conns: &[(usize, ConnectionConfig)]) {
    let redis = config
        .redis
        .as_ref()
        .and_then(|v| cx.parse::<outbound::RedisSettings>(v, "/redis"));
    if let Some(r) = &redis {
        cx.check_secrets(
            vec![("/redis/url".into(), r.url.env_name().map(str::to_owned))],
            config.sandbox,
        );
        if r.timeout_ms == 0 {
            cx.error("/redis/timeoutMs", "must be at least 1");
        }
    }
    if config.redis.is_some() {
        return;
    }
    for (i, c) in conns {
        let fleet = c.outbound.pointer("/limits/scope").and_then(|v| v.as_str()) == Some("fleet");
        if fleet {
            cx.error(
                format!("/connections/{i}/outbound/limits/scope"),
                "`fleet` keeps the budget in Redis: add a top-level `redis: {url: ${REDIS_URL}}` section (or use `local`)",
            );
        }
    }
}

pub(super) fn client_quotas(cx: &mut Ctx<'_>, clients: &[(usize, ClientConfig)]) {
    for (i, c) in clients {
        let Some(l) = c.limits else { continue };
        if l.rate_per_sec == 0 {
            cx.error(
                format!("/clients/{i}/limits/ratePerSec"),
                "must be at least 1",
            );
        }
        if l.burst == 0 {
            cx.error(format!("/clients/{i}/limits/burst"), "must be at least 1");
        }
    }
}
