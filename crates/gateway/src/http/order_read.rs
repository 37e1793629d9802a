//! `GET /v1/orders/{id}` (the record, its current status and its history) and
//! `GET /v1/orders/{id}/events`. Both are scoped to the calling client: another client's
//! order is 404, exactly like an order that does not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ledger::{Event, Record};
use order_model::ProblemCode;
use serde_json::{Value, json};

use super::api::authenticate;
use super::problem::{ApiProblem, problem_response};
use crate::order_flow;
use crate::state::AppState;

pub async fn get_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match read(&state, &headers, &id).await {
        Ok((rec, events)) => {
            let mut view = order_flow::record_view(&rec);
            view["status"] = json!(current_status(&rec, &events));
            view["history"] = events.iter().map(event_view).collect();
            Json(view).into_response()
        }
        Err(r) => r,
    }
}

pub async fn get_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match read(&state, &headers, &id).await {
        Ok((rec, events)) => Json(json!({
            "orderId": rec.id,
            "events": events.iter().map(event_view).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(r) => r,
    }
}

/// The caller's record and its events, or the answer to give instead.
async fn read(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(Record, Vec<Event>), Response> {
    let client = authenticate(state, headers).map_err(problem_response)?;
    let rec = match state.ledger.get(&client.0, id).await {
        Ok(Some(rec)) => rec,
        Ok(None) => {
            return Err(ApiProblem::new(
                ProblemCode::NotFound,
                "no order with this id for this client",
            )
            .into_response());
        }
        Err(e) => return Err(order_flow::ledger_down(&e)),
    };
    let events = state
        .ledger
        .events(&client.0, id)
        .await
        .map_err(|e| order_flow::ledger_down(&e))?;
    Ok((rec, events))
}

/// The canonical status: the latest event's that names one (a sync may have moved it
/// on from the create's answer), else the stored answer's.
fn current_status(rec: &Record, events: &[Event]) -> Option<String> {
    events
        .iter()
        .rev()
        .find_map(|e| e.status.clone())
        .or_else(|| {
            rec.response
                .as_ref()
                .and_then(|r| r.get("status"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
}

/// One event as the API shows it (the webhook payload's `data` without the answer).
pub fn event_view(e: &Event) -> Value {
    json!({
        "eventId": e.event_id,
        "type": e.kind,
        "seq": e.seq,
        "state": e.state.as_str(),
        "status": e.status,
        "source": e.source,
        "vendorStatus": e.vendor_status,
        "vendorOrderId": e.vendor_order_id,
        "tracking": e.tracking,
        "at": e.at,
    })
}
