//! Synthetic arrival processes: when invocations arrive.
//!
//! [`ArrivalSpec`] is the `[arrivals]` table of a scenario file; it builds one of the processes
//! here. Each process is a non-decreasing sequence of arrival times in seconds from the start of the
//! run; the [`Schedule`](crate::Schedule) cuts it at the scenario's duration. A process may also
//! run out of arrivals before then. Randomness comes only from the schedule's seeded generator,
//! so a seed fixes the sequence.

mod cold_probe;
mod constant;
mod diurnal;
mod parameter;
mod piecewise;
mod poisson;
mod ramp;
mod spec;
mod spike;
#[cfg(test)]
mod statistics;
mod steps;

pub use cold_probe::ColdProbe;
pub use constant::Constant;
pub use diurnal::Diurnal;
pub use parameter::{MAX_RATE, MIN_GAP};
pub use poisson::Poisson;
pub use ramp::Ramp;
pub use spec::{ArrivalSpec, MAX_INVOCATIONS, Step};
pub use spike::Spike;
pub use steps::Steps;

/// The seeded random generator every schedule draws from. ChaCha8 gives the same stream on
/// every platform and crate release, which keeps schedules reproducible across machines.
pub type ScheduleRng = rand_chacha::ChaCha8Rng;

/// When the next invocation arrives.
pub trait ArrivalProcess: Send {
    /// Time of the next arrival, in seconds from the start; never earlier than the previous one.
    ///
    /// A process with no more arrivals returns `f64::INFINITY`, from then on. The schedule stops
    /// at the scenario's duration anyway, so this only tells it that nothing is left to wait for.
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64;
}
