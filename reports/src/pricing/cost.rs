//! What invocations cost under a [`PriceEntry`]: rounding applied to every invocation from the
//! billing ledgers, then the entry's prices applied to the totals.
//!
//! Two ways to price: at the marginal price of a small account (the first tier, no free tier,
//! no plan fee), which is what the per-1M figures use by default; or as a month's bill, with
//! tiers and optionally the free tier, which is how the providers' published examples work.

use std::collections::BTreeMap;

use loadgen::{Billing, Ledger};
use serde::{Deserialize, Serialize};

use super::entry::{Amount, Basis, FreeTier, PriceEntry, Tier};

/// Resources used in a month (or a run), after the entry's rounding: what its prices apply
/// to. GB-seconds are GiB × s (MB ÷ 1024), as every provider here counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub requests: f64,
    pub gb_seconds: f64,
    pub vcpu_seconds: f64,
    pub cpu_ms: f64,
}

impl Usage {
    fn scaled(self, factor: f64) -> Usage {
        Usage {
            requests: self.requests * factor,
            gb_seconds: self.gb_seconds * factor,
            vcpu_seconds: self.vcpu_seconds * factor,
            cpu_ms: self.cpu_ms * factor,
        }
    }
}

/// How a cost is priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostOptions {
    /// Price as part of a month of this many invocations like these, with the tiers that
    /// volume reaches. Without it, the first tier's (marginal) price is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_invocations: Option<u64>,
    /// Subtract the entry's free tier from that month (from the run alone when no monthly
    /// volume is given). Off by default: a benchmark compares marginal prices.
    #[serde(default)]
    pub free_tier: bool,
}

/// A month's bill under one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyBill {
    pub entry: String,
    pub requests_usd: f64,
    pub compute_usd: f64,
    /// The plan's fixed monthly charge.
    pub fee_usd: f64,
    pub total_usd: f64,
    /// Billed units, before the free tier.
    pub billed: BTreeMap<String, f64>,
    pub free_tier: bool,
}

/// What a run's invocations cost under a [`PriceEntry`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// [`PriceEntry::id`].
    pub entry: String,
    /// Invocations the platform reported a billed duration and memory size for.
    pub billed_invocations: u64,
    /// Billed units of those invocations after the entry's rounding, by unit (`GB-s`;
    /// `vCPU-s` and `GiB-s`; `CU`; `CPU-ms`).
    pub billed: BTreeMap<String, f64>,
    /// Request charge per one million invocations, USD.
    pub requests_usd_per_million: f64,
    /// Compute charge per one million invocations like these, USD.
    pub compute_usd_per_million: f64,
    /// Total per one million invocations, USD (without a plan's monthly fee).
    pub usd_per_million: f64,
    /// What the billed invocations of this run cost, USD.
    pub run_usd: f64,
    /// What instance starts added: the cost of the invocations that started an instance less
    /// their cost for execution alone, per one million of all billed invocations, USD.
    pub start_usd_per_million: f64,
    /// `usd_per_million` of the invocations of each start kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_start_kind: BTreeMap<String, f64>,
    /// How it was priced.
    #[serde(flatten)]
    pub options: CostOptions,
    /// Where the figure departs from what the platform would bill.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Sums over a ledger after rounding, exact where the quantities are whole numbers.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    requests: u128,
    /// Σ billed MB × billed ms.
    mb_ms: u128,
    /// Σ billed ms.
    ms: u128,
    /// Σ vCPU × billed ms.
    vcpu_ms: f64,
    /// Some invocation's memory was above what the plan bills.
    capped: bool,
}

impl Tally {
    fn usage(&self) -> Usage {
        Usage {
            requests: self.requests as f64,
            gb_seconds: self.mb_ms as f64 / 1024.0 / 1000.0,
            vcpu_seconds: self.vcpu_ms / 1000.0,
            cpu_ms: self.ms as f64,
        }
    }

    /// `self` with the invocations of `part` counted as `instead`.
    fn replacing(&self, part: &Tally, instead: &Tally) -> Tally {
        Tally {
            requests: self.requests,
            mb_ms: self.mb_ms.saturating_sub(part.mb_ms) + instead.mb_ms,
            ms: self.ms.saturating_sub(part.ms) + instead.ms,
            vcpu_ms: self.vcpu_ms - part.vcpu_ms + instead.vcpu_ms,
            capped: self.capped,
        }
    }
}

/// A request and a compute charge, USD.
#[derive(Debug, Clone, Copy, Default)]
struct Charge {
    requests: f64,
    compute: f64,
}

