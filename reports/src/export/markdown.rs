//! `report.md`: the summary as GitHub-flavoured Markdown, short enough for a pull-request
//! comment. The busiest functions are listed; every function is in `functions.csv`.
//!
//! Names come from users (scenario, functions, the target's URL), so every piece of text
//! from the run goes through [`escape`]. Prices are written `USD`, never `$`: GitHub reads
//! text between two dollar signs as maths.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use loadgen::LatencyComponent;

use super::Exporter;
use crate::report::{Machine, Report};
use crate::summary::{ALL, AllScheduled, CompositionSummary, Percentiles, Summary};

/// Functions listed; the busiest come first.
const FUNCTIONS_SHOWN: usize = 10;

/// `report.md`.
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> String {
        "report.md".into()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(report).as_bytes())
    }
}

/// The whole document.
fn render(report: &Report) -> String {
    let summary = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## faasbench · {} · {} · {}\n\n{} · {:.1} s",
        escape(&summary.scenario),
        escape(&summary.run_id),
        escape(&summary.target),
        escape(&describe_load(summary)),
        summary.elapsed_seconds
    );
    if let Some(flags) = flags(summary) {
        let _ = writeln!(out, "\n> {flags}");
    }
    invocations(&mut out, summary);
    latency_table(&mut out, summary);
    starts(&mut out, summary);
    composition_table(&mut out, &summary.composition_us);
    let _ = writeln!(out, "\n**Cost** {}  ", cost(summary));
    cost_table(&mut out, summary);
    let _ = writeln!(out, "**Idle memory-time** {}", idle_memory(summary));
    functions_table(&mut out, summary);
    if !summary.warnings.is_empty() {
        let _ = writeln!(out, "\n**Warnings**\n");
        for warning in &summary.warnings {
            let _ = writeln!(out, "- {}", escape(warning));
        }
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Machine and configuration</summary>\n\n{}  \n{}\n\n</details>",
        describe_machine(&report.machine),
        describe_configuration(report)
    );
    out
}

/// Backslash-escapes the characters that would start Markdown or HTML inside a line (a
/// table cell ends at `|`, `*` and `_` emphasise, `<` opens a tag, `$` opens maths on
/// GitHub) and folds line breaks into spaces, so that a name reads as the text it is.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&' | '$' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn describe_load(summary: &Summary) -> String {
    let load = &summary.load;
    let mode = match load.mode.as_str() {
        "open" => "open loop".to_owned(),
        "closed" => format!(
            "closed loop, {} users, think time {} ms",
            load.users.unwrap_or(0),
            load.think_time_ms.unwrap_or(0.0)
        ),
        _ => format!("max throughput, {} in flight", load.users.unwrap_or(0)),
    };
    format!("{mode} · {}", load.protocol)
}

/// The flags a reader must see before any figure, or `None` when the run is sound.
fn flags(summary: &Summary) -> Option<String> {
    let mut flags = Vec::new();
    if summary.partial {
        flags.push(format!(
            "**Partial run**: stopped after {:.1} s of the {:.1} s schedule.",
            summary.replayed_seconds, summary.planned_seconds
        ));
    }
    if let Some(rate) = summary.rate.as_ref().filter(|rate| !rate.held) {
        flags.push(format!(
            "**Rate not held**: {:.1} % behind, more than the {:.1} % tolerated; the platform saw a lighter load than requested.",
            rate.behind_share * 100.0,
            rate.tolerance * 100.0
        ));
    }
    (!flags.is_empty()).then(|| flags.join(" "))
}

fn invocations(out: &mut String, summary: &Summary) {
    let counts = &summary.invocations;
    let errors = if counts.errors_by_kind.is_empty() {
        String::new()
    } else {
        let kinds: Vec<String> = counts
            .errors_by_kind
            .iter()
            .map(|(kind, count)| format!("{} {count}", escape(kind)))
            .collect();
        format!(" ({})", kinds.join(", "))
    };
    let _ = writeln!(
        out,
        "\n**Invocations** {} scheduled · {} ok · {} errors{errors} · {} dropped · {} not sent · {:.1}/s",
        counts.scheduled,
        counts.ok,
        counts.errors,
        counts.dropped,
        counts.not_sent,
        summary.throughput_per_second
    );
}

fn percentile_row(out: &mut String, label: &str, p: &Percentiles) {
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {} | {} | {} | {} |",
        p.count,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p99_9),
        ms(p.max)
    );
}

/// Every due invocation, a failure slower than any success: a percentile among the
/// failures reads `> timeout`.
fn all_scheduled_row(out: &mut String, all: &AllScheduled) {
    let cell = |value: Option<u64>| value.map_or_else(|| "> timeout".to_owned(), ms);
    let _ = writeln!(
        out,
        "| all due | {} | {} | {} | {} | {} | {} |",
        all.count,
        cell(all.p50),
        cell(all.p90),
        cell(all.p99),
        cell(all.p99_9),
        cell(all.max)
    );
}

