//! `hybrid-histogram`: per-function pre-warm and keep-alive windows learnt from the function's
//! idle times, after Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing the
//! Serverless Workload at a Large Cloud Provider" (USENIX ATC 2020).
//!
//! A fixed keep-alive wastes memory on functions called rarely and still cold-starts functions
//! called just past the TTL. Many functions are called at regular intervals (timers, polling),
//! so the policy learns each function's *idle times* and plans around them.
//!
//! **Idle time.** The time from the moment a function has no invocation in flight (an
//! [`on_idle`](KeepAlivePolicy::on_idle) that leaves none in flight) to its next
//! [`on_arrival`](KeepAlivePolicy::on_arrival). Arrivals while another invocation is in flight
//! record nothing: the function was never idle.
//!
//! **Histogram.** Idle times shorter than `range` (default 4 h) are counted in bins of `bin`
//! (default 1 min), 240 bins by default; longer ones are counted as *out of range*. Each
//! function costs one fixed array of counters, whatever its number of invocations.
//!
//! **Decision**, when an instance goes idle at `now`:
//!
//! 1. *Out of range.* If at least `out_of_range_share` (default ½) of the recorded idle times
//!    are out of range: keep the instance until `now + out_of_range_keep_alive` (default 8 h).
//! 2. *Fallback.* Else, if the histogram is not representative — fewer than `min_samples`
//!    (default 10) idle times in range, or a coefficient of variation of the bin counts below
//!    `cv_threshold` (default 2) — keep the instance until `now + fallback`, where fallback is
//!    the deployment's [`FunctionTraits::keep_alive`] if set, else `fallback_keep_alive`
//!    (default: the range, 4 h, the paper's "standard keep-alive").
//! 3. *Pattern.* Else the head (`head_percentile`, default 5th) is read at the lower edge of
//!    its bin and the tail (`tail_percentile`, default 99th) at the upper edge of its bin, so
//!    both err on the safe side; a `margin` (default 10 %) widens them further:
//!    pre-warm window = head × (1 − margin), keep-alive horizon = tail × (1 + margin). If the
//!    pre-warm window is zero, the instance is kept until `now + horizon`. Otherwise it is
//!    unloaded now and a fresh one is pre-warmed from `now + pre-warm window` until
//!    `now + horizon`, just ahead of the expected next invocation.
//!
//! Both windows are counted from the moment the instance went idle; the paper's keep-alive
//! window, counted from the pre-warm, is horizon − pre-warm window.
//!
//! **Percentile.** The `p`-th percentile is the nearest-rank one over the in-range idle times:
//! the first bin, counting from the shortest idle times, at which the cumulative count reaches
//! `p` % of the in-range total. With 29 idle times, the 5th percentile is the bin holding the
//! 2nd shortest (5 % of 29 = 1.45) and the 99th the bin holding the longest.
//!
//! **Coefficient of variation.** Population standard deviation over mean of the counts of all
//! bins, empty ones included. Idle times spread evenly over `k` of the 240 bins give
//! CV = √(240/k − 1), so with the default threshold of 2 a histogram is representative when
//! its idle times concentrate in at most 48 one-minute bins.
//!
//! **No ARIMA.** For out-of-range functions the paper forecasts the next idle time with an
//! ARIMA model; this policy keeps the instance for a fixed, long window instead. ARIMA needs a
//! time-series model fitted per function on very few samples — a function whose idle times
//! exceed 4 h has at most a handful a day — and fits on such data are unstable; it would also
//! add a heavy dependency. The case covers a tiny share of invocations, and a fixed window
//! bounds the memory it costs and behaves predictably in comparisons between policies.
//!
//! Under memory pressure the least recently used idle instance goes first, as with `fixed`.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{FunctionTraits, IdlePlan, KeepAlivePolicy, PolicyTime, Prewarm, Retention};

/// The most bins a histogram may have, so that one function's counters stay within 40 KiB.
const MAX_BINS: u64 = 10_000;

