//! `fixed`: keep every idle instance for the same time-to-live.
//!
//! This is what the large providers do (AWS Lambda keeps an idle instance for about ten
//! minutes), so it is the policy every other one is compared with. A deployment may set its own
//! TTL through [`FunctionTraits::keep_alive`]. Under memory pressure the least recently used
//! idle instance goes first.

use std::collections::HashMap;
use std::time::Duration;

use super::{FunctionTraits, IdlePlan, KeepAlivePolicy, PolicyTime, Retention};

/// Keeps an idle instance loaded for a fixed TTL.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedKeepAlive {
    ttl: Duration,
    /// Per-function TTL overrides, from [`FunctionTraits::keep_alive`].
    overrides: HashMap<String, Duration>,
}

impl FixedKeepAlive {
    /// AWS Lambda's keep-alive: 10 minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);

    /// Keeps idle instances for `ttl`, unless a function overrides it.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            overrides: HashMap::new(),
        }
    }

    /// The TTL of functions that do not override it.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The TTL that applies to `function`.
    pub fn ttl_of(&self, function: &str) -> Duration {
        self.overrides.get(function).copied().unwrap_or(self.ttl)
    }
}

impl Default for FixedKeepAlive {
    fn default() -> Self {
        Self::new(Self::DEFAULT_TTL)
    }
}

impl KeepAlivePolicy for FixedKeepAlive {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn register(&mut self, function: &str, traits: FunctionTraits) {
        match traits.keep_alive {
            Some(ttl) => {
                self.overrides.insert(function.to_owned(), ttl);
            }
            None => {
                self.overrides.remove(function);
            }
        }
    }

    fn unregister(&mut self, function: &str) {
        self.overrides.remove(function);
    }

    fn on_arrival(&mut self, _function: &str, _now: PolicyTime) {}

    fn on_idle(&mut self, function: &str, now: PolicyTime) -> IdlePlan {
        IdlePlan {
            retention: Retention::Until(now.saturating_add(self.ttl_of(function))),
            prewarm: None,
            // Least recently used first: the longer idle, the lower.
            priority: now.as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::KeepAliveConfig;
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn traits(keep_alive: Option<Duration>) -> FunctionTraits {
        FunctionTraits {
            memory_mb: 128,
            keep_alive,
        }
    }

    #[test]
    fn idle_instance_is_kept_for_the_ttl() {
        let mut policy = FixedKeepAlive::default();
        policy.register("f", traits(None));
        policy.on_arrival("f", 3 * MIN);
        let now = 3 * MIN + Duration::from_millis(100);
        let plan = policy.on_idle("f", now);
        assert_eq!(plan.retention, Retention::Until(now + 10 * MIN));
        assert_eq!(plan.prewarm, None);
    }

    #[test]
    fn a_function_override_replaces_the_ttl_for_that_function_only() {
        let mut policy = FixedKeepAlive::new(5 * MIN);
        policy.register("long", traits(Some(30 * MIN)));
        policy.register("plain", traits(None));
        let now = 7 * MIN;
        assert_eq!(
            policy.on_idle("long", now).retention,
            Retention::Until(now + 30 * MIN)
        );
        assert_eq!(
            policy.on_idle("plain", now).retention,
            Retention::Until(now + 5 * MIN)
        );

        // A redeploy without the override goes back to the policy's TTL, as does removal.
        policy.register("long", traits(None));
        assert_eq!(
            policy.on_idle("long", now).retention,
            Retention::Until(now + 5 * MIN)
        );
        policy.register("plain", traits(Some(MIN)));
        policy.unregister("plain");
        assert_eq!(
            policy.on_idle("plain", now).retention,
            Retention::Until(now + 5 * MIN)
        );
    }

    #[test]
    fn the_least_recently_used_instance_is_evicted_first_across_functions() {
        let mut policy = FixedKeepAlive::default();
        policy.register("a", traits(None));
        policy.register("b", traits(Some(60 * MIN)));
        let a = policy.on_idle("a", 2 * MIN);
        let b = policy.on_idle("b", 5 * MIN);
        let a_again = policy.on_idle("a", 9 * MIN);
        assert!(a.priority < b.priority, "older idle instance must go first");
        assert!(b.priority < a_again.priority);
        assert_eq!(b.priority, 300.0);
    }

    #[test]
    fn an_enormous_ttl_saturates_instead_of_overflowing() {
        let mut policy = FixedKeepAlive::new(Duration::MAX);
        let plan = policy.on_idle("f", MIN);
        assert_eq!(plan.retention, Retention::Until(Duration::MAX));
    }

    #[test]
    fn configured_with_a_ttl_or_the_default() {
        let config: KeepAliveConfig =
            toml::from_str("policy = \"fixed\"\nttl = \"5m\"").expect("valid config");
        assert_eq!(config, KeepAliveConfig::Fixed { ttl: 5 * MIN });
        let mut policy = config.build();
        assert_eq!(policy.name(), "fixed");
        assert_eq!(
            policy.on_idle("f", MIN).retention,
            Retention::Until(6 * MIN)
        );

        let config: KeepAliveConfig = toml::from_str(r#"policy = "fixed""#).expect("valid config");
        assert_eq!(config, KeepAliveConfig::default());
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let result = toml::from_str::<KeepAliveConfig>("policy = \"fixed\"\ntll = \"5m\"");
        let error = result.expect_err("a misspelt key must not be ignored");
        assert!(error.to_string().contains("tll"), "{error}");
    }
}
