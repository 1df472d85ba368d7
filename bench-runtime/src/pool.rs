//! The instance pools: every function's idle instances, the memory they and the busy ones
//! hold against the runtime's capacity, and the keep-alive policy that decides their fate.
//!
//! All of it sits behind one lock in the runtime. Methods here never start, run or drop an
//! instance themselves: they decide, and hand back instances to drop so that the caller does
//! it after releasing the lock (dropping a WebAssembly instance resets its memory). The pools
//! are generic over the instance type: they only hold instances, never look inside them.
//!
//! The bookkeeping the policies rely on holds by construction: every arrival
//! ([`Pools::acquire`]) ends in exactly one [`KeepAlivePolicy::on_idle`] — served, refused for
//! capacity, failed to start, or cancelled — and every instance that leaves memory is reported
//! to the policy with the hits it served.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::metering::StartKind;
use crate::policy::{FunctionTraits, KeepAlivePolicy, PolicyTime, Prewarm, Retention};
use crate::stats::{Evictions, FunctionCounters};

/// An instance out of the pool, serving one invocation; it counts the invocations it served.
pub(crate) struct Lease<I> {
    pub(crate) instance: I,
    hits: u64,
}

struct IdleInstance<I> {
    lease: Lease<I>,
    until: Option<PolicyTime>,
    priority: f64,
}

/// One function's share of the pools.
struct FunctionPool<I> {
    generation: u64,
    memory_mb: u32,
    max_instances: u32,
    /// Instances kept loaded whatever the policy says.
    provisioned: u32,
    /// Most recently used last.
    idle: Vec<IdleInstance<I>>,
    busy: u32,
    starting: u32,
    prewarms: Vec<Prewarm>,
    counters: FunctionCounters,
    /// Until when idle memory-time is in `counters`.
    accounted_at: PolicyTime,
}

impl<I> FunctionPool<I> {
    fn alive(&self) -> u32 {
        self.busy + self.starting + self.idle.len() as u32
    }

    /// Adds the memory-time of the idle instances since the last call. Called before every
    /// change to `idle`, so that each stretch is counted with the number of instances it had.
    fn account(&mut self, now: PolicyTime) {
        let seconds = now.saturating_sub(self.accounted_at).as_secs_f64();
        self.accounted_at = self.accounted_at.max(now);
        self.counters.idle_mb_seconds +=
            self.idle.len() as f64 * f64::from(self.memory_mb) * seconds;
    }

    /// Gives every idle instance `priority` (policies that rank a function's instances
    /// together).
    fn rerank(&mut self, priority: Option<f64>) {
        if let Some(priority) = priority {
            for idle in &mut self.idle {
                idle.priority = priority;
            }
        }
    }
}

/// Identifies what an invocation holds: its function, the deployment it started under, and
/// the memory of an instance of it.
#[derive(Debug, Clone)]
pub(crate) struct Holding {
    pub(crate) function: Arc<str>,
    pub(crate) generation: u64,
    pub(crate) memory_mb: u32,
}

/// What an arriving invocation gets.
pub(crate) enum Acquired<I> {
    /// An idle instance (a warm start).
    Warm(Lease<I>),
    /// Memory is reserved: start a new instance and report it with [`Pools::started`], or
    /// [`Pools::start_ended`] when no instance came of it.
    Start,
    /// No memory, and nothing idle to evict. The arrival has ended.
    NoCapacity,
    /// The function was removed meanwhile. The arrival has ended.
    Unknown,
}

/// How an invocation that had an instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    /// It answered; the instance may be kept.
    Ok,
    /// The guest trapped; the instance is discarded.
    Trapped,
    /// It ran past its timeout; the instance is discarded.
    TimedOut,
    /// Its caller left while it ran; the instance is discarded.
    Cancelled,
}

/// Why an invocation's start produced no instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartEnded {
    Failed,
    /// Its caller left while the instance was starting.
    Cancelled,
}

/// A pre-warm to carry out: start an instance of `function` and hand it to
/// [`Pools::prewarmed`].
pub(crate) struct PrewarmStart {
    pub(crate) function: Arc<str>,
    pub(crate) generation: u64,
    pub(crate) memory_mb: u32,
    pub(crate) until: Option<PolicyTime>,
}

/// Memory and instance slots: what every live instance holds one of.
struct Ledger {
    capacity_mb: u64,
    used_mb: u64,
    slots: u32,
    live: u32,
}

