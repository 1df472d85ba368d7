//! The highest rate a scenario asks for, so a run can warn before it asks more of the machine
//! than the load generator can issue.

use crate::Scenario;

impl Scenario {
    /// Invocations per second at the busiest moment of the schedule, from the arrival
    /// process's parameters or the trace's busiest minute (its replayed functions may be
    /// fewer: an upper bound). `None` for a closed loop, which has no rate.
    pub fn peak_rate(&self) -> Option<f64> {
        if self.load.users().is_some() {
            return None;
        }
        if let Some(trace) = &self.trace {
            let busiest = trace.reader.index().per_minute.iter().copied().max()?;
            return Some(busiest as f64 * trace.spec.rate_scale * self.time_compression / 60.0);
        }
        let rate = self.arrivals.as_ref()?.peak_rate(self.functions.len());
        Some(rate)
    }
}

#[cfg(test)]
mod tests {
    use crate::Scenario;

    fn peak(arrivals: &str) -> Option<f64> {
        Scenario::from_toml_str(
            &format!(
                "name = \"p\"\nduration = \"10s\"\n[arrivals]\n{arrivals}\n[[functions]]\nname = \"a\"\nguest = \"noop\"\n"
            ),
            "p.toml",
        )
        .unwrap()
        .peak_rate()
    }

    #[test]
    fn the_peak_is_the_processes_highest_rate() {
        assert_eq!(peak("process = \"poisson\"\nrate = 50.0"), Some(50.0));
        assert_eq!(
            peak("process = \"ramp\"\nfrom = 300.0\nto = 10.0"),
            Some(300.0)
        );
        assert_eq!(
            peak("process = \"spike\"\nbase = 10.0\npeak = 900.0\nat = \"1s\"\nlength = \"1s\""),
            Some(900.0)
        );
        assert_eq!(
            peak("process = \"diurnal\"\nmean = 100.0\namplitude = 0.5\nperiod = \"10s\""),
            Some(150.0)
        );
        assert_eq!(
            peak("process = \"cold-probe\"\ngap = \"100ms\""),
            Some(10.0)
        );
    }
}
