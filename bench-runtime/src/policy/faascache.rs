//! `faascache`: keep-alive as Greedy-Dual-Size-Frequency caching (Fuerst & Sharma, "FaasCache:
//! Keeping Serverless Computing Alive with Greedy-Dual Caching", ASPLOS 2021).
//!
//! Idle instances are a cache of started functions: nothing expires, and when memory runs out
//! the runtime evicts the idle instance with the lowest priority. An instance's priority is set
//! when it goes idle:
//!
//! ```text
//! priority = clock + frequency × cost ÷ size
//! ```
//!
//! - `frequency`: how many invocations of the function have arrived so far (a count);
//! - `cost`: how long the function's most recent cold start took, in milliseconds (0 until
//!   one was reported with `on_start`);
//! - `size`: the memory of one instance in MiB (0 or unknown counts as 1);
//! - `clock`: starts at 0 and, at each eviction, rises to the evicted instance's priority if
//!   that is higher.
//!
//! So the cheapest instances to lose are those of functions that are rarely called, start
//! quickly or take much memory. The clock is what ages the cache: every eviction lifts the
//! floor that instances going idle later start from, so an instance that has sat idle through
//! many evictions is eventually outranked by fresh ones, however valuable its function.

use std::collections::HashMap;
use std::time::Duration;

use super::{FunctionTraits, IdlePlan, KeepAlivePolicy, PolicyTime, Retention};

/// Greedy-Dual-Size-Frequency keep-alive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaasCache {
    clock: f64,
    functions: HashMap<String, FunctionRecord>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct FunctionRecord {
    memory_mb: u32,
    arrivals: u64,
    start_cost_ms: f64,
}

impl FunctionRecord {
    /// frequency × cost ÷ size.
    fn value(&self) -> f64 {
        let size = f64::from(self.memory_mb.max(1));
        self.arrivals as f64 * self.start_cost_ms / size
    }
}

impl FaasCache {
    /// A cache with its clock at 0 and no function known.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Greedy-Dual clock: the priority floor of instances that go idle now.
    pub fn clock(&self) -> f64 {
        self.clock
    }
}