impl Ledger {
    /// Whether a new instance of `memory_mb` fits in memory and in the instance slots.
    fn fits(&self, memory_mb: u32) -> bool {
        self.used_mb.saturating_add(u64::from(memory_mb)) <= self.capacity_mb
            && self.live < self.slots
    }

    /// Holds memory and a slot for a new instance.
    fn charge(&mut self, memory_mb: u32) {
        self.used_mb = self.used_mb.saturating_add(u64::from(memory_mb));
        self.live = self.live.saturating_add(1);
    }

    /// Gives back what an unloaded (or never started) instance held.
    fn refund(&mut self, memory_mb: u32) {
        self.used_mb = self.used_mb.saturating_sub(u64::from(memory_mb));
        self.live = self.live.saturating_sub(1);
    }
}

/// How an instance left memory, for the counters and the policy.
#[derive(Debug, Clone, Copy)]
enum Unload {
    Expired,
    /// Evicted under memory pressure at this priority.
    Pressure(f64),
    Discarded,
    Failed,
    Cancelled,
    Replaced,
}

impl Unload {
    fn count(self, evictions: &mut Evictions) {
        let counter = match self {
            Self::Expired => &mut evictions.expired,
            Self::Pressure(_) => &mut evictions.pressure,
            Self::Discarded => &mut evictions.discarded,
            Self::Failed => &mut evictions.failed,
            Self::Cancelled => &mut evictions.cancelled,
            Self::Replaced => &mut evictions.replaced,
        };
        *counter += 1;
    }

    fn evicted_at(self) -> Option<f64> {
        match self {
            Self::Pressure(priority) => Some(priority),
            _ => None,
        }
    }
}

pub(crate) struct Pools<I> {
    policy: Box<dyn KeepAlivePolicy>,
    ledger: Ledger,
    functions: HashMap<Arc<str>, FunctionPool<I>>,
    /// Counters of removed functions: a function deployed again under the same name goes on
    /// from them, so that counters never go back for the life of the pools.
    retired: HashMap<Arc<str>, FunctionCounters>,
    /// When the keeper will next look at the pools: a deadline earlier than this needs a
    /// wake-up, a later one does not.
    keeper_due: PolicyTime,
}

impl<I> Pools<I> {
    pub(crate) fn new(policy: Box<dyn KeepAlivePolicy>, capacity_mb: u64, slots: u32) -> Self {
        Self {
            policy,
            ledger: Ledger {
                capacity_mb,
                used_mb: 0,
                slots,
                live: 0,
            },
            functions: HashMap::new(),
            retired: HashMap::new(),
            keeper_due: Duration::ZERO,
        }
    }

    pub(crate) fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    pub(crate) fn used_mb(&self) -> u64 {
        self.ledger.used_mb
    }

    pub(crate) fn capacity_mb(&self) -> u64 {
        self.ledger.capacity_mb
    }

    /// Live instances and the allocator's slots.
    pub(crate) fn slots(&self) -> (u32, u32) {
        (self.ledger.live, self.ledger.slots)
    }

    /// Whether `deadline` comes before the keeper's next look; if so it becomes the next look.
    fn needs_keeper(&mut self, deadline: PolicyTime) -> bool {
        if deadline < self.keeper_due {
            self.keeper_due = deadline;
            true
        } else {
            false
        }
    }

    /// Gives back what an instance of `function` held and tells the policy and the counters.
    fn unload(&mut self, function: &str, memory_mb: u32, hits: u64, how: Unload, now: PolicyTime) {
        self.ledger.refund(memory_mb);
        if let Some(pool) = self.functions.get_mut(function) {
            how.count(&mut pool.counters.evictions);
        }
        self.policy
            .on_unloaded(function, hits, how.evicted_at(), now);
    }

    /// The pool of `holding`'s deployment; `None` once the function was redeployed or removed.
    fn pool_of(&mut self, holding: &Holding) -> Option<&mut FunctionPool<I>> {
        self.functions
            .get_mut(&holding.function)
            .filter(|pool| pool.generation == holding.generation)
    }

