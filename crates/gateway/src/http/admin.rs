//! The admin listener: probes, Prometheus metrics, the active config, unknown orders and
//! their resolution by operators, and the operator console (`/`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/config", get(config))
        .route("/orders/unknown", get(unknown_orders))
        .route(
            "/orders/{id}/resolve",
            post(crate::http::resolve::resolve_order),
        )
        .route("/webhooks/failed", get(crate::http::webhooks_admin::failed))
        .route(
            "/webhooks/disabled",
            get(crate::http::webhooks_admin::disabled),
        )
        .route(
            "/webhooks/redeliver",
            post(crate::http::webhooks_admin::redeliver),
        )
        .with_state(state.clone())
        .merge(crate::console::router(state))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut resp = state.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// The active config's version hash and the last refused reload, for operators.
async fn config(State(state): State<Arc<AppState>>) -> Response {
    let rt = state.runtime.load();
    let last_error = state
        .last_reload_error
        .lock()
        .map(|e| e.clone())
        .unwrap_or(None);
    Json(json!({
        "version": rt.checked.version(),
        "hash": rt.checked.hash,
        "path": rt.checked.path,
        "routes": rt.checked.routes.iter().map(|r| json!({"name": r.name, "connection": r.connection, "vendor": r.vendor})).collect::<Vec<_>>(),
        "lastReloadError": last_error,
    }))
    .into_response()
}

/// Orders whose outcome is unknown (a timeout after sending, a crash mid-call): for
/// operators to settle with the vendor. Ids and references only; no personal data.
/// Paged: `?limit=` (clamped to 1..500, default 100) and `?after=` (the previous page's `next`);
/// `total` counts every unknown order. A read never sets the `orders_unknown` gauge.
async fn unknown_orders(
    State(state): State<Arc<AppState>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    // A limit out of range is clamped; one that is not a number is refused.
    let limit = match query.get("limit").map(|l| l.parse::<u32>()) {
        None => 100,
        Some(Ok(n)) => n.clamp(1, 500),
        Some(Err(_)) => {
            return crate::http::problem::problem_response(order_model::Problem::new(
                order_model::ProblemCode::InvalidRequest,
                "limit must be a whole number (1..500)",
            ));
        }
    };
    let listed = state
        .ledger
        .page_by_state(
            ledger::RecordState::Unknown,
            query.get("after").map(String::as_str),
            limit,
        )
        .await;
    let counts = state.ledger.count_by_state().await;
    match (listed, counts) {
        (Ok(records), Ok(counts)) => {
            let total = counts
                .iter()
                .find(|(s, _)| *s == ledger::RecordState::Unknown)
                .map_or(0, |(_, n)| *n);
            let next = (records.len() == limit as usize)
                .then(|| records.last().map(|r| r.id.clone()))
                .flatten();
            let orders: Vec<_> = records
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "client": r.client, "orderRef": r.order_ref, "connection": r.connection,
                        "vendor": r.vendor, "vendorOrderId": r.vendor_order_id, "attempts": r.attempts,
                        "createdAt": r.created_at, "updatedAt": r.updated_at, "traceId": r.trace_id,
                    })
                })
                .collect();
            Json(json!({"count": orders.len(), "total": total, "next": next, "orders": orders}))
                .into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
    }
}
