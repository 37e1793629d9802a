//! What to do after each attempt of one vendor call, as a pure function: the call's state
//! so far and what the last attempt did go in, the next step comes out. The I/O loop in
//! `client.rs` only carries the steps out (sleep, refresh, resend, return), so every rule
//! here is tested without sockets or clocks.
//!
//! The rules, in the order they apply to one attempt:
//!
//! 1. A 401 on a refreshable (OAuth) connection: drop that token, fetch one, resend, once.
//!    It does not count as an attempt: the vendor refused the call unprocessed.
//! 2. A 429 pauses the whole connection for its `Retry-After` (1 s without one).
//! 3. The breaker counts 5xx, timeouts, broken and refused connections as failures and
//!    any other answer as a success; a 401 being refreshed counts as neither.
//! 4. 429 or 503 with `Retry-After` means the vendor did not process the call: resend
//!    after that wait when attempts and the deadline allow.
//! 5. Any other 5xx, a timeout or a broken connection may have reached the vendor: resend
//!    (after backoff) only when the request is safe to resend (`IdempotentByKey`, `Read`).
//! 6. A refused connection (nothing sent) is resent after backoff while attempts remain.
//! 7. Once an attempt went unanswered after it may have reached the vendor (timeout,
//!    broken connection), the call can no longer end as "not sent": a later failure ends
//!    it as [`Failure::MaybeSent`], and a later answer is returned with
//!    `earlier_attempt_may_have_landed` so that a "not processed" answer (a 429 on the
//!    resend) is not taken for the fate of the first attempt. Answers resent over (a
//!    5xx) are kept by the I/O loop and handed back with the final answer, for the
//!    connector to read.

use std::time::Duration;

use connector::RetrySafety;

/// The fixed inputs of one call.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_attempts: u32,
    pub retry: RetrySafety,
    /// The connection's auth can be refreshed (an OAuth token).
    pub refreshable_auth: bool,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

/// What is known about the call so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallState {
    /// Attempts that counted (a 401 refresh does not).
    pub attempts: u32,
    pub refreshed: bool,
    /// Some attempt may have reached the vendor.
    pub maybe_sent: bool,
}