/// Settings of the `hybrid-histogram` policy: the `[keep_alive]` table with
/// `policy = "hybrid-histogram"`. Every field has a default, and settings are checked when they
/// are read (see [`validate`](Self::validate)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// `remote = "Self"` turns the derives into inherent functions, so that the trait impls below
// can validate what was read.
#[serde(remote = "Self", default, deny_unknown_fields)]
pub struct HybridHistogramConfig {
    /// Width of one histogram bin. Default 1 min.
    #[serde(with = "humantime_serde")]
    pub bin: Duration,
    /// Idle times shorter than this are binned, longer ones counted as out of range. A whole
    /// number of bins, at most 10 000. Default 4 h.
    #[serde(with = "humantime_serde")]
    pub range: Duration,
    /// Percentile of idle times that sets the pre-warm window, in (0, 100]. Default 5.
    pub head_percentile: f64,
    /// Percentile of idle times that sets the keep-alive horizon, in [head, 100]. Default 99.
    pub tail_percentile: f64,
    /// Share by which the pre-warm window is shortened and the keep-alive horizon lengthened,
    /// in [0, 1). Default 0.10.
    pub margin: f64,
    /// In-range idle times needed before the histogram is trusted. Default 10.
    pub min_samples: u32,
    /// Coefficient of variation of the bin counts below which the histogram shows no pattern,
    /// at least 0. Default 2.
    pub cv_threshold: f64,
    /// Share of out-of-range idle times, in (0, 1], from which a function counts as called too
    /// rarely for the histogram. Default 0.5.
    pub out_of_range_share: f64,
    /// Keep-alive of functions called too rarely for the histogram. Default 8 h.
    #[serde(with = "humantime_serde")]
    pub out_of_range_keep_alive: Duration,
    /// Keep-alive while the histogram is not representative, unless the deployment sets its
    /// own. Default 4 h.
    #[serde(with = "humantime_serde")]
    pub fallback_keep_alive: Duration,
}

impl Default for HybridHistogramConfig {
    fn default() -> Self {
        Self {
            bin: Duration::from_secs(60),
            range: Duration::from_secs(4 * 60 * 60),
            head_percentile: 5.0,
            tail_percentile: 99.0,
            margin: 0.10,
            min_samples: 10,
            cv_threshold: 2.0,
            out_of_range_share: 0.5,
            out_of_range_keep_alive: Duration::from_secs(8 * 60 * 60),
            fallback_keep_alive: Duration::from_secs(4 * 60 * 60),
        }
    }
}

impl HybridHistogramConfig {
    /// Checks that the settings make sense together; says which one does not and why.
    pub fn validate(&self) -> Result<(), InvalidHybridHistogramConfig> {
        let invalid = |field, expected, found: String| {
            Err(InvalidHybridHistogramConfig {
                field,
                expected,
                found,
            })
        };
        if self.bin.is_zero() {
            return invalid("bin", "a duration above zero", format!("{:?}", self.bin));
        }
        let bins = self.range.as_nanos() / self.bin.as_nanos();
        if bins == 0 || !self.range.as_nanos().is_multiple_of(self.bin.as_nanos()) {
            return invalid(
                "range",
                "a whole number of bins, at least one",
                format!("{:?} with bins of {:?}", self.range, self.bin),
            );
        }
        if bins > u128::from(MAX_BINS) {
            return invalid(
                "range",
                "at most 10000 bins",
                format!("{bins} bins of {:?}", self.bin),
            );
        }
        if !(self.head_percentile > 0.0 && self.head_percentile <= 100.0) {
            return invalid(
                "head_percentile",
                "a percentile above 0 and at most 100",
                self.head_percentile.to_string(),
            );
        }
        if !(self.tail_percentile >= self.head_percentile && self.tail_percentile <= 100.0) {
            return invalid(
                "tail_percentile",
                "a percentile from head_percentile to 100",
                self.tail_percentile.to_string(),
            );
        }
        if !(self.margin >= 0.0 && self.margin < 1.0) {
            return invalid(
                "margin",
                "a share from 0 up to, not including, 1",
                self.margin.to_string(),
            );
        }
        if !(self.cv_threshold >= 0.0 && self.cv_threshold.is_finite()) {
            return invalid(
                "cv_threshold",
                "a finite number, at least 0",
                self.cv_threshold.to_string(),
            );
        }
        if !(self.out_of_range_share > 0.0 && self.out_of_range_share <= 1.0) {
            return invalid(
                "out_of_range_share",
                "a share above 0 and at most 1",
                self.out_of_range_share.to_string(),
            );
        }
        Ok(())
    }

    /// Number of histogram bins. Meaningful only for a valid config.
    fn bin_count(&self) -> usize {
        let bins = self.range.as_nanos() / self.bin.as_nanos().max(1);
        usize::try_from(bins).unwrap_or(usize::MAX)
    }
}

impl Serialize for HybridHistogramConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        HybridHistogramConfig::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for HybridHistogramConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let config = HybridHistogramConfig::deserialize(deserializer)?;
        config.validate().map_err(serde::de::Error::custom)?;
        Ok(config)
    }
}

