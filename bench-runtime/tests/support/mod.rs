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

/// A valid guest whose code is large: `functions` functions of `ops` arithmetic steps each,
/// all reachable from `handle`, so that compiling it takes long. Stands in for a function
/// shipped with a big runtime or many dependencies.
pub fn large_module(functions: usize, ops: usize) -> String {
    let mut wat = String::from("(module\n  (memory (export \"memory\") 1)\n");
    for f in 0..functions {
        wat.push_str(&format!(
            "  (func $f{f} (param $x i32) (result i32)\n    local.get $x\n"
        ));
        for op in 0..ops {
            let instruction = match op % 3 {
                0 => "i32.add",
                1 => "i32.xor",
                _ => "i32.mul",
            };
            wat.push_str(&format!(
                "    i32.const {}\n    {instruction}\n",
                op * 7 + f
            ));
        }
        wat.push_str("  )\n");
    }
    wat.push_str("  (func (export \"handle\")\n    i32.const 1\n");
    for f in 0..functions {
        wat.push_str(&format!("    call $f{f}\n"));
    }
    wat.push_str("    drop)\n)\n");
    wat
}
