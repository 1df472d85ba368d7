//! Scenarios: what a faasbench user writes, turned into what the load generator replays.
//!
//! A scenario file (TOML) names the functions under test, how invocations arrive and for how
//! long. This crate parses it into a [`Scenario`] and expands it into a [`Schedule`]: a stream of
//! [`Invocation`]s sorted by time, plus the [`FunctionProfile`]s the platform must deploy.
//!
//! It sits at the head of the one-way flow: `scenarios` → `loadgen` → `reports`, with the
//! harness deploying the profiles onto `bench-runtime` (or any platform reached over HTTP).
//! Schedules are deterministic for a given seed and produced lazily, so a long run never holds
//! its whole schedule in memory.
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
//! let schedule = scenario.schedule();
//! let times: Vec<u64> = schedule.map(|invocation| invocation.at_us).collect();
//! assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
//! ```

pub mod arrival;
mod error;
mod mix;
mod profile;
mod scenario;
mod schedule;

pub use error::ScenarioError;
pub use profile::FunctionProfile;
pub use scenario::{ArrivalSpec, Scenario};
pub use schedule::{FunctionId, Invocation, Schedule};