impl Charge {
    fn total(self) -> f64 {
        self.requests + self.compute
    }

    fn per(self, count: f64) -> Charge {
        Charge {
            requests: self.requests / count,
            compute: self.compute / count,
        }
    }
}

/// Which prices apply.
#[derive(Debug, Clone, Copy)]
enum Prices {
    /// The first tier, no free tier.
    Marginal,
    /// A month: every tier, and the free tier if asked for.
    Month { free_tier: bool },
}

/// `units` priced by `tiers`, each tier's price applying to the units within its bounds.
fn tiered(tiers: &[Tier], units: f64, prices: Prices) -> f64 {
    if let Prices::Marginal = prices {
        return tiers.first().map_or(0.0, |tier| units * tier.usd.get());
    }
    let mut below = 0.0;
    let mut usd = 0.0;
    for tier in tiers {
        let bound = tier.up_to.map_or(f64::INFINITY, |up_to| up_to.get());
        if units > below {
            usd += (units.min(bound) - below) * tier.usd.get();
        }
        below = bound;
    }
    usd
}

fn less(value: f64, allowance: f64) -> f64 {
    (value - allowance).max(0.0)
}

impl PriceEntry {
    fn tally(&self, ledger: &Ledger) -> Tally {
        let mut tally = Tally::default();
        for (&memory_mb, durations) in ledger {
            let (billed_mb, capped) = if self.bills_memory() {
                self.memory.billed_mb(memory_mb)
            } else {
                (0, false)
            };
            let vcpu = self.vcpu_of(billed_mb);
            for (&ms, &count) in durations {
                let billed_ms = u128::from(self.duration.billed_ms(ms));
                let count = u128::from(count);
                tally.requests += count;
                tally.ms += billed_ms * count;
                tally.mb_ms += u128::from(billed_mb) * billed_ms * count;
                tally.vcpu_ms += vcpu * (billed_ms * count) as f64;
                tally.capped |= capped && count > 0;
            }
        }
        tally
    }

    /// Compute units of `usage`: (requests, everything else).
    fn compute_units(&self, usage: &Usage) -> (f64, f64) {
        self.compute_units.map_or((0.0, 0.0), |factors| {
            (
                usage.requests / 10_000.0 * factors.per_10k_requests.get(),
                usage.vcpu_seconds * factors.per_vcpu_second.get()
                    + usage.gb_seconds * factors.per_gb_second.get(),
            )
        })
    }

    /// The billed units of `usage`, by unit.
    pub fn billed_units(&self, usage: &Usage) -> BTreeMap<String, f64> {
        let values: Vec<f64> = match self.basis {
            Basis::ConfiguredMemory | Basis::ObservedMemory => vec![usage.gb_seconds],
            Basis::VcpuAndMemory => vec![usage.vcpu_seconds, usage.gb_seconds],
            Basis::ComputeUnits => {
                let (requests, compute) = self.compute_units(usage);
                vec![requests + compute]
            }
            Basis::CpuTime => vec![usage.cpu_ms],
        };
        self.basis
            .units()
            .iter()
            .map(|unit| (*unit).to_owned())
            .zip(values)
            .collect()
    }

    fn charge(&self, usage: &Usage, prices: Prices) -> Charge {
        let free = match prices {
            Prices::Month { free_tier: true } => self.free_tier.clone(),
            _ => None,
        };
        let allowance = |pick: fn(&FreeTier) -> f64| free.as_ref().map_or(0.0, pick);
        let free_requests = allowance(|free| free.requests.get());
        let free_units = allowance(|free| free.units.get());
        let mut requests =
            less(usage.requests, free_requests) / 1e6 * self.request_usd_per_million.get();
        let compute = match self.basis {
            Basis::ConfiguredMemory | Basis::ObservedMemory => {
                tiered(&self.tiers, less(usage.gb_seconds, free_units), prices)
            }
            Basis::CpuTime => tiered(&self.tiers, less(usage.cpu_ms, free_units), prices),
            Basis::VcpuAndMemory => {
                let price = |usd: Option<Amount>| usd.map_or(0.0, |usd| usd.get());
                less(
                    usage.vcpu_seconds,
                    allowance(|free| free.vcpu_seconds.get()),
                ) * price(self.vcpu_second_usd)
                    + less(usage.gb_seconds, allowance(|free| free.gib_seconds.get()))
                        * price(self.gib_second_usd)
            }
            Basis::ComputeUnits => {
                // Requests are priced in compute units too: the tiers apply to the total,
                // shared out in proportion.
                let (request_units, compute_units) = self.compute_units(usage);
                let units = request_units + compute_units;
                let usd = tiered(&self.tiers, less(units, free_units), prices);
                let request_share = if units > 0.0 {
                    request_units / units
                } else {
                    0.0
                };
                requests += usd * request_share;
                usd * (1.0 - request_share)
            }
        };
        Charge { requests, compute }
    }

