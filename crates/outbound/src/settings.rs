//! Per-connection outbound settings, as written under `connections[].outbound` in the
//! gateway config. Durations are integer milliseconds: unambiguous in YAML.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// A secret in config: `${NAME}` (read from the environment) or a literal (sandbox
/// configs only; the gateway's config check enforces that). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

pub use secret_ref::MissingSecret;

impl SecretValue {
    pub fn env_name(&self) -> Option<&str> {
        secret_ref::parse(&self.0)
    }
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<SecretString, MissingSecret> {
        secret_ref::resolve(&self.0, env)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.env_name() {
            Some(n) => write!(f, "SecretValue(${{{n}}})"),
            None => f.write_str("SecretValue(***)"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(serde::de::Error::custom("a secret must not be empty"));
        }
        Ok(SecretValue(s))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionSettings {
    /// Scheme, host and port (and a path prefix, if the vendor has one), no trailing slash.
    pub base_url: String,
    pub auth: AuthConfig,
    /// Extra static headers on every call (e.g. Adobe `X-Api-Key`); values are secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, SecretValue>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default)]
    pub breaker: BreakerConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    Body,
    /// HTTP Basic with the client id and secret.
    Basic,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum AuthConfig {
    #[serde(rename = "oauth2ClientCredentials", rename_all = "camelCase")]
    OAuth2ClientCredentials {
        token_url: String,
        client_id: SecretValue,
        client_secret: SecretValue,
        #[serde(default)]
        scope: Option<String>,
        #[serde(default)]
        client_auth: ClientAuth,
        /// Token lifetime when the answer has no `expires_in`.
        #[serde(default = "default_lifetime")]
        default_lifetime_secs: u64,
        /// A token is treated as expired this long before it really is.
        #[serde(default = "default_skew")]
        skew_secs: u64,
    },
    #[serde(rename = "staticHeader", rename_all = "camelCase")]
    StaticHeader {
        header: String,
        token: SecretValue,
        #[serde(default)]
        prefix: Option<String>,
    },
    #[serde(rename = "none")]
    None,
}

fn default_lifetime() -> u64 {
    3600
}
fn default_skew() -> u64 {
    60
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Calls per second this connection may make.
    pub rate_per_sec: u32,
    pub burst: u32,
    /// How long a call may wait for rate-limit capacity before failing `RateLimited`.
    pub max_wait_ms: u64,
    /// Calls in flight at once; more are shed with `Overloaded`.
    pub max_in_flight: u32,
    /// Whose budget `ratePerSec`/`burst` is: this replica's, or the whole fleet's (Redis).
    pub scope: Scope,
    /// Fleet scope only: what a call does when Redis does not answer in time.
    pub on_redis_down: OnRedisDown,
    /// Fleet scope only: replicas that share the budget, for the `localShare` fallback.
    pub expected_replicas: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    /// Each replica has the whole budget (one gateway, or the embedded sandbox).
    #[default]
    Local,
    /// One budget for every replica, kept in Redis (top-level `redis`).
    Fleet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnRedisDown {
    /// Go on with `ratePerSec / expectedReplicas` on this replica: the budget holds as long
    /// as no more replicas than that are running.
    #[default]
    LocalShare,
    /// Refuse the call (503 `vendor_rate_limited`): the vendor's budget is never exceeded.
    Reject,
}

/// The top-level `redis` section: where fleet-scope limits live.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://`, `rediss://` or `redis+unix://`; may hold a password, so a secret.
    pub url: SecretValue,
    /// The longest one limiter round trip may take before the call falls back.
    #[serde(default = "default_redis_timeout")]
    pub timeout_ms: u64,
    /// Prefix of every key, so several deployments can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

fn default_redis_timeout() -> u64 {
    50
}
fn default_key_prefix() -> String {
    "order-gateway".to_owned()
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_sec: 100,
            burst: 50,
            max_wait_ms: 1000,
            max_in_flight: 256,
            scope: Scope::Local,
            on_redis_down: OnRedisDown::LocalShare,
            expected_replicas: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Timeouts {
    pub connect_ms: u64,
    /// One attempt, from sending to the last byte of the answer.
    pub attempt_ms: u64,
    /// The whole call, retries and waits included.
    pub overall_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_ms: 2000,
            attempt_ms: 10_000,
            // Below the gateway's default shutdown grace (25 s), so a drain can finish
            // every call it lets start.
            overall_ms: 20_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_backoff_ms: 100,
            max_backoff_ms: 2000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failures (5xx, timeouts, connect errors) that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before one probe is let through.
    pub open_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            open_ms: 30_000,
        }
    }
}

impl ConnectionSettings {
    /// Impossible values, as (pointer relative to the connection's `outbound`, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |p: &str, m: &str| out.push((p.to_owned(), m.to_owned()));
        match url::Url::parse(&self.base_url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                if self.base_url.ends_with('/') {
                    bad(
                        "/baseUrl",
                        "must not end with '/': request paths start with one",
                    );
                }
            }
            _ => bad("/baseUrl", "must be an absolute http(s) URL"),
        }
        if let AuthConfig::OAuth2ClientCredentials {
            token_url,
            default_lifetime_secs,
            skew_secs,
            ..
        } = &self.auth
        {
            if url::Url::parse(token_url).is_err() {
                bad("/auth/tokenUrl", "must be an absolute URL");
            }
            if skew_secs >= default_lifetime_secs {
                bad("/auth/skewSecs", "must be shorter than defaultLifetimeSecs");
            }
        }
        if let AuthConfig::StaticHeader { header, .. } = &self.auth
            && http::HeaderName::from_bytes(header.as_bytes()).is_err()
        {
            bad("/auth/header", "is not a valid HTTP header name");
        }
        for name in self.headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                bad(
                    &format!("/headers/{name}"),
                    "is not a valid HTTP header name",
                );
            }
        }
        if self.limits.rate_per_sec == 0 {
            bad("/limits/ratePerSec", "must be at least 1");
        }
        if self.limits.burst == 0 {
            bad("/limits/burst", "must be at least 1");
        }
        if self.limits.expected_replicas == 0 {
            bad("/limits/expectedReplicas", "must be at least 1");
        }
        if self.limits.max_in_flight == 0 {
            bad("/limits/maxInFlight", "must be at least 1");
        }
        if self.timeouts.connect_ms == 0 || self.timeouts.attempt_ms == 0 {
            bad("/timeouts", "connectMs and attemptMs must be above 0");
        }
        if self.timeouts.attempt_ms > self.timeouts.overall_ms {
            bad("/timeouts/attemptMs", "must not exceed overallMs");
        }
        if self.retry.max_attempts == 0 {
            bad("/retry/maxAttempts", "must be at least 1");
        }
        if self.retry.base_backoff_ms > self.retry.max_backoff_ms {
            bad("/retry/baseBackoffMs", "must not exceed maxBackoffMs");
        }
        if self.breaker.failure_threshold == 0 {
            bad("/breaker/failureThreshold", "must be at least 1");
        }
        out
    }

    /// Every secret this connection uses.
    pub fn secrets(&self) -> Vec<&SecretValue> {
        let mut v: Vec<&SecretValue> = self.headers.values().collect();
        match &self.auth {
            AuthConfig::OAuth2ClientCredentials {
                client_id,
                client_secret,
                ..
            } => {
                v.push(client_id);
                v.push(client_secret);
            }
            AuthConfig::StaticHeader { token, .. } => v.push(token),
            AuthConfig::None => {}
        }
        v
    }
}
