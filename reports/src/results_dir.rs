//! The results directory of a run: its name and the files written into it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::export::Exporter;
use crate::report::Report;

/// An artifact could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct ReportError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A run id: the scenario name made safe for a path, then the UTC start time, e.g.
/// `quickstart-20261121T101500Z`.
pub fn run_id(scenario: &str, started: SystemTime) -> String {
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stamp: String = humantime::format_rfc3339_seconds(started)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!("{name}-{stamp}")
}

/// Writes every exporter's file into `dir` (created if missing). Each file is written to a
/// temporary name and renamed, so a reader never sees half a file.
pub fn write_artifacts(
    dir: &Path,
    report: &Report,
    exporters: &[Box<dyn Exporter>],
) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for exporter in exporters {
        let name = exporter.file_name();
        let path = dir.join(&name);
        let partial = path.with_file_name(format!(
            ".{}.partial",
            path.file_name()
                .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned())
        ));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| ReportError {
                path: parent.to_owned(),
                source,
            })?;
        }
        let fail = |source| ReportError {
            path: path.clone(),
            source,
        };
        let file = File::create(&partial).map_err(fail)?;
        let mut out = BufWriter::new(file);
        exporter.export(report, &mut out).map_err(fail)?;
        out.flush().map_err(fail)?;
        fs::rename(&partial, &path).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_id_is_path_safe_and_sorts_by_time() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let id = run_id("my scenario/v2", t);
        assert_eq!(id, "my-scenario-v2-20261118T110640Z");
        let later = run_id("my scenario/v2", t + Duration::from_secs(1));
        assert!(later > id);
    }
}
