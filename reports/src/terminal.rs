//! The summary as a table for the terminal.

use std::fmt::Write;

use crate::summary::{ALL, Percentiles, Summary};

/// Functions listed in the per-function table; the busiest come first.
const FUNCTIONS_SHOWN: usize = 10;

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn percentile_row(out: &mut String, label: &str, p: &Percentiles) {
    let _ = writeln!(
        out,
        "  {label:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        p.count,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p99_9),
        ms(p.max)
    );
}

/// Renders the summary as plain text, one figure per line or table row.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let counts = &summary.invocations;
    let _ = writeln!(
        out,
        "{} · {} · {:.1} s{}",
        summary.scenario,
        summary.run_id,
        summary.elapsed_seconds,
        if summary.partial {
            " · PARTIAL (stopped early)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "target       {}", summary.target);
    let _ = write!(
        out,
        "invocations  {} scheduled · {} ok · {} errors",
        counts.scheduled, counts.ok, counts.errors
    );
    if counts.not_sent > 0 {
        let _ = write!(out, " · {} not sent", counts.not_sent);
    }
    let _ = writeln!(out, " · {:.1}/s", summary.throughput_per_second);
    if !counts.errors_by_kind.is_empty() {
        let kinds: Vec<String> = counts
            .errors_by_kind
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        let _ = writeln!(out, "errors       {}", kinds.join(" · "));
    }

    let _ = writeln!(
        out,
        "\nlatency, ms (from scheduled send; successful invocations)\n  {:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "start", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    for (kind, p) in summary.latency_us.iter().filter(|(k, _)| *k != ALL) {
        percentile_row(&mut out, kind, p);
    }
    if let Some(all) = summary.latency_us.get(ALL) {
        percentile_row(&mut out, ALL, all);
    }

    let _ = writeln!(
        out,
        "\ncold starts  {} ({:.2}% of successful invocations)",
        summary.cold_starts.count,
        summary.cold_starts.rate * 100.0
    );
    if let Some(lag) = &summary.send_lag_us {
        let _ = writeln!(
            out,
            "send lag     p50 {} ms · p99 {} ms · max {} ms (load generator pacing error)",
            ms(lag.p50),
            ms(lag.p99),
            ms(lag.max)
        );
    }
    match &summary.cost {
        Some(cost) => {
            let _ = writeln!(
                out,
                "cost         ${:.4} per 1M invocations under {} (${:.4} requests + ${:.4} compute; {:.3} GB-s billed in this run)",
                cost.usd_per_million,
                cost.model,
                cost.requests_usd_per_million,
                cost.compute_usd_per_million,
                cost.gb_seconds
            );
        }
        None => {
            let _ = writeln!(
                out,
                "cost         unknown: the platform reported no billed durations"
            );
        }
    }

    let mut functions: Vec<_> = summary.functions.iter().collect();
    functions.sort_by_key(|f| std::cmp::Reverse(f.ok + f.errors));
    let _ = writeln!(
        out,
        "\n  {:<24} {:>8} {:>7} {:>6} {:>9} {:>9}",
        "function", "ok", "errors", "cold", "p50 ms", "p99 ms"
    );
    for function in functions.iter().take(FUNCTIONS_SHOWN) {
        let cold = function
            .starts
            .get(&loadgen::StartKind::Cold)
            .copied()
            .unwrap_or(0);
        let (p50, p99) = function
            .latency_us
            .map_or(("-".into(), "-".into()), |p| (ms(p.p50), ms(p.p99)));
        let _ = writeln!(
            out,
            "  {:<24} {:>8} {:>7} {:>6} {:>9} {:>9}",
            function.name, function.ok, function.errors, cold, p50, p99
        );
    }
    if functions.len() > FUNCTIONS_SHOWN {
        let _ = writeln!(
            out,
            "  … and {} more in summary.json",
            functions.len() - FUNCTIONS_SHOWN
        );
    }
    for warning in &summary.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// Renders runs of the same scenario side by side, one row per named configuration.
pub fn render_comparison(runs: &[(String, Summary)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<20} {:>9} {:>7} {:>9} {:>9} {:>9} {:>7} {:>9} {:>12}",
        "configuration",
        "ok",
        "errors",
        "p50 ms",
        "p99 ms",
        "max ms",
        "cold",
        "snapshot",
        "$ per 1M"
    );
    for (name, summary) in runs {
        let all = summary.latency_us.get(ALL);
        let figure = |pick: fn(&Percentiles) -> u64| all.map_or("-".to_owned(), |p| ms(pick(p)));
        let snapshot = summary.latency_us.get("snapshot").map_or(0, |p| p.count);
        let cost = summary.cost.as_ref().map_or("-".to_owned(), |cost| {
            format!("{:.4}", cost.usd_per_million)
        });
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>7} {:>9} {:>9} {:>9} {:>7} {:>9} {:>12}",
            name,
            summary.invocations.ok,
            summary.invocations.errors,
            figure(|p| p.p50),
            figure(|p| p.p99),
            figure(|p| p.max),
            summary.cold_starts.count,
            snapshot,
            cost
        );
    }
    out
}
