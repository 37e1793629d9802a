#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The outbound stack against a real HTTP server on loopback.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use connector::{RetrySafety, VendorRequest};
use outbound::{ConnectionClient, ConnectionSettings, OutboundError};
use serde_json::{Value, json};

/// What the test server does with the next create calls, in order; empty = 201.
#[derive(Clone, Debug)]
enum Next {
    Status(u16, Option<u64>),
    /// Answer after this long (the client may have timed out).
    Slow(u64),
}

#[derive(Default)]
struct Server {
    token_calls: AtomicU32,
    token_fail: AtomicU32,
    token_lifetime: AtomicU32,
    valid_token: Mutex<Option<String>>,
    creates: AtomicU32,
    script: Mutex<VecDeque<Next>>,
    seen: Mutex<Vec<HeaderMap>>,
    arrivals: Mutex<Vec<tokio::time::Instant>>,
}

async fn token(State(s): State<Arc<Server>>, body: String) -> Response {
    let n = s.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if s.token_fail.load(Ordering::SeqCst) > 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    assert!(
        body.contains("grant_type=client_credentials") && body.contains("client_secret=s3cret"),
        "{body}"
    );
    // A little latency so concurrent misses really overlap.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t = format!("tok-{n}");
    *s.valid_token.lock().unwrap() = Some(t.clone());
    let lifetime = s.token_lifetime.load(Ordering::SeqCst);
    Json(json!({"access_token": t, "expires_in": if lifetime == 0 { 3600 } else { lifetime }, "token_type": "Bearer"})).into_response()
}

async fn create(State(s): State<Arc<Server>>, headers: HeaderMap) -> Response {
    s.arrivals.lock().unwrap().push(tokio::time::Instant::now());
    s.seen.lock().unwrap().push(headers.clone());
    let want = s.valid_token.lock().unwrap().clone();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(t) = want
        && auth.as_deref() != Some(&format!("Bearer {t}"))
    {
        return (StatusCode::UNAUTHORIZED, "bad token").into_response();
    }
    let next = s.script.lock().unwrap().pop_front();
    match next {
        Some(Next::Status(code, retry_after)) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), "scripted").into_response();
            if let Some(ra) = retry_after {
                r.headers_mut()
                    .insert("retry-after", ra.to_string().parse().unwrap());
            }
            r
        }
        Some(Next::Slow(ms)) => {
            s.creates.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::CREATED, "{}").into_response()
        }
        None => {
            s.creates.fetch_add(1, Ordering::SeqCst);
            (StatusCode::CREATED, "{\"id\":1}").into_response()
        }
    }
}

async fn start() -> (Arc<Server>, SocketAddr) {
    let s = Arc::new(Server::default());
    let app = Router::new()
        .route("/token", post(token))
        .route("/orders", post(create))
        .with_state(s.clone());
    (s, serve(app).await)
}

/// Serves `app` on a port-0 loopback listener; its address.
async fn serve(app: Router) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

fn settings(addr: SocketAddr, extra: Value) -> ConnectionSettings {
    let mut v = json!({
        "baseUrl": format!("http://{addr}"),
        "auth": {"kind": "oauth2ClientCredentials", "tokenUrl": format!("http://{addr}/token"), "clientId": "cid", "clientSecret": "${TEST_SECRET}"},
        "limits": {"ratePerSec": 100000, "burst": 100000, "maxInFlight": 5000},
        "retry": {"maxAttempts": 3, "baseBackoffMs": 5, "maxBackoffMs": 20},
    });
    if let (Some(base), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in extra {
            base.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(v).unwrap()
}

fn env(name: &str) -> Option<String> {
    (name == "TEST_SECRET").then(|| "s3cret".to_owned())
}

fn client(addr: SocketAddr, extra: Value) -> Arc<ConnectionClient> {
    Arc::new(
        ConnectionClient::new("test-conn", "testvendor", &settings(addr, extra), &env).unwrap(),
    )
}

fn create_req(retry: RetrySafety) -> VendorRequest {
    VendorRequest::post_json("/orders", b"{}".to_vec(), retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_a_cold_cache_fetch_one_token() {
    let (s, addr) = start().await;
    let c = client(addr, json!({}));
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                c.send(&create_req(RetrySafety::NotAfterSend))
                    .await
                    .map(|r| r.response.status)
            })
        })
        .collect();
    for h in calls {
        assert_eq!(h.await.unwrap().unwrap(), 201);
    }
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 1);
    assert_eq!(s.creates.load(Ordering::SeqCst), 1000);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let (s, addr) = start().await;
    // expires_in 2 s, the 60 s skew clamped to a quarter of that: usable for 1.5 s.
    s.token_lifetime.store(2, Ordering::SeqCst);
    let c = client(addr, json!({}));
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                c.send(&create_req(RetrySafety::NotAfterSend))
                    .await
                    .unwrap()
                    .response
                    .status
            })
        })
        .collect();
    for h in calls {
        assert_eq!(h.await.unwrap(), 201);
    }
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 2);
}

