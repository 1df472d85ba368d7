//! `faasbench serve`: run the reference runtime standalone, for any load generator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bench_runtime::{Runtime, RuntimeFile, RuntimeServer};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Runtime configuration file (TOML): keep-alive policy, capacity, snapshots, time scale
    /// and the functions to deploy. Without it, the defaults and no functions (deploy with
    /// PUT /functions/{name}).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on, instead of the file's `listen` [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(path) => RuntimeFile::load(path)?,
        None => RuntimeFile::from_toml_str("", "the default configuration")?,
    };
    let listen = args.listen.unwrap_or(file.listen);
    let threads = tokio::runtime::Builder::new_multi_thread()
        .thread_name("faasbench-runtime")
        .enable_all()
        .build()
        .context("cannot start the runtime's threads")?;
    threads.block_on(async {
        let policy = file.config.keep_alive.to_string();
        let snapshots = if file.config.snapshots { "on" } else { "off" };
        let runtime = Arc::new(Runtime::new(file.config)?);
        let count = file.functions.len();
        for function in file.functions {
            runtime.deploy(function)?;
        }
        let server = RuntimeServer::bind(runtime, listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        eprintln!(
            "serving {count} functions on http://{} (keep-alive {policy}, snapshots {snapshots}); Ctrl-C stops",
            server.local_addr()
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        eprintln!("stopping: finishing open requests");
        server.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
