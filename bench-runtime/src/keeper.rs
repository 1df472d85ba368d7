//! The keeper: a background task that carries out keep-alive decisions over time. It unloads
//! idle instances whose keep-alive ran out and starts instances when a pre-warm window opens,
//! sleeping until the next such moment on the policy clock (or until woken by a change).

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::runtime::Shared;

/// Longest sleep with nothing scheduled: bounds how stale a deadline added without a wake-up
/// could get.
const MAX_SLEEP: Duration = Duration::from_secs(1);

pub(crate) async fn run(runtime: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        // Hold the runtime only while working, so that dropping it ends this task.
        let Some(shared) = runtime.upgrade() else {
            return;
        };
        let now = shared.now();
        let (unloaded, starts, next) = shared.pools().tick(now);
        shared.discard(unloaded);
        shared.start_prewarms(starts);
        let sleep = next
            .map(|at| shared.real_duration(at.saturating_sub(now)))
            .unwrap_or(MAX_SLEEP)
            .clamp(Duration::from_micros(100), MAX_SLEEP);
        drop(shared);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = wake.notified() => {}
        }
    }
}
