//! `POST /v1/orders` end to end: plan (pure) -> ledger (record before calling) ->
//! outbound -> interpret -> ledger (record the outcome) -> answer. Every accepted
//! request ends in a recorded state, and the answer given is the answer recorded, so a
//! replay is byte-for-byte what the first caller saw.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use connector::{Outcome, RetrySafety};
use ledger::{Begin, Finish, NewRecord, Record, RecordState};
use order_model::{OrderResult, OrderStatus, Problem, ProblemCode, VendorOrder};
use outbound::OutboundError;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::http::problem::problem_response;
use crate::pipeline::{self, Refused};
use crate::state::AppState;

/// The caller's idempotency key: the `Idempotency-Key` header when given, else `orderRef`.
pub fn key_for(doc: &Value, header: Option<&str>) -> String {
    header
        .map(str::to_owned)
        .or_else(|| {
            doc.get("orderRef")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

pub async fn place(
    state: &AppState,
    client: &str,
    doc: Value,
    idem_header: Option<String>,
    trace_id: &str,
) -> Response {
    let runtime = state.runtime.load_full();
    let key = key_for(&doc, idem_header.as_deref());
    let idem = pipeline::idempotency_key(client, &key);
    let hash = pipeline::body_hash(&doc);
    let planned = match pipeline::plan(
        &doc,
        &runtime.checked.routes,
        runtime.checked.fallback,
        &state.schemas,
        client,
        &idem,
    ) {
        Ok(p) => p,
        // An order that no longer validates (the config changed) may still be a replay of
        // one that was placed: the recorded answer wins.
        Err(Refused { problem, .. }) if !key.is_empty() => {
            return Box::pin(refused_unless_known(state, client, &key, &hash, problem)).await;
        }
        Err(Refused { problem, .. }) => return problem_response(problem),
    };
    // The parsed body and the routing explanation are not needed past planning; freed
    // now, they do not sit in memory for the length of the vendor call.
    drop(doc);
    // Every order in flight holds this future for the whole vendor call, and it is as
    // large as what it keeps across its awaits plus its largest awaited step, taken or
    // not. So the order (1.4 KB) and its record (0.7 KB) are on the heap, the rare steps
    // (a reconciliation, a replay, a refusal, remembered accounts) are boxed, and no
    // large value is matched on across an await: 14.5 KB per order in flight became
    // 4 KB (release build, issue 21).
    let mut planned = Box::new(planned);
    planned.explain = Vec::new();
    let route = planned.route;
    let Some(conn) = runtime.connections.get(&route.connection).cloned() else {
        return problem_response(Problem::new(
            ProblemCode::Internal,
            "the route's connection is not running",
        ));
    };
    let account_key = crate::accounts::key_for(client, route, &planned.order);
    let planned = match &account_key {
        Some(k) => {
            let ctx = connector::TranslateContext {
                client,
                connection: &route.connection,
                idempotency_key: &idem,
            };
            match Box::pin(crate::accounts::reuse(state, k, *planned, &ctx)).await {
                Ok(p) => Box::new(p),
                Err(errors) => return problem_response(pipeline::invalid(errors)),
            }
        }
        None => planned,
    };
    // Everything that can stop the call before it is written (breaker, pause, rate limit,
    // in-flight cap, token) happens first: an order is recorded `sending` only when it is
    // about to go out, so a crash or a refusal before that leaves nothing to settle.
    if let Some(p) = crate::quotas::refusal(&runtime, client) {
        let p = p.with_trace_id(Some(trace_id.to_owned()));
        return Box::pin(refused_unless_known(state, client, &key, &hash, p)).await;
    }
    let admission = match conn.admit().await {
        Ok(a) => a,
        Err(e) => {
            let (p, _, _) = outbound_problem(&e);
            let p = p.with_trace_id(Some(trace_id.to_owned()));
            return Box::pin(refused_unless_known(state, client, &key, &hash, p)).await;
        }
    };
    let new = NewRecord {
        id: format!("ord_{}", uuid::Uuid::now_v7().simple()),
        client: client.to_owned(),
        order_ref: planned.order.order_ref.clone(),
        idem_key: key.clone(),
        body_hash: hash.clone(),
        route: route.name.clone(),
        connection: route.connection.clone(),
        vendor: route.vendor.to_owned(),
        trace_id: Some(trace_id.to_owned()),
    };
    let begun = state.ledger.begin_sending(new).await;
    let rec = match begun {
        Ok(Begin::Started(rec)) => Box::new(rec),
        // A re-armed failure comes back `received`: mark it sending before the call.
        Ok(Begin::Retry(rec)) => {
            let rec = Box::new(rec);
            match state.ledger.mark_sending(&rec.id).await {
                Ok(_) => rec,
                Err(e) => return ledger_down(&e),
            }
        }
        Ok(Begin::Unknown(rec)) => {
            drop(admission);
            return Box::pin(reconcile(state, &conn, &planned, rec, trace_id)).await;
        }
        Ok(other) => return Box::pin(begun_elsewhere(state, other)).await,
        Err(e) => return ledger_down(&e),
    };
    record_and_answer(
        state,
        &planned,
        admission,
        &rec,
        account_key.as_ref(),
        trace_id,
    )
    .await
}

/// Sends a recorded order, records the outcome and answers it.
async fn record_and_answer(
    state: &AppState,
    planned: &pipeline::Planned<'_>,
    admission: outbound::Admission<'_>,
    rec: &Record,
    account_key: Option<&ledger::AccountKey>,
    trace_id: &str,
) -> Response {
    let route = planned.route;
    tracing::Span::current().record("order_gateway.connection", route.connection.as_str());
    let sent = admission.send(&planned.request).await;
    let finish = settle(state, planned, rec, Call::Create, sent, trace_id);
    if let Err(e) = state.ledger.finish(&rec.id, finish.clone()).await {
        // The vendor call happened; the answer is still the truth, but the record is
        // stuck in `sending` and will be recovered as `unknown` by the upkeep.
        tracing::error!(error = %e, order_id = %rec.id, "could not record an order outcome");
    }
    metrics::counter!(crate::metric_names::ORDERS_TOTAL, "connection" => route.connection.clone(), "outcome" => finish.state.as_str()).increment(1);
    if let Some(status) = finish.response.get("status").and_then(Value::as_str)
        && finish.state == RecordState::Accepted
    {
        metrics::counter!(crate::metric_names::ORDER_STATUS_TRANSITIONS_TOTAL, "connection" => route.connection.clone(), "source" => "create", "status" => status.to_owned()).increment(1);
    }
    if let Some(k) = account_key
        && finish.state == RecordState::Accepted
    {
        Box::pin(crate::accounts::remember(
            state,
            k,
            &rec.id,
            &finish.response,
        ))
        .await;
    }
    answer(finish.http_status, &finish.response, false, Some(&rec.id))
}

/// The order was refused before anything was sent (and before anything was recorded):
/// it did not plan, a quota stopped it, or the connection did not admit the call. A key
/// the ledger already knows still gets its recorded answer (a replay must not depend on
/// the vendor being reachable, nor on the config that placed it); a new order gets the
/// refusal, nothing recorded.
async fn refused_unless_known(
    state: &AppState,
    client: &str,
    key: &str,
    hash: &str,
    refusal: Problem,
) -> Response {
    if let Ok(Some(rec)) = state.ledger.find_by_key(client, key).await {
        return existing(state, rec, hash).await;
    }
    problem_response(refusal)
}

/// Which vendor call an answer is to: the create itself, or a lookup of the order.
#[derive(Clone, Copy)]
enum Call {
    Create,
    Lookup,
}

/// A vendor answer (or the outbound stack's failure) -> the outcome to record, whose
/// `response` is exactly what the caller is told.
fn settle(
    state: &AppState,
    planned: &pipeline::Planned<'_>,
    rec: &Record,
    call: Call,
    sent: Result<outbound::Sent, OutboundError>,
    trace_id: &str,
) -> Finish {
    let route = planned.route;
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            let (p, st, never_sent) = outbound_problem(&e);
            return problem_finish(p, trace_id, st, None, never_sent);
        }
    };
    let answer = match call {
        Call::Create => crate::vendor_drift::Answer::Create,
        Call::Lookup => crate::vendor_drift::Answer::Lookup,
    };
    let interpreted = crate::vendor_drift::interpret(
        &route.connection,
        route.prepared.as_ref(),
        answer,
        &planned.order,
        &sent.response,
    );
    match interpreted {
        Ok(vo) => {
            let result = result_of(
                &rec.id,
                &planned.order.order_ref,
                &route.connection,
                route.vendor,
                &vo,
                &rec.created_at,
                trace_id,
            );
            let code = if vo.status == OrderStatus::Quoted {
                200
            } else {
                201
            };
            Finish {
                state: RecordState::Accepted,
                http_status: code,
                response: serde_json::to_value(&result).unwrap_or(Value::Null),
                vendor_order_id: vo.vendor_order_id.clone(),
                vendor_status: Some(vo.vendor_status.clone()),
                never_sent: false,
                sync: crate::sync::start(
                    state,
                    &route.connection,
                    route.prepared.as_ref(),
                    &planned.order,
                    &vo,
                ),
            }
        }
        Err(failure) => {
            let p = failure.to_problem();
            let (st, never_sent) = match (failure.outcome(), failure.problem_code()) {
                (Outcome::Unknown, _) => (RecordState::Unknown, false),
                (Outcome::NotCreated, ProblemCode::InvalidOrder | ProblemCode::VendorRejected) => {
                    (RecordState::Rejected, false)
                }
                // "Not processed" (a 429, an auth refusal) speaks only for this attempt; an
                // earlier one of the same call may have created the order.
                (Outcome::NotCreated, _) if earlier_may_have_created(planned, call, &sent) => {
                    let p = Problem::new(ProblemCode::VendorTimeout, EARLIER_ATTEMPT_UNKNOWN);
                    return problem_finish(
                        p,
                        trace_id,
                        RecordState::Unknown,
                        failure.vendor.code.clone(),
                        false,
                    );
                }
                // The vendor did not take it (auth, limits, unavailable): a retry may succeed.
                (Outcome::NotCreated, _) => (RecordState::Failed, true),
            };
            problem_finish(p, trace_id, st, failure.vendor.code.clone(), never_sent)
        }
    }
}

/// Whether an earlier attempt of this call may have created the order: it went
/// unanswered after it may have arrived, or the vendor's answer to it (a 5xx resent over)
/// leaves the outcome unknown by the connector's reading.
fn earlier_may_have_created(
    planned: &pipeline::Planned<'_>,
    call: Call,
    sent: &outbound::Sent,
) -> bool {
    if matches!(call, Call::Lookup) {
        return false;
    }
    sent.earlier_attempt_may_have_landed
        || sent.earlier_answers.iter().any(|r| {
            matches!(
                planned.route.prepared.interpret(&planned.order, r),
                Err(f) if f.outcome() == Outcome::Unknown
            )
        })
}

const EARLIER_ATTEMPT_UNKNOWN: &str = "an earlier attempt of this call may have reached the vendor and its answer never came; the order is recorded as unknown, and a retry with the same orderRef settles it";

/// The outcome to record when the caller is answered with a problem.
fn problem_finish(
    p: Problem,
    trace_id: &str,
    state: RecordState,
    vendor_status: Option<String>,
    never_sent: bool,
) -> Finish {
    let p = p.with_trace_id(Some(trace_id.to_owned()));
    Finish {
        state,
        http_status: p.status,
        response: serde_json::to_value(&p).unwrap_or(Value::Null),
        vendor_order_id: None,
        vendor_status,
        never_sent,
        sync: None,
    }
}

/// A retry (same key, same order) of an order whose outcome is unknown. The caller's
/// retry carries the order, which the ledger deliberately does not store, so this is
/// where the gateway can settle it with the vendor. It does so only where that cannot
/// create a second order: the vendor deduplicates by key (Adobe's `X-Correlation-Id`),
/// so the same request is sent again and the vendor answers with the original order, or
/// places it if the first attempt never arrived.
///
/// Vendors without such a key (Juniper, Impilo, Axim) leave the order `unknown`: an
/// unknown outcome means the vendor's answer, and with it the vendor order id, never
/// arrived, and none of them documents a lookup by our reference. The caller gets 409
/// `outcome_unknown`; operators see the order at the admin `/orders/unknown`. An
/// operator who finds the order at the vendor links its id to the record
/// (`order-gateway link-vendor-order`); the next retry then GETs that order from the
/// vendor (where the connector has a lookup: Juniper, Impilo, Adobe) and settles the
/// record with the vendor's own answer.
async fn reconcile(
    state: &AppState,
    conn: &outbound::ConnectionClient,
    planned: &pipeline::Planned<'_>,
    rec: Record,
    trace_id: &str,
) -> Response {
    let route = planned.route;
    let labels = |result: &'static str| {
        [
            ("connection", route.connection.clone()),
            ("result", result.to_owned()),
        ]
    };
    // The route may have moved to another connection since: only the connection that
    // got the first attempt can say what became of it.
    if route.connection != rec.connection {
        metrics::counter!(
            crate::metric_names::ORDERS_RECONCILED_TOTAL,
            &labels("not_possible")
        )
        .increment(1);
        return unknown(state, &rec);
    }
    // An operator found the order at the vendor (`order-gateway link-vendor-order`): look
    // it up there. Otherwise send the same request again where the vendor deduplicates it.
    let lookup = rec
        .vendor_order_id
        .as_deref()
        .map(|id| route.prepared.lookup(&planned.order, id));
    let (request, call) = match &lookup {
        Some(Some(request)) => (request, Call::Lookup),
        None if planned.request.retry == RetrySafety::IdempotentByKey => {
            (&planned.request, Call::Create)
        }
        Some(None) | None => {
            metrics::counter!(
                crate::metric_names::ORDERS_RECONCILED_TOTAL,
                &labels("not_possible")
            )
            .increment(1);
            return unknown(state, &rec);
        }
    };
    let finish = settle(
        state,
        planned,
        &rec,
        call,
        conn.send(request).await,
        trace_id,
    );
    // A linked id settles the order only if the vendor's order is the caller's: the
    // reference the vendor echoes (checked by the connector) and the lines.
    if matches!(call, Call::Lookup) && !linked_order_is_this_one(&planned.order, &finish) {
        metrics::counter!(
            crate::metric_names::ORDERS_RECONCILED_TOTAL,
            &labels("mismatch")
        )
        .increment(1);
        tracing::warn!(order_id = %rec.id, "the linked vendor order is not this order (another reference or other lines); it stays unknown");
        return unknown(state, &rec);
    }
    // Only the vendor's own answer to the order settles it: a rate limit, an auth failure
    // or another timeout says nothing about the first attempt, and a lookup's refusal (a
    // 404) may only mean a wrong id, never that the order was not placed.
    let definitive = match finish.state {
        RecordState::Accepted => true,
        RecordState::Rejected => matches!(call, Call::Create),
        RecordState::Failed
        | RecordState::Unknown
        | RecordState::Received
        | RecordState::Sending => false,
    };
    if !definitive {
        metrics::counter!(
            crate::metric_names::ORDERS_RECONCILED_TOTAL,
            &labels("still_unknown")
        )
        .increment(1);
        return unknown(state, &rec);
    }
    match state.ledger.resolve_unknown(&rec.id, finish.clone()).await {
        Ok(true) => {
            metrics::counter!(
                crate::metric_names::ORDERS_RECONCILED_TOTAL,
                &labels(finish.state.as_str())
            )
            .increment(1);
            tracing::info!(order_id = %rec.id, state = finish.state.as_str(), "unknown order reconciled");
            answer(finish.http_status, &finish.response, false, Some(&rec.id))
        }
        // Settled meanwhile (a concurrent retry, or the original call's late finish).
        Ok(false) => match state.ledger.get(&rec.client, &rec.id).await {
            Ok(Some(now)) => existing(state, now, &rec.body_hash).await,
            Ok(None) => unknown(state, &rec),
            Err(e) => ledger_down(&e),
        },
        Err(e) => ledger_down(&e),
    }
}