/// A [`HybridHistogramConfig`] setting that is out of its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHybridHistogramConfig {
    /// The setting, as named in the configuration file.
    pub field: &'static str,
    /// What it must be.
    pub expected: &'static str,
    /// What it was.
    pub found: String,
}

impl fmt::Display for InvalidHybridHistogramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hybrid-histogram `{}`: expected {}, found {}",
            self.field, self.expected, self.found
        )
    }
}

impl std::error::Error for InvalidHybridHistogramConfig {}

/// The windows a function's next idle instance gets, measured from the moment it goes idle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HybridWindows {
    /// The idle times show a pattern. With a zero `prewarm` the instance stays loaded for
    /// `keep_alive`; otherwise it is unloaded, and a fresh one is loaded after `prewarm` and
    /// kept until `keep_alive`.
    Pattern {
        prewarm: Duration,
        keep_alive: Duration,
    },
    /// Too few idle times, or no pattern in them: the instance stays loaded for `keep_alive`.
    Fallback { keep_alive: Duration },
    /// Most idle times are longer than the histogram's range: the instance stays loaded for
    /// `keep_alive`.
    OutOfRange { keep_alive: Duration },
}

impl HybridWindows {
    fn plan(self, now: PolicyTime) -> IdlePlan {
        let (retention, prewarm) = match self {
            Self::Pattern {
                prewarm,
                keep_alive,
            } if !prewarm.is_zero() => (
                Retention::Discard,
                Some(Prewarm {
                    at: now.saturating_add(prewarm),
                    until: now.saturating_add(keep_alive),
                }),
            ),
            Self::Pattern { keep_alive, .. }
            | Self::Fallback { keep_alive }
            | Self::OutOfRange { keep_alive } => {
                (Retention::Until(now.saturating_add(keep_alive)), None)
            }
        };
        IdlePlan {
            retention,
            prewarm,
            // Least recently used first, as `fixed`.
            priority: now.as_secs_f64(),
        }
    }
}

/// The hybrid histogram keep-alive policy. See the module docs.
#[derive(Debug, Clone)]
pub struct HybridHistogram {
    config: HybridHistogramConfig,
    functions: HashMap<String, FunctionHistory>,
}

/// What the policy knows about one function.
#[derive(Debug, Clone)]
struct FunctionHistory {
    keep_alive_override: Option<Duration>,
    in_flight: u32,
    /// When the in-flight count last fell to zero; `None` while an invocation is in flight.
    idle_since: Option<PolicyTime>,
    /// In-range idle times per bin.
    counts: Box<[u32]>,
    /// Sum of `counts`.
    in_range: u64,
    /// Sum of the squares of `counts`, for the coefficient of variation.
    squares: u128,
    out_of_range: u64,
    /// Kept current as idle times are recorded, so that `on_idle` costs no scan of the bins.
    windows: HybridWindows,
}

impl Default for HybridHistogram {
    /// The paper's settings.
    fn default() -> Self {
        Self::new(HybridHistogramConfig::default())
    }
}

impl HybridHistogram {
    /// A policy with these settings.
    ///
    /// # Panics
    ///
    /// If `config` is invalid (see [`HybridHistogramConfig::validate`]). Configurations read
    /// from a file have been validated already; use [`try_new`](Self::try_new) for ones built
    /// in code.
    pub fn new(config: HybridHistogramConfig) -> Self {
        match Self::try_new(config) {
            Ok(policy) => policy,
            Err(error) => panic!("{error}"),
        }
    }

    /// A policy with these settings, or why they are invalid.
    pub fn try_new(config: HybridHistogramConfig) -> Result<Self, InvalidHybridHistogramConfig> {
        config.validate()?;
        Ok(Self {
            config,
            functions: HashMap::new(),
        })
    }

    /// The policy's settings.
    pub fn config(&self) -> &HybridHistogramConfig {
        &self.config
    }

    /// The windows `function`'s next idle instance gets, or `None` for a function the policy
    /// has not seen.
    pub fn windows(&self, function: &str) -> Option<HybridWindows> {
        self.functions.get(function).map(|history| history.windows)
    }
}

impl FunctionHistory {
    fn new(config: &HybridHistogramConfig, keep_alive_override: Option<Duration>) -> Self {
        let mut history = Self {
            keep_alive_override,
            in_flight: 0,
            idle_since: None,
            counts: vec![0; config.bin_count()].into_boxed_slice(),
            in_range: 0,
            squares: 0,
            out_of_range: 0,
            windows: HybridWindows::Fallback {
                keep_alive: Duration::ZERO,
            },
        };
        history.windows = history.decide(config);
        history
    }

