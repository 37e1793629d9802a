//! Route playground: an example or pasted order -> validation errors at their pointers,
//! the route and why, and the exact vendor request with secrets masked (the preview
//! code path); with a candidate config, its checks, its tests and every order's route
//! old vs new ([`super::candidate`]). Nothing is sent to a vendor.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use order_model::Problem;
use serde::Deserialize;
use serde_json::Value;

use super::Console;
use super::candidate::{self, Report};
use super::layout::{frame, respond, status};
use crate::config::Severity;
use crate::http::preview::Preview;

macro_rules! example {
    ($path:literal) => {
        (
            $path,
            include_str!(concat!("../../../../examples/orders/", $path)),
        )
    };
}

/// The repository's example orders, compiled in so the playground works anywhere.
pub const EXAMPLES: &[(&str, &str)] = &[
    example!("adobe-vipmp/page-sample-new.json"),
    example!("adobe-vipmp/preview-quote.json"),
    example!("adobe-vipmp/renewal-flex-discount.json"),
    example!("adobe-vipmp/return-licences.json"),
    example!("axim/new-addresses-discounts-eur.json"),
    example!("axim/page-sample.json"),
    example!("axim/returned-line-refund.json"),
    example!("impilo/existing-patient-two-way.json"),
    example!("impilo/loaner-kit-to-patient.json"),
    example!("impilo/new-patient-starter-kit.json"),
    example!("impilo/returns-only-emailed-label.json"),
    example!("impilo/site-restock.json"),
    example!("juniper/overnight-external-product.json"),
    example!("juniper/page-sample-one-time.json"),
    example!("juniper/subscription-express-90-day.json"),
];

#[derive(Debug, Default, Deserialize)]
pub struct Input {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    example: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    candidate: String,
}

pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    let body = form(&console, &token, &Input::default());
    respond(
        StatusCode::OK,
        set_cookie,
        frame("Route playground", "/playground", None, body),
    )
}

pub async fn run(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(input): Form<Input>,
) -> Response {
    let (token, set_cookie) = super::csrf::token(&headers);
    if let Err(why) = super::csrf::check(&headers, &input.csrf) {
        let body =
            html! { p.banner.status-bad role="alert" { (why) } (form(&console, &token, &input)) };
        return respond(
            StatusCode::FORBIDDEN,
            set_cookie,
            frame("Route playground", "/playground", None, body),
        );
    }
    let console2 = console.clone();
    let results = tokio::task::spawn_blocking(move || {
        let out = results(&console2, &input);
        (out, input)
    })
    .await;
    let body = match results {
        Ok((out, input)) => html! { (form(&console, &token, &input)) (out) },
        Err(e) => {
            tracing::error!(error = %e, "playground task failed");
            html! { p.banner.status-bad role="alert" { "The playground failed; nothing was changed." } }
        }
    };
    respond(
        StatusCode::OK,
        set_cookie,
        frame("Route playground", "/playground", None, body),
    )
}

/// The active config's client ids: the playground routes as one of them.
fn client_ids(console: &Console) -> Vec<String> {
    let rt = console.app.runtime.load();
    rt.checked
        .config
        .clients
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

fn form(console: &Console, token: &str, input: &Input) -> Markup {
    let clients = client_ids(console);
    html! {
        p { "Try an order against the active config, and a candidate config against the active one. "
            strong { "Nothing is sent to a vendor." } }
        form #playground method="post" action="/playground" {
            input type="hidden" name="csrf" value=(token);
            div.grid {
                div {
                    label for="example" { "Example order" }
                    select #example name="example" {
                        option value="" { "(none: use the pasted order)" }
                        @for (name, _) in EXAMPLES {
                            option value=(name) selected[input.example == *name] { (name) }
                        }
                    }
                    label for="order" { "Order (JSON; when given, used instead of the example)" }
                    textarea #order name="order" spellcheck="false" { (input.order) }
                    label for="client" { "As client" }
                    select #client name="client" {
                        @for c in &clients { option value=(c) selected[input.client == *c] { (c) } }
                    }
                }
                div {
                    label for="candidate" { "Candidate config (YAML; optional)" }
                    textarea #candidate name="candidate" spellcheck="false" { (input.candidate) }
                    p.muted { "Relative paths in it resolve beside the active config." }
                }
            }
            button type="submit" { "Run" }
        }
    }
}

/// The chosen orders: the pasted text when given (one order, or a JSON list of
/// orders), else the example.
fn chosen_orders(input: &Input) -> Option<Result<Vec<(String, Value)>, String>> {
    if !input.order.trim().is_empty() {
        return Some(match serde_json::from_str(&input.order) {
            Ok(Value::Array(orders)) => Ok(orders
                .into_iter()
                .enumerate()
                .map(|(i, o)| (format!("pasted order {}", i + 1), o))
                .collect()),
            Ok(order) => Ok(vec![("pasted order".to_owned(), order)]),
            Err(e) => Err(format!("the pasted order is not JSON: {e}")),
        });
    }
    let (name, text) = EXAMPLES.iter().find(|(n, _)| *n == input.example)?;
    Some(
        serde_json::from_str(text)
            .map(|v| vec![((*name).to_owned(), v)])
            .map_err(|e| e.to_string()),
    )
}

