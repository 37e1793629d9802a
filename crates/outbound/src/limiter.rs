//! A connection's rate limit and vendor pause, as one GCRA ("generic cell rate
//! algorithm") state: the theoretical arrival time (TAT) of the next call. A call reserves
//! its place by moving the TAT one emission interval on and is told how long to wait
//! (zero within the burst); a call that would wait past its budget reserves nothing. A
//! vendor pause moves the TAT past the pause's end, so the calls after it are paced one
//! interval apart instead of going out together. The same arithmetic runs here (local
//! scope) and in one Redis Lua script (fleet scope, [`crate::fleet`]).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::OutboundError;
use crate::fleet::{FleetLimit, FleetReply};
use crate::settings::{Limits, OnRedisDown};

/// The rate and burst of one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Time between two calls at the sustained rate.
    pub emission: Duration,
    /// Calls that may go out back to back after an idle spell.
    pub burst: u32,
}

impl Rate {
    pub fn per_second(rate: u32, burst: u32) -> Rate {
        Rate {
            emission: Duration::from_secs(1) / rate.max(1),
            burst: burst.max(1),
        }
    }

    /// The budget a background call (a status read) may use: half the burst (at least
    /// one call), and only without waiting. A background call goes only while at least
    /// that much of the burst is free, so whatever lookups do, the other half is left
    /// for creates, and under a create load that keeps the bucket over half full no
    /// lookup goes at all.
    pub fn background(self) -> Rate {
        Rate {
            emission: self.emission,
            burst: (self.burst / 2).max(1),
        }
    }

    /// This replica's share of a fleet budget, when Redis cannot be asked.
    pub fn share(limits: &Limits) -> Rate {
        let replicas = limits.expected_replicas.max(1);
        Rate {
            emission: Duration::from_secs(1) * replicas / limits.rate_per_sec.max(1),
            burst: (limits.burst / replicas).max(1),
        }
    }
}

/// The outcome of asking for one call's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The place is reserved: go after this wait (zero inside the burst).
    Go { wait: Duration },
    /// The wait would exceed the caller's budget; nothing was reserved.
    Refuse { retry_after: Duration },
}

/// One GCRA step. `tat` is the stored arrival time (none when idle); returns the new TAT to
/// store when the call is admitted.
pub fn step(
    tat: Option<Instant>,
    now: Instant,
    rate: Rate,
    max_wait: Duration,
) -> (Decision, Option<Instant>) {
    let tat = tat.map_or(now, |t| t.max(now));
    let new_tat = tat + rate.emission;
    let wait = (new_tat - now).saturating_sub(rate.emission * rate.burst);
    if wait > max_wait {
        return (Decision::Refuse { retry_after: wait }, None);
    }
    (Decision::Go { wait }, Some(new_tat))
}

/// The TAT after a vendor pause of `pause` from `now`: the first call after the pause goes
/// at its end, the next one an interval later (no burst is saved up during a pause).
pub fn paused(tat: Option<Instant>, now: Instant, rate: Rate, pause: Duration) -> Option<Instant> {
    let until = now.checked_add(pause)?;
    let after = until.checked_add(rate.emission * (rate.burst - 1))?;
    Some(tat.map_or(after, |t| t.max(after)))
}

/// GCRA state in this process.
#[derive(Debug)]
pub struct LocalGcra {
    rate: Rate,
    state: Mutex<LocalState>,
}

#[derive(Debug, Default)]
struct LocalState {
    tat: Option<Instant>,
    paused_until: Option<Instant>,
}

impl LocalGcra {
    pub fn new(rate: Rate) -> Self {
        LocalGcra {
            rate,
            state: Mutex::new(LocalState::default()),
        }
    }

    pub fn reserve(&self, max_wait: Duration) -> Decision {
        let Ok(mut st) = self.state.lock() else {
            return Decision::Refuse {
                retry_after: Duration::from_secs(1),
            };
        };
        let (decision, new_tat) = step(st.tat, Instant::now(), self.rate, max_wait);
        if new_tat.is_some() {
            st.tat = new_tat;
        }
        decision
    }

