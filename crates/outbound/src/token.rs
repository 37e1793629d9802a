//! OAuth2 client-credentials tokens, cached (moka) per (token URL, client id, scope).
//! Concurrent misses coalesce into one token request; a token is dropped `skew` before
//! it expires; after a failed fetch, fetches fail fast for a short backoff so a dead
//! token endpoint is not hammered by every order.
//!
//! The skew is clamped to a quarter of the token's lifetime: `skewSecs` (60 s by
//! default) guards long-lived tokens against clock drift and calls in flight, but
//! applied whole to a 60-second token it left nothing usable and cost one token fetch
//! per order. A 60 s token is used for 45 s; a 3600 s token for 3540 s, as before. A
//! token whose lifetime is at or below `skewSecs` is logged once per connection, so
//! the operator can lower the skew or ask the vendor why.
//!
//! A 401 invalidates only the token that got it ([`TokenSource::invalidate_used`]):
//! the late 401s of a wave of calls sent with a revoked token must not throw away the
//! token that the first of them already fetched.
//!
//! Refresh ahead: once 80 % of a token's usable life (lifetime minus skew) has passed,
//! the first call to see it starts ONE background fetch and goes on with the current
//! token, so steady traffic never waits on a refresh; only a cold start or a token that
//! outlived its life unused makes a caller wait. A failed background fetch leaves the
//! current token in use until it expires and starts the same failure backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use crate::error::OutboundError;

pub struct TokenSpec {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scope: Option<String>,
    pub basic: bool,
    pub default_lifetime: Duration,
    pub skew: Duration,
}

#[derive(Clone)]
struct Token {
    value: SecretString,
    usable_until: Instant,
    refresh_at: Instant,
}

pub struct TokenSource {
    connection: String,
    spec: TokenSpec,
    key: String,
    http: reqwest::Client,
    cache: Cache<String, Token>,
    failed_until: Mutex<Option<Instant>>,
    refreshing: AtomicBool,
    warned_short_lifetime: AtomicBool,
}

const FAILURE_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    pub fn new(connection: &str, spec: TokenSpec, http: reqwest::Client) -> Self {
        let key = format!(
            "{}\u{0}{}\u{0}{}",
            spec.token_url,
            spec.client_id,
            spec.scope.as_deref().unwrap_or("")
        );
        TokenSource {
            connection: connection.to_owned(),
            spec,
            key,
            http,
            cache: Cache::new(4),
            failed_until: Mutex::new(None),
            refreshing: AtomicBool::new(false),
            warned_short_lifetime: AtomicBool::new(false),
        }
    }

    /// How much longer the cached token is usable (`None`: none cached), for the
    /// operator console; reading it fetches nothing and counts no cache hit.
    pub async fn usable_for(&self) -> Option<Duration> {
        let t = self.cache.get(&self.key).await?;
        Some(t.usable_until.saturating_duration_since(Instant::now()))
    }

    pub async fn token(self: &Arc<Self>) -> Result<SecretString, OutboundError> {
        if let Some(t) = self.cache.get(&self.key).await {
            let now = Instant::now();
            if now < t.usable_until {
                if now >= t.refresh_at {
                    self.refresh_ahead();
                }
                metrics::counter!(crate::metric_names::VENDOR_TOKEN_CACHE_HITS_TOTAL, "connection" => self.connection.clone()).increment(1);
                return Ok(t.value);
            }
            self.cache.invalidate(&self.key).await;
        }
        if self.backing_off() {
            return Err(OutboundError::TokenEndpoint {
                reason: "the token endpoint failed moments ago; backing off".into(),
                status: None,
            });
        }
        // Boxed: the fetch (a whole HTTP call) is the rare path; inline, it made every
        // future that waits on a token (each admission, each call's resend loop) ~2 KB
        // larger, and those are held by every order in flight.
        let result = Box::pin(self.cache.try_get_with(self.key.clone(), self.fetch())).await;
        match result {
            Ok(t) => Ok(t.value),
            Err(e) => {
                if let Ok(mut g) = self.failed_until.lock() {
                    *g = Some(Instant::now() + FAILURE_BACKOFF);
                }
                Err((*e).clone())
            }
        }
    }

    fn backing_off(&self) -> bool {
        self.failed_until
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|until| Instant::now() < until)
    }

    fn refresh_ahead(self: &Arc<Self>) {
        if self.backing_off() || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            match this.fetch().await {
                Ok(t) => this.cache.insert(this.key.clone(), t).await,
                Err(_) => {
                    if let Ok(mut g) = this.failed_until.lock() {
                        *g = Some(Instant::now() + FAILURE_BACKOFF);
                    }
                }
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Drops the cached token only if it is `used` (the one a vendor just refused), in
    /// one atomic step; a newer token that another caller already fetched stays.
    pub async fn invalidate_used(&self, used: &SecretString) {
        let _ = self
            .cache
            .entry_by_ref(&self.key)
            .and_compute_with(|cached| {
                let same =
                    cached.is_some_and(|e| e.value().value.expose_secret() == used.expose_secret());
                std::future::ready(if same {
                    moka::ops::compute::Op::Remove
                } else {
                    moka::ops::compute::Op::Nop
                })
            })
            .await;
    }

    /// The configured skew, at most a quarter of `lifetime`.
    fn skew_for(&self, lifetime: Duration) -> Duration {
        if lifetime <= self.spec.skew && !self.warned_short_lifetime.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                connection = %self.connection,
                lifetime_secs = lifetime.as_secs(),
                skew_secs = self.spec.skew.as_secs(),
                "the token endpoint issues tokens that live no longer than skewSecs; the skew is clamped to a quarter of their lifetime"
            );
        }
        self.spec.skew.min(lifetime / 4)
    }

    async fn fetch(&self) -> Result<Token, OutboundError> {
        let s = &self.spec;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !s.basic {
            form.push(("client_id", &s.client_id));
            form.push(("client_secret", s.client_secret.expose_secret()));
        }
        if let Some(scope) = &s.scope {
            form.push(("scope", scope));
        }
        let mut req = self
            .http
            .post(&s.token_url)
            .form(&form)
            .timeout(Duration::from_secs(10));
        if s.basic {
            req = req.basic_auth(&s.client_id, Some(s.client_secret.expose_secret()));
        }
        let fail = |reason: &str, status: Option<u16>| {
            metrics::counter!(crate::metric_names::VENDOR_TOKEN_FETCHES_TOTAL, "connection" => self.connection.clone(), "result" => "error").increment(1);
            OutboundError::TokenEndpoint {
                reason: reason.to_owned(),
                status,
            }
        };
        let resp = req
            .send()
            .await
            .map_err(|_| fail("the token endpoint could not be reached", None))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            return Err(fail(
                "the token endpoint refused the credentials",
                Some(status),
            ));
        }
        let not_a_token = || fail("the token endpoint's answer is not a token", Some(status));
        let body = crate::answer::read_capped(resp)
            .await
            .map_err(|_| not_a_token())?
            .ok_or_else(not_a_token)?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| not_a_token())?;
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(s.default_lifetime);
        metrics::counter!(crate::metric_names::VENDOR_TOKEN_FETCHES_TOTAL, "connection" => self.connection.clone(), "result" => "ok").increment(1);
        let usable = lifetime.saturating_sub(self.skew_for(lifetime));
        let now = Instant::now();
        Ok(Token {
            value: SecretString::from(answer.access_token),
            usable_until: now + usable,
            refresh_at: now + usable.mul_f64(0.8),
        })
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
