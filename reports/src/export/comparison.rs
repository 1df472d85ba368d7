//! The page of a run of several `[[configurations]]`: the configurations compared in one
//! table, drawn into the same plots, and side by side.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::html::{
    count, esc, figure, footer, head, ms, percent, plots, run_header, summary_tables, usd, warnings,
};
use crate::plot::{Plot, Run, cost};
use crate::report::Report;
use crate::summary::{ALL, Percentiles};

/// Writes the page of a run with several `[[configurations]]`: a table comparing them, the
/// plots with every configuration drawn in, and the configurations side by side.
pub fn render_comparison_html(runs: &[(String, Report)], out: &mut dyn Write) -> io::Result<()> {
    let views: Vec<Run<'_>> = runs
        .iter()
        .map(|(label, report)| (label.as_str(), report))
        .collect();
    let scenario = runs
        .first()
        .map_or("", |(_, report)| report.summary.scenario.as_str());
    let mut page = String::new();
    head(
        &mut page,
        &format!("{scenario} · {} configurations", runs.len()),
    );
    page.push_str("<main class=\"wide\">\n<header class=\"run\">\n");
    let _ = writeln!(
        page,
        "<p class=\"eyebrow\">faasbench · comparison</p>\n<h1>{}</h1>\n<p class=\"run-id\">{} configurations of one scenario</p>\n</header>",
        esc(scenario),
        runs.len()
    );
    comparison_table(&mut page, runs);
    plots(&mut page, &views)?;
    page.push_str(
        "<section>\n<h2>Configurations side by side</h2>\n<div class=\"side-by-side\">\n",
    );
    for (label, report) in runs {
        page.push_str("<article class=\"configuration\">\n");
        let _ = writeln!(page, "<h3>{}</h3>", esc(label));
        run_header(&mut page, report, false);
        summary_tables(&mut page, report);
        for plot in Plot::ALL {
            figure(&mut page, plot, &[(label.as_str(), report)])?;
        }
        warnings(&mut page, &report.summary.warnings);
        page.push_str("</article>\n");
    }
    page.push_str("</div>\n</section>\n");
    if let Some((_, report)) = runs.first() {
        footer(&mut page, report);
    }
    page.push_str("</main>\n</body>\n</html>\n");
    out.write_all(page.as_bytes())
}

fn comparison_table(page: &mut String, runs: &[(String, Report)]) {
    page.push_str("<section>\n<h2>Configurations</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>configuration</th><th>ok</th><th>errors</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>cold starts</th><th>cold / snapshot</th><th>$ per 1M</th><th>idle MiB·s</th><th>rate</th></tr></thead>\n<tbody>\n");
    for (label, report) in runs {
        let summary = &report.summary;
        let all = summary.latency_us.get(ALL);
        let figure = |pick: fn(&Percentiles) -> u64| all.map_or("-".to_owned(), |p| ms(pick(p)));
        let cold = &summary.cold_starts;
        let rate = match (&summary.rate, summary.partial) {
            (_, true) => "partial".to_owned(),
            (Some(rate), _) if !rate.held => "not held".to_owned(),
            (Some(_), _) => "held".to_owned(),
            (None, _) => "-".to_owned(),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{rate}</td></tr>",
            esc(label),
            count(summary.invocations.ok),
            count(summary.invocations.errors),
            figure(|p| p.p50),
            figure(|p| p.p99),
            figure(|p| p.max),
            count(cold.count),
            percent(cold.rate),
            count(cold.cold),
            count(cold.snapshot),
            cost::of_run(summary).map_or("-".to_owned(), |(_, v)| usd(v)),
            summary
                .platform
                .as_ref()
                .map_or("unknown".to_owned(), |p| count(
                    p.idle_memory_mb_seconds.round() as u64
                )),
        );
    }
    page.push_str("</tbody>\n</table></div>\n</section>\n");
}