fn auth_seen(s: &Server) -> Vec<String> {
    s.seen
        .lock()
        .unwrap()
        .iter()
        .map(|h| h["authorization"].to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_token_is_refreshed_ahead_of_expiry_without_making_a_caller_wait() {
    let (s, addr) = start().await;
    // expires_in 2 s, the 60 s skew clamped to a quarter of that: usable for 1.5 s,
    // refreshed ahead after 1.2 s.
    s.token_lifetime.store(2, Ordering::SeqCst);
    let c = client(addr, json!({}));
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1250)).await;
    // This call starts the refresh and goes on with the current token.
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(auth_seen(&s), ["Bearer tok-1", "Bearer tok-1"]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        s.token_calls.load(Ordering::SeqCst),
        2,
        "one refresh, in the background"
    );
    // Past the first token's life: the refreshed one is used, nothing is fetched.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap();
    }
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 2);
    assert_eq!(auth_seen(&s)[2..], ["Bearer tok-2"; 5]);
}

#[tokio::test]
async fn a_vendor_401_refreshes_once_and_retries_once() {
    let (s, addr) = start().await;
    let c = client(addr, json!({}));
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    // The vendor revokes the token: the next call gets 401, refreshes, and succeeds.
    *s.valid_token.lock().unwrap() = Some("revoked-elsewhere".into());
    let r = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(r.response.status, 201);
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 2);
    assert_eq!(s.creates.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_persistent_401_is_returned_after_one_refresh_not_looped() {
    let (s, addr) = start().await;
    let c = client(addr, json!({}));
    s.script.lock().unwrap().extend([
        Next::Status(401, None),
        Next::Status(401, None),
        Next::Status(401, None),
    ]);
    let r = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(r.response.status, 401);
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 2);
    assert_eq!(s.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_token_endpoint_down_fails_fast_without_hammering_it() {
    let (s, addr) = start().await;
    s.token_fail.store(1, Ordering::SeqCst);
    let c = client(addr, json!({}));
    for _ in 0..20 {
        let e = c
            .send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::TokenEndpoint { .. }), "{e:?}");
        assert!(!e.to_string().contains("s3cret"));
    }
    assert_eq!(
        s.token_calls.load(Ordering::SeqCst),
        1,
        "fetches back off after a failure"
    );
    assert_eq!(s.creates.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_under_overload_and_sheds_past_max_wait() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"limits": {"ratePerSec": 20, "burst": 5, "maxWaitMs": 300, "maxInFlight": 1000}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.arrivals.lock().unwrap().clear();
    let started = tokio::time::Instant::now();
    // 10x the limit for one second.
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.send(&create_req(RetrySafety::NotAfterSend)).await })
        })
        .collect();
    let mut limited = 0;
    for h in calls {
        match h.await.unwrap() {
            Ok(_) => {}
            Err(OutboundError::RateLimited { retry_after }) => {
                // The limiter's own answer: when a call would go without waiting, which
                // is past the 300 ms a caller may wait (the gateway rounds it up to 1 s).
                assert!(retry_after > Duration::from_millis(300), "{retry_after:?}");
                limited += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let arrived = s.arrivals.lock().unwrap().len() as f64;
    // Burst plus the rate over the window, with one token of slack for timing.
    assert!(
        arrived <= 5.0 + 20.0 * elapsed + 1.0,
        "{arrived} calls in {elapsed:.2}s"
    );
    assert!(limited > 100, "callers past maxWait are shed: {limited}");
}

#[tokio::test]
async fn a_vendor_429_with_retry_after_pauses_the_connection() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"limits": {"ratePerSec": 1000, "burst": 1000, "maxWaitMs": 5000, "maxInFlight": 100}, "retry": {"maxAttempts": 1}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    answer_a_429_with_retry_after_1(&s, &c).await;
    let paused_at = tokio::time::Instant::now();
    s.arrivals.lock().unwrap().clear();
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    let first = s.arrivals.lock().unwrap()[0];
    assert!(
        first.duration_since(paused_at) >= Duration::from_millis(900),
        "a call reached the vendor before Retry-After"
    );
}

/// The vendor answers the next call 429 with `Retry-After: 1`, and the call gets it.
async fn answer_a_429_with_retry_after_1(s: &Server, c: &ConnectionClient) {
    s.script
        .lock()
        .unwrap()
        .push_back(Next::Status(429, Some(1)));
    let r = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(r.response.status, 429);
}

/// Issue 20: at the end of a pause, the calls that waited for it went out together
/// (the rate limiter had saved up its whole burst during the pause) and drew new 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calls_after_a_vendor_pause_are_paced_not_released_as_a_burst() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"limits": {"ratePerSec": 20, "burst": 5, "maxWaitMs": 3000, "maxInFlight": 100}, "retry": {"maxAttempts": 1}}),
    );
    answer_a_429_with_retry_after_1(&s, &c).await;
    s.arrivals.lock().unwrap().clear();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.send(&create_req(RetrySafety::NotAfterSend)).await })
        })
        .collect();
    for h in calls {
        assert_eq!(h.await.unwrap().unwrap().response.status, 201);
    }
    let arrivals = s.arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 8);
    // 20/s: one call every 50 ms from the end of the pause, so the first five span at
    // least 200 ms (less scheduling slack); a released burst would span almost nothing.
    let span = arrivals[4].duration_since(arrivals[0]);
    assert!(
        span >= Duration::from_millis(170),
        "the first five within {span:?}"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_when_it_fits_the_deadline() {
    let (s, addr) = start().await;
    let c = client(addr, json!({}));
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.script
        .lock()
        .unwrap()
        .push_back(Next::Status(429, Some(1)));
    let r = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    assert_eq!(r.response.status, 201);
    assert_eq!(r.attempts, 2);
}

#[tokio::test]
async fn a_timeout_after_sending_is_not_retried_without_an_idempotency_key() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"timeouts": {"connectMs": 500, "attemptMs": 200, "overallMs": 2000}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.seen.lock().unwrap().clear();
    s.script.lock().unwrap().push_back(Next::Slow(1000));
    let e = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap_err();
    assert_eq!(e, OutboundError::Timeout { maybe_sent: true });
    assert!(!e.outcome_known_not_sent());
    assert_eq!(
        s.seen.lock().unwrap().len(),
        1,
        "exactly one request reached the vendor"
    );
}

