//! A replay: the pacer thread (open loop) or the users (closed loop), the workers, and the
//! merge of their recorders into a [`RunResult`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hyper::Method;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use scenarios::{HttpProtocol, LoadSpec, RequestSpec, StartInference};
use tokio::sync::{mpsc, oneshot};

use crate::client::{Protocol, RequestTemplate, WorkerClient};
use crate::feed::{Feed, ScheduleFactory};
use crate::inference::Inference;
use crate::interval_log::{IntervalLog, IntervalLogError};
use crate::invocation_log::InvocationLog;
use crate::pacer::{self, PacerSettings};
use crate::progress::{LiveProgress, StopSignal};
use crate::recorder::{MergeError, Recorder};
use crate::result::{Connections, Pacing, RunResult};
use crate::target::{Target, TargetError};
use crate::worker::{self, ClosedLoop, WorkerContext, WorkerOutput, WorkerThread};

/// How a replay runs, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Worker tasks sending requests, each with its own connections. Default: the number of
    /// CPUs.
    pub workers: usize,
    /// Open loop (default) or closed loop.
    pub load: LoadSpec,
    /// Method, headers, protocol, connections, timeouts.
    pub request: RequestSpec,
    /// How to tell start kinds the platform does not report. Default: not at all (`unknown`).
    pub start_inference: Option<StartInference>,
    /// Where to write one CSV row per invocation, if anywhere. Default none.
    pub invocation_log: Option<PathBuf>,
    /// Where to write the per-second series as an HdrHistogram interval log, if anywhere.
    /// Default none.
    pub interval_hlog: Option<PathBuf>,
    /// Where to write the per-second series as CSV ([`crate::INTERVAL_CSV_COLUMNS`]), if
    /// anywhere. Default none.
    pub interval_csv: Option<PathBuf>,
    /// Time between the call and the schedule's time zero, so the first invocations are not
    /// already late when workers start. Default 20 ms.
    pub lead_time: Duration,
    /// Ask for real-time (SCHED_FIFO) priority for the pacer thread. Default off.
    pub realtime: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            load: LoadSpec::default(),
            request: RequestSpec::default(),
            start_inference: None,
            invocation_log: None,
            interval_hlog: None,
            interval_csv: None,
            lead_time: Duration::from_millis(20),
            realtime: false,
        }
    }
}

/// Why a replay could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("[request] {key}: {message}")]
    Request { key: String, message: String },
    #[error("cannot create the invocation log {path}: {source}")]
    InvocationLog {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error(transparent)]
    IntervalLog(#[from] IntervalLogError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("the load generator failed: {0}")]
    Internal(String),
}

/// The request template and protocol a [`RequestSpec`] describes.
fn request_template(
    spec: &RequestSpec,
    inference: Option<&StartInference>,
) -> Result<RequestTemplate, ReplayError> {
    let fail = |key: &str, message: String| ReplayError::Request {
        key: key.to_owned(),
        message,
    };
    let method = Method::from_bytes(spec.method.as_bytes())
        .map_err(|err| fail("method", format!("`{}`: {err}", spec.method)))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &spec.headers {
        let key = format!("headers.{name}");
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|err| fail(&key, err.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|err| fail(&key, err.to_string()))?;
        headers.append(name, value);
    }
    let instance_header = match inference {
        Some(StartInference::InstanceHeader { header }) => Some(
            HeaderName::from_bytes(header.as_bytes())
                .map_err(|err| fail("start_kind.header", err.to_string()))?,
        ),
        _ => None,
    };
    Ok(RequestTemplate {
        method,
        headers,
        connect_timeout: spec.connect_timeout,
        request_timeout: spec.timeout,
        instance_header,
    })
}

/// Worker `index`'s protocol settings: connections are shared out over the workers.
fn worker_protocol(spec: &RequestSpec, workers: usize, index: usize) -> Protocol {
    let share = |total: usize| (total / workers + usize::from(index < total % workers)).max(1);
    match spec.protocol {
        HttpProtocol::Http1 => Protocol::Http1 {
            max_connections: spec.connections.map(share),
        },
        HttpProtocol::H2c => Protocol::Http2 {
            connections: share(spec.connections.unwrap_or(1)),
        },
    }
}

