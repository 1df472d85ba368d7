//! The built-in entries against the providers' own published examples, to the cent.

use std::time::Duration;

use loadgen::Billing;

use super::{Catalog, CostOptions, PriceEntry, Tier, Usage};
use crate::pricing::entry::{Amount, COMPUTE_UNITS, CPU_MS, GB_SECONDS, GIB_SECONDS, VCPU_SECONDS};

fn entry(id: &str) -> PriceEntry {
    Catalog::builtin()
        .entry(id)
        .cloned()
        .unwrap_or_else(|| panic!("no entry {id}"))
}

fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// `count` invocations billed `ms` each at `memory_mb`, as the reference runtime reports
/// them (whole milliseconds, rounded up).
fn invocations(memory_mb: u64, ms: u64, count: u64) -> Billing {
    let mut billing = Billing::default();
    for _ in 0..count {
        billing.add(ms, memory_mb, ms * 1000, None, None);
    }
    billing
}

fn usage(requests: f64, gb_seconds: f64, vcpu_seconds: f64, cpu_ms: f64) -> Usage {
    Usage {
        requests,
        gb_seconds,
        vcpu_seconds,
        cpu_ms,
    }
}

#[test]
fn aws_lists_0_0000000021_usd_per_ms_at_128_mb() {
    // https://aws.amazon.com/lambda/pricing/ lists $0.0000000021 per 1 ms at 128 MB (x86,
    // first tier): 128/1024 GB × 0.001 s × $0.0000166667, to two significant digits.
    let cost = entry("aws-lambda-x86")
        .cost(&invocations(128, 1, 1))
        .unwrap();
    let per_ms = cost.compute_usd_per_million / 1e6;
    assert_eq!((per_ms * 1e10).round() / 1e10, 0.000_000_002_1);
}

#[test]
fn aws_bills_1_0001_ms_as_2_ms() {
    // https://aws.amazon.com/lambda/pricing/: duration "rounded up to the nearest 1 ms", so
    // 1.0001 ms is billed as 2 ms. The runtime reports ⌈(init + exec) / 1 ms⌉ = 2.
    let lambda = entry("aws-lambda-x86");
    assert_eq!(lambda.duration.bill(Duration::from_nanos(1_000_100)), 2);
    let cost = lambda.cost(&invocations(128, 2, 1)).unwrap();
    assert_eq!(cost.billed[GB_SECONDS], 128.0 / 1024.0 * 0.002);
}

#[test]
fn aws_pricing_page_example_1() {
    // https://aws.amazon.com/lambda/pricing/, example 1 (as stored, at the rounded rate of
    // $0.00001667 per GB-s it states): 512 MB, 3 M invocations a month of 1 s each, with the
    // free tier. Compute 1,500,000 − 400,000 = 1,100,000 GB-s × $0.00001667 = $18.34;
    // requests (3 M − 1 M) × $0.20 = $0.40; total $18.74.
    let mut lambda = entry("aws-lambda-x86");
    lambda.tiers[0].usd = Amount::new(0.000_016_67).unwrap();
    let month = usage(3e6, 3e6 * 1.0 * 512.0 / 1024.0, 0.0, 0.0);
    let bill = lambda.monthly_bill(&month, true);
    assert_eq!(cents(bill.compute_usd), 18.34);
    assert_eq!(cents(bill.requests_usd), 0.40);
    assert_eq!(cents(bill.total_usd), 18.74);
    // The same month from a run's ledger: invocations like these, 3 M of them.
    let cost = lambda
        .cost_with(
            &invocations(512, 1000, 10),
            CostOptions {
                monthly_invocations: Some(3_000_000),
                free_tier: true,
            },
        )
        .unwrap();
    assert_eq!(cents(cost.usd_per_million * 3.0), 18.74);
    // At the current $0.0000166667 the compute line is $18.33.
    let current = entry("aws-lambda-x86").monthly_bill(&month, true);
    assert_eq!(cents(current.compute_usd), 18.33);
}

