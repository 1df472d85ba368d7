//! One price list of the catalog: what a plan charges for, how it rounds, and where the
//! figures come from.
//!
//! Values that are wrong on their own (a negative or infinite price, a zero rounding step) are
//! refused while the file is read, so the error points at their line; rules that tie fields
//! together (a basis and the prices it needs, ascending tiers) are checked by
//! [`PriceEntry::check`].

use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// What a plan's compute price is charged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// GB-seconds of the memory the function is configured with (AWS Lambda, Azure Flex
    /// Consumption's instance memory).
    ConfiguredMemory,
    /// GB-seconds of the memory observed in use, rounded up to a step (Azure Consumption).
    ObservedMemory,
    /// vCPU-seconds and GiB-seconds, each at its own price (Google Cloud Run).
    VcpuAndMemory,
    /// Compute units converted from requests, vCPU-seconds and GB-seconds, priced per unit
    /// (Alibaba Cloud Function Compute 3.0).
    ComputeUnits,
    /// Milliseconds of CPU time (Cloudflare Workers).
    CpuTime,
}

impl Basis {
    /// The units a [`crate::Cost`] reports for this basis.
    pub fn units(self) -> &'static [&'static str] {
        match self {
            Basis::ConfiguredMemory | Basis::ObservedMemory => &[GB_SECONDS],
            Basis::VcpuAndMemory => &[VCPU_SECONDS, GIB_SECONDS],
            Basis::ComputeUnits => &[COMPUTE_UNITS],
            Basis::CpuTime => &[CPU_MS],
        }
    }

    fn uses_memory_time(self) -> bool {
        !matches!(self, Basis::CpuTime)
    }

    fn uses_tiers(self) -> bool {
        !matches!(self, Basis::VcpuAndMemory)
    }
}

/// GiB of memory × seconds (the providers' "GB-second": MB ÷ 1024 = GB).
pub const GB_SECONDS: &str = "GB-s";
/// GiB of memory × seconds, as Google names them.
pub const GIB_SECONDS: &str = "GiB-s";
/// vCPUs × seconds.
pub const VCPU_SECONDS: &str = "vCPU-s";
/// Alibaba Cloud compute units.
pub const COMPUTE_UNITS: &str = "CU";
/// Milliseconds of CPU time.
pub const CPU_MS: &str = "CPU-ms";

/// An amount: finite and not negative (prices in USD, quantities, conversion factors).
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Amount(f64);

