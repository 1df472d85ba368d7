//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)]

use std::time::Duration;

use bench_runtime::{FunctionConfig, ModuleSource, Runtime, RuntimeConfig};

/// A runtime with few instance slots, so that tests start fast.
pub fn runtime(config: RuntimeConfig) -> Runtime {
    Runtime::new(config.with_instance_slots(32)).expect("runtime starts")
}

/// A function running a built-in guest.
pub fn guest(name: &str, spec: &str) -> FunctionConfig {
    FunctionConfig::new(name, ModuleSource::Builtin(spec.into()))
}

/// Polls `check` every millisecond until it holds, at most `limit`.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let give_up = std::time::Instant::now() + limit;
    while std::time::Instant::now() < give_up {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    check()
}

pub mod http;
