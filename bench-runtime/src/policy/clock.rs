//! The policy clock: where policies read "now" from.
//!
//! Policies never read the wall clock themselves. The live runtime replays a trace faster than
//! real time, so its clock is a [`ScaledClock`] that turns elapsed real time into trace time;
//! the simulator and the tests move a [`ManualClock`] by hand. Both hand the same
//! [`PolicyTime`] values to the same policy code, which is what makes live runs and simulations
//! comparable.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::PolicyTime;

/// A source of policy time.
pub trait Clock: Send + Sync {
    /// The current time on the policy clock.
    fn now(&self) -> PolicyTime;
}

/// Policy time = real time elapsed since an origin, multiplied by a scale factor.
///
/// With a scale of 60 one real second is one trace minute: a scenario that compresses a day of
/// trace into 24 real minutes runs on `ScaledClock::new(60.0)`.
///
/// The scale must be positive and finite. [`checked`](Self::checked) refuses any other value;
/// [`new`](Self::new) and [`starting_at`](Self::starting_at) expect a scale that was already
/// validated and run at real time (scale 1) rather than panic when given a bad one.
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    origin: Instant,
    scale: f64,
}

impl ScaledClock {
    /// A clock whose origin is now. See the type's docs for what happens to a bad `scale`.
    pub fn new(scale: f64) -> Self {
        Self::starting_at(Instant::now(), scale)
    }

    /// A clock whose origin is `origin`. See the type's docs for what happens to a bad `scale`.
    pub fn starting_at(origin: Instant, scale: f64) -> Self {
        let scale = if is_valid_scale(scale) { scale } else { 1.0 };
        Self { origin, scale }
    }

    /// A clock whose origin is now, or `None` unless `scale` is positive and finite.
    pub fn checked(scale: f64) -> Option<Self> {
        is_valid_scale(scale).then(|| Self::new(scale))
    }

    /// Policy time per unit of real time.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The policy time at the real `instant`. Instants before the origin map to zero.
    pub fn at(&self, instant: Instant) -> PolicyTime {
        let real = instant.saturating_duration_since(self.origin);
        Duration::try_from_secs_f64(real.as_secs_f64() * self.scale).unwrap_or(Duration::MAX)
    }

    /// How long `policy` of policy time lasts in real time: what a runtime sleeps to wait for
    /// a policy deadline.
    pub fn real_duration(&self, policy: Duration) -> Duration {
        Duration::try_from_secs_f64(policy.as_secs_f64() / self.scale).unwrap_or(Duration::MAX)
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> PolicyTime {
        self.at(Instant::now())
    }
}

fn is_valid_scale(scale: f64) -> bool {
    scale.is_finite() && scale > 0.0
}

/// A clock that only moves when told to: the simulator's virtual time, and the tests'.
///
/// Methods take `&self` so that one clock can be shared (e.g. in an `Arc`) between the code
/// that advances it and the policies that read it. Time is held in whole nanoseconds and
/// saturates at about 584 years.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock to `time`, forwards or backwards.
    pub fn set(&self, time: PolicyTime) {
        self.nanos.store(saturating_nanos(time), Ordering::SeqCst);
    }

    /// Moves the clock forwards by `by`.
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        // fetch_update's closure never returns None, so this cannot fail.
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> PolicyTime {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

fn saturating_nanos(time: Duration) -> u64 {
    u64::try_from(time.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_60_turns_two_real_seconds_into_two_trace_minutes() {
        let origin = Instant::now();
        let clock = ScaledClock::starting_at(origin, 60.0);
        assert_eq!(clock.at(origin), Duration::ZERO);
        assert_eq!(
            clock.at(origin + Duration::from_secs(2)),
            Duration::from_secs(120)
        );
        assert_eq!(
            clock.at(origin + Duration::from_millis(500)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn real_duration_inverts_the_scaling() {
        let origin = Instant::now();
        let clock = ScaledClock::starting_at(origin, 60.0);
        assert_eq!(
            clock.real_duration(Duration::from_secs(120)),
            Duration::from_secs(2)
        );
        let policy = Duration::from_secs(10 * 60);
        assert_eq!(clock.at(origin + clock.real_duration(policy)), policy);
    }

    #[test]
    fn instants_before_the_origin_are_time_zero() {
        let origin = Instant::now() + Duration::from_secs(10);
        let clock = ScaledClock::starting_at(origin, 60.0);
        assert_eq!(clock.at(origin - Duration::from_secs(3)), Duration::ZERO);
        assert_eq!(clock.now(), Duration::ZERO);
    }

    #[test]
    fn scale_must_be_positive_and_finite() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(ScaledClock::checked(bad).is_none(), "scale {bad} accepted");
            // Unchecked constructors keep running, at real time.
            let origin = Instant::now();
            let clock = ScaledClock::starting_at(origin, bad);
            assert_eq!(clock.scale(), 1.0);
            assert_eq!(
                clock.at(origin + Duration::from_secs(2)),
                Duration::from_secs(2)
            );
        }
        let clock = ScaledClock::checked(60.0).map(|c| c.scale());
        assert_eq!(clock, Some(60.0));
    }

    #[test]
    fn huge_spans_saturate_instead_of_panicking() {
        let origin = Instant::now();
        let clock = ScaledClock::starting_at(origin, f64::MAX);
        assert_eq!(clock.at(origin + Duration::from_secs(1)), Duration::MAX);
        let slow = ScaledClock::starting_at(origin, f64::MIN_POSITIVE);
        assert_eq!(slow.real_duration(Duration::from_secs(1)), Duration::MAX);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        assert_eq!(clock.now(), Duration::ZERO);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), Duration::from_secs(90));
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Duration::from_millis(90_250));
        clock.set(Duration::from_secs(5));
        assert_eq!(clock.now(), Duration::from_secs(5));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn a_shared_manual_clock_is_seen_moving_by_its_readers() {
        let driver = std::sync::Arc::new(ManualClock::new());
        let reader: std::sync::Arc<dyn Clock> = driver.clone();
        driver.advance(Duration::from_secs(7));
        assert_eq!(reader.now(), Duration::from_secs(7));
    }
}
