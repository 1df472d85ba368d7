//! The pools' bookkeeping on a virtual clock, with instances that are plain numbers: what the
//! policies are told, what memory is held, and what the counters say.

use super::*;
use crate::policy::{FaasCache, HybridHistogram, KeepAliveConfig};

const MS: Duration = Duration::from_millis(1);
const MIN: Duration = Duration::from_secs(60);

fn traits(memory_mb: u32) -> FunctionTraits {
    FunctionTraits {
        memory_mb,
        keep_alive: None,
    }
}

fn pools(policy: Box<dyn KeepAlivePolicy>, capacity_mb: u64) -> Pools<u32> {
    Pools::new(policy, capacity_mb, 100)
}

fn deploy(pools: &mut Pools<u32>, function: &str, memory_mb: u32) -> Holding {
    pools.deploy(function.into(), 1, traits(memory_mb), 16, 0, Duration::ZERO);
    Holding {
        function: function.into(),
        generation: 1,
        memory_mb,
    }
}

fn reading(pools: &mut Pools<u32>, function: &str, now: PolicyTime) -> PoolReading {
    pools
        .snapshot(now)
        .into_iter()
        .find(|reading| &*reading.function == function)
        .expect("deployed")
}

/// Takes an instance for an arrival at `now`: the idle one, or a new one numbered `id`
/// started at a cost of `cost`. Panics when there is no capacity.
fn take(
    pools: &mut Pools<u32>,
    holding: &Holding,
    id: u32,
    cost: Duration,
    now: PolicyTime,
) -> Lease<u32> {
    match pools.acquire(&holding.function, now).0 {
        Acquired::Warm(lease) => lease,
        Acquired::Start => pools.started(holding, StartKind::Cold, cost, id, now),
        Acquired::NoCapacity => panic!("no capacity for {}", holding.function),
        Acquired::Unknown => panic!("{} unknown", holding.function),
    }
}

/// One invocation of 100 ms at `at`; returns what the release dropped.
fn invoke(pools: &mut Pools<u32>, holding: &Holding, id: u32, at: PolicyTime) -> Vec<u32> {
    let lease = take(pools, holding, id, 50 * MS, at);
    pools
        .release(holding, lease, Finished::Ok, 100_000, at + 100 * MS)
        .0
}

/// A periodic function under hybrid-histogram learns its pattern even when some of its
/// arrivals are refused for capacity or fail to start: those arrivals still end, so its
/// in-flight count returns to zero and later idle times are recorded.
#[test]
fn refused_and_failed_arrivals_do_not_freeze_hybrid_histogram() {
    let mut pools = pools(Box::new(HybridHistogram::default()), 256);
    let f = deploy(&mut pools, "f", 128);
    let hog = deploy(&mut pools, "hog", 256);
    let mut id = 0;
    for cycle in 0..14u32 {
        let at = cycle * 10 * MIN;
        id += 1;
        match cycle {
            3 => {
                // The hog takes all the memory (evicting f's idle instance) while f arrives.
                let held = take(&mut pools, &hog, id, 50 * MS, at);
                let (acquired, _) = pools.acquire("f", at + MS);
                assert!(matches!(acquired, Acquired::NoCapacity));
                pools.release(&hog, held, Finished::Ok, 10, at + 2 * MS);
            }
            5 => {
                // Two overlapping arrivals: the second one's start fails.
                let lease = take(&mut pools, &f, id, 50 * MS, at);
                let (acquired, _) = pools.acquire("f", at + MS);
                assert!(matches!(acquired, Acquired::Start));
                pools.start_ended(&f, StartEnded::Failed, at + 2 * MS);
                pools.release(&f, lease, Finished::Ok, 10, at + 100 * MS);
            }
            _ => {
                invoke(&mut pools, &f, id, at);
            }
        }
    }
    let f_now = reading(&mut pools, "f", 140 * MIN);
    assert_eq!(f_now.counters.outcomes.rejected_capacity, 1);
    assert_eq!(f_now.counters.outcomes.start_failed, 1);
    // Thirteen idle times of about 10 minutes: a pattern. The instance is unloaded and a
    // fresh one pre-warmed just before the next expected arrival.
    assert_eq!((f_now.busy, f_now.starting), (0, 0));
    assert_eq!(
        (f_now.idle, f_now.pending_prewarms),
        (0, 1),
        "the last idle instance is unloaded with a pre-warm scheduled"
    );
    assert_eq!(pools.used_mb(), 0);
}

#[test]
fn an_arrival_before_its_prewarm_cancels_the_prewarm() {
    let mut pools = pools(Box::new(HybridHistogram::default()), 4096);
    let f = deploy(&mut pools, "f", 128);
    for cycle in 0..12u32 {
        invoke(&mut pools, &f, cycle, cycle * 10 * MIN);
    }
    let idle_from = 110 * MIN + 100 * MS;
    assert_eq!(reading(&mut pools, "f", idle_from).pending_prewarms, 1);

    // The next arrival comes 5 minutes early, before the pre-warm window (about 9 min) opens.
    let early = idle_from + 5 * MIN;
    let lease = take(&mut pools, &f, 99, 50 * MS, early);
    assert_eq!(reading(&mut pools, "f", early).pending_prewarms, 0);
    let (_, starts, _) = pools.tick(idle_from + 9 * MIN + MS);
    assert!(
        starts.is_empty(),
        "the cancelled window started an instance nobody expects"
    );
    pools.release(&f, lease, Finished::Ok, 10, early + 100 * MS);
}