    /// Adds or replaces a function. A replaced function's idle instances are returned to drop;
    /// its busy ones are dropped when they come back. Counters go on from the function's
    /// earlier deployments.
    pub(crate) fn deploy(
        &mut self,
        function: Arc<str>,
        generation: u64,
        traits: FunctionTraits,
        max_instances: u32,
        provisioned: u32,
        now: PolicyTime,
    ) -> Vec<I> {
        self.policy.register(&function, traits.clone());
        let (unloaded, mut counters) = match self.functions.remove(&function) {
            Some(old) => self.release_pool(&function, old, now),
            None => (
                Vec::new(),
                self.retired.remove(&function).unwrap_or_default(),
            ),
        };
        counters.deployments += 1;
        let fresh = FunctionPool {
            generation,
            memory_mb: traits.memory_mb,
            max_instances,
            provisioned,
            idle: Vec::new(),
            busy: 0,
            starting: 0,
            prewarms: Vec::new(),
            counters,
            accounted_at: now,
        };
        self.functions.insert(function, fresh);
        unloaded
    }

    /// Removes a function; returns its idle instances to drop.
    pub(crate) fn remove(&mut self, function: &str, now: PolicyTime) -> Vec<I> {
        let Some((name, old)) = self.functions.remove_entry(function) else {
            return Vec::new();
        };
        let (unloaded, counters) = self.release_pool(&name, old, now);
        self.policy.unregister(function);
        self.retired.insert(name, counters);
        unloaded
    }

    /// Unloads the idle instances of a replaced or removed pool; returns them and its
    /// counters. Busy and starting instances keep their memory until they come back.
    fn release_pool(
        &mut self,
        function: &str,
        mut old: FunctionPool<I>,
        now: PolicyTime,
    ) -> (Vec<I>, FunctionCounters) {
        old.account(now);
        let mut unloaded = Vec::with_capacity(old.idle.len());
        for idle in old.idle.drain(..) {
            Unload::Replaced.count(&mut old.counters.evictions);
            self.ledger.refund(old.memory_mb);
            self.policy
                .on_unloaded(function, idle.lease.hits, None, now);
            unloaded.push(idle.lease.instance);
        }
        (unloaded, old.counters)
    }

    /// An invocation of `function` arrived at `now`: an idle instance, or memory for a new
    /// one. Also returns instances evicted to make room, to drop.
    pub(crate) fn acquire(&mut self, function: &str, now: PolicyTime) -> (Acquired<I>, Vec<I>) {
        self.policy.on_arrival(function, now);
        let Some(pool) = self.functions.get_mut(function) else {
            self.policy.on_idle(function, now);
            return (Acquired::Unknown, Vec::new());
        };
        // The arrival a pre-warm window was opened for has come: the window is moot.
        pool.prewarms.clear();
        pool.account(now);
        if let Some(mut idle) = pool.idle.pop() {
            pool.busy += 1;
            pool.counters.starts[StartKind::Warm.index()] += 1;
            idle.lease.hits += 1;
            let priority = self.policy.on_access(function, None, now);
            pool.rerank(priority);
            return (Acquired::Warm(idle.lease), Vec::new());
        }
        let memory_mb = pool.memory_mb;
        match self.reserve(memory_mb, now) {
            Some(evicted) => {
                if let Some(pool) = self.functions.get_mut(function) {
                    pool.starting += 1;
                }
                (Acquired::Start, evicted)
            }
            None => {
                if let Some(pool) = self.functions.get_mut(function) {
                    pool.counters.outcomes.rejected_capacity += 1;
                }
                self.end_without_instance(function, now);
                (Acquired::NoCapacity, Vec::new())
            }
        }
    }

    /// Ends an arrival that got no instance: the policy hears of it, and the pre-warm of its
    /// plan (if any) is scheduled.
    fn end_without_instance(&mut self, function: &str, now: PolicyTime) -> bool {
        let plan = self.policy.on_idle(function, now);
        let Some(prewarm) = plan.prewarm else {
            return false;
        };
        match self.functions.get_mut(function) {
            Some(pool) => {
                pool.prewarms.push(prewarm);
                self.needs_keeper(prewarm.at)
            }
            None => false,
        }
    }

