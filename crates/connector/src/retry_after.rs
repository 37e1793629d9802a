//! The one reader of a vendor's `Retry-After` for every connector and the outbound stack.
//! The value is vendor-controlled: it is capped, so no later `Instant + Duration` can
//! overflow (a panic there once poisoned the pause lock and silently disabled pauses).

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest pause a vendor can ask for; longer values are read as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), relative to `now`,
/// capped at [`MAX_RETRY_AFTER`]. A date in the past is zero; anything unreadable is
/// `None`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Some(wait) = delta_seconds(v) {
        return Some(wait);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// Delta-seconds, capped; digits beyond u64 are still "very long", not unreadable.
fn delta_seconds(v: &str) -> Option<Duration> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wait = v
        .parse::<u64>()
        .map_or(MAX_RETRY_AFTER, Duration::from_secs);
    Some(wait.min(MAX_RETRY_AFTER))
}

/// [`retry_after`] for pure code (connectors interpreting an answer have no clock): only
/// delta-seconds. The outbound stack rewrites an HTTP-date into delta-seconds when the
/// answer arrives ([`normalize`]), so connectors see every vendor pause.
pub fn retry_after_delta(headers: &HeaderMap) -> Option<Duration> {
    delta_seconds(
        headers
            .get(http::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim(),
    )
}

/// Rewrites `Retry-After` as capped delta-seconds (rounded up), as of `now`; removes a
/// value that cannot be read.
pub fn normalize(headers: &mut HeaderMap, now: SystemTime) {
    if !headers.contains_key(http::header::RETRY_AFTER) {
        return;
    }
    match retry_after(headers, now) {
        Some(d) => {
            let secs = if d.is_zero() { 0 } else { whole_secs_up(d) };
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        None => {
            headers.remove(http::header::RETRY_AFTER);
        }
    }
}

/// A wait told to a caller in whole seconds: rounded up (a 1.2 s pause is "2", never
/// "1", which would send the caller back too early), at least 1.
pub fn whole_secs_up(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, v.parse().unwrap());
        h
    }

    #[test]
    fn seconds_dates_and_hostile_values() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 16:00:00 GMT").unwrap();
        let r = |v: &str| retry_after(&with(v), now);
        assert_eq!(r("2"), Some(Duration::from_secs(2)));
        assert_eq!(r(" 0 "), Some(Duration::ZERO));
        assert_eq!(r("18446744073709551615"), Some(MAX_RETRY_AFTER));
        assert_eq!(r("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            r("Wed, 02 Dec 2026 16:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(r("Wed, 02 Dec 2026 15:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(r("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(r("-1"), None);
        assert_eq!(r("soon"), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn waits_told_to_callers_round_up() {
        assert_eq!(whole_secs_up(Duration::from_millis(1200)), 2);
        assert_eq!(whole_secs_up(Duration::from_secs(2)), 2);
        assert_eq!(whole_secs_up(Duration::from_millis(1)), 1);
        assert_eq!(whole_secs_up(Duration::ZERO), 1);
    }

    #[test]
    fn dates_become_seconds_for_connectors() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 16:00:00 GMT").unwrap();
        let mut h = with("Wed, 02 Dec 2026 16:00:30 GMT");
        assert_eq!(retry_after_delta(&h), None);
        normalize(&mut h, now);
        assert_eq!(retry_after_delta(&h), Some(Duration::from_secs(30)));
        let mut h = with("18446744073709551615");
        normalize(&mut h, now);
        assert_eq!(retry_after_delta(&h), Some(MAX_RETRY_AFTER));
        let mut h = with("garbage");
        normalize(&mut h, now);
        assert!(h.get(http::header::RETRY_AFTER).is_none());
    }
}