/// Replays the schedule `schedules` makes against `target` and returns what was measured.
///
/// Open loop (the default): each invocation is sent at its scheduled time whether or not
/// earlier ones have been answered, and its latency is measured from that scheduled time.
/// Closed loop: users send the schedule's invocations one after another, its times ignored,
/// for the schedule's duration. Either way it returns when every invocation sent has
/// finished, also after a stop.
///
/// Await it on any tokio runtime: the pacer and each worker run on threads of their own, so
/// the caller's runtime only waits for them.
pub async fn replay(
    schedules: ScheduleFactory,
    target: &Target,
    options: &ReplayOptions,
    stop: StopSignal,
    progress: Arc<LiveProgress>,
) -> Result<RunResult, ReplayError> {
    let schedule = schedules();
    let functions: Vec<String> = schedule
        .functions()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let trace_ids = schedule
        .functions()
        .iter()
        .map(|f| f.trace_id.clone())
        .collect();
    let triggers = schedule.functions().iter().map(|f| f.trigger).collect();
    target.check_functions(functions.len())?;
    let urls = functions
        .iter()
        .map(|name| target.url_for(name))
        .collect::<Result<Vec<_>, _>>()?;
    let template = Arc::new(request_template(
        &options.request,
        options.start_inference.as_ref(),
    )?);
    let workers = options
        .workers
        .min(options.load.max_in_flight())
        .min(options.request.connections.unwrap_or(usize::MAX))
        .max(1);
    let mut warnings = Vec::new();
    if let Err(message) = crate::limits::raise_open_files(options, workers) {
        warnings.push(message);
    }

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
    let hlog = options.interval_hlog.clone();
    let csv = options.interval_csv.clone();
    let intervals = Arc::new(IntervalLog::create(
        hlog.as_deref(),
        csv.as_deref(),
        started_at,
        workers,
    )?);
    progress.watch_intervals(intervals.clone());
    let context = Arc::new(WorkerContext {
        urls,
        bodies: schedule
            .functions()
            .iter()
            .map(|f| f.fixed_body())
            .collect(),
        functions: schedule.functions().to_vec(),
        origin,
        // Both are bounded when the scenario is read; saturate rather than panic regardless.
        deadline: origin
            .checked_add(schedule.duration())
            .and_then(|end| end.checked_add(options.request.timeout))
            .unwrap_or(origin + Duration::from_secs(400 * 24 * 3600)),
        progress: progress.clone(),
        log: log.clone(),
        intervals: intervals.clone(),
        inference: options.start_inference.as_ref().map(Inference::new),
    });
    let scenario = schedule.name().to_owned();
    let planned = schedule.duration();
    // Each worker's client is made on the worker's own thread.
    let client = |index| {
        let protocol = worker_protocol(&options.request, workers, index);
        let template = template.clone();
        move || WorkerClient::new(&protocol, template)
    };

    let mut recorder = Recorder::new(functions.len());
    let mut pacing = None;
    let mut not_sent = 0;
    let mut stopped_after = None;
    let failure;
    let outputs = match options.load.users() {
        None => {
            let mut senders = Vec::new();
            let mut tasks = Vec::new();
            for index in 0..workers {
                let (sender, receiver) = mpsc::unbounded_channel();
                senders.push(sender);
                let context = context.clone();
                let client = client(index);
                tasks.push(spawn_worker(index, move || {
                    worker::open_loop(context, index, client(), receiver)
                })?);
            }
            let (report_sender, report) = oneshot::channel();
            let settings = PacerSettings {
                origin,
                deadline: context.deadline,
                max_in_flight: options.load.max_in_flight() as u64,
                realtime: options.realtime,
            };
            let pacer_stop = stop.clone();
            let pacer_progress = progress.clone();
            let pacer_log = log.clone();
            std::thread::Builder::new()
                .name("faasbench-pacer".into())
                .spawn(move || {
                    let report = pacer::run(
                        schedule,
                        &settings,
                        senders,
                        pacer_stop,
                        &pacer_progress,
                        pacer_log,
                    );
                    let _ = report_sender.send(report);
                })
                .map_err(|err| ReplayError::Internal(format!("cannot start the pacer: {err}")))?;
            let outputs = join(tasks).await?;
            let report = report
                .await
                .map_err(|_| ReplayError::Internal("the pacer stopped without a report".into()))?;
            recorder.merge(&report.dropped)?;
            not_sent = report.not_sent;
            stopped_after = report.stopped_after;
            failure = report.failure;
            if let Some(Err(refused)) = &report.realtime {
                warnings.push(refused.clone());
            }
            pacing = Some(Pacing {
                dispatch_lag: report.dispatch_lag,
                cpu: report.cpu,
                wall: report.wall,
                realtime: report.realtime.is_some_and(|r| r.is_ok()),
            });
            outputs
        }
        Some((users, think_time)) => {
            drop(schedule);
            let feed = Arc::new(Feed::new(schedules));
            let outputs = closed_loop(
                &context,
                workers,
                users,
                think_time,
                origin + planned,
                &stop,
                &feed,
                client,
            )
            .await?;
            failure = feed.failure();
            if stop.is_stopped() || failure.is_some() {
                stopped_after = Some(origin.elapsed());
            }
            outputs
        }
    };
    let mut connections = Connections::default();
    for output in outputs {
        recorder.merge(&output.recorder)?;
        connections.opened += output.connections.0;
        connections.peak += output.connections.1;
        if let Some(problem) = output.interval_error {
            warnings.push(format!("interval series: {problem}"));
        }
    }
    let elapsed = origin.elapsed();

    if let Err(err) = intervals.finish() {
        warnings.push(format!("interval series: {err}"));
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
        trace_ids,
        triggers,
        started_at,
        planned,
        elapsed,
        replayed: stopped_after.map_or(planned, |after| after.min(planned)),
        load: options.load.clone(),
        request: options.request.clone(),
        start_inference: options.start_inference.clone(),
        not_sent,
        connections,
        stopped_early: stop.is_stopped() || failure.is_some(),
        schedule_failure: failure,
        recorder,
        pacing,
        warnings,
    })
}

