//! `report.html`: the run on one self-contained page — header, summary, plots, the busiest
//! functions and the warnings. Inline CSS and inline SVG only: no script, no web font,
//! nothing from the network, so it opens offline and can be mailed as one file. Every string
//! that comes from the user (names, target, warnings) is escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use loadgen::StartKind;

use super::Exporter;
use crate::plot::{Plot, Run, cost, style};
use crate::report::Report;
use crate::summary::{ALL, FunctionSummary, Percentiles, Summary};

/// Rows of the functions table; the rest are left to `functions.csv`.
const FUNCTIONS_SHOWN: usize = 20;
/// Warnings shown open; the rest fold into a `<details>`.
const WARNINGS_SHOWN: usize = 10;

/// `report.html`.
pub struct Html;

impl Exporter for Html {
    fn file_name(&self) -> String {
        crate::REPORT_HTML.into()
    }

    fn export(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(report)?.as_bytes())
    }
}

/// The page of one run.
fn render(report: &Report) -> io::Result<String> {
    let summary = &report.summary;
    let mut page = String::new();
    head(
        &mut page,
        &format!("{} · {}", summary.scenario, summary.run_id),
    );
    page.push_str("<main>\n");
    run_header(&mut page, report, true);
    kpis(&mut page, summary);
    page.push_str("<section>\n<h2>Summary</h2>\n");
    summary_tables(&mut page, report);
    page.push_str("</section>\n");
    cost_table(&mut page, summary);
    plots(&mut page, &[("", report)])?;
    functions_table(&mut page, summary);
    warnings(&mut page, &summary.warnings);
    footer(&mut page, report);
    page.push_str("</main>\n</body>\n</html>\n");
    Ok(page)
}

/// `text` escaped for HTML text and attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn ms_f(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

pub(super) fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// `1234567` as `1,234,567`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seconds(s: f64) -> String {
    format!("{s:.1} s")
}

pub(super) fn usd(value: f64) -> String {
    format!("${value:.4}")
}

