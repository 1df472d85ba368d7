//! The optional per-invocation CSV, written as outcomes arrive (in completion order).

use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use crate::outcome::Outcome;

/// Column names of the per-invocation CSV. Missing figures are empty; `delayed_by_start` is
/// 1 or 0 as in [`Outcome::delayed_by_start`], empty when that is unknown.
pub const COLUMNS: [&str; 17] = [
    "scheduled_us",
    "function",
    "trigger",
    "result",
    "start",
    "start_inferred",
    "delayed_by_start",
    "latency_us",
    "service_us",
    "send_lag_us",
    "init_us",
    "queue_us",
    "exec_us",
    "billed_ms",
    "memory_mb",
    "instance",
    "worker",
];

pub(crate) struct InvocationLog {
    writer: Mutex<csv::Writer<File>>,
    functions: Vec<String>,
    first_error: Mutex<Option<String>>,
}

impl InvocationLog {
    pub(crate) fn create(path: &Path, functions: Vec<String>) -> Result<Self, csv::Error> {
        let mut writer = csv::Writer::from_path(path)?;
        writer.write_record(COLUMNS)?;
        Ok(Self {
            writer: Mutex::new(writer),
            functions,
            first_error: Mutex::new(None),
        })
    }

    /// Appends one row; `worker` is `None` for invocations never handed to one (dropped). A
    /// write failure is remembered and reported by [`Self::finish`]; the run itself goes on.
    pub(crate) fn write(&self, outcome: &Outcome, worker: Option<usize>) {
        let optional = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
        let result = match outcome.result {
            Ok(()) => "ok".to_owned(),
            Err(kind) => kind.to_string(),
        };
        let function = self
            .functions
            .get(outcome.invocation.function.index())
            .map_or("", String::as_str);
        let metering = &outcome.metering;
        let row = [
            outcome.invocation.at_us.to_string(),
            function.to_owned(),
            outcome.invocation.trigger.as_str().to_owned(),
            result,
            outcome.start.as_str().to_owned(),
            outcome.inferred.to_string(),
            match outcome.delayed_by_start() {
                Some(true) => "1".to_owned(),
                Some(false) => "0".to_owned(),
                None => String::new(),
            },
            outcome.latency_us.to_string(),
            outcome.service_us.to_string(),
            optional(outcome.send_lag_us),
            optional(metering.init_us),
            optional(metering.queue_us),
            optional(metering.exec_us),
            optional(metering.billed_ms),
            optional(metering.memory_mb),
            optional(metering.instance),
            worker.map(|w| w.to_string()).unwrap_or_default(),
        ];
        let written = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_record(&row);
        if let Err(err) = written {
            self.first_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(|| err.to_string());
        }
    }

    /// Flushes the file; returns the first write error of the run, if any.
    pub(crate) fn finish(&self) -> Result<(), String> {
        let flushed = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush();
        match self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(err) => Err(err),
            None => flushed.map_err(|err| err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{ErrorKind, PlatformMetering, StartKind};
    use scenarios::{FunctionId, Invocation, Trigger};

    fn outcome(start: StartKind, delayed_by_start: Option<bool>) -> Outcome {
        Outcome {
            invocation: Invocation {
                at_us: 0,
                function: FunctionId(0),
                trigger: Trigger::Http,
                duration_us: None,
                memory_mb: 128,
            },
            latency_us: 100,
            service_us: 90,
            send_lag_us: Some(10),
            result: Ok(()),
            start,
            inferred: false,
            metering: PlatformMetering {
                delayed_by_start,
                ..PlatformMetering::default()
            },
        }
    }

    #[test]
    fn delayed_by_start_is_one_zero_or_empty_when_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("invocations.csv");
        let log = InvocationLog::create(&path, vec!["f".into()]).unwrap();
        log.write(&outcome(StartKind::Warm, Some(true)), Some(0));
        log.write(&outcome(StartKind::Warm, Some(false)), Some(0));
        log.write(&outcome(StartKind::Cold, None), Some(0));
        log.write(&outcome(StartKind::Unknown, None), Some(0));
        let mut dropped = outcome(StartKind::Unknown, None);
        dropped.result = Err(ErrorKind::Dropped);
        log.write(&dropped, None);
        log.finish().unwrap();

        let mut reader = csv::Reader::from_path(&path).unwrap();
        let column = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "delayed_by_start")
            .unwrap();
        let values: Vec<String> = reader
            .records()
            .map(|row| row.unwrap()[column].to_owned())
            .collect();
        assert_eq!(values, ["1", "0", "1", "", ""]);
    }
}