#[tokio::test]
async fn an_idempotent_call_is_retried_with_the_same_key_and_a_fresh_request_id() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"timeouts": {"connectMs": 500, "attemptMs": 200, "overallMs": 3000}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.seen.lock().unwrap().clear();
    s.script.lock().unwrap().push_back(Next::Slow(1000));
    let mut req = create_req(RetrySafety::IdempotentByKey)
        .with_header(http::HeaderName::from_static("x-correlation-id"), "corr-1");
    req.fresh_id_header = Some(http::HeaderName::from_static("x-request-id"));
    let r = c.send(&req).await.unwrap();
    assert_eq!(r.response.status, 201);
    assert_eq!(r.attempts, 2);
    let seen = s.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["x-correlation-id"], "corr-1");
    assert_eq!(seen[1]["x-correlation-id"], "corr-1");
    assert_ne!(seen[0]["x-request-id"], seen[1]["x-request-id"]);
}

#[tokio::test]
async fn connect_failures_are_not_sent_and_open_the_breaker_which_recovers() {
    // Nothing listens on this port.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let settings: ConnectionSettings = serde_json::from_value(json!({
        "baseUrl": format!("http://{dead}"), "auth": {"kind": "none"},
        "retry": {"maxAttempts": 1}, "breaker": {"failureThreshold": 3, "openMs": 300}
    }))
    .unwrap();
    let c = ConnectionClient::new("dead", "v", &settings, &env).unwrap();
    for _ in 0..3 {
        let e = c
            .send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::NotSent { .. }), "{e:?}");
        assert!(e.outcome_known_not_sent());
    }
    assert!(matches!(
        c.send(&create_req(RetrySafety::NotAfterSend)).await,
        Err(OutboundError::CircuitOpen { .. })
    ));
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Half-open: one probe goes through (and fails again here: still nothing listens).
    assert!(matches!(
        c.send(&create_req(RetrySafety::NotAfterSend)).await,
        Err(OutboundError::NotSent { .. })
    ));
    assert!(matches!(
        c.send(&create_req(RetrySafety::NotAfterSend)).await,
        Err(OutboundError::CircuitOpen { .. })
    ));
}

