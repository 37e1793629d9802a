#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Slow and idle clients against the real listeners: header and body read timeouts,
//! idle keep-alive connections, and the API connection cap with the admin listener
//! outside it.

#[path = "common/binary.rs"]
mod binary;
mod common;

use std::time::Duration;

use tokio::time::Instant;

use common::Gateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The default config in `dir` with `key: value` lines of its `server:` section replaced.
fn config_with(dir: &std::path::Path, set: &[(&str, &str)]) -> std::path::PathBuf {
    let config = common::default_config_edited(dir, |t| {
        t.lines()
            .map(|l| {
                let key = l.trim_start().split(':').next().unwrap_or_default();
                match set.iter().find(|(k, _)| l.starts_with("  ") && *k == key) {
                    Some((k, v)) => format!("  {k}: {v}\n"),
                    None => format!("{l}\n"),
                }
            })
            .collect()
    });
    let text = std::fs::read_to_string(&config).unwrap();
    for (k, v) in set {
        assert!(
            text.contains(&format!("\n  {k}: {v}\n")),
            "no server.{k} in the default config"
        );
    }
    config
}

async fn gateway(set: &[(&str, &str)]) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), set);
    Gateway::start_with(dir, config).await
}

/// Sends `bytes` one at a time, `every` apart, until the server closes the connection
/// (or all are sent); returns how long the connection stayed open, and what came back.
async fn trickle(
    addr: std::net::SocketAddr,
    prefix: &[u8],
    bytes: &[u8],
    every: Duration,
) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(prefix).await.unwrap();
    let (mut r, mut w) = s.split();
    let mut answer = Vec::new();
    let writer = async {
        for b in bytes {
            tokio::time::sleep(every).await;
            if w.write_all(&[*b]).await.is_err() {
                break;
            }
        }
        // Everything sent and still open: wait for the reader to see the close.
        std::future::pending::<()>().await;
    };
    let reader = async {
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    let guarded = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::select! {
            () = writer => {},
            () = reader => {},
        }
    });
    assert!(
        guarded.await.is_ok(),
        "the connection was still open after 20 s"
    );
    (start.elapsed(), answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_at_the_header_timeout_while_a_normal_client_is_served() {
    let g = gateway(&[("headerReadTimeoutSecs", "2")]).await;
    let addr = g.running.api_addr;
    let header = b"GET /v1/orders?orderRef=slow HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer dev-key\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let slow: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(trickle(
                addr,
                b"G",
                &header[1..],
                Duration::from_millis(250),
            ))
        })
        .collect();
    // While those trickle, a normal client is answered as usual.
    let start = Instant::now();
    let r = g
        .http
        .get(g.url("/v1/orders?orderRef=normal"))
        .bearer_auth("dev-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    for h in slow {
        let (open, answer) = h.await.unwrap();
        // Closed at the 2 s timeout (with slack for a loaded machine), long before the
        // ~37 s the whole header would take, and never answered.
        assert!(open < Duration::from_secs(5), "open for {open:?}");
        assert!(
            !answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_header_timeout() {
    let g = gateway(&[("headerReadTimeoutSecs", "1")]).await;
    let req = b"GET /openapi.yaml HTTP/1.1\r\nHost: gw\r\n\r\n";
    let (open, answer) = trickle(g.running.api_addr, req, b"", Duration::ZERO).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(open < Duration::from_secs(4), "open for {open:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let g = gateway(&[("headerReadTimeoutSecs", "1")]).await;
    let (open, answer) = trickle(g.running.api_addr, b"", b"", Duration::ZERO).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(open < Duration::from_secs(4), "open for {open:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_chunked_body_is_cut_off_at_the_body_timeout() {
    let g = gateway(&[("bodyReadTimeoutSecs", "1")]).await;
    let head = b"POST /v1/orders HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer dev-key\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    // One one-byte chunk every 200 ms: 60 chunks would take 12 s.
    let chunks = b"1\r\n \r\n".repeat(60);
    let (open, answer) =
        trickle(g.running.api_addr, head, &chunks, Duration::from_millis(33)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(open < Duration::from_secs(4), "open for {open:?}: {text}");
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("body read timeout"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_api_at_its_connection_cap_the_admin_listener_still_answers() {
    let g = gateway(&[("maxConnections", "3")]).await;
    let api = g.running.api_addr;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(api).await.unwrap());
    }
    // A fourth API client waits: the listener does not accept past the cap.
    let waiting = tokio::spawn({
        let (http, url) = (g.http.clone(), g.url("/openapi.yaml"));
        async move { http.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    let health = g.http.get(g.admin("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = g.http.get(g.admin("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // It is not answered while the cap is full (here: within half a second)...
    let mut waiting = waiting;
    let early = tokio::time::timeout(Duration::from_millis(500), &mut waiting).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    // ...and is once a connection closes.
    drop(idle.pop());
    let status = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("answered after a slot freed")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}

/// The scenario through the real binary: a descriptor limit of 128 and 150 idle
/// connections. Uncapped, the API's accepts took every descriptor and `/healthz` timed
/// out ("Too many open files"); capped at 40, the other 110 wait in the listen backlog
/// (128).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_descriptors_scarce_and_the_api_flooded_healthz_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &[("maxConnections", "40"), ("headerReadTimeoutSecs", "120")],
    );
    let mut gw = binary::spawn(
        &config,
        &[("RUST_LOG", "info")],
        &["sh", "-c", "ulimit -n 128 && exec \"$0\" \"$@\""],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..150 {
        held.push(TcpStream::connect(gw.api).await.unwrap());
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let health = http
        .get(format!("http://{}/healthz", gw.admin))
        .send()
        .await;
    assert!(
        health.as_ref().is_ok_and(|r| r.status() == 200),
        "{health:?}\n{}",
        gw.proc.output_tail()
    );
    // The flood goes away; the API serves again.
    held.clear();
    let r = http
        .get(format!("http://{}/openapi.yaml", gw.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(gw.terminate().await.success(), "{}", gw.proc.output_tail());
}
