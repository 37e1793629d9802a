//! Logs, traces and metrics. Logs are JSON on stdout. Traces always flow through
//! OpenTelemetry (so every request has a real W3C trace id to hand back); they are
//! exported over OTLP only when the standard `OTEL_EXPORTER_OTLP_*ENDPOINT` variables
//! say where. Metrics are Prometheus text on the admin listener.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("trace exporter shutdown: {e}");
        }
    }
}

fn otlp_configured() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

pub fn init() -> Telemetry {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let mut builder = SdkTracerProvider::builder();
    if otlp_configured() {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(e) => eprintln!("OTLP exporter not started: {e}"),
        }
    }
    let provider = builder.build();
    let tracer = provider.tracer("order-gateway");
    opentelemetry::global::set_tracer_provider(provider.clone());
    // Each layer has its own filter: `RUST_LOG` decides which log lines are written, and
    // must not decide whether request and vendor-call spans exist (on the whole registry
    // at `warn` it switched tracing off: no `traceparent` to vendors, nothing exported).
    // Spans go to OpenTelemetry at info and above; the `OTEL_*` settings (sampler,
    // exporter) decide what happens to them there.
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .with_span_list(false)
                .with_filter(log_filter),
        )
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                // busy/idle timing reads the clock on every poll of every span, and
                // thread attributes say nothing about an order (issue 21's profile).
                .with_tracked_inactivity(false)
                .with_threads(false)
                .with_filter(LevelFilter::INFO),
        )
        .try_init();
    Telemetry { provider }
}

/// The process-wide Prometheus recorder (installed once; tests build many apps).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Histograms (not summaries): buckets aggregate across replicas and give
            // `histogram_quantile` in dashboards. Vendor calls run from milliseconds to
            // the 30 s default deadline.
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".to_owned()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0,
                    ],
                )
                // Writes per ledger commit (group commit, `ledger.maxBatch` 64 by default):
                // the distribution says whether batching happens under load.
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(crate::metric_names::LEDGER_BATCH_SIZE.to_owned()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0],
                    )
                })
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// How often recorded histogram samples are folded into their buckets.
pub const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Folds the recorder's queued histogram samples into their buckets every
/// `METRICS_UPKEEP`. `build_recorder` (unlike the exporter's own listener) starts no
/// upkeep, so every sample stays queued until a scrape renders: a gateway nobody scrapes
/// grew by each order's samples (metrics-rs/metrics#467). Scrapes still drain as before.
pub fn spawn_metrics_upkeep(handle: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    })
}
