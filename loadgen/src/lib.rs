//! The load generator: replays a [`scenarios::Schedule`] against a FaaS platform over HTTP and
//! records what happened.
//!
//! It is the measuring instrument in the middle of the flow `scenarios` → `loadgen` →
//! `reports`. It speaks only the HTTP protocol (a request to a URL template, `x-faas-*`
//! headers read when present), so the reference runtime and any other platform are measured
//! alike.
//!
//! # How a replay measures
//!
//! - **Open loop** (the default). A dedicated pacer thread hands each invocation to a worker
//!   at its scheduled time on an absolute clock, whether or not earlier ones have been
//!   answered. It sleeps with a lowered timer slack and spins the last stretch; its own
//!   error (dispatch lag) and CPU use are reported with every run.
//! - **Coordinated-omission correct.** Latency runs from the *scheduled* send time to the last
//!   byte of the answer, so a stalled platform shows up in the percentiles even when requests
//!   go out late. The service time (from the actual send) and the send lag (actual minus
//!   scheduled) are recorded too.
//! - **Closed loop and max throughput**, for capacity tests: a fixed number of users (or
//!   requests in flight) send the schedule's invocations back to back; latency is then the
//!   service time.
//! - **HdrHistograms**, one [`Recorder`] per worker, merged by adding buckets: by start kind,
//!   by function × start kind and by trigger × start kind. Each second of the run is written
//!   as an HdrHistogram interval log and a CSV ([`INTERVAL_CSV_COLUMNS`]);
//!   memory does not grow with the length of the run.
//! - **Every invocation ends in one bucket**: ok, an error by [`ErrorKind`], dropped (the
//!   in-flight bound was reached when it was due), or not sent because the run was stopped;
//!   [`RunResult::scheduled`] is their sum.
//! - **Where the time went.** Per start kind, each successful invocation's latency is split
//!   into [`LatencyComponent`]s: send lag + queue + init + exec + remainder, the middle three
//!   as the platform reports them (`x-faas-queue-us`, `x-faas-init-us`, `x-faas-exec-us`),
//!   the remainder what is left of the service time (network and platform overhead). A warm
//!   invocation that waited in the queue while another instance started shows it there.
//! - **Start kinds** come from `x-faas-start`; for platforms that do not send it they can be
//!   inferred ([`scenarios::StartInference`]) and are counted as inferred. The start kind
//!   says how the serving instance was started, not whether the invocation waited for it:
//!   an invocation counts as **delayed by a start** when the platform says so
//!   (`x-faas-delayed-by-start: 1`, its own start or one it queued behind) or when it was a
//!   cold or snapshot start itself, so platforms without that header still have their own
//!   starts counted.

mod billing;
pub mod capacity;
mod client;
mod composition;
mod feed;
mod inference;
mod interval_log;
mod invocation_log;
mod limits;
mod outcome;
mod pacer;
mod progress;
mod recorder;
mod replay;
mod result;
mod saved;
mod sparse;
mod target;
mod worker;

pub use billing::{Billing, Ledger};
pub use composition::LatencyComponent;
pub use feed::ScheduleFactory;
pub use interval_log::{
    CSV_COLUMNS as INTERVAL_CSV_COLUMNS, IntervalFigures, IntervalLog, IntervalLogError,
    IntervalPart,
};
pub use invocation_log::COLUMNS as INVOCATION_LOG_COLUMNS;
pub use outcome::{ErrorKind, Outcome, PlatformMetering, StartKind};
pub use progress::{LiveProgress, ProgressSnapshot, StopSignal};
pub use recorder::{
    Cell, GROUP_SIGNIFICANT_DIGITS, GroupRecord, MergeError, Recorder, SIGNIFICANT_DIGITS,
};
pub use replay::{ReplayError, ReplayOptions, replay};
pub use result::{Connections, Pacing, RunResult};
pub use sparse::SparseHistogram;
pub use target::{Target, TargetError};
