#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The token cache against a token endpoint on loopback, in paused time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};

use super::{TokenSource, TokenSpec};

#[derive(Default)]
struct Endpoint {
    fetches: AtomicU32,
    expires_in: AtomicU64,
}

async fn issue(State(e): State<Arc<Endpoint>>) -> impl IntoResponse {
    let n = e.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(serde_json::json!({
        "access_token": format!("tok-{n}"),
        "expires_in": e.expires_in.load(Ordering::SeqCst),
        "token_type": "Bearer",
    }))
}

async fn source(expires_in: u64, skew_secs: u64) -> (Arc<Endpoint>, Arc<TokenSource>) {
    let e = Arc::new(Endpoint::default());
    e.expires_in.store(expires_in, Ordering::SeqCst);
    let app = Router::new()
        .route("/token", post(issue))
        .with_state(e.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (e, token_source(addr, skew_secs))
}

/// A token source for the endpoint at `addr`.
fn token_source(addr: std::net::SocketAddr, skew_secs: u64) -> Arc<TokenSource> {
    let spec = TokenSpec {
        token_url: format!("http://{addr}/token"),
        client_id: "cid".into(),
        client_secret: SecretString::from("s3cret"),
        scope: None,
        basic: false,
        default_lifetime: Duration::from_secs(3600),
        skew: Duration::from_secs(skew_secs),
    };
    Arc::new(TokenSource::new("test-conn", spec, reqwest::Client::new()))
}

#[tokio::test(start_paused = true)]
async fn a_60_s_token_with_the_default_skew_is_fetched_about_once_a_minute() {
    let (e, src) = source(60, 60).await;
    // Steady load: one call a second for ten minutes.
    for _ in 0..600 {
        src.token().await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let fetches = e.fetches.load(Ordering::SeqCst);
    // Used for 45 s (skew clamped to a quarter of the life), refreshed ahead at 80 %
    // of that: a fetch every 36 s, ~17 in ten minutes. Unclamped it was one per call.
    assert!((10..=20).contains(&fetches), "{fetches} fetches in 10 min");
}

#[tokio::test(start_paused = true)]
async fn a_long_token_keeps_the_configured_skew() {
    let (e, src) = source(3600, 60).await;
    src.token().await.unwrap();
    // Usable for 3540 s: still the first token just before that, a new one after.
    tokio::time::sleep(Duration::from_secs(3539)).await;
    assert_eq!(src.token().await.unwrap().expose_secret(), "tok-1");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Refresh ahead started at 80 %; let it land, then the old token is gone.
    tokio::task::yield_now().await;
    let t = src.token().await.unwrap();
    assert_eq!(t.expose_secret(), "tok-2");
    assert_eq!(e.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_wave_of_401s_on_one_token_refetches_exactly_once() {
    let (e, src) = source(3600, 60).await;
    let used = src.token().await.unwrap();
    // 100 calls sent with the same token get 401s spread over 100 ms, some after the
    // replacement token has already arrived; each invalidates the token it used and
    // asks again.
    let wave: Vec<_> = (0..100u64)
        .map(|i| {
            let (src, used) = (src.clone(), used.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i)).await;
                src.invalidate_used(&used).await;
                src.token().await.unwrap()
            })
        })
        .collect();
    for h in wave {
        assert_eq!(h.await.unwrap().expose_secret(), "tok-2");
    }
    assert_eq!(
        e.fetches.load(Ordering::SeqCst),
        2,
        "one refetch for the wave"
    );
}

/// A token answer past `MAX_RESPONSE_BYTES` is refused unread, even when it would parse
/// (here a valid token padded with whitespace): the cap holds on the token path too.
#[tokio::test]
async fn a_token_answer_past_the_cap_is_not_a_token() {
    let mut body = br#"{"access_token": "tok", "expires_in": 3600}"#.to_vec();
    body.resize(crate::MAX_RESPONSE_BYTES + 1, b' ');
    let app = Router::new().route(
        "/token",
        post(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    match token_source(addr, 60).token().await {
        Ok(_) => panic!("a token was taken from an answer past the cap"),
        Err(e) => assert!(e.to_string().contains("not a token"), "{e}"),
    }
}
