//! `faascache`: keep-alive as Greedy-Dual-Size-Frequency caching (Fuerst & Sharma, "FaasCache:
//! Keeping Serverless Computing Alive with Greedy-Dual Caching", ASPLOS 2021).
//!
//! Idle instances are a cache of started functions: nothing expires, and when memory runs out
//! the runtime evicts the idle instance with the lowest priority:
//!
//! ```text
//! priority = clock + frequency × cost ÷ size
//! ```
//!
//! - `frequency`: the invocations served by the function's instances that are still loaded.
//!   Each instance counts its own hits; an instance that leaves memory takes its hits with it,
//!   so once every instance of the function is gone the frequency is back to zero;
//! - `cost`: how long the function's most recent start took, in milliseconds (0 until one was
//!   reported) — what the next miss would cost;
//! - `size`: the memory of one instance in MiB (0 or unknown counts as 1);
//! - `clock`: starts at 0 and, at each eviction under memory pressure, rises to the evicted
//!   instance's priority if that is higher. It never goes back.
//!
//! The priority is computed at every access of the function — an idle instance reused, or a
//! new one started — and every idle instance of the function takes it then: a function's
//! instances are ranked together. An instance that goes idle keeps the priority of its
//! function's last access; a pre-warmed instance gets the priority computed when it is
//! loaded. This is how the authors' simulator (aFuerst/faascache-sim, `calc_priority` and
//! `runActivation`) ranks containers; its clock may also fall, which this one does not.
//!
//! So the cheapest instances to lose are those of functions that are rarely called, start
//! quickly or take much memory. The clock is what ages the cache: every eviction lifts the
//! floor that later accesses start from, so an instance that has sat idle through many
//! evictions is eventually outranked by fresh ones, however valuable its function.

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
    start_cost_ms: f64,
    /// Hits of the function's loaded instances.
    hits: u64,
    /// Computed at the function's last access.
    priority: f64,
}

impl FunctionRecord {
    /// frequency × cost ÷ size.
    fn value(&self) -> f64 {
        let size = f64::from(self.memory_mb.max(1));
        self.hits as f64 * self.start_cost_ms / size
    }
}

impl FaasCache {
    /// A cache with its clock at 0 and no function known.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Greedy-Dual clock: the priority floor of accesses from now on.
    pub fn clock(&self) -> f64 {
        self.clock
    }

