//! The summary as a table for the terminal.

use std::collections::BTreeMap;
use std::fmt::Write;

use loadgen::LatencyComponent;

use crate::summary::{
    ALL, AllScheduled, CompositionSummary, GroupSummary, LoadSummary, Percentiles, Summary,
};

/// Functions listed in the per-function table; the busiest come first.
const FUNCTIONS_SHOWN: usize = 10;

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

/// Milliseconds to about four significant digits, so a cell stays narrow from µs to s.
fn short_ms(us: f64) -> String {
    let ms = us / 1000.0;
    match ms.abs() {
        m if m < 10.0 => format!("{ms:.3}"),
        m if m < 100.0 => format!("{ms:.2}"),
        _ => format!("{ms:.1}"),
    }
}

/// `mean (p99)` in ms, or `-` when not measured.
fn mean_p99(p: Option<&Percentiles>) -> String {
    p.map_or("-".to_owned(), |p| {
        format!("{} ({})", short_ms(p.mean), short_ms(p.p99 as f64))
    })
}

/// Per start kind, the latency next to its components, laid out as the sum they form.
fn composition_table(out: &mut String, composition: &BTreeMap<String, CompositionSummary>) {
    let platform_reported = composition.values().any(|c| {
        [
            LatencyComponent::Queue,
            LatencyComponent::Init,
            LatencyComponent::Exec,
        ]
        .into_iter()
        .any(|part| c.component(part).is_some())
    });
    if !platform_reported {
        return;
    }
    let _ = writeln!(
        out,
        "\nwhere the time went, ms (mean, p99 in brackets; means add up, percentiles do not)\n  {:<10} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
        "start", "latency", "= send lag", "+ queue", "+ init", "+ exec", "+ remainder"
    );
    for (kind, c) in composition {
        let mut row = format!("  {kind:<10} {:>15}", mean_p99(Some(&c.latency)));
        for part in LatencyComponent::ALL {
            let _ = write!(row, " {:>15}", mean_p99(c.component(part)));
        }
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(
        out,
        "  remainder: service time less queue, init and exec (network and platform overhead)"
    );
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

/// The latency of every due invocation, a failure slower than any success: a percentile among
/// the failures reads `> <timeout>`.
fn all_scheduled_row(out: &mut String, all: &AllScheduled) {
    let beyond = format!(">{}", ms((all.timeout_ms * 1000.0) as u64));
    let cell = |value: Option<u64>| value.map_or(beyond.clone(), ms);
    let _ = writeln!(
        out,
        "  {:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n  (all due: the {} failed, timed-out or dropped count as slower than any success)",
        "all due",
        all.count,
        cell(all.p50),
        cell(all.p90),
        cell(all.p99),
        cell(all.p99_9),
        cell(all.max),
        all.failed
    );
}

fn group_row(out: &mut String, name: &str, group: &GroupSummary) {
    // New instances, cold or restored from a snapshot.
    let cold = group.cold_starts.count;
    let (p50, p99) = group
        .latency_us
        .get(ALL)
        .map_or(("-".into(), "-".into()), |p| (ms(p.p50), ms(p.p99)));
    let _ = writeln!(
        out,
        "  {:<24} {:>8} {:>7} {:>6} {:>9} {:>9}",
        name,
        group.ok,
        group.errors + group.dropped,
        cold,
        p50,
        p99
    );
}

/// The cost under the chosen price entry, and the cheapest entry of the catalog.
fn cost_line(out: &mut String, summary: &Summary) {
    let Some(cost) = summary.chosen_cost() else {
        let _ = writeln!(
            out,
            "cost         unknown: the platform reported no billed durations"
        );
        return;
    };
    let billed: Vec<String> = cost
        .billed
        .iter()
        .map(|(unit, quantity)| format!("{quantity:.3} {unit}"))
        .collect();
    let _ = writeln!(
        out,
        "cost         ${:.4} per 1M invocations under {} (${:.4} requests + ${:.4} compute; {} billed in this run; catalog {})",
        cost.usd_per_million,
        cost.entry,
        cost.requests_usd_per_million,
        cost.compute_usd_per_million,
        billed.join(" + "),
        summary.pricing.catalog_version
    );
    if let Some(cheapest) = summary.cheapest_cost()
        && cheapest.entry != cost.entry
    {
        let _ = writeln!(
            out,
            "             cheapest of {} price lists: ${:.4} per 1M under {}",
            summary.costs.len(),
            cheapest.usd_per_million,
            cheapest.entry
        );
    }
}

fn describe_load(load: &LoadSummary) -> String {
    let mut parts = vec![match load.mode.as_str() {
        "open" => "open loop".to_owned(),
        "closed" => format!(
            "closed loop · {} users · think time {} ms",
            load.users.unwrap_or(0),
            load.think_time_ms.unwrap_or(0.0)
        ),
        _ => format!("max throughput · {} in flight", load.users.unwrap_or(0)),
    }];
    parts.push(load.protocol.clone());
    if let Some(connections) = load.connections {
        parts.push(format!("at most {connections} connections"));
    }
    parts.push(format!(
        "{} connections opened, {} open at most",
        load.connections_opened, load.connections_peak
    ));
    if let Some(bound) = load.max_in_flight {
        parts.push(format!("at most {bound} in flight"));
    }
    parts.join(" · ")
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
    let _ = writeln!(out, "load         {}", describe_load(&summary.load));
    let _ = write!(
        out,
        "invocations  {} scheduled · {} ok · {} errors",
        counts.scheduled, counts.ok, counts.errors
    );
    if counts.dropped > 0 {
        let _ = write!(out, " · {} dropped", counts.dropped);
    }
    if counts.not_sent > 0 {
        let _ = write!(out, " · {} not sent", counts.not_sent);
    }
    let _ = writeln!(out, " · {:.1}/s", summary.throughput_per_second);
    if let Some(rate) = &summary.rate {
        let _ = writeln!(
            out,
            "rate         requested {:.1}/s · issued {:.1}/s · {} dropped · {} late (> {} ms) · {}",
            rate.requested_per_second,
            rate.issued_per_second,
            counts.dropped,
            rate.late,
            rate.late_after_ms,
            if rate.held {
                "held".to_owned()
            } else {
                format!(
                    "NOT HELD: {:.1}% behind, more than the {:.1}% tolerated; the platform saw a lighter load than requested",
                    rate.behind_share * 100.0,
                    rate.tolerance * 100.0
                )
            }
        );
    }
    if !counts.errors_by_kind.is_empty() {
        let kinds: Vec<String> = counts
            .errors_by_kind
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        let _ = writeln!(out, "errors       {}", kinds.join(" · "));
    }

    let measured_from = if summary.load.mode == "open" {
        "from scheduled send"
    } else {
        "closed loop: from actual send"
    };
    let _ = writeln!(
        out,
        "\nlatency, ms ({measured_from}; successful invocations)\n  {:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "start", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    for (kind, p) in summary.latency_us.iter().filter(|(k, _)| *k != ALL) {
        percentile_row(&mut out, kind, p);
    }
    if let Some(all) = summary.latency_us.get(ALL) {
        percentile_row(&mut out, ALL, all);
    }

    if let Some(all) = &summary.latency_all_scheduled_us
        && all.failed > 0
    {
        all_scheduled_row(&mut out, all);
    }

    composition_table(&mut out, &summary.composition_us);

    let delayed = &summary.delayed_by_start;
    let delayed = if delayed.unknown > 0 {
        // Only the invocations' own starts are known: a lower bound.
        format!(
            "at least {} delayed by a start ({:.2}%; {} not reported)",
            delayed.count,
            delayed.rate * 100.0,
            delayed.unknown
        )
    } else {
        format!(
            "{} delayed by a start ({:.2}%: their own or one they waited for)",
            delayed.count,
            delayed.rate * 100.0
        )
    };
    let cold = &summary.cold_starts;
    let _ = writeln!(
        out,
        "\ncold starts  {} ({:.2}% of successful invocations; new instances: {} cold, {} from a snapshot) · {delayed}",
        cold.count,
        cold.rate * 100.0,
        cold.cold,
        cold.snapshot,
    );
    match &summary.platform {
        Some(platform) => {
            let _ = writeln!(
                out,
                "idle memory  {:.1} MB·s held by idle warm instances, on the keep-alive clock (trace time when compressed): the provider's cost of keeping them (keep-alive {})",
                platform.idle_memory_mb_seconds, platform.policy
            );
        }
        None => {
            let _ = writeln!(
                out,
                "idle memory  unknown: the platform reports no stats of its own"
            );
        }
    }
    let sources = &summary.start_kinds;
    match &sources.rule {
        Some(rule) if sources.inferred > 0 => {
            let _ = writeln!(
                out,
                "start kinds  {} inferred ({rule}) · {} reported by the platform",
                sources.inferred, sources.reported
            );
        }
        _ if sources.unknown > 0 && sources.reported == 0 => {
            let _ = writeln!(
                out,
                "start kinds  unknown: the platform sent no x-faas-start; set [start_kind] to infer them"
            );
        }
        _ => {}
    }
    if let Some(pacing) = &summary.pacing
        && let Some(lag) = &pacing.dispatch_lag_us
    {
        let cpu = pacing.cpu_share.map_or(String::new(), |share| {
            format!(" · pacer CPU {:.0}% of a core", share * 100.0)
        });
        let _ = writeln!(
            out,
            "pacing       p50 {} ms · p99 {} ms · max {} ms{cpu}{} (dispatch lag: the load generator's own error)",
            ms(lag.p50),
            ms(lag.p99),
            ms(lag.max),
            if pacing.realtime { " · real-time" } else { "" }
        );
    }
    if let Some(lag) = &summary.send_lag_us {
        let _ = writeln!(
            out,
            "send lag     p50 {} ms · p99 {} ms · max {} ms (scheduled to actual send, including waits for a connection)",
            ms(lag.p50),
            ms(lag.p99),
            ms(lag.max)
        );
    }
    cost_line(&mut out, summary);

    if summary.triggers.len() > 1 {
        let _ = writeln!(
            out,
            "\n  {:<24} {:>8} {:>7} {:>6} {:>9} {:>9}",
            "trigger", "ok", "errors", "cold", "p50 ms", "p99 ms"
        );
        for (trigger, group) in &summary.triggers {
            group_row(&mut out, trigger, group);
        }
    }
    let mut functions: Vec<_> = summary.functions.iter().collect();
    functions.sort_by_key(|f| std::cmp::Reverse(f.figures.ok + f.figures.errors));
    let _ = writeln!(
        out,
        "\n  {:<24} {:>8} {:>7} {:>6} {:>9} {:>9}",
        "function", "ok", "errors", "cold", "p50 ms", "p99 ms"
    );
    for function in functions.iter().take(FUNCTIONS_SHOWN) {
        group_row(&mut out, &function.name, &function.figures);
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
        "  {:<20} {:>9} {:>7} {:>9} {:>9} {:>9} {:>11} {:>9} {:>12}",
        "configuration",
        "ok",
        "errors",
        "p50 ms",
        "p99 ms",
        "max ms",
        "cold starts",
        "snapshot",
        "$ per 1M"
    );
    for (name, summary) in runs {
        let all = summary.latency_us.get(ALL);
        let figure = |pick: fn(&Percentiles) -> u64| all.map_or("-".to_owned(), |p| ms(pick(p)));
        let cost = summary.chosen_cost().map_or("-".to_owned(), |cost| {
            format!("{:.4}", cost.usd_per_million)
        });
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>7} {:>9} {:>9} {:>9} {:>11} {:>9} {:>12}",
            name,
            summary.invocations.ok,
            summary.invocations.errors,
            figure(|p| p.p50),
            figure(|p| p.p99),
            figure(|p| p.max),
            summary.cold_starts.count,
            summary.cold_starts.snapshot,
            cost
        );
    }
    out
}
