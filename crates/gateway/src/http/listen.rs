//! The accept loop behind both listeners. axum's `serve` has no read timeouts and no
//! connection cap, so a few hundred slow or idle clients could hold every file
//! descriptor and take `/healthz` down with the API. Here:
//!
//! - a connection must finish its request headers within `header_read` of opening, or
//!   of the end of its previous response (hyper starts the timer when it starts reading
//!   a head), so the same timeout closes idle keep-alive connections. HTTP/1.1 only:
//!   hyper-util's auto (h1/h2c) builder first waits, without any timeout, for enough
//!   bytes to tell the protocols apart, so a connection that sent nothing stayed open
//!   for ever (nothing here used h2c; TLS and HTTP/2 end at the ingress);
//! - the API listener accepts only while it holds fewer than `max_connections`; the
//!   rest wait in the kernel's backlog, costing the process no descriptor, and the
//!   admin listener has its own (uncapped) loop, so probes still answer;
//! - accept errors (EMFILE, ENFILE, ENOBUFS) back off exponentially up to 1 s instead
//!   of spinning on the error;
//! - on shutdown the loop stops accepting and every connection is closed gracefully
//!   (in-flight requests finish, idle connections close at once).
//!
//! The body read deadline is per request: see [`super::body::deadline_layer`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Connection limits of one listener.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Name for logs and metrics (`api`, `admin`).
    pub name: &'static str,
    pub header_read: Duration,
    /// `None`: no cap (the admin listener).
    pub max_connections: Option<usize>,
}

const MIN_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` turns true, then waits for its
/// connections to close.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let cap = limits.max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let builder = builder(limits.header_read);
    let graceful = GracefulShutdown::new();
    let mut backoff = MIN_BACKOFF;
    loop {
        let next = tokio::select! {
            _ = shutdown.wait_for(|v| *v) => break,
            next = accept(&listener, cap.as_ref()) => next,
        };
        let (stream, permit) = match next {
            Ok(v) => {
                backoff = MIN_BACKOFF;
                v
            }
            Err(e) => {
                tracing::warn!(listener = limits.name, error = %e, backoff_ms = backoff.as_millis() as u64, "accept error; backing off");
                metrics::counter!(crate::metric_names::HTTP_ACCEPT_ERRORS_TOTAL, "listener" => limits.name)
                    .increment(1);
                tokio::select! {
                    _ = shutdown.wait_for(|v| *v) => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let name = limits.name;
        tokio::spawn(async move {
            let gauge =
                metrics::gauge!(crate::metric_names::HTTP_CONNECTIONS_OPEN, "listener" => name);
            gauge.increment(1.0);
            // Client-side failures (resets, timeouts) are the client's business.
            let _ = conn.await;
            gauge.decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The next connection, once the cap (if any) has room for it.
async fn accept(
    listener: &TcpListener,
    cap: Option<&Arc<Semaphore>>,
) -> std::io::Result<(TcpStream, Option<OwnedSemaphorePermit>)> {
    let permit = match cap {
        // The semaphore is never closed, so this only waits.
        Some(s) => s.clone().acquire_owned().await.ok(),
        None => None,
    };
    let (stream, _) = listener.accept().await?;
    Ok((stream, permit))
}

fn builder(header_read: Duration) -> Builder {
    let mut b = Builder::new();
    b.timer(TokioTimer::new()).header_read_timeout(header_read);
    b
}
