//! A worker: a thread with its own connections that sends invocations, many at once, and
//! records each outcome into its own recorder and its part of the interval series.
//!
//! In open loop it sends what the pacer hands it, as soon as it arrives. In a closed loop it
//! keeps a number of users busy: each finished invocation is followed by the user's next,
//! after the think time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hyper::Uri;
use scenarios::Invocation;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use crate::client::WorkerClient;
use crate::feed::Feed;
use crate::inference::Inference;
use crate::interval_log::{IntervalLog, IntervalPart};
use crate::invocation_log::InvocationLog;
use crate::outcome::{Outcome, StartKind};
use crate::progress::{LiveProgress, StopSignal};
use crate::recorder::Recorder;

/// Invocations a closed-loop worker takes from the shared feed at a time.
const FEED_BATCH: usize = 32;

/// Finished invocations a closed-loop worker counts before it updates the live progress.
const CLOSED_LOOP_BATCH: u64 = 64;

/// How often an idle worker tells the interval log that a second has passed.
const INTERVAL_TICK: Duration = Duration::from_millis(250);

/// What all workers of a run share.
pub(crate) struct WorkerContext {
    /// URL of each function, indexed by function id.
    pub(crate) urls: Vec<Uri>,
    /// The functions, indexed by function id: their bodies, fixed or built per invocation.
    pub(crate) functions: Vec<scenarios::FunctionProfile>,
    /// Fixed request body of each function, when it has one.
    pub(crate) bodies: Vec<Option<Bytes>>,
    /// The instant the schedule's time zero stands for.
    pub(crate) origin: Instant,
    /// The end of the run: the schedule's end plus the request timeout. Nothing is sent
    /// after it, and an exchange still open then ends as a timeout: its latency from its
    /// scheduled time already exceeds the timeout.
    pub(crate) deadline: Instant,
    pub(crate) progress: Arc<LiveProgress>,
    pub(crate) log: Option<Arc<InvocationLog>>,
    pub(crate) intervals: Arc<IntervalLog>,
    pub(crate) inference: Option<Inference>,
}

/// What a worker hands back when it is done.
pub(crate) struct WorkerOutput {
    pub(crate) recorder: Recorder,
    /// Connections the worker opened, and the most it had open at once.
    pub(crate) connections: (u64, usize),
    /// The first problem with the interval series, if any.
    pub(crate) interval_error: Option<String>,
}

/// A worker running on its own thread.
pub(crate) struct WorkerThread {
    output: oneshot::Receiver<WorkerOutput>,
}

impl WorkerThread {
    /// Starts worker `index` on a thread of its own with a single-threaded tokio runtime: its
    /// connections, in-flight exchanges and recorder all live there, so an answer wakes a
    /// task on the same thread and nothing is shared per request but counters. `work`
    /// builds the worker's future on that thread.
    pub(crate) fn spawn<F, W>(index: usize, work: W) -> std::io::Result<Self>
    where
        W: FnOnce() -> F + Send + 'static,
        F: Future<Output = WorkerOutput>,
    {
        let (sender, output) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name(format!("faasbench-worker-{index}"))
            .spawn(move || {
                let _ = sender.send(runtime.block_on(work()));
            })?;
        Ok(Self { output })
    }

    /// Waits for the worker to finish.
    pub(crate) async fn join(self) -> Result<WorkerOutput, String> {
        self.output
            .await
            .map_err(|_| "a worker thread ended without its results".to_owned())
    }
}

/// A closed-loop worker's share of the users and when to stop.
pub(crate) struct ClosedLoop {
    pub(crate) users: usize,
    pub(crate) think_time: Duration,
    pub(crate) until: Instant,
    pub(crate) stop: StopSignal,
    pub(crate) feed: Arc<Feed>,
}

/// Sends invocations over the worker's connections; shared by its in-flight exchanges.
struct Sender {
    context: Arc<WorkerContext>,
    client: WorkerClient,
}

