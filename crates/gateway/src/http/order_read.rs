//! `GET /v1/orders/{id}` (the record, its current status and its history) and
//! `GET /v1/orders/{id}/events`. Both are scoped to the calling client: another client's
//! order is 404, exactly like an order that does not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ledger::{Event, Record, RecordState};
use order_model::{OrderStatus, ProblemCode};
use serde_json::{Value, json};

use super::api::authenticate;
use super::problem::{ApiProblem, problem_response};
use crate::order_flow;
use crate::state::AppState;

pub async fn get_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let refresh = match wants_refresh(query) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let mut outcome = None;
    if refresh {
        match read(&state, &headers, &id).await {
            Ok((rec, _)) => outcome = Some(refresh_once(&state, &rec).await),
            Err(r) => return r,
        }
    }
    match read(&state, &headers, &id).await {
        Ok((rec, events)) => {
            let mut view = order_flow::record_view(&rec);
            if let Some(outcome) = outcome {
                view["refreshed"] = json!(outcome.is_ok());
                if let Err(reason) = outcome {
                    view["notRefreshedReason"] = json!(reason);
                }
            }
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

/// `refresh=true|false` and nothing else: an unknown parameter or value is refused, not
/// ignored (a misspelt `refresh` must not silently skip the read).
fn wants_refresh(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<bool, ApiProblem> {
    let bad = |what: String| ApiProblem::new(ProblemCode::InvalidRequest, what);
    let Query(pairs) = query.map_err(|_| bad("the query string cannot be read".into()))?;
    let mut refresh = false;
    for (k, v) in pairs {
        match (k.as_str(), v.as_str()) {
            ("refresh", "true") => refresh = true,
            ("refresh", "false") => refresh = false,
            ("refresh", _) => return Err(bad("refresh is `true` or `false`".into())),
            _ => return Err(bad("the only query parameter is `refresh`".into())),
        }
    }
    Ok(refresh)
}

/// One status read now, recorded like a sync read (without moving the schedule, which a
/// final status ends). The reason when there was none.
async fn refresh_once(state: &AppState, rec: &Record) -> Result<(), &'static str> {
    let final_now = rec
        .status
        .as_deref()
        .and_then(|s| serde_json::from_value::<OrderStatus>(json!(s)).ok())
        .is_some_and(connector::sync::is_final);
    if final_now {
        return Err("final");
    }
    let handle = match (&rec.lookup, rec.state) {
        (Some(h), RecordState::Accepted) => h,
        _ => return Err(crate::sync::NotRead::NotPossible.as_str()),
    };
    let result = crate::sync::read(state, &rec.connection, &rec.vendor, handle).await;
    let reading = match &result {
        Ok(r) => r,
        Err(e) => {
            crate::sync::count(&rec.connection, Err(*e), false);
            return Err(e.as_str());
        }
    };
    let next = if connector::sync::is_final(reading.status) {
        ledger::NextSync::Stop
    } else {
        ledger::NextSync::Keep
    };
    match state
        .ledger
        .record_status(&rec.id, Some(crate::sync::update_of(reading)), next)
        .await
    {
        Ok(changed) => {
            crate::sync::count(&rec.connection, Ok(reading), changed);
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, order_id = %rec.id, "refresh: recording the read failed");
            Err(crate::sync::NotRead::Failed.as_str())
        }
    }
}

/// The caller's record and its events, or the answer to give instead.
async fn read(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(Record, Vec<Event>), Response> {
    let client = authenticate(state, headers).map_err(problem_response)?;
    match state.ledger.record_with_events(&client.0, id).await {
        Ok(Some(both)) => Ok(both),
        Ok(None) => Err(ApiProblem::new(
            ProblemCode::NotFound,
            "no order with this id for this client",
        )
        .into_response()),
        Err(e) => Err(order_flow::ledger_down(&e)),
    }
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
