//! When to poll a feed next. Pure functions of what we know about the feed,
//! so every rule is unit-tested without a clock or a server.
//!
//! After a success the interval starts from the feed's configured interval,
//! adapted to the publishing rate observed in its recent items (by default
//! only ever shorter: see [`Adaptive`]), then raised to whatever the server
//! or document asks for (`Cache-Control: max-age`, `Expires`, RSS `<ttl>`,
//! `sy:updatePeriod`), then kept within the global bounds. After a failure
//! it backs off exponentially from the configured interval up to a cap, and
//! never sooner than a `Retry-After`. Jitter only ever shortens a wait.
//!
//! The latency contract that follows: a healthy feed that asks for nothing
//! is polled again at most its configured interval after the last poll, so
//! a new item waits at most that long (plus the poll itself and any
//! per-host spacing) before it is fetched.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Global scheduling bounds (from [`crate::PollOptions`]).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub min_interval: Duration,
    pub max_interval: Duration,
    pub max_backoff: Duration,
}

impl Bounds {
    fn clamp(&self, interval: Duration) -> Duration {
        interval.clamp(self.min_interval, self.max_interval.max(self.min_interval))
    }
}

/// How the observed publishing rate may move a feed's interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Adaptive {
    /// The configured interval, always.
    Off,
    /// Busy feeds are polled up to four times more often; none is polled
    /// less often than configured (the latency contract holds).
    #[default]
    Faster,
    /// Also stretch quiet feeds' intervals up to four times (fewer
    /// requests, slower stories from feeds that wake up): opt in.
    Both,
}

/// How far adaptive polling may stray from the configured interval: a feed
/// configured at 15 minutes is polled between ~4 minutes and 1 hour.
const ADAPTIVE_RANGE: u32 = 4;
/// Polls per typical gap between items: a story waits a quarter of the
/// feed's usual gap, on average an eighth.
const POLLS_PER_GAP: u32 = 4;
/// Fewest item times that say anything about a rate.
const MIN_SAMPLES: usize = 3;

