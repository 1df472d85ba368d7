//! The faasbench reference runtime: WebAssembly functions on wasmtime behind an HTTP API.
//!
//! This is the platform faasbench measures and the yardstick other platforms are compared with.
//! The load generator reaches it only through the HTTP protocol (`POST /invoke/{function}` with
//! `x-faas-*` measurement headers), so any FaaS platform can stand in its place; the runtime
//! knows nothing of the load generator. The harness embeds it for `faasbench run`.
//!
//! # Start kinds
//!
//! An invocation is served by an idle instance from the function's warm pool (`warm`) or, when
//! none is idle and the function is below its instance limit, by a new instance (`cold`: the
//! module is compiled with Cranelift, instantiated and its `init` run). When the limit is
//! reached, the invocation waits for an instance; the wait is reported as queue time. An
//! instance that traps is discarded.
//!
//! # Guest ABI
//!
//! A function is a core WebAssembly module that
//!
//! - exports its linear memory as `memory`;
//! - exports `handle: [] -> []`, called once per invocation;
//! - may export `init: [] -> []`, called once when an instance starts;
//! - may import these functions from the module `faas`:
//!
//! | import | type | does |
//! |---|---|---|
//! | `input_len` | `[] -> [i32]` | length of the request body in bytes |
//! | `input_read` | `[ptr: i32, len: i32] -> [i32]` | copies up to `len` bytes of the body to `ptr`; returns the number copied |
//! | `output_write` | `[ptr: i32, len: i32] -> []` | appends `len` bytes at `ptr` to the response body |
//! | `now_us` | `[] -> [i64]` | microseconds on a monotonic clock |
//!
//! A pointer or length outside the guest's memory, or output beyond the runtime's limit, traps.
//! Memory may grow up to the function's memory size; growing past it traps. A trap answers the
//! request with status 500 and the trap message.
//!
//! The built-in guests in [`guests`] follow this ABI.
//!
//! # HTTP API
//!
//! | request | answer |
//! |---|---|
//! | `POST /invoke/{function}` | 200 with the output and `x-faas-start`, `x-faas-init-us`, `x-faas-queue-us`, `x-faas-exec-us`, `x-faas-billed-ms`, `x-faas-memory-mb`, `x-faas-instance`; 404 unknown function; 413 body too large; 500 trap or failed start |
//! | `GET /functions` | deployed function names, one per line |
//! | `GET /healthz` | 200 `ok` |

mod abi;
mod api;
mod config;
mod config_file;
mod deploy;
mod engine;
mod error;
mod function;
pub mod guests;
mod instance;
mod keeper;
mod metering;
pub mod policy;
mod pool;
mod runtime;
mod server;
mod snapshot;
mod stats;

pub use config::RuntimeConfig;
pub use config_file::{ConfigFileError, RuntimeFile};
pub use error::{DeployError, EngineError, InvokeError};
pub use function::{FunctionConfig, ModuleSource};
pub use metering::{Metering, StartKind, billed_ms};
pub use runtime::{InvocationOutput, Runtime, StartedInstance};
pub use server::RuntimeServer;
pub use stats::{Evictions, FunctionStats, InstanceCounts, Outcomes, RuntimeStats, StartCounts};
