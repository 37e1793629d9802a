//! Webhook deliveries: the endpoints disabled by a 410 Gone (admin `/webhooks/disabled`:
//! client, since when, held deliveries) and the failed deliveries (the admin
//! `/webhooks/failed` data: ids, attempts, the last error; never the payload) with a
//! redeliver form per event and one for all (which also enables every disabled endpoint).
//! Redelivery needs the operator key and the page's CSRF token, and goes through the
//! same ledger call as `POST /webhooks/redeliver` and the CLI.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::Console;
use super::layout::{frame, respond, status};
use crate::http::resolve::operator_for_key;

const SHOWN: u32 = 100;

#[derive(Debug, Deserialize)]
pub struct RedeliverForm {
    #[serde(default)]
    csrf: String,
    /// One event, or empty for every failed one.
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    operator_key: String,
}

pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    let body = list(&console, &token).await;
    respond(
        StatusCode::OK,
        set_cookie,
        frame("Webhook deliveries", "/webhooks", None, body),
    )
}

pub async fn redeliver(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<RedeliverForm>,
) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    let (code, banner) = match act(&console, &headers, form).await {
        Ok((operator, n)) => (
            StatusCode::OK,
            html! { p #outcome.banner.status-ok role="status" { (status("ok", "Redelivering")) " " (n) " delivery(ies), by " (operator) "." } },
        ),
        Err((code, why)) => (
            code,
            html! { p #outcome.banner.status-bad role="alert" { (status("bad", "Not redelivered")) ": " (why) } },
        ),
    };
    let body = html! { (banner) (list(&console, &token).await) };
    respond(
        code,
        set_cookie,
        frame("Webhook deliveries", "/webhooks", None, body),
    )
}

async fn act(
    console: &Console,
    headers: &HeaderMap,
    form: RedeliverForm,
) -> Result<(String, u64), (StatusCode, String)> {
    super::csrf::check(headers, &form.csrf).map_err(|w| (StatusCode::FORBIDDEN, w.to_owned()))?;
    let operator = operator_for_key(&console.app, &form.operator_key).ok_or_else(|| {
        (
            StatusCode::UNAUTHORIZED,
            "that operator key is not in the config's operators".to_owned(),
        )
    })?;
    let ids: Vec<String> = Some(form.event_id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .into_iter()
        .collect();
    let n = console
        .app
        .ledger
        .redeliver_webhooks(ids)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console: redelivery failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger could not be written; try again".to_owned(),
            )
        })?;
    tracing::info!(%operator, redelivered = n, "failed webhook deliveries put back to pending (console)");
    Ok((operator, n))
}

async fn list(console: &Console, token: &str) -> Markup {
    let ledger = &console.app.ledger;
    let (failed, disabled) = match (
        ledger.failed_webhooks(SHOWN).await,
        ledger.disabled_webhook_endpoints().await,
    ) {
        (Ok(f), Ok(d)) => (f, d),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "console: the ledger failed");
            return html! { p.banner.status-bad role="alert" { "The ledger could not be read; try again." } };
        }
    };
    html! {
        @if !disabled.is_empty() {
            h2 { "Disabled endpoints" }
            p { "Their receiver answered 410 Gone: every delivery of the client is held (not lost) until an operator redelivers (below) or the client's webhook URL changes in the config." }
            table #webhooks-disabled {
                thead { tr { th { "Client" } th { "Disabled at" } th { "Held" } th { "Why" } } }
                tbody {
                    @for d in &disabled {
                        tr data-client=(d.client) {
                            td { (d.client) }
                            td { (d.disabled_at) }
                            td { (d.held) }
                            td { (d.reason) }
                        }
                    }
                }
            }
        }
        p #webhooks-total { (failed.len()) " failed delivery(ies) (oldest first, at most " (SHOWN) "): each was retried for the delivery window (" code { "webhooks.windowSecs" } ", 24 h by default). "
            "Fix the receiver, then redeliver: the event goes out again with the same " code { "webhook-id" } "." }
        @if failed.is_empty() {
            p #webhooks-none { (status("ok", "None")) " failed." }
        } @else {
            table #webhooks {
                thead { tr { th { "Event" } th { "Order" } th { "Client" } th { "Attempts" } th { "Last error" } th { "Redeliver" } } }
                tbody {
                    @for d in &failed {
                        tr data-event=(d.event_id) {
                            td { code { (d.event_id) } }
                            td { code { (d.order_id) } }
                            td { (d.client) }
                            td { (d.attempts) }
                            td { (d.last_error.as_deref().unwrap_or("—")) }
                            td { (form(token, &d.event_id)) }
                        }
                    }
                }
            }
        }
        @if !failed.is_empty() || !disabled.is_empty() {
            h2 { "All of them" }
            (form(token, ""))
        }
    }
}

fn form(token: &str, event_id: &str) -> Markup {
    let label = if event_id.is_empty() {
        "Redeliver every failed delivery and enable every disabled endpoint".to_owned()
    } else {
        format!("Redeliver {event_id}")
    };
    html! {
        form.redeliver method="post" action="/webhooks/redeliver-form" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="event_id" value=(event_id);
            label { "Operator key " input type="password" name="operator_key" required autocomplete="off"; }
            button type="submit" { (label) }
        }
    }
}
