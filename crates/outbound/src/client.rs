//! One connection's outbound client. Admission (nothing sent yet): breaker -> vendor pause
//! -> rate limit (bounded wait) -> in-flight slot -> token. Then attempts, each with its
//! timeout, and after each one the step [`crate::policy`] decides (resend, refresh,
//! answer, fail): this file is only the I/O of those steps.

use std::sync::Arc;
use std::time::Duration;

use connector::{VendorRequest, VendorResponse};
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use std::time::SystemTime;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::Instrument;

use crate::answer::{MAX_RESPONSE_BYTES, read_capped};
use crate::breaker::Breaker;
use crate::error::{BuildError, OutboundError};
use crate::fleet::{FleetLimit, FleetStore};
use crate::limiter::{Limiter, Rate};
use crate::policy::{BreakerReport, CallState, Event, Failure, Next, Policy};
use crate::settings::{AuthConfig, ClientAuth, ConnectionSettings, Scope};
use crate::token::{TokenSource, TokenSpec};

/// The answer to a call the vendor received (any status), and how many attempts it took.
#[derive(Debug)]
pub struct Sent {
    pub response: VendorResponse,
    pub attempts: u32,
    /// An earlier attempt of this call may have reached the vendor (it timed out, broke,
    /// or got a 5xx) before this answer came. A "not processed" answer (429, 401) then
    /// says nothing about that earlier attempt: the order's outcome is unknown.
    pub earlier_attempt_may_have_landed: bool,
    /// Earlier answers of this call that were resent over (5xx on a request that is safe
    /// to resend), oldest first: the connector decides what each meant.
    pub earlier_answers: Vec<VendorResponse>,
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
    /// Rate limit and vendor pause (local or fleet-wide).
    limiter: Limiter,
    max_wait: Duration,
    in_flight: Arc<Semaphore>,
    breaker: Breaker,
    settings: ConnectionSettings,
}

impl ConnectionClient {
    /// A connection whose limits are local (a fleet-scope connection needs
    /// [`ConnectionClient::with_fleet`]).
    pub fn new(
        name: &str,
        vendor: &str,
        settings: &ConnectionSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, BuildError> {
        Self::with_fleet(name, vendor, settings, env, None)
    }

    /// A connection that may use the gateway's Redis for `limits.scope: fleet`.
    pub fn with_fleet(
        name: &str,
        vendor: &str,
        settings: &ConnectionSettings,
        env: &dyn Fn(&str) -> Option<String>,
        fleet: Option<&Arc<FleetStore>>,
    ) -> Result<Self, BuildError> {
        if let Some((p, m)) = settings.validate().into_iter().next() {
            return Err(BuildError::Invalid(format!("{p}: {m}")));
        }
        let url = url::Url::parse(&settings.base_url)
            .map_err(|e| BuildError::Invalid(format!("baseUrl: {e}")))?;
        // A vendor's redirect is its answer (an unexpected status), never followed: a 307
        // would re-send the order and its static credentials (`accessToken`, `x-api-key`:
        // reqwest strips only `Authorization` across hosts) to the `Location`'s host, a
        // 301/302 would turn the create POST into a GET whose answer reads as the order's,
        // and the token endpoint's would carry the client secret along.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(settings.timeouts.connect_ms))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
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
        let limits = &settings.limits;
        let limiter = match (limits.scope, fleet) {
            (Scope::Local, _) => Limiter::local(limits),
            (Scope::Fleet, Some(store)) => {
                let rate = Rate::per_second(limits.rate_per_sec, limits.burst);
                Limiter::fleet(limits, FleetLimit::new(store.clone(), name, rate))
            }
            (Scope::Fleet, None) => {
                return Err(BuildError::Invalid(
                    "limits.scope fleet needs the top-level redis section".into(),
                ));
            }
        };
        Ok(ConnectionClient {
            name: name.to_owned(),
            vendor: vendor.to_owned(),
            base_url: settings.base_url.clone(),
            server_address: url.host_str().unwrap_or_default().to_owned(),
            server_port: url.port_or_known_default().unwrap_or(0),
            http,
            auth,
            extra_headers,
            limiter,
            max_wait: Duration::from_millis(settings.limits.max_wait_ms),
            in_flight: Arc::new(Semaphore::new(settings.limits.max_in_flight as usize)),
            breaker: Breaker::new(
                name,
                vendor,
                settings.breaker.failure_threshold,
                Duration::from_millis(settings.breaker.open_ms),
            ),
            settings: settings.clone(),
        })
    }

    /// The OAuth token's freshness: `None` for a connection without OAuth, else how
    /// much longer the cached token is usable (`Some(None)`: none cached yet).
    pub async fn token_freshness(&self) -> Option<Option<Duration>> {
        match &self.auth {
            Auth::Bearer(source) => Some(source.usable_for().await),
            Auth::Header { .. } | Auth::None => None,
        }
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

    /// Admits one call and sends it. Gateways that record an order before it may reach
    /// the vendor use [`ConnectionClient::admit`] and [`Admission::send`] instead, so the
    /// record is written only once the call is about to go out.
    pub async fn send(&self, req: &VendorRequest) -> Result<Sent, OutboundError> {
        self.admit().await?.send(req).await
    }

    /// Everything that can stop a call before its first byte is written, in order:
    /// breaker -> vendor pause and rate limit (one limiter step, one bounded wait) ->
    /// in-flight slot -> token. Nothing has been sent when this fails. The slot is taken only after
    /// the rate-limit wait, so calls waiting for capacity do not hold slots from calls
    /// that could go out.
    pub async fn admit(&self) -> Result<Admission<'_>, OutboundError> {
        self.admit_as(false).await
    }

    /// [`ConnectionClient::admit`] for a background read (status sync): it shares the
    /// connection's rate budget at a lower priority ([`Limiter::admit_background`]: only
    /// now, never waiting, and never the half of the burst kept for creates).
    pub async fn admit_background(&self) -> Result<Admission<'_>, OutboundError> {
        self.admit_as(true).await
    }

