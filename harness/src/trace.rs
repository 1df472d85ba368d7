//! `faasbench trace`: look into a trace, sample it, and write the schedule a scenario replays.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use scenarios::Scenario;
use scenarios::arrival::ScheduleRng;
use scenarios::output_file::OutputFile;
use scenarios::sample::{self, SampleMethod, Slice};
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
    /// the same file names, and print how close it is to the trace: the whole-trace distance
    /// (distributions of per-function invocations and durations, log scale, 0 to 1) and
    /// In-Vitro's per-minute distance over the replayed minutes (per-function counts, and
    /// count × duration × memory, in their own units).
    Sample {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How many functions.
        #[arg(short = 'n', long)]
        functions: usize,
        /// top (most invoked), random (uniform), representative (closest whole-trace
        /// distributions of invocation counts and durations on a log scale, by local search) or
        /// invitro (In-Vitro's sampler: best of 16 uniform draws by the per-minute distance).
        #[arg(long, default_value = "representative", value_parser = parse_method)]
        method: SampleMethod,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// First trace minute the sample is meant to replay, as a scenario's `trace.start_minute`.
        #[arg(long, default_value_t = 0)]
        start_minute: u32,
        /// Trace minutes replayed, as a scenario's `trace.minutes` [default: to the end].
        #[arg(long)]
        minutes: Option<u32>,
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
        "invitro" => Ok(SampleMethod::InVitro),
        other => Err(format!(
            "unknown method `{other}`; expected top, random, representative or invitro"
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
            start_minute,
            minutes,
            out,
        } => {
            let spinner = Spinner::start("reading the trace");
            let reader = trace::open(&TraceFiles::classify(&files)?)?;
            let slice = Slice {
                start_minute,
                minutes: minutes
                    .unwrap_or_else(|| reader.index().minutes().saturating_sub(start_minute)),
            };
            spinner.message("sampling");
            let sampled = sample::sample_trace(
                reader.as_ref(),
                slice,
                functions,
                method,
                &mut ScheduleRng::seed_from_u64(seed),
            )
            .context("cannot sample")?;
            // Every file is checked before the first is written, so none is half replaced.
            for file in &files {
                if let Some(name) = file.file_name() {
                    scenarios::output_file::refuse_inputs(&out.join(name), &files)?;
                }
            }
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            spinner.message("writing");
            let written = reader.write_subset(&sampled.chosen, &out)?;
            drop(spinner);
            let index = reader.index();
            let kept: u64 = sampled
                .chosen
                .iter()
                .map(|&i| index.functions[i].invocations)
                .sum();
            let total: u64 = index.functions.iter().map(|f| f.invocations).sum();
            println!(
                "sampled {} of {} functions ({}), {} of {} invocations ({:.1}%)",
                sampled.chosen.len(),
                index.functions.len(),
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
                "whole-trace distance (Wasserstein-1 on log scales, 0 = identical, 1 = disjoint): invocations per function {:.4}, durations {durations}",
                sampled.distance.invocations
            );
            let end = u64::from(slice.start_minute) + u64::from(slice.minutes);
            match sampled.per_minute {
                Some(d) => println!(
                    "per-minute distance over minutes {}..{end} (In-Vitro, mean of each minute's Wasserstein-1): invocations {:.4}, resources {:.4} (count × ms × MB / 10^6)",
                    slice.start_minute, d.counts, d.resources
                ),
                None => println!(
                    "per-minute distance over minutes {}..{end}: none, no function is invoked in these minutes",
                    slice.start_minute
                ),
            }
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
            let mut inputs = vec![scenario.source.clone()];
            if let Some(trace) = &scenario.trace {
                let files = &trace.spec.files;
                inputs.extend(files.invocations.iter().cloned());
                inputs.extend(files.durations.iter().cloned());
                inputs.extend(files.memory.iter().cloned());
            }
            let mut file = OutputFile::create(&out, &inputs)?;
            let written = scenarios::write_schedule_csv(scenario.schedule(), file.writer())
                .with_context(|| format!("cannot write {}", out.display()))?;
            file.commit()?;
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
