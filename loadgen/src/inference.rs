//! Start kinds for platforms that do not send `x-faas-start`: inferred from the service time,
//! or from the first answer of each instance named in a header.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use scenarios::StartInference;

use crate::outcome::{AnswerFacts, StartKind};

/// An inference rule with what it has seen so far. Shared by all workers.
pub(crate) enum Inference {
    /// Cold when the service time is at least this many µs.
    Latency { cold_above_us: u64 },
    /// Cold on the first answer from each instance (hashed header values).
    FirstSeen { seen: Mutex<HashSet<u64>> },
}

impl Inference {
    pub(crate) fn new(rule: &StartInference) -> Self {
        match rule {
            StartInference::Latency { cold_above } => Self::Latency {
                cold_above_us: u64::try_from(cold_above.as_micros()).unwrap_or(u64::MAX),
            },
            StartInference::InstanceHeader { .. } => Self::FirstSeen {
                seen: Mutex::new(HashSet::new()),
            },
        }
    }

    /// The start kind of a successful answer that did not say, or `None` when this rule
    /// cannot tell (the instance header is missing).
    pub(crate) fn start_kind(&self, facts: &AnswerFacts, service_us: u64) -> Option<StartKind> {
        match self {
            Self::Latency { cold_above_us } => Some(if service_us >= *cold_above_us {
                StartKind::Cold
            } else {
                StartKind::Warm
            }),
            Self::FirstSeen { seen } => {
                let tag = facts.instance_tag?;
                let first = seen
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(tag);
                Some(if first {
                    StartKind::Cold
                } else {
                    StartKind::Warm
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latency_rule_splits_at_the_threshold() {
        let rule = Inference::new(&StartInference::Latency {
            cold_above: Duration::from_millis(100),
        });
        let facts = AnswerFacts::default();
        assert_eq!(rule.start_kind(&facts, 100_000), Some(StartKind::Cold));
        assert_eq!(rule.start_kind(&facts, 99_999), Some(StartKind::Warm));
    }

    #[test]
    fn instance_rule_calls_the_first_answer_of_each_instance_cold() {
        let rule = Inference::new(&StartInference::InstanceHeader {
            header: "x-instance".into(),
        });
        let from = |tag| AnswerFacts {
            instance_tag: Some(tag),
            ..AnswerFacts::default()
        };
        assert_eq!(rule.start_kind(&from(7), 5), Some(StartKind::Cold));
        assert_eq!(rule.start_kind(&from(7), 5), Some(StartKind::Warm));
        assert_eq!(rule.start_kind(&from(8), 5), Some(StartKind::Cold));
        assert_eq!(rule.start_kind(&AnswerFacts::default(), 5), None);
    }
}