    /// A month's bill for `usage` (rounding already applied, as in the providers' examples),
    /// with every tier, the plan's fee and, if `free_tier`, the free tier.
    pub fn monthly_bill(&self, usage: &Usage, free_tier: bool) -> MonthlyBill {
        let charge = self.charge(usage, Prices::Month { free_tier });
        let fee_usd = self.monthly_fee_usd.get();
        MonthlyBill {
            entry: self.id.clone(),
            requests_usd: charge.requests,
            compute_usd: charge.compute,
            fee_usd,
            total_usd: charge.total() + fee_usd,
            billed: self.billed_units(usage),
            free_tier,
        }
    }

    /// The resources the invocations of `ledger` are billed for under this entry: every
    /// invocation's duration and memory rounded as the plan rounds them.
    pub fn usage(&self, ledger: &Ledger) -> Usage {
        self.tally(ledger).usage()
    }

    /// The cost of the billed invocations of `billing` at the first tier's price, without
    /// free tier; `None` when nothing was billed.
    pub fn cost(&self, billing: &Billing) -> Option<Cost> {
        self.cost_with(billing, CostOptions::default())
    }

    /// The cost of the billed invocations of `billing`, priced as `options` say; `None` when
    /// nothing was billed.
    pub fn cost_with(&self, billing: &Billing, options: CostOptions) -> Option<Cost> {
        let billed = self.tally(&billing.billed);
        if billed.requests == 0 {
            return None;
        }
        let started = self.tally(&billing.started);
        let exec_only = self.tally(&billing.started_exec_only);
        let run = billed.usage();
        let without_starts = billed.replacing(&started, &exec_only).usage();
        let invocations = run.requests;
        let month = options
            .monthly_invocations
            .or(options.free_tier.then_some(billing.invocations));
        let per_invocation = |usage: &Usage| match month {
            None => self.charge(usage, Prices::Marginal).per(invocations),
            Some(month) => {
                let month = (month as f64).max(1.0);
                let usage = usage.scaled(month / invocations);
                self.charge(
                    &usage,
                    Prices::Month {
                        free_tier: options.free_tier,
                    },
                )
                .per(month)
            }
        };
        let each = per_invocation(&run);
        let each_without_starts = per_invocation(&without_starts);
        Some(Cost {
            entry: self.id.clone(),
            billed_invocations: billing.invocations,
            billed: self.billed_units(&run),
            requests_usd_per_million: each.requests * 1e6,
            compute_usd_per_million: each.compute * 1e6,
            usd_per_million: each.total() * 1e6,
            run_usd: each.total() * invocations,
            start_usd_per_million: (each.total() - each_without_starts.total()) * 1e6,
            by_start_kind: BTreeMap::new(),
            options,
            notes: self.cost_notes(billed.capped),
        })
    }

    /// Where a cost computed from the reference runtime's reports departs from the bill.
    fn cost_notes(&self, capped: bool) -> Vec<String> {
        let mut notes = Vec::new();
        match self.basis {
            Basis::ObservedMemory => notes.push(format!(
                "billed on observed memory rounded up to {} MB; the platform reported configured memory only, used instead (an upper bound)",
                self.memory.step_mb.get()
            )),
            Basis::CpuTime => notes.push(
                "billed on CPU time; the platform reported no CPU time, so the billed duration is used instead (an upper bound)".to_owned(),
            ),
            _ => {}
        }
        if self.uses_vcpu_time() {
            notes.push(
                "vCPUs taken from the memory size as the entry states; the platform reported none"
                    .to_owned(),
            );
        }
        if capped && let Some(largest) = self.memory.largest_mb() {
            notes.push(format!(
                "memory above the {largest} MB this plan bills for was billed at {largest} MB"
            ));
        }
        if self.monthly_fee_usd.get() > 0.0 {
            notes.push(format!(
                "plus the plan's ${:.2} monthly fee, not in the per-invocation figures",
                self.monthly_fee_usd.get()
            ));
        }
        notes
    }