pub(super) fn head(page: &mut String, title: &str) {
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>{}</title>\n<style>\n:root {{\n",
        esc(title)
    );
    for kind in StartKind::ALL {
        let _ = writeln!(
            page,
            "  --{}: {};",
            kind.as_str(),
            style::hex(style::start_kind_colour(kind))
        );
    }
    page.push_str("}\n");
    page.push_str(CSS);
    page.push_str("</style>\n</head>\n<body>\n");
}

/// The page's style, inlined.
const CSS: &str = include_str!("../../assets/report.css");

/// The run's identity and setting, under the scenario's name as the page's title when
/// `titled`.
pub(super) fn run_header(page: &mut String, report: &Report, titled: bool) {
    let summary = &report.summary;
    let configuration = &report.configuration;
    page.push_str("<header class=\"run\">\n");
    if titled {
        let _ = writeln!(
            page,
            "<p class=\"eyebrow\">faasbench report</p>\n<h1>{}</h1>",
            esc(&summary.scenario)
        );
    }
    let _ = writeln!(page, "<p class=\"run-id\">{}</p>", esc(&summary.run_id));
    if summary.partial {
        let _ = writeln!(
            page,
            "<div class=\"flag partial\">Partial run <span>— stopped before the end of its schedule: {} of {} replayed. Figures describe the part that ran.</span></div>",
            seconds(summary.replayed_seconds),
            seconds(summary.planned_seconds)
        );
    }
    if let Some(rate) = &summary.rate {
        if rate.held {
            let _ = writeln!(
                page,
                "<div class=\"flag held\">Rate held: {:.1}/s requested, {:.1}/s issued.</div>",
                rate.requested_per_second, rate.issued_per_second
            );
        } else {
            let _ = writeln!(
                page,
                "<div class=\"flag behind\">Rate not held <span>— {} of the due invocations were dropped or late (more than the {} tolerated): {:.1}/s requested, {:.1}/s issued. The platform saw a lighter load than requested.</span></div>",
                percent(rate.behind_share),
                percent(rate.tolerance),
                rate.requested_per_second,
                rate.issued_per_second
            );
        }
    }
    page.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: String| {
        let _ = writeln!(page, "<dt>{name}</dt><dd>{value}</dd>");
    };
    fact("target", format!("<code>{}</code>", esc(&summary.target)));
    let mut setting = Vec::new();
    if let Some(name) = &configuration.name {
        setting.push(format!("<strong>{}</strong>", esc(name)));
    }
    if let Some(file) = &configuration.scenario_file {
        setting.push(format!("<code>{}</code>", esc(file)));
    }
    for (key, value) in configuration
        .platform
        .iter()
        .chain(&configuration.overrides)
    {
        setting.push(format!("{} = {}", esc(key), esc(value)));
    }
    if !setting.is_empty() {
        fact("configuration", setting.join(" · "));
    }
    fact("load", esc(&describe_load(summary)));
    if let Some(platform) = &report.platform {
        fact(
            "platform",
            format!(
                "keep-alive {} · capacity {} MiB",
                esc(&platform.policy),
                count(platform.capacity_mb)
            ),
        );
    }
    fact("machine", esc(&describe_machine(report)));
    fact(
        "seed",
        configuration
            .seed
            .map_or("none".to_owned(), |seed| seed.to_string()),
    );
    fact("started", esc(&summary.started_at));
    fact(
        "duration",
        format!(
            "{} planned · {} replayed · {} elapsed",
            seconds(summary.planned_seconds),
            seconds(summary.replayed_seconds),
            seconds(summary.elapsed_seconds)
        ),
    );
    page.push_str("</dl>\n</header>\n");
}

fn describe_load(summary: &Summary) -> String {
    let load = &summary.load;
    let mut parts = vec![match load.mode.as_str() {
        "open" => "open loop".to_owned(),
        "closed" => format!(
            "closed loop, {} users, think time {} ms",
            load.users.unwrap_or(0),
            load.think_time_ms.unwrap_or(0.0)
        ),
        mode => format!("{mode}, {} in flight", load.users.unwrap_or(0)),
    }];
    parts.push(load.protocol.clone());
    if let Some(bound) = load.max_in_flight {
        parts.push(format!("at most {bound} in flight"));
    }
    parts.push(format!(
        "{} connections opened, {} open at most",
        load.connections_opened, load.connections_peak
    ));
    parts.join(" · ")
}

fn describe_machine(report: &Report) -> String {
    let machine = &report.machine;
    let mut parts = vec![format!("{} cores", machine.cores)];
    parts.extend(machine.cpu.clone());
    if let Some(mb) = machine.memory_mb {
        parts.push(format!("{} GiB", one_decimal(mb as f64 / 1024.0)));
    }
    parts.push(machine.os.clone());
    if let Some(kernel) = &machine.kernel {
        parts.push(format!("kernel {kernel}"));
    }
    parts.push(format!(
        "faasbench {} ({})",
        machine.faasbench_version, machine.build_profile
    ));
    parts.join(" · ")
}

fn one_decimal(value: f64) -> String {
    format!("{value:.1}").trim_end_matches(".0").to_owned()
}

fn kpis(page: &mut String, summary: &Summary) {
    let counts = &summary.invocations;
    page.push_str("<div class=\"kpis\">\n");
    let mut card = |label: &str, value: String, detail: String| {
        let _ = writeln!(
            page,
            "<div class=\"kpi\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div><div class=\"detail\">{detail}</div></div>"
        );
    };
    card(
        "invocations",
        count(counts.scheduled),
        format!(
            "{} ok · {} errors · {} dropped",
            count(counts.ok),
            count(counts.errors),
            count(counts.dropped)
        ),
    );
    card(
        "throughput",
        format!("{:.1}/s", summary.throughput_per_second),
        "finished per second".to_owned(),
    );
    let (p50, p99) = summary
        .latency_us
        .get(ALL)
        .map_or(("-".to_owned(), "-".to_owned()), |p| (ms(p.p50), ms(p.p99)));
    card("p99 latency", format!("{p99} ms"), format!("p50 {p50} ms"));
    let cold = &summary.cold_starts;
    card(
        "cold starts",
        count(cold.count),
        format!(
            "{} of ok · {} cold, {} snapshot",
            percent(cold.rate),
            count(cold.cold),
            count(cold.snapshot)
        ),
    );
    let (value, detail) = match cost::of_run(summary) {
        Some((model, usd_per_million)) => {
            (usd(usd_per_million), format!("per 1M · {}", esc(model)))
        }
        None => ("unknown".to_owned(), "no billed durations".to_owned()),
    };
    card("cost", value, detail);
    page.push_str("</div>\n");
}

fn latency_row(page: &mut String, kind: &str, p: &Percentiles) {
    let class = if kind == ALL { " class=\"total\"" } else { "" };
    let _ = writeln!(
        page,
        "<tr{class}><td><span class=\"kind {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(kind),
        esc(kind),
        count(p.count),
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p99_9),
        ms(p.max)
    );
}

