#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Fleet-scope limits against a real `redis-server` (Unix socket in a temp dir): the Lua
//! GCRA's arithmetic, a budget shared by two "replicas" (two stores), a fleet pause and
//! the pacing after it, and what a connection does when Redis is down, hangs, and comes
//! back. Redis keeps real time, so waits are checked within the time the test itself took.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::Duration;

use outbound::{
    ConnectionClient, ConnectionSettings, Decision, FleetLimit, FleetReply, FleetStore,
    OutboundError, Rate, RedisSettings,
};
use redis_server::RedisServer;
use serde_json::json;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

fn store(server: &RedisServer, timeout_ms: u64) -> Arc<FleetStore> {
    let settings: RedisSettings =
        serde_json::from_value(json!({"url": server.url(), "timeoutMs": timeout_ms})).unwrap();
    FleetStore::new(&settings, &|_| None).unwrap()
}

/// A Redis (`None` where the test is skipped: see `RedisServer::start`) and client
/// `c1`'s limit as two gateway replicas hold it there, a store each.
fn two_replicas(rate: Rate) -> Option<(RedisServer, FleetLimit, FleetLimit)> {
    let server = RedisServer::start()?;
    let a = FleetLimit::new(store(&server, 500), "c1", rate);
    let b = FleetLimit::new(store(&server, 500), "c1", rate);
    Some((server, a, b))
}

/// Asserts a reserved wait of `want`, less at most the time since `since` (Redis's clock
/// moved on while the test ran), and an upper slack for rounding.
fn assert_wait(reply: FleetReply, want: Duration, since: Instant) {
    let FleetReply::Answered(Decision::Go { wait }, _) = reply else {
        panic!("expected a reserved place, got {reply:?}");
    };
    let low = want.saturating_sub(since.elapsed());
    assert!(
        wait >= low && wait <= want + MS,
        "wait {wait:?}, want {low:?}..={want:?}"
    );
}

