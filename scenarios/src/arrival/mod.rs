//! Synthetic arrival processes: when invocations arrive.
//!
//! Each process is an endless, non-decreasing sequence of arrival times in seconds from the
//! start of the run; the [`Schedule`](crate::Schedule) cuts it at the scenario's duration.
//! Randomness comes only from the schedule's seeded generator, so a seed fixes the sequence.

mod constant;
mod poisson;

pub use constant::Constant;
pub use poisson::Poisson;

/// The seeded random generator every schedule draws from. ChaCha8 gives the same stream on
/// every platform and crate release, which keeps schedules reproducible across machines.
pub type ScheduleRng = rand_chacha::ChaCha8Rng;

/// When the next invocation arrives.
pub trait ArrivalProcess: Send {
    /// Time of the next arrival, in seconds from the start; never earlier than the previous one.
    fn next_arrival(&mut self, rng: &mut ScheduleRng) -> f64;
}