fn client_of(console: &Console, input: &Input) -> String {
    let ids = client_ids(console);
    if ids.contains(&input.client) {
        input.client.clone()
    } else {
        ids.into_iter()
            .next()
            .unwrap_or_else(|| "playground".to_owned())
    }
}

fn results(console: &Console, input: &Input) -> Markup {
    let app = &console.app;
    let client = client_of(console, input);
    let chosen = chosen_orders(input);
    let order_section = match &chosen {
        None => html! {},
        Some(Err(e)) => {
            html! { section #order-result { h2 { "Order" } p.banner.status-bad role="alert" { (e) } } }
        }
        Some(Ok(orders)) => {
            let rt = app.runtime.load();
            html! { @for (label, doc) in orders {
                section.order-result {
                    h2 { "Order: " (label) }
                    (preview_result(doc, &crate::dry_run::preview(&rt, &app.schemas, doc, None, &client)))
                }
            } }
        }
    };
    if input.candidate.trim().is_empty() {
        return order_section;
    }
    // Every example, and the pasted orders: the shapes whose route a change could move.
    let mut orders: Vec<(String, Value)> = EXAMPLES
        .iter()
        .filter_map(|(n, t)| serde_json::from_str(t).ok().map(|v| ((*n).to_owned(), v)))
        .collect();
    if let Some(Ok(pasted)) = chosen
        && !input.order.trim().is_empty()
    {
        orders.extend(pasted);
    }
    let report = candidate::check(app, &input.candidate, &orders, &client);
    html! { (order_section) (candidate_report(&report)) }
}

fn preview_result(doc: &Value, outcome: &Result<Preview, Problem>) -> Markup {
    match outcome {
        Ok(p) => html! {
            p #verdict { (status("ok", "valid")) ": route " strong #route { (p.route) } " → connection " strong #connection { (p.connection) } " (" (p.vendor) ")" }
            h3 { "Why this route" }
            pre #explain { (pretty(&p.explain)) }
            h3 { "Vendor request (secrets masked; not sent)" }
            p #request-line { code { (p.request.method) " " (p.request.url) } }
            table #request-headers {
                thead { tr { th { "Header" } th { "Value" } } }
                tbody { @for (k, v) in &p.request.headers { tr { td { code { (k) } } td { code { (v.as_str().unwrap_or_default()) } } } } }
            }
            p.muted { "The body exactly as it would be sent:" }
            pre #request-body { (p.request.body.as_ref().map_or("(no body)", |b| b.get())) }
        },
        Err(problem) => html! {
            p #verdict { (status("bad", "refused")) ": " code #problem-code { (problem.code) } " — " (problem.detail.clone().unwrap_or_default()) }
            @if !problem.errors.is_empty() {
                table #errors {
                    thead { tr { th { "Pointer" } th { "Problem" } th { "Value there" } } }
                    tbody {
                        @for e in &problem.errors {
                            tr.error-row { td { code.pointer { (e.pointer) } } td { (e.message) } td { code { (doc.pointer(&e.pointer).map(pretty).unwrap_or_else(|| "(missing)".to_owned())) } } }
                        }
                    }
                }
            }
            @if !problem.errors.is_empty() {
                h3 { "The order, errors marked in place" }
                (super::order_tree::render(doc, &problem.errors))
            }
            @if let Some(ctx) = &problem.context { h3 { "Why" } pre #explain { (pretty(ctx)) } }
        },
    }
}

fn candidate_report(r: &Report) -> Markup {
    let errors = r
        .issues
        .iter()
        .filter(|(s, _)| *s == Severity::Error)
        .count();
    html! {
        section #candidate-result {
            h2 { "Candidate config" }
            @match &r.version {
                Some(v) => p #candidate-verdict { (status("ok", "valid")) " (version " code { (v) } ")" },
                None => p #candidate-verdict { (status("bad", &format!("invalid: {errors} error(s)"))) },
            }
            @if !r.issues.is_empty() {
                ul #candidate-issues { @for (sev, text) in &r.issues {
                    li { (match sev { Severity::Error => status("bad", "error"), Severity::Warning => status("warn", "warning") }) " " code { (text) } }
                } }
            }
            @if r.version.is_some() {
                h3 { "Its tests" }
                @if r.tests.is_empty() { p.muted { "The candidate has no tests." } }
                ul #candidate-tests { @for (name, v) in &r.tests {
                    li { @match v { Ok(()) => { (status("ok", "pass")) " " (name) }, Err(why) => { (status("bad", "FAIL")) " " (name) ": " (why) } } }
                } }
                h3 { "Routes: active vs candidate" }
                table #route-diff {
                    thead { tr { th { "Order" } th { "Active config" } th { "Candidate" } th { "Change" } } }
                    tbody { @for (label, old, new) in &r.routes {
                        tr { td { (label) } td { (old) } td { (new) } td { @if old == new { span.muted { "same" } } @else { (status("warn", "changed")) } } }
                    } }
                }
            }
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
