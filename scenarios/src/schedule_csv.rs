//! The schedule as CSV: `time_us,function,trigger,duration_ms,memory_mb`, one row per
//! invocation in time order — exactly what a run replays, for inspection and for other tools.

use std::io::Write;

use crate::{Schedule, ScheduleError};

/// Why the schedule could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleCsvError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("cannot write the schedule: {0}")]
    Write(#[from] std::io::Error),
}

/// The header of the schedule CSV.
pub const SCHEDULE_COLUMNS: &str = "time_us,function,trigger,duration_ms,memory_mb";

/// Writes every invocation of `schedule` to `out`; returns how many.
pub fn write_schedule_csv(
    schedule: Schedule,
    mut out: impl Write,
) -> Result<u64, ScheduleCsvError> {
    let names: Vec<String> = schedule
        .functions()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    writeln!(out, "{SCHEDULE_COLUMNS}")?;
    let mut written = 0;
    for invocation in schedule {
        let invocation = invocation?;
        let duration = invocation
            .duration_us
            .map(|us| format!("{:.3}", f64::from(us) / 1000.0))
            .unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{}",
            invocation.at_us,
            names[invocation.function.index()],
            invocation.trigger,
            duration,
            invocation.memory_mb
        )?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    #[test]
    fn one_row_per_invocation_with_its_fields() {
        let scenario = Scenario::from_toml_str(
            "name = \"t\"\nduration = \"1s\"\n[arrivals]\nprocess = \"constant\"\nrate = 4.0\n[[functions]]\nname = \"f\"\nguest = \"noop\"\nmemory_mb = 256\ntrigger = \"timer\"\n",
            "t.toml",
        )
        .unwrap();
        let mut out = Vec::new();
        let written = write_schedule_csv(scenario.schedule(), &mut out).unwrap();
        assert_eq!(written, 4);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], SCHEDULE_COLUMNS);
        assert_eq!(lines[1], "0,f,timer,,256");
        assert_eq!(lines[4], "750000,f,timer,,256");
    }
}
