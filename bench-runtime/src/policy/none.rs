//! `none`: no keep-alive at all.
//!
//! An instance is unloaded as soon as it finishes, so every invocation pays a cold start. It is
//! the baseline that the other policies' cold-start savings and memory costs are measured
//! against.

use super::{FunctionTraits, IdlePlan, KeepAlivePolicy, PolicyTime, Retention};

/// Unloads every instance as soon as it becomes idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoKeepAlive;

impl KeepAlivePolicy for NoKeepAlive {
    fn name(&self) -> &'static str {
        "none"
    }

    fn register(&mut self, _function: &str, _traits: FunctionTraits) {}

    fn unregister(&mut self, _function: &str) {}

    fn on_arrival(&mut self, _function: &str, _now: PolicyTime) {}

    fn on_idle(&mut self, _function: &str, _now: PolicyTime) -> IdlePlan {
        IdlePlan {
            retention: Retention::Discard,
            prewarm: None,
            priority: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::KeepAliveConfig;
    use super::*;

    #[test]
    fn every_idle_instance_is_discarded_without_prewarm() {
        let mut policy = NoKeepAlive;
        policy.register(
            "f",
            FunctionTraits {
                memory_mb: 128,
                keep_alive: Some(Duration::from_secs(600)),
            },
        );
        let mut now = Duration::ZERO;
        for _ in 0..20 {
            policy.on_arrival("f", now);
            now += Duration::from_millis(100);
            let plan = policy.on_idle("f", now);
            assert_eq!(plan.retention, Retention::Discard);
            assert_eq!(plan.prewarm, None);
            now += Duration::from_secs(60);
        }
    }

    #[test]
    fn configured_as_none() {
        let config: KeepAliveConfig = toml::from_str(r#"policy = "none""#).expect("valid config");
        assert_eq!(config, KeepAliveConfig::None {});
        assert_eq!(config.build().name(), "none");
    }
}
