//! Failed webhook deliveries on the admin listener: `GET /webhooks/failed` lists them
//! (ids, attempts, the last error; never the payload, which holds the caller's answer),
//! `POST /webhooks/redeliver` (an operator key) puts them back to pending with a fresh
//! window, the ones named in `eventIds` or all, and enables the disabled endpoints of
//! those events' clients (all, when none is named). `GET /webhooks/disabled` lists the
//! client endpoints disabled by a 410 Gone with their held deliveries.
//! `order-gateway redeliver-webhooks` does the same as the POST from the command line.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use order_model::{Problem, ProblemCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::problem::problem_response;
use crate::order_flow::ledger_down;
use crate::state::AppState;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;

pub async fn failed(
    State(state): State<Arc<AppState>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let limit = match q.get("limit").map(|l| l.parse::<u32>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return problem_response(Problem::new(
                ProblemCode::InvalidRequest,
                format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
            ));
        }
    };
    match state.ledger.failed_webhooks(limit).await {
        Ok(rows) => {
            let deliveries: Vec<Value> = rows
                .iter()
                .map(|d| {
                    json!({
                        "eventId": d.event_id,
                        "orderId": d.order_id,
                        "client": d.client,
                        "seq": d.seq,
                        "attempts": d.attempts,
                        "lastError": d.last_error,
                        "createdAt": d.created_at,
                    })
                })
                .collect();
            Json(json!({"count": deliveries.len(), "deliveries": deliveries})).into_response()
        }
        Err(e) => ledger_down(&e),
    }
}

/// Endpoints whose receiver answered 410 Gone: the client, since when, why, and how many
/// deliveries are held for it (never the URL: it may carry a token).
pub async fn disabled(State(state): State<Arc<AppState>>) -> Response {
    match state.ledger.disabled_webhook_endpoints().await {
        Ok(rows) => {
            let endpoints: Vec<Value> = rows
                .iter()
                .map(|d| {
                    json!({
                        "client": d.client,
                        "disabledAt": d.disabled_at,
                        "reason": d.reason,
                        "held": d.held,
                    })
                })
                .collect();
            Json(json!({"count": endpoints.len(), "endpoints": endpoints})).into_response()
        }
        Err(e) => ledger_down(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RedeliverRequest {
    #[serde(default)]
    event_ids: Vec<String>,
}

pub async fn redeliver(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (operator, doc) = match super::resolve::operator_request(&state, req).await {
        Ok(r) => r,
        Err(p) => return problem_response(p),
    };
    let request: RedeliverRequest = match serde_json::from_value(doc) {
        Ok(r) => r,
        Err(e) => {
            return problem_response(Problem::new(
                ProblemCode::InvalidRequest,
                format!("the body is {{\"eventIds\": [...]}} (empty or absent: all): {e}"),
            ));
        }
    };
    match state.ledger.redeliver_webhooks(request.event_ids).await {
        Ok(n) => {
            tracing::info!(%operator, redelivered = n, "failed webhook deliveries put back to pending");
            Json(json!({"redelivered": n, "by": operator})).into_response()
        }
        Err(e) => ledger_down(&e),
    }
}
