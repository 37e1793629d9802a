//! One connection's outbound client: rate limit -> in-flight cap -> breaker -> auth
//! (cached token) -> attempt with timeout -> retry where it cannot duplicate.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector::{RetrySafety, VendorRequest, VendorResponse};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;

use crate::breaker::Breaker;
use crate::error::{BuildError, OutboundError};
use crate::settings::{AuthConfig, ClientAuth, ConnectionSettings};
use crate::token::{TokenSource, TokenSpec};

/// The answer to a call the vendor received (any status), and how many attempts it took.
#[derive(Debug)]
pub struct Sent {
    pub response: VendorResponse,
    pub attempts: u32,
}

/// What would be sent, with every secret masked: for previews and dry runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

enum Auth {
    Bearer(Arc<TokenSource>),
    Header {
        name: HeaderName,
        value: HeaderValue,
    },
    None,
}

pub struct ConnectionClient {
    name: String,
    vendor: String,
    base_url: String,
    server_address: String,
    server_port: u16,
    http: reqwest::Client,
    auth: Auth,
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    limiter: DefaultDirectRateLimiter,
    max_wait: Duration,
    in_flight: Semaphore,
    breaker: Breaker,
    /// Set by a vendor 429: no call goes out before this instant.
    paused_until: Mutex<Option<Instant>>,
    settings: ConnectionSettings,
}

impl ConnectionClient {
    pub fn new(
        name: &str,
        vendor: &str,
        settings: &ConnectionSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, BuildError> {
        if let Some((p, m)) = settings.validate().into_iter().next() {
            return Err(BuildError::Invalid(format!("{p}: {m}")));
        }
        let url = url::Url::parse(&settings.base_url)
            .map_err(|e| BuildError::Invalid(format!("baseUrl: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(settings.timeouts.connect_ms))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BuildError::Invalid(format!("HTTP client: {e}")))?;
        let auth = match &settings.auth {
            AuthConfig::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
                client_auth,
                default_lifetime_secs,
                skew_secs,
            } => {
                let spec = TokenSpec {
                    token_url: token_url.clone(),
                    client_id: client_id.resolve(env)?.expose_secret().to_owned(),
                    client_secret: client_secret.resolve(env)?,
                    scope: scope.clone(),
                    basic: *client_auth == ClientAuth::Basic,
                    default_lifetime: Duration::from_secs(*default_lifetime_secs),
                    skew: Duration::from_secs(*skew_secs),
                };
                Auth::Bearer(Arc::new(TokenSource::new(name, spec, http.clone())))
            }
            AuthConfig::StaticHeader {
                header,
                token,
                prefix,
            } => {
                let secret = token.resolve(env)?;
                let raw = format!(
                    "{}{}",
                    prefix.as_deref().unwrap_or(""),
                    secret.expose_secret()
                );
                let mut value = HeaderValue::from_str(&raw).map_err(|_| {
                    BuildError::Invalid("the static token is not a valid header value".into())
                })?;
                value.set_sensitive(true);
                let name = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| BuildError::Invalid("auth.header".into()))?;
                Auth::Header { name, value }
            }
            AuthConfig::None => Auth::None,
        };
        let mut extra_headers = Vec::new();
        for (k, v) in &settings.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| BuildError::Invalid(format!("headers.{k}")))?;
            let mut value = HeaderValue::from_str(v.resolve(env)?.expose_secret())
                .map_err(|_| BuildError::Invalid(format!("headers.{k}: not a header value")))?;
            value.set_sensitive(true);
            extra_headers.push((name, value));
        }
        let rate = NonZeroU32::new(settings.limits.rate_per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.limits.burst).unwrap_or(NonZeroU32::MIN);
        Ok(ConnectionClient {
            name: name.to_owned(),
            vendor: vendor.to_owned(),
            base_url: settings.base_url.clone(),
            server_address: url.host_str().unwrap_or_default().to_owned(),
            server_port: url.port_or_known_default().unwrap_or(0),
            http,
            auth,
            extra_headers,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            max_wait: Duration::from_millis(settings.limits.max_wait_ms),
            in_flight: Semaphore::new(settings.limits.max_in_flight as usize),
            breaker: Breaker::new(
                name,
                vendor,
                settings.breaker.failure_threshold,
                Duration::from_millis(settings.breaker.open_ms),
            ),
            paused_until: Mutex::new(None),
            settings: settings.clone(),
        })
    }

    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    pub fn preview(&self, req: &VendorRequest) -> PreviewRequest {
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
            .collect();
        match &self.auth {
            Auth::Bearer(_) => headers.push(("authorization".into(), "Bearer ***".into())),
            Auth::Header { name, .. } => headers.push((name.as_str().to_owned(), "***".into())),
            Auth::None => {}
        }
        for (k, _) in &self.extra_headers {
            headers.push((k.as_str().to_owned(), "***".into()));
        }
        if let Some(h) = &req.fresh_id_header {
            headers.push((
                h.as_str().to_owned(),
                "<a new UUID on every attempt>".into(),
            ));
        }
        headers.push((
            "traceparent".into(),
            "<the request's W3C trace context>".into(),
        ));
        PreviewRequest {
            method: req.method.to_string(),
            url: format!("{}{}", self.base_url, req.path),
            headers,
        }
    }