    /// Reserves memory and a slot for a new instance, evicting idle instances (lowest
    /// priority first) if needed. `None` if not enough can be freed; nothing is evicted then.
    fn reserve(&mut self, memory_mb: u32, now: PolicyTime) -> Option<Vec<I>> {
        if self.ledger.fits(memory_mb) {
            self.ledger.charge(memory_mb);
            return Some(Vec::new());
        }
        if u64::from(memory_mb) > self.ledger.capacity_mb {
            return None;
        }
        // Candidates: idle instances above their function's provisioned floor.
        let mut candidates: Vec<(f64, Arc<str>, usize)> = Vec::new();
        for (name, pool) in &self.functions {
            let evictable = pool.alive().saturating_sub(pool.provisioned) as usize;
            let mut idle: Vec<(f64, usize)> = pool
                .idle
                .iter()
                .enumerate()
                .map(|(index, idle)| (idle.priority, index))
                .collect();
            idle.sort_by(|a, b| a.0.total_cmp(&b.0));
            candidates.extend(
                idle.into_iter()
                    .take(evictable)
                    .map(|(priority, index)| (priority, name.clone(), index)),
            );
        }
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let fits = |used: u64, live: u32| {
            used.saturating_add(u64::from(memory_mb)) <= self.ledger.capacity_mb
                && live < self.ledger.slots
        };
        let (mut used, mut live) = (self.ledger.used_mb, self.ledger.live);
        let mut chosen = Vec::new();
        for (priority, name, index) in candidates {
            if fits(used, live) {
                break;
            }
            used = used.saturating_sub(u64::from(self.functions[&name].memory_mb));
            live = live.saturating_sub(1);
            chosen.push((priority, name, index));
        }
        if !fits(used, live) {
            return None;
        }
        // Remove from the back of each idle list first so that indices stay valid.
        chosen.sort_by_key(|candidate| std::cmp::Reverse(candidate.2));
        let mut evicted = Vec::with_capacity(chosen.len());
        for (priority, name, index) in chosen {
            let Some(pool) = self.functions.get_mut(&name) else {
                continue;
            };
            pool.account(now);
            let idle = pool.idle.remove(index);
            let memory_mb = pool.memory_mb;
            self.unload(
                &name,
                memory_mb,
                idle.lease.hits,
                Unload::Pressure(priority),
                now,
            );
            evicted.push(idle.lease.instance);
        }
        self.ledger.charge(memory_mb);
        Some(evicted)
    }

    /// A new instance for an invocation started (after [`Acquired::Start`]); it is busy now.
    pub(crate) fn started(
        &mut self,
        holding: &Holding,
        kind: StartKind,
        cost: Duration,
        instance: I,
        now: PolicyTime,
    ) -> Lease<I> {
        let priority = self.policy.on_access(&holding.function, Some(cost), now);
        if let Some(pool) = self.functions.get_mut(&holding.function) {
            pool.counters.starts[kind.index()] += 1;
        }
        if let Some(pool) = self.pool_of(holding) {
            pool.starting = pool.starting.saturating_sub(1);
            pool.busy += 1;
            pool.rerank(priority);
        }
        Lease { instance, hits: 1 }
    }

    /// A start after [`Acquired::Start`] produced no instance: gives back its memory and ends
    /// the arrival. Returns whether the keeper must be woken.
    pub(crate) fn start_ended(
        &mut self,
        holding: &Holding,
        how: StartEnded,
        now: PolicyTime,
    ) -> bool {
        self.ledger.refund(holding.memory_mb);
        if let Some(pool) = self.functions.get_mut(&holding.function) {
            match how {
                StartEnded::Failed => pool.counters.outcomes.start_failed += 1,
                StartEnded::Cancelled => pool.counters.outcomes.cancelled += 1,
            }
        }
        if let Some(pool) = self.pool_of(holding) {
            pool.starting = pool.starting.saturating_sub(1);
        }
        self.end_without_instance(&holding.function, now)
    }

