//! `[load]`: how the schedule drives the platform — open loop on the schedule's clock, or a
//! fixed number of users for capacity tests — and `[start_kind]`: how cold starts are told
//! when the platform does not say.

use std::time::Duration;

use serde::{Deserialize, Serialize};

fn default_max_in_flight() -> usize {
    LoadSpec::DEFAULT_MAX_IN_FLIGHT
}

fn ten_milliseconds() -> Duration {
    Duration::from_millis(10)
}

fn one_percent() -> f64 {
    0.01
}

fn sixteen() -> usize {
    16
}

fn sixty_four() -> usize {
    64
}

/// How invocations are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LoadSpec {
    /// Each invocation at its scheduled time, whether or not earlier ones were answered.
    Open {
        /// Invocations in flight at most; one due beyond that is dropped, and counted.
        #[serde(default = "default_max_in_flight")]
        max_in_flight: usize,
        /// An invocation sent later than this after its scheduled time counts as late.
        #[serde(default = "ten_milliseconds", with = "humantime_serde")]
        late_after: Duration,
        /// The run is flagged as not holding its rate when dropped and late invocations are
        /// more than this share of the schedule.
        #[serde(default = "one_percent")]
        rate_tolerance: f64,
    },
    /// `users` each send an invocation, wait for its answer, think, and send the next. The
    /// schedule gives the sequence of functions and inputs; its times are ignored, and it
    /// starts over when used up before the duration ends.
    Closed {
        #[serde(default = "sixteen")]
        users: usize,
        #[serde(default, with = "humantime_serde")]
        think_time: Duration,
    },
    /// `concurrency` requests in flight at all times, each sent as soon as one finishes: the
    /// highest throughput the platform sustains.
    MaxThroughput {
        #[serde(default = "sixty_four")]
        concurrency: usize,
    },
}

impl Default for LoadSpec {
    fn default() -> Self {
        Self::Open {
            max_in_flight: default_max_in_flight(),
            late_after: ten_milliseconds(),
            rate_tolerance: one_percent(),
        }
    }
}

impl LoadSpec {
    /// Default bound on invocations in flight in open-loop mode.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

    /// The mode's name as written in scenario files.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Open { .. } => "open",
            Self::Closed { .. } => "closed",
            Self::MaxThroughput { .. } => "max-throughput",
        }
    }

    /// The most invocations in flight at once: the open loop's bound, or the users.
    pub fn max_in_flight(&self) -> usize {
        match self {
            Self::Open { max_in_flight, .. } => *max_in_flight,
            Self::Closed { users, .. } => *users,
            Self::MaxThroughput { concurrency } => *concurrency,
        }
    }

    /// The users of a closed loop and their think time (none at max throughput); `None` for
    /// the open loop.
    pub fn users(&self) -> Option<(usize, Duration)> {
        match self {
            Self::Open { .. } => None,
            Self::Closed { users, think_time } => Some((*users, *think_time)),
            Self::MaxThroughput { concurrency } => Some((*concurrency, Duration::ZERO)),
        }
    }

    /// Checks the values; on error, the key (under `load.`) and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            Self::Open {
                max_in_flight,
                rate_tolerance,
                late_after,
            } => {
                if *max_in_flight == 0 {
                    return Err(("max_in_flight", "must be at least 1".into()));
                }
                if *late_after > crate::request::MAX_WAIT {
                    return Err(("late_after", "must be at most a day (24h)".into()));
                }
                if !(0.0..=1.0).contains(rate_tolerance) {
                    return Err((
                        "rate_tolerance",
                        format!("must be between 0 and 1, found {rate_tolerance}"),
                    ));
                }
            }
            Self::Closed { users, .. } if *users == 0 => {
                return Err(("users", "must be at least 1".into()));
            }
            Self::Closed { think_time, .. } if *think_time > crate::request::MAX_WAIT => {
                return Err(("think_time", "must be at most a day (24h)".into()));
            }
            Self::MaxThroughput { concurrency } if *concurrency == 0 => {
                return Err(("concurrency", "must be at least 1".into()));
            }
            Self::Closed { .. } | Self::MaxThroughput { .. } => {}
        }
        Ok(())
    }
}