    async fn admit_as(&self, background: bool) -> Result<Admission<'_>, OutboundError> {
        let deadline = Instant::now() + Duration::from_millis(self.settings.timeouts.overall_ms);
        self.breaker.admit()?;
        if background {
            self.limiter.admit_background(&self.name).await?;
        } else {
            let budget = self
                .max_wait
                .min(deadline.saturating_duration_since(Instant::now()));
            self.limiter.admit(&self.name, budget).await?;
        }
        let permit = self.in_flight.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!(crate::metric_names::VENDOR_SHED_TOTAL, "connection" => self.name.clone()).increment(1);
            OutboundError::Overloaded
        })?;
        let slot = InFlight::new(&self.name, permit);
        let token = self.token().await?;
        Ok(Admission {
            client: self,
            _slot: slot,
            deadline,
            token,
        })
    }

    async fn token(&self) -> Result<Option<SecretString>, OutboundError> {
        match &self.auth {
            Auth::Bearer(src) => Ok(Some(src.token().await?)),
            Auth::Header { .. } | Auth::None => Ok(None),
        }
    }

    fn policy(&self, req: &VendorRequest) -> Policy {
        Policy {
            max_attempts: self.settings.retry.max_attempts,
            retry: req.retry,
            refreshable_auth: matches!(self.auth, Auth::Bearer(_)),
            base_backoff: Duration::from_millis(self.settings.retry.base_backoff_ms),
            max_backoff: Duration::from_millis(self.settings.retry.max_backoff_ms),
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
                    let mut headers = resp.headers().clone();
                    connector::retry_after::normalize(&mut headers, SystemTime::now());
                    match read_capped(resp).await {
                        Ok(Some(body)) => Attempt::Answered(VendorResponse {
                            status,
                            headers,
                            body,
                        }),
                        Ok(None) => {
                            tracing::warn!(connection = %self.name, max_bytes = MAX_RESPONSE_BYTES, status, "the vendor's answer is larger than the gateway reads: taken as no answer");
                            Attempt::Broken
                        }
                        Err(e) if e.is_timeout() => Attempt::TimedOut,
                        Err(_) => Attempt::Broken,
                    }
                }
                Err(e) if e.is_connect() => Attempt::NotSent,
                Err(e) if e.is_timeout() => Attempt::TimedOut,
                Err(_) => Attempt::Broken,
            }
        }
        .instrument(span.clone())
        .await;
        let (label, status) = match &outcome {
            Attempt::Answered(r) => {
                span.record("http.response.status_code", r.status);
                ("answered", r.status.to_string())
            }
            Attempt::NotSent => {
                span.record("error.type", "connect");
                ("not_sent", String::new())
            }
            Attempt::TimedOut => {
                span.record("error.type", "timeout");
                ("timeout", String::new())
            }
            Attempt::Broken => {
                span.record("error.type", "transport");
                ("transport", String::new())
            }
        };
        metrics::counter!(crate::metric_names::VENDOR_CALLS_TOTAL, "connection" => self.name.clone(), "vendor" => self.vendor.clone(), "outcome" => label, "status" => status).increment(1);
        metrics::histogram!(crate::metric_names::VENDOR_CALL_DURATION_SECONDS, "connection" => self.name.clone())
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    fn count_retry(&self) {
        metrics::counter!(crate::metric_names::VENDOR_RETRIES_TOTAL, "connection" => self.name.clone()).increment(1);
    }
}

enum Attempt {
    Answered(VendorResponse),
    /// Provably nothing reached the vendor (the connection was never made).
    NotSent,
    TimedOut,
    Broken,
}

/// A call admitted by [`ConnectionClient::admit`]: it holds its in-flight slot and its
/// token, and sending it is the first moment anything can reach the vendor.
pub struct Admission<'a> {
    client: &'a ConnectionClient,
    _slot: InFlight,
    deadline: Instant,
    token: Option<SecretString>,
}

