//! Durations in scenario files: the human form (`"500ms"`, `"1h 30m"`) and the bounds every
//! time taken from input is checked against.
//!
//! Schedules count microseconds in a `u64`, and the load generator adds run times to its
//! clock; a run length that is longer than any benchmark but still fits both keeps every
//! timestamp derived from it representable, so no later conversion can overflow.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The longest run a scenario may ask for: a year, leap day included.
pub(crate) const MAX_RUN: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The smallest and largest `time_compression`. Within them a trace minute lasts from 60 µs to
/// 1000 minutes of run time: coarser than the schedule's microsecond and every minute's
/// arrivals would share one instant, finer and a day of trace would outlast a run.
pub(crate) const MIN_TIME_COMPRESSION: f64 = 1e-3;
pub(crate) const MAX_TIME_COMPRESSION: f64 = 1e6;

/// A run length read from input: above zero and at most [`MAX_RUN`]; the error says what is
/// allowed.
pub(crate) fn run_length(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    if duration > MAX_RUN {
        return Err(format!(
            "must be at most 366 days, found {}",
            humantime::format_duration(duration)
        ));
    }
    Ok(duration)
}

/// `time_compression` read from input, within its bounds; the error says what is allowed.
pub(crate) fn time_compression(value: f64) -> Result<f64, String> {
    if (MIN_TIME_COMPRESSION..=MAX_TIME_COMPRESSION).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be a number from 0.001 (a trace minute lasts 1000 minutes) to 1000000 \
             (a trace minute lasts 60 µs), found {value}"
        ))
    }
}

/// Whole microseconds of `duration`, or `None` past `u64`. Every [`run_length`] fits.
pub(crate) fn micros(duration: Duration) -> Option<u64> {
    u64::try_from(duration.as_micros()).ok()
}

/// Whole microseconds of `seconds` (at least 0), or `None` if they are not finite or do not fit
/// a `u64`.
pub(crate) fn seconds_to_micros(seconds: f64) -> Option<u64> {
    whole_micros(seconds * 1e6)
}

/// `micros` rounded down (at least 0), or `None` if not finite or past a `u64`.
pub(crate) fn whole_micros(micros: f64) -> Option<u64> {
    let micros = micros.floor();
    // 2⁶⁴ is exactly representable; anything from it up does not fit.
    (0.0..18_446_744_073_709_551_616.0)
        .contains(&micros)
        .then_some(micros as u64)
}

pub(crate) fn human_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|err| {
        serde::de::Error::custom(format!(
            "invalid duration `{text}` ({err}): expected e.g. \"30s\", \"5m\" or \"1h 30m\""
        ))
    })
}

pub(crate) fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    human_duration(deserializer).map(Some)
}

/// A duration as seconds, for the arrival processes, which compute in `f64`. Always finite.
pub(crate) fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    human_duration(deserializer).map(|d| d.as_secs_f64())
}

pub(crate) fn optional_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    seconds(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lengths_are_refused_outside_their_bounds_with_what_is_allowed() {
        assert_eq!(run_length(MAX_RUN), Ok(MAX_RUN));
        assert!(run_length(Duration::ZERO).unwrap_err().contains("zero"));
        let long = run_length(MAX_RUN + Duration::from_secs(1)).unwrap_err();
        assert!(long.contains("at most 366 days"), "{long}");
        assert!(micros(MAX_RUN).is_some());
    }

    #[test]
    fn time_compression_is_refused_outside_its_bounds_with_what_is_allowed() {
        assert_eq!(time_compression(60.0), Ok(60.0));
        for value in [0.0, 1e-20, 1e300, f64::NAN, f64::INFINITY, -1.0] {
            let message = time_compression(value).unwrap_err();
            assert!(
                message.contains("0.001") && message.contains("1000000"),
                "{message}"
            );
        }
    }

    #[test]
    fn seconds_become_microseconds_only_when_they_fit() {
        assert_eq!(seconds_to_micros(1.5), Some(1_500_000));
        assert_eq!(seconds_to_micros(0.0), Some(0));
        assert_eq!(seconds_to_micros(1.9e13), None);
        assert_eq!(seconds_to_micros(f64::INFINITY), None);
        assert_eq!(seconds_to_micros(f64::NAN), None);
        assert_eq!(seconds_to_micros(-1.0), None);
        assert_eq!(whole_micros(2.0f64.powi(64)), None);
        assert_eq!(whole_micros(2.0f64.powi(63)), Some(1 << 63));
    }
}
