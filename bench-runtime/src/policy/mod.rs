//! Keep-alive policies: how long an idle instance stays loaded, when to pre-warm one, and which
//! idle instance to evict when memory runs out.
//!
//! Policies are pure logic over time values read from an injected [`Clock`]: no wasmtime, no
//! tokio. The live runtime drives them with a [`ScaledClock`] (trace time, `k`× faster than
//! real time when a scenario compresses time `k`×), the simulator with a [`ManualClock`], and
//! both get the very same decisions.
//!
//! | policy | idle instance | eviction order under memory pressure |
//! |---|---|---|
//! | [`NoKeepAlive`] (`none`) | discarded at once | — |
//! | [`FixedKeepAlive`] (`fixed`) | kept for a TTL (default 10 min, as AWS Lambda) | least recently used first |
//! | [`HybridHistogram`] (`hybrid-histogram`) | per-function pre-warm and keep-alive windows from its idle-time histogram (Shahrad et al., ATC 2020) | least recently used first |
//! | [`FaasCache`] (`faascache`) | kept until evicted (Fuerst & Sharma, ASPLOS 2021) | lowest Greedy-Dual-Size-Frequency priority first |
//!
//! Pre-warming `N` instances at deploy is a property of the function, not of the policy, and
//! combines with any of them.

mod clock;
mod faascache;
mod fixed;
mod hybrid_histogram;
mod none;

use std::time::Duration;

pub use clock::{Clock, ManualClock, ScaledClock};
pub use faascache::FaasCache;
pub use fixed::FixedKeepAlive;
pub use hybrid_histogram::{
    HybridHistogram, HybridHistogramConfig, HybridWindows, InvalidHybridHistogramConfig,
};
pub use none::NoKeepAlive;

/// A point in time on the policy clock: the time since the clock's origin, in trace time.
pub type PolicyTime = Duration;

/// What a policy is told about a function when it is deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTraits {
    /// Memory size of one instance, MiB.
    pub memory_mb: u32,
    /// The deployment's keep-alive override: the TTL of `fixed`, and the fallback keep-alive of
    /// `hybrid-histogram`. `None` uses the policy's own setting.
    pub keep_alive: Option<Duration>,
}

/// How long an instance that just became idle stays loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retention {
    /// Unload it now.
    Discard,
    /// Keep it idle until this time, then unload it.
    Until(PolicyTime),
    /// Keep it until memory pressure evicts it.
    UntilEvicted,
}

/// Load a fresh instance at `at` and keep it idle until `until` unless an invocation uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prewarm {
    pub at: PolicyTime,
    pub until: PolicyTime,
}

/// The decision for an instance that just finished an invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdlePlan {
    pub retention: Retention,
    /// A pre-warm window to open for the function, if any.
    pub prewarm: Option<Prewarm>,
    /// Eviction order under memory pressure: the idle instance with the lowest priority goes
    /// first. Comparable across functions.
    pub priority: f64,
}

/// A keep-alive policy. One object serves all functions of a runtime.
///
/// The runtime (and the simulator, through the same pools) calls, for every invocation of a
/// function: [`on_arrival`](Self::on_arrival) when it arrives; [`on_access`](Self::on_access)
/// when an instance takes it on — an idle one, or one just started for it; and
/// [`on_idle`](Self::on_idle) exactly once when it ends. `on_idle` is also called for arrivals
/// that never got an instance (refused for capacity, their start failed, or their caller left
/// first), so that a policy counting invocations in flight never loses one. Every instance
/// that leaves memory — evicted under pressure, expired, discarded by the plan, failed,
/// cancelled or replaced by a redeploy — is reported with [`on_unloaded`](Self::on_unloaded).
/// Under memory pressure the idle instance with the lowest priority is evicted first.
pub trait KeepAlivePolicy: Send {
    /// The policy's name as written in configuration (`none`, `fixed`, ...).
    fn name(&self) -> &'static str;

    /// A function was deployed (or redeployed with new traits).
    fn register(&mut self, function: &str, traits: FunctionTraits);

    /// A function was removed; forget what was learnt about it.
    fn unregister(&mut self, function: &str);

    /// An invocation of `function` arrived at `now`.
    fn on_arrival(&mut self, function: &str, now: PolicyTime);

    /// An instance of `function` took on an invocation at `now`: an idle one (`started` is
    /// `None`), or a new one whose start took `started`. Returns the priority every idle
    /// instance of the function takes from now on, for policies that re-rank a function's
    /// instances on each access (Greedy-Dual does), or `None` (the default).
    fn on_access(
        &mut self,
        _function: &str,
        _started: Option<Duration>,
        _now: PolicyTime,
    ) -> Option<f64> {
        None
    }

    /// An invocation of `function` ended at `now`. Its instance, if it keeps one, is idle now:
    /// the plan says for how long. The plan's pre-warm applies to the function either way.
    fn on_idle(&mut self, function: &str, now: PolicyTime) -> IdlePlan;

    /// The eviction priority of an instance of `function` that becomes idle at `now` without
    /// having served an invocation: a pre-warmed or provisioned one. By default the time,
    /// in seconds: least recently used first.
    fn priority(&self, _function: &str, now: PolicyTime) -> f64 {
        now.as_secs_f64()
    }

    /// An instance of `function` that had served `hits` invocations left memory at `now`.
    /// `evicted_at` is its priority when it was evicted to make room for another instance,
    /// `None` for every other way of leaving. By default nothing is learnt from it.
    fn on_unloaded(
        &mut self,
        _function: &str,
        _hits: u64,
        _evicted_at: Option<f64>,
        _now: PolicyTime,
    ) {
    }
}

/// Which policy a runtime uses, with its settings. The `serde` form is the `[keep_alive]`
/// table of the runtime configuration file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KeepAliveConfig {
    None {},
    Fixed {
        /// How long an idle instance stays loaded. Default 10 min.
        #[serde(default = "default_ttl", with = "humantime_serde")]
        ttl: Duration,
    },
    HybridHistogram(HybridHistogramConfig),
    #[serde(rename = "faascache")]
    FaasCache {},
}

fn default_ttl() -> Duration {
    FixedKeepAlive::DEFAULT_TTL
}

impl Default for KeepAliveConfig {
    fn default() -> Self {
        Self::Fixed {
            ttl: FixedKeepAlive::DEFAULT_TTL,
        }
    }
}

impl std::fmt::Display for KeepAliveConfig {
    /// `none`, `fixed (TTL 10m)`, `hybrid-histogram` or `faascache`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None {} => f.write_str("none"),
            Self::Fixed { ttl } => write!(f, "fixed (TTL {})", humantime::format_duration(*ttl)),
            Self::HybridHistogram(_) => f.write_str("hybrid-histogram"),
            Self::FaasCache {} => f.write_str("faascache"),
        }
    }
}

impl KeepAliveConfig {
    /// A fresh policy object with these settings.
    pub fn build(&self) -> Box<dyn KeepAlivePolicy> {
        match self {
            Self::None {} => Box::new(NoKeepAlive),
            Self::Fixed { ttl } => Box::new(FixedKeepAlive::new(*ttl)),
            Self::HybridHistogram(config) => Box::new(HybridHistogram::new(config.clone())),
            Self::FaasCache {} => Box::new(FaasCache::new()),
        }
    }
}