impl Admission<'_> {
    /// Sends the call, resending as [`Policy`] decides, until it has the vendor's answer
    /// or a failure. Once any attempt may have reached the vendor, the failure is never
    /// "not sent".
    pub async fn send(mut self, req: &VendorRequest) -> Result<Sent, OutboundError> {
        let c = self.client;
        let policy = c.policy(req);
        let mut state = CallState::default();
        let mut earlier_answers: Vec<VendorResponse> = Vec::new();
        loop {
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(failure(
                    policy.stopped(&state),
                    "the call's deadline passed",
                ));
            }
            let per_attempt = remaining.min(Duration::from_millis(c.settings.timeouts.attempt_ms));
            let resends = state.attempts + u32::from(state.refreshed);
            let outcome = c
                .attempt(req, self.token.as_ref(), resends, per_attempt)
                .await;
            let (event, answer) = match outcome {
                Attempt::Answered(resp) => (
                    Event::Answered {
                        status: resp.status,
                        retry_after: connector::retry_after_delta(&resp.headers),
                    },
                    Some(resp),
                ),
                Attempt::NotSent => (Event::NotSent, None),
                Attempt::TimedOut => (Event::TimedOut, None),
                Attempt::Broken => (Event::Broken, None),
            };
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            let decision = policy.decide(&mut state, event, remaining);
            match decision.breaker {
                BreakerReport::Success => c.breaker.success(),
                BreakerReport::Failure => c.breaker.failure(),
                BreakerReport::Neither => {}
            }
            // The rare steps (a vendor pause, a token refresh) are boxed: inline, this
            // future, which every order in flight holds for the whole vendor call, was as
            // large as the largest of them (a token fetch: 3.9 KB instead of 2.1 KB).
            if let Some(d) = decision.pause {
                Box::pin(c.limiter.pause(d)).await;
            }
            match decision.next {
                Next::Return {
                    earlier_attempt_may_have_landed,
                } => {
                    let Some(response) = answer else {
                        return Err(failure(policy.stopped(&state), "no answer"));
                    };
                    return Ok(Sent {
                        response,
                        attempts: state.attempts,
                        earlier_attempt_may_have_landed,
                        earlier_answers,
                    });
                }
                // Resends that reached nothing end the call; the vendor's last answer (if
                // it gave one) is then the call's answer, not "nothing was sent".
                Next::Fail(Failure::NotSent) if !earlier_answers.is_empty() => {
                    let response = earlier_answers.pop();
                    return match response {
                        Some(response) => Ok(Sent {
                            response,
                            attempts: state.attempts,
                            earlier_attempt_may_have_landed: false,
                            earlier_answers,
                        }),
                        None => Err(failure(Failure::NotSent, "no answer")),
                    };
                }
                Next::Fail(f) => return Err(failure(f, "no answer")),
                Next::RefreshAndResend => {
                    // Only the token this call used: a late 401 of a wave must not throw
                    // away the token another call has just fetched.
                    if let (Auth::Bearer(src), Some(used)) = (&c.auth, &self.token) {
                        Box::pin(src.invalidate_used(used)).await;
                    }
                    self.token = match Box::pin(c.token()).await {
                        Ok(t) => t,
                        Err(e) if !state.maybe_sent => return Err(e),
                        Err(_) => {
                            return Err(failure(policy.stopped(&state), "token refresh failed"));
                        }
                    };
                }
                Next::ResendAfter(wait) => {
                    c.count_retry();
                    tokio::time::sleep(wait).await;
                }
                Next::ResendAfterBackoff { max } => {
                    earlier_answers.extend(answer);
                    c.count_retry();
                    let jitter =
                        Duration::from_millis(rand::random_range(0..=max.as_millis() as u64));
                    let until = Instant::now()
                        .checked_add(jitter)
                        .map_or(self.deadline, |t| t.min(self.deadline));
                    tokio::time::sleep_until(until).await;
                }
            }
        }
    }
}

fn failure(f: Failure, reason: &str) -> OutboundError {
    match f {
        Failure::NotSent => OutboundError::NotSent {
            reason: reason.to_owned(),
        },
        Failure::MaybeSent { timed_out: true } => OutboundError::Timeout { maybe_sent: true },
        Failure::MaybeSent { timed_out: false } => OutboundError::Transport {
            maybe_sent: true,
            reason: "an attempt may have reached the vendor; no answer came".to_owned(),
        },
    }
}

/// An in-flight slot and its gauge: released together when dropped, whatever stops the
/// call (an answer, an error, or the caller's future being dropped mid-call).
struct InFlight {
    gauge: metrics::Gauge,
    _permit: OwnedSemaphorePermit,
}

impl InFlight {
    fn new(connection: &str, permit: OwnedSemaphorePermit) -> Self {
        let gauge = metrics::gauge!(crate::metric_names::VENDOR_IN_FLIGHT, "connection" => connection.to_owned());
        gauge.increment(1.0);
        InFlight {
            gauge,
            _permit: permit,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.decrement(1.0);
    }
}
