//! The order API: `POST /v1/orders`, `POST /v1/orders/preview`, `GET /v1/orders/{id}`,
//! `GET /v1/orders?orderRef=`, `GET /openapi.yaml`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
use crate::state::AppState;

pub const OPENAPI: &str = include_str!("../../../../schemas/openapi.yaml");

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/orders", post(create_order).get(find_order))
        .route("/v1/orders/preview", post(preview_order))
        .route("/v1/orders/{id}", get(get_order))
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
    let limit = state.runtime.load().checked.config.server.body_limit_bytes;
    let doc = match super::body::read_json(&parts.headers, body, limit).await {
        Ok(d) => d,
        Err(p) => return problem_response(p),
    };
    let idem_header = parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    order_flow::place(&state, &client.0, doc, idem_header, &trace.0).await
}

async fn preview_order(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client = match authenticate(&state, &parts.headers) {
        Ok(c) => c,
        Err(p) => return problem_response(p),
    };
    let runtime = state.runtime.load_full();
    let doc = match super::body::read_json(
        &parts.headers,
        body,
        runtime.checked.config.server.body_limit_bytes,
    )
    .await
    {
        Ok(d) => d,
        Err(p) => return problem_response(p),
    };
    let key = order_flow::key_for(
        &doc,
        parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok()),
    );
    let idem = pipeline::idempotency_key(&client.0, &key);
    match preview(&state, &runtime, &doc, &client.0, &idem) {
        Ok(v) => Json(v).into_response(),
        Err(Refused { problem, explain }) => {
            let problem = match explain {
                Some(e) => {
                    let mut ctx = problem.context.clone().unwrap_or_else(|| json!({}));
                    if let Some(m) = ctx.as_object_mut() {
                        m.insert("explain".into(), json!(e));
                    }
                    problem.with_context(ctx)
                }
                None => problem,
            };
            problem_response(problem)
        }
    }
}

/// The preview document: what would be sent, with secrets masked, and why this route.
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
    Ok(preview_document(&planned, conn.preview(&planned.request)))
}

pub fn preview_document(
    planned: &pipeline::Planned<'_>,
    p: outbound::PreviewRequest,
) -> super::preview::Preview {
    super::preview::document(planned, p)
}

async fn get_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let client = match authenticate(&state, &headers) {
        Ok(c) => c,
        Err(p) => return problem_response(p),
    };
    match state.ledger.get(&client.0, &id).await {
        Ok(Some(rec)) => Json(order_flow::record_view(&rec)).into_response(),
        Ok(None) => ApiProblem::new(
            ProblemCode::NotFound,
            "no order with this id for this client",
        )
        .into_response(),
        Err(e) => order_flow::ledger_down(&e),
    }
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

pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn empty_body() -> Body {
    Body::empty()
}
