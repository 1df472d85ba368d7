//! An invocation's claim on its function's capacity, from the moment it arrives until it has
//! ended: a place in the queue, then an instance slot (a permit of the function's
//! `max_instances`), then the memory reserved for a new instance or an instance of its own.
//!
//! The claim is the only owner of all of these, and its `Drop` gives back whatever it still
//! holds. So every way an invocation can end returns everything: an answer, an error, or a
//! caller that left — an HTTP/1.1 client hanging up, an HTTP/2 stream reset, a chain's caller
//! timing out — which drops the invocation's future wherever it was waiting. A cancelled
//! invocation is discarded where it stands: taken out of the queue, its start abandoned, or
//! its guest interrupted at its next wait or epoch tick and its instance unloaded rather than
//! kept (its state is that of an interrupted call).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};

use crate::InvokeError;
use crate::deploy::Deployed;
use crate::instance::FunctionInstance;
use crate::metering::StartKind;
use crate::policy::PolicyTime;
use crate::pool::{Acquired, Finished, Holding, Lease, StartEnded};
use crate::runtime::Shared;

/// The starts of new instances for a function's invocations, so that an invocation that
/// waited in the queue knows whether a start was under way meanwhile.
#[derive(Debug, Default)]
pub(crate) struct StartTracker {
    begun: AtomicU64,
    running: AtomicU32,
}

/// What a queued invocation saw of its function's starts when it joined the queue.
#[derive(Debug, Clone, Copy)]
struct StartsSeen {
    begun: u64,
    running: bool,
}

impl StartTracker {
    fn seen(&self) -> StartsSeen {
        StartsSeen {
            begun: self.begun.load(Ordering::Acquire),
            running: self.running.load(Ordering::Acquire) > 0,
        }
    }

    /// Whether a start was under way at any time since `seen`.
    fn ran_since(&self, seen: StartsSeen) -> bool {
        seen.running || self.begun.load(Ordering::Acquire) != seen.begun
    }

