//! OAuth2 client-credentials tokens, cached (moka) per (token URL, client id, scope).
//! Concurrent misses coalesce into one token request; a token is dropped `skew` before
//! it expires; after a failed fetch, fetches fail fast for a short backoff so a dead
//! token endpoint is not hammered by every order.

use std::sync::Mutex;
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
}

pub struct TokenSource {
    connection: String,
    spec: TokenSpec,
    key: String,
    http: reqwest::Client,
    cache: Cache<String, Token>,
    failed_until: Mutex<Option<Instant>>,
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
        }
    }

    pub async fn token(&self) -> Result<SecretString, OutboundError> {
        if let Some(t) = self.cache.get(&self.key).await {
            if Instant::now() < t.usable_until {
                metrics::counter!("vendor_token_cache_hits_total", "connection" => self.connection.clone()).increment(1);
                return Ok(t.value);
            }
            self.cache.invalidate(&self.key).await;
        }
        if let Some(until) = self.failed_until.lock().ok().and_then(|g| *g)
            && Instant::now() < until
        {
            return Err(OutboundError::TokenEndpoint {
                reason: "the token endpoint failed moments ago; backing off".into(),
                status: None,
            });
        }
        let result = self
            .cache
            .try_get_with(self.key.clone(), self.fetch())
            .await;
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

    pub async fn invalidate(&self) {
        self.cache.invalidate(&self.key).await;
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
            metrics::counter!("vendor_token_fetches_total", "connection" => self.connection.clone(), "result" => "error").increment(1);
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
        let answer: TokenAnswer = resp
            .json()
            .await
            .map_err(|_| fail("the token endpoint's answer is not a token", Some(status)))?;
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(s.default_lifetime);
        metrics::counter!("vendor_token_fetches_total", "connection" => self.connection.clone(), "result" => "ok").increment(1);
        Ok(Token {
            value: SecretString::from(answer.access_token),
            usable_until: Instant::now() + lifetime.saturating_sub(s.skew),
        })
    }
}