#[tokio::test]
async fn the_breaker_closes_after_the_vendor_recovers() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"retry": {"maxAttempts": 1}, "breaker": {"failureThreshold": 2, "openMs": 200}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.script
        .lock()
        .unwrap()
        .extend([Next::Status(500, None), Next::Status(502, None)]);
    assert_eq!(
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap()
            .response
            .status,
        500
    );
    assert_eq!(
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap()
            .response
            .status,
        502
    );
    assert!(matches!(
        c.send(&create_req(RetrySafety::NotAfterSend)).await,
        Err(OutboundError::CircuitOpen { .. })
    ));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap()
            .response
            .status,
        201
    );
    assert_eq!(
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap()
            .response
            .status,
        201
    );
}

#[tokio::test]
async fn a_full_in_flight_cap_sheds_load() {
    let (s, addr) = start().await;
    let c = client(
        addr,
        json!({"limits": {"ratePerSec": 1000, "burst": 1000, "maxInFlight": 2}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    s.script
        .lock()
        .unwrap()
        .extend([Next::Slow(300), Next::Slow(300)]);
    let a = {
        let c = c.clone();
        tokio::spawn(async move { c.send(&create_req(RetrySafety::NotAfterSend)).await })
    };
    let b = {
        let c = c.clone();
        tokio::spawn(async move { c.send(&create_req(RetrySafety::NotAfterSend)).await })
    };
    // Both slow calls are at the server (holding both slots) once it has seen them.
    while s.creates.load(Ordering::SeqCst) < 3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        c.send(&create_req(RetrySafety::NotAfterSend))
            .await
            .unwrap_err(),
        OutboundError::Overloaded
    );
    assert!(a.await.unwrap().is_ok() && b.await.unwrap().is_ok());
}

#[tokio::test]
async fn secrets_never_print_and_previews_mask_them() {
    let (_, addr) = start().await;
    let mut s = settings(addr, json!({"headers": {"X-Api-Key": "api-key-value"}}));
    assert!(!format!("{s:?}").contains("api-key-value"));
    s.auth = serde_json::from_value(
        json!({"kind": "staticHeader", "header": "accessToken", "token": "static-token-value"}),
    )
    .unwrap();
    assert!(!format!("{s:?}").contains("static-token-value"));
    let c = ConnectionClient::new("c", "v", &s, &env).unwrap();
    let p = c.preview(&create_req(RetrySafety::NotAfterSend));
    let text = format!("{p:?}");
    assert!(
        !text.contains("static-token-value") && !text.contains("api-key-value"),
        "{text}"
    );
    assert!(
        p.headers
            .iter()
            .any(|(k, v)| k == "accesstoken" && v == "***"),
        "{text}"
    );
    assert_eq!(p.url, format!("http://{addr}/orders"));
}

#[test]
fn impossible_settings_are_reported_with_pointers() {
    let s: ConnectionSettings = serde_json::from_value(json!({
        "baseUrl": "ftp://x/", "auth": {"kind": "none"},
        "limits": {"ratePerSec": 0, "burst": 0, "maxInFlight": 0},
        "timeouts": {"attemptMs": 5000, "overallMs": 100},
        "retry": {"maxAttempts": 0}
    }))
    .unwrap();
    let pointers: Vec<String> = s.validate().into_iter().map(|(p, _)| p).collect();
    for p in [
        "/baseUrl",
        "/limits/ratePerSec",
        "/limits/burst",
        "/limits/maxInFlight",
        "/timeouts/attemptMs",
        "/retry/maxAttempts",
    ] {
        assert!(pointers.iter().any(|x| x == p), "{p} not in {pointers:?}");
    }
}

/// A call waiting for rate capacity holds no in-flight slot: two calls behind a
/// spent rate limit with one slot both wait; one goes out when capacity returns and the
/// other runs out of `maxWaitMs` (rate limited). Taking the slot first shed the second
/// at once as `Overloaded`, with nothing in flight at the vendor.
#[tokio::test]
async fn calls_waiting_for_rate_capacity_hold_no_in_flight_slot() {
    let (_s, addr) = start().await;
    let c = client(
        addr,
        json!({"limits": {"ratePerSec": 1, "burst": 1, "maxWaitMs": 1500, "maxInFlight": 1}}),
    );
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.send(&create_req(RetrySafety::NotAfterSend)).await })
        })
        .collect();
    let mut results = Vec::new();
    for h in calls {
        results.push(h.await.unwrap());
    }
    assert!(
        results
            .iter()
            .all(|r| !matches!(r, Err(OutboundError::Overloaded))),
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(OutboundError::RateLimited { .. }))),
        "{results:?}"
    );
}

