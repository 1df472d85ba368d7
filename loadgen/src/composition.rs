//! Where the latency of an invocation went: the send lag, the platform's own figures for
//! queueing, instance start and execution, and what is left of the service time.
//!
//! A warm invocation that queued while another invocation's instance started looks fast by
//! its start kind and slow by its latency; splitting the latency shows why.

use hdrhistogram::Histogram;

use crate::outcome::Outcome;
use crate::recorder::{MergeError, SIGNIFICANT_DIGITS, add, histogram, record};
use serde::{Deserialize, Serialize};

/// One part of an invocation's latency. For each invocation
/// `latency = send lag + queue + init + exec + remainder`, when all were measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LatencyComponent {
    /// Scheduled to actual send (open loop): the load generator's side.
    SendLag,
    /// Waiting in the function's queue for an instance (`x-faas-queue-us`).
    Queue,
    /// Starting the serving instance (`x-faas-init-us`); 0 when warm.
    Init,
    /// Running in the guest (`x-faas-exec-us`).
    Exec,
    /// Service time less queue, init and exec: the network and the platform's own overhead.
    /// Only when the platform reported all three; 0 when they add up to more than the
    /// service time.
    Remainder,
}

impl LatencyComponent {
    /// Every component, in the order they add up to the latency.
    pub const ALL: [LatencyComponent; 5] = [
        Self::SendLag,
        Self::Queue,
        Self::Init,
        Self::Exec,
        Self::Remainder,
    ];

    /// The component's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendLag => "send_lag",
            Self::Queue => "queue",
            Self::Init => "init",
            Self::Exec => "exec",
            Self::Remainder => "remainder",
        }
    }

    /// This component of `outcome`, µs, or `None` when it was not measured.
    pub fn of(self, outcome: &Outcome) -> Option<u64> {
        let metering = &outcome.metering;
        match self {
            Self::SendLag => outcome.send_lag_us,
            Self::Queue => metering.queue_us,
            Self::Init => metering.init_us,
            Self::Exec => metering.exec_us,
            Self::Remainder => {
                let platform = metering
                    .queue_us?
                    .saturating_add(metering.init_us?)
                    .saturating_add(metering.exec_us?);
                Some(outcome.service_us.saturating_sub(platform))
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Histograms of each latency component for the successful invocations of one start kind,
/// µs. A component's histogram is allocated with its first value, so components a platform
/// never reports cost nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Composition {
    #[serde(with = "crate::saved::optional_histograms")]
    components: [Option<Histogram<u64>>; LatencyComponent::ALL.len()],
}

impl Composition {
    pub(crate) fn record(&mut self, outcome: &Outcome) {
        for component in LatencyComponent::ALL {
            if let Some(value) = component.of(outcome) {
                let histogram = self.components[component.index()]
                    .get_or_insert_with(|| histogram(SIGNIFICANT_DIGITS));
                record(histogram, value);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &Composition) -> Result<(), MergeError> {
        for (into, from) in self.components.iter_mut().zip(&other.components) {
            match (into.as_mut(), from) {
                (_, None) => {}
                (Some(into), Some(from)) => add(into, from)?,
                (None, Some(from)) => *into = Some(from.clone()),
            }
        }
        Ok(())
    }

    pub(crate) fn component(&self, component: LatencyComponent) -> Option<&Histogram<u64>> {
        self.components[component.index()].as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{PlatformMetering, StartKind};
    use scenarios::{FunctionId, Invocation, Trigger};

    fn outcome(service_us: u64, queue: u64, init: u64, exec: Option<u64>) -> Outcome {
        Outcome {
            invocation: Invocation {
                at_us: 0,
                function: FunctionId(0),
                trigger: Trigger::Http,
                duration_us: None,
                memory_mb: 128,
            },
            latency_us: service_us + 7,
            service_us,
            send_lag_us: Some(7),
            result: Ok(()),
            start: StartKind::Warm,
            inferred: false,
            metering: PlatformMetering {
                queue_us: Some(queue),
                init_us: Some(init),
                exec_us: exec,
                ..PlatformMetering::default()
            },
        }
    }

    #[test]
    fn components_add_up_to_the_latency() {
        let o = outcome(10_000, 6_000, 0, Some(3_000));
        let parts: Vec<Option<u64>> = LatencyComponent::ALL.iter().map(|c| c.of(&o)).collect();
        assert_eq!(
            parts,
            [Some(7), Some(6_000), Some(0), Some(3_000), Some(1_000)]
        );
        assert_eq!(parts.iter().flatten().sum::<u64>(), o.latency_us);
    }

    #[test]
    fn remainder_needs_all_three_platform_figures_and_never_goes_below_zero() {
        assert_eq!(
            LatencyComponent::Remainder.of(&outcome(10_000, 6_000, 0, None)),
            None
        );
        // The platform's clock may add up to a little more than the service time.
        assert_eq!(
            LatencyComponent::Remainder.of(&outcome(1_000, 600, 300, Some(400))),
            Some(0)
        );
        assert_eq!(
            LatencyComponent::Remainder.of(&outcome(5, u64::MAX, 1, Some(1))),
            Some(0)
        );
    }

    #[test]
    fn unreported_components_get_no_histogram() {
        let mut composition = Composition::default();
        composition.record(&outcome(10_000, 6_000, 0, None));
        assert!(composition.component(LatencyComponent::Exec).is_none());
        assert!(composition.component(LatencyComponent::Remainder).is_none());
        assert_eq!(
            composition
                .component(LatencyComponent::Queue)
                .map(Histogram::len),
            Some(1)
        );
    }
}
