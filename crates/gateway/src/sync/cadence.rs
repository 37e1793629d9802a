//! When a followed order is read: `connections[].sync` -> a schedule and a horizon.

use std::time::Duration;

use time::OffsetDateTime;

use crate::config::model::SyncConfig;

/// 1 min, 5 min, 30 min, then hourly: early reads catch the quick vendor steps (Adobe's
/// pending -> complete), later ones shipments, without reading slow orders every minute.
pub const DEFAULT_SCHEDULE: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
];
/// A week: long enough for a shipment to arrive, short enough that forgotten orders stop.
pub const DEFAULT_HORIZON: Duration = Duration::from_secs(7 * 86_400);

/// One connection's cadence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence {
    pub enabled: bool,
    /// Never empty.
    pub schedule: Vec<Duration>,
    pub horizon: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            enabled: true,
            schedule: DEFAULT_SCHEDULE.to_vec(),
            horizon: DEFAULT_HORIZON,
        }
    }
}

impl Cadence {
    /// The connection's cadence; each problem with its JSON Pointer under `sync` (for
    /// `check-config`: `/schedule/1`, `/horizon`).
    pub fn from_config(c: Option<&SyncConfig>) -> Result<Cadence, Vec<(String, String)>> {
        let Some(c) = c else {
            return Ok(Cadence::default());
        };
        let mut errors = Vec::new();
        let mut cadence = Cadence {
            enabled: c.enabled,
            ..Cadence::default()
        };
        if let Some(list) = &c.schedule {
            if list.is_empty() {
                errors.push((
                    "/schedule".to_owned(),
                    "needs at least one interval".to_owned(),
                ));
            }
            let mut parsed = Vec::new();
            for (i, s) in list.iter().enumerate() {
                match parse_duration(s) {
                    Ok(d) => parsed.push(d),
                    Err(e) => errors.push((format!("/schedule/{i}"), e)),
                }
            }
            if !parsed.is_empty() {
                cadence.schedule = parsed;
            }
        }
        if let Some(h) = &c.horizon {
            match parse_duration(h) {
                Ok(d) => cadence.horizon = d,
                Err(e) => errors.push(("/horizon".to_owned(), e)),
            }
        }
        if errors.is_empty() {
            Ok(cadence)
        } else {
            Err(errors)
        }
    }

    /// The interval after `step` reads: the schedule's, the last one repeated.
    pub fn interval(&self, step: i64) -> Duration {
        let i = usize::try_from(step.max(0)).unwrap_or(usize::MAX);
        self.schedule
            .get(i)
            .or(self.schedule.last())
            .copied()
            .unwrap_or(DEFAULT_SCHEDULE[0])
    }

    /// The first read after a create at `now`, and the horizon.
    pub fn start(&self, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        (now + self.interval(0), now + self.horizon)
    }

    /// The read after `step` reads (the last at `now`), unless it would fall past `until`.
    pub fn next(
        &self,
        step: i64,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let at = now + self.interval(step);
        (at <= until).then_some(at)
    }
}

/// `30s`, `5m`, `1h`, `7d`: a whole number from 1 and one unit.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "`{s}` is not a duration: a whole number and s, m, h or d (`90s`, `5m`, `1h`, `7d`)"
        )
    };
    let t = s.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let secs: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let n: u64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(format!("`{s}`: must be longer than zero"));
    }
    n.checked_mul(secs)
        .filter(|v| *v <= 366 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}`: at most a year"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "5", "m", "0s", "1.5h", "-1m", "5 min", "400d", "1é"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_last_interval_repeats_until_the_horizon() {
        let c = Cadence::from_config(Some(&SyncConfig {
            enabled: true,
            schedule: Some(vec!["1m".into(), "5m".into()]),
            horizon: Some("10m".into()),
        }))
        .unwrap();
        assert_eq!(c.interval(0), Duration::from_secs(60));
        assert_eq!(c.interval(1), Duration::from_secs(300));
        assert_eq!(c.interval(9), Duration::from_secs(300));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (first, until) = c.start(t0);
        assert_eq!(first, t0 + Duration::from_secs(60));
        assert_eq!(c.next(1, first, until), Some(t0 + Duration::from_secs(360)));
        assert_eq!(c.next(2, t0 + Duration::from_secs(360), until), None);
    }

    #[test]
    fn every_bad_value_is_reported_at_its_pointer() {
        let e = Cadence::from_config(Some(&SyncConfig {
            enabled: true,
            schedule: Some(vec!["1m".into(), "soon".into()]),
            horizon: Some("0d".into()),
        }))
        .unwrap_err();
        let at: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(at, ["/schedule/1", "/horizon"]);
        assert_eq!(Cadence::from_config(None).unwrap(), Cadence::default());
    }
}