/// A call dropped mid-flight (its caller's future cancelled: a timeout around it, a task
/// aborted at shutdown) gives back its in-flight slot and its `vendor_in_flight` gauge
/// count: both are released by a drop guard, not by code after an `.await`. Runs on a
/// thread-local recorder so other tests' calls cannot touch the gauge it reads.
#[test]
fn a_cancelled_call_gives_back_its_in_flight_slot_and_gauge() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let gauge = move || {
        handle
            .render()
            .lines()
            .find(|l| l.starts_with("vendor_in_flight{connection=\"test-conn\"}"))
            .map(|l| l.rsplit(' ').next().unwrap_or_default().to_owned())
    };
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (s, addr) = start().await;
            let c = client(
                addr,
                json!({"limits": {"ratePerSec": 1000, "burst": 1000, "maxInFlight": 2}}),
            );
            s.script
                .lock()
                .unwrap()
                .extend((0..5).map(|_| Next::Slow(5_000)));
            for _ in 0..5 {
                // The slot is taken on the first poll (nothing before it waits here); the
                // call is then cut while fetching its token or waiting for the vendor.
                let cut = tokio::time::timeout(
                    Duration::from_millis(50),
                    c.send(&create_req(RetrySafety::NotAfterSend)),
                )
                .await;
                assert!(cut.is_err(), "the call was meant to be cut: {cut:?}");
            }
            assert_eq!(gauge().as_deref(), Some("0"));
            s.script.lock().unwrap().clear();
            // With 5 leaked slots of 2 this would be shed as Overloaded.
            c.send(&create_req(RetrySafety::NotAfterSend))
                .await
                .unwrap();
            assert_eq!(gauge().as_deref(), Some("0"));
        });
    });
}

