//! Contract drift, counted and logged in one place. Connectors stay pure: their
//! `interpret_checked` returns drift findings beside the result; this module counts them
//! (`vendor_answer_drift_total{connection,kind}`, one per drifted field) and logs their
//! field paths (never values) at warn, at most once a minute per connection and kind,
//! so a vendor that changed its answers does not flood the logs.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use connector::{Drift, DriftKind, PreparedRoute, VendorFailure, VendorResponse};
use order_model::{CanonicalOrder, VendorOrder};

/// How often one (connection, kind) may be logged.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// Which vendor call the answer is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Create,
    Lookup,
}

/// Interprets a vendor answer and records how it drifted from the contract.
pub fn interpret(
    connection: &str,
    route: &dyn PreparedRoute,
    answer: Answer,
    order: &CanonicalOrder,
    response: &VendorResponse,
) -> Result<VendorOrder, VendorFailure> {
    let out = match answer {
        Answer::Create => route.interpret_checked(order, response),
        Answer::Lookup => route.interpret_lookup_checked(order, response),
    };
    record(connection, &out.drift, &LOG_GATE, Instant::now());
    out.result
}

/// When each (connection, kind) was last logged.
#[derive(Default)]
pub struct LogGate {
    last: Mutex<HashMap<(String, DriftKind), Instant>>,
}

static LOG_GATE: LazyLock<LogGate> = LazyLock::new(LogGate::default);

impl LogGate {
    /// Whether to log now, and if so remember it.
    pub fn admit(&self, connection: &str, kind: DriftKind, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let key = (connection.to_owned(), kind);
        match last.get(&key) {
            Some(t) if now.saturating_duration_since(*t) < LOG_EVERY => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

/// Counts every finding and logs each kind's paths when the gate admits it.
pub fn record(connection: &str, drift: &[Drift], gate: &LogGate, now: Instant) {
    let mut by_kind: HashMap<DriftKind, Vec<&str>> = HashMap::new();
    for d in drift {
        by_kind.entry(d.kind).or_default().push(d.path.as_str());
    }
    for (kind, paths) in by_kind {
        metrics::counter!(crate::metric_names::VENDOR_ANSWER_DRIFT_TOTAL,
            "connection" => connection.to_owned(),
            "kind" => kind.as_str()
        )
        .increment(paths.len() as u64);
        if gate.admit(connection, kind, now) {
            tracing::warn!(
                connection,
                kind = kind.as_str(),
                paths = ?paths,
                "vendor answer differs from the contract the connector expects"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn logs_once_per_kind_and_minute() {
        let gate = LogGate::default();
        let t0 = Instant::now();
        assert!(gate.admit("c", DriftKind::UnknownField, t0));
        assert!(!gate.admit("c", DriftKind::UnknownField, t0 + Duration::from_secs(59)));
        assert!(gate.admit("c", DriftKind::MissingField, t0));
        assert!(gate.admit("other", DriftKind::UnknownField, t0));
        assert!(gate.admit("c", DriftKind::UnknownField, t0 + LOG_EVERY));
    }

    #[test]
    fn counts_every_finding_by_connection_and_kind() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let drift = vec![
            Drift::new(DriftKind::UnknownField, "a"),
            Drift::new(DriftKind::UnknownField, "b"),
            Drift::new(DriftKind::MissingField, "id"),
        ];
        metrics::with_local_recorder(&recorder, || {
            record(
                "impilo-sandbox",
                &drift,
                &LogGate::default(),
                Instant::now(),
            );
        });
        let text = handle.render();
        assert!(
            text.contains(
                r#"vendor_answer_drift_total{connection="impilo-sandbox",kind="unknown_field"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"vendor_answer_drift_total{connection="impilo-sandbox",kind="missing_field"} 1"#
            ),
            "{text}"
        );
    }
}
