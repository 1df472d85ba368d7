//! Scenarios: what a faasbench user writes, turned into what the load generator replays.
//!
//! A scenario file (TOML) names what to run against, which functions, how invocations arrive
//! and for how long. Arrivals come from a synthetic process ([`arrival`]) or from a real trace
//! ([`trace`]: Azure Functions 2019 and 2021, Huawei 2023, a generic per-invocation layout),
//! sliced, compressed in time, scaled in rate and sampled ([`sample`]). This crate parses the
//! file into a [`Scenario`] and expands it into a [`Schedule`]: a stream of [`Invocation`]s in
//! time order, plus the [`FunctionProfile`]s the platform must deploy.
//!
//! It sits at the head of the one-way flow: `scenarios` → `loadgen` → `reports`, with the
//! harness deploying the profiles onto `bench-runtime` (or any platform reached over HTTP).
//! Schedules are deterministic for a given seed and produced lazily — a trace is read as the
//! schedule is consumed — so a long run never holds its schedule, nor its trace, in memory.
//!
//! ```
//! use scenarios::Scenario;
//!
//! let scenario = Scenario::from_toml_str(r#"
//!     name = "demo"
//!     seed = 7
//!     duration = "2s"
//!     [arrivals]
//!     process = "poisson"
//!     rate = 50.0
//!     [[functions]]
//!     name = "hello"
//!     guest = "noop"
//! "#, "demo.toml").unwrap();
//! let times: Vec<u64> = scenario
//!     .schedule()
//!     .map(|invocation| invocation.map(|i| i.at_us))
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
//! ```

pub mod arrival;
mod duration;
mod error;
mod load;
mod mix;
pub mod output_file;
mod peak_rate;
mod profile;
mod request;
pub mod sample;
mod scenario;
mod schedule;
mod schedule_csv;
mod synthetic;
pub mod trace;
mod trace_schedule;
mod trigger;
mod within_minute;
mod work;

pub use arrival::{ArrivalSpec, Step};
pub use error::ScenarioError;
pub use load::{LoadSpec, StartInference};
pub use profile::FunctionProfile;
pub use request::{HttpProtocol, MAX_WAIT, RequestSpec, check_wait};
pub use scenario::{
    Configuration, LoadedTrace, RuntimeSettings, SampleSpec, Scenario, Target, Thresholds,
    TraceSpec,
};
pub use schedule::{FunctionId, Invocation, Schedule, ScheduleError};
pub use schedule_csv::{SCHEDULE_COLUMNS, ScheduleCsvError, write_schedule_csv};
pub use trigger::Trigger;
pub use within_minute::WithinMinute;
pub use work::{WorkModel, work_body};