pub(super) fn summary_tables(page: &mut String, report: &Report) {
    let summary = &report.summary;
    let counts = &summary.invocations;
    let measured_from = if summary.load.mode == "open" {
        "from the scheduled send"
    } else {
        "from the actual send (closed loop)"
    };
    let _ = writeln!(
        page,
        "<div class=\"scroll\"><table>\n<thead><tr><th>start kind</th><th>count</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr></thead>\n<tbody>"
    );
    for (kind, p) in summary.latency_us.iter().filter(|(k, _)| *k != ALL) {
        latency_row(page, kind, p);
    }
    if let Some(all) = summary.latency_us.get(ALL) {
        latency_row(page, ALL, all);
    }
    if let Some(due) = &summary.latency_all_scheduled_us
        && due.failed > 0
    {
        let beyond = format!("&gt; {}", ms_f(due.timeout_ms * 1000.0));
        let cell = |value: Option<u64>| value.map_or(beyond.clone(), ms);
        let _ = writeln!(
            page,
            "<tr class=\"due\"><td>all due</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            count(due.count),
            cell(due.p50),
            cell(due.p90),
            cell(due.p99),
            cell(due.p99_9),
            cell(due.max)
        );
    }
    page.push_str("</tbody>\n</table></div>\n");
    let mut note = format!("Latency of successful invocations, {measured_from}.");
    if let Some(due) = &summary.latency_all_scheduled_us
        && due.failed > 0
    {
        let _ = write!(
            note,
            " <em>All due</em> counts the {} failed, timed-out or dropped invocations as slower than any success.",
            count(due.failed)
        );
    }
    let _ = writeln!(page, "<p class=\"note\">{note}</p>");

    page.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: String| {
        let _ = writeln!(page, "<dt>{name}</dt><dd>{value}</dd>");
    };
    let mut invocations = format!(
        "{} scheduled · {} ok · {} errors · {} dropped",
        count(counts.scheduled),
        count(counts.ok),
        count(counts.errors),
        count(counts.dropped)
    );
    if counts.not_sent > 0 {
        let _ = write!(invocations, " · {} not sent", count(counts.not_sent));
    }
    fact("invocations", invocations);
    if !counts.errors_by_kind.is_empty() {
        let kinds: Vec<String> = counts
            .errors_by_kind
            .iter()
            .map(|(kind, n)| format!("{} {}", esc(kind), count(*n)))
            .collect();
        fact("errors", kinds.join(" · "));
    }
    let cold = &summary.cold_starts;
    fact(
        "cold starts",
        format!(
            "{} ({} of successful invocations): {} cold, {} restored from a snapshot",
            count(cold.count),
            percent(cold.rate),
            count(cold.cold),
            count(cold.snapshot)
        ),
    );
    let delayed = &summary.delayed_by_start;
    fact(
        "delayed by a start",
        if delayed.unknown > 0 {
            format!(
                "at least {} ({}); {} not reported by the platform",
                count(delayed.count),
                percent(delayed.rate),
                count(delayed.unknown)
            )
        } else {
            format!(
                "{} ({}): their own start or one they waited for",
                count(delayed.count),
                percent(delayed.rate)
            )
        },
    );
    fact(
        "cost",
        match cost::of_run(summary) {
            Some((model, usd_per_million)) => format!(
                "{} per 1M invocations under <code>{}</code>",
                usd(usd_per_million),
                esc(model)
            ),
            None => "unknown: the platform reported no billed durations".to_owned(),
        },
    );
    fact(
        "idle memory-time",
        match &summary.platform {
            Some(platform) => format!(
                "{} MiB·s held by idle warm instances on the keep-alive clock, trace time when compressed (provider side, keep-alive {})",
                count(platform.idle_memory_mb_seconds.round() as u64),
                esc(&platform.policy)
            ),
            None => "unknown: the platform reports no memory-time".to_owned(),
        },
    );
    page.push_str("</dl>\n");
}