/// How to tell the start kind of an answer that carries no `x-faas-start` header. Results
/// mark such start kinds as inferred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "infer", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StartInference {
    /// An answer whose service time is at least `cold_above` was a cold start; others warm.
    Latency {
        #[serde(with = "humantime_serde")]
        cold_above: Duration,
    },
    /// The platform names the serving instance in this header: the first answer from each
    /// instance was its cold start; later ones warm.
    InstanceHeader { header: String },
}

impl StartInference {
    /// Checks the values; on error, the key (under `start_kind.`) and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            Self::Latency { cold_above } if cold_above.is_zero() => {
                Err(("cold_above", "must be longer than zero".into()))
            }
            Self::InstanceHeader { header }
                if header.is_empty()
                    || !header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) =>
            {
                Err((
                    "header",
                    format!("`{header}` is not a header name (letters, digits, `-`, `_`)"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// One line for reports, e.g. `service time ≥ 200ms`.
    pub fn describe(&self) -> String {
        match self {
            Self::Latency { cold_above } => format!(
                "cold when service time ≥ {}",
                humantime::format_duration(*cold_above)
            ),
            Self::InstanceHeader { header } => {
                format!("cold on the first answer from each `{header}`")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<LoadSpec, String> {
        let spec: LoadSpec = toml::from_str(text).map_err(|err| err.to_string())?;
        spec.check()
            .map_err(|(key, message)| format!("{key}: {message}"))?;
        Ok(spec)
    }

    #[test]
    fn modes_read_their_own_keys_with_defaults() {
        assert_eq!(load(r#"mode = "open""#).unwrap(), LoadSpec::default());
        assert_eq!(
            load("mode = \"closed\"\nusers = 8\nthink_time = \"5ms\"").unwrap(),
            LoadSpec::Closed {
                users: 8,
                think_time: Duration::from_millis(5)
            }
        );
        assert_eq!(
            load(r#"mode = "max-throughput""#).unwrap(),
            LoadSpec::MaxThroughput { concurrency: 64 }
        );
    }

    #[test]
    fn keys_of_another_mode_and_bad_values_are_refused() {
        for (text, expected) in [
            ("mode = \"open\"\nusers = 4", "unknown field `users`"),
            (
                "mode = \"closed\"\nmax_in_flight = 4",
                "unknown field `max_in_flight`",
            ),
            (r#"mode = "burst""#, "unknown variant `burst`"),
            (
                "mode = \"open\"\nmax_in_flight = 0",
                "max_in_flight: must be at least 1",
            ),
            ("mode = \"open\"\nrate_tolerance = 2.0", "rate_tolerance"),
            ("mode = \"closed\"\nusers = 0", "users: must be at least 1"),
            ("mode = \"max-throughput\"\nconcurrency = 0", "concurrency"),
        ] {
            let err = load(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn start_inference_is_latency_or_instance_header() {
        let parse = |text: &str| -> Result<StartInference, String> {
            let spec: StartInference = toml::from_str(text).map_err(|err| err.to_string())?;
            spec.check()
                .map_err(|(key, message)| format!("{key}: {message}"))?;
            Ok(spec)
        };
        assert_eq!(
            parse("infer = \"latency\"\ncold_above = \"150ms\"").unwrap(),
            StartInference::Latency {
                cold_above: Duration::from_millis(150)
            }
        );
        assert_eq!(
            parse("infer = \"instance-header\"\nheader = \"x-instance\"").unwrap(),
            StartInference::InstanceHeader {
                header: "x-instance".into()
            }
        );
        assert!(
            parse("infer = \"latency\"")
                .unwrap_err()
                .contains("missing field `cold_above`")
        );
        assert!(
            parse("infer = \"instance-header\"\nheader = \"a b\"")
                .unwrap_err()
                .contains("not a header name")
        );
    }
}