/// False when a lookup found an order that is someone else's: the connector said so
/// (`vendor_order_mismatch`), or its lines differ from the caller's.
fn linked_order_is_this_one(order: &order_model::CanonicalOrder, finish: &Finish) -> bool {
    if finish.response.get("code").and_then(Value::as_str) == Some(connector::lookup::MISMATCH_CODE)
    {
        return false;
    }
    if finish.state != RecordState::Accepted {
        return true;
    }
    match serde_json::from_value::<Vec<order_model::LineResult>>(
        finish.response.get("lines").cloned().unwrap_or(json!([])),
    ) {
        Ok(lines) => crate::operator::vendor_order_matches(order, &lines),
        Err(_) => true,
    }
}

async fn begun_elsewhere(state: &AppState, begin: Begin) -> Response {
    match begin {
        Begin::Replay(rec) => replay(&rec),
        Begin::Conflict(_) => problem_response(Problem::new(ProblemCode::IdempotencyConflict, "this orderRef (or Idempotency-Key) was used before with a different order; use a new orderRef for a new order")),
        Begin::InProgress(_) => problem_response(Problem::new(ProblemCode::InProgress, "the first request with this orderRef is still being placed; retry after a moment to get its answer").with_retry_after(1)),
        Begin::Unknown(rec) => unknown(state, &rec),
        Begin::Started(rec) | Begin::Retry(rec) => {
            // Not reached: the caller handles these. Answer truthfully anyway.
            problem_response(Problem::new(ProblemCode::InProgress, format!("order {} is being placed", rec.id)).with_retry_after(1))
        }
    }
}