    fn record(&mut self, idle_time: Duration, config: &HybridHistogramConfig) {
        if idle_time >= config.range {
            self.out_of_range = self.out_of_range.saturating_add(1);
        } else {
            let bin = idle_time.as_nanos() / config.bin.as_nanos();
            let Some(count) = usize::try_from(bin)
                .ok()
                .and_then(|bin| self.counts.get_mut(bin))
            else {
                return;
            };
            // A saturated bin stops counting, and the sums with it, so they stay consistent.
            if let Some(next) = count.checked_add(1) {
                self.squares += 2 * u128::from(*count) + 1;
                *count = next;
                self.in_range += 1;
            }
        }
        self.windows = self.decide(config);
    }

    fn decide(&self, config: &HybridHistogramConfig) -> HybridWindows {
        let total = self.in_range.saturating_add(self.out_of_range);
        if total > 0 && self.out_of_range as f64 >= config.out_of_range_share * total as f64 {
            return HybridWindows::OutOfRange {
                keep_alive: config.out_of_range_keep_alive,
            };
        }
        if self.in_range == 0
            || self.in_range < u64::from(config.min_samples)
            || self.coefficient_of_variation() < config.cv_threshold
        {
            return HybridWindows::Fallback {
                keep_alive: self
                    .keep_alive_override
                    .unwrap_or(config.fallback_keep_alive),
            };
        }
        let head_bin = self.percentile_bin(config.head_percentile);
        let tail_bin = self.percentile_bin(config.tail_percentile);
        let head = bin_edge(config.bin, head_bin);
        let tail = bin_edge(config.bin, tail_bin + 1);
        HybridWindows::Pattern {
            prewarm: scale(head, 1.0 - config.margin),
            keep_alive: scale(tail, 1.0 + config.margin),
        }
    }

    /// Population standard deviation over mean of all bin counts; needs `in_range > 0`.
    fn coefficient_of_variation(&self) -> f64 {
        // n²·variance = n·Σc² − (Σc)², exact in integers.
        let n = self.counts.len() as u128;
        let sum = u128::from(self.in_range);
        let spread = (n * self.squares).saturating_sub(sum * sum);
        (spread as f64).sqrt() / sum as f64
    }

    /// The first bin at which the cumulative count reaches `percentile` % of the in-range
    /// total (nearest rank).
    fn percentile_bin(&self, percentile: f64) -> usize {
        let threshold = percentile * self.in_range as f64;
        let mut cumulative = 0u64;
        for (bin, &count) in self.counts.iter().enumerate() {
            cumulative += u64::from(count);
            // Compared as cumulative/total ≥ p/100, multiplied out to stay exact.
            if cumulative as f64 * 100.0 >= threshold {
                return bin;
            }
        }
        self.counts.len().saturating_sub(1)
    }
}

/// The lower edge of bin `index`, i.e. the upper edge of bin `index − 1`.
fn bin_edge(bin: Duration, index: usize) -> Duration {
    bin.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX))
}

/// `duration × factor`, rounded to the nanosecond so that whole values stay whole.
fn scale(duration: Duration, factor: f64) -> Duration {
    // The cast saturates; windows beyond 584 years are not a concern.
    Duration::from_nanos((duration.as_nanos() as f64 * factor).round() as u64)
}