    pub async fn send(&self, req: &VendorRequest) -> Result<Sent, OutboundError> {
        let deadline = Instant::now() + Duration::from_millis(self.settings.timeouts.overall_ms);
        self.breaker.admit()?;
        self.wait_out_pause(deadline).await?;
        let _permit = self
            .in_flight
            .try_acquire()
            .map_err(|_| OutboundError::Overloaded)?;
        metrics::gauge!("vendor_in_flight", "connection" => self.name.clone()).increment(1.0);
        let result = self.send_admitted(req, deadline).await;
        metrics::gauge!("vendor_in_flight", "connection" => self.name.clone()).decrement(1.0);
        result
    }

    async fn send_admitted(
        &self,
        req: &VendorRequest,
        deadline: Instant,
    ) -> Result<Sent, OutboundError> {
        if self.limiter.check().is_err() {
            metrics::counter!("vendor_rate_limit_waits_total", "connection" => self.name.clone())
                .increment(1);
            if tokio::time::timeout(self.max_wait, self.limiter.until_ready())
                .await
                .is_err()
            {
                metrics::counter!("vendor_rate_limit_rejections_total", "connection" => self.name.clone()).increment(1);
                return Err(OutboundError::RateLimited {
                    retry_after: Duration::from_secs(1),
                });
            }
        }
        let max_attempts = self.settings.retry.max_attempts.max(1);
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = match &self.auth {
                Auth::Bearer(src) => Some(src.token().await?),
                Auth::Header { .. } | Auth::None => None,
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(OutboundError::DeadlineExceeded);
            }
            let per_attempt =
                remaining.min(Duration::from_millis(self.settings.timeouts.attempt_ms));
            let outcome = self
                .attempt(req, token.as_ref(), attempt - 1, per_attempt)
                .await;
            let retry_allowed = attempt < max_attempts;
            match outcome {
                Attempt::Answered(resp) => {
                    let status = resp.status;
                    if status == 401
                        && !refreshed
                        && let Auth::Bearer(src) = &self.auth
                    {
                        // One refresh and one retry; a second 401 goes back to the connector.
                        src.invalidate().await;
                        refreshed = true;
                        attempt -= 1;
                        continue;
                    }
                    let retry_after = retry_after(&resp.headers);
                    if status == 429 {
                        self.pause(retry_after.unwrap_or(Duration::from_secs(1)));
                    }
                    if status >= 500 {
                        self.breaker.failure();
                    } else {
                        self.breaker.success();
                    }
                    // 429/503 with Retry-After: the vendor says it did not process the call.
                    if let (true, Some(wait), true) =
                        (status == 429 || status == 503, retry_after, retry_allowed)
                        && Instant::now() + wait < deadline
                    {
                        self.count_retry();
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status >= 500 && retry_allowed && req.retry != RetrySafety::NotAfterSend {
                        self.count_retry();
                        self.backoff(attempt, deadline).await;
                        continue;
                    }
                    return Ok(Sent {
                        response: resp,
                        attempts: attempt,
                    });
                }
                Attempt::NotSent(reason) => {
                    self.breaker.failure();
                    if retry_allowed {
                        self.count_retry();
                        self.backoff(attempt, deadline).await;
                        continue;
                    }
                    return Err(OutboundError::NotSent { reason });
                }
                Attempt::TimedOut => {
                    self.breaker.failure();
                    if retry_allowed && req.retry != RetrySafety::NotAfterSend {
                        self.count_retry();
                        self.backoff(attempt, deadline).await;
                        continue;
                    }
                    return Err(OutboundError::Timeout { maybe_sent: true });
                }
                Attempt::Broken(reason) => {
                    self.breaker.failure();
                    if retry_allowed && req.retry != RetrySafety::NotAfterSend {
                        self.count_retry();
                        self.backoff(attempt, deadline).await;
                        continue;
                    }
                    return Err(OutboundError::Transport {
                        maybe_sent: true,
                        reason,
                    });
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &VendorRequest,
        token: Option<&SecretString>,
        resend_count: u32,
        timeout: Duration,
    ) -> Attempt {
        let url = format!("{}{}", self.base_url, req.path);
        let span = tracing::info_span!(
            "vendor call",
            otel.kind = "client",
            otel.name = %req.method,
            http.request.method = %req.method,
            server.address = %self.server_address,
            server.port = self.server_port,
            url.full = %url,
            http.request.resend_count = resend_count,
            http.response.status_code = tracing::field::Empty,
            error.r#type = tracing::field::Empty,
            order_gateway.connection = %self.name,
            order_gateway.vendor = %self.vendor,
        );
        let started = Instant::now();
        let mut builder = self.http.request(req.method.clone(), &url);
        let mut headers = HeaderMap::new();
        for (k, v) in &req.headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                headers.insert(k.clone(), v);
            }
        }
        if let Some(h) = &req.fresh_id_header
            && let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        {
            headers.insert(h.clone(), v);
        }
        for (k, v) in &self.extra_headers {
            headers.insert(k.clone(), v.clone());
        }
        match (&self.auth, token) {
            (Auth::Bearer(_), Some(t)) => {
                if let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret())) {
                    v.set_sensitive(true);
                    headers.insert(http::header::AUTHORIZATION, v);
                }
            }
            (Auth::Header { name, value }, _) => {
                headers.insert(name.clone(), value.clone());
            }
            _ => {}
        }
        crate::trace::inject(&span, &mut headers);
        builder = builder.headers(headers).timeout(timeout);
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let outcome = async {
            match builder.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Attempt::Answered(VendorResponse {
                            status,
                            headers,
                            body,
                        }),
                        Err(e) if e.is_timeout() => Attempt::TimedOut,
                        Err(_) => Attempt::Broken("the answer was cut off".into()),
                    }
                }
                Err(e) if e.is_connect() => Attempt::NotSent("could not connect".into()),
                Err(e) if e.is_timeout() => Attempt::TimedOut,
                Err(_) => Attempt::Broken("the connection failed".into()),
            }
        }
        .instrument(span.clone())
        .await;
        let (label, status) = match &outcome {
            Attempt::Answered(r) => {
                span.record("http.response.status_code", r.status);
                ("answered", r.status.to_string())
            }
            Attempt::NotSent(_) => {
                span.record("error.type", "connect");
                ("not_sent", String::new())
            }
            Attempt::TimedOut => {
                span.record("error.type", "timeout");
                ("timeout", String::new())
            }
            Attempt::Broken(_) => {
                span.record("error.type", "transport");
                ("transport", String::new())
            }
        };
        metrics::counter!("vendor_calls_total", "connection" => self.name.clone(), "vendor" => self.vendor.clone(), "outcome" => label, "status" => status).increment(1);
        metrics::histogram!("vendor_call_duration_seconds", "connection" => self.name.clone())
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    fn pause(&self, d: Duration) {
        if let Ok(mut p) = self.paused_until.lock() {
            let until = Instant::now() + d;
            if p.is_none_or(|cur| cur < until) {
                *p = Some(until);
            }
        }
    }

    async fn wait_out_pause(&self, deadline: Instant) -> Result<(), OutboundError> {
        let until = self.paused_until.lock().ok().and_then(|p| *p);
        let Some(until) = until else { return Ok(()) };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        let wait = until - now;
        if wait > self.max_wait || until > deadline {
            return Err(OutboundError::RateLimited { retry_after: wait });
        }
        tokio::time::sleep_until(until).await;
        Ok(())
    }

    /// Exponential backoff with full jitter, never past the deadline.
    async fn backoff(&self, attempt: u32, deadline: Instant) {
        let base = self.settings.retry.base_backoff_ms.max(1);
        let cap = self.settings.retry.max_backoff_ms.max(base);
        let exp = base.saturating_mul(1u64 << attempt.min(16)).min(cap);
        let jitter = rand::random_range(0..=exp);
        let until = (Instant::now() + Duration::from_millis(jitter)).min(deadline);
        tokio::time::sleep_until(until).await;
    }

    fn count_retry(&self) {
        metrics::counter!("vendor_retries_total", "connection" => self.name.clone()).increment(1);
    }
}

enum Attempt {
    Answered(VendorResponse),
    /// Provably nothing reached the vendor (the connection was never made).
    NotSent(String),
    TimedOut,
    Broken(String),
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}