    /// An invocation on `lease` finished as `finished` after `exec_us` in the guest; the
    /// instance goes back to the pool or is unloaded. Returns what to drop, and whether the
    /// keeper must be woken for an earlier deadline.
    pub(crate) fn release(
        &mut self,
        holding: &Holding,
        lease: Lease<I>,
        finished: Finished,
        exec_us: u64,
        now: PolicyTime,
    ) -> (Vec<I>, bool) {
        let function = &holding.function;
        if let Some(pool) = self.functions.get_mut(function) {
            let counters = &mut pool.counters;
            counters.exec_us = counters.exec_us.saturating_add(exec_us);
            let outcomes = &mut counters.outcomes;
            match finished {
                Finished::Ok => outcomes.ok += 1,
                Finished::Trapped => outcomes.trapped += 1,
                Finished::TimedOut => outcomes.timed_out += 1,
                Finished::Cancelled => outcomes.cancelled += 1,
            }
        }
        let plan = self.policy.on_idle(function, now);
        let Some(pool) = self.pool_of(holding) else {
            // Redeployed or removed meanwhile: the instance belongs to the old code.
            self.unload(
                function,
                holding.memory_mb,
                lease.hits,
                Unload::Replaced,
                now,
            );
            return (vec![lease.instance], false);
        };
        pool.busy = pool.busy.saturating_sub(1);
        if let Some(prewarm) = plan.prewarm {
            pool.prewarms.push(prewarm);
        }
        let prewarm_at = plan.prewarm.map(|prewarm| prewarm.at);
        // Below the provisioned floor a healthy instance stays, whatever the policy says.
        let floor = pool.alive() < pool.provisioned;
        let until = match (finished, plan.retention) {
            (Finished::Ok, _) if floor => Some(None),
            (Finished::Ok, Retention::Until(until)) => Some(Some(until)),
            (Finished::Ok, Retention::UntilEvicted) => Some(None),
            (Finished::Ok, Retention::Discard) => None,
            _ => None,
        };
        let Some(until) = until else {
            let how = match finished {
                Finished::Ok => Unload::Discarded,
                Finished::Trapped | Finished::TimedOut => Unload::Failed,
                Finished::Cancelled => Unload::Cancelled,
            };
            self.unload(function, holding.memory_mb, lease.hits, how, now);
            let wake = prewarm_at.is_some_and(|at| self.needs_keeper(at));
            return (vec![lease.instance], wake);
        };
        pool.account(now);
        pool.idle.push(IdleInstance {
            lease,
            until,
            priority: plan.priority,
        });
        let earliest = until.into_iter().chain(prewarm_at).min();
        let wake = earliest.is_some_and(|deadline| self.needs_keeper(deadline));
        (Vec::new(), wake)
    }

    /// Housekeeping at `now`: unloads idle instances whose keep-alive ran out, and opens the
    /// pre-warm windows that are due (reserving memory for them). Returns what to drop, what
    /// to start, and when to come back.
    pub(crate) fn tick(
        &mut self,
        now: PolicyTime,
    ) -> (Vec<I>, Vec<PrewarmStart>, Option<PolicyTime>) {
        let mut unloaded = Vec::new();
        let mut expired = Vec::new();
        let mut starts = Vec::new();
        for (name, pool) in self.functions.iter_mut() {
            pool.account(now);
            let mut index = 0;
            while index < pool.idle.len() {
                let due = pool.idle[index].until.is_some_and(|until| until <= now);
                if due && pool.alive() > pool.provisioned {
                    let idle = pool.idle.remove(index);
                    expired.push((name.clone(), pool.memory_mb, idle.lease.hits));
                    unloaded.push(idle.lease.instance);
                } else {
                    index += 1;
                }
            }
            let (due, later): (Vec<Prewarm>, Vec<Prewarm>) =
                pool.prewarms.iter().partition(|prewarm| prewarm.at <= now);
            pool.prewarms = later;
            for prewarm in due {
                // A pre-warm is pointless once its window closed or while an instance is idle.
                if prewarm.until > now && pool.idle.is_empty() && pool.alive() < pool.max_instances
                {
                    starts.push(PrewarmStart {
                        function: name.clone(),
                        generation: pool.generation,
                        memory_mb: pool.memory_mb,
                        until: Some(prewarm.until),
                    });
                }
            }
        }
        for (name, memory_mb, hits) in expired {
            self.unload(&name, memory_mb, hits, Unload::Expired, now);
        }
        // Pre-warms use free memory only: they never evict.
        starts.retain(|start| {
            if !self.ledger.fits(start.memory_mb) {
                return false;
            }
            self.ledger.charge(start.memory_mb);
            true
        });
        for start in &starts {
            if let Some(pool) = self.functions.get_mut(&start.function) {
                pool.starting += 1;
            }
        }
        let next = self.next_deadline();
        self.keeper_due = next.unwrap_or(Duration::MAX);
        (unloaded, starts, next)
    }

