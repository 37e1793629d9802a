//! A per-connection circuit breaker: open after N consecutive failures, fail fast while
//! open, let one probe through after the open period, close on its success.
//!
//! A probe whose caller goes away before it reports (the inbound request was dropped, or
//! the call stopped at the token endpoint or the rate limiter) must not hold the circuit
//! half-open for ever: after another open period without a report, the next call becomes
//! the probe.
//!
//! The state is published as the gauge `vendor_circuit_state{connection,vendor}`:
//! 0 closed, 1 half-open, 2 open.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::OutboundError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// One probe is out; another is let through at `probe_until` if it never reports.
    HalfOpen {
        probe_until: Instant,
    },
}

impl State {
    fn gauge_value(self) -> f64 {
        match self {
            State::Closed => 0.0,
            State::HalfOpen { .. } => 1.0,
            State::Open { .. } => 2.0,
        }
    }
}

pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    inner: Mutex<(State, u32)>,
    gauge: metrics::Gauge,
}

impl Breaker {
    pub fn new(connection: &str, vendor: &str, threshold: u32, open_for: Duration) -> Self {
        let gauge = metrics::gauge!(crate::metric_names::VENDOR_CIRCUIT_STATE, "connection" => connection.to_owned(), "vendor" => vendor.to_owned());
        gauge.set(State::Closed.gauge_value());
        Breaker {
            threshold: threshold.max(1),
            open_for,
            inner: Mutex::new((State::Closed, 0)),
            gauge,
        }
    }

    fn set(&self, g: &mut (State, u32), state: State) {
        g.0 = state;
        self.gauge.set(state.gauge_value());
    }

    pub fn state(&self) -> State {
        self.inner.lock().map(|g| g.0).unwrap_or(State::Closed)
    }

    pub fn admit(&self) -> Result<(), OutboundError> {
        let Ok(mut g) = self.inner.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        match g.0 {
            State::Closed => Ok(()),
            State::HalfOpen { probe_until } | State::Open { until: probe_until }
                if now >= probe_until =>
            {
                let probe_until = now + self.open_for;
                self.set(&mut g, State::HalfOpen { probe_until });
                Ok(())
            }
            State::HalfOpen { .. } => Err(OutboundError::CircuitOpen {
                retry_after: Duration::from_secs(1),
            }),
            State::Open { until } => Err(OutboundError::CircuitOpen {
                retry_after: until - now,
            }),
        }
    }

    pub fn success(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.1 = 0;
            if g.0 != State::Closed {
                self.set(&mut g, State::Closed);
            }
        }
    }

    pub fn failure(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.1 += 1;
            if matches!(g.0, State::HalfOpen { .. }) || g.1 >= self.threshold {
                let until = Instant::now() + self.open_for;
                self.set(&mut g, State::Open { until });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_probes_after_open_period_and_closes_on_success() {
        let b = Breaker::new("c", "v", 3, Duration::from_secs(10));
        for _ in 0..2 {
            b.failure();
        }
        assert!(b.admit().is_ok());
        b.failure();
        assert!(matches!(b.admit(), Err(OutboundError::CircuitOpen { .. })));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(b.admit().is_ok(), "one probe after the open period");
        assert!(b.admit().is_err(), "only one probe at a time");
        b.success();
        assert_eq!(b.state(), State::Closed);
        assert!(b.admit().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens() {
        let b = Breaker::new("c", "v", 1, Duration::from_secs(5));
        b.failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(b.admit().is_ok());
        b.failure();
        assert!(matches!(b.state(), State::Open { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_never_reports_does_not_hold_the_circuit_half_open() {
        let b = Breaker::new("c", "v", 1, Duration::from_secs(5));
        b.failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(b.admit().is_ok(), "the probe");
        // ... whose caller goes away without a report.
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(b.admit().is_err(), "still waiting for the probe");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(b.admit().is_ok(), "a new probe");
        b.success();
        assert_eq!(b.state(), State::Closed);
    }
}
