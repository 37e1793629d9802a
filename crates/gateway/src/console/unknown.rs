//! Unknown orders: the paged list (`/orders/unknown`'s data) with a resolve form per
//! order. A resolution needs the operator key and the page's CSRF token, asks for a
//! reason, and goes through the same code as the admin endpoint and the CLI.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ledger::{Record, RecordState};
use maud::{Markup, html};
use serde::Deserialize;

use super::Console;
use super::layout::{frame, respond, status};
use crate::http::resolve::{Outcome, ResolveRequest, operator_for_key, settle};

const PAGE: u32 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    after: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    outcome: Outcome,
    #[serde(default)]
    vendor_order_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    operator_key: String,
}

pub async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    let body = list(&console, &token, q.after.as_deref()).await;
    respond(
        StatusCode::OK,
        set_cookie,
        frame("Unknown orders", "/unknown", None, body),
    )
}

pub async fn resolve(
    State(console): State<Arc<Console>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ResolveForm>,
) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    let (code, banner) = match act(&console, &headers, &order_id, form).await {
        Ok(done) => (
            StatusCode::OK,
            html! { p #outcome.banner.status-ok role="status" { (status("ok", "Resolved")) " " code { (order_id) } " by " (done.0) ": " (done.1) } },
        ),
        Err((code, why)) => (
            code,
            html! { p #outcome.banner.status-bad role="alert" { (status("bad", "Not resolved")) " " code { (order_id) } ": " (why) } },
        ),
    };
    let body = html! { (banner) (list(&console, &token, None).await) };
    respond(
        code,
        set_cookie,
        frame("Unknown orders", "/unknown", None, body),
    )
}

/// The operator who resolved it and what happens next, or why nothing changed.
async fn act(
    console: &Console,
    headers: &HeaderMap,
    order_id: &str,
    form: ResolveForm,
) -> Result<(String, &'static str), (StatusCode, String)> {
    super::csrf::check(headers, &form.csrf).map_err(|w| (StatusCode::FORBIDDEN, w.to_owned()))?;
    let operator = operator_for_key(&console.app, &form.operator_key).ok_or_else(|| {
        (
            StatusCode::UNAUTHORIZED,
            "that operator key is not in the config's operators".to_owned(),
        )
    })?;
    let vendor_order_id = Some(form.vendor_order_id.trim().to_owned())
        .filter(|v| !v.is_empty() && form.outcome == Outcome::Placed);
    let request = ResolveRequest {
        outcome: form.outcome,
        vendor_order_id,
        reason: form.reason,
    }
    .checked()
    .map_err(problem_text)?;
    let done = settle(&console.app, &operator, order_id, request)
        .await
        .map_err(problem_text)?;
    Ok((operator, done))
}

fn problem_text(p: order_model::Problem) -> (StatusCode, String) {
    let code = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut text = p.detail.unwrap_or_default();
    for e in &p.errors {
        text.push_str(&format!(" ({}: {})", e.pointer, e.message));
    }
    (code, text)
}

async fn list(console: &Console, token: &str, after: Option<&str>) -> Markup {
    let ledger = &console.app.ledger;
    let (page, counts) = tokio::join!(
        ledger.page_by_state(RecordState::Unknown, after, PAGE),
        ledger.count_by_state()
    );
    let (records, total) = match (page, counts) {
        (Ok(r), Ok(c)) => (
            r,
            c.iter()
                .find(|(s, _)| *s == RecordState::Unknown)
                .map_or(0, |(_, n)| *n),
        ),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "console: the ledger failed");
            return html! { p.banner.status-bad role="alert" { "The ledger could not be read; try again." } };
        }
    };
    let next = (records.len() == PAGE as usize)
        .then(|| records.last().map(|r| r.id.clone()))
        .flatten();
    html! {
        p #unknown-total { (total) " order(s) whose outcome is unknown: an earlier attempt may have reached the vendor. "
            "Check the vendor first, then resolve: " strong { "not placed" } " lets the caller's retry place it; "
            strong { "placed" } " links the vendor's order id, which the caller's retry reads and checks." }
        @if records.is_empty() {
            p #unknown-none { (status("ok", "None")) " on this page." }
        } @else {
            table #unknown {
                thead { tr { th { "Order" } th { "Age" } th { "Connection" } th { "Vendor" } th { "Attempts" } th { "Trace id" } th { "Resolve" } } }
                tbody { @for r in &records { (row(r, token)) } }
            }
        }
        nav aria-label="Pages" {
            @if after.is_some() { a href="/unknown" { "First page" } " " }
            @if let Some(n) = next { a #next-page href=(format!("/unknown?after={n}")) { "Next page" } }
        }
    }
}

fn row(r: &Record, token: &str) -> Markup {
    let id = &r.id;
    html! {
        tr data-order=(id) {
            td { code { (id) } }
            td { (age(&r.created_at)) }
            td { (r.connection) }
            td { (r.vendor) }
            td { (r.attempts) }
            td { code { (r.trace_id.as_deref().unwrap_or("—")) } }
            td {
                form.resolve method="post" action=(format!("/unknown/{id}/resolve")) {
                    input type="hidden" name="csrf" value=(token);
                    fieldset {
                        legend { "What the vendor holds" }
                        label { input type="radio" name="outcome" value="not-placed" checked; " not placed" }
                        label { input type="radio" name="outcome" value="placed"; " placed, vendor order id: " }
                        label { span.skip { "Vendor order id" } input type="text" name="vendor_order_id" autocomplete="off"; }
                    }
                    label { "Reason " input type="text" name="reason" required autocomplete="off"; }
                    label { "Operator key " input type="password" name="operator_key" required autocomplete="off"; }
                    button type="submit" { "Resolve " (id) }
                }
            }
        }
    }
}

/// "3 min" from an RFC 3339 UTC timestamp.
fn age(created_at: &str) -> String {
    let Ok(t) =
        time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
    else {
        return created_at.to_owned();
    };
    let secs = (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86400),
    }
}