fn latency_table(out: &mut String, summary: &Summary) {
    let measured_from = if summary.load.mode == "open" {
        "from the scheduled send"
    } else {
        "closed loop: from the actual send"
    };
    let _ = writeln!(
        out,
        "\n**Latency**, ms ({measured_from}; successful invocations)\n\n| start | count | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (kind, p) in summary.latency_us.iter().filter(|(k, _)| *k != ALL) {
        percentile_row(out, &escape(kind), p);
    }
    if let Some(all) = summary.latency_us.get(ALL) {
        percentile_row(out, "**all**", all);
    }
    if let Some(all) = summary.latency_all_scheduled_us.as_ref()
        && all.failed > 0
    {
        all_scheduled_row(out, all);
        let _ = writeln!(
            out,
            "\nall due: the {} failed, timed-out or dropped invocations count as slower than any success (timeout {} ms).",
            all.failed, all.timeout_ms
        );
    }
}

fn starts(out: &mut String, summary: &Summary) {
    let cold = &summary.cold_starts;
    let delayed = &summary.delayed_by_start;
    let delayed = if delayed.unknown > 0 {
        format!(
            "at least {} ({:.2} %) delayed by a start; {} not reported",
            delayed.count,
            delayed.rate * 100.0,
            delayed.unknown
        )
    } else {
        format!(
            "{} ({:.2} %) delayed by a start, their own or one they waited for",
            delayed.count,
            delayed.rate * 100.0
        )
    };
    let _ = writeln!(
        out,
        "\n**Cold starts** {} ({:.2} %) — cold {}, snapshot {} · {delayed}",
        cold.count,
        cold.rate * 100.0,
        cold.cold,
        cold.snapshot
    );
}

/// Means per start kind, laid out as the sum they form; left out when the platform
/// reported no component.
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
        "\n**Where the time went**, mean ms: latency = send lag + queue + init + exec + remainder (network and platform overhead)\n\n| start | latency | send lag | queue | init | exec | remainder |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (kind, c) in composition {
        let mut row = format!("| {} | {:.3}", escape(kind), c.latency.mean / 1000.0);
        for part in LatencyComponent::ALL {
            match c.component(part) {
                Some(p) => {
                    let _ = write!(row, " | {:.3}", p.mean / 1000.0);
                }
                None => row.push_str(" | –"),
            }
        }
        let _ = writeln!(out, "{row} |");
    }
}

/// The run's cost under the chosen price, and the cheapest entry of the catalog.
fn cost(summary: &Summary) -> String {
    let Some(chosen) = summary.chosen_cost() else {
        return "unknown: the platform reported no billed durations".to_owned();
    };
    let mut line = format!(
        "{:.4} USD per 1M invocations under {} ({:.4} requests + {:.4} compute, of which {:.4} for instance starts)",
        chosen.usd_per_million,
        escape(&chosen.entry),
        chosen.requests_usd_per_million,
        chosen.compute_usd_per_million,
        chosen.start_usd_per_million,
    );
    if let Some(cheapest) = summary.cheapest_cost()
        && cheapest.entry != chosen.entry
    {
        line.push_str(&format!(
            "; cheapest: {:.4} USD under {}",
            cheapest.usd_per_million,
            escape(&cheapest.entry)
        ));
    }
    line
}

/// Cost per 1M invocations under every entry of the catalog, on one line.
fn cost_table(out: &mut String, summary: &Summary) {
    if summary.costs.is_empty() {
        return;
    }
    let entries: Vec<String> = summary
        .costs
        .iter()
        .map(|cost| format!("{} {:.4}", escape(&cost.entry), cost.usd_per_million))
        .collect();
    let _ = writeln!(
        out,
        "**USD per 1M under every price list** (catalog {}): {}  ",
        escape(&summary.pricing.catalog_version),
        entries.join(" · ")
    );
}

/// What keeping instances warm cost the provider.
fn idle_memory(summary: &Summary) -> String {
    match &summary.platform {
        Some(platform) => format!(
            "{:.1} MiB·s held by idle warm instances, on the keep-alive clock (keep-alive {})",
            platform.idle_memory_mb_seconds,
            escape(&platform.policy)
        ),
        None => "unknown: the platform reports none".to_owned(),
    }
}