/// The typical time between items: the median gap between recent
/// publication times, stretched when the feed has been quiet for longer
/// than that (a feed that stopped publishing slows down).
pub fn observed_gap(recent: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<Duration> {
    if recent.len() < MIN_SAMPLES {
        return None;
    }
    let mut times = recent.to_vec();
    times.sort_unstable();
    times.dedup();
    let mut gaps: Vec<Duration> = times
        .windows(2)
        .filter_map(|pair| (pair[1] - pair[0]).to_std().ok())
        .collect();
    if gaps.len() + 1 < MIN_SAMPLES {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let quiet_for = (now - *times.last()?).to_std().unwrap_or_default();
    Some(if quiet_for > median {
        (median + quiet_for) / 2
    } else {
        median
    })
}

/// The next interval after a successful poll.
pub fn after_success(
    configured: Duration,
    advertised: Option<Duration>,
    recent: &[DateTime<Utc>],
    now: DateTime<Utc>,
    bounds: Bounds,
    mode: Adaptive,
) -> Duration {
    let longest = match mode {
        Adaptive::Off => configured,
        Adaptive::Faster => configured,
        Adaptive::Both => configured.saturating_mul(ADAPTIVE_RANGE),
    };
    let shortest = match mode {
        Adaptive::Off => configured,
        Adaptive::Faster | Adaptive::Both => configured / ADAPTIVE_RANGE,
    };
    let adaptive = match observed_gap(recent, now) {
        Some(gap) => (gap / POLLS_PER_GAP).clamp(shortest, longest),
        None => configured,
    };
    // A server or document asking for a longer interval is honoured, within
    // the bounds; a shorter one never makes us poll more than we planned.
    let wanted = advertised.map_or(adaptive, |advertised| advertised.max(adaptive));
    bounds.clamp(wanted)
}

/// The next interval after the `failures`-th failure in a row.
pub fn after_failure(
    configured: Duration,
    failures: u32,
    retry_after: Option<Duration>,
    bounds: Bounds,
) -> Duration {
    let base = bounds.clamp(configured);
    let exponent = failures.saturating_sub(1).min(16);
    let backoff = base
        .saturating_mul(1u32 << exponent)
        .min(bounds.max_backoff);
    retry_after.map_or(backoff, |retry_after| {
        backoff.max(retry_after.min(bounds.max_backoff))
    })
}

/// Spreads polls so feeds configured together do not fire together: the
/// interval is shortened by up to `fraction` (never lengthened, so jitter
/// cannot break the latency contract). Derived from the feed URL and the
/// clock's nanoseconds rather than a global RNG.
pub fn jitter(interval: Duration, fraction: f64, feed_key: &str) -> Duration {
    if fraction <= 0.0 || interval.is_zero() {
        return interval;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in feed_key
        .bytes()
        .chain(Utc::now().timestamp_subsec_nanos().to_le_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let unit = (hash % 10_000) as f64 / 10_000.0; // [0, 1)
    let factor = 1.0 - fraction * unit;
    interval.mul_f64(factor.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn bounds() -> Bounds {
        Bounds {
            min_interval: MINUTE,
            max_interval: 360 * MINUTE,
            max_backoff: 360 * MINUTE,
        }
    }

    fn every(gap: Duration, count: usize, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let gap = chrono::Duration::from_std(gap).unwrap();
        (0..count).map(|index| now - gap * index as i32).collect()
    }

    #[test]
    fn without_history_the_configured_interval_is_used() {
        let now = Utc::now();
        assert_eq!(
            after_success(15 * MINUTE, None, &[], now, bounds(), Adaptive::Faster),
            15 * MINUTE
        );
        assert_eq!(
            after_success(
                15 * MINUTE,
                None,
                &every(MINUTE, 2, now),
                now,
                bounds(),
                Adaptive::Faster
            ),
            15 * MINUTE
        );
    }

    #[test]
    fn busy_feeds_are_polled_faster_and_quiet_ones_slower_within_range() {
        let now = Utc::now();
        let interval = |gap: Duration, mode| {
            after_success(15 * MINUTE, None, &every(gap, 10, now), now, bounds(), mode)
        };
        // An item every 8 minutes: polled every 2 minutes... but no faster
        // than a quarter of the configured 15 (3m45s).
        assert_eq!(interval(8 * MINUTE, Adaptive::Both), 15 * MINUTE / 4);
        // An item every 2 hours: every 30 minutes.
        assert_eq!(interval(120 * MINUTE, Adaptive::Both), 30 * MINUTE);
        // One a day: capped at four times the configured interval.
        assert_eq!(interval(1440 * MINUTE, Adaptive::Both), 60 * MINUTE);
    }

    #[test]
    fn by_default_no_feed_is_polled_less_often_than_configured() {
        let now = Utc::now();
        let interval = |gap: Duration, mode| {
            after_success(15 * MINUTE, None, &every(gap, 10, now), now, bounds(), mode)
        };
        assert_eq!(interval(8 * MINUTE, Adaptive::Faster), 15 * MINUTE / 4);
        assert_eq!(interval(120 * MINUTE, Adaptive::Faster), 15 * MINUTE);
        assert_eq!(interval(1440 * MINUTE, Adaptive::Faster), 15 * MINUTE);
        // Off: the configured interval whatever the rate.
        assert_eq!(interval(8 * MINUTE, Adaptive::Off), 15 * MINUTE);
        assert_eq!(interval(1440 * MINUTE, Adaptive::Off), 15 * MINUTE);
        assert_eq!(Adaptive::default(), Adaptive::Faster);
    }

    #[test]
    fn a_feed_gone_quiet_slows_down_only_when_asked_to() {
        let now = Utc::now();
        let burst_long_ago = every(10 * MINUTE, 10, now - chrono::Duration::hours(10));
        let gap = observed_gap(&burst_long_ago, now).unwrap();
        assert!(gap > 4 * 60 * MINUTE / 2, "{gap:?}");
        let quiet = |mode| after_success(15 * MINUTE, None, &burst_long_ago, now, bounds(), mode);
        assert_eq!(quiet(Adaptive::Both), 60 * MINUTE);
        assert_eq!(quiet(Adaptive::Faster), 15 * MINUTE);
    }

    #[test]
    fn advertised_intervals_only_lengthen_and_stay_bounded() {
        let now = Utc::now();
        // max-age of a day: honoured up to the global maximum.
        assert_eq!(
            after_success(
                15 * MINUTE,
                Some(1440 * MINUTE),
                &[],
                now,
                bounds(),
                Adaptive::Faster
            ),
            360 * MINUTE
        );
        // <ttl>60</ttl>
        assert_eq!(
            after_success(
                15 * MINUTE,
                Some(60 * MINUTE),
                &[],
                now,
                bounds(),
                Adaptive::Faster
            ),
            60 * MINUTE
        );
        // no-cache (zero) does not make us poll more often.
        assert_eq!(
            after_success(
                15 * MINUTE,
                Some(Duration::ZERO),
                &[],
                now,
                bounds(),
                Adaptive::Faster
            ),
            15 * MINUTE
        );
        // Configured below the global minimum: raised to it.
        assert_eq!(
            after_success(
                Duration::from_secs(5),
                None,
                &[],
                now,
                bounds(),
                Adaptive::Faster
            ),
            MINUTE
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_respects_retry_after() {
        let intervals: Vec<Duration> = (1..=8)
            .map(|failures| after_failure(15 * MINUTE, failures, None, bounds()))
            .collect();
        assert_eq!(intervals[0], 15 * MINUTE);
        assert_eq!(intervals[1], 30 * MINUTE);
        assert_eq!(intervals[3], 120 * MINUTE);
        assert_eq!(intervals[5], 360 * MINUTE);
        assert_eq!(intervals[7], 360 * MINUTE);
        assert!(intervals.windows(2).all(|pair| pair[0] <= pair[1]));
        // Huge failure counts do not overflow.
        assert_eq!(
            after_failure(15 * MINUTE, u32::MAX, None, bounds()),
            360 * MINUTE
        );
        // Retry-After beyond the backoff wins, but not beyond the cap.
        assert_eq!(
            after_failure(15 * MINUTE, 1, Some(50 * MINUTE), bounds()),
            50 * MINUTE
        );
        assert_eq!(
            after_failure(15 * MINUTE, 1, Some(10_000 * MINUTE), bounds()),
            360 * MINUTE
        );
        assert_eq!(
            after_failure(15 * MINUTE, 3, Some(MINUTE), bounds()),
            60 * MINUTE
        );
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_its_fraction() {
        for index in 0..100 {
            let delay = jitter(Duration::from_secs(100), 0.1, &format!("feed{index}"));
            assert!(delay >= Duration::from_secs(90) && delay <= Duration::from_secs(100));
        }
        assert_eq!(
            jitter(Duration::from_secs(100), 0.0, "f"),
            Duration::from_secs(100)
        );
    }
}