#[tokio::test]
async fn two_replicas_share_one_burst_then_are_paced_one_interval_apart() {
    let rate = Rate::per_second(10, 3);
    let Some((server, a, b)) = two_replicas(rate) else {
        return;
    };
    let t0 = Instant::now();
    assert_wait(a.reserve(MS * 1000).await, Duration::ZERO, t0);
    assert_wait(b.reserve(MS * 1000).await, Duration::ZERO, t0);
    assert_wait(a.reserve(MS * 1000).await, Duration::ZERO, t0);
    // The burst of 3 is spent across both: the next calls wait an interval each.
    assert_wait(b.reserve(MS * 1000).await, MS * 100, t0);
    assert_wait(a.reserve(MS * 1000).await, MS * 200, t0);
    // A caller that will not wait that long is refused and reserves nothing.
    match b.reserve(MS * 50).await {
        FleetReply::Answered(Decision::Refuse { retry_after }, _) => {
            assert!(
                retry_after > MS * 200 && retry_after <= MS * 301,
                "{retry_after:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_wait(b.reserve(MS * 1000).await, MS * 300, t0);
    // Another connection has a budget of its own.
    let other = FleetLimit::new(store(&server, 500), "c2", rate);
    assert_wait(other.reserve(MS * 1000).await, Duration::ZERO, t0);
}

#[tokio::test]
async fn a_pause_from_one_replica_holds_the_other_and_the_calls_after_it_are_paced() {
    let rate = Rate::per_second(20, 5);
    let Some((_server, a, b)) = two_replicas(rate) else {
        return;
    };
    // A place reserved before the pause (b waits 50 ms for it) is found overtaken by the
    // pause that a sets meanwhile, so b's call does not go out during it.
    for _ in 0..5 {
        b.reserve(MS * 1000).await;
    }
    let FleetReply::Answered(Decision::Go { wait }, go_at) = b.reserve(MS * 1000).await else {
        panic!("expected a place");
    };
    assert!(wait > Duration::ZERO && wait <= MS * 50, "{wait:?}");
    assert_eq!(b.paused_after(go_at).await, None);
    let t0 = Instant::now();
    a.pause(MS * 2000).await;
    let left = b
        .paused_after(go_at)
        .await
        .expect("the pause is ahead of the reservation");
    assert!(left > MS * 1900 && left <= MS * 2000, "{left:?}");
    // Calls wait for the end of the pause, then go 50 ms apart: no saved-up burst.
    assert_wait(b.reserve(MS * 3000).await, MS * 2000, t0);
    assert_wait(b.reserve(MS * 3000).await, MS * 2050, t0);
    assert_wait(a.reserve(MS * 3000).await, MS * 2100, t0);
    match b.reserve(MS * 1000).await {
        FleetReply::Answered(Decision::Refuse { retry_after }, _) => {
            assert!(retry_after > MS * 2000, "{retry_after:?}")
        }
        other => panic!("{other:?}"),
    }
    // A shorter pause does not cut the longer one short.
    a.pause(MS * 10).await;
    assert_wait(b.reserve(MS * 3000).await, MS * 2150, t0);
}

fn client(store: &Arc<FleetStore>, on_down: &str, name: &str) -> ConnectionClient {
    let settings: ConnectionSettings = serde_json::from_value(json!({
        // Nothing listens there: these tests only admit, never send.
        "baseUrl": "http://127.0.0.1:9",
        "auth": {"kind": "none"},
        "limits": {"ratePerSec": 10, "burst": 4, "maxWaitMs": 300, "scope": "fleet",
                   "onRedisDown": on_down, "expectedReplicas": 2},
    }))
    .unwrap();
    ConnectionClient::with_fleet(name, "v", &settings, &|_| None, Some(store)).unwrap()
}

#[tokio::test]
async fn redis_down_rejects_or_falls_back_to_the_local_share_and_the_fleet_resumes_when_it_is_back()
{
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let st = store(&server, 50);
    let reject = client(&st, "reject", "c-reject");
    let share = client(&st, "localShare", "c-share");
    assert!(reject.admit().await.is_ok());
    server.kill();
    let started = Instant::now();
    assert!(matches!(
        reject.admit().await,
        Err(OutboundError::RateLimited { .. })
    ));
    // The local share is 10/2 per second with a burst of 4/2: two at once, then 200 ms
    // apart; of two callers at once, the second would wait 400 ms, past its 300 ms.
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(share.admit().await.is_ok());
    }
    assert!(t0.elapsed() >= MS * 190, "{:?}", t0.elapsed());
    let (x, y) = tokio::join!(share.admit(), share.admit());
    let refused = [x.is_err(), y.is_err()];
    assert_eq!(refused.iter().filter(|r| **r).count(), 1, "{refused:?}");
    assert!(started.elapsed() < MS * 1500, "{:?}", started.elapsed());

    // Back: the same clients use the fleet budget again. Spending it from another
    // "replica" makes the next admission wait for it, which only Redis can know.
    server.restart();
    let other = FleetLimit::new(store(&server, 500), "c-reject", Rate::per_second(10, 4));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if reject.admit().await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fleet budget never came back"
        );
        tokio::time::sleep(MS * 100).await;
    }
    // Reserved until the next place is over 600 ms away: past the clients' 300 ms.
    while let FleetReply::Answered(Decision::Go { wait }, _) = other.reserve(MS * 600).await {
        assert!(wait <= MS * 600);
    }
    assert!(matches!(
        reject.admit().await,
        Err(OutboundError::RateLimited { .. })
    ));
}

#[tokio::test]
async fn a_hung_redis_never_holds_a_call_past_its_timeout() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let st = store(&server, 50);
    let reject = client(&st, "reject", "c1");
    let share = client(&st, "localShare", "c2");
    assert!(reject.admit().await.is_ok());
    server.signal("STOP");
    let t0 = Instant::now();
    assert!(matches!(
        reject.admit().await,
        Err(OutboundError::RateLimited { .. })
    ));
    assert!(share.admit().await.is_ok());
    let took = t0.elapsed();
    server.signal("CONT");
    // Two calls, each bounded by the 50 ms Redis timeout (plus scheduling slack).
    assert!(took < MS * 250, "{took:?}");
}