fn functions_table(out: &mut String, summary: &Summary) {
    let mut functions: Vec<_> = summary.functions.iter().collect();
    functions
        .sort_by_key(|f| std::cmp::Reverse(f.figures.ok + f.figures.errors + f.figures.dropped));
    let _ = writeln!(
        out,
        "\n**Functions**, the {} busiest of {}; every function is in `functions.csv`\n\n| function | ok | errors | dropped | cold starts | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        functions.len().min(FUNCTIONS_SHOWN),
        functions.len()
    );
    for function in functions.iter().take(FUNCTIONS_SHOWN) {
        let figures = &function.figures;
        let (p50, p99) = figures
            .latency_us
            .get(ALL)
            .map_or(("–".into(), "–".into()), |p| (ms(p.p50), ms(p.p99)));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {p50} | {p99} |",
            escape(&function.name),
            figures.ok,
            figures.errors,
            figures.dropped,
            figures.cold_starts.count
        );
    }
}

fn describe_machine(machine: &Machine) -> String {
    let mut parts = vec![format!("{} cores", machine.cores)];
    if let Some(cpu) = &machine.cpu {
        parts.push(escape(cpu));
    }
    if let Some(memory_mb) = machine.memory_mb {
        parts.push(format!("{memory_mb} MiB"));
    }
    parts.push(escape(&machine.os));
    if let Some(kernel) = &machine.kernel {
        parts.push(format!("kernel {}", escape(kernel)));
    }
    parts.push(format!("{} build", escape(&machine.build_profile)));
    parts.push(format!("faasbench {}", escape(&machine.faasbench_version)));
    parts.join(" · ")
}

fn describe_configuration(report: &Report) -> String {
    let configuration = &report.configuration;
    let mut parts = Vec::new();
    if let Some(file) = &configuration.scenario_file {
        parts.push(escape(file));
    }
    if let Some(name) = &configuration.name {
        parts.push(format!("configuration {}", escape(name)));
    }
    if let Some(seed) = configuration.seed {
        parts.push(format!("seed {seed}"));
    }
    for (key, value) in configuration
        .platform
        .iter()
        .chain(&configuration.overrides)
    {
        parts.push(format!("{} {}", escape(key), escape(value)));
    }
    if parts.is_empty() {
        "no configuration recorded".to_owned()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{assert_golden, recorded_run};

    #[test]
    fn golden_file() {
        assert_golden("report.md", render(&recorded_run()).as_bytes());
    }

    #[test]
    fn names_read_as_text() {
        assert_eq!(escape("a|b"), r"a\|b");
        assert_eq!(escape("*bold* _it_ `code`"), r"\*bold\* \_it\_ \`code\`");
        assert_eq!(escape("<script>&amp;"), r"\<script\>\&amp;");
        assert_eq!(escape("[link](x) ![img](y)"), r"\[link\](x) \!\[img\](y)");
        assert_eq!(escape("$1 and $2"), r"\$1 and \$2");
        assert_eq!(escape("back\\slash"), r"back\\slash");
        assert_eq!(escape("two\nlines\r"), "two lines ");
        assert_eq!(escape("plain-name.v2"), "plain-name.v2");
    }

    #[test]
    fn a_function_name_cannot_break_the_table() {
        let mut report = recorded_run();
        report.summary.functions[0].name = "a | b\n| c".into();
        let text = render(&report);
        let row = text
            .lines()
            .find(|l| l.starts_with("| a "))
            .expect("the function's row");
        assert_eq!(row.matches(" | ").count(), 6, "{row}");
        assert!(row.starts_with(r"| a \| b \| c |"), "{row}");
    }

    #[test]
    fn flags_come_first_when_set() {
        let mut report = recorded_run();
        assert!(!render(&report).contains("> **"));
        report.summary.partial = true;
        if let Some(rate) = report.summary.rate.as_mut() {
            rate.held = false;
        }
        let text = render(&report);
        let flags = text.lines().find(|l| l.starts_with("> ")).unwrap();
        assert!(flags.contains("**Partial run**"), "{flags}");
        assert!(flags.contains("**Rate not held**"), "{flags}");
    }

    #[test]
    fn unknown_cost_and_idle_memory_say_so() {
        let mut report = recorded_run();
        report.summary.costs.clear();
        report.summary.platform = None;
        let text = render(&report);
        assert!(text.contains("**Cost** unknown"));
        assert!(text.contains("**Idle memory-time** unknown"));
    }

    #[test]
    fn fits_a_pull_request_comment() {
        let mut report = recorded_run();
        let template = report.summary.functions[0].clone();
        report.summary.functions = (0..500)
            .map(|i| crate::FunctionSummary {
                name: format!("f{i}"),
                ..template.clone()
            })
            .collect();
        report.summary.warnings = vec!["one".into(), "two".into()];
        let text = render(&report);
        assert!(text.lines().count() <= 65, "{}", text.lines().count());
        assert!(text.contains("the 10 busiest of 500"));
    }
}