#[test]
fn aws_tiered_pricing() {
    // https://aws.amazon.com/blogs/compute/introducing-tiered-pricing-for-aws-lambda/: x86
    // GB-s beyond 6 B a month are 10 % off, beyond 15 B 20 % off; arm64 the same beyond
    // 7.5 B and 18.75 B.
    for (id, first, second) in [
        ("aws-lambda-x86", 6e9, 15e9),
        ("aws-lambda-arm64", 7.5e9, 18.75e9),
    ] {
        let lambda = entry(id);
        let bounds: Vec<Option<f64>> = lambda
            .tiers
            .iter()
            .map(|tier| tier.up_to.map(Amount::get))
            .collect();
        assert_eq!(bounds, [Some(first), Some(second), None], "{id}");
        let rate = |tier: &Tier| tier.usd.get();
        let base = rate(&lambda.tiers[0]);
        for (tier, discount) in lambda.tiers.iter().zip([1.0, 0.9, 0.8]) {
            // The listed rates are the discounted first tier, to 10 decimal places.
            assert!((rate(tier) - base * discount).abs() < 1e-10, "{id}");
        }
        // A month of 20 B GB-s: the first bound at the full rate, the next 9 B (x86) or
        // 11.25 B (arm64) 10 % off, the rest 20 % off.
        let bill = lambda.monthly_bill(&usage(0.0, 20e9, 0.0, 0.0), false);
        let expected = first * base
            + (second - first) * rate(&lambda.tiers[1])
            + (20e9 - second) * rate(&lambda.tiers[2]);
        assert_eq!(cents(bill.compute_usd), cents(expected), "{id}");
    }
    let x86 = entry("aws-lambda-x86").monthly_bill(&usage(0.0, 20e9, 0.0, 0.0), false);
    // 6 B × $0.0000166667 + 9 B × $0.000015 + 5 B × $0.0000133334.
    assert_eq!(cents(x86.compute_usd), 301_667.20);
}

#[test]
fn cloud_run_rounds_each_request_up_to_100_ms() {
    // https://cloud.google.com/run/pricing: "rounded up to the nearest 100 millisecond", and
    // "a GiB-second means ... running a 256 mebibyte instance for 4 seconds".
    let cloud_run = entry("gcp-cloud-run-functions");
    let quarter = cloud_run.cost(&invocations(256, 4000, 1)).unwrap();
    assert_eq!(quarter.billed[GIB_SECONDS], 1.0);
    // 256 MiB comes with 0.167 vCPU (https://cloud.google.com/functions/docs/configuring/memory).
    assert!((quarter.billed[VCPU_SECONDS] - 0.167 * 4.0).abs() < 1e-12);
    // 230 ms is billed as 300 ms: at 1 GiB (0.583 vCPU) that is 0.3 GiB-s, 0.1749 vCPU-s.
    let cost = cloud_run.cost(&invocations(1024, 230, 1)).unwrap();
    assert!((cost.billed[GIB_SECONDS] - 0.3).abs() < 1e-12);
    assert!((cost.billed[VCPU_SECONDS] - 0.583 * 0.3).abs() < 1e-12);
    let per_million = 0.40 + (0.583 * 0.3 * 0.000_024 + 0.3 * 0.000_002_5) * 1e6;
    assert!(
        (cost.usd_per_million - per_million).abs() < 1e-9,
        "{cost:?}"
    );
}

#[test]
fn cloud_run_month_with_the_free_tier() {
    // Google publishes no worked example; this month follows its pricing table and free tier
    // (180,000 vCPU-s, 360,000 GiB-s, 2 M requests): 10 M requests of 200 ms at 512 MiB
    // (0.333 vCPU). vCPU: 666,000 − 180,000 = 486,000 × $0.000024 = $11.664; memory:
    // 1,000,000 − 360,000 = 640,000 × $0.0000025 = $1.60; requests: 8 M × $0.40 = $3.20.
    let cloud_run = entry("gcp-cloud-run-functions");
    let month = usage(10e6, 10e6 * 0.2 * 0.5, 10e6 * 0.2 * 0.333, 0.0);
    let bill = cloud_run.monthly_bill(&month, true);
    assert_eq!(cents(bill.compute_usd), 13.26);
    assert_eq!(cents(bill.requests_usd), 3.20);
    assert_eq!(cents(bill.total_usd), 16.46);
    assert_eq!(
        cents(cloud_run.monthly_bill(&month, false).total_usd),
        22.48
    );
}

#[test]
fn azure_consumption_bills_at_least_100_ms_and_128_mb() {
    // https://azure.microsoft.com/en-us/pricing/details/functions/: memory rounded up to the
    // nearest 128 MB, at most 1,536 MB; 100 ms and 128 MB at least per execution. A 20 ms
    // execution is billed 100 ms; 160 MB is billed as 256 MB
    // (https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs).
    let azure = entry("azure-functions-consumption");
    let short = azure.cost(&invocations(128, 20, 1000)).unwrap();
    assert_eq!(short.billed[GB_SECONDS], 12.5);
    let rounded = azure.cost(&invocations(160, 1000, 1)).unwrap();
    assert_eq!(rounded.billed[GB_SECONDS], 0.25);
    // The configured memory stands in for the observed memory, and the cost says so.
    assert!(
        rounded
            .notes
            .iter()
            .any(|note| note.contains("observed memory"))
    );
    let capped = azure.cost(&invocations(2048, 1000, 1)).unwrap();
    assert_eq!(capped.billed[GB_SECONDS], 1.5);
    assert!(capped.notes.iter().any(|note| note.contains("1536 MB")));
}

