//! The runtime's figures, per function and overall: what `stats()` returns, what
//! `GET /functions` serialises and what `GET /metrics` renders in the Prometheus text format.
//!
//! Times that concern keep-alive (idle memory-time) run on the policy clock, so that a
//! scenario compressed k× reports trace time, the time its policy reasons in.

use std::fmt::Write;

use serde::Serialize;

/// How instances were unloaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evictions {
    /// Idle past their keep-alive.
    pub expired: u64,
    /// Evicted to make room in memory for another instance.
    pub pressure: u64,
    /// Discarded by the policy right after an invocation.
    pub discarded: u64,
    /// Discarded after a trap or a timeout.
    pub failed: u64,
    /// Discarded because the invocation running on it was cancelled: its caller left.
    pub cancelled: u64,
    /// Idle, or busy with the old code, when the function was redeployed or removed.
    pub replaced: u64,
}

impl Evictions {
    /// All unloads.
    pub fn total(&self) -> u64 {
        self.expired + self.pressure + self.discarded + self.failed + self.cancelled + self.replaced
    }
}

/// How invocations ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub ok: u64,
    pub trapped: u64,
    pub timed_out: u64,
    /// No instance could be started (instantiation or `init` failed).
    pub start_failed: u64,
    /// Refused with 429: the queue was full.
    pub rejected_queue: u64,
    /// Refused with 429: no memory and nothing idle to evict.
    pub rejected_capacity: u64,
    /// Cut short because the caller left (hung up, reset its stream, or timed out as the
    /// caller of a chain) while the invocation waited for its instance to start or ran.
    pub cancelled: u64,
}

/// Counts by start kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StartCounts {
    pub cold: u64,
    pub snapshot: u64,
    pub warm: u64,
}

impl StartCounts {
    fn from_array(counts: [u64; 3]) -> Self {
        Self {
            cold: counts[0],
            snapshot: counts[1],
            warm: counts[2],
        }
    }
}

/// Live counters of one function, kept by the pools.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FunctionCounters {
    /// Invocations by how their instance started, indexed by `StartKind::index`.
    pub(crate) starts: [u64; 3],
    /// Instances started ahead of demand (pre-warm windows, provisioned instances).
    pub(crate) prewarms: [u64; 3],
    pub(crate) outcomes: Outcomes,
    pub(crate) evictions: Evictions,
    /// Memory held by idle instances integrated over policy time, MiB·s.
    pub(crate) idle_mb_seconds: f64,
    /// Guest execution time of finished invocations, µs.
    pub(crate) exec_us: u64,
    /// Times the function was deployed under its name.
    pub(crate) deployments: u64,
}

impl FunctionCounters {
    /// Mean guest execution time of finished invocations, µs.
    pub(crate) fn mean_exec_us(&self) -> u64 {
        let finished = self.outcomes.ok + self.outcomes.trapped + self.outcomes.timed_out;
        self.exec_us.checked_div(finished).unwrap_or(0)
    }
}

/// Instances of a function by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InstanceCounts {
    pub busy: u32,
    pub idle: u32,
    pub starting: u32,
}

/// The figures of one function. Counters (starts, invocations, evictions, idle memory-time)
/// run for the life of the runtime: a redeploy, or a removal and a later deploy under the same
/// name, goes on from them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionStats {
    pub name: String,
    pub memory_mb: u32,
    /// Times the function was deployed (a redeploy under the same name counts).
    pub deployments: u64,
    /// Invocations by how their instance started.
    pub starts: StartCounts,
    /// Instances started ahead of demand, by start path.
    pub prewarm_starts: StartCounts,
    pub invocations: Outcomes,
    pub instances: InstanceCounts,
    /// Invocations waiting for an instance.
    pub queued: u32,
    pub evictions: Evictions,
    /// Memory held by idle instances over time (MiB × policy-clock seconds): what keeping
    /// instances warm costs.
    pub idle_memory_mb_seconds: f64,
    /// Pre-warm windows scheduled but not opened yet.
    pub pending_prewarms: u32,
    /// `off`, `pending` (no instance has run `init` yet), `capturing`, `ready` or
    /// `failed: <why>`.
    pub snapshot: String,
}

/// The figures of the whole runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeStats {
    /// The keep-alive policy's name.
    pub policy: String,
    /// Time on the policy clock.
    pub policy_time_seconds: f64,
    pub time_scale: f64,
    /// Memory held by live instances, MiB.
    pub memory_used_mb: u64,
    pub capacity_mb: u64,
    /// Idle memory-time of all functions, including removed ones, MiB·s.
    pub idle_memory_mb_seconds: f64,
    /// Sorted by name.
    pub functions: Vec<FunctionStats>,
}

