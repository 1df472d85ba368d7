//! The closed loop's source of invocations: the schedule's sequence of functions and inputs,
//! its times ignored, started over whenever it runs out before the run ends.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use scenarios::{Invocation, Schedule};

/// Makes a fresh schedule to start the sequence over.
pub type ScheduleFactory = Box<dyn Fn() -> Schedule + Send + Sync>;

/// Hands out the schedule's invocations in order to the users of every worker.
pub(crate) struct Feed {
    state: Mutex<FeedState>,
}

struct FeedState {
    schedule: Schedule,
    restart: ScheduleFactory,
    /// Invocations handed out from the current schedule.
    taken: u64,
    /// Why the sequence ended for good, if it did: its trace could not be read.
    failure: Option<String>,
}

impl FeedState {
    fn next(&mut self) -> Option<Invocation> {
        if self.failure.is_some() {
            return None;
        }
        loop {
            match self.schedule.next() {
                Some(Ok(invocation)) => {
                    self.taken += 1;
                    return Some(invocation);
                }
                Some(Err(err)) => {
                    self.failure = Some(err.to_string());
                    return None;
                }
                None if self.taken == 0 => return None,
                None => {
                    self.schedule = (self.restart)();
                    self.taken = 0;
                }
            }
        }
    }
}

impl Feed {
    pub(crate) fn new(restart: ScheduleFactory) -> Self {
        Self {
            state: Mutex::new(FeedState {
                schedule: restart(),
                restart,
                taken: 0,
                failure: None,
            }),
        }
    }

    /// Appends the next `count` invocations to `into`, fewer when there are none left: an
    /// empty schedule, or one that failed.
    pub(crate) fn take(&self, count: usize, into: &mut VecDeque<Invocation>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..count {
            match state.next() {
                Some(invocation) => into.push_back(invocation),
                None => return,
            }
        }
    }

    /// Why the sequence ended early, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.failure.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> scenarios::Scenario {
        scenarios::Scenario::from_toml_str(
            r#"
            name = "feed"
            duration = "1s"
            [arrivals]
            process = "constant"
            rate = 3.0
            [[functions]]
            name = "a"
            guest = "noop"
            [[functions]]
            name = "b"
            guest = "noop"
            weight = 2.0
            "#,
            "feed.toml",
        )
        .unwrap()
    }

    #[test]
    fn the_sequence_starts_over_when_the_schedule_runs_out() {
        let scenario = scenario();
        let feed = Feed::new(Box::new(move || scenario.schedule()));
        let mut taken = VecDeque::new();
        feed.take(4, &mut taken);
        feed.take(5, &mut taken);
        let functions: Vec<u32> = taken.iter().map(|i| i.function.0).collect();
        // Three invocations per schedule, in the schedule's order, three times over.
        assert_eq!(functions[0..3], functions[3..6]);
        assert_eq!(functions[0..3], functions[6..9]);
        assert_eq!(functions.iter().filter(|&&f| f == 1).count(), 6);
        assert!(feed.failure().is_none());
    }
}
