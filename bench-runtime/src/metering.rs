//! What the runtime measures about each invocation, as sent in the `x-faas-*` headers.

use std::time::Duration;

/// How the instance that served an invocation came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartKind {
    /// A new instance: module compiled, instantiated and `init` run.
    Cold,
    /// A new instance restored from the post-`init` snapshot.
    Snapshot,
    /// An idle instance from the function's warm pool.
    Warm,
}

impl StartKind {
    /// The value of the `x-faas-start` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cold => "cold",
            Self::Snapshot => "snapshot",
            Self::Warm => "warm",
        }
    }

    /// Every kind, in order of cost.
    pub const ALL: [StartKind; 3] = [Self::Cold, Self::Snapshot, Self::Warm];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Measurements of one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metering {
    pub start: StartKind,
    /// Time to start the instance (zero for warm starts), in microseconds: compile,
    /// instantiate and `init` for a cold start, restore for a snapshot start.
    pub init_us: u64,
    /// Time spent waiting for an instance slot, in microseconds.
    pub queue_us: u64,
    /// Time spent in the guest's `handle`, in microseconds.
    pub exec_us: u64,
    /// Billed duration: start plus execution, rounded up to the next millisecond.
    pub billed_ms: u64,
    /// Configured memory of the function, in MiB.
    pub memory_mb: u32,
    /// Id of the instance that served the invocation.
    pub instance: u64,
    /// The invocation waited for an instance to start: its own (a cold or snapshot start), or,
    /// while it waited in the queue, another invocation's of the same function. Its start kind
    /// says how the instance that served it was started; this says whether a start delayed it.
    pub delayed_by_start: bool,
}

/// Billed milliseconds for a start of `init_us` and an execution of `exec_us`: rounded up to
/// whole milliseconds, at least one. Initialisation is billed as AWS Lambda does since 2025.
pub fn billed_ms(init_us: u64, exec_us: u64) -> u64 {
    init_us.saturating_add(exec_us).div_ceil(1000).max(1)
}

pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_whole_milliseconds() {
        assert_eq!(billed_ms(0, 0), 1);
        assert_eq!(billed_ms(0, 1), 1);
        assert_eq!(billed_ms(0, 1000), 1);
        assert_eq!(billed_ms(0, 1001), 2);
        assert_eq!(billed_ms(1500, 600), 3);
    }
}