impl Sender {
    /// Sends `invocation`, whose schedule put it at `scheduled`, and measures the exchange.
    /// `begun` is now, when the exchange begins; `on_schedule` is false in a closed loop,
    /// where nothing is late. Returns the outcome and when it ended.
    async fn exchange(
        &self,
        invocation: Invocation,
        scheduled: Instant,
        begun: Instant,
        on_schedule: bool,
    ) -> (Outcome, Instant) {
        let context = &self.context;
        let function = invocation.function.index();
        let body = match &context.bodies[function] {
            Some(body) => body.clone(),
            None => context.functions[function].request_body(&invocation),
        };
        let exchange = tokio::time::timeout_at(
            context.deadline.into(),
            self.client.send_from(&context.urls[function], body, begun),
        )
        .await
        .unwrap_or_else(|_| crate::client::Exchange::cut_off());
        let done = Instant::now();
        let sent = exchange.sent.unwrap_or(begun);
        let service_us = micros(done.saturating_duration_since(sent));
        let (start, inferred) = match (&context.inference, exchange.facts.start) {
            (Some(inference), StartKind::Unknown) if exchange.result.is_ok() => {
                match inference.start_kind(&exchange.facts, service_us) {
                    Some(kind) => (kind, true),
                    None => (StartKind::Unknown, false),
                }
            }
            (_, reported) => (reported, false),
        };
        let outcome = Outcome {
            invocation,
            latency_us: micros(done.saturating_duration_since(scheduled)),
            service_us,
            send_lag_us: (on_schedule && exchange.sent.is_some())
                .then(|| micros(sent.saturating_duration_since(scheduled))),
            result: exchange.result,
            start,
            inferred,
            metering: exchange.facts.metering,
        };
        (outcome, done)
    }

    /// A closed-loop user's turn: think, then send `invocation` and wait for its answer.
    async fn turn(&self, mut invocation: Invocation, think_time: Duration) -> (Outcome, Instant) {
        if !think_time.is_zero() {
            tokio::time::sleep(think_time).await;
        }
        let now = Instant::now();
        invocation.at_us = micros(now.saturating_duration_since(self.context.origin));
        self.exchange(invocation, now, now, false).await
    }
}

/// Finished invocations not yet added to the live progress, which every worker shares.
struct LocalCounts {
    ok: u64,
    errors: u64,
    batch: u64,
    /// Closed loop: nothing was scheduled, each invocation counts as due and sent too.
    unscheduled: bool,
}

impl LocalCounts {
    fn new(batch: u64, unscheduled: bool) -> Self {
        Self {
            ok: 0,
            errors: 0,
            batch,
            unscheduled,
        }
    }

    fn finished(&mut self, ok: bool, progress: &LiveProgress) {
        if ok {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
        if self.ok + self.errors >= self.batch {
            self.publish(progress);
        }
    }

    fn publish(&mut self, progress: &LiveProgress) {
        progress.finished_many(self.ok, self.errors, self.unscheduled);
        self.ok = 0;
        self.errors = 0;
    }
}

/// One worker's recorder and its part of the interval series.
struct Tally {
    context: Arc<WorkerContext>,
    index: usize,
    counts: LocalCounts,
    recorder: Recorder,
    part: IntervalPart,
    /// The second of the run `part` holds.
    second: u64,
    interval_error: Option<String>,
}

impl Tally {
    /// In open loop the live progress is told of every finished invocation at once (the
    /// pacer's in-flight bound reads it); a closed loop tells it in batches.
    fn new(context: Arc<WorkerContext>, index: usize, open_loop: bool) -> Self {
        let recorder = Recorder::new(context.urls.len());
        let counts = if open_loop {
            LocalCounts::new(1, false)
        } else {
            LocalCounts::new(CLOSED_LOOP_BATCH, true)
        };
        Self {
            context,
            index,
            counts,
            recorder,
            part: IntervalPart::new(),
            second: 0,
            interval_error: None,
        }
    }

    /// Records `outcome`, which ended at `done`.
    fn finish(&mut self, outcome: &Outcome, done: Instant) {
        self.recorder.record(outcome);
        self.counts
            .finished(outcome.result.is_ok(), &self.context.progress);
        if let Some(log) = &self.context.log {
            log.write(outcome, Some(self.index));
        }
        let second = done
            .saturating_duration_since(self.context.origin)
            .as_secs();
        if second != self.second {
            self.flush(second);
        }
        // Dropped invocations were never sent: the recorder counts them by the second they
        // were due; the interval series holds what finished.
        if outcome.result != Err(crate::ErrorKind::Dropped) {
            self.part.record(
                outcome.latency_us,
                outcome.result.is_ok(),
                outcome.start == StartKind::Cold,
            );
        }
    }

