//! The order API: `POST /v1/orders`, `POST /v1/orders/preview`, `GET /v1/orders/{id}`,
//! `GET /v1/orders/{id}/events` (both in `order_read`), `GET /v1/orders?orderRef=`,
//! `GET /openapi.yaml`.

use std::sync::Arc;
use tracing::Instrument;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use order_model::{Problem, ProblemCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::problem::{ApiProblem, problem_response};
use super::trace::TraceId;
use crate::order_flow;
use crate::pipeline::{self, Refused};
use crate::routing::for_client;
use crate::state::AppState;

pub const OPENAPI: &str = include_str!("../../../../schemas/openapi.yaml");

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/orders", post(create_order).get(find_order))
        .route("/v1/orders/preview", post(preview_order))
        .route("/v1/orders/{id}", get(super::order_read::get_order))
        .route("/v1/orders/{id}/events", get(super::order_read::get_events))
        .route("/openapi.yaml", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The client a request speaks for.
#[derive(Clone, Debug)]
pub struct Client(pub String);

/// Attributes the request to a client by its API key (`Authorization: Bearer <key>`).
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Client, Problem> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Problem::new(
                ProblemCode::Unauthorized,
                "send your API key as Authorization: Bearer <key>",
            )
        })?;
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let runtime = state.runtime.load();
    runtime
        .clients
        .get(&digest)
        .map(|id| {
            tracing::Span::current().record("order_gateway.client", id.as_str());
            Client(id.clone())
        })
        .ok_or_else(|| Problem::new(ProblemCode::Unauthorized, "unknown API key"))
}

async fn create_order(
    State(state): State<Arc<AppState>>,
    Extension(trace): Extension<TraceId>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let client = match authenticate(&state, &parts.headers) {
        Ok(c) => c,
        Err(p) => return problem_response(p),
    };
    let limits = super::body::BodyLimits::of(&state.runtime.load().checked.config.server);
    let doc = match super::body::read_json(&parts.headers, body, limits).await {
        Ok(d) => d,
        Err(p) => return problem_response(p),
    };
    let idem_header = match idempotency_header(&parts.headers) {
        Ok(h) => h,
        Err(p) => return problem_response(p),
    };
    // The head's header values and URI are slices of the connection's read buffer: held
    // across the vendor call, they keep that buffer alive beside the one hyper has
    // already allocated for the next request (8 KiB more per order in flight).
    drop(parts);
    // Placement runs in its own task: once the order is recorded it must reach a
    // recorded outcome whatever the caller does (hyper drops this handler's future when
    // the caller disconnects, which would leave the record `sending`).
    // Boxed: spawned unboxed, the placement future (several KB, see `order_flow::place`)
    // was copied by value through the spawn path (memmove led a load profile).
    let span = tracing::Span::current();
    let placing = tokio::spawn(
        Box::pin(
            async move { order_flow::place(&state, &client.0, doc, idem_header, &trace.0).await },
        )
        .instrument(span),
    );
    match placing.await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "order placement task failed");
            problem_response(Problem::new(
                ProblemCode::Internal,
                "the order could not be placed; retry with the same orderRef to learn its outcome",
            ))
        }
    }
}

/// The `Idempotency-Key` header: absent, or 1..255 visible ASCII characters. Anything
/// else is refused, not ignored (ignoring it would fall back to `orderRef` and answer a
/// different order's key conflict).
fn idempotency_header(headers: &axum::http::HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let refused = || {
        Problem::new(
            ProblemCode::InvalidOrder,
            "Idempotency-Key must be 1..255 visible ASCII characters",
        )
    };
    let text = v.to_str().map_err(|_| refused())?;
    if text.is_empty()
        || text.len() > 255
        || !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(refused());
    }
    Ok(Some(text.to_owned()))
}

async fn preview_order(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client = match authenticate(&state, &parts.headers) {
        Ok(c) => c,
        Err(p) => return problem_response(p),
    };
    let runtime = state.runtime.load_full();
    let limits = super::body::BodyLimits::of(&runtime.checked.config.server);
    let doc = match super::body::read_json(&parts.headers, body, limits).await {
        Ok(d) => d,
        Err(p) => return problem_response(p),
    };
    let idem_header = match idempotency_header(&parts.headers) {
        Ok(h) => h,
        Err(p) => return problem_response(p),
    };
    let key = order_flow::key_for(&doc, idem_header.as_deref());
    let idem = pipeline::idempotency_key(&client.0, &key);
    match preview(&state, &runtime, &doc, &client.0, &idem) {
        Ok(v) => Json(v).into_response(),
        Err(Refused { problem, explain }) => {
            let problem = match explain {
                Some(e) => {
                    let mut ctx = problem.context.clone().unwrap_or_else(|| json!({}));
                    if let Some(m) = ctx.as_object_mut() {
                        m.insert("explain".into(), json!(for_client(&e)));
                    }
                    problem.with_context(ctx)
                }
                None => problem,
            };
            problem_response(problem)
        }
    }
}

/// The preview document: what would be sent, with secrets masked, and why this route
/// (as far as it concerns the client).
pub fn preview(
    state: &AppState,
    runtime: &crate::state::Runtime,
    doc: &Value,
    client: &str,
    idem: &str,
) -> Result<super::preview::Preview, Refused> {
    let planned = pipeline::plan(
        doc,
        &runtime.checked.routes,
        runtime.checked.fallback,
        &state.schemas,
        client,
        idem,
    )?;
    let conn = runtime
        .connections
        .get(&planned.route.connection)
        .ok_or_else(|| {
            Refused::from(Problem::new(
                ProblemCode::Internal,
                "the route's connection is not running",
            ))
        })?;
    let mut doc = preview_document(&planned, conn.preview(&planned.request));
    doc.explain = json!(for_client(&planned.explain));
    Ok(doc)
}

pub fn preview_document(
    planned: &pipeline::Planned<'_>,
    p: outbound::PreviewRequest,
) -> super::preview::Preview {
    super::preview::document(planned, p)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindQuery {
    order_ref: Option<String>,
}

async fn find_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<FindQuery>,
) -> Response {
    let client = match authenticate(&state, &headers) {
        Ok(c) => c,
        Err(p) => return problem_response(p),
    };
    let Some(order_ref) = q.order_ref.filter(|r| !r.is_empty()) else {
        return ApiProblem::new(
            ProblemCode::InvalidOrder,
            "the orderRef query parameter is required: /v1/orders?orderRef=<your ref>",
        )
        .into_response();
    };
    match state.ledger.find_by_ref(&client.0, &order_ref).await {
        Ok(Some(rec)) => Json(json!({"orders": [order_flow::record_view(&rec)]})).into_response(),
        Ok(None) => Json(json!({"orders": []})).into_response(),
        Err(e) => order_flow::ledger_down(&e),
    }
}

async fn openapi() -> Response {
    let mut resp = OPENAPI.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    resp
}

async fn not_found() -> ApiProblem {
    ApiProblem::new(ProblemCode::NotFound, "no such path; see /openapi.yaml")
}

async fn method_not_allowed() -> ApiProblem {
    ApiProblem::new(
        ProblemCode::MethodNotAllowed,
        "see /openapi.yaml for the methods of this path",
    )
}
