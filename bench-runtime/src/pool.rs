//! The instance pools: every function's idle instances, the memory they and the busy ones
//! hold against the runtime's capacity, and the keep-alive policy that decides their fate.
//!
//! All of it sits behind one lock in the runtime. Methods here never start, run or drop a
//! WebAssembly instance themselves: they decide, and hand back instances to drop (which resets
//! their memory) so that the caller does it after releasing the lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::instance::FunctionInstance;
use crate::metering::StartKind;
use crate::policy::{FunctionTraits, KeepAlivePolicy, PolicyTime, Prewarm, Retention};
use crate::stats::FunctionCounters;

struct IdleInstance {
    instance: FunctionInstance,
    until: Option<PolicyTime>,
    priority: f64,
}

/// One function's share of the pools.
struct FunctionPool {
    generation: u64,
    memory_mb: u32,
    max_instances: u32,
    /// Instances kept loaded whatever the policy says.
    provisioned: u32,
    /// Most recently used last.
    idle: Vec<IdleInstance>,
    busy: u32,
    starting: u32,
    prewarms: Vec<Prewarm>,
    counters: FunctionCounters,
    /// Until when idle memory-time is in `counters`.
    accounted_at: PolicyTime,
}

impl FunctionPool {
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
}

/// What an arriving invocation gets.
pub(crate) enum Acquired {
    /// An idle instance (a warm start).
    Warm(FunctionInstance),
    /// Memory is reserved: start a new instance and report it with [`Pools::started`].
    Start,
    /// No memory, and nothing idle to evict.
    NoCapacity,
    /// The function was removed meanwhile.
    Unknown,
}

/// A pre-warm to carry out: start an instance of `function` and hand it to
/// [`Pools::prewarmed`].
pub(crate) struct PrewarmStart {
    pub(crate) function: Arc<str>,
    pub(crate) generation: u64,
    pub(crate) memory_mb: u32,
    pub(crate) until: Option<PolicyTime>,
}

/// Instances to drop once the lock is released.
pub(crate) type Unloaded = Vec<FunctionInstance>;

pub(crate) struct Pools {
    policy: Box<dyn KeepAlivePolicy>,
    capacity_mb: u64,
    used_mb: u64,
    /// Instance slots of the allocator, and how many live instances hold one.
    slots: u32,
    live: u32,
    functions: HashMap<Arc<str>, FunctionPool>,
    /// Idle memory-time of functions removed since, MiB·s.
    idle_mb_seconds_removed: f64,
    /// When the keeper will next look at the pools: a deadline earlier than this needs a
    /// wake-up, a later one does not.
    keeper_due: PolicyTime,
}

impl Pools {
    pub(crate) fn new(policy: Box<dyn KeepAlivePolicy>, capacity_mb: u64, slots: u32) -> Self {
        Self {
            policy,
            capacity_mb,
            used_mb: 0,
            slots,
            live: 0,
            functions: HashMap::new(),
            idle_mb_seconds_removed: 0.0,
            keeper_due: Duration::ZERO,
        }
    }

    pub(crate) fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    pub(crate) fn used_mb(&self) -> u64 {
        self.used_mb
    }

    pub(crate) fn capacity_mb(&self) -> u64 {
        self.capacity_mb
    }

    /// Live instances and the allocator's slots.
    pub(crate) fn slots(&self) -> (u32, u32) {
        (self.live, self.slots)
    }

    /// Whether a new instance of `memory_mb` fits in memory and in the instance slots.
    fn fits(&self, memory_mb: u32) -> bool {
        self.used_mb + u64::from(memory_mb) <= self.capacity_mb && self.live < self.slots
    }

    /// Holds memory and a slot for a new instance.
    fn charge(&mut self, memory_mb: u32) {
        self.used_mb += u64::from(memory_mb);
        self.live += 1;
    }

