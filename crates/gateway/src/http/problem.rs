//! Problems as HTTP responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use order_model::{PROBLEM_CONTENT_TYPE, Problem, ProblemCode};

/// A problem on its way out. The trace id is filled in by the trace middleware, which
/// knows it, so handlers never have to.
pub struct ApiProblem(pub Problem);

impl From<Problem> for ApiProblem {
    fn from(p: Problem) -> Self {
        ApiProblem(p)
    }
}

impl ApiProblem {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiProblem(Problem::new(code, detail))
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        problem_response(self.0)
    }
}

pub fn problem_response(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = p.retry_after;
    let body = serde_json::to_vec(&p).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp.extensions_mut().insert(ProblemMarker);
    resp
}

/// Marks a response as a problem so the trace middleware can add the trace id to it.
#[derive(Clone, Copy)]
pub struct ProblemMarker;
