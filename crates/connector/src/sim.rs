//! Shared parts of the vendor simulators: test knobs every simulator offers the same
//! way (latency, injected faults, counters, the last request's headers), an expiring
//! token store, and a loopback server helper.
//!
//! Tests drive the knobs in-process through [`SimControl`], or over HTTP on the
//! simulator's own port: `GET /_sim/stats`, `POST /_sim/faults` (a JSON list of
//! [`Fault`]), `DELETE /_sim/faults`, `PUT /_sim/latency` (`{"ms": 50}`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Why a simulator cannot start with the settings the config gives it (a `check-config`
/// error at `/simulators/<i>/settings`).
#[derive(Debug, thiserror::Error)]
pub enum SimSettingsError {
    /// The settings do not have the simulator's shape.
    #[error("{vendor} simulator settings: {source}")]
    Shape {
        vendor: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A setting the simulator refuses; the text names it.
    #[error("{0}")]
    Refused(String),
}

/// A fault the simulator applies to the next matching request, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Fault {
    /// Answer this status and body without processing the request.
    #[serde(rename_all = "camelCase")]
    Status {
        #[serde(default)]
        path: Option<String>,
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Wait, then process normally.
    #[serde(rename_all = "camelCase")]
    DelayBefore {
        #[serde(default)]
        path: Option<String>,
        ms: u64,
    },
    /// Process the request (an order IS created), then wait before answering: a client
    /// timeout here is the "sent, outcome unknown" case.
    #[serde(rename_all = "camelCase")]
    DelayAfter {
        #[serde(default)]
        path: Option<String>,
        ms: u64,
    },
    /// Drop the connection without processing.
    #[serde(rename_all = "camelCase")]
    Abort {
        #[serde(default)]
        path: Option<String>,
    },
    /// Process the request (an order IS created), then drop the connection.
    #[serde(rename_all = "camelCase")]
    AbortAfter {
        #[serde(default)]
        path: Option<String>,
    },
    /// Process the request (an order IS created), then answer `status` with an empty body:
    /// an answer outside the vendor's documented statuses, such as a 303 See Other to the
    /// new order (post/redirect/get) from the vendor or a proxy in front of it.
    #[serde(rename_all = "camelCase")]
    StatusAfter {
        #[serde(default)]
        path: Option<String>,
        status: u16,
    },
    /// Process the request (an order IS created), then answer a reshaped JSON body: the
    /// vendor changed its contract without notice. Keys are JSON Pointers into the answer:
    /// `add` sets fields, `drop` removes them, `rename` moves a field to a new pointer.
    #[serde(rename_all = "camelCase")]
    Reshape {
        #[serde(default)]
        path: Option<String>,
        #[serde(default)]
        add: BTreeMap<String, Value>,
        #[serde(default)]
        drop: Vec<String>,
        #[serde(default)]
        rename: BTreeMap<String, String>,
    },
}

impl Fault {
    /// The next answer (on any path) with the field at `pointer` set to `value`: the
    /// drift tests' "a field the contract does not know" or "a value outside its list".
    pub fn set_field(pointer: &str, value: Value) -> Fault {
        Fault::Reshape {
            path: None,
            add: [(pointer.to_owned(), value)].into(),
            drop: Vec::new(),
            rename: BTreeMap::new(),
        }
    }

    fn path(&self) -> Option<&str> {
        match self {
            Fault::Status { path, .. }
            | Fault::DelayBefore { path, .. }
            | Fault::DelayAfter { path, .. }
            | Fault::Abort { path }
            | Fault::AbortAfter { path }
            | Fault::StatusAfter { path, .. }
            | Fault::Reshape { path, .. } => path.as_deref(),
        }
    }
}

#[derive(Default)]
struct Knobs {
    latency: Duration,
    faults: VecDeque<Fault>,
    counters: BTreeMap<String, u64>,
    last_headers: BTreeMap<String, BTreeMap<String, String>>,
    /// When each request arrived, by path (the last [`MAX_ARRIVALS`]): what rate-limit
    /// tests count per time window.
    arrivals: VecDeque<(String, tokio::time::Instant)>,
}

const MAX_ARRIVALS: usize = 100_000;

/// The knobs and counters of one running simulator.
#[derive(Default)]
pub struct SimControl {
    knobs: Mutex<Knobs>,
}

impl SimControl {
    pub fn new() -> Arc<Self> {
        Arc::new(SimControl::default())
    }