    /// Gives back what an unloaded (or never started) instance held.
    fn refund(&mut self, memory_mb: u32) {
        self.used_mb -= u64::from(memory_mb).min(self.used_mb);
        self.live = self.live.saturating_sub(1);
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

    /// Adds or replaces a function. A replaced function's idle instances are returned to drop;
    /// its busy ones are dropped when they come back.
    pub(crate) fn deploy(
        &mut self,
        function: Arc<str>,
        generation: u64,
        traits: FunctionTraits,
        max_instances: u32,
        provisioned: u32,
        now: PolicyTime,
    ) -> Unloaded {
        self.policy.register(&function, traits.clone());
        let fresh = FunctionPool {
            generation,
            memory_mb: traits.memory_mb,
            max_instances,
            provisioned,
            idle: Vec::new(),
            busy: 0,
            starting: 0,
            prewarms: Vec::new(),
            counters: FunctionCounters::default(),
            accounted_at: now,
        };
        match self.functions.insert(function, fresh) {
            Some(old) => self.release_pool(old, now),
            None => Vec::new(),
        }
    }

    /// Removes a function; returns its idle instances to drop.
    pub(crate) fn remove(&mut self, function: &str, now: PolicyTime) -> Unloaded {
        self.policy.unregister(function);
        match self.functions.remove(function) {
            Some(old) => self.release_pool(old, now),
            None => Vec::new(),
        }
    }

    fn release_pool(&mut self, mut old: FunctionPool, now: PolicyTime) -> Unloaded {
        old.account(now);
        self.idle_mb_seconds_removed += old.counters.idle_mb_seconds;
        for _ in &old.idle {
            self.refund(old.memory_mb);
        }
        // Busy and starting instances keep their memory until they come back.
        old.idle.into_iter().map(|idle| idle.instance).collect()
    }

    /// An invocation of `function` arrived: an idle instance, or memory for a new one.
    pub(crate) fn acquire(&mut self, function: &str, now: PolicyTime) -> (Acquired, Unloaded) {
        self.policy.on_arrival(function, now);
        let Some(pool) = self.functions.get_mut(function) else {
            return (Acquired::Unknown, Vec::new());
        };
        pool.account(now);
        if let Some(idle) = pool.idle.pop() {
            pool.busy += 1;
            pool.counters.starts[StartKind::Warm.index()] += 1;
            return (Acquired::Warm(idle.instance), Vec::new());
        }
        let memory_mb = pool.memory_mb;
        match self.reserve(memory_mb, now) {
            Some(evicted) => {
                if let Some(pool) = self.functions.get_mut(function) {
                    pool.starting += 1;
                }
                (Acquired::Start, evicted)
            }
            None => (Acquired::NoCapacity, Vec::new()),
        }
    }

    /// Reserves memory and a slot for a new instance, evicting idle instances (lowest
    /// priority first) if needed. `None` if not enough can be freed; nothing is evicted then.
    fn reserve(&mut self, memory_mb: u32, now: PolicyTime) -> Option<Unloaded> {
        if self.fits(memory_mb) {
            self.charge(memory_mb);
            return Some(Vec::new());
        }
        if u64::from(memory_mb) > self.capacity_mb {
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
        let (mut used, mut live) = (self.used_mb, self.live);
        let mut chosen = Vec::new();
        for (priority, name, index) in candidates {
            if used + u64::from(memory_mb) <= self.capacity_mb && live < self.slots {
                break;
            }
            used -= u64::from(self.functions[&name].memory_mb).min(used);
            live -= 1;
            chosen.push((priority, name, index));
        }
        if used + u64::from(memory_mb) > self.capacity_mb || live >= self.slots {
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
            pool.counters.evictions.pressure += 1;
            let freed = pool.memory_mb;
            self.refund(freed);
            self.policy.on_evicted(&name, priority, now);
            evicted.push(idle.instance);
        }
        self.charge(memory_mb);
        Some(evicted)
    }

    /// A new instance for an invocation started (`started` after [`Acquired::Start`]).
    pub(crate) fn started(
        &mut self,
        function: &str,
        kind: StartKind,
        cost: Duration,
        now: PolicyTime,
    ) {
        self.policy.on_start(function, cost, now);
        if let Some(pool) = self.functions.get_mut(function) {
            pool.starting = pool.starting.saturating_sub(1);
            pool.busy += 1;
            pool.counters.starts[kind.index()] += 1;
        }
    }

    /// Starting an instance failed: give back its memory.
    pub(crate) fn start_failed(&mut self, function: &str, memory_mb: u32) {
        self.refund(memory_mb);
        if let Some(pool) = self.functions.get_mut(function) {
            pool.starting = pool.starting.saturating_sub(1);
            pool.counters.outcomes.start_failed += 1;
        }
    }

    /// An invocation finished. `instance` is `None` when it failed and was discarded.
    /// Returns what to drop, and whether the keeper must be woken for an earlier deadline.
    pub(crate) fn release(
        &mut self,
        function: &str,
        generation: u64,
        memory_mb: u32,
        instance: Option<FunctionInstance>,
        now: PolicyTime,
    ) -> (Unloaded, bool) {
        let plan = self.policy.on_idle(function, now);
        let pool = match self.functions.get_mut(function) {
            Some(pool) if pool.generation == generation => pool,
            // Redeployed or removed meanwhile: the instance belongs to the old code.
            _ => {
                self.refund(memory_mb);
                return (instance.into_iter().collect(), false);
            }
        };
        pool.busy = pool.busy.saturating_sub(1);
        if let Some(prewarm) = plan.prewarm {
            pool.prewarms.push(prewarm);
        }
        let prewarm_at = plan.prewarm.map(|prewarm| prewarm.at);
        let Some(instance) = instance else {
            pool.counters.evictions.failed += 1;
            self.refund(memory_mb);
            let wake = prewarm_at.is_some_and(|at| self.needs_keeper(at));
            return (Vec::new(), wake);
        };
        // Below the provisioned floor the instance stays, whatever the policy says.
        let floor = pool.alive() < pool.provisioned;
        let until = match plan.retention {
            _ if floor => None,
            Retention::Discard => {
                pool.counters.evictions.discarded += 1;
                self.refund(memory_mb);
                let wake = prewarm_at.is_some_and(|at| self.needs_keeper(at));
                return (vec![instance], wake);
            }
            Retention::Until(until) => Some(until),
            Retention::UntilEvicted => None,
        };
        pool.account(now);
        pool.idle.push(IdleInstance {
            instance,
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
    ) -> (Unloaded, Vec<PrewarmStart>, Option<PolicyTime>) {
        let mut unloaded = Vec::new();
        let mut starts = Vec::new();
        let mut freed = Vec::new();
        for (name, pool) in self.functions.iter_mut() {
            pool.account(now);
            let mut index = 0;
            while index < pool.idle.len() {
                let expired = pool.idle[index].until.is_some_and(|until| until <= now);
                if expired && pool.alive() > pool.provisioned {
                    let idle = pool.idle.remove(index);
                    pool.counters.evictions.expired += 1;
                    freed.push(pool.memory_mb);
                    unloaded.push(idle.instance);
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
        for memory_mb in freed {
            self.refund(memory_mb);
        }
        // Pre-warms use free memory only: they never evict.
        starts.retain(|start| {
            if !self.fits(start.memory_mb) {
                return false;
            }
            self.charge(start.memory_mb);
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
        let template = PrewarmStart {
            function: name.clone(),
            generation: pool.generation,
            memory_mb: pool.memory_mb,
            until: None,
        };
        let mut starts = Vec::new();
        for _ in 0..missing {
            if !self.fits(template.memory_mb) {
                break;
            }
            self.charge(template.memory_mb);
            starts.push(PrewarmStart {
                function: template.function.clone(),
                ..template
            });
        }
        if let Some(pool) = self.functions.get_mut(function) {
            pool.starting += starts.len() as u32;
        }
        starts
    }

    /// A pre-warmed or provisioned instance is ready. Returns it back if its function changed
    /// meanwhile (to drop).
    pub(crate) fn prewarmed(
        &mut self,
        start: &PrewarmStart,
        kind: StartKind,
        instance: Option<FunctionInstance>,
        now: PolicyTime,
    ) -> (Unloaded, bool) {
        let memory_mb = start.memory_mb;
        let pool = match self.functions.get_mut(&start.function) {
            Some(pool) if pool.generation == start.generation => pool,
            _ => {
                self.refund(memory_mb);
                return (instance.into_iter().collect(), false);
            }
        };
        pool.starting = pool.starting.saturating_sub(1);
        let Some(instance) = instance else {
            pool.counters.outcomes.start_failed += 1;
            self.refund(memory_mb);
            return (Vec::new(), false);
        };
        pool.counters.prewarms[kind.index()] += 1;
        pool.account(now);
        pool.idle.insert(
            0,
            IdleInstance {
                instance,
                until: start.until,
                priority: now.as_secs_f64(),
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

    /// Mutable counters of `function`, to record invocation outcomes.
    pub(crate) fn counters_mut(&mut self, function: &str) -> Option<&mut FunctionCounters> {
        self.functions
            .get_mut(function)
            .map(|pool| &mut pool.counters)
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

    /// Idle memory-time of functions that no longer exist, MiB·s.
    pub(crate) fn idle_mb_seconds_removed(&self) -> f64 {
        self.idle_mb_seconds_removed
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