    fn begin(&self) {
        self.running.fetch_add(1, Ordering::AcqRel);
        self.begun.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

enum Stage {
    /// Counted in the function's `waiting`.
    Queued,
    /// Holds an instance slot; nothing in the pools yet.
    Admitted,
    /// Memory is reserved and a new instance is starting.
    Starting,
    /// An instance serves the invocation.
    Busy(Lease<FunctionInstance>),
    /// Everything was given back.
    Done,
}

/// See the module docs.
pub(crate) struct Claim<'a> {
    shared: &'a Shared,
    function: Arc<Deployed>,
    holding: Holding,
    stage: Stage,
    /// Released last, after the pools took back the instance, so that an invocation waiting
    /// for the slot finds the instance idle.
    permit: Option<OwnedSemaphorePermit>,
    waited_for_start: bool,
}

impl<'a> Claim<'a> {
    /// Admits an invocation of `function`: an instance slot at once, or a place in the queue
    /// until one is free. Refused when the queue is full or the function is removed.
    pub(crate) async fn admit(
        shared: &'a Shared,
        function: Arc<Deployed>,
    ) -> Result<Claim<'a>, InvokeError> {
        let holding = Holding {
            function: function.name.clone(),
            generation: function.generation,
            memory_mb: function.config.memory_mb,
        };
        let mut claim = Claim {
            shared,
            function,
            holding,
            stage: Stage::Done,
            permit: None,
            waited_for_start: false,
        };
        match claim.function.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                claim.admitted(permit);
                return Ok(claim);
            }
            Err(TryAcquireError::Closed) => return Err(claim.gone()),
            Err(TryAcquireError::NoPermits) => {}
        }
        let waiting = claim.function.waiting.fetch_add(1, Ordering::AcqRel);
        claim.stage = Stage::Queued;
        if waiting >= claim.function.config.max_queue {
            return Err(shared.reject_queue(&claim.function, waiting));
        }
        let seen = claim.function.starts.seen();
        let permit = claim.function.permits.clone().acquire_owned().await;
        claim.function.waiting.fetch_sub(1, Ordering::AcqRel);
        claim.stage = Stage::Done;
        let permit = permit.map_err(|_| claim.gone())?;
        claim.waited_for_start = claim.function.starts.ran_since(seen);
        claim.admitted(permit);
        Ok(claim)
    }

    fn admitted(&mut self, permit: OwnedSemaphorePermit) {
        self.permit = Some(permit);
        self.stage = Stage::Admitted;
    }

    /// Whether the invocation waited in the queue while an instance of its function started.
    pub(crate) fn waited_for_start(&self) -> bool {
        self.waited_for_start
    }

    /// The arrival, at `arrived` on the policy clock, takes an idle instance (`false`) or
    /// memory for a new one (`true`: start it and report [`Claim::started`] or
    /// [`Claim::start_failed`]).
    pub(crate) fn acquire(&mut self, arrived: PolicyTime) -> Result<bool, InvokeError> {
        let name = &self.holding.function;
        let (acquired, evicted, refusal) = {
            let mut pools = self.shared.pools();
            let (acquired, evicted) = pools.acquire(name, arrived);
            let refusal = matches!(acquired, Acquired::NoCapacity).then(|| {
                let (live, slots) = pools.slots();
                InvokeError::CapacityFull {
                    function: name.to_string(),
                    needed_mb: self.holding.memory_mb,
                    used_mb: pools.used_mb(),
                    capacity_mb: pools.capacity_mb(),
                    live,
                    slots,
                    retry_after_s: 1,
                }
            });
            (acquired, evicted, refusal)
        };
        self.shared.discard(evicted);
        match acquired {
            Acquired::Warm(lease) => {
                self.stage = Stage::Busy(lease);
                Ok(false)
            }
            Acquired::Start => {
                self.function.starts.begin();
                self.stage = Stage::Starting;
                Ok(true)
            }
            Acquired::NoCapacity => Err(refusal.unwrap_or_else(|| self.gone())),
            Acquired::Unknown => Err(self.gone()),
        }
    }

    /// The function was removed while the invocation waited.
    fn gone(&self) -> InvokeError {
        InvokeError::UnknownFunction(self.holding.function.to_string())
    }

    /// The new instance started, as `kind`, in `cost`; it serves the invocation now.
    pub(crate) fn started(&mut self, instance: FunctionInstance, kind: StartKind, cost: Duration) {
        if !matches!(self.stage, Stage::Starting) {
            return;
        }
        self.function.starts.end();
        let now = self.shared.now();
        let lease = self
            .shared
            .pools()
            .started(&self.holding, kind, cost, instance, now);
        self.stage = Stage::Busy(lease);
    }

    /// The new instance could not be started.
    pub(crate) fn start_failed(mut self) {
        self.end_start(StartEnded::Failed);
    }

    fn end_start(&mut self, how: StartEnded) {
        if !matches!(
            std::mem::replace(&mut self.stage, Stage::Done),
            Stage::Starting
        ) {
            return;
        }
        self.function.starts.end();
        let now = self.shared.now();
        let wake = self.shared.pools().start_ended(&self.holding, how, now);
        self.shared.wake_keeper(wake);
    }

    /// The instance serving the invocation, once it has one.
    pub(crate) fn instance(&mut self) -> Option<&mut FunctionInstance> {
        match &mut self.stage {
            Stage::Busy(lease) => Some(&mut lease.instance),
            _ => None,
        }
    }

    /// The invocation ended as `finished` at `ended` (policy time) after `exec_us` in the
    /// guest: the instance goes back to the pool or is unloaded, then the slot is freed.
    pub(crate) fn finish(mut self, finished: Finished, exec_us: u64, ended: PolicyTime) {
        self.release(finished, exec_us, ended);
    }

    fn release(&mut self, finished: Finished, exec_us: u64, ended: PolicyTime) {
        let Stage::Busy(lease) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let (unloaded, wake) =
            self.shared
                .pools()
                .release(&self.holding, lease, finished, exec_us, ended);
        self.shared.discard(unloaded);
        self.shared.wake_keeper(wake);
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        match &self.stage {
            Stage::Queued => {
                self.function.waiting.fetch_sub(1, Ordering::AcqRel);
                self.stage = Stage::Done;
            }
            Stage::Starting => self.end_start(StartEnded::Cancelled),
            Stage::Busy(_) => {
                let now = self.shared.now();
                self.release(Finished::Cancelled, 0, now);
            }
            Stage::Admitted | Stage::Done => {}
        }
        drop(self.permit.take());
    }
}