    fn lock(&self) -> MutexGuard<'_, Knobs> {
        // A poisoned lock only means a test thread panicked; the counters are still usable.
        self.knobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }
    pub fn incr(&self, counter: &str) {
        *self.lock().counters.entry(counter.to_owned()).or_default() += 1;
    }
    /// Increments and returns the new value in one step: ids drawn from it never repeat,
    /// however many requests run at once.
    pub fn next(&self, counter: &str) -> u64 {
        let mut k = self.lock();
        let n = k.counters.entry(counter.to_owned()).or_default();
        *n += 1;
        *n
    }
    pub fn count(&self, counter: &str) -> u64 {
        self.lock().counters.get(counter).copied().unwrap_or(0)
    }
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.lock().counters.clone()
    }
    /// Headers of the last request to `path` (names lower-case).
    pub fn last_headers(&self, path: &str) -> Option<BTreeMap<String, String>> {
        self.lock().last_headers.get(path).cloned()
    }

    /// When the requests to paths starting with `prefix` arrived, oldest first.
    pub fn arrivals(&self, prefix: &str) -> Vec<tokio::time::Instant> {
        self.lock()
            .arrivals
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, at)| *at)
            .collect()
    }

    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut k = self.lock();
        let i = k
            .faults
            .iter()
            .position(|f| f.path().is_none_or(|p| path.starts_with(p)))?;
        k.faults.remove(i)
    }

    fn record(&self, path: &str, headers: &HeaderMap) {
        let map = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut k = self.lock();
        k.last_headers.insert(path.to_owned(), map);
        if k.arrivals.len() == MAX_ARRIVALS {
            k.arrivals.pop_front();
        }
        k.arrivals
            .push_back((path.to_owned(), tokio::time::Instant::now()));
        *k.counters.entry("requests".to_owned()).or_default() += 1;
    }
}

/// Wraps a simulator's routes with the knobs and the `/_sim` admin routes.
pub fn with_knobs(vendor_routes: Router, control: Arc<SimControl>) -> Router {
    let admin = Router::new()
        .route("/_sim/stats", get(stats))
        .route("/_sim/faults", post(add_faults).delete(clear_faults))
        .route("/_sim/latency", put(set_latency))
        .with_state(control.clone());
    vendor_routes
        .layer(axum::middleware::from_fn_with_state(
            control,
            knobs_middleware,
        ))
        .merge(admin)
}

async fn knobs_middleware(
    State(control): State<Arc<SimControl>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    control.record(&path, req.headers());
    let latency = control.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match control.take_fault(&path) {
        None => next.run(req).await,
        Some(Fault::Status {
            status,
            body,
            retry_after,
            ..
        }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (code, Json(body)).into_response();
            if let Some(v) = retry_after.and_then(|s| s.to_string().parse().ok()) {
                resp.headers_mut().insert("retry-after", v);
            }
            resp
        }
        Some(Fault::DelayBefore { ms, .. }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(Fault::DelayAfter { ms, .. }) => {
            let resp = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp
        }
        Some(Fault::Abort { .. }) => aborted(),
        Some(Fault::AbortAfter { .. }) => {
            let _processed = next.run(req).await;
            aborted()
        }
        Some(Fault::StatusAfter { status, .. }) => {
            let _processed = next.run(req).await;
            StatusCode::from_u16(status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
        }
        Some(Fault::Reshape {
            add, drop, rename, ..
        }) => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return aborted();
            };
            let Ok(mut doc) = serde_json::from_slice::<Value>(&bytes) else {
                return Response::from_parts(parts, Body::from(bytes));
            };
            reshape(&mut doc, &add, &drop, &rename);
            let mut resp = (parts.status, Json(doc)).into_response();
            for (k, v) in parts.headers.iter().filter(|(k, _)| *k != "content-length") {
                resp.headers_mut().insert(k.clone(), v.clone());
            }
            resp
        }
    }
}

