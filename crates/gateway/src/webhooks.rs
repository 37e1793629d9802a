//! Delivering order events to the calling services' webhooks.
//!
//! The ledger writes each event of a client with a webhook into its outbox in the same
//! transaction as the order's change (`crates/ledger`, lifecycle). This worker claims
//! due deliveries (an order's events one at a time, in order; on PostgreSQL replicas
//! split the rows, so each event goes out once, not once per replica), POSTs each signed
//! per Standard Webhooks (`webhook_sign`), and records the attempt: a 2xx ends it; 410
//! Gone fails it at once; anything else (or no answer within `TIMEOUT`) is retried with
//! exponential backoff and jitter until `WINDOW` after the event; then it is listed as
//! failed (admin `/webhooks/failed`) until redelivered. Delivery is at least once: a
//! receiver drops duplicates by `webhook-id` (the event id, the same on every attempt).
//!
//! Decisions: one URL per client; the worker polls every `POLL` (a second of delay at
//! most, and nothing to wake across replicas); deliveries use their own HTTP client
//! with `TIMEOUT`, not a vendor connection's limits; the payload holds the order's ids,
//! state, canonical status and answer, never the order body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ledger::{Attempted, Delivery};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::config::model::ClientConfig;
use crate::secrets::EnvLookup;
use crate::state::AppState;
use crate::webhook_sign::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SigningKey};

pub const POLL: Duration = Duration::from_secs(1);
/// How long a claimed delivery is this replica's before another may take it over.
pub const LEASE: Duration = Duration::from_secs(60);
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long after its event a delivery is retried before it counts as failed.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
const BATCH: u32 = 32;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// One client's webhook. The key never prints.
#[derive(Debug)]
pub struct Endpoint {
    pub url: String,
    pub key: SigningKey,
}

/// Client id -> endpoint, with `${NAME}` secrets resolved through `env`.
pub fn endpoints(
    clients: &[ClientConfig],
    env: &EnvLookup,
) -> Result<HashMap<String, Arc<Endpoint>>, String> {
    let mut out = HashMap::new();
    for c in clients {
        let Some(w) = &c.webhook else { continue };
        let secret = secret_ref::resolve(&w.secret, env)
            .map_err(|e| format!("client {} webhook secret: {e}", c.id))?;
        let key = SigningKey::parse(secret.expose_secret())
            .map_err(|e| format!("client {} webhook secret: {e}", c.id))?;
        out.insert(
            c.id.clone(),
            Arc::new(Endpoint {
                url: w.url.clone(),
                key,
            }),
        );
    }
    Ok(out)
}

/// The delivery loop.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = match reqwest::Client::builder().timeout(TIMEOUT).build() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: no HTTP client; nothing is delivered");
                return;
            }
        };
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let runtime = state.runtime.load_full();
            if runtime.webhooks.is_empty() {
                continue;
            }
            let due = match state
                .ledger
                .claim_webhooks(OffsetDateTime::now_utc(), LEASE, BATCH)
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: claiming deliveries failed");
                    continue;
                }
            };
            for d in due {
                let outcome = match runtime.webhooks.get(&d.client) {
                    Some(endpoint) => attempt(&http, endpoint, &d).await,
                    None => Attempted::Failed {
                        error: "the client has no webhook configured any more".into(),
                    },
                };
                record(&state, &d, outcome).await;
            }
        }
    })
}

/// Tells the ledger which clients have a webhook (their events get outbox rows): at
/// start, before any order is taken, and after each applied reload.
pub fn install_clients(state: &AppState) {
    let runtime = state.runtime.load();
    state
        .ledger
        .set_webhook_clients(runtime.webhooks.keys().cloned().collect());
}

async fn attempt(http: &reqwest::Client, endpoint: &Endpoint, d: &Delivery) -> Attempted {
    let now = OffsetDateTime::now_utc();
    let timestamp = now.unix_timestamp();
    let signature = endpoint
        .key
        .sign(&d.event_id, timestamp, d.payload.as_bytes());
    let started = tokio::time::Instant::now();
    let sent = http
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header(HEADER_ID, &d.event_id)
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, signature)
        .body(d.payload.clone())
        .send()
        .await;
    metrics::histogram!(crate::metric_names::WEBHOOK_DELIVERY_DURATION_SECONDS)
        .record(started.elapsed().as_secs_f64());
    let error = match sent {
        Ok(r) if r.status().is_success() => return Attempted::Delivered,
        Ok(r) if r.status() == reqwest::StatusCode::GONE => {
            return Attempted::Failed {
                error: "the receiver answered 410 Gone".into(),
            };
        }
        Ok(r) => format!("the receiver answered {}", r.status().as_u16()),
        // Without the URL: it may carry a token.
        Err(e) if e.is_timeout() => format!("no answer within {} s", TIMEOUT.as_secs()),
        Err(_) => "could not reach the receiver".to_owned(),
    };
    retry_or_fail(d, now, error)
}

/// The next attempt after `d.attempts` failures, or failed once the window is over.
fn retry_or_fail(d: &Delivery, now: OffsetDateTime, error: String) -> Attempted {
    let window_start = OffsetDateTime::parse(
        &d.window_start,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or(now);
    let at = now + backoff(d.attempts, jitter(&d.event_id, d.attempts));
    if at - window_start > WINDOW {
        Attempted::Failed { error }
    } else {
        Attempted::Retry { at, error }
    }
}

/// 1 s, 2 s, 4 s ... up to an hour, times `jitter` (0.8..1.2): receivers coming back
/// are not hit by every client's retries in the same second.
fn backoff(failures: i64, jitter: f64) -> Duration {
    let exp = u32::try_from(failures.clamp(0, 20)).unwrap_or(20);
    let base = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF);
    base.mul_f64(jitter)
}

/// A spread in 0.8..1.2 that differs between events and attempts (no RNG needed).
fn jitter(event_id: &str, attempts: i64) -> f64 {
    let h = ledger::sha256_hex(format!("{event_id}/{attempts}").as_bytes());
    let n = u16::from_str_radix(h.get(..4).unwrap_or("8000"), 16).unwrap_or(0x8000);
    0.8 + 0.4 * f64::from(n) / f64::from(u16::MAX)
}

async fn record(state: &AppState, d: &Delivery, outcome: Attempted) {
    let result = match &outcome {
        Attempted::Delivered => "delivered",
        Attempted::Retry { .. } => "retry",
        Attempted::Failed { .. } => "failed",
    };
    metrics::counter!(crate::metric_names::WEBHOOK_DELIVERIES_TOTAL, "client" => d.client.clone(), "result" => result)
        .increment(1);
    if let Attempted::Failed { error } = &outcome {
        tracing::warn!(event_id = %d.event_id, order_id = %d.order_id, client = %d.client, %error, "webhook delivery failed; listed at /webhooks/failed");
    }
    if let Err(e) = state.ledger.webhook_attempted(&d.event_id, outcome).await {
        tracing::error!(error = %e, event_id = %d.event_id, "webhooks: recording an attempt failed; the lease expiry retries it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_to_an_hour_with_bounded_jitter() {
        assert_eq!(backoff(0, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(40, 1.0), MAX_BACKOFF);
        for attempts in 0..50 {
            let j = jitter("evt_x", attempts);
            assert!((0.8..=1.2).contains(&j), "{j}");
        }
        assert_ne!(jitter("evt_a", 1), jitter("evt_b", 1));
    }
}
