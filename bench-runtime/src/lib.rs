//! The faasbench reference runtime: WebAssembly functions on wasmtime behind an HTTP API.
//!
//! This is the platform faasbench measures and the yardstick other platforms are compared with.
//! The load generator reaches it only through the HTTP protocol (`POST /invoke/{function}` with
//! `x-faas-*` measurement headers), so any FaaS platform can stand in its place; the runtime
//! knows nothing of the load generator. The harness embeds it for `faasbench run` and serves it
//! standalone with `faasbench serve`.
//!
//! # Start kinds
//!
//! | kind | what happens |
//! |---|---|
//! | `cold` | the module is compiled with Cranelift, instantiated, and its `init` run |
//! | `snapshot` | the function's snapshot module is instantiated: memory and mutable globals as they were right after the first `init`, mapped copy-on-write; `init` is skipped |
//! | `warm` | an idle instance is taken from the function's warm pool |
//!
//! A snapshot is captured once per function, from its first cold start (see
//! [Snapshots](crate#snapshots)); from then on new instances start from it. Snapshots can be turned
//! off ([`RuntimeConfig::snapshots`]).
//!
//! # Warm pools, capacity and keep-alive
//!
//! Each function runs up to `max_instances` invocations at once, each on its own instance;
//! further invocations wait in a queue of `max_queue` and beyond it get 429 with `retry-after`.
//! Every live instance holds its function's memory size against the runtime's capacity
//! ([`RuntimeConfig::capacity_mb`]) and one of the allocator's instance slots. When a new
//! instance does not fit, idle instances are evicted in the order the keep-alive policy gives;
//! when nothing can be evicted, the invocation gets 429.
//!
//! What happens to an instance after an invocation is up to the keep-alive policy
//! ([`policy`]): `none`, `fixed` (a TTL, 10 minutes by default), `hybrid-histogram` (windows
//! learnt per function, with pre-warming) or `faascache` (Greedy-Dual-Size-Frequency). A
//! background task unloads instances whose keep-alive ran out and opens pre-warm windows.
//! Policies run on a clock that goes [`RuntimeConfig::time_scale`] times faster than real time,
//! so a 10-minute keep-alive stays 10 trace-minutes when a scenario compresses time.
//! A function's `prewarm` instances are started at deploy and kept whatever the policy says.
//!
//! # Limits
//!
//! | limit | answer | the instance |
//! |---|---|---|
//! | the function's `timeout` (epoch interruption, also during `init`, `sleep_ms` and `invoke`) | 504 | discarded |
//! | memory growth past the function's `memory_mb` | 500, trap message | discarded |
//! | output past [`RuntimeConfig::max_output_bytes`] | 500, trap message | discarded |
//! | any other trap | 500, trap message with the guest function and offset | discarded |
//! | request body past [`RuntimeConfig::max_body_bytes`] | 413 | — |
//! | unknown function | 404 | — |
//!
//! Computing guests yield to the executor at every epoch tick (1 ms), so a long computation
//! never holds a thread for long and other invocations keep being served. Compilation — every
//! cold start compiles the module with Cranelift, and so does every snapshot build — runs on
//! blocking threads, at most [`RuntimeConfig::compile_threads`] at once (default: the number of
//! cores), so the threads serving HTTP keep answering during a storm of cold starts. Unloaded
//! instances are dropped by a thread of their own, so an answer never waits for an instance's
//! memory to be reset.
//!
//! Deployments are checked before anything runs: `timeout` 1 ms to 1 h, `max_instances` 1 to
//! 100 000, `max_queue` up to 1 000 000, a `keep_alive` override up to 365 days, `memory_mb` up
//! to [`RuntimeConfig::max_function_memory_mb`], built-in guest parameters within their ranges
//! (`init-heavy`: `init_ms` up to an hour, `state_mib` up to 4000). Anything else is refused
//! with 400 (or a configuration error) naming the field and its range.
//!
//! # Cancellation
//!
//! An invocation whose caller leaves — an HTTP/1.1 client that hangs up, an HTTP/2 stream that
//! is reset, the caller of a chain that times out while its callee runs — is cancelled where
//! it stands and gives back everything it held: its place in the queue, its instance slot, the
//! memory reserved for a starting instance, and its instance. A guest that was running is
//! **discarded, not run to completion**: it is interrupted at its next wait or epoch tick and
//! its instance is unloaded rather than kept warm (its state is that of an interrupted call).
//! A start that was under way is abandoned; a compilation already running finishes on its
//! thread and is dropped. Cancelled invocations are counted as `cancelled` in `/metrics`, and
//! so are the instances unloaded for it.
//!
//! # Guest ABI
//!
//! A function is a core WebAssembly module that
//!
//! - defines and exports its linear memory as `memory`;
//! - exports `handle: [] -> []`, called once per invocation;
//! - may export `init: [] -> []`, called once when an instance starts cold;
//! - may import these functions from the module `faas`:
//!
//! | import | type | does |
//! |---|---|---|
//! | `input_len` | `[] -> [i32]` | length of the request body in bytes |
//! | `input_read` | `[ptr: i32, len: i32] -> [i32]` | copies up to `len` bytes of the body to `ptr`; returns the number copied |
//! | `output_write` | `[ptr: i32, len: i32] -> []` | appends `len` bytes at `ptr` to the response body |
//! | `now_us` | `[] -> [i64]` | microseconds on a monotonic clock |
//! | `sleep_ms` | `[ms: i32] -> []` | waits asynchronously; the wait holds no thread |
//! | `invoke` | `[name_ptr, name_len, input_ptr, input_len: i32] -> [i32]` | invokes another function with the given input; returns the length of its output. Traps if the call fails, naming the function and why |
//! | `invoke_result_read` | `[ptr: i32, len: i32] -> [i32]` | copies up to `len` bytes of the last `invoke`'s output to `ptr` |
//!
//! A pointer or length outside the guest's memory traps. `invoke` calls nest at most
//! [`RuntimeConfig::max_chain_depth`] deep. Work parameters arrive in the request body, so a
//! trace-derived profile sets each invocation's CPU and I/O time through its input (see the
//! `work` guest). The built-in guests in [`guests`] follow this ABI.
//!
//! # Snapshots
//!
//! A snapshot restores linear memory, mutable globals, and which passive data segments `init`
//! dropped (they stay dropped). Its copy-on-write memory image is built with the snapshot,
//! off the invocation path, so the first snapshot start costs what later ones do. It is not
//! possible for a module with
//! an imported or 64-bit memory or with a mutable global of a reference type; such a function
//! always starts cold, and its stats say why. `init` must not change tables.
//!
//! # HTTP API
//!
//! | request | answer |
//! |---|---|
//! | `POST /invoke/{function}` | 200 with the output and `x-faas-start`, `x-faas-init-us`, `x-faas-queue-us`, `x-faas-exec-us`, `x-faas-billed-ms`, `x-faas-memory-mb`, `x-faas-instance`, and `x-faas-delayed-by-start: 1` when a start delayed the invocation; errors as above (failed invocations carry the headers too); 429 with `retry-after` when the queue or the capacity is full |
//! | `PUT /functions/{function}` | deploys: the body is the module (WebAssembly binary or text), or `?guest=<spec>` names a built-in guest; `memory_mb`, `timeout`, `max_instances`, `max_queue`, `prewarm`, `keep_alive` as query parameters. 201 created, 200 replaced, 400 with the reason |
//! | `GET /functions`, `GET /functions/{function}` | JSON: each function's settings and figures |
//! | `DELETE /functions/{function}` | 204, or 404 |
//! | `GET /metrics` | Prometheus text: starts by kind, invocations by outcome, instances busy/idle, queue, evictions by reason, deployments, idle memory-time, memory used. Counters never go back for the life of the process: a redeploy, or a removal and a later deploy under the same name, goes on from them |
//! | `GET /healthz` | 200 `ok` |
//!
//! The server speaks HTTP/1.1 with keep-alive and HTTP/2 over cleartext on the same port.
//! A connection is closed when idle for [`RuntimeConfig::idle_timeout`] (60 s: no request in
//! flight or begun; HTTP/2 by GOAWAY) or when an HTTP/1.1 request head takes longer than
//! [`RuntimeConfig::header_timeout`] (10 s) to arrive; a request in flight is never cut. The
//! listen backlog is [`RuntimeConfig::listen_backlog`] (4096, capped by the kernel's
//! `net.core.somaxconn`), and the server raises its soft limit of open files to the hard
//! limit, since each connection holds one.
//!
//! `x-faas-start` says how the instance that served the invocation was started. An
//! invocation that waited in the queue while another invocation's instance started, and then
//! got that instance, is `warm` — and waited all the same: its `x-faas-queue-us` shows how
//! long, and `x-faas-delayed-by-start: 1` says a start delayed it (it is also sent for cold and
//! snapshot starts, which were delayed by their own start). Load generators count these
//! beside cold starts.
//!
//! A request body over [`RuntimeConfig::max_body_bytes`] gets 413. The rest of the body is
//! read and thrown away (up to 64 MiB) so that a client still sending sees the answer rather
//! than a reset connection; a body announced beyond that, or by a client waiting for
//! `100 Continue`, is refused at once and the connection closed.
//!
//! # Configuration file
//!
//! `faasbench serve --config runtime.toml` reads a [`RuntimeFile`]; its format is documented
//! there.

mod abi;
mod api;
mod claim;
mod compile;
mod config;
mod config_file;
mod connection;
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
mod reaper;
mod runtime;
mod server;
mod snapshot;
mod start;
mod stats;

pub use config::RuntimeConfig;
pub use config_file::{ConfigFileError, RuntimeFile};
pub use error::{DeployError, EngineError, InvokeError};
pub use function::{FunctionConfig, ModuleSource};
pub use metering::{Metering, StartKind, billed_ms};
pub use runtime::{InvocationOutput, Runtime, StartedInstance};
pub use server::RuntimeServer;
pub use stats::{Evictions, FunctionStats, InstanceCounts, Outcomes, RuntimeStats, StartCounts};
