//! Trace ids: every request gets one (from its W3C `traceparent` when valid, else new),
//! every response carries it in `traceparent`-compatible form in `x-trace-id`, and every
//! problem body carries it in `traceId`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use opentelemetry::trace::TraceContextExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::problem::ProblemMarker;

#[derive(Clone, Debug)]
pub struct TraceId(pub String);

struct HeaderExtractor<'a>(&'a axum::http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub async fn trace_layer(mut req: Request, next: Next) -> Response {
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(req.headers()))
    });
    let route = req.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        otel.name = %format!("{} {}", req.method(), route_template(&route)),
        http.request.method = %req.method(),
        url.path = %route,
        http.response.status_code = tracing::field::Empty,
        order_gateway.client = tracing::field::Empty,
        order_gateway.connection = tracing::field::Empty,
    );
    // Setting the parent can only fail when no OpenTelemetry layer is installed.
    let _ = span.set_parent(parent);
    let mut trace_id = span.context().span().span_context().trace_id().to_string();
    if trace_id == opentelemetry::trace::TraceId::INVALID.to_string() {
        trace_id = uuid::Uuid::new_v4().simple().to_string();
    }
    req.extensions_mut().insert(TraceId(trace_id.clone()));
    let resp = next.run(req).instrument(span.clone()).await;
    span.record("http.response.status_code", resp.status().as_u16());
    finish(resp, &trace_id).await
}

async fn finish(mut resp: Response, trace_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        resp.headers_mut().insert("x-trace-id", v);
    }
    if resp.extensions().get::<ProblemMarker>().is_none() {
        return resp;
    }
    // Problem bodies are small and built by us; add the trace id to them.
    let (parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert(
                "traceId".into(),
                serde_json::Value::String(trace_id.to_owned()),
            );
            serde_json::to_vec(&m).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut parts = parts;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Keeps span names low-cardinality: ids in paths become `{id}`.
fn route_template(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/v1/orders/")
        && rest != "preview"
        && !rest.is_empty()
    {
        return match rest.split_once('/') {
            Some((_, "events")) => "/v1/orders/{id}/events".to_owned(),
            _ => "/v1/orders/{id}".to_owned(),
        };
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::route_template;

    #[test]
    fn order_ids_never_reach_span_names() {
        for (path, want) in [
            ("/v1/orders/ord_123", "/v1/orders/{id}"),
            ("/v1/orders/ord_123/events", "/v1/orders/{id}/events"),
            ("/v1/orders/ord_123/other", "/v1/orders/{id}"),
            ("/v1/orders/preview", "/v1/orders/preview"),
            ("/v1/orders", "/v1/orders"),
        ] {
            assert_eq!(route_template(path), want, "{path}");
        }
    }
}
