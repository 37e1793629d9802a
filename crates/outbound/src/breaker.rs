//! A per-connection circuit breaker: open after N consecutive failures, fail fast while
//! open, let one probe through after the open period, close on its success.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::OutboundError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    inner: Mutex<(State, u32)>,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            open_for,
            inner: Mutex::new((State::Closed, 0)),
        }
    }

    pub fn state(&self) -> State {
        self.inner.lock().map(|g| g.0).unwrap_or(State::Closed)
    }

    pub fn admit(&self) -> Result<(), OutboundError> {
        let Ok(mut g) = self.inner.lock() else {
            return Ok(());
        };
        match g.0 {
            State::Closed => Ok(()),
            State::HalfOpen => Err(OutboundError::CircuitOpen {
                retry_after: Duration::from_secs(1),
            }),
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    g.0 = State::HalfOpen;
                    Ok(())
                } else {
                    Err(OutboundError::CircuitOpen {
                        retry_after: until - now,
                    })
                }
            }
        }
    }

    pub fn success(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (State::Closed, 0);
        }
    }

    pub fn failure(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.1 += 1;
            if g.0 == State::HalfOpen || g.1 >= self.threshold {
                g.0 = State::Open {
                    until: Instant::now() + self.open_for,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_probes_after_open_period_and_closes_on_success() {
        let b = Breaker::new(3, Duration::from_secs(10));
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
        let b = Breaker::new(1, Duration::from_secs(5));
        b.failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(b.admit().is_ok());
        b.failure();
        assert!(matches!(b.state(), State::Open { .. }));
    }
}