/// The ledger already knows this key (found after the order failed to plan).
async fn existing(state: &AppState, rec: Record, hash: &str) -> Response {
    if rec.body_hash != hash {
        return begun_elsewhere(state, Begin::Conflict(rec)).await;
    }
    match rec.state {
        RecordState::Received | RecordState::Sending => {
            begun_elsewhere(state, Begin::InProgress(rec)).await
        }
        RecordState::Unknown => unknown(state, &rec),
        RecordState::Accepted | RecordState::Rejected | RecordState::Failed => replay(&rec),
    }
}

fn unknown(_state: &AppState, rec: &Record) -> Response {
    problem_response(
        Problem::new(ProblemCode::OutcomeUnknown, "an earlier attempt with this orderRef may have reached the vendor, and its outcome is not settled yet. Do not place the order again under a new orderRef (that could duplicate it). Retry with the same orderRef later: the answer comes as soon as the outcome is settled, by the vendor's own answer where it deduplicates, otherwise by an operator who checked the vendor")
            .with_context(json!({"orderId": rec.id})),
    )
}

fn replay(rec: &Record) -> Response {
    match &rec.response {
        Some(body) => answer(rec.http_status.unwrap_or(200), body, true, Some(&rec.id)),
        None => problem_response(
            Problem::new(
                ProblemCode::InProgress,
                "the first request with this orderRef is still being placed",
            )
            .with_retry_after(1),
        ),
    }
}