/// What one attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Answered {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Provably nothing reached the vendor (the connection was never made).
    NotSent,
    /// No answer within the attempt's timeout: the request may have arrived.
    TimedOut,
    /// The connection failed after the request started: it may have arrived.
    Broken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerReport {
    Success,
    Failure,
    Neither,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing reached the vendor in any attempt.
    NotSent,
    /// Some attempt may have reached the vendor; the outcome is unknown.
    MaybeSent { timed_out: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RefreshAndResend,
    /// Resend after exactly this wait (the vendor's `Retry-After`).
    ResendAfter(Duration),
    /// Resend after a random wait in `0..=max` (full jitter), cut at the deadline.
    ResendAfterBackoff {
        max: Duration,
    },
    /// The attempt's answer is the call's answer.
    Return {
        earlier_attempt_may_have_landed: bool,
    },
    Fail(Failure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub breaker: BreakerReport,
    /// Pause the whole connection this long (a vendor 429).
    pub pause: Option<Duration>,
    pub next: Next,
}

impl Policy {
    /// The step after an attempt that ended in `event`, with `remaining` time before the
    /// call's deadline. Updates `state`.
    pub fn decide(&self, state: &mut CallState, event: Event, remaining: Duration) -> Decision {
        let earlier = state.maybe_sent;
        if let Event::Answered { status: 401, .. } = event
            && self.refreshable_auth
            && !state.refreshed
        {
            state.refreshed = true;
            return Decision {
                breaker: BreakerReport::Neither,
                pause: None,
                next: Next::RefreshAndResend,
            };
        }
        state.attempts += 1;
        let attempts_left = state.attempts < self.max_attempts.max(1);
        let resend_safe = self.retry != RetrySafety::NotAfterSend;
        let backoff = Next::ResendAfterBackoff {
            max: self.backoff_cap(state.attempts),
        };
        let (breaker, pause, next) = match event {
            Event::Answered {
                status,
                retry_after,
            } => {
                let pause = (status == 429).then(|| retry_after.unwrap_or(Duration::from_secs(1)));
                let breaker = if status >= 500 {
                    BreakerReport::Failure
                } else {
                    BreakerReport::Success
                };
                // An answer, whatever its status, is the vendor speaking: whether it means
                // "created", "not created" or "unknown" is the connector's call (Adobe's
                // 503 `5122` is documented as not processed). The I/O loop keeps answers it
                // resends over, so their meaning is not lost.
                let not_processed = (status == 429 || status == 503) && retry_after.is_some();
                let next = match retry_after {
                    Some(wait) if not_processed && attempts_left && wait < remaining => {
                        Next::ResendAfter(wait)
                    }
                    _ if status >= 500 && !not_processed && attempts_left && resend_safe => backoff,
                    _ => Next::Return {
                        earlier_attempt_may_have_landed: earlier,
                    },
                };
                (breaker, pause, next)
            }
            Event::NotSent => {
                let next = if attempts_left {
                    backoff
                } else if state.maybe_sent {
                    Next::Fail(Failure::MaybeSent { timed_out: false })
                } else {
                    Next::Fail(Failure::NotSent)
                };
                (BreakerReport::Failure, None, next)
            }
            Event::TimedOut | Event::Broken => {
                state.maybe_sent = true;
                let next = if attempts_left && resend_safe {
                    backoff
                } else {
                    Next::Fail(Failure::MaybeSent {
                        timed_out: event == Event::TimedOut,
                    })
                };
                (BreakerReport::Failure, None, next)
            }
        };
        Decision {
            breaker,
            pause,
            next,
        }
    }

    /// The failure of a call stopped before its next attempt (deadline passed, token
    /// endpoint down): "not sent" only while no attempt may have landed.
    pub fn stopped(&self, state: &CallState) -> Failure {
        if state.maybe_sent {
            Failure::MaybeSent { timed_out: true }
        } else {
            Failure::NotSent
        }
    }

    /// Exponential: base * 2^attempts, capped.
    fn backoff_cap(&self, attempts: u32) -> Duration {
        let base = self.base_backoff.max(Duration::from_millis(1));
        let cap = self.max_backoff.max(base);
        base.saturating_mul(1u32 << attempts.min(16)).min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(30);

    fn policy(retry: RetrySafety) -> Policy {
        Policy {
            max_attempts: 3,
            retry,
            refreshable_auth: true,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(2000),
        }
    }

    fn answered(status: u16, retry_after: Option<u64>) -> Event {
        Event::Answered {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    /// Runs events through the policy until it stops resending; the final step.
    fn run(p: &Policy, events: &[Event]) -> (Next, CallState) {
        let mut state = CallState::default();
        let mut last = Next::Fail(Failure::NotSent);
        for e in events {
            last = p.decide(&mut state, *e, LONG).next;
            if matches!(last, Next::Return { .. } | Next::Fail(_)) {
                break;
            }
        }
        (last, state)
    }

    const ALL: [RetrySafety; 3] = [
        RetrySafety::NotAfterSend,
        RetrySafety::IdempotentByKey,
        RetrySafety::Read,
    ];

    fn events() -> Vec<Event> {
        let mut v = vec![Event::NotSent, Event::TimedOut, Event::Broken];
        for status in [200, 201, 400, 401, 404, 409, 422, 429, 500, 502, 503, 504] {
            v.push(answered(status, None));
            v.push(answered(status, Some(1)));
        }
        v
    }

    /// The rule the caller depends on: after any attempt that may have landed, no
    /// sequence of later events ends the call as "not sent", and an answer after it says
    /// so. Exhaustive over every 3-event sequence for every retry safety.
    #[test]
    fn once_an_attempt_may_have_landed_the_call_never_ends_not_sent() {
        let evs = events();
        for retry in ALL {
            let p = policy(retry);
            for a in &evs {
                for b in &evs {
                    for c in &evs {
                        let mut state = CallState::default();
                        for e in [*a, *b, *c, answered(200, None)] {
                            let before = state.maybe_sent;
                            let next = p.decide(&mut state, e, LONG).next;
                            match next {
                                Next::Fail(Failure::NotSent) => {
                                    assert!(!state.maybe_sent, "{retry:?} {a:?} {b:?} {c:?}");
                                }
                                Next::Return {
                                    earlier_attempt_may_have_landed,
                                } => {
                                    assert_eq!(earlier_attempt_may_have_landed, before);
                                }
                                _ => {}
                            }
                            if matches!(next, Next::Return { .. } | Next::Fail(_)) {
                                break;
                            }
                        }
                        assert!(state.attempts <= 3, "{retry:?} {a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_timeout_then_a_429_is_unknown_not_not_sent() {
        // The finding: Adobe created the order, attempt 1 timed out, attempt 2 got a 429.
        let p = policy(RetrySafety::IdempotentByKey);
        let (next, state) = run(&p, &[Event::TimedOut, answered(429, None)]);
        assert_eq!(
            next,
            Next::Return {
                earlier_attempt_may_have_landed: true
            }
        );
        assert!(state.maybe_sent);
        // ... and a timeout then a refused connection, until attempts run out.
        let (next, _) = run(&p, &[Event::TimedOut, Event::NotSent, Event::NotSent]);
        assert_eq!(next, Next::Fail(Failure::MaybeSent { timed_out: false }));
    }

    #[test]
    fn not_after_send_requests_are_never_resent_after_they_may_have_landed() {
        let p = policy(RetrySafety::NotAfterSend);
        for e in [Event::TimedOut, Event::Broken, answered(500, None)] {
            let mut state = CallState::default();
            let next = p.decide(&mut state, e, LONG).next;
            assert!(
                matches!(
                    next,
                    Next::Return { .. } | Next::Fail(Failure::MaybeSent { .. })
                ),
                "{e:?}: {next:?}"
            );
        }
    }

    #[test]
    fn refused_connections_are_resent_and_end_not_sent() {
        for retry in ALL {
            let p = policy(retry);
            let (next, state) = run(&p, &[Event::NotSent; 3]);
            assert_eq!(next, Next::Fail(Failure::NotSent));
            assert_eq!(state.attempts, 3);
        }
    }

    #[test]
    fn one_401_refresh_that_does_not_count_as_an_attempt() {
        let p = policy(RetrySafety::NotAfterSend);
        let mut s = CallState::default();
        assert_eq!(
            p.decide(&mut s, answered(401, None), LONG).next,
            Next::RefreshAndResend
        );
        assert_eq!(s.attempts, 0);
        // A second 401 is the vendor's answer.
        assert_eq!(
            p.decide(&mut s, answered(401, None), LONG).next,
            Next::Return {
                earlier_attempt_may_have_landed: false
            }
        );
        let static_auth = Policy {
            refreshable_auth: false,
            ..p
        };
        let mut s = CallState::default();
        assert!(matches!(
            static_auth.decide(&mut s, answered(401, None), LONG).next,
            Next::Return { .. }
        ));
    }

    #[test]
    fn retry_after_is_honoured_only_when_it_fits_the_deadline() {
        let p = policy(RetrySafety::NotAfterSend);
        let mut s = CallState::default();
        let d = p.decide(&mut s, answered(429, Some(2)), LONG);
        assert_eq!(d.next, Next::ResendAfter(Duration::from_secs(2)));
        assert_eq!(d.pause, Some(Duration::from_secs(2)));
        let mut s = CallState::default();
        let d = p.decide(&mut s, answered(503, Some(2)), Duration::from_secs(1));
        assert!(matches!(d.next, Next::Return { .. }));
        assert_eq!(d.pause, None);
        // A 429 without Retry-After pauses for a second and is the answer.
        let mut s = CallState::default();
        let d = p.decide(&mut s, answered(429, None), LONG);
        assert_eq!(d.pause, Some(Duration::from_secs(1)));
        assert!(matches!(d.next, Next::Return { .. }));
    }

    #[test]
    fn breaker_reports() {
        let p = policy(RetrySafety::Read);
        let cases = [
            (answered(200, None), BreakerReport::Success),
            (answered(404, None), BreakerReport::Success),
            (answered(429, None), BreakerReport::Success),
            (answered(500, None), BreakerReport::Failure),
            (Event::NotSent, BreakerReport::Failure),
            (Event::TimedOut, BreakerReport::Failure),
            (Event::Broken, BreakerReport::Failure),
            (answered(401, None), BreakerReport::Neither),
        ];
        for (e, want) in cases {
            let mut s = CallState::default();
            assert_eq!(p.decide(&mut s, e, LONG).breaker, want, "{e:?}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = policy(RetrySafety::Read);
        let caps: Vec<Duration> = (1..6).map(|a| p.backoff_cap(a)).collect();
        assert_eq!(
            caps,
            [200, 400, 800, 1600, 2000]
                .map(Duration::from_millis)
                .to_vec()
        );
    }

    #[test]
    fn stopped_before_an_attempt() {
        let p = policy(RetrySafety::IdempotentByKey);
        assert_eq!(p.stopped(&CallState::default()), Failure::NotSent);
        let landed = CallState {
            maybe_sent: true,
            ..CallState::default()
        };
        assert_eq!(p.stopped(&landed), Failure::MaybeSent { timed_out: true });
    }
}