    /// Provisioned instances still missing for `function`: reserves memory for them and returns
    /// how many to start.
    pub(crate) fn provision(&mut self, function: &str) -> Vec<PrewarmStart> {
        let Some((name, pool)) = self.functions.get_key_value(function) else {
            return Vec::new();
        };
        let missing = pool.provisioned.saturating_sub(pool.alive());
        let (name, generation, memory_mb) = (name.clone(), pool.generation, pool.memory_mb);
        let mut starts = Vec::new();
        for _ in 0..missing {
            if !self.ledger.fits(memory_mb) {
                break;
            }
            self.ledger.charge(memory_mb);
            starts.push(PrewarmStart {
                function: name.clone(),
                generation,
                memory_mb,
                until: None,
            });
        }
        if let Some(pool) = self.functions.get_mut(function) {
            pool.starting += starts.len() as u32;
        }
        starts
    }

    /// A pre-warmed or provisioned instance is ready, or `None` when its start failed.
    /// Returns it back to drop if its function changed meanwhile, and whether the keeper must
    /// be woken.
    pub(crate) fn prewarmed(
        &mut self,
        start: &PrewarmStart,
        kind: StartKind,
        instance: Option<I>,
        now: PolicyTime,
    ) -> (Vec<I>, bool) {
        let holding = Holding {
            function: start.function.clone(),
            generation: start.generation,
            memory_mb: start.memory_mb,
        };
        let priority = self.policy.priority(&start.function, now);
        let Some(pool) = self.pool_of(&holding) else {
            self.ledger.refund(start.memory_mb);
            return (instance.into_iter().collect(), false);
        };
        pool.starting = pool.starting.saturating_sub(1);
        let Some(instance) = instance else {
            pool.counters.outcomes.start_failed += 1;
            self.ledger.refund(start.memory_mb);
            return (Vec::new(), false);
        };
        pool.counters.prewarms[kind.index()] += 1;
        pool.account(now);
        pool.idle.insert(
            0,
            IdleInstance {
                lease: Lease { instance, hits: 0 },
                until: start.until,
                priority,
            },
        );
        let wake = start.until.is_some_and(|until| self.needs_keeper(until));
        (Vec::new(), wake)
    }

    /// The earliest keep-alive expiry or pre-warm, if any.
    fn next_deadline(&self) -> Option<PolicyTime> {
        self.functions
            .values()
            .flat_map(|pool| {
                pool.idle
                    .iter()
                    .filter_map(|idle| idle.until)
                    .chain(pool.prewarms.iter().map(|prewarm| prewarm.at))
            })
            .min()
    }

    /// Counts an invocation of `function` refused because its queue was full; returns the
    /// mean execution time of its finished invocations, µs.
    pub(crate) fn rejected_queue(&mut self, function: &str) -> u64 {
        match self.functions.get_mut(function) {
            Some(pool) => {
                pool.counters.outcomes.rejected_queue += 1;
                pool.counters.mean_exec_us()
            }
            None => 0,
        }
    }

    /// A consistent reading of every function's figures at `now`.
    pub(crate) fn snapshot(&mut self, now: PolicyTime) -> Vec<PoolReading> {
        for pool in self.functions.values_mut() {
            pool.account(now);
        }
        self.functions
            .iter()
            .map(|(name, pool)| PoolReading {
                function: name.clone(),
                memory_mb: pool.memory_mb,
                busy: pool.busy,
                idle: pool.idle.len() as u32,
                starting: pool.starting,
                pending_prewarms: pool.prewarms.len() as u32,
                counters: pool.counters.clone(),
            })
            .collect()
    }

    /// Eviction priorities of `function`'s idle instances, least recently used first.
    #[cfg(test)]
    fn priorities(&self, function: &str) -> Vec<f64> {
        self.functions[function]
            .idle
            .iter()
            .map(|idle| idle.priority)
            .collect()
    }

    /// Idle memory-time of functions that are removed now, MiB·s.
    pub(crate) fn idle_mb_seconds_removed(&self) -> f64 {
        self.retired
            .values()
            .map(|counters| counters.idle_mb_seconds)
            .sum()
    }
}

/// The figures of one function's pool at one moment.
pub(crate) struct PoolReading {
    pub(crate) function: Arc<str>,
    pub(crate) memory_mb: u32,
    pub(crate) busy: u32,
    pub(crate) idle: u32,
    pub(crate) starting: u32,
    pub(crate) pending_prewarms: u32,
    pub(crate) counters: FunctionCounters,
}

#[cfg(test)]
mod tests;