fn answer(status: u16, body: &Value, replayed: bool, id: Option<&str>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, bytes).into_response();
    let h = resp.headers_mut();
    let ct = if status >= 400 {
        order_model::PROBLEM_CONTENT_TYPE
    } else {
        "application/json"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if replayed {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if let (Some(id), true) = (id, status == 201)
        && let Ok(v) = HeaderValue::from_str(&format!("/v1/orders/{id}"))
    {
        h.insert(header::LOCATION, v);
    }
    if status >= 400
        && let Some(s) = body.get("retryAfter").and_then(Value::as_u64)
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        h.insert(header::RETRY_AFTER, v);
    }
    resp
}

fn outbound_problem(e: &OutboundError) -> (Problem, RecordState, bool) {
    let secs = |d: &std::time::Duration| connector::whole_secs_up(*d);
    match e {
        OutboundError::RateLimited { retry_after } => (
            Problem::new(
                ProblemCode::VendorRateLimited,
                "the vendor connection is at its rate limit",
            )
            .with_retry_after(secs(retry_after)),
            RecordState::Failed,
            true,
        ),
        OutboundError::Overloaded => (
            Problem::new(
                ProblemCode::VendorUnavailable,
                "too many orders are in flight to this vendor",
            )
            .with_retry_after(1),
            RecordState::Failed,
            true,
        ),
        OutboundError::CircuitOpen { retry_after } => (
            Problem::new(
                ProblemCode::VendorUnavailable,
                "the vendor is failing; calls are paused",
            )
            .with_retry_after(secs(retry_after)),
            RecordState::Failed,
            true,
        ),
        OutboundError::NotSent { .. } => (
            Problem::new(
                ProblemCode::VendorUnavailable,
                "the vendor could not be reached; nothing was sent",
            )
            .with_retry_after(1),
            RecordState::Failed,
            true,
        ),
        OutboundError::TokenEndpoint { .. } => (
            Problem::new(
                ProblemCode::VendorAuth,
                "the gateway could not get a token from the vendor; nothing was sent",
            ),
            RecordState::Failed,
            true,
        ),
        OutboundError::Timeout { maybe_sent: false } => (
            Problem::new(
                ProblemCode::VendorUnavailable,
                "the vendor did not answer; nothing was sent",
            )
            .with_retry_after(1),
            RecordState::Failed,
            true,
        ),
        OutboundError::Timeout { maybe_sent: true } | OutboundError::DeadlineExceeded => (
            Problem::new(
                ProblemCode::VendorTimeout,
                "the vendor did not answer in time; the order may exist at the vendor and is recorded as unknown",
            ),
            RecordState::Unknown,
            false,
        ),
        OutboundError::Transport {
            maybe_sent: false, ..
        } => (
            Problem::new(
                ProblemCode::VendorUnavailable,
                "the connection to the vendor failed before sending",
            )
            .with_retry_after(1),
            RecordState::Failed,
            true,
        ),
        OutboundError::Transport {
            maybe_sent: true, ..
        } => (
            Problem::new(
                ProblemCode::VendorFailed,
                "the connection to the vendor failed after sending; the order is recorded as unknown",
            ),
            RecordState::Unknown,
            false,
        ),
    }
}