impl RuntimeStats {
    /// The figures of `name`, if it is deployed.
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The Prometheus text exposition (format 0.0.4) of these figures.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_function = |values: &dyn Fn(&FunctionStats) -> Vec<(String, String)>| {
            self.functions
                .iter()
                .flat_map(|f| {
                    values(f).into_iter().map(move |(extra, value)| {
                        (
                            format!("{{function=\"{}\"{extra}}}", escape(&f.name)),
                            value,
                        )
                    })
                })
                .collect::<Vec<_>>()
        };
        let kinds = |counts: &StartCounts| {
            vec![
                (",kind=\"cold\"".into(), counts.cold.to_string()),
                (",kind=\"snapshot\"".into(), counts.snapshot.to_string()),
                (",kind=\"warm\"".into(), counts.warm.to_string()),
            ]
        };
        family(
            "faas_starts_total",
            "counter",
            "Invocations by how the instance that served them started.",
            per_function(&|f| kinds(&f.starts)),
        );
        family(
            "faas_prewarm_starts_total",
            "counter",
            "Instances started ahead of demand, by start path.",
            per_function(&|f| kinds(&f.prewarm_starts)),
        );
        family(
            "faas_invocations_total",
            "counter",
            "Invocations by outcome.",
            per_function(&|f| {
                let o = &f.invocations;
                [
                    ("ok", o.ok),
                    ("trapped", o.trapped),
                    ("timed_out", o.timed_out),
                    ("start_failed", o.start_failed),
                    ("rejected_queue", o.rejected_queue),
                    ("rejected_capacity", o.rejected_capacity),
                    ("cancelled", o.cancelled),
                ]
                .into_iter()
                .map(|(outcome, n)| (format!(",outcome=\"{outcome}\""), n.to_string()))
                .collect()
            }),
        );
        family(
            "faas_deployments_total",
            "counter",
            "Times the function was deployed under its name.",
            per_function(&|f| vec![(String::new(), f.deployments.to_string())]),
        );
        family(
            "faas_instances",
            "gauge",
            "Live instances by state.",
            per_function(&|f| {
                let i = &f.instances;
                [("busy", i.busy), ("idle", i.idle), ("starting", i.starting)]
                    .into_iter()
                    .map(|(state, n)| (format!(",state=\"{state}\""), n.to_string()))
                    .collect()
            }),
        );
        family(
            "faas_queued_invocations",
            "gauge",
            "Invocations waiting for an instance.",
            per_function(&|f| vec![(String::new(), f.queued.to_string())]),
        );
        family(
            "faas_evictions_total",
            "counter",
            "Instances unloaded, by reason.",
            per_function(&|f| {
                let e = &f.evictions;
                [
                    ("expired", e.expired),
                    ("pressure", e.pressure),
                    ("discarded", e.discarded),
                    ("failed", e.failed),
                    ("cancelled", e.cancelled),
                    ("replaced", e.replaced),
                ]
                .into_iter()
                .map(|(reason, n)| (format!(",reason=\"{reason}\""), n.to_string()))
                .collect()
            }),
        );
        family(
            "faas_idle_memory_mb_seconds_total",
            "counter",
            "Memory held by idle instances over policy-clock time, MiB*s.",
            per_function(&|f| vec![(String::new(), format!("{:.3}", f.idle_memory_mb_seconds))]),
        );
        family(
            "faas_memory_used_mb",
            "gauge",
            "Memory held by live instances, MiB.",
            vec![(String::new(), self.memory_used_mb.to_string())],
        );
        family(
            "faas_memory_capacity_mb",
            "gauge",
            "Memory available to instances, MiB.",
            vec![(String::new(), self.capacity_mb.to_string())],
        );
        family(
            "faas_runtime_idle_memory_mb_seconds_total",
            "counter",
            "Idle memory-time of all functions, including removed ones, MiB*s.",
            vec![(String::new(), format!("{:.3}", self.idle_memory_mb_seconds))],
        );
        family(
            "faas_policy_time_seconds",
            "gauge",
            "Time on the keep-alive policy's clock.",
            vec![(String::new(), format!("{:.3}", self.policy_time_seconds))],
        );
        out
    }
}

/// Escapes a label value of the Prometheus text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl FunctionStats {
    pub(crate) fn new(reading: crate::pool::PoolReading, queued: u32, snapshot: String) -> Self {
        let counters = reading.counters;
        Self {
            name: reading.function.to_string(),
            memory_mb: reading.memory_mb,
            deployments: counters.deployments,
            starts: StartCounts::from_array(counters.starts),
            prewarm_starts: StartCounts::from_array(counters.prewarms),
            invocations: counters.outcomes,
            instances: InstanceCounts {
                busy: reading.busy,
                idle: reading.idle,
                starting: reading.starting,
            },
            queued,
            evictions: counters.evictions,
            idle_memory_mb_seconds: counters.idle_mb_seconds,
            pending_prewarms: reading.pending_prewarms,
            snapshot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_help_type_and_labelled_samples() {
        let stats = RuntimeStats {
            policy: "fixed".into(),
            policy_time_seconds: 12.5,
            time_scale: 1.0,
            memory_used_mb: 256,
            capacity_mb: 1024,
            idle_memory_mb_seconds: 30.0,
            functions: vec![FunctionStats {
                name: "echo".into(),
                memory_mb: 128,
                deployments: 1,
                starts: StartCounts {
                    cold: 1,
                    snapshot: 2,
                    warm: 7,
                },
                prewarm_starts: StartCounts::default(),
                invocations: Outcomes {
                    ok: 9,
                    trapped: 1,
                    ..Outcomes::default()
                },
                instances: InstanceCounts {
                    busy: 0,
                    idle: 2,
                    starting: 0,
                },
                queued: 0,
                evictions: Evictions {
                    expired: 1,
                    ..Evictions::default()
                },
                idle_memory_mb_seconds: 30.0,
                pending_prewarms: 0,
                snapshot: "ready".into(),
            }],
        };
        let text = stats.prometheus();
        assert!(text.contains("# TYPE faas_starts_total counter\n"));
        assert!(text.contains("faas_starts_total{function=\"echo\",kind=\"snapshot\"} 2\n"));
        assert!(text.contains("faas_invocations_total{function=\"echo\",outcome=\"trapped\"} 1\n"));
        assert!(text.contains("faas_instances{function=\"echo\",state=\"idle\"} 2\n"));
        assert!(text.contains("faas_evictions_total{function=\"echo\",reason=\"expired\"} 1\n"));
        assert!(text.contains("faas_memory_used_mb 256\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad sample: {line}"));
        }
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
