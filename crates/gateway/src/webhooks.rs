//! Delivering order events to the calling services' webhooks.
//!
//! The ledger writes each event of a client with a webhook into its outbox in the same
//! transaction as the order's change (`crates/ledger`, lifecycle). This worker claims
//! due deliveries (an order's events one at a time, in order; on PostgreSQL replicas
//! split the rows, so each event goes out once, not once per replica), POSTs each signed
//! per Standard Webhooks (`webhook_sign`), and records the attempt: a 2xx ends it;
//! anything else (or no answer within `TIMEOUT`) is retried with exponential backoff and
//! jitter (`webhooks: {firstBackoffMs, maxBackoffSecs}`) until `webhooks.windowSecs`
//! after the event; then it is listed as failed (admin `/webhooks/failed`) until
//! redelivered. Delivery is at least once: a receiver drops duplicates by `webhook-id`
//! (the event id, the same on every attempt).
//!
//! 410 Gone says the endpoint is gone, not the event: the client's endpoint is disabled
//! in the ledger (every replica and a restart see it) and all its deliveries are held,
//! still pending, never lost, listed at admin `/webhooks/disabled`. It is enabled again
//! by an operator's redelivery (CLI, admin, console) or by a config whose URL for the
//! client differs from the one that answered 410 (checked at start and after a reload).
//!
//! A delivery claimed by a process that died (kill -9) is taken over as soon as that
//! process's replica lease is gone (at once on SQLite, whose file one process owns; after
//! the lease's expiry on PostgreSQL), not when the claim's own `LEASE` runs out.
//!
//! Decisions: one URL per client; the worker polls every `POLL` (a second of delay at
//! most, and nothing to wake across replicas); deliveries use their own HTTP client
//! with `TIMEOUT`, not a vendor connection's limits; the payload holds the order's ids,
//! state, canonical status and answer, never the order body. Every `BACKLOG_EVERY` polls
//! it publishes the backlog gauges (`webhook_backlog_events`,
//! `webhook_backlog_age_seconds`, `webhook_endpoint_disabled`, per client).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ledger::{Attempted, Delivery};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::config::model::{ClientConfig, WebhookSettings};
use crate::secrets::EnvLookup;
use crate::state::AppState;
use crate::webhook_sign::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SigningKey};

pub const POLL: Duration = Duration::from_secs(1);
/// How long a claimed delivery is this replica's before another may take it over.
pub const LEASE: Duration = Duration::from_secs(60);
pub const TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: u32 = 32;
/// Polls between two publications of the backlog gauges (a ledger read each).
const BACKLOG_EVERY: u64 = 5;

/// One client's webhook. The key never prints.
#[derive(Debug)]
pub struct Endpoint {
    pub url: String,
    /// SHA-256 (hex) of `url`: what the ledger remembers of an endpoint that answered 410
    /// (the URL itself may carry a token).
    pub url_sha256: String,
    pub key: SigningKey,
}

/// The retry policy, from `webhooks:` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub window: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Policy {
    pub fn of(w: &WebhookSettings) -> Self {
        Policy {
            window: Duration::from_secs(w.window_secs.get()),
            first_backoff: Duration::from_millis(w.first_backoff_ms.get()),
            max_backoff: Duration::from_secs(w.max_backoff_secs.get()),
        }
    }
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
                url_sha256: ledger::sha256_hex(w.url.as_bytes()),
                key,
            }),
        );
    }
    Ok(out)
}

/// The delivery loop.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // A receiver's redirect is a failed attempt (retried at the configured URL), never
        // followed to a host the platform team did not configure.
        let http = match reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: no HTTP client; nothing is delivered");
                return;
            }
        };
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen: Option<Arc<crate::state::Runtime>> = None;
        let mut gauges = Gauges::default();
        for polls in 0u64.. {
            tick.tick().await;
            let runtime = state.runtime.load_full();
            if seen.as_ref().is_none_or(|s| !Arc::ptr_eq(s, &runtime)) {
                reenable_changed(&state, &runtime).await;
                seen = Some(runtime.clone());
            }
            if polls % BACKLOG_EVERY == 0 {
                gauges.publish(&state).await;
            }
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
            deliver(&state, &http, &runtime, due).await;
        }
    })
}

/// Attempts the claimed deliveries one after the other. After a 410 the client's other
/// claimed deliveries are not sent: their claims are released, and the ledger holds them.
async fn deliver(
    state: &AppState,
    http: &reqwest::Client,
    runtime: &crate::state::Runtime,
    due: Vec<Delivery>,
) {
    let policy = Policy::of(&runtime.checked.config.webhooks);
    let mut gone = std::collections::HashSet::new();
    for d in due {
        if gone.contains(&d.client) {
            if let Err(e) = state.ledger.release_webhook_claim(&d.event_id).await {
                tracing::error!(error = %e, event_id = %d.event_id, "webhooks: releasing a claim failed; its lease runs out instead");
            }
            continue;
        }
        let outcome = match runtime.webhooks.get(&d.client) {
            Some(endpoint) => attempt(http, endpoint, &d, policy).await,
            None => Attempted::Failed {
                error: "the client has no webhook configured any more".into(),
            },
        };
        if matches!(outcome, Attempted::Gone { .. }) {
            gone.insert(d.client.clone());
        }
        record(state, &d, outcome).await;
    }
}

