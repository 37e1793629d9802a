//! `POST /orders/{id}/resolve` on the admin listener: an operator settles an unknown
//! order exactly as `order-gateway resolve-unknown` does ([`crate::operator::resolve`]),
//! recorded under the operator id the bearer key belongs to (`operators:` in config).
//! The console's resolve form goes through [`settle`] too.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use connector::LookupRefusal;
use order_model::{FieldError, Problem, ProblemCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::problem::problem_response;
use crate::operator::{Finding, Refusal};
use crate::state::AppState;

/// What the operator found at the vendor, and why they say so.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveRequest {
    pub outcome: Outcome,
    #[serde(default)]
    pub vendor_order_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    NotPlaced,
    Placed,
}

/// The operator id an operator key belongs to, if any.
pub fn operator_for_key(state: &AppState, key: &str) -> Option<String> {
    let digest = hex::encode(Sha256::digest(key.trim().as_bytes()));
    state.runtime.load().operators.get(&digest).cloned()
}

/// An operator action's caller (by its key) and JSON body, or the problem to answer.
pub(crate) async fn operator_request(
    state: &AppState,
    req: Request,
) -> Result<(String, Value), Problem> {
    let (parts, body) = req.into_parts();
    let operator = operator_from_headers(state, &parts.headers)?;
    let limits = super::body::BodyLimits::of(&state.runtime.load().checked.config.server);
    let doc = super::body::read_json(&parts.headers, body, limits).await?;
    Ok((operator, doc))
}

fn operator_from_headers(state: &AppState, headers: &HeaderMap) -> Result<String, Problem> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|key| operator_for_key(state, key))
        .ok_or_else(|| {
            Problem::new(
                ProblemCode::Unauthorized,
                "send an operator key (operators: in the config) as Authorization: Bearer <key>",
            )
        })
}

pub async fn resolve_order(
    State(state): State<Arc<AppState>>,
    Path(order_id): Path<String>,
    req: Request,
) -> Response {
    let (operator, doc) = match operator_request(&state, req).await {
        Ok(r) => r,
        Err(p) => return problem_response(p),
    };
    let request = match parse_request(doc) {
        Ok(r) => r,
        Err(p) => return problem_response(p),
    };
    match settle(&state, &operator, &order_id, request).await {
        Ok(done) => {
            Json(json!({"id": order_id, "resolvedBy": operator, "result": done})).into_response()
        }
        Err(p) => problem_response(p),
    }
}

fn parse_request(doc: Value) -> Result<ResolveRequest, Problem> {
    let refuse = |pointer: String, message: String| {
        Problem::new(
            ProblemCode::InvalidRequest,
            "the resolve request is not valid",
        )
        .with_errors(vec![FieldError::new(pointer, "invalid", message)])
    };
    let request: ResolveRequest = serde_path_to_error::deserialize(doc).map_err(|e| {
        let pointer = pointer_of(&e.path().to_string());
        refuse(pointer, e.inner().to_string())
    })?;
    request.checked()
}

impl ResolveRequest {
    /// A reason is given, and a vendor order id exactly when the order was placed.
    pub fn checked(self) -> Result<Self, Problem> {
        let refuse = |pointer: &str, message: &str| {
            Problem::new(
                ProblemCode::InvalidRequest,
                "the resolve request is not valid",
            )
            .with_errors(vec![FieldError::new(pointer, "invalid", message)])
        };
        if self.reason.trim().is_empty() {
            return Err(refuse(
                "/reason",
                "say why (what you checked at the vendor)",
            ));
        }
        match (self.outcome, &self.vendor_order_id) {
            (Outcome::Placed, None) => Err(refuse(
                "/vendorOrderId",
                "a placed order needs the vendor's order id",
            )),
            (Outcome::NotPlaced, Some(_)) => Err(refuse(
                "/vendorOrderId",
                "a not-placed order has no vendor order id",
            )),
            _ => Ok(self),
        }
    }
}

/// serde_path_to_error's `a.b[0]` as a JSON pointer (`.` is the whole document).
fn pointer_of(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    path.split('.')
        .map(|seg| format!("/{}", order_model::escape_pointer(seg)))
        .collect()
}

/// Resolves one unknown order for `operator`; the sentence to show on success.
pub async fn settle(
    state: &AppState,
    operator: &str,
    order_id: &str,
    request: ResolveRequest,
) -> Result<&'static str, Problem> {
    let (finding, done) = match request.vendor_order_id {
        Some(vendor_order_id) if request.outcome == Outcome::Placed => (
            Finding::Placed { vendor_order_id },
            "linked to the vendor order; the caller's next retry with the same orderRef reads it at the vendor",
        ),
        _ => (
            Finding::NotPlaced,
            "resolved as not placed; the caller's next retry with the same orderRef places it",
        ),
    };
    let runtime = state.runtime.load_full();
    crate::operator::resolve(
        &state.ledger,
        &runtime.checked,
        &state.registry,
        order_id,
        finding,
        operator,
        request.reason.trim(),
    )
    .await
    .map(|()| done)
    .map_err(refusal_problem)
}

fn refusal_problem(r: Refusal) -> Problem {
    let at =
        |pointer: &str, r: &Refusal| {
            Problem::new(ProblemCode::InvalidRequest, r.to_string())
                .with_errors(vec![FieldError::new(pointer, "refused", r.to_string())])
        };
    match &r {
        Refusal::NoSuchOrder(_) => Problem::new(ProblemCode::NotFound, r.to_string()),
        Refusal::NotUnknown { .. } | Refusal::UnknownConnection(_) => {
            Problem::new(ProblemCode::InvalidRequest, r.to_string())
        }
        Refusal::Lookup(LookupRefusal::NoLookup) => at("/outcome", &r),
        Refusal::Lookup(LookupRefusal::InvalidId(_)) | Refusal::HeldElsewhere { .. } => {
            at("/vendorOrderId", &r)
        }
        // The ledger's own message may name its host; the operator gets the retry advice.
        Refusal::Ledger(e) => {
            tracing::error!(error = %e, "resolve: the ledger failed");
            Problem::new(
                ProblemCode::Internal,
                "the ledger failed; nothing changed, try again",
            )
        }
    }
}
