//! `faasbench`: the command line that ties the crates together.
//!
//! It owns no measurement logic: it loads a scenario (`scenarios`), starts the embedded
//! reference runtime (`bench-runtime`) when no external target is given, replays the schedule
//! (`loadgen`) and writes the reports (`reports`).

mod embedded;
mod measure;
mod progress;
mod replay;
mod report;
mod run;
mod runtime_settings;
mod serve;
mod trace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Load tests and benchmarks for serverless (FaaS) platforms.
#[derive(Debug, Parser)]
#[command(name = "faasbench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a scenario against the embedded reference runtime and write its results.
    Run(run::RunArgs),
    /// Replay a scenario against any platform over HTTP (--target URL template).
    Replay(replay::ReplayArgs),
    /// Rebuild every report file of a results directory from what its run saved.
    Report(report::ReportArgs),
    /// Run the reference runtime standalone, serving its HTTP API.
    Serve(serve::ServeArgs),
    /// Inspect and sample traces, and write the schedule a scenario replays.
    #[command(subcommand)]
    Trace(trace::TraceCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Replay(args) => replay::replay(args),
        Command::Report(args) => report::report(args),
        Command::Serve(args) => serve::serve(args),
        Command::Trace(command) => trace::trace(command),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