/// Greedy-Dual ranks a function's instances together: an access re-ranks the idle ones, so
/// an instance kept idle while its sibling serves a hot streak is worth as much as the
/// sibling when memory runs out.
#[test]
fn faascache_reranks_every_idle_instance_of_a_function_on_access() {
    let mut pools = pools(Box::new(FaasCache::new()), 3 * 128);
    let a = deploy(&mut pools, "a", 128);
    let b = deploy(&mut pools, "b", 128);
    let c = deploy(&mut pools, "c", 128);
    let now = Duration::from_secs(1);
    // Two instances of a (starts of 10 ms), then one of b (100 ms): 2 × 10 ÷ 128 = 0.15625
    // and 1 × 100 ÷ 128 = 0.78125.
    let a1 = take(&mut pools, &a, 1, 10 * MS, now);
    let a2 = take(&mut pools, &a, 2, 10 * MS, now);
    pools.release(&a, a1, Finished::Ok, 10, now);
    pools.release(&a, a2, Finished::Ok, 10, now);
    let b1 = take(&mut pools, &b, 3, 100 * MS, now);
    pools.release(&b, b1, Finished::Ok, 10, now);
    assert_eq!(pools.priorities("a"), [0.15625, 0.15625]);

    // Nine more invocations of a on one of its instances: 11 hits × 10 ÷ 128 = 0.859375,
    // which the instance that stayed idle takes too.
    for _ in 0..9 {
        let lease = take(&mut pools, &a, 0, 10 * MS, now);
        pools.release(&a, lease, Finished::Ok, 10, now);
    }
    assert_eq!(pools.priorities("a"), [0.859375, 0.859375]);

    // Memory is full: c's start evicts b's instance, now the least valuable.
    let (acquired, evicted) = pools.acquire("c", now);
    assert!(matches!(acquired, Acquired::Start));
    assert_eq!(evicted, [3]);
    pools.start_ended(&c, StartEnded::Cancelled, now);
}

#[test]
fn faascache_ranks_prewarmed_instances_on_its_own_scale() {
    let mut pools = pools(KeepAliveConfig::FaasCache {}.build(), 4096);
    pools.deploy("f".into(), 1, traits(128), 16, 1, Duration::ZERO);
    let starts = pools.provision("f");
    assert_eq!(starts.len(), 1);
    // Loaded at 1000 s: its priority is the clock (0) plus f's value (no hits yet), not the
    // time of day.
    pools.prewarmed(
        &starts[0],
        StartKind::Cold,
        Some(7),
        Duration::from_secs(1000),
    );
    assert_eq!(pools.priorities("f"), [0.0]);
}

#[test]
fn cancelled_starts_and_invocations_give_back_their_memory() {
    let mut pools = pools(KeepAliveConfig::default().build(), 1024);
    let f = deploy(&mut pools, "f", 512);
    let now = Duration::from_secs(1);
    assert!(matches!(pools.acquire("f", now).0, Acquired::Start));
    assert_eq!(pools.used_mb(), 512);
    pools.start_ended(&f, StartEnded::Cancelled, now);
    assert_eq!(pools.used_mb(), 0);

    let lease = take(&mut pools, &f, 1, 10 * MS, now);
    let (dropped, _) = pools.release(&f, lease, Finished::Cancelled, 10, now);
    assert_eq!(dropped, [1], "a cancelled instance is discarded, not kept");
    let f_now = reading(&mut pools, "f", now);
    assert_eq!(
        (f_now.busy, f_now.starting, f_now.idle, pools.used_mb()),
        (0, 0, 0, 0)
    );
    assert_eq!(f_now.counters.outcomes.cancelled, 2);
    assert_eq!(f_now.counters.evictions.cancelled, 1);
}

#[test]
fn counters_go_on_across_redeploys_and_removal() {
    let mut pools = pools(KeepAliveConfig::default().build(), 1024);
    let f = deploy(&mut pools, "f", 128);
    for at in 1..=3 {
        invoke(&mut pools, &f, at, Duration::from_secs(at.into()));
    }
    let now = Duration::from_secs(10);
    pools.deploy("f".into(), 2, traits(128), 16, 0, now);
    let f_now = reading(&mut pools, "f", now);
    assert_eq!(f_now.counters.outcomes.ok, 3);
    assert_eq!(f_now.counters.deployments, 2);
    assert_eq!(f_now.counters.evictions.replaced, 1);
    assert_eq!((f_now.idle, pools.used_mb()), (0, 0));

    pools.remove("f", now);
    pools.deploy("f".into(), 3, traits(128), 16, 0, now);
    let f_now = reading(&mut pools, "f", now);
    assert_eq!(f_now.counters.outcomes.ok, 3);
    assert_eq!(f_now.counters.deployments, 3);
}

#[test]
fn an_instance_of_a_replaced_deployment_is_unloaded_when_it_comes_back() {
    let mut pools = pools(KeepAliveConfig::default().build(), 1024);
    let old = deploy(&mut pools, "f", 128);
    let lease = take(&mut pools, &old, 1, 10 * MS, Duration::ZERO);
    pools.deploy("f".into(), 2, traits(128), 16, 0, Duration::ZERO);
    assert_eq!(
        pools.used_mb(),
        128,
        "the busy old instance still holds its memory"
    );
    let (dropped, _) = pools.release(&old, lease, Finished::Ok, 10, Duration::ZERO);
    assert_eq!(dropped, [1]);
    let f_now = reading(&mut pools, "f", Duration::ZERO);
    assert_eq!((f_now.busy, f_now.idle, pools.used_mb()), (0, 0, 0));
    assert_eq!(f_now.counters.outcomes.ok, 1);
}
