//! Overview: the active config, the last reload, each connection's state, and orders
//! and vendor answers over the recent minutes. Everything comes from the same places
//! as `/config` and `/metrics`. The page refreshes itself every 10 s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::Console;
use super::layout::{frame, respond, status};
use super::metrics_text::{Series, parse};
use crate::state::AppState;

/// How far back "recent" reaches.
const WINDOW: Duration = Duration::from_secs(300);
/// Samples closer together than this are not kept (a refresh storm cannot grow the list).
const MIN_SPACING: Duration = Duration::from_secs(10);
const REFRESH_SECS: u32 = 10;

/// The counters at one moment.
pub struct Sample {
    at: Instant,
    at_utc: time::OffsetDateTime,
    series: Vec<Series>,
}

impl Sample {
    pub fn take(app: &AppState) -> Sample {
        Sample {
            at: Instant::now(),
            at_utc: time::OffsetDateTime::now_utc(),
            series: parse(&app.metrics.render()),
        }
    }
}

/// The newest sample at least `WINDOW` old (or the oldest kept), as the baseline for
/// "recent", after keeping `now`.
fn baseline(
    console: &Console,
    now: Sample,
) -> (Vec<Series>, Option<(Vec<Series>, time::OffsetDateTime)>) {
    let Ok(mut samples) = console.samples.lock() else {
        return (now.series, None);
    };
    let current = now.series.clone();
    if samples
        .back()
        .is_none_or(|s| now.at.duration_since(s.at) >= MIN_SPACING)
    {
        samples.push_back(now);
    }
    let cutoff = Instant::now().checked_sub(WINDOW);
    while samples.len() > 1 && cutoff.is_some_and(|c| samples[1].at <= c) {
        samples.pop_front();
    }
    let base = samples.front().map(|s| (s.series.clone(), s.at_utc));
    (current, base)
}

/// Current minus baseline for each series named `name` (a series new since the
/// baseline counts from 0).
fn deltas<'a>(now: &'a [Series], base: &[Series], name: &str) -> Vec<(&'a Series, f64)> {
    let before: BTreeMap<String, f64> = base
        .iter()
        .filter(|s| s.name == name)
        .map(|s| (s.key(), s.value))
        .collect();
    now.iter()
        .filter(|s| s.name == name)
        .map(|s| (s, s.value - before.get(&s.key()).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d > 0.0)
        .collect()
}

/// A count as text: whole numbers, and never "-0" (an empty f64 sum is -0.0).
fn n(v: f64) -> String {
    format!("{}", v + 0.0)
}

fn value(now: &[Series], name: &str, label: (&str, &str)) -> String {
    n(now
        .iter()
        .filter(|s| s.name == name && s.label(label.0) == label.1)
        .map(|s| s.value)
        .sum())
}

pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let app = &console.app;
    let (now, base) = baseline(&console, Sample::take(app));
    let (base_series, since) = match base {
        Some((s, at)) => (s, Some(at)),
        None => (Vec::new(), None),
    };
    let (_, set_cookie) = super::csrf::token(&headers);
    let body = html! {
        (config_section(app, &now))
        (connections_section(app, &now, &base_series).await)
        (orders_section(&now, &base_series, since))
    };
    let refresh = html! { meta http-equiv="refresh" content=(REFRESH_SECS); };
    respond(
        StatusCode::OK,
        set_cookie,
        frame("Overview", "/", Some(refresh), body),
    )
}

fn config_section(app: &AppState, now: &[Series]) -> Markup {
    let rt = app.runtime.load();
    let last_error = app
        .last_reload_error
        .lock()
        .map(|e| e.clone())
        .unwrap_or(None);
    let applied = value(
        now,
        crate::metric_names::CONFIG_RELOAD_TOTAL,
        ("result", "applied"),
    );
    let refused = value(
        now,
        crate::metric_names::CONFIG_RELOAD_TOTAL,
        ("result", "refused"),
    );
    html! {
        h2 { "Active config" }
        table #config {
            tr { th scope="row" { "Version" } td { code #config-version { (rt.checked.version()) } } }
            tr { th scope="row" { "SHA-256" } td { code { (rt.checked.hash) } } }
            tr { th scope="row" { "File" } td { code { (rt.checked.path.display()) } } }
            tr { th scope="row" { "Routes" } td { (rt.checked.routes.len()) } }
            tr { th scope="row" { "Reloads since start" } td { (applied) " applied, " (refused) " refused" } }
            tr {
                th scope="row" { "Last reload" }
                td #last-reload {
                    @match &last_error {
                        Some(e) => { (status("bad", "refused")) ": the running config keeps serving. " pre { (e) } }
                        None => { (status("ok", "no refused reload")) " since the active config was applied" }
                    }
                }
            }
        }
        p.muted { "Refreshes every " (REFRESH_SECS) " s. The same data: " a href="/config" { "/config" } ", " a href="/metrics" { "/metrics" } "." }
    }
}