    fn uses_vcpu_time(&self) -> bool {
        !self.vcpu.is_empty() || self.vcpu_per_gb.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;
    use crate::pricing::entry::GB_SECONDS;

    fn billing(invocations: &[(u64, u64, u64)]) -> Billing {
        let mut billing = Billing::default();
        for &(memory_mb, ms, count) in invocations {
            for _ in 0..count {
                billing.add(ms, memory_mb, ms * 1000, None, None);
            }
        }
        billing
    }

    #[test]
    fn rounding_and_minimum_apply_to_each_invocation_not_to_the_mean() {
        let catalog = Catalog::builtin();
        // Cloud Run: 10 ms and 190 ms, rounded up to 100 ms each, bill 100 + 200 ms; their
        // mean of 100 ms would bill 200 ms.
        let cloud_run = catalog.entry("gcp-cloud-run-functions").unwrap();
        let usage = cloud_run.usage(&billing(&[(1024, 10, 1), (1024, 190, 1)]).billed);
        assert!((usage.gb_seconds - 0.3).abs() < 1e-12, "{usage:?}");
        // Azure Consumption: 20 ms and 180 ms at a 100 ms minimum bill 100 + 180 ms; their
        // mean would bill 200 ms.
        let azure = catalog.entry("azure-functions-consumption").unwrap();
        let usage = azure.usage(&billing(&[(128, 20, 1), (128, 180, 1)]).billed);
        assert!((usage.gb_seconds - 0.125 * 0.28).abs() < 1e-12, "{usage:?}");
    }

    #[test]
    fn start_cost_is_what_init_time_added() {
        let lambda = Catalog::builtin().entry("aws-lambda-x86").cloned().unwrap();
        let mut billing = Billing::default();
        // A cold start billed 23 ms (20 ms init + 3 ms exec), then 9 warm 3 ms invocations.
        billing.add(23, 1024, 25_000, Some(20_000), Some(2_100));
        for _ in 0..9 {
            billing.add(3, 1024, 3_000, Some(0), Some(2_100));
        }
        let cost = lambda.cost(&billing).unwrap();
        // 20 ms at 1 GiB, over 10 invocations.
        let expected = 0.020 * 0.000_016_666_7 / 10.0 * 1e6;
        assert!(
            (cost.start_usd_per_million - expected).abs() < 1e-9,
            "{cost:?}"
        );
        assert!((cost.billed[GB_SECONDS] - 0.050).abs() < 1e-12);
        // Under Flex Consumption's 1,000 ms minimum the 20 ms of init cost nothing.
        let flex = Catalog::builtin()
            .entry("azure-functions-flex-consumption")
            .cloned()
            .unwrap();
        assert_eq!(flex.cost(&billing).unwrap().start_usd_per_million, 0.0);
    }

    #[test]
    fn nothing_billed_means_no_cost() {
        for entry in Catalog::builtin().entries() {
            assert_eq!(entry.cost(&Billing::default()), None, "{}", entry.id);
        }
    }

    #[test]
    fn a_monthly_volume_reaches_the_lower_tiers() {
        let lambda = Catalog::builtin().entry("aws-lambda-x86").cloned().unwrap();
        // 1 s at 2 GiB: 2 GB-s each.
        let billing = billing(&[(2048, 1000, 4)]);
        let marginal = lambda.cost(&billing).unwrap();
        assert!((marginal.compute_usd_per_million - 2e6 * 0.000_016_666_7).abs() < 1e-6);
        // 10 B invocations a month: 20 B GB-s, of which 6 B in the first tier, 9 B in the
        // second and 5 B in the third.
        let month = lambda
            .cost_with(
                &billing,
                CostOptions {
                    monthly_invocations: Some(10_000_000_000),
                    free_tier: false,
                },
            )
            .unwrap();
        let bill = 6e9 * 0.000_016_666_7 + 9e9 * 0.000_015 + 5e9 * 0.000_013_333_4;
        assert!(
            (month.compute_usd_per_million - bill / 1e4).abs() < 1e-6,
            "{month:?}"
        );
        assert!(month.compute_usd_per_million < marginal.compute_usd_per_million);
    }

    #[test]
    fn the_free_tier_applies_only_when_asked_for() {
        let lambda = Catalog::builtin().entry("aws-lambda-x86").cloned().unwrap();
        let billing = billing(&[(128, 100, 1000)]);
        assert!(lambda.cost(&billing).unwrap().usd_per_million > 0.0);
        let free = lambda
            .cost_with(
                &billing,
                CostOptions {
                    monthly_invocations: None,
                    free_tier: true,
                },
            )
            .unwrap();
        assert_eq!(free.usd_per_million, 0.0);
        assert_eq!(free.run_usd, 0.0);
    }
}
