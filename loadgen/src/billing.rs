//! What the platform billed, kept per invocation's billed duration so that any price list can
//! be applied exactly afterwards.
//!
//! Prices round each invocation's duration up to a step (1 ms on AWS Lambda, 100 ms on Cloud
//! Run) and bill a minimum (100 ms on Azure Consumption). Rounding a mean gives a different
//! bill than rounding every invocation, so a [`Billing`] keeps how many invocations were billed
//! each whole number of milliseconds at each memory size. Every step that is a whole number of
//! milliseconds can then be applied exactly, since `⌈⌈d⌉ / n⌉ = ⌈d / n⌉` for whole `n`. The
//! count of distinct (memory, milliseconds) pairs is at most the count of invocations, and in
//! practice a few hundred per function.
//!
//! Invocations that started an instance are kept a second time with their execution alone, so
//! what the start added to the bill is known under every price list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Billed invocations by memory size (MiB), then billed milliseconds, then count.
pub type Ledger = BTreeMap<u64, BTreeMap<u64, u64>>;

/// Billing figures reported by the platform (`x-faas-billed-ms`, `x-faas-memory-mb`, and
/// `x-faas-init-us` / `x-faas-exec-us` for what a start added).
///
/// The headers come from the platform, so their values are checked before they are kept:
/// a billed time longer than the invocation took (plus [`Billing::ALLOWANCE_MS`] for billing
/// granularity) or a memory size above [`Billing::MAX_MEMORY_MB`] is counted as implausible
/// and left out. Counts saturate rather than wrap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billing {
    /// Invocations that reported plausible billed time and memory.
    pub invocations: u64,
    /// Invocations whose billing headers were implausible, left out.
    pub implausible: u64,
    /// Every billed invocation: memory → billed ms → count.
    pub billed: Ledger,
    /// The billed invocations that started an instance (init time above zero), as billed.
    pub started: Ledger,
    /// The same invocations billed for their execution alone: whole ms of `exec`, at least 1.
    pub started_exec_only: Ledger,
}

fn add_to(ledger: &mut Ledger, memory_mb: u64, ms: u64, count: u64) {
    let slot = ledger.entry(memory_mb).or_default().entry(ms).or_default();
    *slot = slot.saturating_add(count);
}

fn merge_into(into: &mut Ledger, from: &Ledger) {
    for (memory, durations) in from {
        for (ms, count) in durations {
            add_to(into, *memory, *ms, *count);
        }
    }
}

/// Σ ms × MiB over a ledger, saturating.
fn mb_ms(ledger: &Ledger) -> u128 {
    ledger
        .iter()
        .flat_map(|(memory, durations)| {
            durations.iter().map(move |(ms, count)| {
                u128::from(*memory)
                    .saturating_mul(u128::from(*ms))
                    .saturating_mul(u128::from(*count))
            })
        })
        .fold(0u128, u128::saturating_add)
}

impl Billing {
    /// Billed time may exceed the measured service time by this much (platforms round up to
    /// their billing step, at most 100 ms among the major ones, or bill a minimum).
    pub const ALLOWANCE_MS: u64 = 1_000;
    /// No platform offers functions with more memory than this (1 TiB).
    pub const MAX_MEMORY_MB: u64 = 1 << 20;

    /// Adds one invocation's report, `service_us` being the time it took as measured here;
    /// `init_us` and `exec_us` as the platform reported them, when it did.
    pub fn add(
        &mut self,
        billed_ms: u64,
        memory_mb: u64,
        service_us: u64,
        init_us: Option<u64>,
        exec_us: Option<u64>,
    ) {
        let longest_ms = service_us.div_ceil(1000).saturating_add(Self::ALLOWANCE_MS);
        if billed_ms > longest_ms || memory_mb > Self::MAX_MEMORY_MB {
            self.implausible = self.implausible.saturating_add(1);
            return;
        }
        self.invocations = self.invocations.saturating_add(1);
        add_to(&mut self.billed, memory_mb, billed_ms, 1);
        if let (Some(init_us), Some(exec_us)) = (init_us, exec_us)
            && init_us > 0
        {
            add_to(&mut self.started, memory_mb, billed_ms, 1);
            let exec_ms = exec_us.div_ceil(1000).clamp(1, billed_ms.max(1));
            add_to(&mut self.started_exec_only, memory_mb, exec_ms, 1);
        }
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &Billing) {
        self.invocations = self.invocations.saturating_add(other.invocations);
        self.implausible = self.implausible.saturating_add(other.implausible);
        merge_into(&mut self.billed, &other.billed);
        merge_into(&mut self.started, &other.started);
        merge_into(&mut self.started_exec_only, &other.started_exec_only);
    }

    /// Σ billed ms × MiB over the billed invocations, saturating.
    pub fn mb_ms(&self) -> u128 {
        mb_ms(&self.billed)
    }

    /// Billed GB-seconds (GiB of memory × seconds), as the platform billed them.
    pub fn gb_seconds(&self) -> f64 {
        self.mb_ms() as f64 / 1024.0 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_near_the_limits_saturates_and_implausible_reports_are_left_out() {
        let mut billing = Billing::default();
        // Plausible: 3 ms billed for 2.5 ms of service, and a 100 ms minimum bill.
        billing.add(3, 128, 2_500, None, None);
        billing.add(100, 128, 2_500, None, None);
        // A platform reporting absurd values: a billed time near 2^64 ms, a memory size near
        // 2^64 MiB.
        billing.add(u64::MAX, u64::MAX, 2_500, None, None);
        billing.add(u64::MAX - 1, 128, u64::MAX, None, None);
        billing.add(3, u64::MAX, 2_500, None, None);
        assert_eq!(billing.invocations, 2);
        assert_eq!(billing.mb_ms(), 103 * 128);
        assert_eq!(billing.implausible, 3);

        // Counts that reach the top stay there when merged.
        let mut full = Billing::default();
        add_to(&mut full.billed, 128, 3, u64::MAX - 1);
        full.merge(&billing);
        assert_eq!(full.billed[&128][&3], u64::MAX);
        assert_eq!(full.implausible, 3);
    }

    #[test]
    fn starts_are_kept_with_and_without_their_init_time() {
        let mut billing = Billing::default();
        // A cold start: 20 ms init + 2.1 ms exec, billed 23 ms.
        billing.add(23, 256, 25_000, Some(20_000), Some(2_100));
        // A warm invocation: no init.
        billing.add(3, 256, 3_000, Some(0), Some(2_100));
        assert_eq!(billing.billed[&256][&23], 1);
        assert_eq!(billing.billed[&256][&3], 1);
        assert_eq!(billing.started[&256].len(), 1);
        assert_eq!(billing.started_exec_only[&256][&3], 1);
    }
}
