//! Reports: turn a [`loadgen::RunResult`] into figures and files people read.
//!
//! The last stage of the flow `scenarios` → `loadgen` → `reports`. A [`Summary`] is computed
//! once from the run (percentiles per start kind, where the time went, cold starts and the
//! invocations a start delayed, cost under every entry of a pricing [`Catalog`]) and every
//! artifact is rendered from a [`Report`]: the terminal table ([`terminal::render`]) and the
//! files in `results/<run-id>/`, one [`export::Exporter`] per file. Reports never reach back
//! into the load generator.

pub mod export;
#[cfg(test)]
mod fixture;
mod machine;
pub mod plot;
mod pricing;
mod report;
mod results_dir;
mod summary;
pub mod terminal;
mod threshold;

pub use pricing::{
    Amount, Basis, Catalog, ComputeUnits, Cost, CostOptions, DEFAULT_ENTRY, DurationRounding,
    FreeTier, MemoryRounding, MonthlyBill, PriceEntry, Pricing, PricingError, PricingSummary, Step,
    Tier, Usage, VcpuTier,
};
pub use report::{Configuration, IntervalRow, Machine, PlatformFunction, PlatformStats, Report};
pub use results_dir::{
    CONFIGURATION, INTERVALS_CSV, INTERVALS_HLOG, INVOCATIONS_CSV, MACHINE, PLATFORM, PRICING,
    REPORT_HTML, RUN, ReportError, ResultsDir, SCENARIO, SavedRun, run_id, write_artifacts,
};
pub use summary::{
    ALL, AllScheduled, ColdStarts, CompositionSummary, Counts, DelayedByStart, FunctionSummary,
    GroupSummary, LoadSummary, PacingSummary, Percentiles, PlatformSummary, RateSummary,
    SCHEMA_VERSION, StartKindSource, Summary,
};
pub use threshold::{Figure, Operator, Selection, Threshold, ThresholdError, Verdict};
