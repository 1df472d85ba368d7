//! A worker: sends the invocations the pacer hands it, many at once, and records each outcome
//! into its own recorder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hyper::Uri;
use scenarios::Invocation;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::client::InvokeClient;
use crate::invocation_log::InvocationLog;
use crate::outcome::{ErrorKind, Outcome, PlatformMetering, StartKind};
use crate::progress::LiveProgress;
use crate::recorder::Recorder;

/// What all workers of a run share.
pub(crate) struct WorkerContext {
    pub(crate) client: InvokeClient,
    /// URL of each function, indexed by function id.
    pub(crate) urls: Vec<Uri>,
    /// The functions, indexed by function id: their bodies, fixed or built per invocation.
    pub(crate) functions: Vec<scenarios::FunctionProfile>,
    /// Fixed request body of each function, when it has one.
    pub(crate) bodies: Vec<Option<Bytes>>,
    /// The instant the schedule's time zero stands for.
    pub(crate) origin: Instant,
    pub(crate) request_timeout: Duration,
    pub(crate) progress: Arc<LiveProgress>,
    pub(crate) log: Option<Arc<InvocationLog>>,
}

/// Runs until the pacer closes the channel and every request sent has finished.
pub(crate) async fn run(
    context: Arc<WorkerContext>,
    worker: usize,
    mut due: UnboundedReceiver<Invocation>,
) -> Recorder {
    let mut recorder = Recorder::new(context.urls.len());
    let mut in_flight = FuturesUnordered::new();
    let mut pacer_open = true;
    loop {
        tokio::select! {
            // New invocations first: sending on time matters more than recording promptly.
            biased;
            next = due.recv(), if pacer_open => match next {
                Some(invocation) => in_flight.push(call(context.clone(), invocation)),
                None => pacer_open = false,
            },
            Some(outcome) = in_flight.next(), if !in_flight.is_empty() => {
                recorder.record(&outcome);
                context.progress.finished(outcome.result.is_ok());
                if let Some(log) = &context.log {
                    log.write(&outcome, worker);
                }
            },
            else => break,
        }
    }
    recorder
}

async fn call(context: Arc<WorkerContext>, invocation: Invocation) -> Outcome {
    let scheduled = context.origin + Duration::from_micros(invocation.at_us);
    let sent = Instant::now();
    let function = invocation.function.index();
    let body = match &context.bodies[function] {
        Some(body) => body.clone(),
        None => context.functions[function].request_body(&invocation),
    };
    let answer = tokio::time::timeout(
        context.request_timeout,
        context.client.invoke(context.urls[function].clone(), body),
    )
    .await;
    let done = Instant::now();
    let (result, start, metering) = match answer {
        Ok(Ok(answer)) => (answer.result, answer.start, answer.metering),
        Ok(Err(kind)) => (Err(kind), StartKind::Unknown, PlatformMetering::default()),
        Err(_elapsed) => (
            Err(ErrorKind::Timeout),
            StartKind::Unknown,
            PlatformMetering::default(),
        ),
    };
    Outcome {
        invocation,
        latency_us: micros(done.saturating_duration_since(scheduled)),
        service_us: micros(done.saturating_duration_since(sent)),
        send_lag_us: micros(sent.saturating_duration_since(scheduled)),
        result,
        start,
        metering,
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