pub fn ledger_down(e: &ledger::LedgerError) -> Response {
    tracing::error!(error = %e, "ledger unavailable");
    problem_response(
        Problem::new(
            ProblemCode::Internal,
            "the order ledger is unavailable; nothing was sent to the vendor",
        )
        .with_retry_after(1),
    )
}

fn result_of(
    id: &str,
    order_ref: &str,
    connection: &str,
    vendor: &str,
    vo: &VendorOrder,
    created_at: &str,
    trace_id: &str,
) -> OrderResult {
    // The same shape as `createdAt` (from the ledger): UTC, microseconds.
    let now = ledger::rfc3339(OffsetDateTime::now_utc());
    OrderResult {
        id: id.to_owned(),
        order_ref: order_ref.to_owned(),
        status: vo.status,
        vendor_status: Some(vo.vendor_status.clone()),
        connection: connection.to_owned(),
        vendor: vendor.to_owned(),
        vendor_order_id: vo.vendor_order_id.clone(),
        totals: vo.totals.clone(),
        lines: vo.lines.clone(),
        tracking: vo.tracking.clone(),
        vendor_refs: vo.vendor_refs.clone(),
        created_at: created_at.to_owned(),
        updated_at: now,
        trace_id: Some(trace_id.to_owned()),
    }
}

/// What `GET /v1/orders/{id}` shows: the record's state and, once there is one, the answer.
pub fn record_view(rec: &Record) -> Value {
    json!({
        "id": rec.id,
        "orderRef": rec.order_ref,
        "state": rec.state.as_str(),
        "connection": rec.connection,
        "vendor": rec.vendor,
        "vendorOrderId": rec.vendor_order_id,
        "vendorStatus": rec.vendor_status,
        "attempts": rec.attempts,
        "createdAt": rec.created_at,
        "updatedAt": rec.updated_at,
        "traceId": rec.trace_id,
        "httpStatus": rec.http_status,
        "answer": rec.response,
        "tracking": rec.tracking,
        "syncNextAt": rec.sync_next_at,
    })
}