    /// Hands the current second's part to the interval log and moves on to `second`.
    fn flush(&mut self, second: u64) {
        let intervals = &self.context.intervals;
        let added = intervals.add(self.index, self.second, &self.part);
        self.part.clear();
        self.second = second;
        let advanced = intervals.advance(self.index, second);
        if let Err(err) = added.and(advanced) {
            self.interval_error.get_or_insert_with(|| err.to_string());
        }
    }

    /// Lets the interval log complete seconds in which this worker finished nothing.
    fn tick(&mut self) {
        self.counts.publish(&self.context.progress);
        let second = self.context.origin.elapsed().as_secs();
        if second > self.second {
            self.flush(second);
        }
    }

    fn into_output(mut self, sender: &Sender) -> WorkerOutput {
        self.counts.publish(&self.context.progress);
        self.flush(self.second + 1);
        WorkerOutput {
            recorder: self.recorder,
            connections: sender.client.connection_figures(),
            interval_error: self.interval_error,
        }
    }
}

fn interval_ticker() -> tokio::time::Interval {
    let mut ticker = tokio::time::interval(INTERVAL_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    ticker
}

/// Open loop: sends what the pacer hands over until it closes the channel, and returns once
/// every invocation sent has finished.
pub(crate) async fn open_loop(
    context: Arc<WorkerContext>,
    index: usize,
    client: WorkerClient,
    mut due: UnboundedReceiver<Invocation>,
) -> WorkerOutput {
    let sender = Sender {
        context: context.clone(),
        client,
    };
    let mut tally = Tally::new(context, index, true);
    let mut ticker = interval_ticker();
    let mut in_flight = FuturesUnordered::new();
    let mut pacer_open = true;
    while pacer_open || !in_flight.is_empty() {
        tokio::select! {
            // New invocations first: sending on time matters more than recording promptly.
            biased;
            next = due.recv(), if pacer_open => match next {
                Some(invocation) => {
                    let now = Instant::now();
                    if now >= sender.context.deadline {
                        // Handed over too late to be sent within the run.
                        tally.finish(&crate::pacer::dropped_outcome(invocation), now);
                        continue;
                    }
                    let scheduled = sender.context.origin + Duration::from_micros(invocation.at_us);
                    in_flight.push(sender.exchange(invocation, scheduled, now, true));
                }
                None => pacer_open = false,
            },
            Some((outcome, done)) = in_flight.next(), if !in_flight.is_empty() => {
                tally.finish(&outcome, done);
            }
            _ = ticker.tick() => tally.tick(),
        }
    }
    tally.into_output(&sender)
}

/// Closed loop: keeps `plan.users` users busy until `plan.until` or a stop, then returns
/// once their last invocations have finished. Each user is one long-lived future, so a turn
/// allocates nothing.
pub(crate) async fn closed_loop(
    context: Arc<WorkerContext>,
    index: usize,
    client: WorkerClient,
    plan: ClosedLoop,
) -> WorkerOutput {
    let sender = Sender {
        context: context.clone(),
        client,
    };
    // Users and the ticker take turns on this thread; none holds the tally across an await.
    let tally = RefCell::new(Tally::new(context, index, false));
    let mut ticker = interval_ticker();
    let mut local = VecDeque::new();
    let next = RefCell::new(move || {
        if plan.stop.is_stopped() || Instant::now() >= plan.until {
            return None;
        }
        if local.is_empty() {
            plan.feed.take(FEED_BATCH, &mut local);
        }
        local.pop_front()
    });
    let user = |think_time: Duration| {
        let (sender, tally, next) = (&sender, &tally, &next);
        async move {
            let mut pause = Duration::ZERO;
            loop {
                // The borrow ends here, before the await below.
                let Some(invocation) = (next.borrow_mut())() else {
                    break;
                };
                let (outcome, done) = sender.turn(invocation, pause).await;
                tally.borrow_mut().finish(&outcome, done);
                pause = think_time;
            }
        }
    };
    let mut users: FuturesUnordered<_> = (0..plan.users).map(|_| user(plan.think_time)).collect();
    loop {
        tokio::select! {
            finished = users.next() => if finished.is_none() {
                break;
            },
            _ = ticker.tick() => tally.borrow_mut().tick(),
        }
    }
    drop(users);
    tally.into_inner().into_output(&sender)
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
