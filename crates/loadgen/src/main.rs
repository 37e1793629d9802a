//! Load for `scripts/loadtest`: POSTs a JSON body (with a fresh `orderRef` per request
//! when asked) either at a fixed rate (open loop) or from N connections as fast as they
//! go (closed loop), and prints one `RESULT` line.
//!
//! Fixed rate is open loop: requests start on a fixed schedule whatever the answers do,
//! each in its own task, so a stall in the system under test cannot slow the sending
//! down and hide itself (no coordinated omission). Latency runs from the moment a
//! request's task starts; how late the schedule itself ran (tokio's timer has 1 ms
//! granularity, and this process shares the cores) is printed as `sched_lag_max_us`.
//! `wrk` has no fixed-rate mode; that is why this exists.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Parser)]
struct Args {
    /// Where to POST.
    #[arg(long)]
    url: String,
    /// The JSON body.
    #[arg(long)]
    body: std::path::PathBuf,
    /// `Authorization` header value.
    #[arg(long)]
    auth: Option<String>,
    /// Give every request a fresh `orderRef` with this prefix (none = the body as is).
    #[arg(long)]
    fresh_ref: Option<String>,
    /// Requests per second on a fixed schedule (open loop).
    #[arg(long, conflicts_with = "connections")]
    rate: Option<u32>,
    /// Concurrent connections, each sending as soon as its last answer came (closed loop);
    /// exactly this many connections.
    #[arg(long)]
    connections: Option<u32>,
    #[arg(long, default_value = "10")]
    seconds: u64,
    /// Name printed in the RESULT line.
    #[arg(long, default_value = "run")]
    label: String,
}

struct Tally {
    hist: Mutex<Histogram<u64>>,
    ok: AtomicU64,
    non2xx: AtomicU64,
    errors: AtomicU64,
}

struct Target {
    http: reqwest::Client,
    url: String,
    /// `url` parsed, and its host:port, for the closed loop's own connections.
    uri: hyper::Uri,
    authority: String,
    auth: Option<String>,
    template: Value,
    fresh_ref: Option<String>,
    seq: AtomicU64,
}

impl Target {
    fn body(&self) -> Vec<u8> {
        let mut doc = self.template.clone();
        if let (Some(prefix), Some(obj)) = (&self.fresh_ref, doc.as_object_mut()) {
            let n = self.seq.fetch_add(1, Ordering::Relaxed);
            obj.insert("orderRef".into(), Value::String(format!("{prefix}-{n}")));
        }
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    async fn one(&self, tally: &Tally, start: Instant) {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(self.body());
        if let Some(a) = &self.auth {
            req = req.header("authorization", a);
        }
        let outcome = match req.send().await {
            Ok(r) => {
                let ok = r.status().is_success();
                Outcome::of(ok, r.bytes().await.is_ok())
            }
            Err(_) => Outcome::Error,
        };
        tally.record(outcome, start).await;
    }

    /// One closed loop on one connection of its own, until `deadline`. A shared pool
    /// opens a fresh connection whenever none is idle at the instant of a send, so 1,000
    /// loops on one `reqwest::Client` held ~1,250 connections to the system under test;
    /// here N loops are exactly N connections, like wrk's.
    async fn connection_loop(&self, tally: &Tally, deadline: Instant) {
        let authority = self.authority.as_str();
        let handshake = async {
            let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
            let _ = stream.set_nodelay(true);
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()
        };
        let Some((mut sender, conn)) = handshake.await else {
            tally.count(Outcome::Error);
            return;
        };
        tokio::spawn(conn);
        while Instant::now() < deadline {
            let start = Instant::now();
            let mut req = hyper::Request::post(self.uri.clone())
                .header(hyper::header::HOST, authority)
                .header(hyper::header::CONTENT_TYPE, "application/json");
            if let Some(a) = &self.auth {
                req = req.header(hyper::header::AUTHORIZATION, a);
            }
            let Ok(req) = req.body(Full::new(Bytes::from(self.body()))) else {
                tally.count(Outcome::Error);
                return;
            };
            let outcome = match sender.send_request(req).await {
                Ok(r) => {
                    let ok = r.status().is_success();
                    Outcome::of(ok, r.into_body().collect().await.is_ok())
                }
                Err(_) => Outcome::Error,
            };
            tally.record(outcome, start).await;
            if outcome == Outcome::Error {
                // The connection is gone; a loop does not open another.
                return;
            }
        }
    }
}

/// How one request ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Non2xx,
    Error,
}

impl Outcome {
    fn of(status_ok: bool, body_read: bool) -> Self {
        match (status_ok, body_read) {
            (_, false) => Outcome::Error,
            (true, true) => Outcome::Ok,
            (false, true) => Outcome::Non2xx,
        }
    }
}

impl Tally {
    /// Counts a request that never got as far as a latency (no connection, no request).
    fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Non2xx => &self.non2xx,
            Outcome::Error => &self.errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn record(&self, outcome: Outcome, start: Instant) {
        self.count(outcome);
        let us = start.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let _ = self.hist.lock().await.record(us.max(1));
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.body).map_err(|e| format!("{:?}: {e}", args.body))?;
    let template: Value = serde_json::from_str(&text).map_err(|e| format!("body: {e}"))?;
    let uri: hyper::Uri = args.url.parse().map_err(|e| format!("--url: {e}"))?;
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .ok_or("--url: no host")?;
    let target = Arc::new(Target {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(10_000)
            .build()
            .map_err(|e| e.to_string())?,
        uri,
        authority,
        url: args.url.clone(),
        auth: args.auth.clone(),
        template,
        fresh_ref: args.fresh_ref.clone(),
        seq: AtomicU64::new(0),
    });
    let tally = Arc::new(Tally {
        hist: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?),
        ok: AtomicU64::new(0),
        non2xx: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let duration = Duration::from_secs(args.seconds);
    let began = Instant::now();
    let mut tasks = Vec::new();
    let mut sched_lag_max: u64 = 0;
    match (args.rate, args.connections) {
        (Some(rate), _) => {
            let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
            let mut n: u32 = 0;
            loop {
                let intended = began + period * n;
                if intended >= began + duration {
                    break;
                }
                tokio::time::sleep_until(intended).await;
                let lag = intended.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                sched_lag_max = sched_lag_max.max(lag);
                let (t, tally) = (target.clone(), tally.clone());
                tasks.push(tokio::spawn(
                    async move { t.one(&tally, Instant::now()).await },
                ));
                n += 1;
            }
        }
        (None, Some(c)) => {
            for _ in 0..c {
                let (t, tally) = (target.clone(), tally.clone());
                tasks.push(tokio::spawn(async move {
                    t.connection_loop(&tally, began + duration).await;
                }));
            }
        }
        (None, None) => return Err("give --rate or --connections".into()),
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let h = tally.hist.lock().await;
    let done = tally.ok.load(Ordering::Relaxed) + tally.non2xx.load(Ordering::Relaxed);
    println!(
        "RESULT {} rps={:.1} p50_us={} p99_us={} p999_us={} max_us={} errors={} non2xx={} sched_lag_max_us={}",
        args.label,
        done as f64 / elapsed,
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
        tally.errors.load(Ordering::Relaxed),
        tally.non2xx.load(Ordering::Relaxed),
        sched_lag_max,
    );
    Ok(())
}