/// What a plot shows; `several` when it draws several configurations.
fn caption(plot: Plot, several: bool) -> &'static str {
    match (plot, several) {
        (Plot::LatencyOverTime, false) => {
            "p50, p99 and max latency of each second's successful invocations; triangles mark seconds with cold starts."
        }
        (Plot::LatencyOverTime, true) => {
            "p99 latency of each second's successful invocations, per configuration; triangles mark seconds with cold starts."
        }
        (Plot::PercentileSpectrum, false) => {
            "Latency at each percentile, by how the serving instance was started; each further nine gets as much room."
        }
        (Plot::PercentileSpectrum, true) => {
            "Latency at each percentile, per configuration; each further nine gets as much room."
        }
        (Plot::Throughput, _) => {
            "Invocations that finished successfully, failed, or were dropped, per second."
        }
        (Plot::Composition, _) => {
            "Mean latency split into send lag, queue, instance start (init), execution and the remainder."
        }
        (Plot::ColdStartsByFunction, _) => {
            "Share of each function's successful invocations served by a new instance, cold or restored."
        }
        (Plot::CostByFunction, _) => "Cost per one million invocations like each function's.",
    }
}

pub(super) fn figure(page: &mut String, plot: Plot, runs: &[Run<'_>]) -> io::Result<()> {
    let figure = plot.render(runs)?;
    let _ = writeln!(page, "<figure id=\"{}\">", plot.name());
    page.push_str("<div class=\"plot\">\n");
    page.push_str(figure.svg.trim_end());
    page.push_str("\n</div>\n");
    match &figure.no_data {
        Some(why) => {
            let _ = writeln!(
                page,
                "<figcaption class=\"empty\">No data: {}.</figcaption>",
                esc(why)
            );
        }
        None => {
            let _ = writeln!(
                page,
                "<figcaption>{}</figcaption>",
                caption(plot, runs.len() > 1)
            );
        }
    }
    page.push_str("</figure>\n");
    Ok(())
}

pub(super) fn plots(page: &mut String, runs: &[Run<'_>]) -> io::Result<()> {
    page.push_str("<section>\n<h2>Plots</h2>\n<div class=\"plots\">\n");
    for plot in Plot::ALL {
        figure(page, plot, runs)?;
    }
    page.push_str("</div>\n</section>\n");
    Ok(())
}

/// The functions by invocations, most first, ties by name.
fn busiest(summary: &Summary) -> Vec<&FunctionSummary> {
    let mut functions: Vec<&FunctionSummary> = summary.functions.iter().collect();
    functions.sort_by(|a, b| {
        let invocations = |f: &FunctionSummary| f.figures.ok + f.figures.errors + f.figures.dropped;
        invocations(b)
            .cmp(&invocations(a))
            .then_with(|| a.name.cmp(&b.name))
    });
    functions
}

/// Cost per 1M invocations under every entry of the price catalog, split by start kind.
fn cost_table(page: &mut String, summary: &Summary) {
    let _ = writeln!(
        page,
        "<section>\n<h2>Cost under every price list</h2>\n<p class=\"note\">USD per 1M invocations like these (catalog {}, first price tier, no free tier); rounding and minimums applied to each invocation. <em>starts</em> is what instance starts added to the bill.</p>",
        esc(&summary.pricing.catalog_version)
    );
    if summary.costs.is_empty() {
        page.push_str("<p class=\"note\">Unknown: the platform reported no billed durations.</p>\n</section>\n");
        return;
    }
    let kinds: Vec<&String> = {
        let mut kinds: Vec<&String> = summary
            .costs
            .iter()
            .flat_map(|cost| cost.by_start_kind.keys())
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    };
    page.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>price list</th><th>total</th><th>requests</th><th>compute</th><th>starts</th>");
    for kind in &kinds {
        let _ = write!(page, "<th>{}</th>", esc(kind));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for cost in &summary.costs {
        let chosen = if cost.entry == summary.pricing.chosen {
            " class=\"chosen\""
        } else {
            ""
        };
        let _ = write!(
            page,
            "<tr{chosen}><td class=\"entry\"><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&cost.entry),
            usd(cost.usd_per_million),
            usd(cost.requests_usd_per_million),
            usd(cost.compute_usd_per_million),
            usd(cost.start_usd_per_million)
        );
        for kind in &kinds {
            let cell = cost
                .by_start_kind
                .get(*kind)
                .map_or("-".to_owned(), |v| usd(*v));
            let _ = write!(page, "<td>{cell}</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div>\n");
    let notes: Vec<String> = summary
        .costs
        .iter()
        .flat_map(|cost| {
            cost.notes.iter().map(move |note| {
                format!("<li><code>{}</code>: {}</li>", esc(&cost.entry), esc(note))
            })
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(page, "<ul class=\"notes\">\n{}\n</ul>", notes.join("\n"));
    }
    page.push_str("</section>\n");
}

fn functions_table(page: &mut String, summary: &Summary) {
    let functions = busiest(summary);
    page.push_str("<section>\n<h2>Functions</h2>\n");
    if functions.is_empty() {
        page.push_str("<p class=\"note\">No functions.</p>\n</section>\n");
        return;
    }
    page.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>function</th><th>ok</th><th>errors</th><th>dropped</th><th>cold starts</th><th>cold / snapshot</th><th>p50 ms</th><th>p99 ms</th><th>$ per 1M</th><th>idle MiB·s</th></tr></thead>\n<tbody>\n");
    for function in functions.iter().take(FUNCTIONS_SHOWN) {
        let figures = &function.figures;
        let (p50, p99) = figures
            .latency_us
            .get(ALL)
            .map_or(("-".to_owned(), "-".to_owned()), |p| (ms(p.p50), ms(p.p99)));
        let name = esc(&function.name);
        let trace = function
            .trace_id
            .as_ref()
            .map_or(String::new(), |id| format!(" <code>{}</code>", esc(id)));
        let starts = &figures.cold_starts;
        let _ = writeln!(
            page,
            "<tr><td class=\"name\" title=\"{name}\">{name}{trace}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} / {}</td><td>{p50}</td><td>{p99}</td><td>{}</td><td>{}</td></tr>",
            count(figures.ok),
            count(figures.errors),
            count(figures.dropped),
            count(starts.count),
            percent(starts.rate),
            count(starts.cold),
            count(starts.snapshot),
            cost::of_function(function).map_or("-".to_owned(), usd),
            function
                .idle_memory_mb_seconds
                .map_or("-".to_owned(), |mbs| count(mbs.round() as u64)),
        );
    }
    page.push_str("</tbody>\n</table></div>\n");
    if functions.len() > FUNCTIONS_SHOWN {
        let _ = writeln!(
            page,
            "<p class=\"note\">The {} busiest of {} functions; the other {} are in <code>functions.csv</code>.</p>",
            FUNCTIONS_SHOWN,
            count(functions.len() as u64),
            count((functions.len() - FUNCTIONS_SHOWN) as u64)
        );
    }
    page.push_str("</section>\n");
}

pub(super) fn warnings(page: &mut String, warnings: &[String]) {
    page.push_str("<section>\n<h2>Warnings</h2>\n");
    if warnings.is_empty() {
        page.push_str("<p class=\"note\">None.</p>\n</section>\n");
        return;
    }
    let list = |page: &mut String, items: &[String]| {
        page.push_str("<ul class=\"warnings\">\n");
        for warning in items {
            let _ = writeln!(page, "<li>{}</li>", esc(warning));
        }
        page.push_str("</ul>\n");
    };
    let shown = warnings.len().min(WARNINGS_SHOWN);
    list(page, &warnings[..shown]);
    if warnings.len() > shown {
        let _ = writeln!(
            page,
            "<details><summary>{} more warnings</summary>",
            warnings.len() - shown
        );
        list(page, &warnings[shown..]);
        page.push_str("</details>\n");
    }
    page.push_str("</section>\n");
}

pub(super) fn footer(page: &mut String, report: &Report) {
    let _ = writeln!(
        page,
        "<footer>faasbench {} · plots also as SVG under <code>plots/</code>, every figure in <code>summary.json</code></footer>",
        esc(&report.machine.faasbench_version)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::render_comparison_html;
    use crate::fixture::{assert_golden, recorded_run};

    #[test]
    fn the_recorded_run_matches_its_golden_file() {
        let page = render(&recorded_run()).unwrap();
        assert_golden("report.html", page.as_bytes());
    }

    #[test]
    fn two_renders_are_the_same_bytes() {
        assert_eq!(
            render(&recorded_run()).unwrap(),
            render(&recorded_run()).unwrap()
        );
    }

    #[test]
    fn the_page_needs_nothing_from_the_network() {
        let page = render(&recorded_run()).unwrap();
        for forbidden in ["<script", "<img", "<link", "@import", "url(", "src="] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
        for plot in Plot::ALL {
            assert!(page.contains(&format!("<figure id=\"{}\">", plot.name())));
        }
        assert_eq!(page.matches("<svg ").count(), Plot::ALL.len());
    }

    #[test]
    fn user_strings_are_escaped() {
        let mut report = recorded_run();
        let evil = "<script>alert('x')</script>&\"";
        report.summary.functions[0].name = evil.to_owned();
        report.run.functions[0] = evil.to_owned();
        report.summary.scenario = evil.to_owned();
        report.summary.target = format!("http://{evil}");
        report.summary.warnings.push(evil.to_owned());
        report.configuration.name = Some(evil.to_owned());
        report
            .configuration
            .platform
            .insert(evil.to_owned(), evil.to_owned());
        let page = render(&report).unwrap();
        assert!(!page.contains("<script"), "an unescaped name");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
        let mut comparison = Vec::new();
        render_comparison_html(&[(evil.to_owned(), report)], &mut comparison).unwrap();
        assert!(!String::from_utf8(comparison).unwrap().contains("<script"));
    }

    #[test]
    fn a_partial_run_and_a_rate_not_held_are_flagged() {
        let mut report = recorded_run();
        report.summary.partial = true;
        if let Some(rate) = &mut report.summary.rate {
            rate.held = false;
        }
        let page = render(&report).unwrap();
        assert!(page.contains("class=\"flag partial\""));
        assert!(page.contains("class=\"flag behind\""));
        assert!(!render(&recorded_run()).unwrap().contains("flag partial"));
    }

    #[test]
    fn empty_plots_say_why() {
        let mut report = recorded_run();
        report.summary.costs.clear();
        for function in &mut report.summary.functions {
            function.usd_per_million = None;
        }
        report.summary.platform = None;
        let page = render(&report).unwrap();
        assert!(page.contains("No data: the platform reported no billed durations."));
        assert!(page.contains("unknown: the platform reports no memory-time"));
    }

    #[test]
    fn long_lists_fold() {
        let mut report = recorded_run();
        report.summary.warnings = (0..25).map(|i| format!("warning {i}")).collect();
        let page = render(&report).unwrap();
        assert!(page.contains("<details><summary>15 more warnings</summary>"));
    }

    #[test]
    fn the_comparison_lays_configurations_side_by_side() {
        let runs: Vec<(String, Report)> = ["baseline", "snapshots-off"]
            .into_iter()
            .map(|name| {
                let mut report = recorded_run();
                report.configuration.name = Some(name.to_owned());
                (name.to_owned(), report)
            })
            .collect();
        let mut out = Vec::new();
        render_comparison_html(&runs, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert_eq!(page.matches("<article class=\"configuration\">").count(), 2);
        assert!(page.contains("class=\"side-by-side\""));
        assert!(!page.contains("<script"));
        assert_golden("comparison.html", page.as_bytes());
    }

    /// A one-hour run of 1,000 functions: 20 invocations each, the first of each cold.
    fn thousand_functions() -> Report {
        use loadgen::{Outcome, PlatformMetering, Recorder};
        use scenarios::{FunctionId, Invocation, Trigger};

        let mut report = recorded_run();
        let functions = 1_000u32;
        let mut recorder = Recorder::new(functions as usize);
        for i in 0..20 * u64::from(functions) {
            let function = (i % u64::from(functions)) as u32;
            let cold = i < u64::from(functions);
            let exec_us = 1_000 + u64::from(function) * 37 + i % 11 * 100;
            let init_us = if cold { 150_000 } else { 0 };
            recorder.record(&Outcome {
                invocation: Invocation {
                    at_us: i * 180_000,
                    function: FunctionId(function),
                    trigger: Trigger::Http,
                    duration_us: None,
                    memory_mb: 256,
                },
                latency_us: init_us + exec_us + 300,
                service_us: init_us + exec_us + 250,
                send_lag_us: Some(50),
                result: Ok(()),
                start: if cold {
                    StartKind::Cold
                } else {
                    StartKind::Warm
                },
                inferred: false,
                metering: PlatformMetering {
                    init_us: Some(init_us),
                    queue_us: Some(20),
                    exec_us: Some(exec_us),
                    billed_ms: Some((init_us + exec_us).div_ceil(1000)),
                    memory_mb: Some(256),
                    instance: Some(u64::from(function)),
                    delayed_by_start: Some(cold),
                },
            });
        }
        report.run.recorder = recorder;
        report.run.functions = (0..functions).map(|f| format!("function-{f:04}")).collect();
        report.run.trace_ids = vec![None; functions as usize];
        report.intervals = (0..3_600)
            .map(|second| crate::IntervalRow {
                second,
                ok: 5 + second % 3,
                errors: 0,
                dropped: 0,
                cold_starts: u64::from(second < 180),
                p50_us: Some(2_000),
                p99_us: Some(if second < 180 { 160_000 } else { 3_000 }),
                max_us: Some(if second < 180 { 170_000 } else { 3_500 }),
            })
            .collect();
        report.platform = None;
        report.summary = Summary::from_run(
            &report.run,
            "thousand-20261118T110640Z",
            &crate::Pricing::default(),
            None,
        );
        report
    }

    #[test]
    fn a_thousand_function_report_stays_small() {
        let page = render(&thousand_functions()).unwrap();
        assert!(page.len() < 2_000_000, "{} bytes", page.len());
        assert_eq!(page.matches("<td class=\"name\"").count(), FUNCTIONS_SHOWN);
        assert!(page.contains("the other 980 are in <code>functions.csv</code>"));
        assert!(page.contains("(top 20 of 1000)"));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
