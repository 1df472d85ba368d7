//! The load generator: replays a [`scenarios::Schedule`] against a FaaS platform over HTTP and
//! records what happened.
//!
//! It is the measuring instrument in the middle of the flow `scenarios` → `loadgen` →
//! `reports`. It speaks only the HTTP protocol (`POST` to a URL template, `x-faas-*` headers
//! read when present), so the reference runtime and any other platform are measured alike.
//!
//! # How a replay measures
//!
//! - **Open loop.** A dedicated pacer thread sends each invocation at its scheduled time on an
//!   absolute clock, whether or not earlier ones have been answered.
//! - **Coordinated-omission correct.** Latency runs from the *scheduled* send time to the last
//!   byte of the answer, so a stalled platform shows up in the percentiles even when requests
//!   go out late. The service time (from the actual send) and the send lag (actual minus
//!   scheduled) are recorded too.
//! - **HdrHistograms** (3 significant digits, µs), one [`Recorder`] per worker, merged by
//!   adding buckets. Latency histograms are kept per start kind and per function.
//! - **Every invocation ends in one bucket**: ok, or an error by [`ErrorKind`], or not sent
//!   because the run was stopped; [`RunResult::scheduled`] is their sum.

mod client;
mod invocation_log;
mod outcome;
mod pacer;
mod progress;
mod recorder;
mod replay;
mod result;
mod target;
mod worker;

pub use invocation_log::COLUMNS as INVOCATION_LOG_COLUMNS;
pub use outcome::{ErrorKind, Outcome, PlatformMetering, StartKind};
pub use progress::{LiveProgress, ProgressSnapshot, StopSignal};
pub use recorder::{Billing, FunctionRecord, MergeError, Recorder, SIGNIFICANT_DIGITS};
pub use replay::{ReplayError, ReplayOptions, replay};
pub use result::RunResult;
pub use target::{Target, TargetError};
