//! Prices of FaaS platforms, and what a run's invocations cost under them.

use loadgen::Billing;
use serde::{Deserialize, Serialize};

/// A pay-per-use price list: a price per request plus a price per GB-second of billed memory
/// time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingModel {
    /// Short identifier, e.g. `aws-lambda-x86`.
    pub id: String,
    /// What it is, for humans.
    pub name: String,
    /// USD per one million requests.
    pub usd_per_million_requests: f64,
    /// USD per GB-second (GiB of configured memory × seconds billed).
    pub usd_per_gb_second: f64,
}

impl PricingModel {
    /// AWS Lambda on x86: $0.20 per 1M requests and $0.0000166667 per GB-second, duration
    /// billed in 1 ms steps (the first price tier, without free tier).
    pub fn aws_lambda_x86() -> Self {
        Self {
            id: "aws-lambda-x86".into(),
            name: "AWS Lambda x86".into(),
            usd_per_million_requests: 0.20,
            usd_per_gb_second: 0.000_016_666_7,
        }
    }

    /// The cost of the billed invocations of a run, or `None` if the platform reported no
    /// billed durations.
    pub fn cost(&self, billing: &Billing) -> Option<Cost> {
        if billing.invocations == 0 {
            return None;
        }
        let gb_seconds = billing.gb_seconds();
        let invocations = billing.invocations as f64;
        let compute_per_million = gb_seconds / invocations * self.usd_per_gb_second * 1e6;
        Some(Cost {
            model: self.id.clone(),
            billed_invocations: billing.invocations,
            gb_seconds,
            requests_usd_per_million: self.usd_per_million_requests,
            compute_usd_per_million: compute_per_million,
            usd_per_million: self.usd_per_million_requests + compute_per_million,
            run_usd: invocations * self.usd_per_million_requests / 1e6
                + gb_seconds * self.usd_per_gb_second,
        })
    }
}

/// What a run's invocations cost under a [`PricingModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// [`PricingModel::id`].
    pub model: String,
    /// Invocations the platform reported a billed duration and memory size for.
    pub billed_invocations: u64,
    /// Billed GB-seconds of those invocations.
    pub gb_seconds: f64,
    /// Request charge per one million invocations, USD.
    pub requests_usd_per_million: f64,
    /// Compute (GB-second) charge per one million invocations like these, USD.
    pub compute_usd_per_million: f64,
    /// Total per one million invocations, USD.
    pub usd_per_million: f64,
    /// What the billed invocations of this run cost, USD.
    pub run_usd: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_cost_adds_request_and_gb_second_charges() {
        // 1000 invocations of 100 ms at 1024 MiB: 100 GB-s.
        let mut billing = Billing::default();
        for _ in 0..1000 {
            billing.add(100, 1024, 100_000, None, None);
        }
        let cost = PricingModel::aws_lambda_x86().cost(&billing).unwrap();
        assert!((cost.gb_seconds - 100.0).abs() < 1e-9);
        // Per invocation 0.1 GB-s × $0.0000166667 = $0.00000166667; × 1M = $1.66667.
        assert!(
            (cost.compute_usd_per_million - 1.666_67).abs() < 1e-6,
            "{cost:?}"
        );
        assert!((cost.usd_per_million - 1.866_67).abs() < 1e-6, "{cost:?}");
        assert!(
            (cost.run_usd - (0.0002 + 0.001_666_67)).abs() < 1e-9,
            "{cost:?}"
        );
    }

    #[test]
    fn one_millisecond_at_128_mib_matches_the_published_price() {
        // AWS lists $0.0000000021 per 1 ms at 128 MB, rounded to two significant digits.
        let mut billing = Billing::default();
        billing.add(1, 128, 1_000, None, None);
        let cost = PricingModel::aws_lambda_x86().cost(&billing).unwrap();
        let per_ms = cost.compute_usd_per_million / 1e6;
        assert!((per_ms / 0.000_000_002_1 - 1.0).abs() < 0.01, "{per_ms:e}");
    }

    #[test]
    fn no_billing_headers_means_no_cost() {
        assert_eq!(
            PricingModel::aws_lambda_x86().cost(&Billing::default()),
            None
        );
    }
}
