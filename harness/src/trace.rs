//! `faasbench trace`: look into a trace, sample it, and write the schedule a scenario replays.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use scenarios::Scenario;
use scenarios::arrival::ScheduleRng;
use scenarios::sample::{self, SampleMethod};
use scenarios::trace::{self, TraceFiles};

use crate::progress::Spinner;

#[derive(Debug, clap::Subcommand)]
pub enum TraceCommand {
    /// Print a trace's figures: functions, invocations, rate per minute, burstiness (CV of
    /// inter-arrival times), durations, memory and triggers. Give all the trace's files (for
    /// Azure 2019: invocation files, durations and memory); their roles are told by their headers.
    Inspect {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a sample of a trace's functions into a directory, in the same layout and under
    /// the same file names, and print how close it is to the whole trace.
    Sample {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How many functions.
        #[arg(short = 'n', long)]
        functions: usize,
        /// top (most invoked), random, or representative (closest distributions of invocation
        /// counts and durations, by Wasserstein distance).
        #[arg(long, default_value = "representative", value_parser = parse_method)]
        method: SampleMethod,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Directory to write the sampled files into (created if missing).
        #[arg(short = 'o', long)]
        out: PathBuf,
    },
    /// Write the exact schedule a run of the scenario would replay, as CSV:
    /// time_us,function,trigger,duration_ms,memory_mb.
    Schedule {
        scenario: PathBuf,
        /// The CSV file to write.
        #[arg(short = 'o', long)]
        out: PathBuf,
        /// Schedule this long instead of the scenario's duration.
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
    },
}

fn parse_method(text: &str) -> Result<SampleMethod, String> {
    match text {
        "top" => Ok(SampleMethod::Top),
        "random" => Ok(SampleMethod::Random),
        "representative" => Ok(SampleMethod::Representative),
        other => Err(format!(
            "unknown method `{other}`; expected top, random or representative"
        )),
    }
}

pub fn trace(command: TraceCommand) -> anyhow::Result<ExitCode> {
    match command {
        TraceCommand::Inspect { files } => {
            let spinner = Spinner::start("reading the trace");
            let reader = trace::open(&TraceFiles::classify(&files)?)?;
            spinner.message("summing it up");
            let summary = trace::summarize(reader.as_ref())?;
            drop(spinner);
            print!("{summary}");
        }
        TraceCommand::Sample {
            files,
            functions,
            method,
            seed,
            out,
        } => {
            let spinner = Spinner::start("reading the trace");
            let reader = trace::open(&TraceFiles::classify(&files)?)?;
            let weights = reader.index().sample_weights();
            spinner.message("sampling");
            let sampled = sample::sample(
                &weights,
                functions,
                method,
                &mut ScheduleRng::seed_from_u64(seed),
            )
            .map_err(|message| anyhow::anyhow!("cannot sample: {message}"))?;
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            spinner.message("writing");
            let written = reader.write_subset(&sampled.chosen, &out)?;
            drop(spinner);
            let kept: u64 = sampled.chosen.iter().map(|&i| weights[i].invocations).sum();
            let total: u64 = weights.iter().map(|w| w.invocations).sum();
            println!(
                "sampled {} of {} functions ({}), {} of {} invocations ({:.1}%)",
                sampled.chosen.len(),
                weights.len(),
                method,
                kept,
                total,
                100.0 * kept as f64 / total.max(1) as f64
            );
            let durations = sampled
                .distance
                .durations
                .map_or("not in the trace".to_owned(), |d| format!("{d:.4}"));
            println!(
                "Wasserstein distance to the whole trace (log scale, 0 = identical, 1 = disjoint): invocations per function {:.4}, durations {durations}",
                sampled.distance.invocations
            );
            for file in written {
                println!("wrote {}", file.display());
            }
        }
        TraceCommand::Schedule {
            scenario,
            out,
            duration,
        } => {
            let spinner = Spinner::start("loading the scenario");
            let mut scenario = Scenario::load(&scenario)?;
            if let Some(duration) = duration {
                scenario = scenario.with_duration(duration).context("--duration")?;
            }
            spinner.message(format!("writing {}", out.display()));
            let file =
                File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let written = scenarios::write_schedule_csv(scenario.schedule(), BufWriter::new(file))
                .with_context(|| format!("cannot write {}", out.display()))?;
            drop(spinner);
            println!(
                "wrote {written} invocations of {} functions over {} to {}",
                scenario.functions.len(),
                humantime::format_duration(scenario.duration),
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