/// Splits a JSON Pointer into its parent object and last key.
fn parent_of<'a>(
    doc: &'a mut Value,
    pointer: &str,
) -> Option<(&'a mut serde_json::Map<String, Value>, String)> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let obj = doc.pointer_mut(parent)?.as_object_mut()?;
    Some((obj, key.replace("~1", "/").replace("~0", "~")))
}

fn reshape(
    doc: &mut Value,
    add: &BTreeMap<String, Value>,
    drop: &[String],
    rename: &BTreeMap<String, String>,
) {
    for (from, to) in rename {
        let moved = parent_of(doc, from).and_then(|(o, k)| o.remove(&k));
        if let (Some(v), Some((o, k))) = (moved, parent_of(doc, to)) {
            o.insert(k, v);
        }
    }
    for p in drop {
        if let Some((o, k)) = parent_of(doc, p) {
            o.remove(&k);
        }
    }
    for (p, v) in add {
        if let Some((o, k)) = parent_of(doc, p) {
            o.insert(k, v.clone());
        }
    }
}

/// A response whose body fails at once: hyper drops the connection mid-response.
fn aborted() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("simulated abort"))
    });
    Response::new(Body::from_stream(stream))
}

async fn stats(State(control): State<Arc<SimControl>>) -> Json<Value> {
    let k = control.lock();
    Json(
        json!({"counters": k.counters, "lastHeaders": k.last_headers, "pendingFaults": k.faults.len()}),
    )
}

async fn add_faults(
    State(control): State<Arc<SimControl>>,
    Json(faults): Json<Vec<Fault>>,
) -> StatusCode {
    for f in faults {
        control.push_fault(f);
    }
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(control): State<Arc<SimControl>>) -> StatusCode {
    control.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

async fn set_latency(State(control): State<Arc<SimControl>>, Json(l): Json<Latency>) -> StatusCode {
    control.set_latency(Duration::from_millis(l.ms));
    StatusCode::NO_CONTENT
}

/// Bearer tokens that really expire (on `tokio::time`, so paused-time tests can expire them).
#[derive(Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<String, Instant>>,
    issued: Mutex<u64>,
}

impl TokenStore {
    pub fn issue(&self, lifetime: Duration) -> String {
        let n = {
            let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
            *issued += 1;
            *issued
        };
        let token = format!(
            "sim-token-{n}-{:x}",
            Instant::now().elapsed().as_nanos() ^ (n as u128 * 0x9e37_79b9)
        );
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), Instant::now() + lifetime);
        token
    }

    pub fn is_valid(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// A simulator's settings object as `T` (`Null` is `T::default()`), or the error
/// `check-config` reports at that simulator's settings.
pub fn parse_settings<T: serde::de::DeserializeOwned + Default>(
    vendor: &'static str,
    settings: &Value,
) -> Result<T, SimSettingsError> {
    if settings.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(settings.clone())
        .map_err(|source| SimSettingsError::Shape { vendor, source })
}

/// How far along a simulated order is, for simulators that advance their orders over
/// time: one step per `every_secs` since `created`, at most the last of `steps` steps;
/// `None` when the simulator does not advance orders (`every_secs` 0).
pub fn step_reached(created: tokio::time::Instant, every_secs: u64, steps: usize) -> Option<usize> {
    if every_secs == 0 {
        return None;
    }
    let n = created.elapsed().as_secs() / every_secs;
    Some(
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(steps.saturating_sub(1)),
    )
}

/// A running simulator on loopback.
pub struct RunningSim {
    pub addr: SocketAddr,
    pub control: Arc<SimControl>,
    pub handle: JoinHandle<()>,
}

impl RunningSim {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Serves `router` on `addr` (use port 0 for any free port).
pub async fn serve(
    router: Router,
    addr: SocketAddr,
    control: Arc<SimControl>,
) -> std::io::Result<RunningSim> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("simulator on {addr} stopped: {e}");
        }
    });
    Ok(RunningSim {
        addr,
        control,
        handle,
    })
}
