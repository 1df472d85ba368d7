//! Prices of FaaS platforms, and what a run's invocations cost under each of them.
//!
//! The [`Catalog`] is a versioned list of [`PriceEntry`]s kept in `reports/pricing/catalog.toml`
//! and built into the binary; a user's file adds entries or replaces those of the same id.
//! Every entry states its source and the date its figures were checked, and says in its
//! `notes` what could not be confirmed there.
//!
//! Costs are computed from the exact billing ledgers of [`loadgen::Billing`]: each plan's
//! rounding step and minimum is applied to every invocation, never to a mean. Per-1M figures
//! use a plan's first price tier (the marginal price of a small account) without free tier,
//! unless [`CostOptions`] give a monthly volume or ask for the free tier;
//! [`PriceEntry::monthly_bill`] prices a month's totals as the providers' examples do.

mod catalog;
mod cost;
mod entry;
#[cfg(test)]
mod examples;

use std::collections::BTreeMap;

use loadgen::{Billing, Recorder, StartKind};
use serde::{Deserialize, Serialize};

pub use catalog::{Catalog, PricingError};
pub use cost::{Cost, CostOptions, MonthlyBill, Usage};
pub use entry::{
    Amount, Basis, ComputeUnits, DurationRounding, FreeTier, MemoryRounding, PriceEntry, Step,
    Tier, VcpuTier,
};

/// The entry costs are shown under when none is chosen.
pub const DEFAULT_ENTRY: &str = "aws-lambda-x86";

/// A catalog and the entry chosen to report costs under.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    catalog: Catalog,
    chosen: String,
    options: CostOptions,
}

impl Pricing {
    /// Costs under every entry of `catalog`, shown under `chosen`, which must be one of them.
    pub fn new(catalog: Catalog, chosen: &str) -> Result<Self, PricingError> {
        catalog.require(chosen)?;
        Ok(Self {
            catalog,
            chosen: chosen.to_owned(),
            options: CostOptions::default(),
        })
    }

    /// Prices as `options` say (a monthly volume, the free tier).
    pub fn with_options(mut self, options: CostOptions) -> Self {
        self.options = options;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The id of the chosen entry.
    pub fn chosen(&self) -> &str {
        &self.chosen
    }

    pub fn options(&self) -> CostOptions {
        self.options
    }

    /// What a summary records of the pricing.
    pub fn summary(&self) -> PricingSummary {
        PricingSummary {
            chosen: self.chosen.clone(),
            catalog_version: self.catalog.version().to_owned(),
            options: self.options,
        }
    }

    /// The run's costs under every entry, with the cost of each start kind.
    pub fn costs_of_run(&self, recorder: &Recorder) -> Vec<Cost> {
        self.catalog.costs(
            &recorder.billing(),
            &billing_by_start_kind(recorder),
            self.options,
        )
    }

    /// USD per one million invocations like those of `billing` under the chosen entry.
    pub fn usd_per_million(&self, billing: &Billing) -> Option<f64> {
        let entry = self.catalog.entry(&self.chosen)?;
        Some(entry.cost_with(billing, self.options)?.usd_per_million)
    }
}

impl Default for Pricing {
    /// The built-in catalog, shown under [`DEFAULT_ENTRY`].
    fn default() -> Self {
        Pricing::new(Catalog::builtin(), DEFAULT_ENTRY)
            .unwrap_or_else(|err| panic!("the built-in catalog lacks its default entry: {err}"))
    }
}

/// Which prices a summary's costs were computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingSummary {
    /// The entry costs are shown under.
    pub chosen: String,
    /// [`Catalog::version`].
    pub catalog_version: String,
    #[serde(flatten)]
    pub options: CostOptions,
}

/// The run's billing by start kind, every function together.
fn billing_by_start_kind(recorder: &Recorder) -> BTreeMap<String, Billing> {
    let mut by_kind: BTreeMap<String, Billing> = BTreeMap::new();
    for function in recorder.functions() {
        for kind in StartKind::ALL {
            if let Some(cell) = function.cell(kind) {
                by_kind
                    .entry(kind.as_str().to_owned())
                    .or_default()
                    .merge(cell.billing());
            }
        }
    }
    by_kind.retain(|_, billing| billing.invocations > 0);
    by_kind
}