impl Amount {
    /// `value`, if it is finite and not negative.
    pub fn new(value: f64) -> Result<Self, String> {
        if value.is_finite() && value >= 0.0 {
            Ok(Self(value))
        } else {
            Err(format!(
                "expected a finite number, 0 or more; found {value}"
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Amount::new(f64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A rounding step: a whole number, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Step(u64);

impl Step {
    pub const ONE: Step = Step(1);

    /// `value`, if it is at least 1.
    pub fn new(value: u64) -> Result<Self, String> {
        if value >= 1 {
            Ok(Self(value))
        } else {
            Err("expected a step of at least 1; a zero step rounds nothing".to_owned())
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl Default for Step {
    fn default() -> Self {
        Step::ONE
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Step::new(u64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// How an invocation's duration is billed: rounded up to a whole number of steps, and at
/// least a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationRounding {
    /// Billing step, ms: 1 on AWS Lambda, 100 on Cloud Run.
    pub step_ms: Step,
    /// Minimum billed per invocation, ms: 100 on Azure Consumption.
    #[serde(default)]
    pub min_ms: u64,
}

impl DurationRounding {
    /// The billed milliseconds of an invocation that took `ms` whole milliseconds. Exact for
    /// a duration already rounded up to whole milliseconds, since `⌈⌈d⌉ / n⌉ = ⌈d / n⌉`.
    pub fn billed_ms(&self, ms: u64) -> u64 {
        let step = self.step_ms.get();
        ms.div_ceil(step).saturating_mul(step).max(self.min_ms)
    }

    /// The billed milliseconds of an invocation that took `duration`.
    pub fn bill(&self, duration: Duration) -> u64 {
        let step = u128::from(self.step_ms.get());
        let steps = duration.as_nanos().div_ceil(step * 1_000_000);
        u64::try_from(steps * step)
            .unwrap_or(u64::MAX)
            .max(self.min_ms)
    }
}

/// How the memory an invocation is billed for is rounded: up to the plan's minimum, up to a
/// whole number of steps, up to the next of the plan's sizes when it has fixed sizes, and no
/// more than its maximum.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRounding {
    #[serde(default)]
    pub step_mb: Step,
    #[serde(default)]
    pub min_mb: u64,
    #[serde(default)]
    pub max_mb: Option<u64>,
    /// Fixed sizes (Flex Consumption instances): memory is billed at the smallest size that
    /// holds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes_mb: Vec<u64>,
}

impl MemoryRounding {
    /// The billed memory for `mb`, and whether it was capped (more than the plan bills for).
    pub fn billed_mb(&self, mb: u64) -> (u64, bool) {
        let step = self.step_mb.get();
        let mut billed = mb.max(self.min_mb).div_ceil(step).saturating_mul(step);
        let mut capped = false;
        if let Some(&largest) = self.sizes_mb.last() {
            match self.sizes_mb.iter().find(|&&size| size >= billed) {
                Some(&size) => billed = size,
                None => {
                    billed = largest;
                    capped = true;
                }
            }
        }
        if let Some(max) = self.max_mb
            && billed > max
        {
            billed = max;
            capped = true;
        }
        (billed, capped)
    }

    /// The largest memory billed, if the plan has one.
    pub fn largest_mb(&self) -> Option<u64> {
        match (self.sizes_mb.last(), self.max_mb) {
            (Some(&size), Some(max)) => Some(size.min(max)),
            (size, max) => size.copied().or(max),
        }
    }
}

/// One step of a tiered price: `usd` per unit for the month's units up to `up_to` (from the
/// previous tier's bound), or beyond for the last tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<Amount>,
    pub usd: Amount,
}

/// vCPUs that come with a memory size: those of the smallest listed size that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcpuTier {
    pub memory_mb: u64,
    pub vcpu: Amount,
}

/// Compute units per billed quantity (Alibaba Cloud: 75 per 10,000 invocations, 1 per active
/// vCPU-second, 0.15 per GB-second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeUnits {
    pub per_10k_requests: Amount,
    pub per_vcpu_second: Amount,
    pub per_gb_second: Amount,
}

/// What a month includes at no charge. Applied only when asked for
/// ([`crate::CostOptions::free_tier`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTier {
    /// For humans, e.g. "1 M requests and 400,000 GB-s per month".
    pub description: String,
    #[serde(default)]
    pub requests: Amount,
    /// Units of the tiered price (GB-s, CU or CPU-ms).
    #[serde(default)]
    pub units: Amount,
    #[serde(default)]
    pub vcpu_seconds: Amount,
    #[serde(default)]
    pub gib_seconds: Amount,
}

/// One plan's prices and billing rules, with where they come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    /// Short identifier, e.g. `aws-lambda-x86`: lowercase letters, digits and `-`.
    pub id: String,
    pub provider: String,
    pub plan: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When the figures were checked against `source`, `YYYY-MM-DD`.
    pub as_of: String,
    /// Where the figures come from.
    pub source: String,
    pub basis: Basis,
    pub duration: DurationRounding,
    #[serde(default)]
    pub memory: MemoryRounding,
    #[serde(default)]
    pub request_usd_per_million: Amount,
    /// USD per unit of the basis (GB-s, CU or CPU-ms), by monthly volume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// `vcpu-and-memory`: USD per vCPU-second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpu_second_usd: Option<Amount>,
    /// `vcpu-and-memory`: USD per GiB-second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gib_second_usd: Option<Amount>,
    /// vCPUs by memory size, for bases that charge vCPU time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vcpu: Vec<VcpuTier>,
    /// Or vCPUs proportional to memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpu_per_gb: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units: Option<ComputeUnits>,
    /// A plan's fixed monthly charge (Cloudflare Workers Paid: $5), in monthly bills only.
    #[serde(default)]
    pub monthly_fee_usd: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_tier: Option<FreeTier>,
    /// What could not be confirmed at the source, and other caveats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A rule an entry breaks: the field (as a path within the entry) and why.
pub(crate) type Violation = (String, String);

fn violation(field: &str, message: impl Into<String>) -> Violation {
    (field.to_owned(), message.into())
}

impl PriceEntry {
    /// Checks the rules that tie fields together.
    pub fn check(&self) -> Result<(), Violation> {
        self.check_description()?;
        self.check_memory()?;
        self.check_prices()?;
        self.check_vcpu()?;
        self.check_free_tier()
    }

    fn check_description(&self) -> Result<(), Violation> {
        let id_ok = !self.id.is_empty()
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(violation(
                "id",
                format!("`{}`: expected lowercase letters, digits and `-`", self.id),
            ));
        }
        for (field, value) in [
            ("provider", &self.provider),
            ("plan", &self.plan),
            ("architecture", &self.architecture),
        ] {
            if value.trim().is_empty() {
                return Err(violation(field, "must not be empty"));
            }
        }
        if !is_date(&self.as_of) {
            return Err(violation(
                "as_of",
                format!("`{}`: expected a date, YYYY-MM-DD", self.as_of),
            ));
        }
        let host = self
            .source
            .strip_prefix("https://")
            .or_else(|| self.source.strip_prefix("http://"));
        if !host.is_some_and(|rest| rest.contains('.') && !rest.contains(char::is_whitespace)) {
            return Err(violation(
                "source",
                format!(
                    "`{}`: expected the URL of the published prices",
                    self.source
                ),
            ));
        }
        Ok(())
    }

    fn check_memory(&self) -> Result<(), Violation> {
        let memory = &self.memory;
        if let Some(max) = memory.max_mb
            && max < memory.min_mb.max(1)
        {
            return Err(violation(
                "memory.max_mb",
                format!("{max} MB is below the minimum of {} MB", memory.min_mb),
            ));
        }
        if memory.sizes_mb.first() == Some(&0)
            || memory.sizes_mb.windows(2).any(|pair| pair[0] >= pair[1])
        {
            return Err(violation(
                "memory.sizes_mb",
                "expected sizes above 0, in ascending order",
            ));
        }
        Ok(())
    }

    fn check_prices(&self) -> Result<(), Violation> {
        let needs = |field: &str| {
            violation(
                field,
                format!("basis `{}` needs it", basis_name(self.basis)),
            )
        };
        let unused = |field: &str| {
            violation(
                field,
                format!("not used by basis `{}`", basis_name(self.basis)),
            )
        };
        if self.basis.uses_tiers() {
            if self.tiers.is_empty() {
                return Err(needs("tiers"));
            }
            check_tiers(&self.tiers)?;
            if self.vcpu_second_usd.is_some() {
                return Err(unused("vcpu_second_usd"));
            }
            if self.gib_second_usd.is_some() {
                return Err(unused("gib_second_usd"));
            }
        } else {
            if !self.tiers.is_empty() {
                return Err(unused("tiers"));
            }
            if self.vcpu_second_usd.is_none() {
                return Err(needs("vcpu_second_usd"));
            }
            if self.gib_second_usd.is_none() {
                return Err(needs("gib_second_usd"));
            }
        }
        match (self.basis, &self.compute_units) {
            (Basis::ComputeUnits, None) => Err(needs("compute_units")),
            (Basis::ComputeUnits, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err(unused("compute_units")),
        }
    }

    /// Whether the basis charges vCPU time.
    fn uses_vcpu(&self) -> bool {
        match self.basis {
            Basis::VcpuAndMemory => true,
            Basis::ComputeUnits => self
                .compute_units
                .is_some_and(|units| units.per_vcpu_second.get() > 0.0),
            _ => false,
        }
    }

    fn check_vcpu(&self) -> Result<(), Violation> {
        let given = !self.vcpu.is_empty() || self.vcpu_per_gb.is_some();
        if !self.uses_vcpu() {
            return if given {
                Err(violation(
                    if self.vcpu.is_empty() {
                        "vcpu_per_gb"
                    } else {
                        "vcpu"
                    },
                    format!("not used by basis `{}`", basis_name(self.basis)),
                ))
            } else {
                Ok(())
            };
        }
        match (self.vcpu.is_empty(), self.vcpu_per_gb) {
            (true, None) => Err(violation(
                "vcpu",
                "vCPU time is charged: give vCPUs by memory size (`vcpu`) or per GB (`vcpu_per_gb`)",
            )),
            (false, Some(_)) => Err(violation(
                "vcpu_per_gb",
                "give either `vcpu` or `vcpu_per_gb`, not both",
            )),
            (true, Some(_)) => Ok(()),
            (false, None) => {
                let ascending = self
                    .vcpu
                    .windows(2)
                    .all(|pair| pair[0].memory_mb < pair[1].memory_mb);
                if !ascending || self.vcpu.iter().any(|tier| tier.vcpu.get() == 0.0) {
                    Err(violation(
                        "vcpu",
                        "expected memory sizes in ascending order, each with more than 0 vCPU",
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn check_free_tier(&self) -> Result<(), Violation> {
        let Some(free) = &self.free_tier else {
            return Ok(());
        };
        let unused = |field: &str| {
            Err(violation(
                &format!("free_tier.{field}"),
                format!("not used by basis `{}`", basis_name(self.basis)),
            ))
        };
        if self.basis.uses_tiers() {
            if free.vcpu_seconds.get() > 0.0 {
                return unused("vcpu_seconds");
            }
            if free.gib_seconds.get() > 0.0 {
                return unused("gib_seconds");
            }
        } else if free.units.get() > 0.0 {
            return unused("units");
        }
        Ok(())
    }

    /// The vCPUs billed with `memory_mb` of memory (0 when vCPU time is not charged).
    pub fn vcpu_of(&self, memory_mb: u64) -> f64 {
        if !self.uses_vcpu() {
            return 0.0;
        }
        if let Some(per_gb) = self.vcpu_per_gb {
            return memory_mb as f64 / 1024.0 * per_gb.get();
        }
        self.vcpu
            .iter()
            .find(|tier| tier.memory_mb >= memory_mb)
            .or(self.vcpu.last())
            .map_or(0.0, |tier| tier.vcpu.get())
    }

    /// Whether memory time is part of what is billed.
    pub(crate) fn bills_memory(&self) -> bool {
        self.basis.uses_memory_time()
    }
}

fn check_tiers(tiers: &[Tier]) -> Result<(), Violation> {
    let last = tiers.len() - 1;
    let mut bound = 0.0;
    for (index, tier) in tiers.iter().enumerate() {
        let field = format!("tiers[{index}].up_to");
        match (tier.up_to, index == last) {
            (Some(_), true) => {
                return Err(violation(
                    &field,
                    "the last tier has no bound: it prices everything beyond the previous one",
                ));
            }
            (None, false) => {
                return Err(violation(&field, "every tier but the last needs a bound"));
            }
            (Some(up_to), false) if up_to.get() <= bound => {
                return Err(violation(
                    &field,
                    format!(
                        "{} does not lie above the previous bound {bound}",
                        up_to.get()
                    ),
                ));
            }
            (Some(up_to), false) => bound = up_to.get(),
            (None, true) => {}
        }
    }
    Ok(())
}

fn basis_name(basis: Basis) -> &'static str {
    match basis {
        Basis::ConfiguredMemory => "configured-memory",
        Basis::ObservedMemory => "observed-memory",
        Basis::VcpuAndMemory => "vcpu-and-memory",
        Basis::ComputeUnits => "compute-units",
        Basis::CpuTime => "cpu-time",
    }
}

/// `YYYY-MM-DD` with a month of 1–12 and a day of 1–31.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, digits: usize| {
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [year, month, day] => {
            number(year, 4).is_some()
                && number(month, 2).is_some_and(|m| (1..=12).contains(&m))
                && number(day, 2).is_some_and(|d| (1..=31).contains(&d))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounding(step_ms: u64, min_ms: u64) -> DurationRounding {
        DurationRounding {
            step_ms: Step::new(step_ms).unwrap(),
            min_ms,
        }
    }

    #[test]
    fn durations_round_up_to_the_step_and_the_minimum() {
        let lambda = rounding(1, 1);
        // AWS: "rounded up to the nearest 1 ms", so 1.0001 ms is billed as 2 ms.
        assert_eq!(lambda.bill(Duration::from_nanos(1_000_100)), 2);
        assert_eq!(lambda.bill(Duration::from_micros(1_001)), 2);
        assert_eq!(lambda.bill(Duration::from_micros(1_000)), 1);
        assert_eq!(lambda.bill(Duration::ZERO), 1);
        let cloud_run = rounding(100, 0);
        assert_eq!(cloud_run.bill(Duration::from_micros(230_000)), 300);
        assert_eq!(cloud_run.bill(Duration::from_micros(200_001)), 300);
        let azure = rounding(1, 100);
        assert_eq!(azure.bill(Duration::from_micros(20_400)), 100);
        assert_eq!(azure.bill(Duration::from_micros(100_400)), 101);
        let flex = rounding(100, 1_000);
        assert_eq!(flex.bill(Duration::from_micros(200_000)), 1_000);
        assert_eq!(flex.bill(Duration::from_micros(1_000_100)), 1_100);
    }

    #[test]
    fn rounding_whole_milliseconds_again_bills_what_the_duration_would() {
        // ⌈⌈d⌉ / n⌉ = ⌈d / n⌉: billing the platform's whole milliseconds is exact.
        for rounding in [
            rounding(1, 1),
            rounding(100, 0),
            rounding(1, 100),
            rounding(100, 1_000),
        ] {
            for us in (0..5_000_000u64).step_by(977) {
                let duration = Duration::from_micros(us);
                assert_eq!(
                    rounding.billed_ms(us.div_ceil(1000)),
                    rounding.bill(duration),
                    "{us} µs, {rounding:?}"
                );
            }
        }
    }

    #[test]
    fn memory_rounds_to_step_and_sizes_and_is_capped() {
        // Microsoft: "When your process is using 160 MB, you're charged for 256 MB."
        let azure = MemoryRounding {
            step_mb: Step::new(128).unwrap(),
            min_mb: 128,
            max_mb: Some(1536),
            sizes_mb: vec![],
        };
        assert_eq!(azure.billed_mb(160), (256, false));
        assert_eq!(azure.billed_mb(100), (128, false));
        assert_eq!(azure.billed_mb(1536), (1536, false));
        assert_eq!(azure.billed_mb(2048), (1536, true));
        let flex = MemoryRounding {
            sizes_mb: vec![512, 2048, 4096],
            ..MemoryRounding::default()
        };
        assert_eq!(flex.billed_mb(128), (512, false));
        assert_eq!(flex.billed_mb(1024), (2048, false));
        assert_eq!(flex.billed_mb(8192), (4096, true));
        assert_eq!(flex.largest_mb(), Some(4096));
    }

    #[test]
    fn dates_are_checked() {
        assert!(is_date("2026-12-03"));
        assert!(!is_date("2026-13-03"));
        assert!(!is_date("2026-1-03"));
        assert!(!is_date("December 2026"));
    }
}