impl KeepAlivePolicy for HybridHistogram {
    fn name(&self) -> &'static str {
        "hybrid-histogram"
    }

    fn register(&mut self, function: &str, traits: FunctionTraits) {
        match self.functions.get_mut(function) {
            // A redeploy keeps the learnt idle times.
            Some(history) => {
                history.keep_alive_override = traits.keep_alive;
                history.windows = history.decide(&self.config);
            }
            None => {
                let history = FunctionHistory::new(&self.config, traits.keep_alive);
                self.functions.insert(function.to_owned(), history);
            }
        }
    }

    fn unregister(&mut self, function: &str) {
        self.functions.remove(function);
    }

    fn on_arrival(&mut self, function: &str, now: PolicyTime) {
        // Looked up before inserting, so that the common case allocates no key.
        if !self.functions.contains_key(function) {
            let history = FunctionHistory::new(&self.config, None);
            self.functions.insert(function.to_owned(), history);
        }
        let Some(history) = self.functions.get_mut(function) else {
            return;
        };
        if history.in_flight == 0 {
            // A clock that went backwards gives no idle time rather than a false one.
            if let Some(idle_time) = history
                .idle_since
                .take()
                .and_then(|since| now.checked_sub(since))
            {
                history.record(idle_time, &self.config);
            }
        }
        history.in_flight = history.in_flight.saturating_add(1);
    }

    fn on_idle(&mut self, function: &str, now: PolicyTime) -> IdlePlan {
        let Some(history) = self.functions.get_mut(function) else {
            // Unknown (e.g. removed while running): nothing learnt, nothing to remember.
            return HybridWindows::Fallback {
                keep_alive: self.config.fallback_keep_alive,
            }
            .plan(now);
        };
        history.in_flight = history.in_flight.saturating_sub(1);
        if history.in_flight == 0 {
            history.idle_since = Some(now);
        }
        history.windows.plan(now)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, KeepAliveConfig, ManualClock};
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const SEC: Duration = Duration::from_secs(1);
    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);
    const EXEC: Duration = Duration::from_millis(100);

    fn policy() -> HybridHistogram {
        HybridHistogram::new(HybridHistogramConfig::default())
    }

    fn deploy(policy: &mut HybridHistogram, function: &str, keep_alive: Option<Duration>) {
        policy.register(
            function,
            FunctionTraits {
                memory_mb: 128,
                keep_alive,
            },
        );
    }

    /// Drives `function` as the runtime does, on a manual clock: for each idle time, an
    /// arrival, an `on_idle` `EXEC` later, and the next arrival that idle time after it. Starts
    /// at `start`; returns the time and the plan of the last `on_idle` (after the last idle
    /// time's arrival).
    fn drive(
        policy: &mut HybridHistogram,
        function: &str,
        start: PolicyTime,
        idle_times: impl IntoIterator<Item = Duration>,
    ) -> (PolicyTime, IdlePlan) {
        let clock = ManualClock::new();
        clock.set(start);
        policy.on_arrival(function, clock.now());
        clock.advance(EXEC);
        let mut plan = policy.on_idle(function, clock.now());
        for idle_time in idle_times {
            clock.advance(idle_time);
            policy.on_arrival(function, clock.now());
            clock.advance(EXEC);
            plan = policy.on_idle(function, clock.now());
        }
        (clock.now(), plan)
    }

    /// `cycles` invocations `period` apart, each running `EXEC`.
    fn periodic(
        policy: &mut HybridHistogram,
        function: &str,
        period: Duration,
        cycles: usize,
    ) -> (PolicyTime, IdlePlan) {
        let idle_times = std::iter::repeat_n(period - EXEC, cycles - 1);
        drive(policy, function, Duration::ZERO, idle_times)
    }

    fn recorded(policy: &HybridHistogram, function: &str) -> (u64, u64) {
        let history = &policy.functions[function];
        (history.in_range, history.out_of_range)
    }

    #[test]
    fn every_ten_minutes_unloads_and_prewarms_ahead_of_the_next_call() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        let (now, plan) = periodic(&mut policy, "f", 10 * MIN, 30);
        assert_eq!(now, 290 * MIN + EXEC);

        // 29 idle times of 9 min 59.9 s, all in bin [9 min, 10 min): the head is its lower
        // edge, 9 min, less 10 %; the tail its upper edge, 10 min, plus 10 %.
        let prewarm = Duration::from_secs(486);
        let keep_alive = Duration::from_secs(660);
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Pattern {
                prewarm,
                keep_alive
            })
        );
        assert_eq!(
            plan,
            IdlePlan {
                retention: Retention::Discard,
                prewarm: Some(Prewarm {
                    at: now + prewarm,
                    until: now + keep_alive,
                }),
                priority: now.as_secs_f64(),
            }
        );

        // What the user relies on: the next call finds the pre-warmed instance.
        let next_arrival = 300 * MIN;
        let window = plan.prewarm.map(|p| p.at..=p.until);
        assert!(window.is_some_and(|w| w.contains(&next_arrival)));
    }

    #[test]
    fn too_few_idle_times_fall_back_to_the_standard_keep_alive() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        let (now, plan) = periodic(&mut policy, "f", 10 * MIN, 10);
        assert_eq!(recorded(&policy, "f"), (9, 0));
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Fallback {
                keep_alive: 4 * HOUR
            })
        );
        assert_eq!(plan.retention, Retention::Until(now + 4 * HOUR));
        assert_eq!(plan.prewarm, None);

        // One more idle time reaches min_samples, and the pattern takes over.
        let (_, plan) = drive(&mut policy, "f", now + 10 * MIN - EXEC, []);
        assert_eq!(plan.retention, Retention::Discard);
    }

    #[test]
    fn the_fallback_is_the_deployment_keep_alive_when_it_sets_one() {
        let mut policy = policy();
        deploy(&mut policy, "f", Some(15 * MIN));
        let (now, plan) = periodic(&mut policy, "f", 10 * MIN, 4);
        assert_eq!(plan.retention, Retention::Until(now + 15 * MIN));
        assert_eq!(plan.prewarm, None);
    }

    #[test]
    fn idle_times_spread_evenly_over_the_range_fall_back() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        // One idle time in each of the 240 bins: CV 0.
        let idle_times = (0..240).map(|minute| minute * MIN + 30 * SEC);
        let (now, plan) = drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(recorded(&policy, "f"), (240, 0));
        assert_eq!(plan.retention, Retention::Until(now + 4 * HOUR));
        assert_eq!(plan.prewarm, None);
    }

    #[test]
    fn a_cv_of_exactly_the_threshold_is_a_pattern() {
        // Spread evenly over k bins, CV = √(240/k − 1): 2 at k = 48, below 2 at k = 49.
        let spread = |bins: u32| (0..bins).map(|minute| minute * MIN + 30 * SEC);

        let mut policy = policy();
        let (_, plan) = drive(&mut policy, "f", Duration::ZERO, spread(49));
        assert_eq!(plan.prewarm, None);
        assert!(matches!(
            policy.windows("f"),
            Some(HybridWindows::Fallback { .. })
        ));

        // 48 idle times: the 5th percentile is the 3rd (5 % of 48 = 2.4), in bin 2, whose
        // lower edge is 2 min; the 99th is the 48th, in bin 47, whose upper edge is 48 min.
        let mut policy = self::policy();
        drive(&mut policy, "f", Duration::ZERO, spread(48));
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Pattern {
                prewarm: Duration::from_secs(108),
                keep_alive: Duration::from_secs(3168),
            })
        );
    }

    #[test]
    fn mostly_very_long_idle_times_get_the_long_keep_alive() {
        let mut policy = policy();
        deploy(&mut policy, "f", Some(15 * MIN));
        // 7 of 12 idle times above 4 h.
        let idle_times = [5 * HOUR; 7].into_iter().chain([10 * MIN; 5]);
        let (now, plan) = drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(recorded(&policy, "f"), (5, 7));
        assert_eq!(plan.retention, Retention::Until(now + 8 * HOUR));
        assert_eq!(plan.prewarm, None);
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::OutOfRange {
                keep_alive: 8 * HOUR
            })
        );

        // Exactly half is enough.
        let mut policy = self::policy();
        let idle_times = [5 * HOUR; 12].into_iter().chain([10 * MIN; 12]);
        let (now, plan) = drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(recorded(&policy, "f"), (12, 12));
        assert_eq!(plan.retention, Retention::Until(now + 8 * HOUR));

        // A minority of long idle times is not.
        let mut policy = self::policy();
        let idle_times = [5 * HOUR; 11].into_iter().chain([10 * MIN; 12]);
        let (_, plan) = drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(plan.retention, Retention::Discard);
    }

    #[test]
    fn the_windows_and_the_rarity_cut_off_follow_the_settings() {
        let mut policy = HybridHistogram::new(HybridHistogramConfig {
            fallback_keep_alive: 30 * MIN,
            out_of_range_keep_alive: 24 * HOUR,
            out_of_range_share: 0.25,
            ..HybridHistogramConfig::default()
        });
        let (now, plan) = drive(&mut policy, "f", Duration::ZERO, [10 * MIN; 3]);
        assert_eq!(plan.retention, Retention::Until(now + 30 * MIN));
        let (now, plan) = drive(&mut policy, "f", now + 5 * HOUR, []);
        assert_eq!(recorded(&policy, "f"), (3, 1));
        assert_eq!(plan.retention, Retention::Until(now + 24 * HOUR));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        // 20 idle times: the 5th percentile is the 1st (5 % of 20 = 1), the 99th the 20th.
        let mut policy = policy();
        let idle_times = [3 * MIN + 30 * SEC]
            .into_iter()
            .chain([10 * MIN - EXEC; 18])
            .chain([20 * MIN + 30 * SEC]);
        drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Pattern {
                // 3 min − 10 %, and 21 min + 10 %.
                prewarm: Duration::from_secs(162),
                keep_alive: Duration::from_secs(1386),
            })
        );

        // 100 idle times: the 99th percentile is the 99th, so one outlier does not stretch
        // the keep-alive.
        let mut policy = self::policy();
        let idle_times = [10 * MIN - EXEC; 99].into_iter().chain([30 * MIN]);
        drive(&mut policy, "f", Duration::ZERO, idle_times);
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Pattern {
                prewarm: Duration::from_secs(486),
                keep_alive: Duration::from_secs(660),
            })
        );
    }

    #[test]
    fn the_range_ends_at_exactly_four_hours() {
        let mut policy = policy();
        drive(&mut policy, "in", Duration::ZERO, [4 * HOUR - MS]);
        drive(&mut policy, "out", Duration::ZERO, [4 * HOUR]);
        assert_eq!(recorded(&policy, "in"), (1, 0));
        assert_eq!(recorded(&policy, "out"), (0, 1));
        assert_eq!(policy.functions["in"].counts.len(), 240);
        assert_eq!(policy.functions["in"].counts[239], 1);
    }

    #[test]
    fn idle_times_under_a_minute_keep_the_instance_loaded_through_the_tail() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        let (now, plan) = periodic(&mut policy, "f", 30 * SEC, 20);
        // Head and tail both in bin [0, 1 min): no pre-warm, keep-alive 1 min + 10 %.
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Pattern {
                prewarm: Duration::ZERO,
                keep_alive: Duration::from_secs(66),
            })
        );
        assert_eq!(
            plan.retention,
            Retention::Until(now + Duration::from_secs(66))
        );
        assert_eq!(plan.prewarm, None);
    }

    #[test]
    fn concurrent_invocations_record_no_idle_time() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        let mut plan = None;
        let mut now = Duration::ZERO;
        for cycle in 0..30 {
            // Bursts of three overlapping invocations: two arrive before any finishes, and the
            // third while the second is still running.
            let start = cycle * 10 * MIN;
            policy.on_arrival("f", start);
            policy.on_arrival("f", start + 2 * SEC);
            policy.on_idle("f", start + 3 * SEC);
            policy.on_arrival("f", start + 5 * SEC);
            policy.on_idle("f", start + 6 * SEC);
            now = start + 7 * SEC;
            plan = Some(policy.on_idle("f", now));
        }
        // Only the gaps between bursts: 29 idle times of 9 min 53 s. Bogus short idle times
        // would have pulled the head into the first bin and cancelled the pre-warm.
        assert_eq!(recorded(&policy, "f"), (29, 0));
        assert_eq!(policy.functions["f"].counts[9], 29);
        assert_eq!(
            plan.and_then(|p| p.prewarm),
            Some(Prewarm {
                at: now + Duration::from_secs(486),
                until: now + Duration::from_secs(660),
            })
        );
    }

    #[test]
    fn unmatched_idle_reports_do_not_disturb_the_in_flight_count() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        policy.on_idle("f", Duration::ZERO);
        policy.on_idle("f", Duration::ZERO);
        // Every arrival still finds nothing in flight and records its idle time: 10 min since
        // the unmatched reports, then 29 of 9 min 59.9 s.
        let idle_times = std::iter::repeat_n(10 * MIN - EXEC, 29);
        let (now, plan) = drive(&mut policy, "f", 10 * MIN, idle_times);
        assert_eq!(recorded(&policy, "f"), (30, 0));
        assert_eq!(policy.functions["f"].counts[10], 1);
        // The 99th percentile is now the 10-minute idle time: its bin ends at 11 min.
        assert_eq!(
            plan.prewarm,
            Some(Prewarm {
                at: now + Duration::from_secs(486),
                until: now + Duration::from_secs(726),
            })
        );
    }

    #[test]
    fn the_least_recently_idle_instance_is_evicted_first() {
        let mut policy = policy();
        deploy(&mut policy, "a", None);
        deploy(&mut policy, "b", None);
        policy.on_arrival("a", MIN);
        policy.on_arrival("b", MIN);
        let b = policy.on_idle("b", 2 * MIN);
        let a = policy.on_idle("a", 3 * MIN);
        assert!(b.priority < a.priority);
        assert_eq!(b.priority, 120.0);
    }

    #[test]
    fn redeploy_keeps_history_and_removal_forgets_it() {
        let mut policy = policy();
        deploy(&mut policy, "f", None);
        let (now, _) = periodic(&mut policy, "f", 10 * MIN, 5);
        assert_eq!(recorded(&policy, "f"), (4, 0));

        deploy(&mut policy, "f", Some(20 * MIN));
        assert_eq!(recorded(&policy, "f"), (4, 0));
        assert_eq!(
            policy.windows("f"),
            Some(HybridWindows::Fallback {
                keep_alive: 20 * MIN
            })
        );
        // Still idle since before the redeploy: the next arrival records its idle time.
        drive(&mut policy, "f", now + 10 * MIN - EXEC, []);
        assert_eq!(recorded(&policy, "f"), (5, 0));

        policy.unregister("f");
        assert_eq!(policy.windows("f"), None);
        // An instance still running at removal gets the policy's fallback and leaves no record.
        let plan = policy.on_idle("f", now);
        assert_eq!(plan.retention, Retention::Until(now + 4 * HOUR));
        assert_eq!(policy.windows("f"), None);

        deploy(&mut policy, "f", None);
        assert_eq!(recorded(&policy, "f"), (0, 0));
    }

    #[test]
    fn a_clock_going_backwards_records_no_idle_time() {
        let mut policy = policy();
        policy.on_arrival("f", 10 * MIN);
        policy.on_idle("f", 10 * MIN + EXEC);
        policy.on_arrival("f", 5 * MIN);
        assert_eq!(recorded(&policy, "f"), (0, 0));
    }

    #[test]
    fn configured_by_name_alone_with_the_paper_defaults() {
        let config: KeepAliveConfig =
            toml::from_str(r#"policy = "hybrid-histogram""#).expect("valid config");
        let KeepAliveConfig::HybridHistogram(settings) = &config else {
            panic!("parsed as {config:?}");
        };
        assert_eq!(settings, &HybridHistogramConfig::default());
        assert_eq!(settings.bin, MIN);
        assert_eq!(settings.range, 4 * HOUR);
        assert_eq!(settings.bin_count(), 240);
        assert_eq!(
            (settings.head_percentile, settings.tail_percentile),
            (5.0, 99.0)
        );
        assert_eq!(settings.margin, 0.10);
        assert_eq!(settings.min_samples, 10);
        assert_eq!(settings.cv_threshold, 2.0);
        assert_eq!(settings.out_of_range_share, 0.5);
        assert_eq!(settings.out_of_range_keep_alive, 8 * HOUR);
        assert_eq!(settings.fallback_keep_alive, 4 * HOUR);
        assert_eq!(config.build().name(), "hybrid-histogram");
    }

    #[test]
    fn every_setting_can_be_given() {
        let text = r#"
            policy = "hybrid-histogram"
            bin = "30s"
            range = "2h"
            head_percentile = 1
            tail_percentile = 99.5
            margin = 0.2
            min_samples = 3
            cv_threshold = 1.5
            out_of_range_share = 0.75
            out_of_range_keep_alive = "1day"
            fallback_keep_alive = "20m"
        "#;
        let config: KeepAliveConfig = toml::from_str(text).expect("valid config");
        let expected = HybridHistogramConfig {
            bin: 30 * SEC,
            range: 2 * HOUR,
            head_percentile: 1.0,
            tail_percentile: 99.5,
            margin: 0.2,
            min_samples: 3,
            cv_threshold: 1.5,
            out_of_range_share: 0.75,
            out_of_range_keep_alive: 24 * HOUR,
            fallback_keep_alive: 20 * MIN,
        };
        assert_eq!(config, KeepAliveConfig::HybridHistogram(expected.clone()));

        let written = toml::to_string(&config).expect("serializable");
        let reread: KeepAliveConfig = toml::from_str(&written).expect("round trip");
        assert_eq!(reread, KeepAliveConfig::HybridHistogram(expected));
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let result =
            toml::from_str::<KeepAliveConfig>("policy = \"hybrid-histogram\"\nhead_percentil = 5");
        let error = result.expect_err("a misspelt key must not be ignored");
        assert!(error.to_string().contains("head_percentil"), "{error}");
    }

    #[test]
    fn settings_that_cannot_work_are_refused_with_the_setting_named() {
        let cases = [
            ("bin = \"0s\"", "`bin`"),
            ("range = \"90s\"", "`range`"),
            ("bin = \"1s\"\nrange = \"1day\"", "`range`"),
            ("head_percentile = 0", "`head_percentile`"),
            ("tail_percentile = 4", "`tail_percentile`"),
            ("tail_percentile = 101", "`tail_percentile`"),
            ("margin = 1.0", "`margin`"),
            ("cv_threshold = -1", "`cv_threshold`"),
            ("out_of_range_share = 0", "`out_of_range_share`"),
        ];
        for (setting, named) in cases {
            let text = format!("policy = \"hybrid-histogram\"\n{setting}");
            let result = toml::from_str::<KeepAliveConfig>(&text);
            let error = result.expect_err(setting);
            assert!(error.to_string().contains(named), "{setting}: {error}");
        }
    }

    #[test]
    fn invalid_settings_built_in_code_are_refused() {
        let config = HybridHistogramConfig {
            margin: f64::NAN,
            ..HybridHistogramConfig::default()
        };
        let error = HybridHistogram::try_new(config).expect_err("NaN margin");
        assert_eq!(error.field, "margin");
    }
}