/// Enables the endpoints disabled by a 410 whose client has another URL in `runtime`.
async fn reenable_changed(state: &AppState, runtime: &crate::state::Runtime) {
    let current = runtime
        .webhooks
        .iter()
        .map(|(client, e)| (client.clone(), e.url_sha256.clone()))
        .collect();
    match state.ledger.reenable_changed_webhooks(current).await {
        Ok(enabled) => {
            for client in enabled {
                tracing::info!(%client, "webhook endpoint enabled again: the client's URL changed in the config");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "webhooks: enabling endpoints whose URL changed failed");
        }
    }
}

/// The backlog gauges, per client; a client whose backlog emptied is set back to 0.
#[derive(Default)]
struct Gauges {
    clients: std::collections::BTreeSet<String>,
}

impl Gauges {
    async fn publish(&mut self, state: &AppState) {
        let (backlog, disabled) = match (
            state.ledger.webhook_backlog().await,
            state.ledger.disabled_webhook_endpoints().await,
        ) {
            (Ok(b), Ok(d)) => (b, d),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "webhooks: reading the backlog failed");
                return;
            }
        };
        let now = OffsetDateTime::now_utc();
        let mut current = std::collections::BTreeSet::new();
        for b in &backlog {
            let age = OffsetDateTime::parse(
                &b.oldest_created_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0));
            metrics::gauge!(crate::metric_names::WEBHOOK_BACKLOG_EVENTS, "client" => b.client.clone())
                .set(b.pending as f64);
            metrics::gauge!(crate::metric_names::WEBHOOK_BACKLOG_AGE_SECONDS, "client" => b.client.clone()).set(age);
            current.insert(b.client.clone());
        }
        for d in &disabled {
            metrics::gauge!(crate::metric_names::WEBHOOK_ENDPOINT_DISABLED, "client" => d.client.clone()).set(1.0);
            current.insert(d.client.clone());
        }
        for gone in self.clients.difference(&current) {
            metrics::gauge!(crate::metric_names::WEBHOOK_BACKLOG_EVENTS, "client" => gone.clone())
                .set(0.0);
            metrics::gauge!(crate::metric_names::WEBHOOK_BACKLOG_AGE_SECONDS, "client" => gone.clone()).set(0.0);
        }
        for c in self.clients.iter().chain(current.iter()) {
            if !disabled.iter().any(|d| &d.client == c) {
                metrics::gauge!(crate::metric_names::WEBHOOK_ENDPOINT_DISABLED, "client" => c.clone()).set(0.0);
            }
        }
        self.clients = current;
    }
}

/// Tells the ledger which clients have a webhook (their events get outbox rows): at
/// start, before any order is taken, and after each applied reload.
pub fn install_clients(state: &AppState) {
    let runtime = state.runtime.load();
    state
        .ledger
        .set_webhook_clients(runtime.webhooks.keys().cloned().collect());
}

async fn attempt(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    d: &Delivery,
    policy: Policy,
) -> Attempted {
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
            return Attempted::Gone {
                error: "the receiver answered 410 Gone".into(),
                url_sha256: endpoint.url_sha256.clone(),
            };
        }
        Ok(r) => format!("the receiver answered {}", r.status().as_u16()),
        // Without the URL: it may carry a token.
        Err(e) if e.is_timeout() => format!("no answer within {} s", TIMEOUT.as_secs()),
        Err(_) => "could not reach the receiver".to_owned(),
    };
    retry_or_fail(d, now, error, policy)
}

/// The next attempt after `d.attempts` failures, or failed once the window is over.
fn retry_or_fail(d: &Delivery, now: OffsetDateTime, error: String, policy: Policy) -> Attempted {
    let window_start = OffsetDateTime::parse(
        &d.window_start,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or(now);
    let at = now + backoff(d.attempts, jitter(&d.event_id, d.attempts), policy);
    if at - window_start > policy.window {
        Attempted::Failed { error }
    } else {
        Attempted::Retry { at, error }
    }
}

/// The first backoff doubled per failure (1 s, 2 s, 4 s ... by default) up to the
/// longest (an hour), times `jitter` (0.8..1.2): receivers coming back are not hit by
/// every client's retries in the same second.
fn backoff(failures: i64, jitter: f64, policy: Policy) -> Duration {
    let exp = u32::try_from(failures.clamp(0, 20)).unwrap_or(20);
    let base = policy
        .first_backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(policy.max_backoff);
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
        Attempted::Gone { .. } => "gone",
    };
    metrics::counter!(crate::metric_names::WEBHOOK_DELIVERIES_TOTAL, "client" => d.client.clone(), "result" => result)
        .increment(1);
    match &outcome {
        Attempted::Failed { error } => {
            tracing::warn!(event_id = %d.event_id, order_id = %d.order_id, client = %d.client, %error, "webhook delivery failed; listed at /webhooks/failed");
        }
        Attempted::Gone { .. } => {
            metrics::counter!(crate::metric_names::WEBHOOK_ENDPOINT_DISABLED_TOTAL, "client" => d.client.clone())
                .increment(1);
            tracing::warn!(event_id = %d.event_id, client = %d.client, "webhook endpoint answered 410 Gone: disabled, the client's deliveries are held (listed at /webhooks/disabled) until redelivered or its URL changes");
        }
        Attempted::Delivered | Attempted::Retry { .. } => {}
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
        let p = Policy::of(&WebhookSettings::default());
        assert_eq!(backoff(0, 1.0, p), Duration::from_secs(1));
        assert_eq!(backoff(3, 1.0, p), Duration::from_secs(8));
        assert_eq!(backoff(40, 1.0, p), Duration::from_secs(3600));
        for attempts in 0..50 {
            let j = jitter("evt_x", attempts);
            assert!((0.8..=1.2).contains(&j), "{j}");
        }
        assert_ne!(jitter("evt_a", 1), jitter("evt_b", 1));
    }
}