impl KeepAlivePolicy for FaasCache {
    fn name(&self) -> &'static str {
        "faascache"
    }

    fn register(&mut self, function: &str, traits: FunctionTraits) {
        // A redeploy keeps what was learnt about the function.
        self.functions
            .entry(function.to_owned())
            .or_default()
            .memory_mb = traits.memory_mb;
    }

    fn unregister(&mut self, function: &str) {
        self.functions.remove(function);
    }

    fn on_arrival(&mut self, function: &str, _now: PolicyTime) {
        let record = self.functions.entry(function.to_owned()).or_default();
        record.arrivals = record.arrivals.saturating_add(1);
    }

    fn on_start(&mut self, function: &str, cost: Duration, _now: PolicyTime) {
        self.functions
            .entry(function.to_owned())
            .or_default()
            .start_cost_ms = cost.as_secs_f64() * 1000.0;
    }

    fn on_idle(&mut self, function: &str, _now: PolicyTime) -> IdlePlan {
        let value = self
            .functions
            .get(function)
            .map_or(0.0, FunctionRecord::value);
        IdlePlan {
            retention: Retention::UntilEvicted,
            prewarm: None,
            priority: self.clock + value,
        }
    }

    fn on_evicted(&mut self, _function: &str, priority: f64, _now: PolicyTime) {
        // A NaN or infinite priority did not come from this policy; letting it in would freeze
        // every later priority.
        if priority.is_finite() && priority > self.clock {
            self.clock = priority;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::KeepAliveConfig;
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn deploy(policy: &mut FaasCache, function: &str, memory_mb: u32) {
        policy.register(
            function,
            FunctionTraits {
                memory_mb,
                keep_alive: None,
            },
        );
    }

    /// `arrivals` invocations of `function`, the first a cold start costing `cost`; returns the
    /// plan of its instance when the last one finishes at `now`.
    fn run(
        policy: &mut FaasCache,
        function: &str,
        arrivals: u32,
        cost: Duration,
        now: PolicyTime,
    ) -> IdlePlan {
        for i in 0..arrivals {
            policy.on_arrival(function, now);
            if i == 0 {
                policy.on_start(function, cost, now);
            }
        }
        policy.on_idle(function, now)
    }

    #[test]
    fn idle_instances_stay_until_evicted() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 128);
        let plan = run(&mut policy, "f", 1, Duration::from_millis(50), SEC);
        assert_eq!(plan.retention, Retention::UntilEvicted);
        assert_eq!(plan.prewarm, None);
    }

    #[test]
    fn priority_is_frequency_times_cost_over_size() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 128);
        // 10 arrivals × 200 ms ÷ 128 MiB.
        let plan = run(&mut policy, "f", 10, Duration::from_millis(200), SEC);
        assert_eq!(plan.priority, 15.625);
    }

    #[test]
    fn the_instance_with_less_value_per_mib_is_evicted_first() {
        let cost = Duration::from_millis(100);
        // Each pair differs in one factor only; the first of each pair must go first.
        let cases = [
            ("rarely called", (2, cost, 256), (20, cost, 256)),
            (
                "cheap to start",
                (5, Duration::from_millis(10), 256),
                (5, cost, 256),
            ),
            ("large", (5, cost, 2048), (5, cost, 128)),
        ];
        for (what, low, high) in cases {
            let mut policy = FaasCache::new();
            deploy(&mut policy, "low", low.2);
            deploy(&mut policy, "high", high.2);
            let low_plan = run(&mut policy, "low", low.0, low.1, SEC);
            let high_plan = run(&mut policy, "high", high.0, high.1, SEC);
            assert!(
                low_plan.priority < high_plan.priority,
                "{what}: {} should rank below {}",
                low_plan.priority,
                high_plan.priority
            );
        }
    }

    #[test]
    fn evictions_raise_the_clock_so_fresh_idle_instances_outrank_old_ones() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "valuable", 128);
        deploy(&mut policy, "cheap", 1024);
        deploy(&mut policy, "other", 128);

        let old = run(&mut policy, "valuable", 10, Duration::from_millis(200), SEC);
        let other = run(&mut policy, "other", 40, Duration::from_millis(100), SEC);
        assert_eq!(old.priority, 15.625);
        assert_eq!(other.priority, 31.25);

        // Memory pressure evicts the old instance, then another one ranked above it.
        policy.on_evicted("valuable", old.priority, 2 * SEC);
        assert_eq!(policy.clock(), 15.625);
        policy.on_evicted("other", other.priority, 3 * SEC);
        assert_eq!(policy.clock(), 31.25);

        // Now an instance of a cheap function that goes idle outranks the valuable one that
        // went idle before those evictions.
        let fresh = run(&mut policy, "cheap", 1, Duration::from_millis(10), 4 * SEC);
        assert!(fresh.priority > old.priority);
        assert!(fresh.priority > other.priority);

        // The clock never goes back.
        policy.on_evicted("cheap", 1.0, 5 * SEC);
        assert_eq!(policy.clock(), 31.25);
        policy.on_evicted("cheap", f64::NAN, 5 * SEC);
        policy.on_evicted("cheap", f64::INFINITY, 5 * SEC);
        assert_eq!(policy.clock(), 31.25);
    }

    #[test]
    fn zero_or_unknown_memory_counts_as_one_mib() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "zero", 0);
        let plan = run(&mut policy, "zero", 3, Duration::from_millis(20), SEC);
        assert_eq!(plan.priority, 60.0);
        // Never registered: the runtime still gets a finite priority.
        let plan = run(&mut policy, "stranger", 3, Duration::from_millis(20), SEC);
        assert_eq!(plan.priority, 60.0);
    }

    #[test]
    fn a_function_with_no_reported_start_has_no_value_above_the_clock() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 128);
        policy.on_evicted("g", 4.5, SEC);
        policy.on_arrival("f", SEC);
        assert_eq!(policy.on_idle("f", SEC).priority, 4.5);
    }

    #[test]
    fn the_cost_is_the_most_recent_start() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 1);
        policy.on_arrival("f", SEC);
        policy.on_start("f", Duration::from_millis(300), SEC);
        policy.on_start("f", Duration::from_millis(100), SEC);
        assert_eq!(policy.on_idle("f", SEC).priority, 100.0);
    }

    #[test]
    fn redeploy_keeps_history_and_removal_forgets_it() {
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 100);
        run(&mut policy, "f", 4, Duration::from_millis(50), SEC);
        deploy(&mut policy, "f", 200);
        assert_eq!(policy.on_idle("f", SEC).priority, 1.0);
        policy.unregister("f");
        assert_eq!(policy.on_idle("f", SEC).priority, 0.0);
    }

    #[test]
    fn configured_as_faascache() {
        let config: KeepAliveConfig =
            toml::from_str(r#"policy = "faascache""#).expect("valid config");
        assert_eq!(config, KeepAliveConfig::FaasCache {});
        assert_eq!(config.build().name(), "faascache");
    }
}