/// Runs `users` closed-loop users spread over `workers` workers until `until`.
#[allow(clippy::too_many_arguments)]
async fn closed_loop<C>(
    context: &Arc<WorkerContext>,
    workers: usize,
    users: usize,
    think_time: Duration,
    until: Instant,
    stop: &StopSignal,
    feed: &Arc<Feed>,
    client: impl Fn(usize) -> C,
) -> Result<Vec<WorkerOutput>, ReplayError>
where
    C: FnOnce() -> WorkerClient + Send + 'static,
{
    // Users start at time zero, like the open loop's schedule.
    tokio::time::sleep_until(context.origin.into()).await;
    let tasks = (0..workers)
        .map(|index| {
            let plan = ClosedLoop {
                users: users / workers + usize::from(index < users % workers),
                think_time,
                until,
                stop: stop.clone(),
                feed: feed.clone(),
            };
            let context = context.clone();
            let client = client(index);
            spawn_worker(index, move || {
                worker::closed_loop(context, index, client(), plan)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    join(tasks).await
}

fn spawn_worker<F, W>(index: usize, work: W) -> Result<WorkerThread, ReplayError>
where
    W: FnOnce() -> F + Send + 'static,
    F: std::future::Future<Output = WorkerOutput>,
{
    WorkerThread::spawn(index, work)
        .map_err(|err| ReplayError::Internal(format!("cannot start a worker thread: {err}")))
}

async fn join(tasks: Vec<WorkerThread>) -> Result<Vec<WorkerOutput>, ReplayError> {
    let mut outputs = Vec::with_capacity(tasks.len());
    for task in tasks {
        outputs.push(task.join().await.map_err(ReplayError::Internal)?);
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_split_over_workers() {
        let spec = |protocol, connections| RequestSpec {
            protocol,
            connections,
            ..RequestSpec::default()
        };
        assert_eq!(
            worker_protocol(&spec(HttpProtocol::Http1, Some(5)), 2, 0),
            Protocol::Http1 {
                max_connections: Some(3)
            }
        );
        assert_eq!(
            worker_protocol(&spec(HttpProtocol::Http1, Some(5)), 2, 1),
            Protocol::Http1 {
                max_connections: Some(2)
            }
        );
        assert_eq!(
            worker_protocol(&spec(HttpProtocol::Http1, None), 2, 1),
            Protocol::Http1 {
                max_connections: None
            }
        );
        assert_eq!(
            worker_protocol(&spec(HttpProtocol::H2c, None), 1, 0),
            Protocol::Http2 { connections: 1 }
        );
    }

    #[test]
    fn request_spec_becomes_a_template() {
        let mut spec = RequestSpec {
            method: "PUT".into(),
            ..RequestSpec::default()
        };
        spec.headers.insert("x-tenant".into(), "blue".into());
        let inference = StartInference::InstanceHeader {
            header: "x-instance".into(),
        };
        let template = request_template(&spec, Some(&inference)).unwrap();
        assert_eq!(template.method, Method::PUT);
        assert_eq!(template.headers["x-tenant"], "blue");
        assert_eq!(template.instance_header.unwrap(), "x-instance");
    }
}