    /// A background call's place ([`Rate::background`]): now, or not at all.
    pub fn reserve_background(&self) -> Decision {
        let Ok(mut st) = self.state.lock() else {
            return Decision::Refuse {
                retry_after: Duration::from_secs(1),
            };
        };
        let (decision, new_tat) = step(
            st.tat,
            Instant::now(),
            self.rate.background(),
            Duration::ZERO,
        );
        if new_tat.is_some() {
            st.tat = new_tat;
        }
        decision
    }

    pub fn pause(&self, pause: Duration) {
        let now = Instant::now();
        if let Ok(mut st) = self.state.lock()
            && let (Some(t), Some(until)) = (
                paused(st.tat, now, self.rate, pause),
                now.checked_add(pause),
            )
        {
            st.tat = Some(t);
            st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// How much of a pause is still ahead of a call that reserved its place to go at
    /// `go_at` (set after the reservation: earlier pauses were in its wait already).
    pub fn paused_after(&self, go_at: Instant) -> Option<Duration> {
        let until = self.state.lock().ok()?.paused_until?;
        (until > go_at).then(|| until - go_at)
    }
}

/// Where a reserved place was reserved, to look for a pause set since.
enum Ticket {
    Local(Instant),
    /// Redis time (µs) the call goes at.
    Fleet(u64),
}

/// A connection's limiter: local, or fleet-wide with a fallback for when Redis is down.
pub enum Limiter {
    Local(LocalGcra),
    Fleet {
        fleet: FleetLimit,
        on_down: OnRedisDown,
        /// `ratePerSec / expectedReplicas`: used only while Redis does not answer.
        share: LocalGcra,
    },
}

impl Limiter {
    pub fn local(limits: &Limits) -> Self {
        Limiter::Local(LocalGcra::new(Rate::per_second(
            limits.rate_per_sec,
            limits.burst,
        )))
    }

    pub fn fleet(limits: &Limits, fleet: FleetLimit) -> Self {
        Limiter::Fleet {
            fleet,
            on_down: limits.on_redis_down,
            share: LocalGcra::new(Rate::share(limits)),
        }
    }

    /// Reserves this call's place and waits for it once, or refuses it when the wait would
    /// exceed `max_wait`. Never waits on Redis past `max_wait` either. A call that waited
    /// is refused if a vendor pause began meanwhile and is not over at its turn.
    pub async fn admit(&self, connection: &str, max_wait: Duration) -> Result<(), OutboundError> {
        let (scope, decision, ticket) = self.decide(max_wait).await;
        let decision = match decision {
            Decision::Go { wait } if !wait.is_zero() => {
                metrics::counter!(crate::metric_names::VENDOR_RATE_LIMIT_WAITS_TOTAL, "connection" => connection.to_owned()).increment(1);
                tokio::time::sleep(wait).await;
                match self.paused_after(ticket).await {
                    Some(retry_after) => Decision::Refuse { retry_after },
                    None => decision,
                }
            }
            other => other,
        };
        let result = match decision {
            Decision::Go { wait } if wait.is_zero() => "immediate",
            Decision::Go { .. } => "waited",
            Decision::Refuse { .. } => "rejected",
        };
        metrics::counter!(crate::metric_names::VENDOR_LIMITER_DECISIONS_TOTAL, "connection" => connection.to_owned(), "scope" => scope, "result" => result).increment(1);
        match decision {
            Decision::Go { .. } => Ok(()),
            Decision::Refuse { retry_after } => {
                metrics::counter!(crate::metric_names::VENDOR_RATE_LIMIT_REJECTIONS_TOTAL, "connection" => connection.to_owned()).increment(1);
                Err(OutboundError::RateLimited { retry_after })
            }
        }
    }

    /// Admits a background call (a status read) only if it can go now within the
    /// background budget ([`Rate::background`]); it never waits, so it never holds a
    /// place a create is waiting for. Fleet scope: Redis is asked for a place without
    /// waiting (the fleet script knows no reserved share: lookups there only never wait);
    /// while Redis is down, the local share's background budget applies.
    pub async fn admit_background(&self, connection: &str) -> Result<(), OutboundError> {
        let decision = match self {
            Limiter::Local(gcra) => gcra.reserve_background(),
            Limiter::Fleet { fleet, share, .. } => match fleet.reserve(Duration::ZERO).await {
                FleetReply::Answered(d, _) => d,
                FleetReply::Unavailable => share.reserve_background(),
            },
        };
        let result = match decision {
            Decision::Go { .. } => "immediate",
            Decision::Refuse { .. } => "rejected",
        };
        metrics::counter!(crate::metric_names::VENDOR_LIMITER_DECISIONS_TOTAL, "connection" => connection.to_owned(), "scope" => "background", "result" => result).increment(1);
        match decision {
            Decision::Go { .. } => Ok(()),
            Decision::Refuse { retry_after } => Err(OutboundError::RateLimited { retry_after }),
        }
    }

    async fn decide(&self, max_wait: Duration) -> (&'static str, Decision, Ticket) {
        let local = |g: &LocalGcra| {
            let d = g.reserve(max_wait);
            let go_at = match d {
                Decision::Go { wait } => Instant::now() + wait,
                Decision::Refuse { .. } => Instant::now(),
            };
            (d, Ticket::Local(go_at))
        };
        match self {
            Limiter::Local(gcra) => {
                let (d, t) = local(gcra);
                ("local", d, t)
            }
            Limiter::Fleet {
                fleet,
                on_down,
                share,
            } => match fleet.reserve(max_wait).await {
                FleetReply::Answered(d, go_at) => ("fleet", d, Ticket::Fleet(go_at)),
                FleetReply::Unavailable => match on_down {
                    OnRedisDown::LocalShare => {
                        let (d, t) = local(share);
                        ("local_share", d, t)
                    }
                    OnRedisDown::Reject => (
                        "fleet_unavailable",
                        Decision::Refuse {
                            retry_after: Duration::from_secs(1),
                        },
                        Ticket::Local(Instant::now()),
                    ),
                },
            },
        }
    }

    async fn paused_after(&self, ticket: Ticket) -> Option<Duration> {
        match (self, ticket) {
            (Limiter::Local(g), Ticket::Local(at)) => g.paused_after(at),
            (Limiter::Fleet { share, .. }, Ticket::Local(at)) => share.paused_after(at),
            (Limiter::Fleet { fleet, .. }, Ticket::Fleet(at)) => fleet.paused_after(at).await,
            (Limiter::Local(_), Ticket::Fleet(_)) => None,
        }
    }

    /// A vendor asked for a pause: no call of this connection goes before its end (on every
    /// replica in fleet scope), and the calls after it are paced.
    pub async fn pause(&self, pause: Duration) {
        match self {
            Limiter::Local(gcra) => gcra.pause(pause),
            Limiter::Fleet { fleet, share, .. } => {
                // The share also pauses: if Redis goes away during the pause, this replica
                // still honours it.
                share.pause(pause);
                fleet.pause(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_calls_are_paced_one_interval_apart() {
        let g = LocalGcra::new(Rate::per_second(10, 3));
        for _ in 0..3 {
            assert_eq!(
                g.reserve(MS * 1000),
                Decision::Go {
                    wait: Duration::ZERO
                }
            );
        }
        assert_eq!(g.reserve(MS * 1000), Decision::Go { wait: MS * 100 });
        assert_eq!(g.reserve(MS * 1000), Decision::Go { wait: MS * 200 });
        // Past the caller's budget: refused, and nothing reserved.
        assert_eq!(
            g.reserve(MS * 250),
            Decision::Refuse {
                retry_after: MS * 300
            }
        );
        assert_eq!(g.reserve(MS * 300), Decision::Go { wait: MS * 300 });
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_pause_calls_are_paced_not_released_as_a_burst() {
        let g = LocalGcra::new(Rate::per_second(10, 5));
        g.pause(MS * 2000);
        tokio::time::advance(MS * 1500).await;
        // Waits for the rest of the pause, then one interval each: the burst was not saved
        // up while the connection was paused.
        let waits: Vec<Decision> = (0..4).map(|_| g.reserve(MS * 1000)).collect();
        assert_eq!(
            waits,
            [500, 600, 700, 800].map(|w| Decision::Go { wait: MS * w })
        );
        assert_eq!(
            g.reserve(MS * 500),
            Decision::Refuse {
                retry_after: MS * 900
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_never_shortens_an_earlier_longer_one_and_a_huge_one_is_ignored() {
        let g = LocalGcra::new(Rate::per_second(10, 1));
        g.pause(MS * 3000);
        g.pause(MS * 1000);
        g.pause(Duration::MAX);
        assert_eq!(
            g.reserve(MS * 100),
            Decision::Refuse {
                retry_after: MS * 3000
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_reserved_before_a_pause_does_not_go_out_during_it() {
        let limiter = Limiter::local(&Limits {
            rate_per_sec: 10,
            burst: 1,
            ..Limits::default()
        });
        limiter.admit("c", MS * 1000).await.unwrap();
        let started = Instant::now();
        let waiting = limiter.admit("c", MS * 1000);
        let pausing = async {
            tokio::time::sleep(MS * 50).await;
            limiter.pause(MS * 2000).await;
        };
        let (admitted, ()) = tokio::join!(waiting, pausing);
        assert!(
            matches!(admitted, Err(OutboundError::RateLimited { retry_after }) if retry_after == MS * 1950),
            "{admitted:?}"
        );
        assert_eq!(started.elapsed(), MS * 100);
        // Once the pause is over, calls are paced again from its end.
        tokio::time::advance(MS * 1950).await;
        limiter.admit("c", Duration::ZERO).await.unwrap();
        assert!(limiter.admit("c", MS * 50).await.is_err());
    }

    /// Lookups never take the half of the burst kept for creates, never wait, and get
    /// nothing while creates keep the bucket over half full; once it drains they go again.
    #[tokio::test(start_paused = true)]
    async fn background_calls_leave_half_the_burst_to_creates_and_never_wait() {
        let g = LocalGcra::new(Rate::per_second(10, 4));
        let go = Decision::Go {
            wait: Duration::ZERO,
        };
        // A flood of lookups on an idle connection: two (half the burst) go, the rest are
        // refused at once.
        let admitted = (0..100).filter(|_| g.reserve_background() == go).count();
        assert_eq!(admitted, 2);
        // The creates still have the other half, at once.
        assert_eq!(g.reserve(Duration::ZERO), go);
        assert_eq!(g.reserve(Duration::ZERO), go);
        // Creates filling the bucket shut lookups out entirely...
        assert!(matches!(g.reserve_background(), Decision::Refuse { .. }));
        tokio::time::advance(MS * 100).await;
        // ...even when one place frees up: it is the creates' share.
        assert!(matches!(g.reserve_background(), Decision::Refuse { .. }));
        assert_eq!(g.reserve(Duration::ZERO), go);
        // Once the bucket drains below half, lookups go again.
        tokio::time::advance(MS * 300).await;
        assert_eq!(g.reserve_background(), go);
    }

    #[test]
    fn the_local_share_divides_rate_and_burst_by_the_expected_replicas() {
        let limits = Limits {
            rate_per_sec: 60,
            burst: 10,
            expected_replicas: 3,
            ..Limits::default()
        };
        assert_eq!(
            Rate::share(&limits),
            Rate {
                emission: MS * 50,
                burst: 3
            }
        );
    }
}
