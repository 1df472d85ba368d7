//! Open-loop replay of a schedule: the pacer thread, the workers, and the merge of their
//! recorders into a [`RunResult`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use scenarios::Schedule;
use tokio::sync::{mpsc, oneshot};

use crate::client::InvokeClient;
use crate::invocation_log::InvocationLog;
use crate::progress::{LiveProgress, StopSignal};
use crate::recorder::{MergeError, Recorder};
use crate::target::{Target, TargetError};
use crate::worker::{self, WorkerContext};
use crate::{RunResult, pacer};

/// How a replay runs, with documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Worker tasks sending requests. Default: the number of CPUs.
    pub workers: usize,
    /// Time allowed for a complete answer; later ones count as timeouts. Default 30 s.
    pub request_timeout: Duration,
    /// Where to write one CSV row per invocation, if anywhere. Default none.
    pub invocation_log: Option<PathBuf>,
    /// Time between the call and the schedule's time zero, so the first invocations are not
    /// already late when workers start. Default 20 ms.
    pub lead_time: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            request_timeout: Duration::from_secs(30),
            invocation_log: None,
            lead_time: Duration::from_millis(20),
        }
    }
}

/// Why a replay could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot create the invocation log {path}: {source}")]
    InvocationLog {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("the pacer thread failed: {0}")]
    Pacer(String),
}

/// Replays `schedule` against `target`, open loop: each invocation is sent at its scheduled
/// time whether or not earlier ones have been answered, and its latency is measured from that
/// scheduled time. Returns when every sent invocation has finished.
///
/// Must run inside a multi-threaded tokio runtime; the workers are tasks on it.
pub async fn replay(
    schedule: Schedule,
    target: &Target,
    options: &ReplayOptions,
    stop: StopSignal,
    progress: Arc<LiveProgress>,
) -> Result<RunResult, ReplayError> {
    let functions: Vec<String> = schedule
        .functions()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let urls = functions
        .iter()
        .map(|name| target.url_for(name))
        .collect::<Result<Vec<_>, _>>()?;
    let bodies = schedule
        .functions()
        .iter()
        .map(|f| f.fixed_body())
        .collect();
    let profiles = schedule.functions().to_vec();
    let log = match &options.invocation_log {
        Some(path) => Some(Arc::new(
            InvocationLog::create(path, functions.clone()).map_err(|source| {
                ReplayError::InvocationLog {
                    path: path.clone(),
                    source,
                }
            })?,
        )),
        None => None,
    };

    let origin = Instant::now() + options.lead_time;
    let started_at = SystemTime::now() + options.lead_time;
    let context = Arc::new(WorkerContext {
        client: InvokeClient::new(),
        urls,
        functions: profiles,
        bodies,
        origin,
        request_timeout: options.request_timeout,
        progress: progress.clone(),
        log: log.clone(),
    });
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for index in 0..options.workers.max(1) {
        let (sender, receiver) = mpsc::unbounded_channel();
        senders.push(sender);
        workers.push(tokio::spawn(worker::run(context.clone(), index, receiver)));
    }

    let scenario = schedule.name().to_owned();
    let planned = schedule.duration();
    let (report_sender, report) = oneshot::channel();
    let pacer_stop = stop.clone();
    std::thread::Builder::new()
        .name("faasbench-pacer".into())
        .spawn(move || {
            let report = pacer::run(schedule, origin, senders, pacer_stop, &progress);
            let _ = report_sender.send(report);
        })
        .map_err(|err| ReplayError::Pacer(err.to_string()))?;

    let mut recorder = Recorder::new(functions.len());
    for worker in workers {
        let recorded = worker
            .await
            .map_err(|err| ReplayError::Pacer(format!("a worker failed: {err}")))?;
        recorder.merge(&recorded)?;
    }
    let report = report
        .await
        .map_err(|_| ReplayError::Pacer("it stopped without a report".into()))?;
    let elapsed = origin.elapsed();

    let mut warnings = Vec::new();
    if let Some(failure) = &report.failure {
        warnings.push(failure.clone());
    }
    if let (Some(log), Some(path)) = (log, &options.invocation_log)
        && let Err(err) = log.finish()
    {
        warnings.push(format!(
            "invocation log {} is incomplete: {err}",
            path.display()
        ));
    }
    Ok(RunResult {
        scenario,
        target: target.template().to_owned(),
        functions,
        started_at,
        planned,
        elapsed,
        dispatched: report.dispatched,
        not_sent: report.not_sent,
        stopped_early: (stop.is_stopped() && report.not_sent > 0) || report.failure.is_some(),
        recorder,
        warnings,
    })
}