#[test]
fn azure_function_execution_units_convert_to_gb_seconds() {
    // https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs:
    // "1110000000 / 1024000 = 1083.98 GB-seconds" (execution units are MB-milliseconds).
    let azure = entry("azure-functions-consumption");
    let billing = invocations(128, 1_110_000_000 / 128, 1);
    let usage = azure.usage(&billing.billed);
    assert_eq!(cents(usage.gb_seconds), 1083.98);
}

#[test]
fn azure_flex_consumption_bills_at_least_1000_ms_on_the_instance_size() {
    // https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan: "The
    // minimum billable execution period ... is 1,000 ms. Past that, the billable activity
    // period is rounded up to the nearest 100 ms." A 200 ms execution on a 2,048 MB instance
    // is billed 1 s × 2 GB; 1,250 ms is billed 1,300 ms.
    let flex = entry("azure-functions-flex-consumption");
    let short = flex.cost(&invocations(2048, 200, 1)).unwrap();
    assert_eq!(short.billed[GB_SECONDS], 2.0);
    let long = flex.cost(&invocations(2048, 1250, 1)).unwrap();
    assert_eq!(long.billed[GB_SECONDS], 2.6);
    // A function of 1,024 MB runs on a 2,048 MB instance.
    let small = flex.cost(&invocations(1024, 1000, 1)).unwrap();
    assert_eq!(small.billed[GB_SECONDS], 2.0);
}

#[test]
fn alibaba_function_compute_example() {
    // https://help.aliyun.com/en/functioncompute/fc-2-0/product-overview/pay-as-you-go-billing-method
    // (CU billing, as on Function Compute 3.0): 3 M invocations a month, 512 MB, 200 ms,
    // 0.25 vCPU. Invocations 3,000,000 / 10,000 × 75 = 22,500 CU; memory 300,000 GB-s × 0.15
    // = 45,000 CU; vCPU 150,000 vCPU-s × 1 = 150,000 CU; 217,500 CU × $0.000020 = $4.35.
    let fc = entry("alibaba-fc3");
    let bill = fc.monthly_bill(&usage(3e6, 300_000.0, 150_000.0, 0.0), false);
    assert!((bill.billed[COMPUTE_UNITS] - 217_500.0).abs() < 1e-6);
    assert_eq!(cents(bill.total_usd), 4.35);
    // The same invocations from a ledger: $4.35 / 3 M = $1.45 per 1 M, of which 75 CU per
    // 10,000 invocations × $0.000020 = $0.15 for requests.
    let cost = fc.cost(&invocations(512, 200, 100)).unwrap();
    assert_eq!(cents(cost.usd_per_million), 1.45);
    assert_eq!(cents(cost.requests_usd_per_million), 0.15);
    assert!(cost.notes.iter().any(|note| note.contains("vCPU")));
}

#[test]
fn cloudflare_workers_examples() {
    // https://developers.cloudflare.com/workers/platform/pricing/, examples 1, 3 and 4, with
    // the plan's included usage and its $5 fee.
    let workers = entry("cloudflare-workers-standard");
    // 1: 15 M requests, 7 ms CPU each: requests $1.50, CPU $1.50, total $8.00.
    let one = workers.monthly_bill(&usage(15e6, 0.0, 0.0, 15e6 * 7.0), true);
    assert_eq!(cents(one.requests_usd), 1.50);
    assert_eq!(cents(one.compute_usd), 1.50);
    assert_eq!(cents(one.total_usd), 8.00);
    // 3: 720 requests of 180,000 ms CPU: CPU $1.99, total $6.99.
    let three = workers.monthly_bill(&usage(720.0, 0.0, 0.0, 720.0 * 180_000.0), true);
    assert_eq!(cents(three.requests_usd), 0.00);
    assert_eq!(cents(three.compute_usd), 1.99);
    assert_eq!(cents(three.total_usd), 6.99);
    // 4: 100 M requests, 7 ms CPU each: requests $27.00, CPU $13.40, total $45.40.
    let four = workers.monthly_bill(&usage(100e6, 0.0, 0.0, 100e6 * 7.0), true);
    assert_eq!(cents(four.requests_usd), 27.00);
    assert_eq!(cents(four.compute_usd), 13.40);
    assert_eq!(cents(four.total_usd), 45.40);
    assert_eq!(four.billed[CPU_MS], 700e6);
    // Marginal, from a ledger: $0.30 + 7 ms × $0.02 per 1 M CPU-ms = $0.44 per 1 M, the
    // billed duration standing in for CPU time.
    let cost = workers.cost(&invocations(128, 7, 10)).unwrap();
    assert_eq!(cents(cost.usd_per_million), 0.44);
    assert!(cost.notes.iter().any(|note| note.contains("CPU time")));
    assert!(
        cost.notes
            .iter()
            .any(|note| note.contains("$5.00 monthly fee"))
    );
}