async fn connections_section(app: &AppState, now: &[Series], base: &[Series]) -> Markup {
    let rt = app.runtime.load_full();
    let calls = deltas(now, base, crate::metric_names::VENDOR_CALLS_TOTAL);
    let waits = deltas(
        now,
        base,
        crate::metric_names::VENDOR_RATE_LIMIT_WAITS_TOTAL,
    );
    let rejections = deltas(
        now,
        base,
        crate::metric_names::VENDOR_RATE_LIMIT_REJECTIONS_TOTAL,
    );
    let count = |d: &[(&Series, f64)], conn: &str| -> String {
        n(d.iter()
            .filter(|(s, _)| s.label("connection") == conn)
            .map(|(_, v)| v)
            .sum())
    };
    let mut rows = Vec::new();
    for c in &rt.checked.config.connections {
        let circuit = now
            .iter()
            .find(|s| s.name == "vendor_circuit_state" && s.label("connection") == c.name)
            .map(|s| s.value);
        let token = match rt.connections.get(&c.name) {
            Some(client) => client.token_freshness().await,
            None => None,
        };
        let limits = rt
            .connections
            .get(&c.name)
            .map(|cl| cl.settings().limits.clone());
        let statuses: Vec<String> = calls
            .iter()
            .filter(|(s, _)| s.label("connection") == c.name)
            .map(|(s, k)| format!("{} {} ×{}", s.label("status"), s.label("outcome"), n(*k)))
            .collect();
        rows.push(html! {
            tr data-connection=(c.name) {
                th scope="row" { (c.name) }
                td { (c.vendor) }
                td.circuit { (circuit_text(circuit)) }
                td { (value(now, "vendor_in_flight", ("connection", c.name.as_str()))) @if let Some(l) = &limits { " of " (l.max_in_flight) } }
                td {
                    @if let Some(l) = &limits { (l.rate_per_sec) "/s, burst " (l.burst) "; " }
                    (count(&waits, &c.name)) " waited, " (count(&rejections, &c.name)) " refused"
                }
                td { (token_text(token)) }
                td { @if statuses.is_empty() { span.muted { "none" } } @else { (statuses.join(", ")) } }
            }
        });
    }
    html! {
        h2 { "Connections" }
        table #connections {
            thead { tr { th { "Connection" } th { "Vendor" } th { "Circuit" } th { "In flight" } th { "Rate budget (recent)" } th { "OAuth token" } th { "Vendor answers (recent)" } } }
            tbody { @for r in &rows { (r) } }
        }
    }
}

/// `vendor_circuit_state`: 0 closed, 1 half-open, 2 open (outbound's breaker).
fn circuit_text(v: Option<f64>) -> Markup {
    match v.map(|x| x.round() as i64) {
        Some(0) => status("ok", "closed"),
        Some(1) => status("warn", "half-open (probing)"),
        Some(2) => status("bad", "open: calls refused"),
        Some(other) => html! { span.muted { "state " (other) } },
        None => html! { span.muted { "no calls yet" } },
    }
}

fn token_text(t: Option<Option<Duration>>) -> Markup {
    match t {
        None => html! { span.muted { "not OAuth" } },
        Some(None) => html! { span.muted { "none cached (fetched on the next call)" } },
        Some(Some(d)) if d.is_zero() => status("warn", "expired (refetched on the next call)"),
        Some(Some(d)) => status("ok", &format!("fresh, usable for {} s", d.as_secs())),
    }
}

fn orders_section(now: &[Series], base: &[Series], since: Option<time::OffsetDateTime>) -> Markup {
    let orders = deltas(now, base, crate::metric_names::ORDERS_TOTAL);
    let ago = since.map(|t| (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0));
    let since = since
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "start".to_owned());
    html! {
        h2 { "Orders per outcome (recent)" }
        // The baseline is the last sample before the window, so it can be older than the
        // window when nobody had the page open: the text says the span actually counted.
        p.muted #window {
            "Counted since " (since) @if let Some(s) = ago { " (" (s) " s ago)" } ". "
            "While this page stays open the span moves to the last " (WINDOW.as_secs() / 60) " minutes."
        }
        @if orders.is_empty() {
            p #orders-none { "No orders recorded in this window." }
        } @else {
            table #orders {
                thead { tr { th { "Connection" } th { "Outcome" } th { "Orders" } } }
                tbody {
                    @for (s, k) in &orders {
                        tr { td { (s.label("connection")) } td { (s.label("outcome")) } td { (n(*k)) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, conn: &str, value: f64) -> Series {
        Series {
            name: name.into(),
            labels: [("connection".to_owned(), conn.to_owned())].into(),
            value,
        }
    }

    #[test]
    fn recent_counts_are_the_growth_since_the_baseline() {
        let base = vec![
            series("orders_total", "a", 3.0),
            series("orders_total", "b", 5.0),
        ];
        let now = vec![
            series("orders_total", "a", 7.0),
            series("orders_total", "b", 5.0),
            series("orders_total", "c", 2.0),
            series("other_total", "a", 9.0),
        ];
        let got: Vec<(String, f64)> = deltas(&now, &base, "orders_total")
            .into_iter()
            .map(|(s, d)| (s.label("connection").to_owned(), d))
            .collect();
        // b did not grow; c is new since the baseline and counts from 0.
        assert_eq!(got, vec![("a".to_owned(), 4.0), ("c".to_owned(), 2.0)]);
        assert_eq!(n(-0.0), "0");
        assert_eq!(n(Vec::<f64>::new().into_iter().sum()), "0");
    }
}