/// The console's token freshness reads the cache and nothing else: none before the first
/// call, the usable rest after it, no token fetched or cache hit counted by asking; and
/// a connection without OAuth says so.
#[tokio::test]
async fn token_freshness_reads_the_cache_and_fetches_nothing() {
    let (s, addr) = start().await;
    let c = client(addr, json!({}));
    assert_eq!(c.token_freshness().await, Some(None));
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 0, "asking fetched");
    c.send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    let usable = c.token_freshness().await.flatten().expect("a cached token");
    // 3600 s minus the 60 s skew, less the moments since the fetch.
    assert!(usable <= Duration::from_secs(3540), "{usable:?}");
    assert!(usable > Duration::from_secs(3500), "{usable:?}");
    assert_eq!(s.token_calls.load(Ordering::SeqCst), 1);

    let static_header = client(
        addr,
        json!({"auth": {"kind": "staticHeader", "header": "X-Key", "token": "k"}}),
    );
    assert_eq!(static_header.token_freshness().await, None);
}

/// A vendor's redirect is its answer, not an instruction: following a 307 re-sends the
/// order, with its credentials, to whatever host the `Location` names (reqwest strips
/// only `Authorization` and cookies across hosts, not a static `accessToken` or
/// `x-api-key`), and a 301/302 turns the create-order POST into a GET whose answer
/// would be read as the order's.
#[tokio::test]
async fn a_vendor_redirect_is_answered_back_not_followed_with_the_credentials() {
    let elsewhere = Arc::new(Mutex::new(Vec::<HeaderMap>::new()));
    let seen = elsewhere.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(headers);
            StatusCode::CREATED
        }
    });
    let other = serve(app).await;
    let vendor = Router::new().route(
        "/orders",
        post(move || async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [("location", format!("http://{other}/collect"))],
            )
        }),
    );
    let addr = serve(vendor).await;
    let c = client(
        addr,
        json!({"auth": {"kind": "staticHeader", "header": "accessToken", "token": "static-token-value"}}),
    );
    let r = c
        .send(&create_req(RetrySafety::NotAfterSend))
        .await
        .unwrap();
    let leaked = elsewhere.lock().unwrap().clone();
    assert!(
        leaked.is_empty(),
        "the redirect target was called: {leaked:?}"
    );
    assert_eq!(r.response.status, 307);
}

/// A vendor's answer is read up to `outbound::MAX_RESPONSE_BYTES`, not without bound: a
/// vendor (or whatever answers at its address) streaming a huge body would otherwise be
/// buffered whole, and enough of them exhaust the gateway's memory, with every order in
/// flight left to recovery. Past the cap the answer is unreadable: the order may exist
/// (it was sent), so the call is not "not sent" and is not resent.
#[tokio::test]
async fn an_answer_larger_than_the_cap_is_not_buffered_and_may_have_landed() {
    let creates = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n = creates.clone();
    let m = creates.clone();
    let vendor = Router::new()
        // With a Content-Length past the cap.
        .route(
            "/orders",
            post(move || {
                n.fetch_add(1, Ordering::SeqCst);
                async move {
                    (
                        StatusCode::CREATED,
                        vec![b' '; outbound::MAX_RESPONSE_BYTES + 1],
                    )
                }
            }),
        )
        // Chunked, no length: only the chunks tell.
        .route(
            "/stream",
            post(move || {
                m.fetch_add(1, Ordering::SeqCst);
                let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
                let n = outbound::MAX_RESPONSE_BYTES / chunk.len() + 1;
                let chunks = std::iter::repeat_n(chunk, n).map(Ok::<_, std::io::Error>);
                async move {
                    (
                        StatusCode::CREATED,
                        axum::body::Body::from_stream(futures::stream::iter(chunks)),
                    )
                }
            }),
        );
    let addr = serve(vendor).await;
    let c = client(addr, json!({"auth": {"kind": "none"}}));
    for (i, path) in ["/orders", "/stream"].into_iter().enumerate() {
        let req = VendorRequest::post_json(path, b"{}".to_vec(), RetrySafety::NotAfterSend);
        let e = match c.send(&req).await {
            Ok(s) => panic!("{path}: answered, {} bytes read", s.response.body.len()),
            Err(e) => e,
        };
        assert!(
            matches!(
                e,
                OutboundError::Transport {
                    maybe_sent: true,
                    ..
                }
            ),
            "{path}: {e:?}"
        );
        assert_eq!(creates.load(Ordering::SeqCst), i + 1, "{path}: resent");
    }
}