    /// The frequency term of `function`: hits of its loaded instances.
    pub fn frequency(&self, function: &str) -> u64 {
        self.functions.get(function).map_or(0, |record| record.hits)
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

    fn on_arrival(&mut self, _function: &str, _now: PolicyTime) {}

    fn on_access(
        &mut self,
        function: &str,
        started: Option<Duration>,
        _now: PolicyTime,
    ) -> Option<f64> {
        let record = self.functions.entry(function.to_owned()).or_default();
        if let Some(cost) = started {
            record.start_cost_ms = cost.as_secs_f64() * 1000.0;
        }
        record.hits = record.hits.saturating_add(1);
        record.priority = self.clock + record.value();
        Some(record.priority)
    }

    fn on_idle(&mut self, function: &str, _now: PolicyTime) -> IdlePlan {
        IdlePlan {
            retention: Retention::UntilEvicted,
            prewarm: None,
            priority: self
                .functions
                .get(function)
                .map_or(self.clock, |record| record.priority),
        }
    }

    fn priority(&self, function: &str, _now: PolicyTime) -> f64 {
        self.clock
            + self
                .functions
                .get(function)
                .map_or(0.0, FunctionRecord::value)
    }

    fn on_unloaded(
        &mut self,
        function: &str,
        hits: u64,
        evicted_at: Option<f64>,
        _now: PolicyTime,
    ) {
        if let Some(record) = self.functions.get_mut(function) {
            record.hits = record.hits.saturating_sub(hits);
        }
        // A NaN or infinite priority did not come from this policy; letting it in would freeze
        // every later priority.
        if let Some(priority) = evicted_at
            && priority.is_finite()
            && priority > self.clock
        {
            self.clock = priority;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, KeepAliveConfig, ManualClock};
    use super::*;

    const SEC: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    fn deploy(policy: &mut FaasCache, function: &str, memory_mb: u32) {
        policy.register(
            function,
            FunctionTraits {
                memory_mb,
                keep_alive: None,
            },
        );
    }

    /// One invocation as the pools report it: arrival, access (a start costing `start` or a
    /// warm reuse), end. Returns the priority of the access and of the idle instance.
    fn invocation(
        policy: &mut FaasCache,
        function: &str,
        start: Option<Duration>,
        clock: &ManualClock,
    ) -> (Option<f64>, f64) {
        policy.on_arrival(function, clock.now());
        let access = policy.on_access(function, start, clock.now());
        clock.advance(10 * MS);
        let idle = policy.on_idle(function, clock.now());
        assert_eq!(idle.retention, Retention::UntilEvicted);
        assert_eq!(idle.prewarm, None);
        (access, idle.priority)
    }

    /// A sequence worked by hand: f is 128 MiB; sizes and costs are chosen so that every
    /// figure is exact in binary floating point.
    #[test]
    fn a_hand_computed_sequence_of_accesses_evictions_and_unloads() {
        let clock = ManualClock::new();
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 128);
        deploy(&mut policy, "g", 64);

        // A cold start of 200 ms: frequency 1 → 0 + 1 × 200 ÷ 128.
        assert_eq!(
            invocation(&mut policy, "f", Some(200 * MS), &clock),
            (Some(1.5625), 1.5625)
        );
        // Reused: frequency 2 → 3.125, which every idle instance of f takes.
        clock.advance(SEC);
        assert_eq!(
            invocation(&mut policy, "f", None, &clock),
            (Some(3.125), 3.125)
        );
        // A second instance started in 100 ms: the cost is the latest start's, frequency 3.
        assert_eq!(
            invocation(&mut policy, "f", Some(100 * MS), &clock),
            (Some(2.34375), 2.34375)
        );
        assert_eq!(policy.frequency("f"), 3);

        // g: 1 hit × 64 ms ÷ 64 MiB = 1, below f; pressure evicts g's instance first.
        let (_, g) = invocation(&mut policy, "g", Some(64 * MS), &clock);
        assert_eq!(g, 1.0);
        policy.on_unloaded("g", 1, Some(g), clock.now());
        assert_eq!((policy.clock(), policy.frequency("g")), (1.0, 0));

        // Then f's first instance (2 hits) goes: f keeps the 1 hit of its second instance
        // and the clock rises to the evicted priority.
        policy.on_unloaded("f", 2, Some(2.34375), clock.now());
        assert_eq!((policy.clock(), policy.frequency("f")), (2.34375, 1));
        // The next access of f ranks from the new clock: 2.34375 + 2 × 100 ÷ 128.
        assert_eq!(
            invocation(&mut policy, "f", None, &clock),
            (Some(3.90625), 3.90625)
        );

        // Once every instance of f has left memory, its frequency is gone.
        policy.on_unloaded("f", 2, None, clock.now());
        assert_eq!(policy.frequency("f"), 0);
        assert_eq!(policy.priority("f", clock.now()), 2.34375);
        // A new start counts from one hit again: 2.34375 + 1 × 100 ÷ 128.
        assert_eq!(
            invocation(&mut policy, "f", Some(100 * MS), &clock),
            (Some(3.125), 3.125)
        );
    }

    #[test]
    fn prewarmed_instances_are_ranked_on_the_priority_scale_not_by_time() {
        let clock = ManualClock::new();
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 100);
        invocation(&mut policy, "f", Some(50 * MS), &clock);
        policy.on_unloaded("other", 0, Some(31.25), clock.now());
        clock.advance(1000 * SEC);
        // clock 31.25 + 1 hit × 50 ms ÷ 100 MiB, whatever the time.
        assert_eq!(policy.priority("f", clock.now()), 31.75);
        // A function never invoked sits at the clock.
        assert_eq!(policy.priority("unknown", clock.now()), 31.25);
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
            let clock = ManualClock::new();
            let mut policy = FaasCache::new();
            deploy(&mut policy, "low", low.2);
            deploy(&mut policy, "high", high.2);
            let mut priorities = [0.0; 2];
            for (slot, (name, (hits, cost, _))) in
                [("low", low), ("high", high)].into_iter().enumerate()
            {
                invocation(&mut policy, name, Some(cost), &clock);
                for _ in 1..hits {
                    priorities[slot] = invocation(&mut policy, name, None, &clock).1;
                }
            }
            assert!(
                priorities[0] < priorities[1],
                "{what}: {} should rank below {}",
                priorities[0],
                priorities[1]
            );
        }
    }

    #[test]
    fn the_clock_never_goes_back_nor_takes_a_bogus_priority() {
        let mut policy = FaasCache::new();
        policy.on_unloaded("f", 0, Some(31.25), SEC);
        policy.on_unloaded("f", 0, Some(1.0), SEC);
        policy.on_unloaded("f", 0, Some(f64::NAN), SEC);
        policy.on_unloaded("f", 0, Some(f64::INFINITY), SEC);
        policy.on_unloaded("f", 0, None, SEC);
        assert_eq!(policy.clock(), 31.25);
    }

    #[test]
    fn zero_or_unknown_memory_counts_as_one_mib() {
        let clock = ManualClock::new();
        let mut policy = FaasCache::new();
        deploy(&mut policy, "zero", 0);
        assert_eq!(
            invocation(&mut policy, "zero", Some(20 * MS), &clock).1,
            20.0
        );
        // Never registered: still a finite priority.
        assert_eq!(
            invocation(&mut policy, "stranger", Some(20 * MS), &clock).1,
            20.0
        );
    }

    #[test]
    fn redeploy_keeps_history_and_removal_forgets_it() {
        let clock = ManualClock::new();
        let mut policy = FaasCache::new();
        deploy(&mut policy, "f", 100);
        invocation(&mut policy, "f", Some(50 * MS), &clock);
        invocation(&mut policy, "f", None, &clock);
        deploy(&mut policy, "f", 200);
        // 2 hits × 50 ms ÷ 200 MiB.
        assert_eq!(policy.priority("f", clock.now()), 0.5);
        policy.unregister("f");
        assert_eq!(policy.frequency("f"), 0);
        assert_eq!(policy.priority("f", clock.now()), 0.0);
    }

    #[test]
    fn configured_as_faascache() {
        let config: KeepAliveConfig =
            toml::from_str(r#"policy = "faascache""#).expect("valid config");
        assert_eq!(config, KeepAliveConfig::FaasCache {});
        assert_eq!(config.build().name(), "faascache");
    }
}
